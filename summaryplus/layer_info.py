"""``LayerInfo``: what one module call did, as plain data.

One row of a summary. It holds numbers and shapes only; ``formatting`` and
``render`` turn them into text. Attribute names follow torchinfo 1.8.0.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.jit import ScriptModule

from ._tensors import dtype_name, surviving_numel
from .cells import FormattingOptions, num_params_cell, params_percent_cell, row_values
from .enums import ColumnSettings
from .errors import read_only_message
from .fields import ROW_FIELDS, RowFields, declared, defaults, trainable_text
from .values import first_shape, total_bytes


@dataclass(frozen=True)
class InnerParam:
    """One parameter tensor of a layer (the rows ``verbose=2`` prints)."""

    name: str
    shape: tuple[int, ...]
    numel: int
    trainable: bool


class LayerInfo(RowFields):
    """Statistics of one call of one module (or of a container that was not called).

    The numbers are ``fields.RowFields`` (declared there, once, for live and
    loaded rows). torchinfo's attributes besides: ``module``, ``layer_id``,
    ``parent_info``, ``children`` (direct child rows), ``inner_layers``.
    Added by summaryplus: ``expert_tokens`` (rows a grouped GEMM gave each
    expert, read from its offsets on real tensors; None without data).

    A row is filled while the capture runs and read-only once the summary is
    built (``freeze_rows``, ``BuiltLayerInfo``): the numbers cannot change
    after the fact, and no row reads its module again.
    """

    # A summary makes one LayerInfo per module call, so rows are slotted (small,
    # quick to fill) and __init__ sets only what every row needs at once. A slot
    # not set yet reads as its default (``__getattr__``): the field's declared
    # value or zero, the shape and dtype lists (from the tensor seen, or empty),
    # a leaf's children (a new empty list), the module's own ``kernel_size``
    # and ``groups``, the dotted ``module_path`` from the parent's; ``flops``,
    # ``trainable`` and ``own_op_points`` follow the counts until the row is
    # built. ``vars(row)`` gives every attribute (the ``__dict__`` property).
    __slots__ = (
        *ROW_FIELDS,
        # A container row shown again under the same caller: torchinfo shows
        # every appearance with the last one's index (``set_depth_indices``).
        "_index_from",
        # The one tensor a call took or returned, as the capture saw it (the
        # common case; the list attributes are made from these when read).
        "_input_dtype",
        "_input_shape",
        "_op_points",
        "_output_dtype",
        "_output_shape",
        "children",
        "expert_tokens",
        "inner_layers",
        "layer_id",
        "module",
        "parent_info",
    )  # fmt: skip

    _input_shape: torch.Size | None
    _index_from: LayerInfo | None
    _input_dtype: torch.dtype | None
    _output_shape: torch.Size | None
    _output_dtype: torch.dtype | None
    children: list[LayerInfo]  # direct child rows
    # The live rows hold lists (records: tuples).
    input_size: list[int | str]
    output_size: list[int | str]
    input_dtypes: list[str]
    output_dtypes: list[str]
    input_shapes: list[list[int | str]] | None
    output_shapes: list[list[int | str]] | None
    kernel_size: list[int] | int | None
    inner_layers: dict[str, InnerParam]
    layer_id: int
    module: nn.Module
    parent_info: LayerInfo | None
    # Rows a grouped GEMM (mixture of experts) gave each group, read from its
    # offsets on real tensors (None when none ran, or without data).
    expert_tokens: tuple[int, ...] | None
    # The own matmul-family ops while the capture runs: (compute dtype, MACs,
    # bytes) -> calls (``own_op_points`` once built); None before the first.
    _op_points: dict[tuple[str, int, int], int] | None

    def __init__(
        self,
        var_name: str,
        module: nn.Module,
        depth: int,
        parent_info: LayerInfo | None = None,
        *,
        module_path: str = "",
        is_container: bool = False,
    ) -> None:
        self.layer_id = id(module)
        self.module = module
        name = _CLASS_NAMES.get(type(module))
        self.class_name = name if name is not None else _class_name(module)
        self.var_name = var_name
        if module_path:
            self.module_path = module_path
        self.depth = depth
        self.parent_info = parent_info
        self.is_container = is_container
        children = module._modules
        # (The first child decides the usual case without a generator.)
        self.is_leaf_layer = not children or (
            next(iter(children.values())) is None
            and all(child is None for child in children.values())
        )
        if not self.is_leaf_layer:
            self.children = []  # a leaf's list is made if it is ever read
        # Read for every row by the statistics and the table: set, to skip
        # __getattr__ (an AttributeError raised and caught) there.
        self.executed = self.macs_partial = self.contains_lazy_param = False
        self.own_macs = self.own_activation_bytes = 0
        self.own_bytes_moved = self.own_fused_bytes_moved = 0
        self.input_shapes = self.output_shapes = self._index_from = None
        self._op_points = None  # made by the first op with MACs (most rows have none)

    if not TYPE_CHECKING:  # mypy sees the declared fields only: a typo fails it

        def __getattr__(self, name: str) -> Any:
            # Called only for a slot that was never set (and unknown names).
            if name in _DEFAULTS:
                return _DEFAULTS[name]
            value: Any
            if name in _FOLLOWING:  # follows the counts until the row is built
                return _FOLLOWING[name](self)
            if name in _FROM_TENSOR:
                shape_slot, dtype_slot = _FROM_TENSOR[name]
                if name.endswith("size"):
                    shape = getattr(self, shape_slot)
                    value = [] if shape is None else list(shape)
                else:
                    dtype = getattr(self, dtype_slot)
                    value = [] if dtype is None else [dtype_name(dtype)]
            elif name == "children":
                value = []
            elif name == "inner_layers":
                value = {}
            elif name == "module_path":
                # Dotted path from the root: the parent's and this row's var_name.
                parent = self.parent_info
                if parent is None:
                    value = ""
                else:
                    prefix = parent.module_path
                    value = f"{prefix}.{self.var_name}" if prefix else self.var_name
            elif name == "kernel_size":
                value = _kernel_size(self.module.__dict__.get("kernel_size"))
            elif name == "groups":
                value = _groups(self.module.__dict__.get("groups"), self.module)
            else:
                raise AttributeError(f"'LayerInfo' object has no attribute '{name}'")
            object.__setattr__(self, name, value)
            return value

    @property
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        """Every attribute with its value, as ``vars(row)`` gives for a plain
        object (a new dict: changing it changes nothing)."""
        return {name: getattr(self, name) for name in LayerInfo.__slots__ if name[0] != "_"}

    # ------------------------------------------- torchinfo 1.8.0's row methods
    # Code written against torchinfo calls these. Rows hold data: each one is a
    # thin wrapper over the renderer (``formatting``) or the capture's helpers.
    def num_params_to_str(self, reached_max_depth: bool = False) -> str:
        """The Param # cell of this row."""
        return num_params_cell(self, reached_max_depth)

    def macs_to_str(self, reached_max_depth: bool = False) -> str:
        """The Mult-Adds cell of this row (its subtree's MACs)."""
        return _cell(self, ColumnSettings.MULT_ADDS, reached_max_depth, row_values)

    def params_percent(
        self, total_params: int, reached_max_depth: bool = False, precision: int = 2
    ) -> str:
        """The Param % cell of this row, against ``total_params``."""
        return params_percent_cell(self, total_params, reached_max_depth, precision)

    def leftover_params(self) -> int:
        """Parameters the module holds itself, not through a child row."""
        children = sum(child.num_params for child in self.children if not child.is_recursive)
        return max(self.num_params - children, 0)

    def leftover_trainable_params(self) -> int:
        """Trainable parameters the module holds itself, not through a child row."""
        children = sum(
            child.trainable_params for child in self.children if not child.is_recursive
        )
        return max(self.trainable_params - children, 0)

    def check_recursive(self, layer_ids: set[int]) -> None:
        """Marks the row recursive when its module already has a row in ``layer_ids``."""
        if self.layer_id in layer_ids:
            self.is_recursive = True

    def calculate_num_params(self) -> None:
        """Kept for torchinfo code: parameter columns are filled when the summary
        is built (tied weights counted once), so there is nothing left to do."""

    def calculate_macs(self) -> None:
        """Kept for torchinfo code: MACs are counted op by op while the forward
        runs, so there is nothing left to do."""

    @staticmethod
    def calculate_size(inputs: Any, batch_dim: int | None = None) -> tuple[list[int | str], int]:
        """The first tensor's shape in ``inputs`` and the bytes of all of them.

        ``batch_dim`` is accepted for torchinfo's signature; shapes are reported as
        the tensors have them.
        """
        return first_shape(inputs), total_bytes(inputs)

    @staticmethod
    def get_param_count(module: nn.Module, name: str, param: torch.Tensor) -> tuple[int, str]:
        """Elements of one parameter and the name to show for it. A pruned weight
        (``weight_orig`` beside a ``weight_mask`` buffer) counts the elements that
        survive the mask, under its plain name."""
        return surviving_numel(module, name, param)

    @staticmethod
    def get_kernel_size(module: nn.Module) -> list[int] | int | None:
        """The module's ``kernel_size``, as the Kernel Shape column shows it."""
        return _kernel_size(module.__dict__.get("kernel_size"))

    def __repr__(self) -> str:
        return f"{self.class_name}: {self.depth}"


