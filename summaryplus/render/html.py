"""HTML and Markdown for notebooks (``_repr_html_``, ``_repr_markdown_``).

Both are the summary table plus its totals, laid out by tabulate. In HTML the
tree is drawn by indentation (non-breaking spaces, which proportional fonts
keep) instead of box-drawing characters, which only line up in monospace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..escape import escape_rows, html_text
from .table import footer_items, table_data, to_table

if TYPE_CHECKING:
    from ..records import SummaryLike

__all__ = ["to_html", "to_markdown", "totals_table"]

_INDENT = "\u00a0" * 4  # per level of nesting


def to_html(stats: SummaryLike) -> str:
    """The summary as an HTML fragment: a layer table and a totals table.

    Cell text is escaped. The fragment is a ``<div class="summaryplus">`` that
    holds a ``<table class="summaryplus-layers">`` and a
    ``<table class="summaryplus-totals">``.

    Args:
        stats: the summary.

    Returns:
        The HTML text.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> page = summary(nn.Sequential(nn.Linear(4, 2)), input_size=(1, 4), verbose=0).to_html()
        >>> "Linear: 1-1" in page and "Total params" in page
        True
    """
    from tabulate import tabulate

    data = table_data(stats, prefix=_indent)
    layers = tabulate(
        escape_rows(data.rows, "html"),  # tabulate escapes HTML; control characters here
        headers=data.headers,
        tablefmt="html",
        colalign=data.colalign,
        disable_numparse=True,
        preserve_whitespace=True,  # keeps the indentation; never set globally
    )
    model = html_text(data.layers[0].class_name) if data.layers else "Model"
    return (
        '<div class="summaryplus">\n'
        f"<p><strong>{model}</strong> summary</p>\n"
        f"{_with_class(str(layers), 'summaryplus-layers')}\n"
        f"{totals_table(stats)}\n"
        "</div>"
    )


def totals_table(stats: SummaryLike) -> str:
    """The totals under the table (``footer_items``) as a
    ``<table class="summaryplus-totals">``."""
    from tabulate import tabulate

    totals = tabulate(
        escape_rows(footer_items(stats), "html"),
        tablefmt="html",
        colalign=("left", "right"),
        disable_numparse=True,
    )
    return _with_class(str(totals), "summaryplus-totals")


def to_markdown(stats: SummaryLike) -> str:
    """The summary as Markdown: a GitHub table of layers, then a table of totals.

    Args:
        stats: the summary.

    Returns:
        The Markdown text.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> text = summary(nn.Sequential(nn.Linear(4, 2)), verbose=0)._repr_markdown_()
        >>> text.splitlines()[0]
        '| Layer (type:depth-idx)   |   Param # |'
    """
    from tabulate import tabulate

    totals = tabulate(
        escape_rows(footer_items(stats), "github"),
        headers=("Total", "Value"),
        tablefmt="github",
        colalign=("left", "right"),
        disable_numparse=True,
    )
    return f"{to_table(stats, 'github')}\n\n{totals}\n"


def _indent(depth: int) -> str:
    return _INDENT * depth


def _with_class(table: str, name: str) -> str:
    # tabulate writes a bare "<table>"; a class lets notebooks style each part.
    return table.replace("<table>", f'<table class="{name}">', 1)
