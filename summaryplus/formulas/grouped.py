"""Grouped (segmented) matrix products: the kernels mixture-of-experts layers run.

``torch._grouped_mm(a, b, offs)`` multiplies G independent pairs of matrices in
one call; ``offs`` holds the cumulative end of each group along the split
dimension. The split only decides which rows meet which expert's weights: every
element of the split dimension is multiplied once, so the MACs follow from the
shapes alone, whatever the routing put in ``offs``:

- ``a [T, K]`` x ``b [G, K, N]`` (tokens sorted by expert): ``T * K * N``;
- ``a [G, M, K]`` x ``b [K, N_total]`` (N split into groups): ``M * K * N_total``;
- ``a [M, K_total]`` x ``b [K_total, N]`` (K split, out ``[G, M, N]``): ``M * K_total * N``;
- ``a [G, M, K]`` x ``b [G, K, N]`` (batched, no offsets): ``G * M * K * N``.

The scaled variants (fp8/mxfp8 with scale tensors) count the same MACs.
"""

from __future__ import annotations

from math import prod
from typing import Any

from .registry import register_macs

Shape = tuple[int, ...]


def grouped_mm_shape_macs(a: Shape, b: Shape, out: Shape) -> int:
    """MACs of one grouped product, from the operands' and the output's shapes."""
    if len(a) == 2 and len(b) == 2:
        # K split into groups: the output holds one [M, N] block per group, and
        # each block accumulates over its own slice of K only.
        return a[0] * a[1] * b[1]
    # Every other layout: each output element accumulates over K = a[-1].
    return prod(out) * a[-1]


@register_macs(
    "_scaled_grouped_mm", optional=("_grouped_mm", "_scaled_grouped_mm_v2")  # torch >= 2.8
)
def grouped_mm_macs(a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return grouped_mm_shape_macs(a, b, out_shape)
