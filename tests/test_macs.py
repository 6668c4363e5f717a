"""Exact MACs: formulas, hand-derived model totals, and CPU == meta == fake."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from models import LSTMNet
from torch import nn

from summaryplus import summary, training_flops
from summaryplus.formulas import convolution, matmul, recurrent
from summaryplus.formulas.attention import sdpa_backward_macs, sdpa_macs


def macs(model: nn.Module, **kwargs: Any) -> int:
    stats = summary(model, verbose=0, **kwargs)
    assert stats.uncounted_ops == {}
    return stats.total_mult_adds


# ----------------------------------------------------------------- formulas
def test_matmul_formulas() -> None:
    assert matmul.mm_macs((4, 6), (6, 5)) == 120  # 4 * 6 * 5
    assert matmul.addmm_macs((5,), (4, 6), (6, 5)) == 120  # the bias add is not a MAC
    assert matmul.bmm_macs((2, 4, 6), (2, 6, 5)) == 240  # 2 * 4 * 6 * 5
    assert matmul.baddbmm_macs((2, 4, 5), (2, 4, 6), (2, 6, 5)) == 240
    assert matmul.mv_macs((4, 6), (6,)) == 24  # 4 * 6
    assert matmul.dot_macs((7,), (7,)) == 7


def test_convolution_formulas() -> None:
    # 2 images * 8x8 outputs * (16 out * 3 in * 3 * 3 kernel) = 2 * 64 * 432
    assert convolution.conv_macs((2, 3, 10, 10), (16, 3, 3, 3), (2, 16, 8, 8), False) == 55296
    # transposed: per input position: 1 * 5*5 inputs * (4 in * 2 out * 3 * 3) = 25 * 72
    assert convolution.conv_macs((1, 4, 5, 5), (4, 2, 3, 3), (1, 2, 7, 7), True) == 1800
    # backward with both input and weight gradients: twice the forward
    assert convolution.convolution_backward_macs(
        (2, 16, 8, 8), (2, 3, 10, 10), (16, 3, 3, 3), None, [1, 1], [0, 0], [1, 1],
        False, [0, 0], 1, [True, True, False],
    ) == 2 * 55296


def test_attention_formulas() -> None:
    # q [2, 8, 16, 32], k/v [2, 2, 24, 32] (GQA): 2*8 heads * 16 * 24 * (32 + 32)
    assert sdpa_macs((2, 8, 16, 32), (2, 2, 24, 32), (2, 2, 24, 32)) == 2 * 8 * 16 * 24 * 64
    # backward: recompute QK^T, dV, dP, dQ, dK = 16 * 24 * (3 * 32 + 2 * 32) per head
    assert sdpa_backward_macs(
        (2, 8, 16, 32), (2, 8, 16, 32), (2, 2, 24, 32), (2, 2, 24, 32)
    ) == 2 * 8 * 16 * 24 * 160


def test_recurrent_formulas() -> None:
    # 7 steps * 3 batch * (4H*in + 4H*H) with H=8, in=5: 21 * (160 + 256)
    assert recurrent.mkldnn_rnn_layer_macs((7, 3, 5), (32, 5), (32, 8)) == 21 * 416


def test_duplicate_registration_is_an_error() -> None:
    from summaryplus.formulas import register_macs

    with pytest.raises(ValueError, match="already has"):
        register_macs("mm")(lambda *a, **k: 0)


def test_unknown_op_names_are_an_error_unless_optional() -> None:
    from summaryplus.formulas import register_macs, registered_ops

    with pytest.raises(ValueError, match="not an op of this torch"):
        register_macs("mm_with_a_typo")(lambda *a, **k: 0)
    before = registered_ops()
    register_macs(optional=["op_of_a_future_torch"])(lambda *a, **k: 0)
    assert registered_ops() == before


# ---------------------------------------------------- models, hand-derived
def test_linear_counts_every_leading_dimension() -> None:
    # 2 * 5 * 7 rows * 16 in * 4 out
    assert macs(nn.Linear(16, 4), input_size=(2, 5, 7, 16)) == 2 * 5 * 7 * 16 * 4


@pytest.mark.parametrize(
    "layer,shape,expected",
    [
        # grouped: 2 groups -> weight [8, 2, 3, 3]; 1 * 6*6 outputs * 8*2*9
        (nn.Conv2d(4, 8, 3, groups=2), (1, 4, 8, 8), 36 * 8 * 2 * 9),
        # depthwise: weight [6, 1, 3, 3]; 2 * 4*4 * 6*9
        (nn.Conv2d(6, 6, 3, groups=6), (2, 6, 6, 6), 2 * 16 * 54),
        # 1-d: weight [5, 3, 4]; 2 * 7 outputs * 60
        (nn.Conv1d(3, 5, 4), (2, 3, 10), 2 * 7 * 60),
        # 3-d: weight [2, 2, 2, 2, 2]; 1 * 3*3*3 outputs * 32
        (nn.Conv3d(2, 2, 2), (1, 2, 4, 4, 4), 27 * 32),
        # transposed: weight [3, 4, 2, 2]; per input position: 1 * 5*5 * 48
        (nn.ConvTranspose2d(3, 4, 2, stride=2), (1, 3, 5, 5), 25 * 48),
        # transposed 1-d, grouped: weight [4, 1, 3]; 2 * 6 inputs * 12
        (nn.ConvTranspose1d(4, 2, 3, groups=2), (2, 4, 6), 2 * 6 * 12),
    ],
)
def test_convolutions(layer: nn.Module, shape: tuple[int, ...], expected: int) -> None:
    assert macs(layer, input_size=shape) == expected


def _attention_block(batch: int, length: int, embed: int) -> int:
    # in-projection 3*E*E per token, scores + mix 2*L*E per token, out-projection E*E
    tokens = batch * length
    return tokens * 3 * embed * embed + 2 * batch * length * length * embed + tokens * embed**2


@pytest.mark.parametrize("mode", ["eval", "train"])  # eval takes the fused fast path
def test_multihead_attention(mode: str) -> None:
    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn = nn.MultiheadAttention(32, 4, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.attn(x, x, x, need_weights=False)[0]  # type: ignore[no-any-return]

    assert macs(SelfAttention(), input_size=(2, 10, 32), mode=mode) == _attention_block(2, 10, 32)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_transformer_encoder_with_and_without_fast_path(mode: str) -> None:
    layer = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, batch_first=True)
    model = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    per_layer = _attention_block(2, 10, 32) + 2 * 2 * 10 * 32 * 64
    assert macs(model, input_size=(2, 10, 32), mode=mode) == 2 * per_layer


def test_sdpa_with_grouped_query_attention_and_functional_ops() -> None:
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.randn(16, 16))

        def forward(self, q: torch.Tensor, kv: torch.Tensor) -> torch.Tensor:
            out = F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True)
            flat = out.flatten(0, 1)  # [16, 12, 16]
            mixed = torch.einsum("btd,de->bte", flat, self.w)
            return torch.bmm(mixed, mixed.transpose(1, 2)) + F.linear(flat, self.w).sum()

    q = torch.randn(2, 8, 12, 16)
    kv = torch.randn(2, 2, 12, 16)
    expected = (
        2 * 8 * 12 * 12 * (16 + 16)  # attention, every query head
        + 16 * 12 * 16 * 16  # einsum -> bmm
        + 16 * 12 * 16 * 12  # bmm
        + 16 * 12 * 16 * 16  # F.linear
    )
    stats = summary(Functional(), input_data=[q, kv], verbose=0)
    assert stats.total_mult_adds == expected
    assert stats.summary_list[0].own_macs == expected  # counted where it ran


def test_recurrent_networks() -> None:
    # LSTM: 2 * 7 tokens * (layer 0: 4*32*16 + 4*32*32, layer 1: 2 * 4*32*32); fc: 2 * 32 * 5
    expected = 14 * (2048 + 4096) + 14 * (4096 + 4096) + 2 * 32 * 5
    assert macs(LSTMNet(), input_size=(2, 7), dtypes=[torch.long]) == expected

    class Packed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(4, 6, batch_first=True)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            packed = nn.utils.rnn.pack_padded_sequence(
                x, lengths, batch_first=True, enforce_sorted=False
            )
            return self.gru(packed)[1]  # type: ignore[no-any-return]

    # only the 5 + 2 + 3 real steps run: 10 * (3*6*4 + 3*6*6)
    data = [torch.randn(3, 5, 4), torch.tensor([5, 2, 3])]
    assert macs(Packed(), input_data=data) == 10 * (72 + 108)


def test_parent_rows_sum_their_subtree_and_repeated_calls_count() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = nn.Sequential(nn.Linear(8, 8), nn.ReLU())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.block(self.block(x)) @ torch.ones(8, 2)

    stats = summary(Twice(), input_size=(3, 8), verbose=0)
    root, first, linear, _, second, *_ = stats.summary_list
    assert linear.macs == 3 * 8 * 8
    assert first.macs == second.macs == 3 * 8 * 8
    assert root.own_macs == 3 * 8 * 2
    assert root.macs == stats.total_mult_adds == 2 * 192 + 48
    assert stats.total_flops == 2 * stats.total_mult_adds
    for row in stats.summary_list:
        assert row.macs == row.own_macs + sum(child.macs for child in row.children)


def test_uncounted_ops_are_reported_not_hidden() -> None:
    class Exponential(nn.Module):
        def forward(self, a: torch.Tensor) -> torch.Tensor:
            # matrix_exp's number of products depends on the values: no formula
            return torch.linalg.matrix_exp(a @ a.mT)

    stats = summary(Exponential(), input_size=(2, 3, 3), verbose=0)
    assert stats.uncounted_ops and not stats.macs_complete
    assert "Mult-adds are partial" in str(stats)


def test_backward_is_counted_from_a_real_backward_pass() -> None:
    model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 3))
    step = training_flops(model, input_size=(2, 8))
    # forward 2*8*4 + 2*4*3; backward: first layer weight grad only (64),
    # second layer weight and input grads (2 * 24)
    assert (step.forward_macs, step.backward_macs) == (88, 112)
    assert step.total_flops == 2 * (88 + 112)
    assert all(p.grad is None for p in model.parameters())
    model[0].requires_grad_(False)
    assert training_flops(model, input_size=(2, 8)).backward_macs == 24
    with torch.device("meta"):
        meta_model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 3))
    assert training_flops(meta_model, input_size=(2, 8)).backward_macs == 112


def test_training_flops_without_anything_to_differentiate_raises() -> None:
    frozen = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 3)).requires_grad_(False)
    with pytest.raises(ValueError, match="no output of Sequential that requires grad"):
        training_flops(frozen, input_size=(2, 8))

    class Detached(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(8, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(x).detach()

    with pytest.raises(ValueError, match=r"loss\.backward\(\) would raise"):
        training_flops(Detached(), input_size=(2, 8))
    # Frozen weights but an input that requires grad: its gradient is the backward
    # (2 * 4 * 8 = 64 through the first layer, 2 * 3 * 4 = 24 through the second).
    step = training_flops(frozen, input_data=[torch.rand(2, 8, requires_grad=True)])
    assert step.backward_macs == 24 + 64


# ------------------------------------------------- transformers zoo, any device
def _zoo() -> list[tuple[str, Any, Any, dict[str, Any]]]:
    transformers = pytest.importorskip("transformers")
    ids = {"input_size": (2, 16), "dtypes": [torch.long]}
    return [
        ("gpt2", transformers.GPT2LMHeadModel,
         transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=500), ids),
        ("bert", transformers.BertModel,
         transformers.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                 intermediate_size=128, vocab_size=500), ids),
        ("llama-gqa", transformers.LlamaForCausalLM,
         transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                  num_attention_heads=8, num_key_value_heads=2,
                                  vocab_size=500), ids),
        ("t5", transformers.T5ForConditionalGeneration,
         transformers.T5Config(d_model=64, d_ff=128, num_layers=2, num_heads=4, d_kv=16,
                               vocab_size=500),
         {"input_data": {"input_ids": torch.randint(0, 500, (2, 16)),
                         "decoder_input_ids": torch.randint(0, 500, (2, 8))}}),
        ("vit", transformers.ViTModel,
         transformers.ViTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=128, image_size=32, patch_size=8),
         {"input_size": (2, 3, 32, 32)}),
        ("resnet", transformers.ResNetModel,
         transformers.ResNetConfig(embedding_size=16, hidden_sizes=[16, 32], depths=[1, 1]),
         {"input_size": (2, 3, 32, 32)}),
    ]


@pytest.mark.parametrize("name,model_class,config,inputs", _zoo(), ids=[z[0] for z in _zoo()])
def test_transformers_models_count_the_same_on_cpu_meta_and_fake(
    name: str, model_class: Any, config: Any, inputs: dict[str, Any]
) -> None:
    torch.manual_seed(0)
    real = model_class(config)
    with torch.device("meta"):
        meta = model_class(config)
    cpu = summary(real, verbose=0, **inputs)
    on_meta = summary(meta, verbose=0, **inputs)
    fake = summary(real, device="meta", verbose=0, **inputs)
    assert cpu.uncounted_ops == on_meta.uncounted_ops == fake.uncounted_ops == {}
    assert cpu.total_mult_adds == on_meta.total_mult_adds == fake.total_mult_adds > 0
    assert cpu.total_params == on_meta.total_params == fake.total_params
    assert [r.macs for r in cpu.summary_list] == [r.macs for r in on_meta.summary_list]


def test_gpt2_matches_the_analytic_count() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=500)
    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(config)
    tokens, length, d = 2 * 16, 16, 64
    per_layer = 12 * tokens * d * d + 2 * 2 * length * length * d  # projections, attention
    expected = 2 * per_layer + tokens * d * 500  # + LM head
    assert macs(model, input_size=(2, 16), dtypes=[torch.long]) == expected


def test_meta_model_whose_mask_code_reads_values() -> None:
    # transformers' mask code calls .item() on the attention mask: plain meta
    # tensors cannot answer, so the summary runs again on fake tensors.
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                      num_attention_heads=8, num_key_value_heads=2,
                                      vocab_size=500)
    with torch.device("meta"):
        meta = transformers.LlamaForCausalLM(config)
    ids = torch.randint(0, 500, (2, 16))
    data = {"input_ids": ids, "attention_mask": torch.ones(2, 16, dtype=torch.long)}
    with_mask = summary(meta, input_data=data, verbose=0)
    plain = summary(meta, input_size=(2, 16), dtypes=[torch.long], verbose=0)
    assert with_mask.total_mult_adds == plain.total_mult_adds > 0
    assert with_mask.uncounted_ops == {}
    assert training_flops(meta, input_data=data).backward_macs > 0
