"""Pictures of a summary: where the parameters, compute and memory of a model are.

Three charts, each returned as a ``matplotlib.figure.Figure``:

* ``plot_summary`` - one bar per module at a depth (params, MACs, FLOPs or
  memory), sorted or in model order, the smallest grouped as "other";
* ``plot_memory`` - the training-step memory estimate, part by part, for the
  two phases a step can peak in;
* ``plot_comparison`` - several models side by side, one panel per metric.

The values per module come from ``summaryplus.queries.group_by``, so the bars
of a chart add up exactly to the model totals (tied weights count once).

matplotlib is an optional dependency (``pip install 'summaryplus[plot]'``) and
is imported inside the functions only: ``import summaryplus`` never loads it.
Figures are built with the object API (``Figure`` + ``FigureCanvasAgg``), not
``pyplot``: drawing works headless, never switches the backend the user chose
and leaves no figure registered in pyplot's global state.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ._checks import check_count
from .queries import LayerGroup, group_by, model_total
from .render.units import unit_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .memory import TrainingMemory
    from .model_statistics import ModelStatistics

__all__ = [
    "BY",
    "COMPARISON_METRICS",
    "FORMATS",
    "plot_comparison",
    "plot_memory",
    "plot_summary",
]

#: The quantities ``plot_summary`` draws per module.
BY: tuple[str, ...] = ("params", "macs", "flops", "memory")

#: The quantities ``plot_comparison`` draws per model.
COMPARISON_METRICS: tuple[str, ...] = (
    "params",
    "trainable_params",
    "macs",
    "flops",
    "memory",
    "training_memory",
)

#: File extensions ``path=`` accepts; the extension picks the format.
FORMATS: tuple[str, ...] = (".png", ".svg", ".pdf")

PathLike = str | os.PathLike[str]

# Okabe-Ito: a qualitative palette that stays distinct for colour-blind readers
# and in grey-scale print.
_BLUE, _ORANGE, _GREEN, _PINK = "#0072B2", "#E69F00", "#009E73", "#CC79A7"
_SKY, _VERMILLION, _YELLOW, _GREY = "#56B4E9", "#D55E00", "#F0E442", "#999999"
_PALETTE = (_BLUE, _ORANGE, _GREEN, _PINK, _SKY, _VERMILLION, _YELLOW, _GREY)
_INK = "#333333"

_LABEL_CHARS = 36  # longest tick label before the middle is elided
_LOG_SPAN = 100.0  # values spanning more than this factor get a log axis
_MANY_BARS = 60  # more bars than this: suggest top_k
_DPI = 150



@dataclass(frozen=True)
class _Series:
    """How one quantity is drawn: its name, unit and stacked segments."""

    axis_label: str  # "Parameters"
    noun: str  # "params", used in sentences
    is_bytes: bool  # unit is bytes (kB/MB/GB) rather than a count (k/M/G)
    segments: tuple[str, ...]  # legend names of the stacked parts
    colors: tuple[str, ...]


_SERIES = {
    "params": _Series("Parameters", "params", False, ("trainable", "frozen"), (_BLUE, _SKY)),
    "trainable_params": _Series(
        "Trainable parameters", "trainable params", False, ("trainable",), (_BLUE,)
    ),
    "macs": _Series("MACs", "MACs", False, ("MACs",), (_ORANGE,)),
    "flops": _Series("FLOPs", "FLOPs", False, ("FLOPs",), (_ORANGE,)),
    "memory": _Series(
        "Memory (bytes)",
        "bytes",
        True,
        ("parameters", "activations saved for backward"),
        (_BLUE, _GREEN),
    ),
    "training_memory": _Series(
        "Training-step peak (bytes)", "training memory", True, ("estimated peak",), (_GREEN,)
    ),
}

# What the pale second segment of a comparison bar is.
_PALE = {"params": "frozen", "memory": "activations"}


@dataclass(frozen=True)
class _Bar:
    """One bar: its label and the sizes of its stacked segments."""

    label: str
    segments: tuple[int, ...]
    other: bool = False

    @property
    def value(self) -> int:
        return sum(self.segments)


# --------------------------------------------------------------------- public


def plot_summary(
    stats: ModelStatistics,
    by: str = "params",
    depth: int = 1,
    sort: bool = True,
    top_k: int | None = None,
    log_scale: bool | None = None,
    path: PathLike | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    *,
    orientation: str = "horizontal",
) -> Figure:
    """A bar chart of params, MACs, FLOPs or memory per module at ``depth``.

    One bar per module at ``depth``, labelled ``path (Class)`` (a leaf above
    ``depth`` gets one too, and a module whose own ``forward`` code holds
    parameters or does work gets a ``path (Class, own)`` bar for that part):
    the groups of ``summaryplus.queries.group_by``, so the bars
    add up exactly to the totals in the title. Modules whose value is 0 (a
    ReLU's params, an Embedding's MACs, a head tied to the embedding) are left
    out, and the subtitle says how many. Parameters are split into trainable
    and frozen, memory into parameter bytes and activations saved for backward
    (those are measured only with ``summary(..., mode="train")``). Each bar is
    labelled with its value and share of the total.

    Args:
        stats: the summary.
        by: ``"params"``, ``"macs"``, ``"flops"`` (2 x MACs) or ``"memory"``
            (parameter bytes + activation bytes saved for backward).
        depth: the module depth (1: the model's children).
        sort: largest first (True) or in model order (False).
        top_k: keep the ``top_k`` largest bars (in the chosen order) and
            merge the others into one bar ``other (N modules)``; None keeps all.
        log_scale: a log value axis; None (default) chooses one when the bars
            span more than 100x.
        path: also save the figure here; the extension picks the format
            (``.png``, ``.svg`` or ``.pdf``).
        title: replaces the default title (model class, quantity, depth,
            and the totals).
        ax: draw into these axes (of any figure) instead of a new figure.
        orientation: ``"horizontal"`` bars (names on the left, easy to read)
            or ``"vertical"`` (names below, rotated when they would overlap).

    Returns:
        The figure (``ax.figure`` when ``ax`` is given).

    Raises:
        ValueError: ``by``, ``orientation`` or the extension of ``path`` is not
            one of the accepted values, ``depth`` is negative or ``top_k`` < 1.
        TypeError: ``stats`` is not a ``ModelStatistics``, or ``depth``/``top_k``
            is not an int.
        ImportError: matplotlib is not installed.

    Example:
        >>> from summaryplus import summary
        >>> from summaryplus.examples import SmallCNN
        >>> from summaryplus.plot import plot_summary
        >>> stats = summary(SmallCNN(), input_size=(1, 3, 32, 32), verbose=0)
        >>> fig = plot_summary(stats, by="macs", depth=2, path="cnn_macs.png")
        >>> [label.get_text() for label in fig.axes[0].get_yticklabels()][:2]
        ['features.1 (Sequential)', 'features.2 (Sequential)']
    """
    _check_stats(stats)
    by = _check_choice(by, "by", BY)
    check_count(depth, "depth")
    _check_top_k(top_k)
    _check_flag(sort, "sort")
    _check_flag(log_scale, "log_scale", allow_none=True)
    _check_title(title)
    orientation = _check_choice(orientation, "orientation", ("horizontal", "vertical"))
    fmt = _check_path(path)

    series = _SERIES[by]
    groups = group_by(stats, depth)
    bars = [
        _Bar(label, _segments(group, by))
        for group, label in zip(groups, _labels(groups), strict=True)
    ]
    shown = [bar for bar in bars if bar.value > 0]
    omitted = len(bars) - len(shown)
    if sort:
        shown.sort(key=lambda bar: bar.value, reverse=True)  # stable: ties keep model order
    shown, merged = _keep_top(shown, top_k)
    if len(shown) > _MANY_BARS:
        warnings.warn(
            f"plot_summary draws {len(shown)} bars at depth={depth}; pass top_k "
            f"(e.g. top_k=20) to merge the smallest into one 'other' bar, or a smaller depth",
            stacklevel=2,
        )

    total = model_total(stats, by)
    legend = _needs_legend(shown)
    figure, axes = _figure_and_axes(ax, _bar_chart_size(shown, orientation, legend))
    if title is None:
        title = _summary_title(stats, by, depth, series, omitted, merged)
    axes.set_title(title, loc="left", fontsize=10.5, color=_INK)
    if not shown:
        _nothing_to_show(axes, f"no module at depth {depth} has any {series.noun}")
    else:
        _draw_bars(
            axes,
            shown,
            series,
            orientation=orientation,
            log=_auto_log(shown, log_scale),
            value_labels=[_value_label(bar.value, total, series.is_bytes) for bar in shown],
        )
        if legend:
            _legend(axes)
    _save(figure, path, fmt)
    return figure


def plot_memory(
    memory: ModelStatistics | TrainingMemory,
    optimizer: str | None = None,
    *,
    path: PathLike | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The training-step memory estimate as two stacked bars, with the peak marked.

    A training step peaks either as backward starts (every saved activation,
    the outputs and the first gradient are alive) or at the optimizer step (all
    gradients are alive, activations freed); see ``summaryplus.memory``. Each
    phase is one bar stacked from its parts - params, optimizer state, fp32
    master weights, buffers, inputs, then activations, outputs and gradients -
    and a dashed line marks the estimated peak, the larger of the two. The
    legend gives the size of every part that is not 0.

    Args:
        memory: a summary run with ``mode="train"``, or the ``TrainingMemory``
            its ``training_memory()`` returned.
        optimizer: for a summary: ``"adam"`` (default), ``"adamw"``, ``"sgd"``,
            ``"rmsprop"``, ``"adagrad"`` or ``"none"``. A ``TrainingMemory``
            already says its optimizer; passing a different one is an error.
        path: also save the figure here (``.png``, ``.svg`` or ``.pdf``).
        title: replaces the default title.
        ax: draw into these axes instead of a new figure.

    Returns:
        The figure.

    Raises:
        ValueError: the summary ran without gradients (it needs
            ``mode="train"``), the optimizer is unknown or differs from the
            ``TrainingMemory``'s, or the extension of ``path`` is not accepted.
        TypeError: ``memory`` is neither a summary nor a ``TrainingMemory``.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> from summaryplus.plot import plot_memory
        >>> model = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 10))
        >>> stats = summary(model, input_size=(64, 256), mode="train", verbose=0)
        >>> fig = plot_memory(stats, optimizer="sgd")
        >>> fig.axes[0].get_title(loc="left").splitlines()[0]
        'Sequential: training-step memory (sgd)'
    """
    from .memory import TrainingMemory
    from .model_statistics import ModelStatistics

    _check_title(title)
    fmt = _check_path(path)
    if isinstance(memory, ModelStatistics):
        if not memory.grad_enabled:
            raise ValueError(
                "plot_memory needs the activations saved for backward, which are measured "
                "only when the summary runs with gradients: call summary(..., mode='train')"
            )
        training = memory.training_memory("adam" if optimizer is None else optimizer)
        model = _model_name(memory)
    elif isinstance(memory, TrainingMemory):
        if optimizer is not None and optimizer.lower() != memory.optimizer:
            raise ValueError(
                f"optimizer={optimizer!r} differs from the TrainingMemory's "
                f"{memory.optimizer!r}; pass the summary instead to choose the optimizer"
            )
        training, model = memory, None
    else:
        raise TypeError(
            "plot_memory takes a ModelStatistics (from summary(..., mode='train')) or a "
            f"TrainingMemory, got {type(memory).__name__}"
        )

    parts = _memory_parts(training)
    phases = [
        (
            "backward start",
            training.backward_peak,
            (
                "params",
                "optimizer state",
                "master weights",
                "buffers",
                "inputs",
                "activations",
                "outputs",
                "largest gradient",
            ),
        ),
        (
            "optimizer step",
            training.step_peak,
            ("params", "optimizer state", "master weights", "buffers", "inputs", "gradients"),
        ),
    ]
    peak_phase = phases[0][0] if training.backward_peak >= training.step_peak else phases[1][0]
    figure, axes = _figure_and_axes(ax, (8.5, 3.0))
    if title is None:
        head = f"{model}: training-step memory" if model else "Training-step memory"
        title = (
            f"{head} ({training.optimizer})\n"
            f"estimated peak {_readable(training.total, True)} at {peak_phase}"
        )
    axes.set_title(title, loc="left", fontsize=10.5, color=_INK)

    scale_name, scale = _unit(training.total, True)
    drawn: set[str] = set()
    for row, (_phase, _total, names) in enumerate(phases):
        left = 0.0
        for name in names:
            size, color, hatch = parts[name]
            if size <= 0:
                continue
            axes.barh(
                row,
                size / scale,
                left=left,
                height=0.6,
                color=color,
                hatch=hatch,
                edgecolor="white",
                linewidth=0.6,
                label=None if name in drawn else f"{name}: {_readable(size, True)}",
                gid=f"memory:{name}",
            )
            drawn.add(name)
            left += size / scale
    for row, (phase, total, _names) in enumerate(phases):
        mark = "  (peak)" if phase == peak_phase else ""
        axes.annotate(
            f"{_readable(total, True)}{mark}",
            (total / scale, row),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=8.5,
            color=_INK,
            fontweight="bold" if mark else "normal",
        )
    axes.axvline(
        training.total / scale, color=_INK, linestyle="--", linewidth=1.0, gid="memory:peak"
    )
    axes.set_yticks(range(len(phases)), [phase for phase, _, _ in phases])
    axes.invert_yaxis()
    axes.set_xlim(0, training.total / scale * 1.28 if training.total else 1)
    axes.set_xlabel(f"Memory ({scale_name})" if scale_name else "Memory (bytes)")
    _style_value_axis(axes, "x")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8.5)
    _save(figure, path, fmt)
    return figure


