"""Views of a ``Comparison``: any tabulate format, text with notes, HTML for Jupyter.

tabulate is imported only when something is rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..escape import html_text, terminal_block
from ..units import readable_bytes, readable_count
from .output import SPECIAL_FORMATS, Output, Table, check_format, render_output

if TYPE_CHECKING:
    from ..compare import Comparison


def comparison_text(comparison: Comparison) -> str:
    """The ``simple`` table and the notes under it: what ``print(comparison)`` shows."""
    lines = [render_comparison(comparison, "simple"), *comparison_notes(comparison)]
    return terminal_block("\n".join(lines))


def comparison_html(comparison: Comparison) -> str:
    """An HTML table and the notes under it: what Jupyter shows."""
    notes = "".join(f"<p>{html_text(note)}</p>\n" for note in comparison_notes(comparison))
    table = render_comparison(comparison, "html").replace(
        "<table>", '<table class="summaryplus-compare">', 1
    )
    return f'<div class="summaryplus">\n{table}\n{notes}</div>'


def render_comparison(comparison: Comparison, tablefmt: str) -> str:
    """The comparison table alone in a tabulate format (``Comparison.to_table``)."""
    fmt = check_format(tablefmt, "tablefmt")
    if fmt in SPECIAL_FORMATS and fmt != "html":  # tabulate has an html table too
        raise ValueError(
            f"tablefmt={tablefmt!r} is not a tabulate format; use render_comparison_as for it"
        )
    return render_output(Output("", comparison_output(comparison).tables), fmt, page=False)


def render_comparison_as(comparison: Comparison, fmt: str = "text") -> str:
    """The comparison in any format, its notes included: ``text``, ``json``
    (``Comparison.to_dict``), ``csv``, ``html`` (a page of the table; the
    interactive one is ``Comparison.to_html``), ``rich``, ``markdown``/``md`` or
    any tabulate format.

    Raises:
        ValueError: ``fmt`` is unknown (the message suggests the closest name).
    """
    fmt = check_format(fmt)
    if fmt == "text":
        return comparison_text(comparison)
    return render_output(comparison_output(comparison), fmt)


def comparison_output(comparison: Comparison) -> Output:
    """The comparison as the output model: one table (a row per model) and its notes."""
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
        # A unit per value (k/M/G/T): a small model next to a big one never reads 0.00.
        for title, values in (("MACs", [r.macs for r in rows]), ("FLOPs", [r.flops for r in rows])):
            headers.append(title)
            columns.append(
                [
                    ("--" if value is None else readable_count(value))
                    + ("" if row.macs_complete else "*")
                    for value, row in zip(values, rows, strict=True)
                ]
            )
    headers.append("Params size")
    columns.append([readable_bytes(row.param_bytes) for row in rows])
    if has_memory:
        headers.append("Train mem")
        columns.append([_bytes(row.training_memory_bytes) for row in rows])
    headers.append("Params ratio")
    columns.append([_times(row.params_ratio) for row in rows])
    if has_macs:
        headers.append("MACs ratio")
        columns.append([_times(row.macs_ratio) for row in rows])
    if has_memory:
        headers.append("Memory ratio")
        columns.append([_times(row.memory_ratio) for row in rows])
    colalign = ("left", *("right" for _ in headers[1:]))
    table = Table(tuple(headers), tuple(zip(*columns, strict=True)), colalign)
    title = f"Comparison of {len(rows)} models"
    return Output(title, (table,), tuple(comparison_notes(comparison)), data=comparison.to_dict())


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


def _bytes(value: int | None) -> str:
    return "--" if value is None else readable_bytes(value)


def _times(ratio: float | None) -> str:
    return "--" if ratio is None else f"{ratio:,.2f}x"
