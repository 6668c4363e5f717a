"""Argument checks, validated once up front: ``summary()``'s arguments and the
counts the views take. One message shape for every bad value: the argument's
name and the accepted values."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn

from ._tensors import dtype_name
from .enums import ColumnSettings, Mode, RowSettings, Verbosity
from .errors import InputConflictError

DEFAULT_COLUMN_NAMES = (ColumnSettings.OUTPUT_SIZE, ColumnSettings.NUM_PARAMS)
DEFAULT_ROW_SETTINGS = frozenset({RowSettings.DEPTH})
REQUIRES_INPUT = frozenset(
    {
        ColumnSettings.INPUT_SIZE,
        ColumnSettings.OUTPUT_SIZE,
        ColumnSettings.MULT_ADDS,
        ColumnSettings.FLOPS,
        ColumnSettings.MEMORY,
        ColumnSettings.BYTES,
        ColumnSettings.INTENSITY,
    }
)


def check_count(
    value: object, argument: str, *, allow_none: bool = False, smallest: int = 0
) -> None:
    """Raises unless ``value`` is an int >= ``smallest`` (or None when ``allow_none``).

    Raises:
        TypeError: not an int (a bool is not accepted as one).
        ValueError: below ``smallest``; the message names ``argument`` and what is
            accepted.
    """
    if value is None and allow_none:
        return
    accepted = f"an int >= {smallest}" + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{argument} must be {accepted}, got {type(value).__name__}")
    if value < smallest:
        raise ValueError(f"{argument}={value} is not valid; accepted values: {accepted}")


def validate_summary_arguments(
    model: Any,
    input_size: Any,
    input_data: Any,
    col_names: Iterable[str] | None,
    col_width: Any,
    depth: Any,
    mode: str | None,
    row_settings: Iterable[str] | None,
    verbose: int | None,
    *,
    exported: bool = False,
) -> tuple[tuple[ColumnSettings, ...], set[RowSettings], Mode, int]:
    """``summary()``'s table and mode arguments as enums: (columns, row
    settings, mode, verbosity).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        InputConflictError: both ``input_size`` and ``input_data`` are given.
        ValueError: any other bad value (the message names the argument).

    ``exported``: the model is an exported program (or an archive of one)
    rather than a module.
    """
    exported = exported or is_exported_program(model)
    if not isinstance(model, nn.Module) and not exported:
        raise TypeError(
            "model must be a torch.nn.Module or a torch.export.ExportedProgram, not "
            f"{type(model).__name__}"
        )
    if input_size is not None and input_data is not None:
        raise InputConflictError("give only one of input_size and input_data, not both")
    if exported and input_data is not None:
        raise ValueError(
            "input_data does not apply to an ExportedProgram (it is not run): give "
            "input_size to evaluate its dynamic sizes"
        )
    if not isinstance(col_width, int) or isinstance(col_width, bool) or col_width <= 0:
        raise ValueError(f"col_width must be a positive int, got {col_width!r}")
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise ValueError(f"depth must be an int >= 0, got {depth!r}")
    # An exported program carries its shapes: the shape columns always apply.
    has_input = input_size is not None or input_data is not None or exported
    if col_names is None:
        columns: tuple[ColumnSettings, ...] = (
            DEFAULT_COLUMN_NAMES if has_input else (ColumnSettings.NUM_PARAMS,)
        )
    else:
        if isinstance(col_names, str):
            col_names = (col_names,)
        columns = tuple(ColumnSettings.parse(name, "col_names") for name in col_names)  # type: ignore[misc]
    needs_input = sorted(str(c) for c in set(columns) & REQUIRES_INPUT)
    if needs_input and not has_input:
        raise ValueError(f"columns {needs_input} need input_size or input_data")
    if row_settings is None:
        rows = set(DEFAULT_ROW_SETTINGS)
    else:
        if isinstance(row_settings, str):
            row_settings = (row_settings,)
        rows = {RowSettings.parse(name, "row_settings") for name in row_settings}  # type: ignore[misc]
    model_mode = Mode.EVAL if mode is None else Mode.parse(mode, "mode")
    if verbose is None:
        verbosity = Verbosity.QUIET if interactive() else Verbosity.DEFAULT
    elif verbose in (0, 1, 2) and not isinstance(verbose, bool):
        verbosity = Verbosity(verbose)
    else:
        raise ValueError(f"verbose={verbose!r} is not valid; accepted values: 0, 1, 2")
    return columns, rows, model_mode, int(verbosity)  # type: ignore[return-value]


def interactive() -> bool:
    """A REPL or a notebook shows the returned object itself: do not print it twice."""
    if getattr(sys, "ps1", None):
        return True
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython is not None and get_ipython() is not None


#: What an exported program's archive is named (``torch.export.save``): the
#: command line tells it from a checkpoint by this, without loading sympy.
PT2_SUFFIXES = (".pt2",)


def is_exported_program(value: object) -> bool:
    """True for a ``torch.export.ExportedProgram`` (checked without importing
    ``torch.export`` when it was never imported: nothing can be one then)."""
    import sys

    module = sys.modules.get("torch.export.exported_program")
    return module is not None and isinstance(value, module.ExportedProgram)


_DTYPE_ALIASES = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16",
            "fp8": "float8", "float8_e4m3fn": "float8", "float8_e5m2": "float8"}


def check_dtype(value: object, argument: str, accepted: Mapping[str, object]) -> str:
    """The canonical name of a dtype given as a name or a ``torch.dtype``.

    Raises:
        ValueError: not one of ``accepted`` (the message lists them).
    """
    name = dtype_name(value) if isinstance(value, torch.dtype) else value
    if isinstance(name, str):
        name = name.lower().removeprefix("torch.")
        name = _DTYPE_ALIASES.get(name, name)
    if not isinstance(name, str) or name not in accepted:
        raise ValueError(
            f"{argument}={value!r} is not valid; accepted values: "
            + ", ".join(repr(key) for key in accepted)
        )
    return name
