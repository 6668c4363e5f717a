"""Records: summaries and their rows as plain, frozen data (no module
references), what ``to_dict``/JSON write and ``load_summary`` reads back.

Data only: ``SummaryData`` has no views; ``loaded.SummaryRecord`` (what
``load_summary`` and ``to_record()`` return) adds them, a layer above the
renderers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ._plain import json_plain as _plain
from .cells import FormattingOptions
from .enums import ColumnSettings, RowSettings
from .errors import read_only_message
from .fields import TOTALS_FIELDS, RowFields, SummaryFields, TotalsFields, declared, defaults
from .protocols import LayerLike as LayerLike
from .protocols import SummaryLike as SummaryLike

if TYPE_CHECKING:
    from .findings import Finding

__all__ = [
    "SCHEMA", "LayerLike", "LayerRecord", "SummaryData", "SummaryLike", "TotalsRecord", "linked",
    "refuse_writes",
]

#: The schema name and version written into every export.
SCHEMA = "summaryplus.summary/1"


def _record_class(name: str, fields: type, extra: tuple[tuple[str, type], ...], doc: str) -> type:
    """A frozen dataclass of the fields ``fields`` declares (after ``extra``), in
    their order, with their declared values as defaults."""
    declared_values = defaults(fields)
    spec: list[Any] = [*extra]
    for field_name, annotation in declared(fields).items():
        if field_name in declared_values:
            spec.append((field_name, annotation,
                         dataclasses.field(default=declared_values[field_name])))
        else:
            spec.append((field_name, annotation))
    return dataclasses.make_dataclass(
        name, spec, bases=(fields,), frozen=True,
        namespace={"__doc__": doc, "__module__": __name__},
    )


_LAYER_DOC = """One row of a summary as plain values (``LayerInfo`` without the module).

    The fields are ``fields.RowFields``, in order; ``index`` is the row's
    position in ``summary_list`` and ``parent`` the index of its parent row
    (None for the model itself).
    """
_TOTALS_DOC = """The model totals of a summary (``fields.TotalsFields``, in order)."""

if TYPE_CHECKING:
    # What mypy sees: the declared fields, through the bases.
    class LayerRecord(RowFields):
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
        index: int
        parent: int | None
        input_size: tuple[int | str, ...]
        output_size: tuple[int | str, ...]

        def __init__(self, **fields: Any) -> None: ...

    class TotalsRecord(TotalsFields):
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

        def __init__(self, **fields: Any) -> None: ...

else:
    LayerRecord = _record_class("LayerRecord", RowFields, (("index", int), ("parent", int | None)),
                                _LAYER_DOC)
    TotalsRecord = _record_class("TotalsRecord", TotalsFields, (), _TOTALS_DOC)


@dataclass(frozen=True)
class SummaryData(SummaryFields):
    """A summary as plain data: what ``to_dict`` writes and ``load_summary`` reads
    (``loaded.SummaryRecord``, this data with the views, is what it returns).

    Totals read as attributes (``record.total_params``), as on
    ``ModelStatistics``; ``layers`` (also ``summary_list``) are
    ``LayerRecord``s in call order.

    Attributes:
        model: class name of the model (None for an empty summary).
        input_size: the input shapes the summary ran with.
        layers: the rows.
        totals: the totals.
        saved_findings: the findings made with the model when it was saved
            (None: an older file; ``findings()`` then runs the model-free rules).
        table: how the summary was shown (``depth``, ``col_names``,
            ``col_width``, ``row_settings``); None in files written before it
            was saved, which show torchinfo's defaults.
        summaryplus_version: the version that wrote it.
        schema: the schema it was written in.
    """

    model: str | None
    input_size: Any
    layers: tuple[LayerRecord, ...]
    totals: TotalsRecord
    summaryplus_version: str
    schema: str = SCHEMA
    # How the summary was shown (depth, columns, column width, row settings);
    # added within schema 1: None for older files, which show torchinfo's defaults.
    table: Mapping[str, Any] | None = None
    saved_findings: tuple[Finding, ...] | None = None

    def __post_init__(self) -> None:
        # The totals read as attributes (``record.total_params``), as on
        # ModelStatistics; the rows under ModelStatistics' name too.
        for name in TOTALS_FIELDS:
            object.__setattr__(self, name, getattr(self.totals, name))
        object.__setattr__(self, "summary_list", self.layers)
        object.__setattr__(self, "formatting", self._table_options())

    def _table_options(self) -> FormattingOptions:
        """Table settings for the views: the saved ``table``, or torchinfo's
        defaults for files without one (depth 3; output shape, Param # and, when
        a forward ran, Mult-Adds)."""
        table = self.table
        if table is None:
            options = FormattingOptions.default()
            if self.totals.executed:
                options.col_names = (*options.col_names, ColumnSettings.MULT_ADDS)
        else:
            options = FormattingOptions(
                int(table["depth"]),
                0,
                tuple(ColumnSettings(name) for name in table["col_names"]),
                int(table["col_width"]),
                {RowSettings(name) for name in table["row_settings"]},
            )
        options.set_layer_name_width(self.layers)
        options.memory_holds_activations = self.totals.grad_enabled
        return options

    def __iter__(self) -> Iterator[LayerRecord]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-compatible plain types (lists, dicts, numbers, str)."""
        return {
            "schema": self.schema,
            "summaryplus_version": self.summaryplus_version,
            "model": self.model,
            "input_size": _plain(self.input_size),
            "layers": [_layer_json(layer) for layer in self.layers],
            "totals": _plain(dataclasses.asdict(self.totals)),
            **({} if self.table is None else {"table": _plain(dict(self.table))}),
            **({} if self.saved_findings is None else
               {"findings": [finding.to_dict() for finding in self.saved_findings]}),
        }



