"""Text of a ``Roofline``: the time bound of each row beside its FLOPs and bytes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..units import readable_bytes, unit_of

if TYPE_CHECKING:
    from ..roofline import Bound, Roofline

__all__ = ["readable_time", "roofline_table"]


def readable_time(seconds: float) -> str:
    """``"20.04 us"``, ``"1.50 ms"``, ``"2.00 s"``; ``"--"`` for zero.

    Example:
        >>> readable_time(2.004e-5), readable_time(0.0015), readable_time(0)
        ('20.04 us', '1.50 ms', '--')
    """
    if seconds <= 0:
        return "--"
    for name, size in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= size * 0.9995:
            return f"{seconds / size:,.2f} {name}"
    return f"{seconds * 1e9:,.2f} ns"


def _count(value: float) -> str:
    name, size = unit_of(value)
    return f"{value / size:,.2f}{name}" if size > 1 else f"{value:,.0f}"


def _cells(row: Bound, indent: str) -> list[str]:
    intensity = f"{row.intensity:,.1f}" if row.bytes else "--"
    return [
        f"{indent}{row.class_name}" + (f" ({row.module_path})" if row.module_path else ""),
        _count(row.flops) if row.flops else "--",
        readable_bytes(row.bytes) if row.bytes else "--",
        intensity,
        readable_time(row.compute_time),
        readable_time(row.memory_time),
        readable_time(row.time),
        row.bound_by,
    ]


def roofline_table(roofline: Roofline, depth: int | None = None, tablefmt: str = "simple") -> str:
    """The rows down to ``depth`` (all by default), the total, and the ridge point."""
    from tabulate import tabulate

    figure = "fused" if roofline.fused else "eager"
    headers = ["Layer", "FLOPs", f"Bytes ({figure})", "FLOP/byte", "Compute", "Memory",
               "Bound", "Bound by"]  # fmt: skip
    rows = [_cells(row, "  " * row.depth) for row in roofline.rows
            if depth is None or row.depth <= depth]  # fmt: skip
    rows.append(_cells(roofline.total, "") )
    rows[-1][0] = "Total"
    gpu = roofline.gpu
    at = roofline.dtype or "each op's dtype"
    ridge = "no published peak" if roofline.ridge_point is None else (
        f"ridge point {roofline.ridge_point:,.1f} FLOP/byte"
    )
    lines = [
        f"Time bound on {gpu.name} ({readable_bytes(gpu.bandwidth)}/s, peak at {at}; {ridge}); "
        "a lower bound on time, not a prediction",
        tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True,
                 colalign=("left",) + ("right",) * 6 + ("left",)),
    ]  # fmt: skip
    lines += [f"Assumed: {note}" for note in roofline.assumptions]
    return "\n".join(lines)
