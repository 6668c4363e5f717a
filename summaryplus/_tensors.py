"""Facts about single tensors: identity of their memory, element counts, bytes.

Every byte and parameter figure in summaryplus goes through these helpers, so
tied weights are recognised and dtypes are honoured in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensor
from torch.nn.parameter import is_lazy as _is_lazy


def is_lazy(tensor: torch.Tensor) -> bool:
    """True for a lazy module's parameter that has no shape yet."""
    return bool(_is_lazy(tensor))


Shape = tuple[int, ...]


class RaggedDim(str):
    """A nested tensor's ragged dimension in a shape list: ``j1`` for a jagged
    tensor (as PyTorch writes it), ``ragged`` for a strided nested one. Reads
    without quotes, so ``[2, j1, 8]`` prints as PyTorch prints the shape."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


class SparseShape(list):  # type: ignore[type-arg]
    """A sparse tensor's shape: the list of its sizes, which prints with its
    layout and stored elements (``[100, 100] sparse_coo nnz=60``)."""

    __slots__ = ("layout_text",)

    def __init__(self, sizes: list[int], layout_text: str) -> None:
        super().__init__(sizes)
        self.layout_text = layout_text

    def __repr__(self) -> str:
        return f"{list(self)!r} {self.layout_text}"

    __str__ = __repr__


def tensor_shape(tensor: torch.Tensor) -> list[int | str]:
    """The tensor's shape as a list; a nested tensor's ragged dimensions are
    ``RaggedDim``s (a strided nested tensor has no ``.shape`` of its own); a
    sparse tensor's prints with its layout (``SparseShape``)."""
    if not tensor.is_nested:
        if tensor.layout is not torch.strided and tensor.layout in _SPARSE_PARTS:
            return SparseShape([int(size) for size in tensor.shape], sparse_description(tensor))
        return [int(size) for size in tensor.shape]
    if tensor.layout == torch.jagged:
        return [size if isinstance(size, int) else RaggedDim(size) for size in tensor.shape]
    sizes = tensor._nested_tensor_size().tolist()  # one row of sizes per component
    shape: list[int | str] = [len(sizes)]
    for column in zip(*sizes, strict=True):
        shape.append(column[0] if len(set(column)) == 1 else RaggedDim("ragged"))
    return shape


def nested_component_shapes(tensor: torch.Tensor) -> list[Shape]:
    """The shapes of a nested tensor's components, each with a batch of 1
    (``[1, length_i, ...]``), so a formula sees one sequence at a time."""
    if tensor.layout == torch.jagged:
        offsets: Any = tensor.offsets()  # type: ignore[attr-defined]
        lengths = offsets.diff().tolist()
        ragged: int = tensor._ragged_idx  # type: ignore[attr-defined]
        base = [int(s) if isinstance(s, int) else 0 for s in tensor.shape]
        shapes = []
        for length in lengths:
            shape = list(base)
            shape[0], shape[ragged] = 1, int(length)
            shapes.append(tuple(shape))
        return shapes
    return [(1, *map(int, sizes)) for sizes in tensor._nested_tensor_size().tolist()]


def storage_key(tensor: torch.Tensor) -> int:
    """An id for the memory a tensor lives in, shared by all its views.

    Uses the StorageImpl address (``_cdata``): unlike ``data_ptr()`` it is distinct
    for meta and fake tensors, whose data pointers are all 0.
    """
    try:
        return int(tensor.untyped_storage()._cdata)
    except (RuntimeError, NotImplementedError, AttributeError, TypeError, ValueError):
        # ValueError: a lazy module's parameter before its first forward.
        # Tensor subclasses without a storage (DTensor, nested...): the object itself.
        return id(tensor)


def view_key(tensor: torch.Tensor) -> tuple[int, int, Shape, Shape]:
    """Identifies the exact elements a tensor covers: two tied weights share it."""
    if is_lazy(tensor):  # no storage yet: only the object itself
        return id(tensor), 0, (), ()
    if tensor.is_nested:  # no single shape or stride: its buffer and size
        return storage_key(tensor), 0, (int(tensor.numel()),), ()
    try:
        offset = int(tensor.storage_offset())
        stride = tuple(int(s) for s in tensor.stride())
    except (RuntimeError, NotImplementedError):
        offset, stride = 0, ()
    return storage_key(tensor), offset, tuple(int(s) for s in tensor.shape), stride


