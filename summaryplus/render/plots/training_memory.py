"""``plot_memory``: the training-step memory estimate, part by part, for both peak
phases; or inference memory, one bar per ``InferenceMemory`` (``inference_memory``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from ...memory import InferenceMemory, TrainingMemory, estimate_training_memory
from ...protocols import is_summary
from ._arguments import _check_path, _check_title
from ._axes import _figure_and_axes, _save, _style_value_axis
from ._labels import _model_name, _readable, _unit
from ._style import (
    _BLUE,
    _GREEN,
    _GREY,
    _INK,
    _ORANGE,
    _PINK,
    _SKY,
    _VERMILLION,
    _YELLOW,
    PathLike,
)
from .inference_memory import plot_inference_memory

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ...records import SummaryLike


def plot_memory(
    memory: SummaryLike | TrainingMemory | InferenceMemory | Sequence[InferenceMemory],
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

    Given an ``InferenceMemory`` (or several, e.g. bf16, int8 and int4 from
    ``summaryplus.plan``), it draws one bar per dtype stacked from weights,
    buffers, KV cache and prefill activations, the total at its end.

    Args:
        memory: a summary run with ``mode="train"``, the ``TrainingMemory``
            its ``training_memory()`` returned, or ``InferenceMemory`` objects.
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
    _check_title(title)
    fmt = _check_path(path)
    inference = [memory] if isinstance(memory, InferenceMemory) else memory
    if isinstance(inference, (list, tuple)) and inference and all(
        isinstance(item, InferenceMemory) for item in inference
    ):
        if optimizer is not None:
            raise ValueError("optimizer= applies to training memory, not to InferenceMemory")
        return plot_inference_memory(inference, path=path, fmt=fmt, title=title, ax=ax)
    training: TrainingMemory
    model: str | None
    if isinstance(memory, TrainingMemory):
        if optimizer is not None and optimizer.lower() != memory.optimizer:
            raise ValueError(
                f"optimizer={optimizer!r} differs from the TrainingMemory's "
                f"{memory.optimizer!r}; pass the summary instead to choose the optimizer"
            )
        training, model = memory, None
    elif is_summary(memory):  # a summary, live or loaded from JSON
        summary = cast("SummaryLike", memory)
        if not summary.grad_enabled:
            raise ValueError(
                "plot_memory needs the activations saved for backward, which are measured "
                "only when the summary runs with gradients: call summary(..., mode='train')"
            )
        training = estimate_training_memory(summary, "adam" if optimizer is None else optimizer)
        model = _model_name(summary)
    else:
        raise TypeError(
            "plot_memory takes a summary (from summary(..., mode='train')), a "
            f"TrainingMemory or InferenceMemory objects, got {type(memory).__name__}"
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
