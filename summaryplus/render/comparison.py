"""Views of a ``Comparison``: any tabulate format, text with notes, HTML for Jupyter.

tabulate is imported only when something is rendered.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from .units import unit_of

if TYPE_CHECKING:
    from ..compare import Comparison


def comparison_text(comparison: Comparison) -> str:
    """The ``simple`` table and the notes under it: what ``print(comparison)`` shows."""
    return "\n".join([render_comparison(comparison, "simple"), *comparison_notes(comparison)])


def comparison_html(comparison: Comparison) -> str:
    """An HTML table and the notes under it: what Jupyter shows."""
    notes = "".join(f"<p>{html.escape(note)}</p>\n" for note in comparison_notes(comparison))
    table = render_comparison(comparison, "html").replace(
        "<table>", '<table class="summaryplus-compare">', 1
    )
    return f'<div class="summaryplus">\n{table}\n{notes}</div>'


def render_comparison(comparison: Comparison, tablefmt: str) -> str:
    from tabulate import tabulate

    rows = comparison.rows
    has_macs = any(row.macs is not None for row in rows)
    has_memory = any(row.training_memory_bytes is not None for row in rows)
    headers = ["Model", "Params", "Trainable"]
    columns: list[list[str]] = [
        [row.name for row in rows],
        [f"{row.params:,}" for row in rows],
        [f"{row.trainable_params:,}" for row in rows],
    ]
    if any(row.active_params not in (None, row.params) for row in rows):
        headers.append("Active/token")
        columns.append(["--" if row.active_params is None else f"{row.active_params:,}"
                        for row in rows])
    if has_macs:
        for title, values in (("MACs", [r.macs for r in rows]), ("FLOPs", [r.flops for r in rows])):
            unit, divisor = _unit(values)
            headers.append(f"{title} ({unit})" if unit else title)
            columns.append(
                [
                    _scaled(value, divisor) + ("" if row.macs_complete else "*")
                    for value, row in zip(values, rows, strict=True)
                ]
            )
    headers.append("Params (MB)")
    columns.append([f"{row.param_bytes / 1e6:,.2f}" for row in rows])
    if has_memory:
        headers.append("Train mem (MB)")
        columns.append([_scaled(row.training_memory_bytes, 1e6) for row in rows])
    headers.append("Params ratio")
    columns.append([_times(row.params_ratio) for row in rows])
    if has_macs:
        headers.append("MACs ratio")
        columns.append([_times(row.macs_ratio) for row in rows])
    if has_memory:
        headers.append("Memory ratio")
        columns.append([_times(row.memory_ratio) for row in rows])
    colalign = ("left", *("right" for _ in headers[1:]))
    return str(
        tabulate(
            list(zip(*columns, strict=True)),
            headers=headers,
            tablefmt=tablefmt,
            colalign=colalign,
            disable_numparse=True,
        )
    )


def comparison_notes(comparison: Comparison) -> list[str]:
    notes = [f"Ratios are against {comparison.baseline!r}."]
    if any(row.training_memory_bytes is not None for row in comparison.rows):
        notes.append(
            f"Train mem: training-step peak estimate with {comparison.optimizer} "
            "(ModelStatistics.training_memory)."
        )
    partial = [
        row.name for row in comparison.rows if row.macs is not None and not row.macs_complete
    ]
    if partial:
        names = ", ".join(repr(name) for name in partial)
        notes.append(f"* MACs are partial (ops without a formula ran) for {names}.")
    return notes + findings_notes(comparison)


def findings_notes(comparison: Comparison) -> list[str]:
    """Which model has which finding: ``Findings: tied-weights (note): 'b'``."""
    having: dict[tuple[str, str], list[str]] = {}
    for row in comparison.rows:
        for rule in row.findings:
            having.setdefault(rule, []).append(repr(row.name))
    if not having:
        return []
    parts = [
        f"{rule} ({severity}): {', '.join(names)}" for (rule, severity), names in having.items()
    ]
    return [f"Findings: {'; '.join(parts)} (stats.findings() says what to do)."]


def _unit(values: list[int | None]) -> tuple[str, float]:
    """The unit of a column from its largest value; ``""`` (exact counts) below a million."""
    largest = max((value for value in values if value is not None), default=0)
    return unit_of(largest, smallest=1e6)


def _scaled(value: int | None, divisor: float) -> str:
    if value is None:
        return "--"
    return f"{value:,}" if divisor == 1.0 else f"{value / divisor:,.2f}"


def _times(ratio: float | None) -> str:
    return "--" if ratio is None else f"{ratio:,.2f}x"