def _cell(row: LayerInfo, column: ColumnSettings, reached_max_depth: bool, values: Any) -> str:
    options = FormattingOptions(0, 0, (column,), 25, set())
    return str(values(options, row, reached_max_depth, 0, (column,))[column])


def _own_op_points(row: LayerInfo) -> tuple[tuple[str, int, int, int], ...]:
    # Identical ops merged: a roofline's per-op input.
    points = row._op_points
    return tuple(sorted((*key, calls) for key, calls in points.items())) if points else ()


# Fields computed from the counts while the capture runs (never kept: the
# counts still change); ``freeze_rows`` sets them.
_FOLLOWING: dict[str, Any] = {
    "flops": lambda row: 2 * row.macs,
    "trainable": lambda row: trainable_text(row.num_params, row.trainable_params),
    "own_op_points": _own_op_points,
}
# List attributes made, when first read, from a single tensor's shape or dtype.
_FROM_TENSOR = {
    "input_size": ("_input_shape", "_input_dtype"),
    "input_dtypes": ("_input_shape", "_input_dtype"),
    "output_size": ("_output_shape", "_output_dtype"),
    "output_dtypes": ("_output_shape", "_output_dtype"),
}
# Read from the module or the parent when first asked (``__getattr__``).
_FROM_MODULE = ("module_path", "kernel_size", "groups")