def tensor_key(tensor: torch.Tensor) -> object:
    """Like ``view_key`` (equal for tied tensors), but cheap for tensors with data.

    A data pointer with dtype, shape and stride names the exact elements; meta,
    fake and empty tensors (pointer 0) fall back to ``view_key``.
    """
    pointer = data_pointer(tensor)
    if pointer and not tensor.is_nested:
        return (pointer, tensor.dtype, tensor.shape, tensor.stride())
    return view_key(tensor)


def data_pointer(tensor: torch.Tensor) -> int:
    """Address of the tensor's first element; 0 for meta and lazy tensors and
    tensors without data of their own."""
    if tensor.is_meta or isinstance(tensor, FakeTensor):
        return 0  # (a FakeTensor's data_ptr() is deprecated: it will raise)
    try:
        return int(tensor.data_ptr())
    except RecursionError:
        raise  # a RuntimeError, but never "no data": swallowed, it leaves torch's state half undone
    except (RuntimeError, NotImplementedError, TypeError, ValueError):
        return 0  # ValueError: a lazy module's parameter before its first forward


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"float32"``: how dtypes are written in every summary."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).removeprefix("torch.")
    return name


# dtype -> name, filled by dtype_name as dtypes are met.
_DTYPE_NAMES: dict[torch.dtype, str] = {}


def local_shard(tensor: torch.Tensor) -> torch.Tensor:
    """This rank's part of a ``DTensor`` (FSDP2, tensor parallel); a plain tensor
    is all local. (Duck-typed: no torch.distributed import.)"""
    if callable(getattr(type(tensor), "to_local", None)):
        local: torch.Tensor = tensor.to_local()  # type: ignore[attr-defined]
        return local
    return tensor


def numel(tensor: torch.Tensor) -> int:
    """Element count; 0 for a lazy parameter that has not been materialised yet;
    a sparse tensor's stored values.

    A packed low-bit weight (bitsandbytes' ``Params4bit``: two 4-bit values per
    uint8 byte) counts the elements it stands for when it carries them in
    ``quant_state.shape``; its bytes stay the packed storage's (``nbytes``).
    """
    if is_lazy(tensor):
        return 0
    if tensor.layout is not torch.strided and tensor.layout in _SPARSE_PARTS:
        return stored_values(tensor)
    if tensor.dtype == torch.uint8:
        shape = getattr(getattr(tensor, "quant_state", None), "shape", None)
        if shape is not None:
            count = 1
            for size in shape:
                count *= int(size)
            return count
    return int(tensor.numel())


def surviving_numel(module: nn.Module, name: str, param: torch.Tensor) -> tuple[int, str]:
    """Elements of parameter ``name`` of ``module`` and the name it stands for:
    a weight pruned by ``torch.nn.utils.prune`` is kept as ``weight_orig`` with a
    ``weight_mask`` buffer, and counts the ones of its mask, under ``weight``."""
    if name.endswith("_orig"):
        base = name[: -len("_orig")]
        mask = module._buffers.get(f"{base}_mask")
        if isinstance(mask, torch.Tensor) and not mask.is_meta and not is_lazy(param):
            return int(torch.count_nonzero(mask)), base
        return numel(param), base
    return numel(param), name


def nbytes(tensor: torch.Tensor) -> int:
    """Bytes of the tensor's own elements in its own dtype (fp8/int8 are 1 byte;
    packed 4-bit weights are their packed bytes); a sparse tensor's are what it
    stores (``sparse_bytes``)."""
    if is_lazy(tensor):
        return 0
    if tensor.layout is not torch.strided:
        return sparse_bytes(tensor)
    return int(tensor.numel()) * int(tensor.element_size())


