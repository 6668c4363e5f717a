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
from typing import TYPE_CHECKING, Any

from ._plain import json_plain as _plain
from .cells import FormattingOptions, layer_name
from .enums import ColumnSettings, RowSettings
from .errors import read_only_message
from .layer_info import intensity
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


@dataclass(frozen=True)
class LayerRecord:
    """One row of a summary as plain values (``LayerInfo`` without the module).

    The field names are ``LayerInfo``'s; ``index`` is the row's position in
    ``summary_list`` and ``parent`` the index of its parent row (None for the
    model itself). See ``LayerInfo`` for what each number means.
    """

    index: int
    parent: int | None
    module_path: str
    class_name: str
    var_name: str
    depth: int
    depth_index: int | None
    executed: bool
    is_recursive: bool
    is_container: bool
    is_leaf_layer: bool
    input_size: tuple[int | str, ...]
    output_size: tuple[int | str, ...]
    input_dtypes: tuple[str, ...]
    output_dtypes: tuple[str, ...]
    output_bytes: int
    kernel_size: tuple[int, ...] | int | None
    groups: int | None
    num_params: int
    trainable_params: int
    param_bytes: int
    counted_params: int
    counted_trainable_params: int
    counted_param_bytes: int
    subtree_params: int
    subtree_trainable_params: int
    subtree_param_bytes: int
    own_macs: int
    macs: int
    flops: int
    own_activation_bytes: int
    activation_bytes: int
    trainable: str
    contains_lazy_param: bool
    # Added within schema 1 (older files load with the default).
    macs_partial: bool = False
    # Backward MACs are counted for the whole model (``training_flops``), not per
    # layer: None. Kept so readers of schema 1 find the key.
    own_backward_macs: int | None = None
    # Bytes moved (eager: every op; fused: matmul/attention/embedding family),
    # own and subtree, and the own matmul-family ops as (dtype, MACs, bytes,
    # calls); added within schema 1 (older files: 0 and none).
    own_bytes_moved: int = 0
    own_fused_bytes_moved: int = 0
    bytes_moved: int = 0
    fused_bytes_moved: int = 0
    own_op_points: tuple[tuple[str, int, int, int], ...] = ()
    input_shapes: tuple[tuple[int | str, ...], ...] | None = None
    output_shapes: tuple[tuple[int | str, ...], ...] | None = None

    @property
    def intensity(self) -> float:
        """FLOPs per fused byte moved (see ``LayerInfo.intensity``)."""
        return intensity(self.flops, self.fused_bytes_moved)

    @property
    def children(self) -> tuple[LayerRecord, ...]:
        """The child rows (linked when the record is made; not a field: JSON
        keeps the ``parent`` index)."""
        linked: tuple[LayerRecord, ...] = self.__dict__.get("_children", ())
        return linked

    def get_layer_name(self, show_var_name: bool, show_depth: bool) -> str:
        """``Class (var): depth-idx``, as the table names the row."""
        return layer_name(self, show_var_name, show_depth)


@dataclass(frozen=True)
class TotalsRecord:
    """The model totals of a summary (``ModelStatistics`` attribute names)."""

    total_params: int
    trainable_params: int
    non_trainable_params: int
    total_param_bytes: int
    total_buffers: int
    total_buffer_bytes: int
    total_mult_adds: int
    total_flops: int
    total_backward_mult_adds: int | None
    macs_complete: bool
    uncounted_ops: dict[str, int]
    total_input: int
    total_output_bytes: int
    activation_bytes: int
    grad_enabled: bool
    executed: bool
    # Added within schema 1: files written before them load with these defaults.
    trainable_param_bytes: int = 0
    largest_trainable_param_bytes: int = 0
    local_params: int = 0
    local_param_bytes: int = 0
    local_trainable_param_bytes: int = 0
    # Mixture of experts (0 and None for a dense model).
    expert_params: int = 0
    active_params_per_token: int | None = None
    # Weights masked out by torch.nn.utils.prune (not in total_params).
    pruned_params: int = 0
    # Modules with uninitialized lazy parameters: total_params is a lower bound.
    uninitialized_layers: int = 0
    # Train mode, see ModelStatistics (None: not measured).
    gradient_params: int | None = None
    gradient_param_bytes: int | None = None
    largest_gradient_bytes: int | None = None
    local_gradient_param_bytes: int | None = None
    unused_trainable_params: tuple[str, ...] = ()
    output_held_bytes: int | None = None
    output_grad_bytes: int | None = None
    # Bytes the forward's ops moved (eager and fused).
    total_bytes_moved: int = 0
    total_fused_bytes_moved: int = 0

    @property
    def total_intensity(self) -> float:
        """FLOPs per fused byte moved, for the whole forward."""
        return intensity(self.total_flops, self.total_fused_bytes_moved)


@dataclass(frozen=True)
class SummaryData:
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

    def __getattr__(self, name: str) -> Any:
        # Only called for names the record lacks: the totals read like attributes.
        totals = self.__dict__.get("totals")
        if name.startswith("_") or not hasattr(totals, name):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(totals, name)

    @property
    def summary_list(self) -> tuple[LayerRecord, ...]:
        """The rows, under ``ModelStatistics``' name."""
        return self.layers

    @property
    def formatting(self) -> FormattingOptions:
        """Table settings for the views: the saved ``table``, or torchinfo's
        defaults for files without one (depth 3; output shape, Param # and, when
        a forward ran, Mult-Adds)."""
        table = self.table or {
            "depth": 3,
            "col_names": ["output_size", "num_params"]
            + (["mult_adds"] if self.totals.executed else []),
            "col_width": 25,
            "row_settings": ["depth"],
        }
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


if TYPE_CHECKING:
    # mypy proves that loaded rows are what the views take (loaded.py proves it
    # for loaded summaries, model_statistics.py and layer_info.py for live ones).
    def _loaded_row(row: LayerRecord) -> LayerLike:
        return row
