"""The interactive HTML report of a summary: a foldable, sortable, filterable tree.

The table is written here, server-side, with every row, so the report reads
without JavaScript (and in viewers that strip scripts); the inline script
(``assets/report.js``) only folds, sorts and filters the rows already there.
The data the script needs (parent, depth, module path and a sort key per
column) is embedded once as JSON. Cell text comes from the text table's own
cell functions (``formatting.row_values``), so every number reads as in
``print(stats)``. Style and script ship in the package, inlined: the file
needs no network.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..enums import ColumnSettings, Units
from ..escape import html_text
from ..findings import find
from ..formatting import layer_name, memory_bytes, row_values
from ..units import footer_number, readable_count
from .findings import findings_html
from .html import totals_table
from .output import asset as _asset
from .output import report_page
from .report_repeats import repeated_runs
from .table import NUMERIC_COLUMNS as _NUMERIC
from .table import chosen_columns, footer_items

if TYPE_CHECKING:
    from ..records import LayerLike, SummaryLike

__all__ = ["MARKS", "report_fragment", "report_page", "report_panel", "summary_report"]

_INDENT = "\u00a0" * 4  # per level of nesting, as in the static HTML table

#: Row marks of a comparison or diff: kind -> (CSS class, badge text).
MARKS = {"added": ("ad", "added"), "removed": ("rm", "removed"), "changed": ("ch", "changed")}

# Columns that sort by a number (largest first on the first click).
_SORTS_BY_NUMBER = _NUMERIC | {
    ColumnSettings.GROUPS,
    ColumnSettings.INPUT_SIZE,
    ColumnSettings.OUTPUT_SIZE,
}
# The columns an interactive report adds to the summary's own, so the share of
# params, MACs and memory is always one click away (MACs and memory need a forward).
_REPORT_COLUMNS = (ColumnSettings.NUM_PARAMS, ColumnSettings.MULT_ADDS, ColumnSettings.MEMORY)


@dataclass(frozen=True)
class _Shares:
    """The denominators of the in-cell bars: model totals."""

    params: int
    macs: int
    memory: int


def summary_report(
    stats: SummaryLike,
    *,
    columns: Iterable[str] | None = None,
    compact: bool = False,
    standalone: bool = False,
) -> str:
    """The interactive report of a summary, as an HTML fragment or a whole page.

    Args:
        stats: the summary (live or loaded from JSON).
        columns: ``ColumnSettings`` names; None shows the summary's columns
            plus Param #, Mult-Adds and Memory (the last two when a forward ran).
        compact: the notebook form: rows below the summary's depth stay hidden
            without JavaScript (as in the plain table), and the table scrolls
            within a fixed height. Otherwise, without JavaScript, every row shows.
        standalone: a complete HTML document (``<!DOCTYPE html>``, UTF-8)
            rather than a ``<div>`` to embed.

    Returns:
        The HTML text.

    Raises:
        ValueError: a column name is unknown.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> from summaryplus.render.report import summary_report
        >>> stats = summary(nn.Sequential(nn.Linear(4, 2)), input_size=(1, 4), verbose=0)
        >>> page = summary_report(stats)
        >>> page.startswith('<div class="summaryplus">') and "Linear: 1-1" in page
        True
    """
    fragment = report_fragment([report_panel(stats, columns=columns, compact=compact)])
    title = f"{_model_name(stats)} summary"
    return report_page(fragment, title) if standalone else fragment


def report_panel(
    stats: SummaryLike,
    *,
    columns: Iterable[str] | None = None,
    compact: bool = False,
    marks: Mapping[int, str] | None = None,
    title: str | None = None,
) -> str:
    """One summary's header, tree and totals: a ``<div class="sp-r">``.

    Args:
        stats: the summary.
        columns: as for ``summary_report``.
        compact: as for ``summary_report``.
        marks: row index (position in ``summary_list``) -> ``"added"``,
            ``"removed"`` or ``"changed"``: the rows a comparison or diff marks.
        title: the heading; None names the model.

    Returns:
        The panel's HTML (needs ``report_fragment`` around it for style and script).
    """
    layers = list(stats.summary_list)
    chosen = _report_columns(stats, columns)
    options = stats.formatting
    shares = _shares(stats, layers)
    index_of = {id(layer): position for position, layer in enumerate(layers)}
    parents = [_parent(layer, index_of) for layer in layers]
    depth = options.max_depth
    data_rows: list[list[Any]] = []
    lines: list[str] = []
    has_children = [False] * len(layers)
    for parent in parents:
        if parent >= 0:
            has_children[parent] = True
    # Runs of identical sibling blocks fold under their first (GPT2Block x 12).
    runs = repeated_runs(layers, parents)
    repeat_of = {member: first for first, members in runs.items() for member in members}
    folded = [False] * len(layers)
    found = find(stats)
    # The rows findings name get an id (their links jump there) and a badge.
    named: dict[str, list[str]] = {}
    for finding in found:
        for path in finding.rows:
            named.setdefault(path, []).append(finding.rule)
    prefix = "sp" + hashlib.sha1(
        f"{title}|{_model_name(stats)}|{len(layers)}".encode()
    ).hexdigest()[:8]
    anchors: dict[str, str] = {}
    for position, layer in enumerate(layers):
        values = row_values(options, layer, True, stats.total_params, chosen)
        parent = parents[position]
        if parent >= 0:
            folded[position] = folded[parent] or layers[parent].depth >= depth
        folded[position] = folded[position] or position in repeat_of
        mark = (marks or {}).get(position)
        repeats = len(runs[position]) + 1 if position in runs else 0
        line = _row_html(layer, values, chosen, shares, has_children[position], folded[position],
                         layer.depth < depth, mark, options.show_var_name, options.show_depth,
                         repeats)
        rules = named.get(layer.module_path)
        if rules and layer.module_path not in anchors:
            anchors[layer.module_path] = f"{prefix}-{position}"
            badge = f'<b class="bd fd" title="{html_text(", ".join(rules))}">finding</b>'
            line = line.replace("<tr", f'<tr id="{prefix}-{position}"', 1).replace(
                "</td>", f"{badge}</td>", 1
            )
        lines.append(line)
        data_rows.append(
            [parent, layer.depth, layer.module_path, layer.class_name,
             *(_sort_key(layer, column, values[column]) for column in chosen)]
        )
    headers = [options.layer_title(), *(options.column_title(column) for column in chosen)]
    head = "".join(
        f'<th{" class=n" if column in _NUMERIC else ""}>{html_text(text)}</th>'
        for column, text in zip((None, *chosen), headers, strict=True)
    )
    data = {
        "depth": depth,
        "numeric": [False, *(column in _SORTS_BY_NUMBER for column in chosen)],
        "rows": data_rows,
        "repeats": [[first, members] for first, members in runs.items()],
    }
    heading = html_text(title if title is not None else _model_name(stats))
    # Rows below the fold start hidden by CSS (class "f"), so the first layout
    # is of the folded tree; without JavaScript the full report shows them all.
    unfold = "" if compact else "<noscript><style>.sp-r tr.f{display:table-row}</style></noscript>"
    return (
        f'<div class="sp-r{" sp-compact" if compact else ""}">{unfold}\n'
        f'<div class="sp-head"><p><strong>{heading}</strong> summary</p>\n{_cards(stats)}</div>\n'
        '<div class="sp-tools"><input type="search" placeholder="Filter module paths '
        '(press /)" aria-label="Filter module paths and classes"> '
        '<button type="button" data-act="expand">'
        f'Expand all</button> <button type="button" data-act="fold">Fold to depth {depth}'
        '</button> <button type="button" data-act="collapse">Collapse all</button> '
        '<span class="sp-n"></span></div>\n'
        '<div class="sp-scroll"><table class="summaryplus-layers">\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{''.join(lines)}</tbody>\n</table></div>\n"
        f"{totals_table(stats)}\n{findings_html(found, anchors)}\n"
        f'<script type="application/json" class="sp-data">{_json(data)}</script>\n'
        "</div>"
    )


def report_fragment(panels: Iterable[str], header: str = "") -> str:
    """Panels inside one ``<div class="summaryplus">`` with the style and the
    script once (the script starts every panel of its fragment)."""
    body = list(panels)
    inner = body[0] if len(body) == 1 else '<div class="sp-panels">\n' + "\n".join(body) + "</div>"
    return (
        '<div class="summaryplus">\n'
        f"<style>{_asset('report.css')}</style>\n"
        f"{header}{inner}\n"
        f"<script>{_asset('report.js')}</script>\n"
        "</div>"
    )


# ------------------------------------------------------------------ rows
def _row_html(
    layer: LayerLike,
    values: Mapping[ColumnSettings, str],
    columns: list[ColumnSettings],
    shares: _Shares,
    has_children: bool,
    folded: bool,
    opened: bool,
    mark: str | None,
    show_var_name: bool,
    show_depth: bool,
    repeats: int = 0,
) -> str:
    name = html_text(layer_name(layer, show_var_name, show_depth))
    toggle = '<i class="tg"></i>' if has_children else ""
    badges = "".join(f'<b class="bd {kind}">{text}</b>' for kind, text in _badges(layer))
    if repeats:
        # The run's first block stands for all: a button shows the others.
        badges += (
            f'<b class="bd rp" role="button" title="{repeats} identical '
            f'{html_text(layer.class_name)} blocks: show or hide the other {repeats - 1}">'
            f"{html_text(layer.class_name)} \u00d7 {repeats}</b>"
        )
    classes = []
    if mark is not None:
        css, text = MARKS[mark]
        classes.append(f"m-{css}")
        badges += f'<b class="bd {css}">{text}</b>'
    if folded:
        classes.append("f")
    if opened and has_children:
        classes.append("op")
    attributes = f' class="{" ".join(classes)}"' if classes else ""
    # The module path: visible (muted, after the name) and in the tooltip, so
    # what the filter matches is what the row shows.
    path = html_text(layer.module_path)
    shown_path = f'<span class="pa">{path}</span>' if path else ""
    cells = [
        f'<td title="{path or "(model)"}">{_INDENT * layer.depth}{toggle}{name}{badges}'
        f"{shown_path}</td>"
    ]
    for column in columns:
        text = html_text(values[column].strip())
        share = _share(layer, column, shares)
        if share is not None:  # no bar under a twentieth of a percent: it would not show
            cells.append(f'<td class="b" style="--w:{share}">{text}</td>' if share != "0.0%"
                         else f"<td class=n>{text}</td>")
        else:
            cells.append(f'<td{" class=n" if column in _NUMERIC else ""}>{text}</td>')
    return f"<tr{attributes}>{''.join(cells)}</tr>\n"


def _badges(layer: LayerLike) -> list[tuple[str, str]]:
    """(CSS class, text) of each flag the row carries."""
    badges = []
    if layer.trainable == "False":
        badges.append(("fz", "frozen"))
    elif layer.trainable == "Partial":
        badges.append(("pf", "partly frozen"))
    if layer.contains_lazy_param:
        badges.append(("un", "uninitialized"))
    elif layer.is_recursive:
        badges.append(("rc", "recursive"))
    elif layer.subtree_params < layer.num_params:
        # Some of its parameters were counted on an earlier row (tied or shared).
        badges.append(("sh", "shared"))
    if layer.macs_partial:
        badges.append(("pm", "partial MACs"))
    return badges


def _share(layer: LayerLike, column: ColumnSettings, shares: _Shares) -> str | None:
    """The bar width of a cell (``"12.5%"``, one decimal), for the params, MACs and
    memory columns."""
    if column in (ColumnSettings.NUM_PARAMS, ColumnSettings.PARAMS_PERCENT):
        part, whole = (0 if layer.is_recursive else layer.subtree_params), shares.params
    elif column in (ColumnSettings.MULT_ADDS, ColumnSettings.FLOPS):
        part, whole = layer.macs, shares.macs
    elif column is ColumnSettings.MEMORY:
        part, whole = memory_bytes(layer), shares.memory
    else:
        return None
    fraction = min(part / whole, 1.0) if whole > 0 else 0.0
    return f"{fraction * 100:.1f}%"


def _sort_key(layer: LayerLike, column: ColumnSettings, text: str) -> int | str:
    """What a column sorts by: the number behind the cell, a shape by its size,
    else the cell's text (kernel shape, Trainable)."""
    if column in (ColumnSettings.NUM_PARAMS, ColumnSettings.PARAMS_PERCENT):
        return 0 if layer.is_recursive else int(layer.subtree_params)
    if column is ColumnSettings.MULT_ADDS:
        return int(layer.macs)
    if column is ColumnSettings.FLOPS:
        return int(layer.flops)
    if column is ColumnSettings.MEMORY:
        return memory_bytes(layer)
    if column is ColumnSettings.BYTES:
        return int(layer.bytes_moved)
    if column is ColumnSettings.INTENSITY:
        return round(layer.intensity * 1000)
    if column is ColumnSettings.GROUPS:
        return int(layer.groups or 0)
    if column in (ColumnSettings.INPUT_SIZE, ColumnSettings.OUTPUT_SIZE):
        shape = layer.input_size if column is ColumnSettings.INPUT_SIZE else layer.output_size
        dims = [dim for dim in _flat(shape) if isinstance(dim, int)]
        return math.prod(dims) if dims else 0
    return text.strip()


