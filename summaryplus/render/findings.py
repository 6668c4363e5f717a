"""Findings as text: the lines shown under the table (one per finding, capped,
with the count of the rest), and the full list with what to do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..escape import html_text, terminal_block

if TYPE_CHECKING:
    from ..findings import Finding

#: Findings shown under the table by default (the CLI's short list).
SHORT = 5


def findings_text(findings: Sequence[Finding], limit: int | None = SHORT) -> str:
    """``Findings: ...`` and one line per finding (with what to do when the list
    is not capped); "" when there are none.

    Args:
        findings: what ``stats.findings()`` returned.
        limit: lines to show (the rest are counted); None shows all, each with
            its action.

    Example:
        >>> from summaryplus.findings import Finding
        >>> found = [Finding("uncounted-ops", "note", "no formula for foo x1", "report it")]
        >>> print(findings_text(found))
        Findings: 1 note
          [note] uncounted-ops: no formula for foo x1
    """
    if not findings:
        return ""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    head = ", ".join(
        f"{count} {severity}{'s' * (count != 1)}" for severity, count in counts.items()
    )
    shown = findings if limit is None else findings[:limit]
    lines = [f"Findings: {head}"]
    for finding in shown:
        line = f"  [{finding.severity}] {finding.rule}: {finding.message}"
        if limit is None:
            line += f"\n      -> {finding.action}"
        lines.append(terminal_block(line))
    rest = len(findings) - len(shown)
    if rest:
        lines.append(
            f"  ... and {rest} more (summaryplus --findings, or stats.findings() in Python)"
        )
    return "\n".join(lines)


def findings_html(findings: Sequence[Finding], anchors: Mapping[str, str]) -> str:
    """The findings as an HTML list for the report: each with its severity, rule,
    message and action, its rows linked to their table rows (``anchors``:
    module path -> element id); "" when there are none."""
    if not findings:
        return ""
    items = []
    for finding in findings:
        rows = [
            f'<a href="#{anchors[path]}">{html_text(path or "(model)")}</a>'
            for path in finding.rows
            if path in anchors
        ]
        where = f' <span class="sp-fr">{", ".join(rows)}</span>' if rows else ""
        items.append(
            f'<li class="sp-{finding.severity}"><b>{finding.severity}</b> '
            f"<code>{html_text(finding.rule)}</code> {html_text(finding.message)}{where}"
            f"<br><span class=\"sp-fa\">{html_text(finding.action)}</span></li>"
        )
    return f'<details class="sp-findings" open><summary>Findings ({len(findings)})</summary>' \
        f"<ul>{''.join(items)}</ul></details>"
