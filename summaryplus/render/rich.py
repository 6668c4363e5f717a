"""The summary as rich renderables, for ``rich.print(stats)`` and rich consoles.

rich is imported here only, when a rich console asks for the renderables;
summaryplus never needs it otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..escape import terminal
from .table import footer_items, table_data

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType

    from ..records import SummaryLike

__all__ = ["rich_renderables"]


def rich_renderables(
    stats: SummaryLike, console: Console, options: ConsoleOptions
) -> Iterator[RenderableType]:
    """Yields the layer table and the totals as rich ``Table``s.

    rich lays out its own tables (fitting them to the console width), so this
    is the one renderer that does not go through tabulate; its cells are the
    same texts (``table_data``, ``footer_items``).

    Args:
        stats: the summary.
        console: the rich console rendering it (unused: rich fits the width).
        options: the console options (unused).

    Yields:
        rich renderables.

    Example:
        >>> from rich.console import Console
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> console = Console(width=80, color_system=None)
        >>> console.print(summary(nn.Linear(4, 2), verbose=0))  # doctest: +SKIP
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    data = table_data(stats)
    model = data.layers[0].class_name if data.layers else "Model"
    # A Text title: a class name is never read as rich markup.
    title = Text(f"{terminal(model)} summary")
    layers = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for header, align in zip(data.headers, data.colalign, strict=True):
        layers.add_column(header, justify="right" if align == "right" else "left", no_wrap=True)
    for row in data.rows:
        layers.add_row(*(Text(terminal(cell)) for cell in row))  # text, never markup
    yield layers

    totals = Table(show_header=False, box=box.SIMPLE, show_edge=False)
    totals.add_column("total")
    totals.add_column("value", justify="right")
    for label, value in footer_items(stats):
        totals.add_row(Text(terminal(label)), Text(terminal(value)))
    yield totals
