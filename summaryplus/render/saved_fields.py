"""Every field of a saved summary checked for its type and range as it is loaded.

A saved summary is untrusted input (a file someone sent): ``load_summary``
checks each field against the type its record class declares, counts as
non-negative integers, the row tree as a tree (each ``parent`` an earlier
row, each ``depth`` within the rows above it) and the table settings within
what a table can print, so a bad file fails on load with a ``ValueError``
naming the field, never later in a view (a ``TypeError``) or by allocating
gigabytes (``"col_width": 10**9``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

#: Widest column a loaded table prints (characters); summary() users pick
#: their own width, a file does not.
MAX_COL_WIDTH = 1000


def check_record_fields(cls: type, values: Mapping[str, Any], where: str) -> None:
    """Each value of ``values`` of the type ``cls`` declares for it.

    Ints must be non-negative (every int field of a record is a count, a
    size or an index). Shapes may nest tuples of ints and strings (symbolic
    sizes).

    Raises:
        ValueError: ``where.field`` and what it holds instead.
    """
    hints = _hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in values and not _matches(values[field.name], hints[field.name]):
            raise ValueError(
                f"{where}.{field.name} must be {_describe(hints[field.name])}, got "
                f"{_shown(values[field.name])}"
            )


def check_tree(layers: list[dict[str, Any]]) -> None:
    """Rows as ``to_dict`` writes them: ``index`` their position, ``parent`` an
    earlier row, ``depth`` at most the number of rows above."""
    for position, layer in enumerate(layers):
        where = f"layers[{position}]"
        if layer["index"] != position:
            raise ValueError(
                f"{where}.index must be {position} (its position), got {layer['index']}"
            )
        parent = layer["parent"]
        if parent is not None and parent >= position:
            raise ValueError(
                f"{where}.parent must be the index of an earlier row (< {position}), got {parent}"
            )
        if layer["depth"] > position + 1:
            raise ValueError(
                f"{where}.depth must be at most {position + 1} (the rows above it), got "
                f"{layer['depth']}"
            )


def check_table(table: Mapping[str, Any]) -> None:
    """Saved table settings a table can print: ``depth`` an int >= 0,
    ``col_width`` an int in ``[1, MAX_COL_WIDTH]``, names as lists of strings."""
    for name in ("depth", "col_width"):
        value = table[name]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"table.{name} must be an int, got {_shown(value)}")
    if table["depth"] < 0:
        raise ValueError(f"table.depth must be >= 0, got {table['depth']}")
    if not 1 <= table["col_width"] <= MAX_COL_WIDTH:
        raise ValueError(
            f"table.col_width must be between 1 and {MAX_COL_WIDTH}, got {table['col_width']:,}"
        )
    for name in ("col_names", "row_settings"):
        value = table[name]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"table.{name} must be a list of names, got {_shown(value)}")


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (tuple, Sequence):  # loaded values are frozen: sequences are tuples
        if not isinstance(value, tuple):
            return False
        (item, *_) = typing.get_args(hint)
        # A shape's entries may be nested shapes (several inputs) or symbolic names.
        return all(_matches(v, item) or _is_shape(v) for v in value)
    if origin is dict:
        key, item = typing.get_args(hint)
        return isinstance(value, Mapping) and all(
            _matches(k, key) and _matches(v, item) for k, v in value.items()
        )
    return True  # a type this checker does not know: taken as written


def _is_shape(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(item)
        elif not (item is None or isinstance(item, (str, int, float))):
            return False
    return True


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(option) for option in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if hint is int:
        return "an int >= 0"
    if origin in (tuple, Sequence):
        return f"a list of {_describe(typing.get_args(hint)[0])}"
    if origin is dict:
        return "an object of names to ints"
    return f"a {getattr(hint, '__name__', hint)}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
