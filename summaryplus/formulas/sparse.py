"""Products with a sparse operand (COO, CSR, CSC, BSR, BSC): a sparse matrix
times a dense one multiplies each stored element by a row (or column) of the
other, so its MACs are the dense product's times the fraction of elements the
sparse operand stores: ``[m, k]`` with ``nnz`` stored times ``[k, n]`` is
``nnz * n`` (``m * k * n * nnz / (m * k)``).

"Stored" is what the kernel multiplies: every value the tensor keeps (a BSR
block's explicit zeros included; an uncoalesced COO tensor's duplicates each).

NB: with two sparse operands (no formula path in eager torch reaches one on the
CPU) the fractions multiply: the expected count for independently placed
non-zeros.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

# Schema names of the operands a product multiplies; the other tensor argument
# of ``addmm``-like ops (``self``/``input``) is the bias, added, not multiplied.
_FACTORS = frozenset({"mat1", "mat2", "batch1", "batch2", "vec1", "vec2", "mat", "vec"})
_FIRST_FACTORS = frozenset({"mat1", "batch1", "vec1", "mat"})
_SPARSE_VALUES = {
    torch.sparse_coo: Tensor._values,
    torch.sparse_csr: Tensor.values,
    torch.sparse_csc: Tensor.values,
    torch.sparse_bsr: Tensor.values,
    torch.sparse_bsc: Tensor.values,
}


def _without_data(tensor: Tensor) -> bool:
    from torch._subclasses.fake_tensor import is_fake

    return bool(tensor.is_meta or is_fake(tensor))


def stored_elements(tensor: Tensor) -> int:
    """Elements a sparse tensor stores (its values: ``nnz`` scalars, or ``nnz``
    blocks of a BSR/BSC tensor); a dense tensor's ``numel``."""
    values = _SPARSE_VALUES.get(tensor.layout)
    return int(tensor.numel()) if values is None else int(values(tensor).numel())


SPARSE_WITHOUT_DATA = (
    "sparse tensors on meta/fake tensors keep no non-zeros: their products are "
    "counted as dense (an upper bound)"
)


def sparse_fraction(func: Any, args: tuple[Any, ...]) -> tuple[int, int] | None:
    """``(stored, dense)`` element counts of the sparse factors of a product
    call (multiplied together), or None when no factor is sparse, or when a
    sparse factor has no data (meta and fake sparse tensors keep no
    non-zeros: ``(dense, dense)``, and the caller says so).

    Example:
        >>> import torch
        >>> a = torch.eye(4).to_sparse()
        >>> sparse_fraction(torch.ops.aten.mm.default, (a, torch.ones(4, 3)))
        (4, 16)
    """
    if not any(isinstance(arg, Tensor) and arg.layout is not torch.strided for arg in args):
        return None
    # In a run without data (meta, fake) the sparse operand's non-zeros are not
    # known, even when it looks real (a parameter the fake run stands in for).
    unknown = any(isinstance(arg, Tensor) and _without_data(arg) for arg in args)
    names = [argument.name for argument in func._schema.arguments]
    factors_named = _FACTORS.intersection(names)
    # ``self`` is the bias of addmm-like ops (their factors are mat1/batch1/vec1/
    # mat) and the first factor of mm, bmm, mv (self @ mat2, self @ vec).
    factors = factors_named if _FIRST_FACTORS & factors_named else factors_named | {"self"}
    stored, dense = 1, 1
    for index, arg in enumerate(args):
        if not isinstance(arg, Tensor) or arg.layout is torch.strided:
            continue
        if factors_named and (index >= len(names) or names[index] not in factors):
            continue  # the bias of an addmm-like op
        dense *= int(arg.numel())
        stored *= int(arg.numel()) if unknown else stored_elements(arg)
    return (stored, dense) if dense else None
