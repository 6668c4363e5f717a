"""Convolutions, transposed convolutions and their backward pass.

A convolution with weight ``[c_out, c_in / groups, *kernel]`` does
``prod(weight)`` MACs per output position and batch item; a transposed one does
the same per *input* position.
"""

from __future__ import annotations

from math import prod
from typing import Any

from . import register_macs

Shape = tuple[int, ...]


def conv_macs(x: Shape, weight: Shape, out: Shape, transposed: bool) -> int:
    batch = x[0]
    positions = prod(x[2:]) if transposed else prod(out[2:])
    return batch * positions * prod(weight)


@register_macs("convolution", "_convolution")
def convolution_macs(
    x: Shape,
    weight: Shape,
    bias: Shape | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    transposed: bool,
    *args: Any,
    out_shape: Shape,
    **kwargs: Any,
) -> int:
    return conv_macs(x, weight, out_shape, bool(transposed))


@register_macs("cudnn_convolution", "mkldnn_convolution", "miopen_convolution")
def backend_convolution_macs(
    x: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any
) -> int:
    return conv_macs(x, weight, out_shape, transposed=False)


@register_macs("cudnn_convolution_transpose", "miopen_convolution_transpose")
def backend_convolution_transpose_macs(
    x: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any
) -> int:
    return conv_macs(x, weight, out_shape, transposed=True)


@register_macs("convolution_backward")
def convolution_backward_macs(
    grad_out: Shape,
    x: Shape,
    weight: Shape,
    bias_sizes: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    transposed: bool,
    output_padding: Any,
    groups: int,
    output_mask: Any,
    **kwargs: Any,
) -> int:
    # The input gradient and the weight gradient each cost one forward's MACs;
    # the bias gradient is a reduction.
    forward = conv_macs(x, weight, grad_out, bool(transposed))
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))
