"""``plot_comparison``: several models side by side, one panel per metric."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ...memory import estimate_training_memory
from ._arguments import _check_choice, _check_flag, _check_path, _check_stats, _check_title
from ._axes import _attach_canvas, _auto_log, _draw_bars, _save
from ._labels import _LABEL_CHARS, _readable, _shorten_unique
from ._style import _INK, _PALETTE, _SERIES, PathLike, _Bar

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ...records import SummaryLike

#: The quantities ``plot_comparison`` draws per model.
COMPARISON_METRICS: tuple[str, ...] = (
    "params",
    "trainable_params",
    "macs",
    "flops",
    "memory",
    "training_memory",
)

# What the pale second segment of a comparison bar is.
_PALE = {"params": "frozen", "memory": "activations"}


def plot_comparison(
    models: Mapping[str, SummaryLike],
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
        TypeError: a value of ``models`` is not a summary (live or loaded).

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
        raise ValueError("models must be a non-empty mapping of display name -> SummaryLike")
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


def _model_segments(stats: SummaryLike, metric: str, optimizer: str) -> tuple[int, ...]:
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

    return (estimate_training_memory(stats, optimizer).total,)
