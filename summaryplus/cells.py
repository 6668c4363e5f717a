"""The cells of the text table: its settings (``FormattingOptions``, torchinfo's
class), the column titles and one function per column that turns a row's
numbers into its cell text.

A low layer on purpose: the rows' torchinfo methods (``num_params_to_str``,
``macs_to_str``...) and the loaded records name themselves and format a cell
through here, without reaching the table renderer (``formatting``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ._checks import DEFAULT_COLUMN_NAMES, DEFAULT_ROW_SETTINGS
from .enums import ColumnSettings, RowSettings, Units
from .queries import layer_value
from .shapes import shapes_text
from .units import intensity_text, readable_bytes

if TYPE_CHECKING:
    from .protocols import LayerLike

HEADER_TITLES = {
    ColumnSettings.KERNEL_SIZE: "Kernel Shape",
    ColumnSettings.GROUPS: "Groups",
    ColumnSettings.INPUT_SIZE: "Input Shape",
    ColumnSettings.OUTPUT_SIZE: "Output Shape",
    ColumnSettings.NUM_PARAMS: "Param #",
    ColumnSettings.PARAMS_PERCENT: "Param %",
    ColumnSettings.MULT_ADDS: "Mult-Adds",
    ColumnSettings.FLOPS: "FLOPs",
    ColumnSettings.MEMORY: "Memory",  # eval mode: PARAMS_MEMORY_TITLE
    ColumnSettings.TRAINABLE: "Trainable",
    ColumnSettings.BYTES: "Bytes",
    ColumnSettings.INTENSITY: "FLOP/byte",
}
# The Memory header when the column holds parameter bytes only: a summary in
# eval mode (or without a forward) saves no activations; mode="train" measures them.
PARAMS_MEMORY_TITLE = "Memory (params)"

_NAME_ALIGN = 5
_MIN_NAME_WIDTH = 40


class FormattingOptions:
    """How the text table is laid out (torchinfo's class and attribute names)."""

    def __init__(
        self,
        max_depth: int,
        verbose: int,
        col_names: tuple[ColumnSettings, ...],
        col_width: int,
        row_settings: set[RowSettings],
    ) -> None:
        self.max_depth = max_depth
        self.verbose = verbose
        self.col_names = col_names
        self.col_width = col_width
        self.row_settings = row_settings
        self.params_units = Units.NONE
        self.macs_units = Units.AUTO
        self.layer_name_width = _MIN_NAME_WIDTH
        # (rows, (show_var_name, show_depth), their names): see ``row_names``.
        self._row_names: tuple[Sequence[LayerLike], tuple[bool, bool], list[str]] | None = None
        self.ascii_only = RowSettings.ASCII_ONLY in row_settings
        self.show_var_name = RowSettings.VAR_NAMES in row_settings
        self.show_depth = RowSettings.DEPTH in row_settings
        self.hide_recursive_layers = RowSettings.HIDE_RECURSIVE_LAYERS in row_settings
        # What the Memory column holds: activations saved for backward and
        # parameters (a training-mode forward), else parameters only; the
        # summary sets it, and its header says so (``column_title``).
        self.memory_holds_activations = True

    @classmethod
    def default(cls) -> FormattingOptions:
        """torchinfo's defaults: depth 3, Output Shape and Param #, width 25,
        depth indices (the table of a summary made without table settings:
        ``training_flops``, a partial summary, an exported program)."""
        return cls(3, 0, DEFAULT_COLUMN_NAMES, 25, set(DEFAULT_ROW_SETTINGS))

    @staticmethod
    def str_(value: object) -> str:
        return str(value) if value else "--"

    def get_start_str(self, depth: int) -> str:
        """Tree prefix of a row: ``├─``, ``│    └─`` (or ``+ ``/``|    `` in ascii)."""
        if depth == 0:
            return ""
        if depth == 1:
            return "+ " if self.ascii_only else "├─"
        return ("|    " if self.ascii_only else "│    ") * (depth - 1) + (
            "+ " if self.ascii_only else "└─"
        )

    def set_layer_name_width(self, summary_list: Iterable[LayerLike]) -> None:
        """Widens the name column to fit every row (hidden ones too), in steps of 5."""
        rows = summary_list if isinstance(summary_list, (list, tuple)) else list(summary_list)
        names = self.row_names(rows)
        pairs = zip(names, rows, strict=True)
        longest = max((len(name) + row.depth * _NAME_ALIGN + 1 for name, row in pairs), default=0)
        if longest >= self.layer_name_width:
            self.layer_name_width = math.ceil(longest / _NAME_ALIGN) * _NAME_ALIGN

    def row_names(self, rows: Sequence[LayerLike]) -> list[str]:
        """``layer_name`` of each of ``rows`` under these settings. The names of the
        last rows asked are kept: the column width and the table read the same
        ones (on 15k rows, making them is a sixth of printing)."""
        settings = (self.show_var_name, self.show_depth)
        cached = self._row_names
        if cached is not None and cached[0] is rows and cached[1] == settings:
            names = cached[2]
            if len(names) == len(rows):
                return names
        names = layer_names(rows, *settings)
        self._row_names = (rows, settings, names)
        return names

    def get_total_width(self) -> int:
        return len(self.col_names) * self.col_width + self.layer_name_width

    def format_row(self, layer_name: str, values: dict[ColumnSettings, str]) -> str:
        cells = [values.get(column, "") for column in self.col_names]
        return self.row_template().format(layer_name, *cells).rstrip() + "\n"

    def row_template(self) -> str:
        """``str.format`` template of one line: the name, then each shown column,
        left-aligned in its width (one ``format`` call per row is the fast way to
        print 15k rows)."""
        cell = f"{{:<{self.col_width}}} "
        return f"{{:<{self.layer_name_width}}} " + cell * len(self.col_names)

    def layer_title(self) -> str:
        """Title of the name column: ``Layer (type (var_name):depth-idx)``."""
        suffix = ""
        if self.show_var_name:
            suffix += " (var_name)"
        if self.show_depth:
            suffix += ":depth-idx"
        return f"Layer (type{suffix})"

    def column_title(self, column: ColumnSettings) -> str:
        """The header of ``column``: ``HEADER_TITLES``, except Memory without
        activations (eval mode, no forward), which reads ``Memory (params)``."""
        if column is ColumnSettings.MEMORY and not self.memory_holds_activations:
            return PARAMS_MEMORY_TITLE
        return HEADER_TITLES[column]

    def header_row(self) -> str:
        return self.format_row(
            self.layer_title(), {column: self.column_title(column) for column in self.col_names}
        )


def params_shown(row: LayerLike, reached_max_depth: bool) -> tuple[int, int]:
    """(params, trainable) a row's cells show: its whole subtree when it is a leaf
    or the deepest row printed, else what no row below it accounts for."""
    if reached_max_depth or row.is_leaf_layer:
        return row.subtree_params, row.subtree_trainable_params
    return row.counted_params, row.counted_trainable_params


def num_params_cell(row: LayerLike, reached_max_depth: bool) -> str:
    if row.contains_lazy_param:
        # Lazy parameters have no shape before the first forward: no count yet.
        return "(uninitialized)"
    if row.num_params == 0:
        return "--"
    if row.is_recursive:
        return "(recursive)"
    params, trainable = params_shown(row, reached_max_depth)
    if reached_max_depth or row.is_leaf_layer:
        if params == 0:
            return "(shared)"
        text = f"{params:,}"
        return text if trainable else f"({text})"
    return f"{params:,}" if params > 0 else "--"


def params_percent_cell(
    row: LayerLike, total_params: int, reached_max_depth: bool, precision: int = 2
) -> str:
    spacing = 5
    zero = f"{' ' * spacing}--"
    if total_params == 0:
        return zero
    if row.is_recursive:
        return "(recursive)"
    params, _ = params_shown(row, reached_max_depth)
    if params == 0:
        return zero
    return f"{params / total_params:>{precision + spacing}.{precision}%}"


def _partial_mark(row: LayerLike) -> str:
    # A row whose subtree ran ops without a formula: its count is a lower bound.
    return "*" if row.macs_partial else ""


def layer_name(row: LayerLike, show_var_name: bool, show_depth: bool) -> str:
    """``Class (var): depth-idx``, as torchinfo names a row (a live row or a record)."""
    return layer_names((row,), show_var_name, show_depth)[0]


def layer_names(rows: Sequence[LayerLike], show_var_name: bool, show_depth: bool) -> list[str]:
    """``layer_name`` of each of ``rows``, the settings decided once for all (the
    name column of a 15k-row table)."""
    names = [row.class_name for row in rows] if not show_var_name else [
        f"{row.class_name} ({row.var_name})" if row.var_name else row.class_name for row in rows
    ]
    if not show_depth:
        return names
    return [
        name if row.depth <= 0
        else f"{name}: {row.depth}" if row.depth_index is None
        else f"{name}: {row.depth}-{row.depth_index}"
        for name, row in zip(names, rows, strict=True)
    ]


def count_cell(value: int) -> str:
    return f"{value:,}" if value > 0 else "--"


def bytes_cell(num_bytes: int) -> str:
    return readable_bytes(num_bytes) if num_bytes > 0 else "--"


def _shape_text(value: Any) -> str:
    # Records keep shapes as tuples (they compare and hash): print them as lists.
    if not value:
        return "--"
    return str(list(value) if isinstance(value, tuple) else value)


def _kernel_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    return _shape_text(row.kernel_size)


def _groups_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    return str(row.groups) if row.groups else "--"


def _input_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    # (Every shape of a call of several tensors; None for one, and on rows
    # that predate them.)
    shapes = getattr(row, "input_shapes", None)
    return shapes_text(shapes, o.col_width) if shapes else _shape_text(row.input_size)


def _output_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    shapes = getattr(row, "output_shapes", None)
    return shapes_text(shapes, o.col_width) if shapes else _shape_text(row.output_size)


def _params_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    return num_params_cell(row, deepest)


def _percent_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    return params_percent_cell(row, total, deepest)


def _macs_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    return count_cell(row.macs) + _partial_mark(row)


def _flops_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    return count_cell(row.flops) + _partial_mark(row)


def _memory_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    return bytes_cell(memory_bytes(row))


def _trainable_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    return row.trainable or "--"


def _bytes_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    return bytes_cell(row.bytes_moved)


def _intensity_cell(o: FormattingOptions, row: LayerLike, deepest: bool, total: int) -> str:
    return intensity_text(row.intensity)


# The text of one column's cell: (options, row, deepest shown, total params).
_Cell = Callable[["FormattingOptions", "LayerLike", bool, int], str]
CELLS: dict[ColumnSettings, _Cell] = {
    ColumnSettings.KERNEL_SIZE: _kernel_cell,
    ColumnSettings.GROUPS: _groups_cell,
    ColumnSettings.INPUT_SIZE: _input_cell,
    ColumnSettings.OUTPUT_SIZE: _output_cell,
    ColumnSettings.NUM_PARAMS: _params_cell,
    ColumnSettings.PARAMS_PERCENT: _percent_cell,
    ColumnSettings.MULT_ADDS: _macs_cell,
    ColumnSettings.FLOPS: _flops_cell,
    ColumnSettings.MEMORY: _memory_cell,
    ColumnSettings.TRAINABLE: _trainable_cell,
    ColumnSettings.BYTES: _bytes_cell,
    ColumnSettings.INTENSITY: _intensity_cell,
}


def row_values(
    options: FormattingOptions,
    row: LayerLike,
    reached_max_depth: bool,
    total_params: int,
    columns: Iterable[ColumnSettings] | None = None,
) -> dict[ColumnSettings, str]:
    """The text of the ``columns`` of one row (default: the columns shown); only
    those are formatted, which is most of the cost of printing a big model."""
    chosen = options.col_names if columns is None else columns
    return {column: CELLS[column](options, row, reached_max_depth, total_params)
            for column in chosen}


def memory_bytes(row: LayerLike) -> int:
    """The Memory cell: activations saved while the row ran plus the parameter bytes
    it accounts for, both over its whole subtree (like Mult-Adds); the one
    definition is ``queries.layer_value(row, "memory", whole_subtree=True)``."""
    return layer_value(row, "memory", True)
