"""Fused recurrent kernels (LSTM/GRU/RNN on mkldnn and cuDNN).

What an RNN's MACs are: for every time step and batch item, the gate products
``W_ih @ x_t`` and ``W_hh @ h_{t-1}`` (and ``W_hr @ h_t`` with a projection). So
a layer costs ``steps * batch * (numel(W_ih) + numel(W_hh))``; the gate
nonlinearities and bias adds are elementwise, not MACs. With packed sequences
only the real (unpadded) steps run, and the packed input's first dimension is
exactly their number. When no fused kernel is used, the RNN decomposes into
``mm``/``addmm`` calls that count the same.
"""

from __future__ import annotations

from math import prod
from typing import Any

from .registry import register_macs

Shape = tuple[int, ...]


def _matrix_numel(weights: list[Shape]) -> int:
    return sum(prod(shape) for shape in weights if len(shape) == 2)


@register_macs("mkldnn_rnn_layer")
def mkldnn_rnn_layer_macs(
    x: Shape,
    weight_ih: Shape,
    weight_hh: Shape,
    *args: Any,
    **kwargs: Any,
) -> int:
    """One layer, one direction; ``x`` is ``[steps, batch, features]`` (or packed)."""
    return prod(x[:-1]) * (prod(weight_ih) + prod(weight_hh))


@register_macs("_cudnn_rnn")
def cudnn_rnn_macs(x: Shape, weights: list[Shape], *args: Any, **kwargs: Any) -> int:
    """All layers and directions at once; ``weights`` lists every layer's tensors."""
    return prod(x[:-1]) * _matrix_numel(list(weights))


@register_macs("_thnn_fused_lstm_cell", "_thnn_fused_gru_cell")
def fused_cell_macs(input_gates: Shape, hidden_gates: Shape, *args: Any, **kwargs: Any) -> int:
    # The gate products ran before this kernel (as mm); it only adds and squashes.
    return 0