def _flat(shape: Any) -> list[Any]:
    if isinstance(shape, (list, tuple)):
        return [dim for item in shape for dim in _flat(item)]
    return [shape]


# ------------------------------------------------------------------ header
def _cards(stats: SummaryLike) -> str:
    """The headline totals: params, trainable, MACs, FLOPs, memory, coverage,
    active parameters; values as the text footer writes them."""
    footer = footer_items(stats)
    wanted = ("Total params", "Trainable params", "Total mult-adds", "Active params per token",
              "Estimated Total Size", "Training step estimate")
    cards = [(label, value) for label, value in footer if label.startswith(wanted)]
    if stats.input_size:
        units = stats.formatting.macs_units
        if units is Units.AUTO:  # a unit for the value, as the totals above
            label, value = "FLOPs", readable_count(stats.total_flops)
        else:
            suffix, _, value = footer_number(stats.total_flops, units).partition(": ")
            label = f"FLOPs{suffix}"
        at = next((i + 1 for i, (label, _) in enumerate(cards) if label.startswith("Total mult")),
                  len(cards))
        cards.insert(at, (label, value))
        ops = len(stats.uncounted_ops)
        coverage = "complete" if not ops else f"partial ({ops} op{'s' * (ops != 1)} uncounted)"
        cards.append(("MACs coverage", coverage))
    items = "".join(
        f"<div><dt>{html_text(label)}</dt><dd>{html_text(value)}</dd></div>"
        for label, value in cards
    )
    return f'<dl class="sp-cards">{items}</dl>'


