"""Summaries as plain data: dict, JSON, CSV, pandas, and back.

A summary is first turned into a ``records.SummaryData`` (frozen dataclasses
of plain values, no module references); every export is written from that
data, and ``load_data`` reads it back (``summaryplus.load_summary`` returns it
with the views, as a ``SummaryRecord``), so a summary saved today can be
compared with one taken later.

The dict/JSON schema, ``"summaryplus.summary/1"``::

    {
      "schema": "summaryplus.summary/1",
      "summaryplus_version": "0.1.0",
      "model": "GPT2LMHeadModel",
      "input_size": [[1, 16]],
      "layers": [{"index": 0, "parent": null, "module_path": "", ...}, ...],
      "totals": {"total_params": 168192, ...},
      "findings": [{"rule": "unused-parameters", "severity": "error", ...}]
    }

``layers`` holds one object per row of ``summary_list`` with every field of
``LayerRecord``; ``parent`` is the index of the parent row. ``totals`` holds
every field of ``TotalsRecord``. Fields may be added within schema version 1;
renaming or removing one bumps the version.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._plain import json_plain as _plain
from .._untrusted import load_json_file
from .._version import __version__
from ..enums import ColumnSettings, RowSettings
from ..escape import csv_cell
from ..fields import ROW_FIELDS, TOTALS_FIELDS
from ..findings import Finding, find
from ..records import (
    SCHEMA,
    LayerRecord,
    SummaryData,
    TotalsRecord,
    linked,
    trainable_from_json,
)
from .saved_fields import check_record_fields, check_table, check_tree

if TYPE_CHECKING:
    from ..records import LayerLike, SummaryLike

_READABLE_SCHEMAS = (SCHEMA,)

PathLike = str | os.PathLike[str]

__all__ = [
    "SCHEMA",
    "LayerRecord",
    "SummaryData",
    "TotalsRecord",
    "load_data",
    "summary_data",
    "to_csv",
    "to_dataframe",
    "to_dict",
    "to_json",
]


def summary_data(stats: SummaryLike | SummaryData) -> SummaryData:
    """Copies the numbers of a summary into a ``SummaryData``.

    Args:
        stats: the summary.

    Returns:
        The record.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> from summaryplus.render.serialize import summary_data
        >>> record = summary_data(summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0))
        >>> record.total_params, record.layers[0].macs
        (10, 8)
    """
    if isinstance(stats, SummaryData):
        return stats  # already plain data
    rows = stats.summary_list
    parents = {id(child): position for position, row in enumerate(rows) for child in row.children}
    layers = tuple(
        _layer_record(row, position, parents.get(id(row))) for position, row in enumerate(rows)
    )
    # Every totals field read under its own name: one field list (fields.TotalsFields).
    totals_fields = {name: getattr(stats, name) for name in TOTALS_FIELDS}
    totals_fields["uncounted_ops"] = dict(stats.uncounted_ops)
    totals_fields["unused_trainable_params"] = tuple(stats.unused_trainable_params)
    totals = TotalsRecord(**totals_fields)
    model = stats.summary_list[0].class_name if stats.summary_list else None
    options = stats.formatting
    table = {
        "depth": options.max_depth,
        "col_names": [column.value for column in options.col_names],
        "col_width": options.col_width,
        "row_settings": sorted(setting.value for setting in options.row_settings),
    }
    return SummaryData(
        model,
        _frozen(stats.input_size),
        linked(layers),
        totals,
        __version__,
        table=table,
        saved_findings=tuple(find(stats)),
    )


def to_dict(stats: SummaryLike | SummaryData) -> dict[str, Any]:
    """The summary as JSON-compatible plain types, in schema ``summaryplus.summary/1``.

    Args:
        stats: the summary.

    Returns:
        ``{"schema", "summaryplus_version", "model", "input_size", "layers", "totals",
        "table"}`` (``table``: depth, columns, column width, row settings).

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> data = summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0).to_dict()
        >>> data["schema"], data["totals"]["total_mult_adds"], data["layers"][0]["output_size"]
        ('summaryplus.summary/1', 8, [1, 2])
    """
    return summary_data(stats).to_dict()


def to_json(
    stats: SummaryLike | SummaryData, path: PathLike | None = None, indent: int | None = 2
) -> str:
    """The summary as JSON text, also written to ``path`` when one is given.

    Args:
        stats: the summary.
        path: a file to write (UTF-8), or None.
        indent: JSON indentation (None for one line).

    Returns:
        The JSON text.

    Example:
        >>> import json
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> text = summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0).to_json()
        >>> json.loads(text)["totals"]["total_params"]
        10
    """
    text = json.dumps(to_dict(stats), indent=indent)
    if path is not None:
        Path(path).write_text(text + "\n", encoding="utf-8")
    return text


def to_csv(stats: SummaryLike | SummaryData, path: PathLike | None = None) -> str:
    """The layers as CSV, one line per row with every ``LayerRecord`` field.

    Shapes and lists are written as JSON text (``[1, 16, 64]``), None as an
    empty cell. Totals are not rows: use ``to_json`` for them.

    Args:
        stats: the summary.
        path: a file to write (UTF-8), or None.

    Returns:
        The CSV text.

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> text = summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0).to_csv()
        >>> text.splitlines()[0].split(",")[:4]
        ['index', 'parent', 'module_path', 'class_name']
    """
    fields = [field.name for field in dataclasses.fields(LayerRecord)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for layer in summary_data(stats).layers:
        writer.writerow({name: _csv_cell(getattr(layer, name)) for name in fields})
    text = buffer.getvalue()
    if path is not None:
        Path(path).write_text(text, encoding="utf-8", newline="")
    return text


def to_dataframe(stats: SummaryLike | SummaryData) -> Any:
    """The layers as a ``pandas.DataFrame`` (pandas is imported here, on demand).

    One row per summary row, one column per ``LayerRecord`` field, indexed by
    ``index``; the totals are in ``frame.attrs["totals"]``.

    Args:
        stats: the summary.

    Returns:
        The ``pandas.DataFrame``.

    Raises:
        ImportError: pandas is not installed (``pip install summaryplus[pandas]``).

    Example:
        >>> from torch import nn
        >>> from summaryplus import summary
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
        >>> frame = summary(model, input_size=(1, 4), verbose=0).to_dataframe()
        >>> int(frame["counted_params"].sum()), frame.attrs["totals"]["total_params"]
        (58, 58)
    """
    try:
        import pandas
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_dataframe() needs pandas: pip install 'summaryplus[pandas]'"
        ) from error
    data = to_dict(stats)
    fields = [field.name for field in dataclasses.fields(LayerRecord)]
    frame = pandas.DataFrame.from_records(data["layers"], columns=fields).set_index("index")
    for column in ("parent", "depth_index", "groups"):
        # Nullable ints: a missing parent must not turn the column into floats.
        frame[column] = frame[column].astype("Int64")
    frame.attrs["totals"] = data["totals"]
    frame.attrs["schema"] = data["schema"]
    return frame


def load_data(source: PathLike | Mapping[str, Any]) -> SummaryData:
    """The plain data of a saved summary (``summaryplus.load_summary`` returns it
    with the views; see there for the arguments and errors)."""
    if isinstance(source, Mapping):
        data: Any = source
    elif isinstance(source, (str, os.PathLike)):
        # Within the JSON size and nesting budget (a file someone sent).
        data = load_json_file(Path(source), ValueError, subject="the saved summary")
    else:
        raise TypeError(
            "source must be a path to a JSON file (str or os.PathLike) or a dict from "
            f"to_dict(), got {type(source).__name__}"
        )
    if not isinstance(data, Mapping):
        raise ValueError(f"a saved summary is a JSON object, got {type(data).__name__}")
    schema = data.get("schema")
    if schema not in _READABLE_SCHEMAS:
        accepted = ", ".join(repr(name) for name in _READABLE_SCHEMAS)
        raise ValueError(f"schema={schema!r} is not readable; accepted values: {accepted}")
    _require(data, ("summaryplus_version", "model", "input_size", "layers", "totals"), "summary")
    if not isinstance(data["layers"], (list, tuple)):
        raise ValueError(f"layers must be a list, got {type(data['layers']).__name__}")
    if not isinstance(data["model"], str):
        raise ValueError(f"model must be a str, got {type(data['model']).__name__}")
    rows = [
        _loaded_fields(layer, f"layers[{position}]")
        for position, layer in enumerate(data["layers"])
    ]
    check_tree(rows)
    layers = linked(tuple(LayerRecord(**row) for row in rows))
    totals_fields = _fields_of(TotalsRecord, data["totals"], "totals")
    check_record_fields(TotalsRecord, totals_fields, "totals")
    totals = TotalsRecord(**totals_fields)
    return SummaryData(
        model=data["model"],
        input_size=_frozen(data["input_size"]),
        layers=layers,
        totals=totals,
        summaryplus_version=str(data["summaryplus_version"]),
        schema=str(schema),
        table=_table_settings(data.get("table")),
        saved_findings=_findings(data.get("findings")),
    )


def _findings(data: Any) -> tuple[Finding, ...] | None:
    """The saved findings, checked (None when the file has none)."""
    if data is None:
        return None
    if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
        raise ValueError("findings: not a list of findings")
    return tuple(Finding.from_dict(item) for item in data)


def _loaded_fields(layer: Any, where: str) -> dict[str, Any]:
    """A saved row's fields, checked (``trainable`` also as the old strings)."""
    fields = _fields_of(LayerRecord, layer, where)
    try:
        fields["trainable"] = trainable_from_json(fields["trainable"])
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    check_record_fields(LayerRecord, fields, where)
    return fields


