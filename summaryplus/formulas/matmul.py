"""Dense matrix products. MACs of ``[m, k] @ [k, n]`` are ``m * k * n``."""

from __future__ import annotations

from math import prod
from typing import Any

from . import register_macs

Shape = tuple[int, ...]


@register_macs("mm", "_scaled_mm")
def mm_macs(a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    m, k = a
    _, n = b
    return m * k * n


@register_macs("addmm")
def addmm_macs(bias: Shape, a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    # The bias add is elementwise: not a MAC.
    return mm_macs(a, b)


@register_macs("bmm")
def bmm_macs(a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    batch, m, k = a
    n = b[-1]
    return batch * m * k * n


@register_macs("baddbmm")
def baddbmm_macs(bias: Shape, a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    return bmm_macs(a, b)


@register_macs("addbmm")
def addbmm_macs(bias: Shape, a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    # Sum over the batch of the products: the same multiply-accumulates as bmm.
    return bmm_macs(a, b)


@register_macs("mv")
def mv_macs(matrix: Shape, vector: Shape, *args: Any, **kwargs: Any) -> int:
    m, n = matrix
    return m * n


@register_macs("addmv")
def addmv_macs(bias: Shape, matrix: Shape, vector: Shape, *args: Any, **kwargs: Any) -> int:
    return mv_macs(matrix, vector)


@register_macs("dot", "vdot")
def dot_macs(a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    return prod(a)


@register_macs("addr")
def addr_macs(bias: Shape, a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    # NB: an outer product has one multiply per output element and nothing to
    # accumulate; counting it as m * n MACs matches how BLAS reports ger.
    return prod(a) * prod(b)


@register_macs("linear")
def linear_macs(x: Shape, weight: Shape, bias: Shape | None = None, **kwargs: Any) -> int:
    # Seen only on backends that keep linear whole; usually it decomposes into
    # addmm/mm over all leading dimensions, which count the same.
    out_features, in_features = weight if len(weight) == 2 else (1, weight[0])
    return prod(x[:-1]) * in_features * out_features