# ------------------------------------------------------------------ helpers
def _report_columns(stats: SummaryLike, columns: Iterable[str] | None) -> list[ColumnSettings]:
    chosen = chosen_columns(stats, columns)
    if columns is not None:
        return chosen
    ran = bool(stats.input_size)
    for column in _REPORT_COLUMNS:
        if column not in chosen and (ran or column is ColumnSettings.NUM_PARAMS):
            chosen.append(column)
    return chosen


def _shares(stats: SummaryLike, layers: list[LayerLike]) -> _Shares:
    top = [layer for layer in layers if layer.depth == 0 and not layer.is_recursive]
    return _Shares(
        params=int(stats.total_params),
        macs=int(stats.total_mult_adds),
        memory=sum(memory_bytes(layer) for layer in top),
    )


def _parent(layer: Any, index_of: Mapping[int, int]) -> int:
    """The parent row's index, for a live row (``parent_info``) or a record (``parent``)."""
    if hasattr(layer, "parent_info"):
        parent_info = layer.parent_info
        return -1 if parent_info is None else index_of.get(id(parent_info), -1)
    parent: int | None = layer.parent
    return -1 if parent is None else parent


def _model_name(stats: SummaryLike) -> str:
    layers = stats.summary_list
    return str(layers[0].class_name) if layers else "Model"


def _json(data: object) -> str:
    # "<" never appears raw, so no "</script>" or "<!--" can end the block early.
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