def plot_comparison(
    models: Mapping[str, ModelStatistics],
    metrics: Sequence[str] = ("params", "macs", "memory"),
    *,
    log_scale: bool | None = None,
    optimizer: str = "adam",
    path: PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Several models side by side: one panel per metric, one bar per model.

    Each panel has its own unit and scale (a log axis when its bars span more
    than 100x, unless ``log_scale`` says otherwise); a model has the same
    colour in every panel, and the model names are written once, on the left.
    Parameters are split into trainable and frozen when a model has frozen
    ones.

    Args:
        models: display name -> summary, drawn top to bottom in this order.
        metrics: any of ``"params"``, ``"trainable_params"``, ``"macs"``,
            ``"flops"``, ``"memory"`` (parameter bytes + activations saved for
            backward) and ``"training_memory"`` (the estimated peak of a
            training step with ``optimizer``; every summary needs
            ``mode="train"``).
        log_scale: force (True) or forbid (False) log axes; None chooses per
            panel.
        optimizer: the optimizer for ``"training_memory"``.
        path: also save the figure here (``.png``, ``.svg`` or ``.pdf``).
        title: replaces the default title.

    Returns:
        The figure.

    Raises:
        ValueError: ``models`` or ``metrics`` is empty, a metric is unknown or
            repeated, ``"training_memory"`` is asked for a summary run without
            gradients, or the extension of ``path`` is not accepted.
        TypeError: a value of ``models`` is not a ``ModelStatistics``.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> from summaryplus.plot import plot_comparison
        >>> small = summary(nn.Linear(64, 10), input_size=(1, 64), verbose=0)
        >>> large = summary(nn.Linear(1024, 10), input_size=(1, 1024), verbose=0)
        >>> fig = plot_comparison({"small": small, "large": large}, metrics=("params", "macs"))
        >>> [axes.get_xlabel() for axes in fig.axes]
        ['Parameters (k)', 'MACs (k)']
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must be a non-empty mapping of display name -> ModelStatistics")
    for name, stats in models.items():
        _check_stats(stats, f"models[{name!r}]")
    if isinstance(metrics, str) or not isinstance(metrics, Sequence) or not metrics:
        raise ValueError(
            "metrics must be a non-empty sequence of: "
            + ", ".join(repr(metric) for metric in COMPARISON_METRICS)
        )
    metrics = [_check_choice(metric, "metrics", COMPARISON_METRICS) for metric in metrics]
    if len(set(metrics)) != len(metrics):
        raise ValueError(f"metrics={tuple(metrics)!r} repeats a metric")
    _check_flag(log_scale, "log_scale", allow_none=True)
    _check_title(title)
    fmt = _check_path(path)
    if "training_memory" in metrics:
        for name, stats in models.items():
            if not stats.grad_enabled:
                raise ValueError(
                    f"metric 'training_memory' needs every summary run with gradients; "
                    f"{name!r} was not: call summary(..., mode='train')"
                )

    from matplotlib.figure import Figure

    names = [str(name) for name in models]
    colors = [_PALETTE[index % len(_PALETTE)] for index in range(len(names))]
    label_chars = max(len(name) for name in names)
    width = 1.0 + 0.065 * min(label_chars, _LABEL_CHARS) + 2.8 * len(metrics)
    height = 1.5 + 0.42 * len(names)
    figure = Figure(figsize=(width, height), layout="constrained", dpi=100)
    _attach_canvas(figure)
    panels = figure.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    labels = _shorten_unique(names, _LABEL_CHARS)
    for panel, metric in zip(panels, metrics, strict=True):
        series = _SERIES[metric]
        bars = [
            _Bar(label, _model_segments(stats, metric, optimizer))
            for label, stats in zip(labels, models.values(), strict=True)
        ]
        positive = [bar for bar in bars if bar.value > 0]
        _draw_bars(
            panel,
            bars,
            series,
            orientation="horizontal",
            log=_auto_log(positive, log_scale) if positive else False,
            value_labels=[_readable(bar.value, series.is_bytes) for bar in bars],
            bar_colors=colors,
        )
        split = any(len(bar.segments) > 1 and bar.segments[1] for bar in bars)
        panel.set_title(
            series.axis_label.split(" (")[0] + (f" (pale: {_PALE[metric]})" if split else ""),
            fontsize=10,
            color=_INK,
        )
    for panel in panels[1:]:
        panel.tick_params(axis="y", left=False)
    figure.suptitle(
        title if title is not None else f"Comparison of {len(names)} models",
        x=0.01,
        ha="left",
        fontsize=11,
        color=_INK,
    )
    _save(figure, path, fmt)
    return figure


# --------------------------------------------------------------------- values


def _segments(group: LayerGroup, by: str) -> tuple[int, ...]:
    if by == "params":
        return (group.trainable_params, group.params - group.trainable_params)
    if by == "macs":
        return (group.macs,)
    if by == "flops":
        return (group.flops,)
    return (group.param_bytes, group.activation_bytes)


def _model_segments(stats: ModelStatistics, metric: str, optimizer: str) -> tuple[int, ...]:
    if metric == "params":
        return (stats.trainable_params, stats.total_params - stats.trainable_params)
    if metric == "trainable_params":
        return (stats.trainable_params,)
    if metric == "macs":
        return (stats.total_mult_adds,)
    if metric == "flops":
        return (stats.total_flops,)
    if metric == "memory":
        return (stats.total_param_bytes, stats.activation_bytes)
    return (stats.training_memory(optimizer).total,)


def _keep_top(bars: list[_Bar], top_k: int | None) -> tuple[list[_Bar], int]:
    """The ``top_k`` largest bars in their order, plus one bar for the rest.

    Returns the bars and how many were merged. A rest of one bar is kept under
    its own name: "other (1 module)" would hide a name for nothing.
    """
    if top_k is None or len(bars) <= top_k + 1:
        return bars, 0
    ranked = sorted(range(len(bars)), key=lambda index: bars[index].value, reverse=True)
    kept = set(ranked[:top_k])
    rest = [bar for index, bar in enumerate(bars) if index not in kept]
    segments = tuple(sum(parts) for parts in zip(*(bar.segments for bar in rest), strict=True))
    other = _Bar(f"other ({len(rest)} modules)", segments, other=True)
    return [bar for index, bar in enumerate(bars) if index in kept] + [other], len(rest)


def _memory_parts(training: TrainingMemory) -> dict[str, tuple[int, str, str | None]]:
    """Size, colour and hatch of each part of a training step."""
    return {
        "params": (training.params, _BLUE, None),
        "optimizer state": (training.optimizer_state, _ORANGE, None),
        "master weights": (training.master_weights, _YELLOW, None),
        "buffers": (training.buffers, _GREY, None),
        "inputs": (training.inputs, _PINK, None),
        "activations": (training.activations, _GREEN, None),
        "outputs": (training.outputs, _SKY, None),
        "largest gradient": (training.largest_gradient, _VERMILLION, "///"),
        "gradients": (training.gradients, _VERMILLION, None),
    }


# --------------------------------------------------------------------- labels


def _labels(groups: list[LayerGroup]) -> list[str]:
    """``path (Class)`` per group, the paths shortened in the middle but kept distinct."""
    paths = _shorten_unique([group.module_path for group in groups], _LABEL_CHARS - 12)
    labels = []
    for group, path in zip(groups, paths, strict=True):
        own = ", own" if group.own_only else ""
        labels.append(f"{path} ({group.class_name}{own})" if path else f"{group.class_name}{own}")
    return labels


def _shorten_unique(names: list[str], width: int) -> list[str]:
    """Each name shortened to ``width`` characters; names that would collide get more."""
    short = [_middle_ellipsis(name, width) for name in names]
    for _ in range(64):
        seen: dict[str, int] = {}
        for label in short:
            seen[label] = seen.get(label, 0) + 1
        clashes = [index for index, label in enumerate(short) if seen[label] > 1]
        if not clashes:
            break
        width += 4
        for index in clashes:
            short[index] = _middle_ellipsis(names[index], width)
    return short


def _middle_ellipsis(name: str, width: int) -> str:
    """``name`` in at most ``width`` characters, the middle replaced by ``…``.

    Dotted paths keep their first component and as many trailing components as
    fit (``encoder…attention.output``): the start says where, the end says
    what. Names without a fitting split lose characters from the middle.
    """
    width = max(width, 5)
    if len(name) <= width:
        return name
    parts = name.split(".")
    if len(parts) > 2:
        head = parts[0]
        tail: list[str] = []
        for part in reversed(parts[1:]):
            candidate = head + "…" + ".".join([part, *tail])
            if len(candidate) > width:
                break
            tail.insert(0, part)
        if tail:
            return head + "…" + ".".join(tail)
    keep = width - 1
    return name[: (keep + 1) // 2] + "…" + name[len(name) - keep // 2 :]


def _unit(value: float, is_bytes: bool) -> tuple[str, float]:
    """The unit name and size to show ``value`` with: ``("M", 1e6)``, ``("MB", 1e6)``."""
    return unit_of(value, is_bytes)


def _readable(value: float, is_bytes: bool, *, tick: bool = False) -> str:
    """``1.18M``, ``256k``, ``42``; ``4.70 MB``, ``512 B``: three significant digits.

    Values keep their trailing zeros (``11.0 GB``); ``tick`` labels drop them
    (``1M``, ``10 MB``).
    """
    name, size = _unit(value, is_bytes)
    scaled = value / size
    if size == 1.0 or scaled >= 999.5:  # integers, or past the largest unit
        text = f"{scaled:,.0f}"
    elif tick:
        text = f"{scaled:.3g}"
    else:  # "7.40", not "7.4"; "256", not the "256." of the # flag
        text = f"{scaled:#.3g}".rstrip(".")
    return f"{text} {name}" if is_bytes else f"{text}{name}"


def _value_label(value: int, total: int, is_bytes: bool) -> str:
    share = value / total if total else 0.0
    if share >= 0.095:
        percent = f"{share:.0%}"
    elif share >= 0.001:
        percent = f"{share:.1%}"
    else:
        percent = "<0.1%"
    return f"{_readable(value, is_bytes)} ({percent})"


def _model_name(stats: ModelStatistics) -> str:
    return stats.summary_list[0].class_name if stats.summary_list else "Model"


def _summary_title(
    stats: ModelStatistics,
    by: str,
    depth: int,
    series: _Series,
    omitted: int,
    merged: int,
) -> str:
    what = {"params": "parameters", "macs": "MACs", "flops": "FLOPs", "memory": "memory"}[by]
    head = f"{_model_name(stats)}: {what} per module (depth {depth})"
    if by == "params":
        frozen = stats.total_params - stats.trainable_params
        detail = f"{_readable(stats.total_params, False)} params, " + (
            f"{_readable(stats.trainable_params, False)} trainable, "
            f"{_readable(frozen, False)} frozen"
            if frozen
            else "all trainable"
        )
    elif by in ("macs", "flops"):
        detail = (
            f"{_readable(stats.total_mult_adds, False)} MACs = "
            f"{_readable(stats.total_flops, False)} FLOPs per forward pass"
        )
        if not stats.macs_complete:
            detail += " (partial: some ops have no formula)"
    else:
        detail = f"{_readable(stats.total_param_bytes, True)} parameters"
        if stats.grad_enabled:
            detail += f" + {_readable(stats.activation_bytes, True)} activations saved for backward"
        else:
            detail += "; activations not measured (summary(..., mode='train'))"
    notes = []
    if merged:
        notes.append(f"{merged} smallest modules merged into 'other'")
    if omitted:
        plural = "s" if omitted != 1 else ""
        notes.append(f"{omitted} module{plural} with 0 {series.noun} not shown")
    lines = [head, detail]
    if notes:
        lines.append("; ".join(notes))
    return "\n".join(lines)


# -------------------------------------------------------------------- drawing


def _attach_canvas(figure: Figure) -> None:
    # The Agg canvas renders without a display and without pyplot, so the user's
    # backend choice and pyplot's figure registry are left untouched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)


def _figure_and_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        from matplotlib.figure import Figure, SubFigure

        parent = ax.figure
        root = parent.figure if isinstance(parent, SubFigure) else parent
        if not isinstance(root, Figure):
            raise ValueError("ax does not belong to a figure")
        return root, ax
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, layout="constrained", dpi=100)
    _attach_canvas(figure)
    return figure, figure.add_subplot()


def _bar_chart_size(bars: list[_Bar], orientation: str, legend: bool) -> tuple[float, float]:
    """Inches: room for every name and bar, plus the legend on the right."""
    count = max(len(bars), 1)
    extra = 1.8 if legend else 0.0
    if orientation == "horizontal":
        return 8.0 + extra, min(1.6 + 0.3 * count, 60.0)
    longest = max((len(bar.label) for bar in bars), default=10)
    return min(max(5.5, 1.5 + 0.42 * count), 60.0) + extra, 3.6 + 0.055 * longest


def _auto_log(bars: list[_Bar], log_scale: bool | None) -> bool:
    if log_scale is not None:
        return log_scale
    values = [bar.value for bar in bars if bar.value > 0]
    return bool(values) and max(values) > _LOG_SPAN * min(values)


def _draw_bars(
    axes: Axes,
    bars: list[_Bar],
    series: _Series,
    *,
    orientation: str,
    log: bool,
    value_labels: list[str],
    bar_colors: list[str] | None = None,
) -> None:
    """Stacked bars, one position per bar, in reading order, each labelled at its end.

    ``bar_colors`` colours each bar (first segment) by itself, as in the
    comparison; otherwise segments take the series' colours. Further segments
    of a per-bar-coloured chart are drawn paler.
    """
    horizontal = orientation == "horizontal"
    positions = list(range(len(bars)))
    scale_name, scale = ("", 1.0) if log else _unit(max(bar.value for bar in bars), series.is_bytes)
    width = 0.72
    base = [0.0] * len(bars)
    for segment, name in enumerate(series.segments):
        sizes = [
            bar.segments[segment] / scale if segment < len(bar.segments) else 0.0 for bar in bars
        ]
        if segment > 0 and not any(sizes):
            continue  # nothing frozen, no activations: no empty legend entry
        if bar_colors is not None:
            colors: list[str] | str = bar_colors
            alpha = 1.0 if segment == 0 else 0.45
        else:
            colors, alpha = series.colors[segment], 1.0
        draw = axes.barh if horizontal else axes.bar
        container = draw(
            positions,
            sizes,
            width,
            base,
            color=colors,
            alpha=alpha,
            edgecolor="white",
            linewidth=0.5,
            label=name,
            gid=f"segment:{name}",
        )
        for patch, bar in zip(container.patches, bars, strict=True):
            if bar.other:
                patch.set_hatch("////")
        base = [b + s for b, s in zip(base, sizes, strict=True)]

    # The value axis: units in the label (linear) or on each decade (log), with
    # room past the longest bar for its value label (taller when it is rotated).
    value_axis: Literal["x", "y"] = "x" if horizontal else "y"
    rotated_values = not horizontal and len(bars) > 6
    largest = max(bar.value for bar in bars)
    set_limits = axes.set_xlim if horizontal else axes.set_ylim
    if log:
        (axes.set_xscale if horizontal else axes.set_yscale)("log")
        smallest = min(bar.value for bar in bars if bar.value > 0)
        low = 10 ** math.floor(math.log10(smallest / 3))
        room = 0.25 if horizontal else (0.5 if rotated_values else 0.15)
        set_limits(low, largest * (largest / low) ** room)
        label = f"{series.axis_label.replace(' (bytes)', '')} (log scale)"
    else:
        room = 1.3 if horizontal else (1.5 if rotated_values else 1.12)
        set_limits(0, largest / scale * room)
        unit = f" ({scale_name})" if scale_name else (" (bytes)" if series.is_bytes else "")
        label = series.axis_label.replace(" (bytes)", "") + unit
    (axes.set_xlabel if horizontal else axes.set_ylabel)(label, color=_INK)
    _style_value_axis(axes, value_axis, log=log, is_bytes=series.is_bytes)

    # The category axis: names, first bar at the top (or left).
    tick_labels = [bar.label for bar in bars]
    if horizontal:
        axes.set_yticks(positions, tick_labels, fontsize=8.5)
        axes.invert_yaxis()
        axes.set_ylim(len(bars) - 0.5, -0.5)
    else:
        rotation = _rotation(tick_labels)
        axes.set_xticks(
            positions,
            tick_labels,
            fontsize=8.5,
            rotation=rotation,
            ha="right" if rotation else "center",
            rotation_mode="anchor",
        )
        axes.set_xlim(-0.5, len(bars) - 0.5)
    axes.tick_params(axis="y" if horizontal else "x", length=0)

    ends = base
    for position, end, text in zip(positions, ends, value_labels, strict=True):
        if horizontal:
            axes.annotate(
                text,
                (end, position),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                ha="left",
                fontsize=7.5,
                color=_INK,
            )
        else:
            axes.annotate(
                text,
                (position, end),
                xytext=(0, 3),
                textcoords="offset points",
                va="bottom",
                ha="center",
                fontsize=7.5,
                color=_INK,
                rotation=90 if rotated_values else 0,
            )


def _rotation(labels: list[str]) -> int:
    """0 when the names fit side by side under their bars, else 45 (90 when crowded)."""
    if max((len(label) for label in labels), default=0) <= 8:
        return 0
    return 90 if len(labels) > 30 else 45


def _style_value_axis(
    axes: Axes,
    which: Literal["x", "y"],
    *,
    log: bool = False,
    is_bytes: bool = True,
) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = axes.xaxis if which == "x" else axes.yaxis
    if log:
        axis.set_major_locator(LogLocator(base=10))
        axis.set_major_formatter(
            FuncFormatter(lambda value, _pos: _readable(value, is_bytes, tick=True))
        )
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    axes.grid(axis=which, color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=_INK, labelsize=8.5)


def _needs_legend(bars: list[_Bar]) -> bool:
    """A key is needed only for split bars (frozen params, measured activations)."""
    return any(any(bar.segments[1:]) for bar in bars)


def _legend(axes: Axes) -> None:
    # Outside the axes, so it never hides a bar or a value label.
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)