def _unset_value(annotation: Any) -> Any:
    """What a field of this type reads as before it is set: 0, False or None;
    ``_NO_DEFAULT`` for the fields every row sets at creation (names, depth)."""
    if annotation is int:
        return 0
    if annotation is bool:
        return False
    if type(None) in typing.get_args(annotation):
        return None
    return _NO_DEFAULT


_NO_DEFAULT = object()
# What an unset slot reads as: the field's declared value (added within schema
# 1), else zero, False or None by its declared type (``fields.RowFields``:
# a field added there needs no line here); the private slots None.
_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(("_input_dtype", "_input_shape", "_output_dtype", "_output_shape",
                     "_index_from", "expert_tokens")),
    **{
        name: value
        for name, annotation in declared(RowFields).items()
        if name not in _FOLLOWING and name not in _FROM_TENSOR and name not in _FROM_MODULE
        and (value := defaults(RowFields).get(name, _unset_value(annotation))) is not _NO_DEFAULT
    },
}


# Class -> display name, for classes whose name does not depend on the instance.
_CLASS_NAMES: dict[type, str] = {}


def _class_name(module: nn.Module) -> str:
    """The module's own class name: a scripted module's original one, and the
    wrapped class for classes that FSDP2 (``fully_shard``) and ``replicate``
    create on the fly (``FSDPLinear`` is a ``Linear``)."""
    if isinstance(module, ScriptModule):
        return str(module.original_name)
    cls = type(module)
    bases = cls.__bases__
    name = cls.__name__
    if (
        len(bases) == 2
        and bases[0].__module__.startswith("torch.distributed")
        and name.endswith(bases[1].__name__)
    ):
        name = bases[1].__name__
    _CLASS_NAMES[cls] = name
    return name


def _kernel_size(kernel: Any) -> list[int] | int | None:
    # Read from the instance's __dict__: nn.Module.__getattr__ makes a miss costly.
    if isinstance(kernel, int):
        return kernel
    if isinstance(kernel, (tuple, list)) and all(isinstance(k, int) for k in kernel):
        return list(kernel)
    return None


def _groups(groups: Any, module: nn.Module) -> int | None:
    return groups if isinstance(groups, int) and "weight" in module._parameters else None



_READ_ONLY = "summary rows are read-only once the summary is built"


class BuiltLayerInfo(LayerInfo):
    """A row of a built summary: the same fields, read-only.

    Frozen by its class rather than by a flag on every row: a ``__setattr__``
    that checks a flag runs on each of the ~50 writes the capture and the
    statistics make per row, and costs a quarter of ``summary()`` on 15,001
    rows (0.73 s against 0.56 s, ``benchmarks/bench_scaling.py``'s model)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(read_only_message(_READ_ONLY, name))

    def __delattr__(self, name: str) -> None:
        raise AttributeError(read_only_message(_READ_ONLY, name, deleting=True))

    def __setstate__(self, state: Any) -> None:
        # copy/deepcopy/pickle of a built row: its slots, without __setattr__.
        attributes, slots = state if isinstance(state, tuple) else (state, None)
        for name, value in {**(attributes or {}), **(slots or {})}.items():
            object.__setattr__(self, name, value)


def freeze_rows(rows: list[LayerInfo]) -> None:
    """Makes ``rows`` ``BuiltLayerInfo``s (read-only), with what they still
    compute or read lazily from their module taken now: the summary's numbers
    cannot change after the fact, and no row reads its module again."""
    for row in rows:
        attributes = row.module.__dict__
        kernel, groups = attributes.get("kernel_size"), attributes.get("groups")
        row.kernel_size = None if kernel is None else _kernel_size(kernel)
        row.groups = None if groups is None else _groups(groups, row.module)
        row.flops = 2 * row.macs
        row.trainable = trainable_text(row.num_params, row.trainable_params)
        row.own_op_points = _own_op_points(row)
        row.__class__ = BuiltLayerInfo


if TYPE_CHECKING:
    from .protocols import LayerLike

    # mypy proves that a live row is what every view reads.
    def _viewable(row: LayerInfo) -> LayerLike:
        return row

