"""``plot_memory`` for inference: one stacked bar per ``InferenceMemory`` (weights,
buffers, KV cache, prefill activations), the total at its end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._axes import _figure_and_axes, _save, _style_value_axis
from ._labels import _readable, _unit
from ._style import _BLUE, _GREEN, _GREY, _INK, _ORANGE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ...memory import InferenceMemory


def plot_inference_memory(
    memories: Sequence[InferenceMemory],
    *,
    path: object,
    fmt: str | None,
    title: str | None,
    ax: Axes | None,
) -> Figure:
    """Draws ``memories`` (checked by ``plot_memory``), one bar each."""
    figure, axes = _figure_and_axes(ax, (8.5, 1.2 + 0.7 * len(memories)))
    largest = max(memory.total for memory in memories)
    if title is None:
        first = memories[0]
        at = f" at context {first.context:,}, batch {first.batch:,}" if first.context else ""
        title = f"Inference memory{at}\nlargest total {_readable(largest, True)}"
    axes.set_title(title, loc="left", fontsize=10.5, color=_INK)
    scale_name, scale = _unit(largest, True)
    drawn: set[str] = set()
    for row, memory in enumerate(memories):
        parts = (
            ("weights", memory.weights, _BLUE),
            ("buffers", memory.buffers, _GREY),
            (f"KV cache ({memory.kv_dtype})", memory.kv_cache, _ORANGE),
            ("activations (prefill peak)", memory.activations, _GREEN),
        )
        left = 0.0
        for name, size, color in parts:
            if size <= 0:
                continue
            axes.barh(row, size / scale, left=left, height=0.6, color=color,
                      edgecolor="white", linewidth=0.6,
                      label=None if name in drawn else name, gid=f"memory:{name}")
            drawn.add(name)
            left += size / scale
        axes.annotate(f"{_readable(memory.total, True)}", (memory.total / scale, row),
                      xytext=(6, 0), textcoords="offset points", va="center", ha="left",
                      fontsize=8.5, color=_INK)
    axes.set_yticks(range(len(memories)), [f"weights {m.dtype}" for m in memories])
    axes.invert_yaxis()
    axes.set_xlim(0, largest / scale * 1.28 if largest else 1)
    axes.set_xlabel(f"Memory ({scale_name})" if scale_name else "Memory (bytes)")
    _style_value_axis(axes, "x")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8.5)
    _save(figure, path, fmt)  # type: ignore[arg-type]
    return figure
