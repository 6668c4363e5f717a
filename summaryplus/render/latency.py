"""Text of a ``Latency``: measured time per row beside its bound."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .roofline import readable_time

if TYPE_CHECKING:
    from ..latency import Latency

__all__ = ["latency_table"]


def latency_table(latency: Latency, depth: int | None = None) -> str:
    """Rows down to ``depth`` (all by default), then the forward's totals."""
    from tabulate import tabulate

    rows = []
    for row in latency.rows:
        if depth is not None and row.depth > depth:
            continue
        fraction = row.fraction
        rows.append([
            "  " * row.depth + row.class_name
            + (f" ({row.module_path})" if row.module_path else ""),
            readable_time(row.measured),
            "--" if row.bound is None else readable_time(row.bound),
            "--" if fraction is None else f"{fraction:.3g}",
            "FASTER THAN BOUND" if row.faster_than_bound else "",
        ])  # fmt: skip
    where = latency.device + ("" if latency.gpu is None else f", bounds for {latency.gpu.name}")
    lines = [
        f"Measured on {where}: mean of {latency.repeats} passes after {latency.warmup} warm-up",
        tabulate(rows, headers=["Layer", "Measured", "Bound", "Bound/measured", ""],
                 tablefmt="simple", disable_numparse=True,
                 colalign=("left", "right", "right", "right", "left")),
        f"Forward without hooks: {readable_time(latency.forward)}; with timing hooks: "
        f"{readable_time(latency.hooked_forward)} (hook overhead "
        f"{readable_time(max(latency.hook_overhead, 0.0))}); sum of leaves: "
        f"{readable_time(latency.leaves)}",
    ]  # fmt: skip
    if latency.bound is not None:
        lines.append(f"Bound of the whole forward: {readable_time(latency.bound)} "
                     f"({latency.bound / latency.forward:.2f} of it reached)")  # fmt: skip
    if latency.flagged:
        lines.append(f"{len(latency.flagged)} row(s) measured faster than their bound: a wrong "
                     "hardware row or a miscount")  # fmt: skip
    if latency.written:
        lines.append(f"The forward wrote parameters in place (not put back): "
                     f"{', '.join(latency.written)}")  # fmt: skip
    return "\n".join(lines)
