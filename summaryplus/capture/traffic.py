"""Bytes an ATen op moves: the distinct memory regions it reads and writes.

The op counter calls ``op_traffic`` once per op kind (cached) and ``op_bytes``
for every op that runs, on real, meta and fake tensors alike (only shapes,
strides, dtypes and storage identities are read, never data).

Rules (docs/numbers.md, "Bytes moved"):
- every distinct input region is read once and every output region written
  once (the same tensor passed twice, or a weight used by one op, once);
- a stride-0 (expanded) dimension counts once: ``x.expand(8, -1)`` reads ``x``;
- views and metadata ops (``view``, ``t``, ``expand``, ``detach``...) move
  nothing;
- an in-place op reads and writes its ``self``; an op that only overwrites it
  (``copy_``, ``fill_``, ``zero_``, random fills) does not read it; an ``out=``
  tensor is written, not read;
- gathers (``embedding``, ``index_select``, ``gather``) read the rows they
  gather, not the whole table; in-place scatters (``index_copy_``,
  ``index_put_``, ``scatter_``: a KV cache written one step at a time) write
  the rows they are given, not the whole destination.

NB: an op whose arguments are partly overlapping views of one storage
(``unfold``-style windows) counts each view's region: an upper bound for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["FREE", "OpTraffic", "compute_dtype", "op_bytes", "op_traffic"]

# Ops whose bytes are the fused ("compiled") figure too: the matmul, convolution
# and attention family (every op with a MACs formula) plus the embedding family.
_EMBEDDING_FAMILY = frozenset(
    {"embedding", "embedding_bag", "_embedding_bag", "_embedding_bag_forward_only"}
)
_GATHERS = frozenset({"embedding", "index_select", "gather", "take"})
_BAG_GATHERS = frozenset({"embedding_bag", "_embedding_bag", "_embedding_bag_forward_only"})
# In-place ops that write their self without reading it.
_OVERWRITES = frozenset(
    {"copy_", "fill_", "zero_", "normal_", "uniform_", "bernoulli_", "random_",
     "exponential_", "geometric_", "log_normal_", "cauchy_", "set_"}
)  # fmt: skip
# In-place ops that write only the part of self their source covers.
_SCATTERS = frozenset(
    {"index_copy_", "index_put_", "_index_put_impl_", "scatter_", "scatter_add_",
     "scatter_reduce_", "index_add_", "index_reduce_", "masked_scatter_"}
)  # fmt: skip
# Not views by their schema, but they return (or touch) no new memory.
_ALSO_FREE = frozenset(
    {"_unsafe_view", "lift_fresh", "lift_fresh_copy", "_to_copy_noop", "sym_size",
     "sym_stride", "sym_numel", "sym_storage_offset", "_nested_tensor_size",
     "_nested_tensor_strides", "_nested_tensor_storage_offsets", "record_stream",
     "_local_scalar_dense", "is_nonzero", "is_same_size", "_assert_async", "empty",
     "empty_like", "empty_strided", "new_empty", "new_empty_strided", "resize_",
     "_fused_sdp_choice"}
)  # fmt: skip


@dataclass(frozen=True)
class OpTraffic:
    """How an op kind's bytes are counted.

    Attributes:
        how: ``"plain"``, ``"gather"``, ``"bag"`` (embedding bag),
            ``"overwrite"`` or ``"scatter"`` (see the module docstring).
        fused: the op's bytes also count in the fused figure (matmul, conv,
            attention and embedding family).
        out_names: keyword arguments that are outputs (``out=``): written, not read.
    """

    how: str
    fused: bool
    out_names: frozenset[str]


#: What ``op_traffic`` says of a view or metadata op: it moves nothing.
FREE: OpTraffic | None = None


def op_traffic(func: Any, has_macs_formula: bool) -> OpTraffic | None:
    """How ``func``'s bytes are counted, or ``FREE`` (None) for views and
    metadata ops. ``has_macs_formula``: the op is of the matmul family."""
    if getattr(func, "is_view", False):
        return FREE
    packet = getattr(func, "overloadpacket", None)
    name = str(getattr(packet, "__name__", func))
    if name in _ALSO_FREE:
        return FREE
    schema = getattr(func, "_schema", None)
    out_names: frozenset[str] = frozenset()
    if schema is not None:
        out_names = frozenset(
            argument.name
            for argument in schema.arguments
            if argument.kwarg_only
            and argument.alias_info is not None
            and argument.alias_info.is_write
        )
    if name in _GATHERS:
        how = "gather"
    elif name in _BAG_GATHERS:
        how = "bag"
    elif name in _OVERWRITES:
        how = "overwrite"
    elif name in _SCATTERS:
        how = "scatter"
    else:
        how = "plain"
    return OpTraffic(how, has_macs_formula or name in _EMBEDDING_FAMILY, out_names)


def _size(tensor: torch.Tensor) -> int:
    """Bytes of the memory a tensor covers: a stride-0 dimension once."""
    try:
        stride = tensor.stride()
    except (RuntimeError, NotImplementedError, AttributeError, TypeError):
        return _unstrided_size(tensor)  # nested, sparse, DTensor...
    if 0 not in stride:
        return int(tensor.nbytes)
    if tensor.numel() == 0:
        return 0
    size = tensor.element_size()
    for length, step in zip(tensor.shape, stride, strict=True):
        if step != 0:
            size *= int(length)
    return size


def _unstrided_size(tensor: torch.Tensor) -> int:
    try:
        values = tensor.values() if tensor.is_nested else tensor
        return int(values.numel()) * tensor.element_size()
    except (RuntimeError, NotImplementedError, AttributeError, TypeError, ValueError):
        return 0


def _key(tensor: torch.Tensor) -> Any:
    """Where a tensor's memory starts: two views of one region share it."""
    try:
        return tensor.untyped_storage()._cdata, tensor.storage_offset()
    except (RuntimeError, NotImplementedError, AttributeError, TypeError, ValueError):
        return id(tensor)


