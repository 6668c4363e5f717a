"""The fields of a summary, declared once: ``RowFields`` (one row) and
``TotalsFields`` (the model totals), with ``SummaryFields`` (rows, totals and
table settings) on top.

Every kind of row and summary inherits them, so a number is added in one
place and mypy checks every read of it:

* the live rows (``layer_info.LayerInfo``, read-only once the summary is
  built) keep them in slots;
* the loaded rows and totals (``records.LayerRecord``, ``records.TotalsRecord``)
  are frozen dataclasses made from them (their fields, in this order, are the
  keys of the JSON schema ``summaryplus.summary/1``);
* the summaries (``model_statistics.ModelStatistics``,
  ``records.SummaryData``) are ``SummaryFields``, which every view reads.

A field with a value here is one that was added within schema 1: a file
written before it loads with that value. The others are required in a file.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from .cells import FormattingOptions, layer_name


class RowFields:
    """One call of one module (or a container that was not called itself).

    Counts are elements, MACs are multiply-accumulates, bytes are bytes. See
    ``LayerInfo`` for how each is measured. ``children`` (the rows below) and
    ``intensity`` are not fields: JSON keeps each row's ``parent`` index.
    """

    __slots__ = ()

    module_path: str  # dotted name from the model root ("encoder.layer.0")
    class_name: str
    var_name: str  # the name in the parent module
    depth: int
    depth_index: int | None  # the row's position among its depth (torchinfo's "1-2")
    executed: bool  # the module was called
    is_recursive: bool  # the module has an earlier row
    is_container: bool  # a container shown for its children, never called itself
    is_leaf_layer: bool
    input_size: Sequence[int | str]  # the first input tensor's shape (ragged dims named)
    output_size: Sequence[int | str]
    input_dtypes: Sequence[str]
    output_dtypes: Sequence[str]
    output_bytes: int
    kernel_size: Sequence[int] | int | None
    groups: int | None  # a convolution's groups
    # Parameters the module holds (its subtree, each tensor once).
    num_params: int
    trainable_params: int
    param_bytes: int
    # Parameters this row is the first to account for (tied weights and reused
    # modules count zero the second time; they add up to the totals), and the
    # same summed over the row's subtree.
    counted_params: int
    counted_trainable_params: int
    counted_param_bytes: int
    subtree_params: int
    subtree_trainable_params: int
    subtree_param_bytes: int
    own_macs: int  # the module's own code, outside its children
    macs: int  # the whole subtree
    flops: int  # 2 x macs
    own_activation_bytes: int  # saved for backward while the row's own code ran
    activation_bytes: int  # the same over the subtree (mode="train")
    trainable: str  # "True", "False", "Partial", or "--" without parameters
    contains_lazy_param: bool  # uninitialized lazy parameters: no count yet
    # Added within schema 1.
    macs_partial: bool = False  # ops without a formula ran: macs is a lower bound
    # Backward MACs are counted for the whole model (training_flops), not per
    # row: always None, kept so readers of schema 1 find the key.
    own_backward_macs: int | None = None
    # Bytes the ops read and wrote (capture/traffic.py): every op (eager) and
    # the matmul/attention/embedding family only (fused); own code and subtree.
    own_bytes_moved: int = 0
    own_fused_bytes_moved: int = 0
    bytes_moved: int = 0
    fused_bytes_moved: int = 0
    # The own matmul-family ops as (compute dtype, MACs, bytes moved, calls).
    own_op_points: tuple[tuple[str, int, int, int], ...] = ()
    # Every shape of a call that took or returned several tensors (else None).
    input_shapes: Sequence[Sequence[int | str]] | None = None
    output_shapes: Sequence[Sequence[int | str]] | None = None

    @property
    def children(self) -> Sequence[RowFields]:
        """The child rows (linked when a record is made; live rows keep a list)."""
        linked: Sequence[RowFields] = getattr(self, "_children", ())
        return linked

    @property
    def intensity(self) -> float:
        """FLOPs per fused byte moved, of the subtree (0.0 when no matmul,
        attention or embedding-family op moved any)."""
        return intensity(self.flops, self.fused_bytes_moved)

    def get_layer_name(self, show_var_name: bool, show_depth: bool) -> str:
        """``Class (var): depth-idx``, as torchinfo names a row."""
        return layer_name(self, show_var_name, show_depth)


class TotalsFields:
    """The model totals (``ModelStatistics``' attribute names)."""

    total_params: int
    trainable_params: int
    non_trainable_params: int
    total_param_bytes: int
    total_buffers: int  # never mixed into params
    total_buffer_bytes: int
    total_mult_adds: int  # MACs of the forward
    total_flops: int  # 2 x total_mult_adds
    total_backward_mult_adds: int | None  # when a backward was counted
    macs_complete: bool  # every op that ran had a formula or is known to have none
    uncounted_ops: dict[str, int]  # ops without a formula: name -> calls
    total_input: int  # bytes of the inputs
    total_output_bytes: int
    activation_bytes: int  # saved for backward (mode="train")
    grad_enabled: bool
    executed: bool  # a forward ran
    # Added within schema 1.
    trainable_param_bytes: int = 0
    largest_trainable_param_bytes: int = 0
    # This rank's shards of DTensor parameters (FSDP2, tensor parallel); the
    # totals for a model that is not sharded.
    local_params: int = 0
    local_param_bytes: int = 0
    local_trainable_param_bytes: int = 0
    # Mixture of experts (0 and None for a dense model).
    expert_params: int = 0
    active_params_per_token: int | None = None
    pruned_params: int = 0  # masked out by torch.nn.utils.prune (not in total_params)
    uninitialized_layers: int = 0  # lazy modules: total_params is a lower bound
    # Train mode: what the step's backward reaches (None: not measured).
    gradient_params: int | None = None
    gradient_param_bytes: int | None = None
    largest_gradient_bytes: int | None = None
    local_gradient_param_bytes: int | None = None
    unused_trainable_params: tuple[str, ...] = ()
    output_held_bytes: int | None = None  # outputs beyond the saved activations
    output_grad_bytes: int | None = None  # their gradients
    # Bytes the forward's ops moved (eager and fused).
    total_bytes_moved: int = 0
    total_fused_bytes_moved: int = 0

    @property
    def total_intensity(self) -> float:
        """FLOPs per fused byte moved, for the whole forward."""
        return intensity(self.total_flops, self.total_fused_bytes_moved)


class SummaryFields(TotalsFields):
    """What every view reads of a summary, live (``ModelStatistics``) or loaded
    (``records.SummaryData``): its rows, its totals, how its table shows."""

    summary_list: Sequence[RowFields]
    formatting: FormattingOptions
    input_size: Any


def intensity(flops: int, fused_bytes: int) -> float:
    """FLOPs per byte: the one definition of the ``intensity`` column."""
    return flops / fused_bytes if fused_bytes > 0 else 0.0


def trainable_text(params: int, trainable: int) -> str:
    """The Trainable cell: "True", "False", "Partial", or "--" without parameters."""
    if params == 0:
        return "--"
    if trainable == 0:
        return "False"
    return "True" if trainable == params else "Partial"


def declared(fields: type) -> dict[str, Any]:
    """The fields ``fields`` declares (itself, not its bases), in order, with
    their types resolved."""
    hints = typing.get_type_hints(fields, globalns=_TYPES, include_extras=False)
    return {name: hints[name] for name in inspect.get_annotations(fields)}


def defaults(fields: type) -> Mapping[str, Any]:
    """The fields of ``fields`` that have a value (those added within schema 1)."""
    return {name: fields.__dict__[name] for name in declared(fields) if name in fields.__dict__}


# What the annotations name (resolved once the package's classes exist).
_TYPES: dict[str, Any] = {"Sequence": Sequence, "Any": Any, "RowFields": RowFields,
                          "FormattingOptions": FormattingOptions}

#: The row fields and the totals, in their declared order (the JSON's).
ROW_FIELDS: tuple[str, ...] = tuple(inspect.get_annotations(RowFields))
TOTALS_FIELDS: tuple[str, ...] = tuple(inspect.get_annotations(TotalsFields))