# The Trainable cell as JSON: booleans where it is one (None without parameters).
TRAINABLE_JSON: dict[str, bool | str | None] = {
    "True": True, "False": False, "Partial": "partial", "--": None
}


def trainable_from_json(value: object) -> str:
    """The Trainable text of a saved ``trainable``: ``true``/``false``/``"partial"``/
    ``null``, or the strings older files hold (``"True"``, ``"--"``).

    Raises:
        ValueError: anything else.
    """
    for text, saved in TRAINABLE_JSON.items():
        if value is saved or value == text or (isinstance(value, str) and value == saved):
            return text
    raise ValueError(f"trainable={value!r} is not valid; accepted values: true, false, "
                     '"partial", null')


def _layer_json(layer: LayerRecord) -> dict[str, Any]:
    data: dict[str, Any] = _plain(dataclasses.asdict(layer))
    data["trainable"] = TRAINABLE_JSON.get(layer.trainable, layer.trainable)
    return data


def linked(layers: tuple[LayerRecord, ...]) -> tuple[LayerRecord, ...]:
    """Fills each record's ``children`` from the ``parent`` indices."""
    children: dict[int, list[LayerRecord]] = {}
    for layer in layers:
        if layer.parent is not None:
            children.setdefault(layer.parent, []).append(layer)
    for position, layer in enumerate(layers):
        object.__setattr__(layer, "_children", tuple(children.get(position, ())))
    return layers




def refuse_writes(kind: type, what: str) -> None:
    """Makes ``kind`` (a frozen dataclass) refuse writes with the live rows' wording
    (``what`` says which object is read-only); still a ``FrozenInstanceError``
    (an ``AttributeError``). Called after the class is made: a frozen dataclass
    refuses its own assignment."""

    def refuse_set(record: Any, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(read_only_message(what, name))

    def refuse_delete(record: Any, name: str) -> None:
        raise dataclasses.FrozenInstanceError(read_only_message(what, name, deleting=True))

    kind.__setattr__ = refuse_set  # type: ignore[method-assign,assignment]
    kind.__delattr__ = refuse_delete  # type: ignore[method-assign,assignment]


refuse_writes(LayerRecord, "the rows of a summary record (loaded, or to_record()) are read-only")
refuse_writes(TotalsRecord, "the totals of a summary record are read-only")
refuse_writes(SummaryData, "a summary record (loaded, or to_record()) is read-only")


