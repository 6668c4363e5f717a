"""A roofline chart: the GPU's roof and each layer at its intensity and bound."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._axes import _figure_and_axes

if TYPE_CHECKING:
    from ...roofline import Roofline

__all__ = ["plot_roofline"]


def plot_roofline(roofline: Roofline, depth: int | None = None, ax: Any = None) -> Any:
    """The roof (min(peak, intensity x bandwidth), log-log) and one point per
    row (leaves by default, else the rows down to ``depth``) at its intensity and
    the FLOP/s its bound implies, sized by its share of the total bound.

    Returns:
        The matplotlib ``Figure``.
    """
    figure, axes = _figure_and_axes(ax, (8.0, 5.0))
    gpu = roofline.gpu
    rows = [row for row in roofline.rows
            if row.flops and row.bytes and row.time > 0
            and (row.depth == depth if depth is not None else _is_leaf(roofline, row))]  # fmt: skip
    low = min([row.intensity for row in rows] + [0.1]) / 2
    high = max([row.intensity for row in rows] + [(roofline.ridge_point or 100) * 4])
    xs = [low * (high / low) ** (step / 200) for step in range(201)]
    peak = None if roofline.ridge_point is None else roofline.ridge_point * gpu.bandwidth
    roof = [x * gpu.bandwidth if peak is None else min(peak, x * gpu.bandwidth) for x in xs]
    axes.plot(xs, roof, color="#333333", linewidth=1.5, label=f"{gpu.name} roof")
    total = roofline.total.time or 1.0
    for row in rows:
        size = 20 + 400 * row.time / total
        color = "#c0392b" if row.bound_by == "memory" else "#2c7fb8"
        axes.scatter([row.intensity], [row.flops / row.time], s=size, color=color, alpha=0.6)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("intensity (FLOP/byte)")
    axes.set_ylabel("FLOP/s at the bound")
    axes.set_title(f"Roofline on {gpu.name} (red: memory bound, blue: compute bound)")
    axes.legend(loc="lower right")
    return figure


def _is_leaf(roofline: Roofline, row: Any) -> bool:
    position = roofline.rows.index(row)
    following = roofline.rows[position + 1] if position + 1 < len(roofline.rows) else None
    return following is None or following.depth <= row.depth
