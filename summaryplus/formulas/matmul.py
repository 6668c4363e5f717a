"""Dense matrix products. MACs of ``[m, k] @ [k, n]`` are ``m * k * n``."""

from __future__ import annotations

from math import prod
from typing import Any

from .registry import register_macs

Shape = tuple[int, ...]


@register_macs("mm", "_scaled_mm", "_scaled_mm_v2", "_int_mm", "smm", "_sparse_mm", "hspmm")
def mm_macs(a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    m, k = a
    _, n = b
    return m * k * n


@register_macs(optional=("_foreach_mm",))  # torch >= 2.13
def foreach_mm_macs(a: list[Shape], b: list[Shape], *args: Any, **kwargs: Any) -> int:
    return sum(mm_macs(x, y) for x, y in zip(a, b, strict=True))


@register_macs("addmm", "addmm_", "_addmm_activation", "_sparse_addmm", "sspaddmm")
def addmm_macs(bias: Shape, a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    # The bias add is elementwise: not a MAC.
    return mm_macs(a, b)


@register_macs("bmm")
def bmm_macs(a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    batch, m, k = a
    n = b[-1]
    return batch * m * k * n


@register_macs("baddbmm", "baddbmm_")
def baddbmm_macs(bias: Shape, a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    return bmm_macs(a, b)


@register_macs("addbmm", "addbmm_")
def addbmm_macs(bias: Shape, a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    # Sum over the batch of the products: the same multiply-accumulates as bmm.
    return bmm_macs(a, b)


@register_macs("mv")
def mv_macs(matrix: Shape, vector: Shape, *args: Any, **kwargs: Any) -> int:
    m, n = matrix
    return m * n


@register_macs("addmv", "addmv_")
def addmv_macs(bias: Shape, matrix: Shape, vector: Shape, *args: Any, **kwargs: Any) -> int:
    return mv_macs(matrix, vector)


@register_macs("dot", "vdot")
def dot_macs(a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    return prod(a)


@register_macs("addr", "addr_")
def addr_macs(bias: Shape, a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    # NB: an outer product has one multiply per output element and nothing to
    # accumulate; counting it as m * n MACs matches how BLAS reports ger.
    return prod(a) * prod(b)


@register_macs("linear", "mkldnn_linear", "mkldnn::_linear_pointwise")
def linear_macs(x: Shape, weight: Shape, bias: Shape | None = None, **kwargs: Any) -> int:
    # Seen on backends that keep linear whole (and inside inference_mode, where
    # composite ops reach the counter undecomposed); usually it decomposes into
    # addmm/mm over all leading dimensions, which count the same.
    out_features, in_features = weight if len(weight) == 2 else (1, weight[0])
    return prod(x[:-1]) * in_features * out_features



# NB: a 2:4-sparse operand is stored compressed (half its elements, or a flat
# buffer for cuSPARSELt), so its shape does not give K; the dense operand
# ``[K, N]`` and the output do: ``prod(output) * K``, the dense product's MACs.
@register_macs("_sparse_semi_structured_mm")
def semi_structured_mm_macs(
    a: Shape, meta: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any
) -> int:
    return prod(out_shape) * b[0]


@register_macs("_cslt_sparse_mm")
def cusparselt_mm_macs(a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return prod(out_shape) * b[0]


@register_macs("_sparse_semi_structured_addmm")
def semi_structured_addmm_macs(
    bias: Shape, a: Shape, meta: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any
) -> int:
    return prod(out_shape) * b[0]


@register_macs("linear_backward", "mkldnn_linear_backward")
def linear_backward_macs(
    x: Shape, grad_out: Shape, weight: Shape, output_mask: Any, *args: Any, **kwargs: Any
) -> int:
    # The input gradient (grad @ W) and the weight gradient (grad^T @ x) each cost
    # one forward's MACs; the bias gradient is a reduction.
    forward = linear_macs(x, weight)
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


@register_macs("mkldnn_linear_backward_input")
def linear_backward_input_macs(
    input_size: Any, grad_out: Shape, weight: Shape, *args: Any, **kwargs: Any
) -> int:
    return prod(grad_out) * weight[-1]


@register_macs("mkldnn_linear_backward_weights")
def linear_backward_weights_macs(
    grad_out: Shape, x: Shape, weight: Shape, *args: Any, **kwargs: Any
) -> int:
    return prod(grad_out) * x[-1]


@register_macs("_trilinear")
def trilinear_macs(
    a: Shape, b: Shape, c: Shape, expand_a: Any, expand_b: Any, expand_c: Any,
    *args: Any, **kwargs: Any,
) -> int:
    """``nn.Bilinear``'s kernel: each operand is unsqueezed at its ``expand``
    dimensions, and every point of their broadcast shape is one product.

    NB: the kernel computes ``(x1 @ W)`` then a dot with ``x2``, which is this
    count plus one MAC per (batch, out, in2) element; the three-way product is
    counted once per term, as its definition ``x1^T W x2`` reads.
    """
    shapes = []
    for shape, expand in ((a, expand_a), (b, expand_b), (c, expand_c)):
        full = list(shape)
        for dim in sorted(int(d) for d in expand):
            full.insert(dim, 1)
        shapes.append(full)
    return prod(max(sizes) for sizes in zip(*shapes, strict=True))


@register_macs("_compute_linear_combination")
def linear_combination_macs(x: Shape, coefficients: Shape, *args: Any, **kwargs: Any) -> int:
    # out[m, ...] = sum_n coefficients[m, n] * x[n, ...]
    return coefficients[0] * coefficients[1] * prod(x[1:])


@register_macs("matmul")
def matmul_macs(a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    """``torch.matmul`` in every rank: each output element accumulates over
    ``a``'s last dimension (the vector's length when ``a`` is 1-D), with
    broadcast batch dimensions in the output: ``prod(out) * k``.

    Eager forwards rarely see this op (it is a composite that decomposes into
    the mm/bmm/mv/dot counted above, to the same number); exported graphs and
    ``inference_mode`` keep it whole.
    """
    return prod(out_shape) * a[-1]
