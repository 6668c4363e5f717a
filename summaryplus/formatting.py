"""The torchinfo-compatible text table.

This is the one hand-written layout (dividers, tree prefixes, fixed-width
columns); every other format goes through tabulate in ``render``. The settings
and the cell of each column are in ``cells`` (re-exported here: torchinfo's
module path).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .accounting import inner_params
from .cells import (
    CELLS,
    HEADER_TITLES,
    PARAMS_MEMORY_TITLE,
    FormattingOptions,
    bytes_cell,
    count_cell,
    layer_name,
    layer_names,
    memory_bytes,
    num_params_cell,
    params_percent_cell,
    params_shown,
    row_values,
)
from .enums import ColumnSettings, Verbosity
from .escape import terminal_block
from .footer import footer_sections
from .layer_info import LayerInfo

if TYPE_CHECKING:
    from .protocols import LayerLike, SummaryLike

__all__ = [
    "HEADER_TITLES",
    "PARAMS_MEMORY_TITLE",
    "FormattingOptions",
    "bytes_cell",
    "count_cell",
    "layer_name",
    "layer_names",
    "memory_bytes",
    "num_params_cell",
    "params_percent_cell",
    "params_shown",
    "render_text",
    "row_values",
    "visible_rows",
]


def visible_rows(
    stats: SummaryLike, depth: int | None = None
) -> list[tuple[LayerLike, bool]]:
    """Rows printed down to ``depth`` (default: the summary's), each with whether
    it is the deepest shown."""
    return [(row, deepest) for _, row, deepest in _shown(stats, depth)]


def _shown(stats: SummaryLike, depth: int | None = None) -> Iterator[tuple[int, LayerLike, bool]]:
    """``visible_rows`` with each row's position in ``summary_list``."""
    options = stats.formatting
    max_depth = options.max_depth if depth is None else depth
    hide_recursive = options.hide_recursive_layers
    for position, row in enumerate(stats.summary_list):
        row_depth = row.depth
        if row_depth <= max_depth and not (hide_recursive and row.is_recursive):
            yield position, row, row_depth == max_depth


def _layer_lines(stats: SummaryLike) -> str:
    options = stats.formatting
    cells = [CELLS[column] for column in options.col_names]
    template = options.row_template()
    total_params = stats.total_params
    parameter_lines = options.verbose == Verbosity.VERBOSE
    names = options.row_names(stats.summary_list)
    prefixes: dict[int, str] = {}
    # A list joined once: ``+=`` on one growing string copies it per row.
    lines: list[str] = []
    for position, row, deepest in _shown(stats):
        depth = row.depth
        prefix = prefixes.get(depth)
        if prefix is None:
            prefix = prefixes[depth] = options.get_start_str(depth)
        values = [cell(options, row, deepest, total_params) for cell in cells]
        lines.append(template.format(prefix + names[position], *values).rstrip() + "\n")
        if parameter_lines and isinstance(row, LayerInfo):
            # (A loaded record has no module: no parameter lines.)
            lines += _parameter_lines(options, row, inner_params(row))
    return "".join(lines)


def _parameter_lines(
    options: FormattingOptions, row: LayerLike, params: list[Any]
) -> list[str]:
    """Verbose mode: a line per parameter of a row, torchinfo's way (a weight's
    first two dimensions swapped)."""
    prefix = options.get_start_str(row.depth + 1)
    lines = []
    for index, param in enumerate(params):
        shape = list(param.shape)
        if param.name == "weight" and len(shape) > 1:
            shape[0], shape[1] = shape[1], shape[0]
        branch = "└─" if index == len(params) - 1 else "├─"
        values = {
            ColumnSettings.KERNEL_SIZE: str(shape),
            ColumnSettings.NUM_PARAMS: f"{branch}{param.numel:,}",
        }
        lines.append(options.format_row(f"{prefix}{param.name}", values))
    return lines


def render_text(stats: SummaryLike) -> str:
    """The whole torchinfo-style table with its footer."""
    options = stats.formatting
    divider = "=" * options.get_total_width()
    text = f"{divider}\n{options.header_row()}{divider}\n{_layer_lines(stats)}"
    for section in footer_sections(stats):
        text += f"{divider}\n" + "".join(f"{label}: {value}\n" for label, value in section)
    # Names come from the model: no control character reaches the terminal.
    return terminal_block(text + divider)
