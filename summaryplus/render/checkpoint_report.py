"""A checkpoint as the interactive report (what ``--format html`` writes for one):
its name tree folds, sorts, filters and takes the keyboard as a model's report
does (the same style and script, ``render/assets``), with bars for each
prefix's share of the parameters and bytes, and the totals under it."""

from __future__ import annotations

import json
from typing import Any

from ..checkpoints import CheckpointSummary, GroupTotals
from ..escape import html_text
from .checkpoint import (
    COLUMN_ALIGN,
    GROUP_HEADERS,
    checkpoint_heading,
    checkpoint_totals,
    group_rows,
)
from .output import asset, report_page

__all__ = ["checkpoint_report"]

_INDENT = "\u00a0" * 4  # per level of nesting, as in a model's report
# Columns with a share bar: Param # (2) and Size (5), by their position in GROUP_HEADERS.
_BARS = {2: "params", 5: "bytes"}


def checkpoint_report(summary: CheckpointSummary, depth: int) -> str:
    """The checkpoint's groups down to ``depth`` as a whole interactive page.

    Example:
        >>> import tempfile, torch
        >>> from pathlib import Path
        >>> from summaryplus.checkpoints import summarize_checkpoint
        >>> path = Path(tempfile.mkdtemp()) / "m.pt"
        >>> torch.save({"a.w": torch.zeros(2, 3), "a.b": torch.zeros(3)}, path)
        >>> page = checkpoint_report(summarize_checkpoint(path), 2)
        >>> page.startswith("<!DOCTYPE html>") and "a.w" in page and "sp-data" in page
        True
    """
    groups = summary.groups(depth)
    cells = group_rows(summary, depth, indent=False)
    parents = _parents(groups)
    has_children = [False] * len(groups)
    for parent in parents:
        if parent >= 0:
            has_children[parent] = True
    lines = []
    rows: list[list[Any]] = []
    for position, (group, row) in enumerate(zip(groups, cells, strict=True)):
        lines.append(_row(group, row, has_children[position], summary))
        rows.append([parents[position], group.depth, group.prefix, group.prefix, group.tensors,
                     group.params, row[3], row[4], group.nbytes])
    head = "".join(
        f'<th{" class=n" if align == "right" else ""}>{html_text(title)}</th>'
        for title, align in zip(GROUP_HEADERS, COLUMN_ALIGN, strict=True)
    )
    data = {"depth": depth, "numeric": [False, True, True, False, False, True], "rows": rows}
    totals = "".join(
        f"<tr><td>{html_text(label.strip())}</td><td>{html_text(value)}</td></tr>"
        for label, value in checkpoint_totals(summary)
    )
    heading = html_text(checkpoint_heading(summary))
    panel = (
        '<div class="sp-r">\n'
        f'<div class="sp-head"><p><strong>{heading}</strong></p></div>\n'
        '<div class="sp-tools"><input type="search" placeholder="Filter tensor names '
        '(press /)" aria-label="Filter tensor names"> '
        '<button type="button" data-act="expand">Expand all</button> '
        f'<button type="button" data-act="fold">Fold to depth {depth}</button> '
        '<button type="button" data-act="collapse">Collapse all</button> '
        '<span class="sp-n"></span></div>\n'
        '<div class="sp-scroll"><table class="summaryplus-layers">\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{''.join(lines)}</tbody>\n</table></div>\n"
        f'<table class="summaryplus-totals"><tbody>{totals}</tbody></table>\n'
        f'<script type="application/json" class="sp-data">{_json(data)}</script>\n'
        "</div>"
    )
    fragment = (
        f'<div class="summaryplus">\n<style>{asset("report.css")}</style>\n{panel}\n'
        f'<script>{asset("report.js")}</script>\n</div>'
    )
    return report_page(fragment, checkpoint_heading(summary))


def _parents(groups: tuple[GroupTotals, ...]) -> list[int]:
    """Each group's parent: the nearest earlier group whose prefix holds it."""
    parents: list[int] = []
    stack: list[int] = []
    for position, group in enumerate(groups):
        while stack and not group.prefix.startswith(groups[stack[-1]].prefix + "."):
            stack.pop()
        parents.append(stack[-1] if stack else -1)
        stack.append(position)
    return parents


def _row(group: GroupTotals, cells: list[str], has_children: bool,
         summary: CheckpointSummary) -> str:
    toggle = '<i class="tg"></i>' if has_children else ""
    name = html_text(cells[0])
    out = [f'<td title="{name}">{_INDENT * max(group.depth - 1, 0)}{toggle}{name}</td>']
    for column in range(1, len(cells)):
        text = html_text(cells[column])
        numeric = COLUMN_ALIGN[column] == "right"
        share = _share(group, _BARS.get(column), summary)
        if share is not None:
            out.append(f'<td class="b" style="--w:{share}">{text}</td>')
        else:
            out.append(f'<td{" class=n" if numeric else ""}>{text}</td>')
    opened = ' class="op"' if has_children else ""
    return f"<tr{opened}>{''.join(out)}</tr>\n"


def _share(group: GroupTotals, kind: str | None, summary: CheckpointSummary) -> str | None:
    if kind is None:
        return None
    part, whole = (
        (group.params, summary.total_params) if kind == "params"
        else (group.nbytes, summary.total_bytes)
    )
    fraction = min(part / whole, 1.0) if whole > 0 else 0.0
    return f"{fraction * 100:.1f}%" if fraction >= 0.0005 else None


def _json(data: object) -> str:
    # "<" never appears raw, so no "</script>" can end the block early.
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
