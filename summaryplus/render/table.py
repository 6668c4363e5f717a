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
from ..footer import footer_sections
from ..formatting import layer_name, row_values, visible_rows
from .output import SPECIAL_FORMATS, Output, Table, check_format, render_output, tree_prefix
from .serialize import to_dict

if TYPE_CHECKING:
    from ..records import LayerLike, SummaryLike

__all__ = [
    "NUMERIC_COLUMNS",
    "TableData",
    "chosen_columns",
    "footer_items",
    "summary_output",
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
    headers = [options.layer_title(), *(options.column_title(column) for column in chosen)]
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
    totals: bool = False,
) -> str:
    """The summary table rendered by tabulate.

    Args:
        stats: the summary.
        tablefmt: any name in ``tabulate.tabulate_formats`` (``"github"``,
            ``"grid"``, ``"rst"``, ``"latex"``, ``"html"``, ``"tsv"``...), or
            ``"markdown"``/``"md"`` (GitHub tables). LaTeX formats draw the
            tree in ASCII (``+ ``, ``|    ``): they cannot show box characters.
        depth: deepest level shown; None uses the summary's own ``depth``.
        columns: ``ColumnSettings`` names; None uses the summary's ``col_names``.
        totals: also the totals (``footer_items``) as a second table, as
            ``summaryplus --format`` writes them (``render_summary``).

    Returns:
        The table (the totals too with ``totals=True``).

    Raises:
        ValueError: ``tablefmt`` or a column is unknown (the message suggests
            the closest format name), or ``depth`` is negative.

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
    fmt = check_format(tablefmt, "tablefmt")
    if fmt in SPECIAL_FORMATS and fmt != "html":  # tabulate has an html table too
        raise ValueError(
            f"tablefmt={tablefmt!r} is not a tabulate format; use to_json/to_csv/to_html "
            "or render_summary for it"
        )
    output = summary_output(stats, fmt, depth, columns)
    shown = output.tables if totals else output.tables[:1]
    return render_output(Output("", shown), fmt, page=False)


def summary_output(
    stats: SummaryLike,
    fmt: str = "github",
    depth: int | None = None,
    columns: Iterable[str] | None = None,
) -> Output:
    """The summary as the output model every format is written from: the layer
    table (tree prefixes that ``fmt`` can show), then the totals table.

    Args:
        stats: the summary.
        fmt: the format it is for (only the tree prefix depends on it).
        depth: deepest level shown; None uses the summary's own ``depth``.
        columns: ``ColumnSettings`` names; None uses the summary's ``col_names``.

    Returns:
        The ``Output`` (its ``data`` is ``to_dict()``).
    """

    data = table_data(stats, depth, columns, prefix=tree_prefix(fmt))
    layers = Table(tuple(data.headers), tuple(map(tuple, data.rows)), data.colalign)
    totals = Table(("Total", "Value"), tuple(footer_items(stats)), ("left", "right"))
    # No title line: the table starts the output, as torchinfo's does.
    return Output("", (layers, totals), data=to_dict(stats))


def footer_items(stats: SummaryLike) -> list[tuple[str, str]]:
    """The totals under the torchinfo table, as (label, value) pairs.

    The same totals ``print(stats)`` shows (``formatting.footer_sections``),
    each with a unit chosen for its value (``("Total mult-adds", "2.66M")``,
    ``("Params size", "232 B")``) where the text keeps torchinfo's fixed
    ``(M)``/``(MB)`` lines, so no non-zero figure reads ``0.00``.

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
        >>> footer_items(summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0))[3:5]
        [('Total mult-adds', '8'), ('Input size', '16 B')]
    """

    return [item for section in footer_sections(stats, False) for item in section]


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