def _table_settings(table: Any) -> dict[str, Any] | None:
    """The saved table settings, checked (None when the file has none)."""
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ValueError(f"table must be a JSON object, got {type(table).__name__}")
    try:
        _require(table, ("depth", "col_names", "col_width", "row_settings"), "table")
        check_table(table)
        checked = {
            "depth": table["depth"],
            "col_names": [ColumnSettings(name).value for name in table["col_names"]],
            "col_width": table["col_width"],
            "row_settings": [RowSettings(name).value for name in table["row_settings"]],
        }
    except ValueError as error:
        raise ValueError(f"table: not valid table settings ({error})") from None
    return checked


def _layer_record(row: LayerLike, position: int, parent: int | None) -> LayerRecord:
    # Every row field under its own name, lists as tuples (records compare and hash).
    values = {name: _frozen(getattr(row, name)) for name in ROW_FIELDS}
    return LayerRecord(index=position, parent=parent, **values)


def _fields_of(cls: type, data: Any, where: str) -> dict[str, Any]:
    """The values of ``cls``' fields in ``data`` (extra keys from newer writers ignored)."""
    fields = dataclasses.fields(cls)
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} must be a JSON object, got {type(data).__name__}")
    required = [f.name for f in fields if f.default is dataclasses.MISSING]
    _require(data, required, where)
    return {f.name: _frozen(data[f.name]) for f in fields if f.name in data}


def _require(data: Mapping[str, Any], names: Iterable[str], where: str) -> None:
    missing = [name for name in names if name not in data]
    if missing:
        raise ValueError(f"{where} lacks the field(s) {', '.join(missing)}")


def _frozen(value: Any) -> Any:
    """Lists (and torch.Size) as tuples, recursively, so records compare and hash."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, Mapping):
        return {str(key): _frozen(item) for key, item in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # a dtype or another object in input_size: its name


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (tuple, list, dict)):
        return csv_cell(json.dumps(_plain(value)))
    return csv_cell(value)  # names: no formula, no control character