# The tensors a sparse layout stores: indices and values.
_SPARSE_PARTS: dict[torch.layout, tuple[str, ...]] = {
    torch.sparse_coo: ("_indices", "_values"),
    torch.sparse_csr: ("crow_indices", "col_indices", "values"),
    torch.sparse_csc: ("ccol_indices", "row_indices", "values"),
    torch.sparse_bsr: ("crow_indices", "col_indices", "values"),
    torch.sparse_bsc: ("ccol_indices", "row_indices", "values"),
}


def sparse_bytes(tensor: torch.Tensor) -> int:
    """Bytes a sparse tensor stores: its index tensors and its values (COO:
    ``[ndim, nnz]`` indices and ``nnz`` values; CSR/CSC/BSR/BSC: compressed
    and plain indices and the values or blocks); a layout without parts known
    here (``_mkldnn``...): its dense size.

    Example:
        >>> import torch
        >>> sparse_bytes(torch.eye(100).to_sparse())  # 2 * 100 int64 + 100 float32
        2000
    """
    parts = _SPARSE_PARTS.get(tensor.layout)
    if parts is None:
        return int(tensor.numel()) * int(tensor.element_size())
    total = 0
    for name in parts:
        part = getattr(tensor, name)()
        total += int(part.numel()) * int(part.element_size())
    return total


def stored_values(tensor: torch.Tensor) -> int:
    """The values a sparse tensor stores (its ``nnz`` elements, or ``nnz``
    blocks of a BSR/BSC tensor): its parameters, when it is one."""
    values = tensor._values() if tensor.layout is torch.sparse_coo else tensor.values()
    return int(values.numel())


def sparse_description(tensor: torch.Tensor) -> str:
    """``sparse_coo nnz=60``: a sparse tensor's layout and stored elements (for
    a blocked layout, its stored blocks); ``""`` for a dense tensor."""
    if tensor.layout not in _SPARSE_PARTS:
        return ""
    layout = str(tensor.layout).removeprefix("torch.")
    return f"{layout} nnz={int(tensor._nnz())}"


def storage_nbytes(tensor: torch.Tensor) -> int:
    """Bytes of the whole storage that keeps this tensor alive."""
    try:
        return int(tensor.untyped_storage().nbytes())
    except (RuntimeError, NotImplementedError, AttributeError, TypeError):
        return nbytes(tensor)


def unique_tensors(
    named: Iterable[tuple[str, torch.Tensor]],
) -> Iterator[tuple[str, torch.Tensor, list[str]]]:
    """Yields each distinct tensor once with every name it is reachable under.

    Two names are the same tensor when they are the same object or cover the same
    elements of the same storage (weights tied by assigning ``.data``).
    """
    first: dict[object, tuple[str, torch.Tensor, list[str]]] = {}
    for name, tensor in named:
        key = tensor_key(tensor)
        if key in first:
            first[key][2].append(name)
        else:
            first[key] = (name, tensor, [name])
    yield from first.values()


def may_pack(cls: type) -> bool:
    """Whether instances of ``cls`` may hold packed weights (see ``packed_tensors``)."""
    return callable(getattr(cls, "_weight_bias", None))


def packed_tensors(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """Weights a module keeps packed outside ``nn.Parameter``.

    Dynamic quantization (``torch.ao.nn.quantized.dynamic.Linear``) stores its
    int8 weight and its bias in a ``LinearPackedParams`` whose ``_weight_bias()``
    unpacks them; they are the layer's parameters, frozen.
    """
    # Only the holder of the packed object: the quantized Linear itself also has
    # _weight_bias(), delegating to its LinearPackedParams child. Looked up on the
    # class and the instance dict: nn.Module.__getattr__ makes misses costly.
    if not may_pack(type(module)) or not isinstance(
        vars(module).get("_packed_params"), torch.ScriptObject
    ):
        return []
    unpack: Any = module._weight_bias
    try:
        unpacked = unpack()
    except (RuntimeError, TypeError, AttributeError):
        return []
    names = ("weight", "bias")
    return [
        (name, tensor.detach())
        for name, tensor in zip(names, unpacked, strict=False)
        if isinstance(tensor, torch.Tensor)
    ]


def direct_parameters(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """The parameters a module holds itself (not its children's), packed ones included."""
    own = [(name, p) for name, p in module._parameters.items() if p is not None]
    return own + packed_tensors(module)
