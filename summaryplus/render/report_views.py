"""Interactive HTML of ``compare()`` and ``diff()``: the summaries side by side.

Each summary is a report panel (``render.report``) with the rows a comparison
or diff finds different marked; the comparison table or the diff's totals sit
on top. Rows match as ``diff()`` matches them (module path and call index).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..escape import html_text
from ..queries import layer_keys
from .comparison import comparison_notes, render_comparison
from .diff import TOTAL_HEADERS, diff_headline, total_rows
from .report import report_fragment, report_page, report_panel

if TYPE_CHECKING:
    from .._sources import Summary
    from ..compare import Comparison
    from ..diff import SummaryDiff
    from .serialize import PathLike

__all__ = ["comparison_report", "diff_report", "write_report"]


def comparison_report(
    comparison: Comparison,
    marks: Mapping[str, Mapping[int, str]] | None = None,
    *,
    compact: bool = False,
    standalone: bool = False,
) -> str:
    """The comparison table, then one report panel per model, side by side.

    Args:
        comparison: what ``compare()`` returned.
        marks: per model name, the rows to mark (row index -> ``"added"`` or
            ``"changed"``); ``Comparison.row_marks()`` gives what
            ``diff(baseline, model)`` finds. None: nothing marked.
        compact: the notebook form (see ``summary_report``).
        standalone: a complete HTML document rather than a fragment.

    Returns:
        The HTML text.

    Example:
        >>> from torch import nn
        >>> from summaryplus import compare
        >>> table = compare({"a": nn.Linear(4, 2), "b": nn.Linear(4, 8)}, input_size=(1, 4))
        >>> page = comparison_report(table, table.row_marks())
        >>> page.count('<div class="sp-r">'), "changed" in page
        (2, True)
    """

    table = render_comparison(comparison, "html").replace(
        "<table>", '<table class="summaryplus-compare">', 1
    )
    notes = "".join(f"<p>{html_text(note)}</p>" for note in comparison_notes(comparison))
    header = f'<div class="sp-r sp-top">{table}\n<div class="sp-notes">{notes}</div></div>\n'
    marks = marks or {}
    panels = [_panel(stats, compact, marks.get(name, {}), name)
              for name, stats in comparison.summaries.items()]
    fragment = report_fragment(panels, header)
    return report_page(fragment, "comparison") if standalone else fragment


def diff_report(result: SummaryDiff, *, compact: bool = False, standalone: bool = False) -> str:
    """The headline and the totals' changes, then the summary before and after,
    side by side: removed and changed rows marked on the left, added and
    changed rows on the right.

    Args:
        result: what ``diff()`` returned.
        compact: the notebook form (see ``summary_report``).
        standalone: a complete HTML document rather than a fragment.

    Returns:
        The HTML text.

    Raises:
        ValueError: ``result`` holds no summaries (a ``SummaryDiff`` built by hand).

    Example:
        >>> from torch import nn
        >>> from summaryplus import diff
        >>> before = nn.Sequential(nn.Linear(4, 2))
        >>> after = nn.Sequential(nn.Linear(4, 2), nn.Linear(2, 2))
        >>> page = diff_report(diff(before, after))
        >>> page.count('<tr class="m-ad">')
        1
    """
    from tabulate import tabulate


    if result.before is None or result.after is None:
        raise ValueError("this SummaryDiff holds no summaries: make it with summaryplus.diff()")
    totals = tabulate(
        total_rows(result),
        headers=list(TOTAL_HEADERS),
        tablefmt="html",
        colalign=("left", "right", "right", "right"),
        disable_numparse=True,
    )
    totals = str(totals).replace("<table>", '<table class="summaryplus-diff-totals">', 1)
    notes = ""
    if not result.compared_forward:
        notes = "<p>No forward pass on both sides: output shapes and MACs not compared.</p>"
    header = (
        f'<div class="sp-r sp-top"><p><strong>{html_text(diff_headline(result))}</strong></p>'
        f'\n{totals}\n<div class="sp-notes">{notes}</div></div>\n'
    )
    changed = {(change.module_path, change.call) for change in result.changed}
    removed = {(entry.module_path, entry.call) for entry in result.removed}
    added = {(entry.module_path, entry.call) for entry in result.added}
    sides = (
        ("before", result.before, {**dict.fromkeys(removed, "removed"),
                                   **dict.fromkeys(changed, "changed")}),
        ("after", result.after, {**dict.fromkeys(added, "added"),
                                 **dict.fromkeys(changed, "changed")}),
    )
    panels = [
        _panel(record, compact, _marked_rows(record, kinds), f"{side}: {record.model or 'Model'}")
        for side, record, kinds in sides
    ]
    fragment = report_fragment(panels, header)
    return report_page(fragment, "diff") if standalone else fragment


def write_report(text: str, path: PathLike | None) -> str:
    """Writes ``text`` to ``path`` (UTF-8) when given; returns it."""
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def _panel(stats: Summary, compact: bool, marks: Mapping[int, str], title: str) -> str:
    return report_panel(stats, compact=compact, marks=marks, title=title)


def _marked_rows(stats: Summary, kinds: Mapping[tuple[str, int], str]) -> dict[int, str]:
    keys = layer_keys(stats.summary_list)
    return {index: kinds[key] for index, key in enumerate(keys) if key in kinds}
