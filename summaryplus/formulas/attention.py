"""Attention kernels: every scaled-dot-product variant and the fused
``nn.MultiheadAttention`` / ``nn.TransformerEncoderLayer`` fast paths.

Per batch item and query head, attention is two products: ``Q @ K^T``
(``L * S * E``) and ``P @ V`` (``L * S * Ev``). With grouped-query attention the
key/value heads are shared, but every query head still does both products, so
the head count is the query's.

NB: causal masking is counted as full attention, as PyTorch's FlopCounterMode
does: the math path really computes the masked half, and the fused kernels'
savings depend on their tiling.
"""

from __future__ import annotations

from typing import Any

from .registry import register_macs

Shape = tuple[int, ...]


def _heads_first_macs(query: Shape, key: Shape, value: Shape) -> int:
    *batch_heads, length, embed = query
    source = key[-2]
    value_embed = value[-1]
    count = 1
    for size in batch_heads:
        count *= size
    return count * length * source * (embed + value_embed)


def _heads_first_backward_macs(query: Shape, key: Shape, value: Shape) -> int:
    # Recompute Q @ K^T, then dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q.
    *batch_heads, length, embed = query
    source = key[-2]
    value_embed = value[-1]
    count = 1
    for size in batch_heads:
        count *= size
    return count * length * source * (3 * embed + 2 * value_embed)


@register_macs(
    # The composite itself: exported graphs and inference mode keep it whole;
    # every kernel it dispatches to counts the same.
    "scaled_dot_product_attention",
    "_scaled_dot_product_flash_attention_for_cpu",
    "_scaled_dot_product_flash_attention",
    "_scaled_dot_product_efficient_attention",
    "_scaled_dot_product_cudnn_attention",
    "_scaled_dot_product_fused_attention_overrideable",
    "_scaled_dot_product_attention_math",
    "_scaled_dot_product_attention_math_for_mps",
    "_cudnn_attention_forward",
    "_triton_scaled_dot_attention",
)
def sdpa_macs(query: Shape, key: Shape, value: Shape, *args: Any, **kwargs: Any) -> int:
    """Query ``[..., L, E]``, key ``[..., S, E]``, value ``[..., S, Ev]``."""
    return _heads_first_macs(query, key, value)


@register_macs(
    "_scaled_dot_product_flash_attention_for_cpu_backward",
    "_scaled_dot_product_flash_attention_backward",
    "_scaled_dot_product_efficient_attention_backward",
    "_scaled_dot_product_cudnn_attention_backward",
    "_scaled_dot_product_fused_attention_overrideable_backward",
    optional=("_cudnn_attention_backward",),  # torch >= 2.8
)
def sdpa_backward_macs(
    grad_out: Shape, query: Shape, key: Shape, value: Shape, *args: Any, **kwargs: Any
) -> int:
    return _heads_first_backward_macs(query, key, value)


def _sequence_first(shape: Shape) -> Shape:
    # [batch, seq, heads, dim] -> [batch, heads, seq, dim]
    batch, seq, heads, dim = shape
    return (batch, heads, seq, dim)


@register_macs("_flash_attention_forward", "_efficient_attention_forward")
def fused_attention_forward_macs(
    query: Shape, key: Shape, value: Shape, *args: Any, **kwargs: Any
) -> int:
    # NB: with variable-length packing (cum_seq given, a 3-d query) the per-sequence
    # lengths are tensor values, not shapes; the packed length is used as one
    # sequence, an upper bound.
    if len(query) == 3:
        query, key, value = ((1, *query), (1, *key), (1, *value))
    return _heads_first_macs(_sequence_first(query), _sequence_first(key), _sequence_first(value))


@register_macs(optional=("_flash_attention_forward_no_dropout_inplace",))  # torch >= 2.8
def fused_attention_forward_inplace_macs(
    out: Shape, query: Shape, key: Shape, value: Shape, *args: Any, **kwargs: Any
) -> int:
    return fused_attention_forward_macs(query, key, value)


@register_macs("_flash_attention_backward", "_efficient_attention_backward")
def fused_attention_backward_macs(
    grad_out: Shape, query: Shape, key: Shape, value: Shape, *args: Any, **kwargs: Any
) -> int:
    if len(query) == 3:
        query, key, value = ((1, *query), (1, *key), (1, *value))
    return _heads_first_backward_macs(
        _sequence_first(query), _sequence_first(key), _sequence_first(value)
    )


def _attention_block_macs(
    batch: int, target: int, source: int, embed: int, self_attention: bool
) -> int:
    projections = batch * target * embed * embed  # query projection
    projections += 2 * batch * source * embed * embed  # key and value projections
    scores_and_mix = 2 * batch * target * source * embed  # summed over heads
    output = batch * target * embed * embed
    return projections + scores_and_mix + output


@register_macs("_native_multi_head_attention", "_triton_multi_head_attention")
def native_multi_head_attention_macs(
    query: Shape, key: Shape, value: Shape, embed_dim: int, *args: Any, **kwargs: Any
) -> int:
    """nn.MultiheadAttention's fused inference path; inputs are ``[B, L, E]``."""
    batch, target, _ = query
    source = key[1]
    return _attention_block_macs(batch, target, source, int(embed_dim), query == key)


@register_macs("_transformer_encoder_layer_fwd")
def transformer_encoder_layer_macs(
    src: Shape,
    embed_dim: int,
    num_heads: int,
    qkv_weight: Shape,
    qkv_bias: Shape,
    proj_weight: Shape,
    proj_bias: Shape,
    use_gelu: bool,
    norm_first: bool,
    eps: float,
    norm_weight_1: Shape,
    norm_bias_1: Shape,
    norm_weight_2: Shape,
    norm_bias_2: Shape,
    ffn_weight_1: Shape,
    *args: Any,
    **kwargs: Any,
) -> int:
    """nn.TransformerEncoderLayer's fused inference path on ``[B, L, E]`` input."""
    batch, length, _ = src
    embed = int(embed_dim)
    feedforward = ffn_weight_1[0]
    attention = _attention_block_macs(batch, length, length, embed, True)
    return attention + 2 * batch * length * embed * feedforward
