"""Quantized linear kernels, whose packed weight is not a tensor argument.

The weight's shape is known only from the output: ``[..., out]`` from an input
``[..., in]`` is ``prod(output) * in`` multiply-accumulates (int8 or fp16 MACs,
counted the same as floating-point ones).
"""

from __future__ import annotations

from math import prod
from typing import Any

from . import register_macs

Shape = tuple[int, ...]


@register_macs(
    "quantized::linear_dynamic",
    "quantized::linear_relu_dynamic",
    "quantized::linear_dynamic_fp16",
    "quantized::linear_relu_dynamic_fp16",
    "quantized::linear",
    "quantized::linear_relu",
)
def quantized_linear_macs(x: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> int:
    return prod(out_shape) * x[-1]