def _tensors(value: Any, into: list[torch.Tensor]) -> None:
    if isinstance(value, torch.Tensor):
        into.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, torch.Tensor):
                into.append(item)


def op_bytes(traffic: OpTraffic, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> int:
    """Bytes one op call reads plus the bytes it writes (see the module rules).

    Example:
        >>> import torch
        >>> mm = torch.ops.aten.mm.default
        >>> a, b = torch.empty(4, 8, device="meta"), torch.empty(8, 2, device="meta")
        >>> # reads 4*8*4 + 8*2*4 = 192 bytes, writes 4*2*4 = 32
        >>> op_bytes(op_traffic(mm, True), (a, b), {}, mm(a, b))
        224
    """
    inputs: list[torch.Tensor] = []
    for arg in args:
        _tensors(arg, inputs)
    out_names = traffic.out_names
    for key, value in kwargs.items():
        if key not in out_names:
            _tensors(value, inputs)
    outputs: list[torch.Tensor] = []
    _tensors(out, outputs)
    how = traffic.how
    if how == "plain":
        return _distinct(inputs) + _distinct(outputs)
    if how == "overwrite":
        return _distinct(inputs[1:]) + _distinct(outputs)
    if how == "scatter":
        # Reads the index and the source; writes as many bytes of self as the
        # source holds (values of self's dtype).
        self_tensor, rest = inputs[0], inputs[1:]
        written = sum(_size(t) for t in rest if t.dtype == self_tensor.dtype)
        return _distinct(rest) + written
    # Gathers: the table (first tensor) is read only where gathered.
    table, rest = inputs[0], inputs[1:]
    table_bytes = _size(table)
    if how == "gather":
        gathered = sum(_size(t) for t in outputs[:1])
    else:  # a bag reads one table row per index
        rows = max(int(table.shape[0]), 1) if table.dim() else 1
        index = rest[0] if rest else None
        count = int(index.numel()) if index is not None else rows
        gathered = table_bytes // rows * count
    return min(table_bytes, gathered) + _distinct(rest) + _distinct(outputs)


def _distinct(tensors: list[torch.Tensor]) -> int:
    """Bytes of the distinct regions among ``tensors`` (same start and size: once)."""
    if len(tensors) == 1:
        return _size(tensors[0])
    seen: set[Any] = set()
    total = 0
    for tensor in tensors:
        size = _size(tensor)
        key = (_key(tensor), size)
        if key not in seen:
            seen.add(key)
            total += size
    return total


def compute_dtype(args: tuple[Any, ...]) -> torch.dtype | None:
    """The dtype a matmul-family op computes in: that of its first operand with
    two or more dimensions (the activation: ``addmm``'s ``mat1``, ``linear``'s
    input, a weight-only int8/int4 matmul's bf16 input, ``_scaled_mm``'s fp8 ``a``),
    else its first tensor's."""
    first: torch.dtype | None = None
    for arg in args:
        if isinstance(arg, torch.Tensor):
            if arg.dim() >= 2:
                return arg.dtype
            if first is None:
                first = arg.dtype
    return first