def _nothing_to_show(axes: Axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes, color=_INK)
    axes.set_axis_off()


def _save(figure: Figure, path: PathLike | None, fmt: str | None) -> None:
    if path is None or fmt is None:
        return
    figure.savefig(os.fspath(path), format=fmt, dpi=_DPI, facecolor="white")


# ----------------------------------------------------------------- arguments


def _check_stats(stats: object, argument: str = "stats") -> None:
    from .model_statistics import ModelStatistics

    if not isinstance(stats, ModelStatistics):
        raise TypeError(
            f"{argument} must be the ModelStatistics that summary() returns, "
            f"got {type(stats).__name__}"
        )


def _check_choice(value: object, argument: str, accepted: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in accepted:
        names = ", ".join(repr(name) for name in accepted)
        raise ValueError(f"{argument}={value!r} is not valid; accepted values: {names}")
    return value


def _check_top_k(top_k: object) -> None:
    if top_k is None:
        return
    if isinstance(top_k, bool) or not isinstance(top_k, int):
        raise TypeError(f"top_k must be an int >= 1 or None, got {type(top_k).__name__}")
    if top_k < 1:
        raise ValueError(f"top_k={top_k} is not valid; accepted values: an int >= 1 or None")


def _check_flag(value: object, argument: str, *, allow_none: bool = False) -> None:
    if isinstance(value, bool) or (allow_none and value is None):
        return
    accepted = "True, False or None" if allow_none else "True or False"
    raise ValueError(f"{argument}={value!r} is not valid; accepted values: {accepted}")


def _check_title(title: object) -> None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")


def _check_path(path: object) -> str | None:
    """The format ``path``'s extension names (``"png"``), or None without a path."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in FORMATS:
        raise ValueError(
            f"path={os.fspath(path)!r}: the extension {extension or '(none)'!r} is not "
            f"valid; accepted values: {', '.join(FORMATS)}"
        )
    return extension[1:]
