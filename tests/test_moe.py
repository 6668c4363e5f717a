"""Mixture-of-experts reporting: expert parameters, active parameters per token
(measured on real tensors, top-k on meta), tokens per expert, capacity."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch
from torch import nn

from summaryplus import compare, load_summary, summary

if TYPE_CHECKING:
    import transformers


def tiny_mixtral(experts: str | None = None) -> transformers.MixtralForCausalLM:
    transformers = pytest.importorskip("transformers")
    config = transformers.MixtralConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=100, num_local_experts=4, num_experts_per_tok=2,
    )
    if experts is not None:
        config._experts_implementation = experts
    torch.manual_seed(0)
    return transformers.MixtralForCausalLM(config).eval()


# Per expert: gate+up 64 -> 2 * 128 and down 128 -> 64: 3 * 64 * 128 = 24,576.
PER_EXPERT = 3 * 64 * 128
EXPERT_PARAMS = 2 * 4 * PER_EXPERT  # 2 layers of 4 experts


@pytest.mark.parametrize("device", [None, "meta"])
def test_packed_experts_report_expert_and_active_params(device: str | None) -> None:
    model = tiny_mixtral()
    stats = summary(model, input_size=(2, 16), dtypes=[torch.long], device=device, verbose=0)
    moe = stats.moe
    assert moe is not None
    assert [layer.module_path for layer in moe.layers] == [
        "model.layers.0.mlp.experts", "model.layers.1.mlp.experts"
    ]
    assert moe.expert_params == EXPERT_PARAMS
    for layer in moe.layers:
        assert (layer.num_experts, layer.top_k, layer.tokens) == (4, 2, 32)
        # every token uses exactly top_k = 2 experts, measured or assumed
        assert layer.active_params_per_token == 2 * PER_EXPERT
        if device is None:  # the grouped GEMM's offsets: 32 tokens x top-2 in all
            assert layer.tokens_per_expert is not None
            assert len(layer.tokens_per_expert) == 4 and sum(layer.tokens_per_expert) == 64
        else:
            assert layer.tokens_per_expert is None  # no routing values on meta
    dense = stats.total_params - EXPERT_PARAMS
    assert moe.active_params_per_token == dense + 2 * 2 * PER_EXPERT
    assert moe.routing == ("top-k" if device == "meta" else "measured")
    text = str(stats)
    assert f"Expert params: {EXPERT_PARAMS:,} in 2 MoE layer(s) of 4 experts" in text
    label = "measured routing" if device is None else "top-k routing assumed"
    assert f"Active params per token: {moe.active_params_per_token:,} ({label}" in text


class ListedExperts(nn.Module):
    """Experts as separate modules, the router sending the first half of the
    tokens to expert 0 and the rest to expert 1 (top-1): per-expert token
    counts come from the experts' own calls."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = nn.Linear(8, 3, bias=False)
        self.top_k = 1
        self.experts = nn.ModuleList([nn.Linear(8, 8, bias=False) for _ in range(3)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.reshape(-1, 8)
        self.gate(tokens)
        half = tokens.shape[0] // 2
        return torch.cat([self.experts[0](tokens[:half]), self.experts[1](tokens[half:])])


def test_listed_experts_count_tokens_per_expert_as_routed() -> None:
    stats = summary(ListedExperts(), input_size=(2, 5, 8), verbose=0)
    (layer,) = stats.moe.layers
    assert layer.tokens_per_expert == (5, 5, 0)
    assert layer.expert_params == 3 * 64
    assert layer.active_params_per_token == 64  # each token ran one 8 x 8 expert
    # gate 24 + one expert's 64 of the three
    assert stats.moe.active_params_per_token == 24 + 64


def test_capacity_routers_are_flagged_as_data_dependent() -> None:
    model = ListedExperts()
    model.gate.expert_capacity = 4  # as Switch Transformers' router holds it
    stats = summary(model, input_size=(2, 5, 8), verbose=0)
    assert stats.moe.data_dependent
    assert "Active params depend on the data" in str(stats)


def test_dense_models_have_no_moe_report() -> None:
    stats = summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0)
    assert stats.moe is None
    assert "Active params" not in str(stats)


def test_moe_figures_reach_json_records_and_comparisons(tmp_path: object) -> None:
    stats = summary(tiny_mixtral(), input_size=(2, 16), dtypes=[torch.long], verbose=0)
    totals = stats.to_dict()["totals"]
    assert totals["expert_params"] == EXPERT_PARAMS
    assert totals["active_params_per_token"] == stats.moe.active_params_per_token
    path = f"{tmp_path}/moe.json"
    stats.to_json(path)
    record = load_summary(path)
    assert record.totals.expert_params == EXPERT_PARAMS
    assert record.active_params_per_token == stats.moe.active_params_per_token
    dense = summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0)
    table = compare({"moe": record, "live": stats, "dense": dense})
    assert [row.active_params for row in table.rows] == [
        stats.moe.active_params_per_token, stats.moe.active_params_per_token, 10
    ]
    assert "Active/token" in str(table)


@pytest.mark.parametrize("built_on_meta", [False, True])
def test_expert_loops_run_on_meta_with_a_stated_routing(built_on_meta: bool) -> None:
    # transformers' eager experts loop over the experts the router chose
    # (nonzero, if expert == ...): values a meta run does not have. The summary
    # assumes a balanced top-k routing, says so, and counts what any top-k
    # routing costs: the same total as on real data.
    cpu = summary(tiny_mixtral("eager"), input_size=(2, 16), dtypes=[torch.long], verbose=0)
    if built_on_meta:
        with torch.device("meta"):
            model = tiny_mixtral("eager")
        meta = summary(model, input_size=(2, 16), dtypes=[torch.long], verbose=0)
    else:
        meta = summary(tiny_mixtral("eager"), input_size=(2, 16), dtypes=[torch.long],
                       device="meta", verbose=0)
    assert meta.total_mult_adds == cpu.total_mult_adds
    grouped = summary(tiny_mixtral(), input_size=(2, 16), dtypes=[torch.long], verbose=0)
    assert meta.total_mult_adds == grouped.total_mult_adds
    assert cpu.assumptions == () and len(meta.assumptions) == 1
    assert "Assumed: balanced routing on tensors without data" in str(meta)
    assert meta.moe.active_params_per_token == cpu.moe.active_params_per_token


def test_switch_routing_on_meta_is_assumed_and_capacity_is_flagged() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.SwitchTransformersConfig(
        d_model=64, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4, d_kv=16,
        vocab_size=100, num_experts=4, expert_capacity=8, num_sparse_encoder_layers=1,
        num_sparse_decoder_layers=1,
    )
    torch.manual_seed(0)
    model = transformers.SwitchTransformersForConditionalGeneration(config).eval()
    ids = torch.randint(0, 100, (2, 8))
    inputs = {"input_ids": ids, "decoder_input_ids": ids}
    cpu = summary(model, input_data=inputs, verbose=0)
    meta = summary(model, input_data=inputs, device="meta", verbose=0)
    (layer, _) = meta.moe.layers
    assert layer.tokens_per_expert == (4, 4, 4, 4)  # 16 tokens, top-1, balanced
    assert sum(cpu.moe.layers[0].tokens_per_expert) == 16  # as routed, 16 in all
    assert meta.moe.data_dependent and cpu.moe.data_dependent
