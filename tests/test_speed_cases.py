"""The cases other speed tools get wrong come out right here: a Qwen3-shaped
model with head_dim != hidden / heads (LLM-Viewer), FLOPs never halved, the
flash-attention output sized B x H x T x D (not T x T), and PyTorch's
runtime estimator's table slips (L4 bandwidth, sparse bf16, no fp8, CUDA needed)."""

from __future__ import annotations

import pytest
import torch

from summaryplus import summary
from summaryplus.gpus import get_gpu

transformers = pytest.importorskip("transformers")

# Qwen3-shaped: head_dim 32 while hidden / heads = 16.
QWEN3 = dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
             intermediate_size=128, num_hidden_layers=2, vocab_size=1000,
             tie_word_embeddings=False)  # fmt: skip


def _qwen3() -> torch.nn.Module:
    with torch.device("meta"):
        return transformers.Qwen3ForCausalLM(transformers.Qwen3Config(**QWEN3)).eval()


def test_qwen3_head_dim_not_hidden_over_heads() -> None:
    stats = summary(_qwen3(), input_size=(1, 16), dtypes=[torch.long], verbose=0, mode="eval")
    t, h, n, k, d, i, layers, v = 16, 64, 4, 2, 32, 128, 2, 1000
    # per layer: q (h -> n*d), k and v (h -> k*d), o (n*d -> h), gate/up/down (3 h i),
    # attention scores and values 2 * T * T * n * d; then the LM head T * h * V
    projections = t * (h * n * d + 2 * h * k * d + n * d * h + 3 * h * i)
    attention = 2 * t * t * n * d
    macs = layers * (projections + attention) + t * h * v
    assert stats.total_flops == 2 * macs == 5_455_872
    # head_dim taken as hidden / heads (16) would give 4,538,368: 17% short
    wrong = layers * (t * (h * n * 16 + 2 * h * k * 16 + n * 16 * h + 3 * h * i)
                      + 2 * t * t * n * 16) + t * h * v  # fmt: skip
    assert 2 * wrong == 4_538_368 < stats.total_flops
    # the LM head is 2 * T * h * V FLOPs, not half of it
    head = next(row for row in stats.summary_list if row.module_path == "lm_head")
    assert head.flops == 2 * t * h * v


def test_flash_attention_output_is_not_t_by_t() -> None:
    stats = summary(_qwen3(), input_size=(1, 1024), dtypes=[torch.long], verbose=0, mode="eval")
    attention = next(row for row in stats.summary_list
                     if row.module_path == "model.layers.0.self_attn")  # fmt: skip
    (point,) = attention.own_op_points
    # q 4 heads x 1024 x 32 x 4 = 524,288; k and v 2 kv heads (GQA) 262,144 each;
    # out 524,288; log-sum-exp 4 x 1024 x 4 = 16,384
    assert point[2] == 524_288 + 2 * 262_144 + 524_288 + 16_384
    # T x T scores would be 4 x 1024 x 1024 x 4 = 16,777,216 bytes
    assert point[2] < 4 * 1024 * 1024 * 4 / 10


def test_the_estimator_table_cases() -> None:
    l4, h100 = get_gpu("l4"), get_gpu("h100-sxm")
    assert l4.bandwidth == 300e9 != h100.bandwidth == 3.35e12
    assert l4.peak("bf16") == 121e12  # dense, not the sparse 242
    assert h100.peak("fp8") == pytest.approx(1_978.9e12)


def test_bounds_without_cuda_on_a_meta_model() -> None:
    stats = summary(_qwen3(), input_size=(1, 256), dtypes=[torch.long], verbose=0, mode="eval")
    bound = stats.roofline("h100-sxm").total
    # FLOPs are 2 x MACs, divided by the FLOP/s peak once (not halved first)
    assert bound.flops == stats.total_flops == 2 * stats.total_mult_adds
    assert bound.compute_time == pytest.approx(stats.total_flops / 67e12)  # fp32 ops
