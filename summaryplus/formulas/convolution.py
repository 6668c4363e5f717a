"""Convolutions, transposed convolutions and their backward pass.

A convolution with weight ``[c_out, c_in / groups, *kernel]`` does
``prod(weight)`` MACs per output position and batch item; a transposed one does
the same per *input* position.
"""

from __future__ import annotations

from math import prod
from typing import Any

from .registry import register_macs

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


@register_macs(
    # Backend kernels, reached directly or inside inference_mode / custom code.
    "cudnn_convolution",
    "cudnn_convolution_relu",
    "cudnn_convolution_add_relu",
    "mkldnn_convolution",
    "mkldnn::_convolution_pointwise",
    "miopen_convolution",
    "miopen_convolution_relu",
    "miopen_convolution_add_relu",
    "miopen_depthwise_convolution",
    "convolution_overrideable",
    "thnn_conv2d",
    "_slow_conv2d_forward",
    "slow_conv3d",
    "slow_conv3d_forward",
    "slow_conv_dilated2d",
    "slow_conv_dilated3d",
    "_conv_depthwise2d",
    "conv_depthwise3d",
    "_nnpack_spatial_convolution",
    "_mps_convolution",
)
def backend_convolution_macs(
    x: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any
) -> int:
    return conv_macs(x, weight, out_shape, transposed=False)


@register_macs(
    "cudnn_convolution_transpose",
    "miopen_convolution_transpose",
    "slow_conv_transpose2d",
    "slow_conv_transpose3d",
    "_mps_convolution_transpose",
)
def backend_convolution_transpose_macs(
    x: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any
) -> int:
    return conv_macs(x, weight, out_shape, transposed=True)


@register_macs("conv_tbc")
def conv_tbc_macs(x: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    """Time-batch-channel convolution: ``x [T, B, C_in]``, ``weight [k, C_in, C_out]``."""
    steps, batch = out_shape[0], out_shape[1]
    return steps * batch * prod(weight)


@register_macs("_slow_conv2d_backward")
def slow_conv2d_backward_macs(
    grad_out: Shape, x: Shape, weight: Shape, *args: Any, **kwargs: Any
) -> int:
    # The .grad_input overload computes all three gradients (no output_mask).
    mask = args[3] if len(args) > 3 else (True, True, True)
    return conv_macs(x, weight, grad_out, False) * (int(bool(mask[0])) + int(bool(mask[1])))


@register_macs("convolution_backward", "convolution_backward_overrideable")
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
