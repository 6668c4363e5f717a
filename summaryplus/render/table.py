"""The summary table in any tabulate format (github, grid, rst, latex, tsv...).

Cells hold exactly the text of the torchinfo layout (``formatting.row_values``),
so every format shows the same numbers as ``print(stats)``, including ``--``,
``(tied)`` and ``(recursive)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._checks import check_count
from ..enums import ColumnSettings
from ..formatting import HEADER_TITLES, layer_name, row_values, visible_rows

if TYPE_CHECKING:
    from ..records import LayerLike, SummaryLike

__all__ = [
    "NUMERIC_COLUMNS",
    "TableData",
    "chosen_columns",
    "footer_items",
    "table_data",
    "to_table",
]

# Columns of counts and sizes: right-aligned, as numbers are.
NUMERIC_COLUMNS = _NUMERIC = frozenset(
    {
        ColumnSettings.NUM_PARAMS,
        ColumnSettings.PARAMS_PERCENT,
        ColumnSettings.MULT_ADDS,
        ColumnSettings.FLOPS,
        ColumnSettings.MEMORY,
        ColumnSettings.BYTES,
        ColumnSettings.INTENSITY,
    }
)


@dataclass(frozen=True)
class TableData:
    """What a table shows, before any format is applied.

    Attributes:
        headers: the column titles, the layer name first.
        rows: one list of cell texts per shown row.
        colalign: ``"left"`` or ``"right"`` per column.
        layers: the row each line of ``rows`` comes from.
    """

    headers: list[str]
    rows: list[list[str]]
    colalign: tuple[str, ...]
    layers: list[LayerLike]


def table_data(
    stats: SummaryLike,
    depth: int | None = None,
    columns: Iterable[str] | None = None,
    prefix: Callable[[int], str] | None = None,
) -> TableData:
    """The headers and cells of the summary table.

    Args:
        stats: the summary.
        depth: deepest level shown; None uses the summary's own ``depth``.
        columns: ``ColumnSettings`` names (``"output_size"``, ``"num_params"``,
            ``"mult_adds"``...); None uses the summary's own ``col_names``.
        prefix: text put before a layer's name given its depth; None uses the
            torchinfo tree (``├─``, ``│    └─``).

    Returns:
        The table as ``TableData``.

    Raises:
        ValueError: a column name is unknown or ``depth`` is negative.
        TypeError: ``depth`` is not an int.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> from summaryplus.render.table import table_data
        >>> stats = summary(nn.Sequential(nn.Linear(4, 2)), input_size=(1, 4), verbose=0)
        >>> table_data(stats, columns=["num_params"]).rows
        [['Sequential', '--'], ['├─Linear: 1-1', '10']]
    """
    options = stats.formatting
    chosen = chosen_columns(stats, columns)
    start = options.get_start_str if prefix is None else prefix
    headers = [stats.formatting.layer_title(), *(HEADER_TITLES[column] for column in chosen)]
    rows: list[list[str]] = []
    layers: list[LayerLike] = []
    for row, deepest in _shown_rows(stats, depth):
        values = row_values(options, row, deepest, stats.total_params, chosen)
        name = start(row.depth) + layer_name(row, options.show_var_name, options.show_depth)
        rows.append([name, *(values[column].strip() for column in chosen)])
        layers.append(row)
    colalign = ("left", *("right" if column in _NUMERIC else "left" for column in chosen))
    return TableData(headers, rows, colalign, layers)


def to_table(
    stats: SummaryLike,
    tablefmt: str = "github",
    depth: int | None = None,
    columns: Iterable[str] | None = None,
) -> str:
    """The summary table rendered by tabulate.

    Args:
        stats: the summary.
        tablefmt: any name in ``tabulate.tabulate_formats`` (``"github"``,
            ``"grid"``, ``"rst"``, ``"latex"``, ``"html"``, ``"tsv"``...).
        depth: deepest level shown; None uses the summary's own ``depth``.
        columns: ``ColumnSettings`` names; None uses the summary's ``col_names``.

    Returns:
        The table (without the totals footer: see ``to_dict()["totals"]``).

    Raises:
        ValueError: ``tablefmt`` or a column is unknown, or ``depth`` is negative.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> stats = summary(nn.Sequential(nn.Linear(4, 2)), input_size=(1, 4), verbose=0)
        >>> print(stats.to_table("github", columns=["output_size", "num_params"]))
        | Layer (type:depth-idx)   | Output Shape   |   Param # |
        |--------------------------|----------------|-----------|
        | Sequential               | [1, 2]         |        -- |
        | ├─Linear: 1-1            | [1, 2]         |        10 |
    """
    from tabulate import tabulate, tabulate_formats

    if not isinstance(tablefmt, str) or tablefmt not in tabulate_formats:
        accepted = ", ".join(repr(name) for name in tabulate_formats)
        raise ValueError(f"tablefmt={tablefmt!r} is not valid; accepted values: {accepted}")
    data = table_data(stats, depth, columns)
    return tabulate(
        data.rows,
        headers=data.headers,
        tablefmt=tablefmt,
        colalign=data.colalign,
        # Cells are already formatted text: tabulate must not re-parse "1,024".
        disable_numparse=True,
        # Passed per call, never by setting tabulate.PRESERVE_WHITESPACE.
        preserve_whitespace=True,
    )


def footer_items(stats: SummaryLike) -> list[tuple[str, str]]:
    """The totals under the torchinfo table, as (label, value) pairs.

    The same pairs ``print(stats)`` shows (``formatting.footer_sections``), so
    every renderer lists the same totals with the same labels and rounding
    (``("Total mult-adds (M)", "2.66")``).

    Args:
        stats: the summary.

    Returns:
        The footer lines as (label, value).

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> from summaryplus.render.table import footer_items
        >>> footer_items(summary(nn.Linear(4, 2), verbose=0))
        [('Total params', '10'), ('Trainable params', '10'), ('Non-trainable params', '0')]
    """
    from ..formatting import footer_sections

    return [item for section in footer_sections(stats) for item in section]


def chosen_columns(stats: SummaryLike, columns: Iterable[str] | None) -> list[ColumnSettings]:
    """``columns`` as ``ColumnSettings`` (one name or several); None: the summary's.

    Raises:
        ValueError: a name is not a ``ColumnSettings`` value.
    """
    if columns is None:
        return list(stats.formatting.col_names)
    if isinstance(columns, str):  # one name, not its letters
        columns = [columns]
    return [ColumnSettings(ColumnSettings.parse(column, "columns")) for column in columns]


def _shown_rows(stats: SummaryLike, depth: int | None) -> list[tuple[LayerLike, bool]]:
    check_count(depth, "depth", allow_none=True)
    return visible_rows(stats, depth)
