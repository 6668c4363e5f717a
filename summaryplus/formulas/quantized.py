"""Quantized and weight-packed kernels, counted as the float op they replace.

Their weight is packed (an int8/int4 buffer, or a ``ScriptObject`` of packed
parameters), so its shape does not say ``[out, in]``; the input and the output
do. A linear kernel taking ``[..., in]`` to ``[..., out]`` does
``prod(output) * in`` multiply-accumulates; a convolution does what the float
convolution of its unpacked weight does. Integer, fp8 and fp16 MACs count the
same as floating-point ones.
"""

from __future__ import annotations

from math import prod
from typing import Any

import torch

from .convolution import conv_macs
from .registry import register_macs

Shape = tuple[int, ...]


@register_macs(
    # Dynamic and static int8 linear layers (torch.ao quantized modules).
    "quantized::linear_dynamic",
    "quantized::linear_relu_dynamic",
    "quantized::linear_dynamic_fp16",
    "quantized::linear_relu_dynamic_fp16",
    "quantized::linear_dynamic_fp16_unpacked_weight",
    "quantized::linear",
    "quantized::linear_relu",
    "quantized::linear_leaky_relu",
    "quantized::linear_tanh",
    "quantized::linear_with_input_q_dq_qweight_dq_output_fp32",
    "quantized::linear_with_input_q_dq_qweight_dq_relu_output_fp32",
    "_quantized::linear",
    "_quantized::linear_dynamic",
    "_quantized::wrapped_quantized_linear",
    "_quantized::_wrapped_quantized_linear_prepacked",
    "_quantized::wrapped_fbgemm_linear_fp16_weight",
    "_wrapped_quantized_linear_prepacked",
    "onednn::qlinear_pointwise",
    "onednn::linear_dynamic_fp16",
    "onednn::linear_relu_dynamic_fp16",
    # Weight-only int8/int4 matmuls (torchao, gpt-fast, transformers' quantizers).
    "_weight_int8pack_mm",
    "_weight_int4pack_mm",
    "_weight_int4pack_mm_for_cpu",
    "quantized::int4mm_packed_weight_cpu",
    "_dyn_quant_matmul_4bit",
    "_mixed_dtypes_linear",
    "_sparse_semi_structured_linear",
    "fbgemm_linear_int8_weight",
    "fbgemm_linear_int8_weight_fp32_activation",
    "fbgemm_linear_fp16_weight",
    "fbgemm_linear_fp16_weight_fp32_activation",
    optional=("_weight_int4pack_mm_with_scales_and_zeros",),  # torch >= 2.8
)
def quantized_linear_macs(x: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return prod(out_shape) * x[-1]


@register_macs("quantized::matmul")
def quantized_matmul_macs(a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    # Broadcasting matmul of two quantized tensors: each output element
    # accumulates over a's last dimension.
    return prod(out_shape) * a[-1]


def _packed_conv_weight(args: tuple[Any, ...]) -> tuple[Shape, bool] | None:
    """The unpacked weight shape of the first packed-convolution argument, and
    whether it is transposed."""
    for arg in args:
        if isinstance(arg, torch.ScriptObject) and hasattr(arg, "unpack"):
            weight = arg.unpack()[0]
            transposed = bool(arg.transpose()) if hasattr(arg, "transpose") else False
            return tuple(int(s) for s in weight.shape), transposed
    return None


@register_macs(
    "quantized::conv1d", "quantized::conv1d_relu", "quantized::conv1d_dynamic",
    "quantized::conv2d", "quantized::conv2d_relu", "quantized::conv2d_dynamic",
    "quantized::conv2d_add", "quantized::conv2d_add_relu",
    "quantized::conv3d", "quantized::conv3d_relu", "quantized::conv3d_dynamic",
    "quantized::conv_transpose1d", "quantized::conv_transpose1d_dynamic",
    "quantized::conv_transpose2d", "quantized::conv_transpose2d_dynamic",
    "quantized::conv_transpose3d", "quantized::conv_transpose3d_dynamic",
    "_quantized::conv2d", "_quantized::conv2d_relu", "_quantized::conv3d",
    "_quantized::conv3d_relu", "_quantized::conv_transpose1d", "_quantized::conv_transpose2d",
)  # fmt: skip
def quantized_conv_macs(x: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    """Statically and dynamically quantized convolutions: the packed parameters
    (a ``ScriptObject``) unpack to the float layout ``[c_out, c_in / groups, *k]``
    (``[c_in, c_out / groups, *k]`` transposed)."""
    packed = _packed_conv_weight(args)
    if packed is None:
        raise ValueError("no packed convolution weight among the arguments")
    weight, transposed = packed
    return conv_macs(x, weight, out_shape, transposed)


@register_macs("onednn::qconv2d_pointwise", optional=("onednn::qconv_pointwise",))  # torch >= 2.8
def onednn_qconv_macs(
    qx: Shape, x_scale: Any, x_zero_point: Any, qw: Shape, *args: Any, out_shape: Shape,
    **kwargs: Any,
) -> int:
    # onednn keeps the int8 weight as a plain tensor in the float layout.
    return conv_macs(qx, qw, out_shape, transposed=False)
