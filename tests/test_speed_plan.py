"""Prefill/decode bounds and inverse planning of ``plan`` (``summaryplus.speed``):
bounds equal their arithmetic exactly, and the largest context and batch
round-trip (they fit; one block, or one sequence, more does not)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from summaryplus.cli import main
from summaryplus.gpus import get_gpu, parse_gpu_spec
from summaryplus.plan import Plan, plan
from summaryplus.speed import memory_at, speed_plan

transformers = pytest.importorskip("transformers")

# Llama-3-8B's shape with 2 of its 32 layers (a plan in seconds).
LLAMA = dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=2,
             num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
             max_position_embeddings=8192, architectures=["LlamaForCausalLM"])


@pytest.fixture(scope="module")
def llama_plan() -> Plan:
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**LLAMA))
    return plan(model, context=512)


def test_decode_and_prefill_bounds_are_their_arithmetic(llama_plan: Plan) -> None:
    speed = speed_plan(llama_plan, ["h100-sxm", "a100-40gb"])
    bf16 = llama_plan.inference[0]
    # KV: 2 (k, v) x 2 layers x 8 kv heads x 128 x 512 tokens x 2 bytes
    assert bf16.kv_cache == 2 * 2 * 8 * 128 * 512 * 2
    row = speed.row("h100-sxm", "bf16")
    # decode <= 3.35e12 / (weights + KV + step activations) tokens/s at batch 1
    step = bf16.weights + bf16.kv_cache + round(speed.activation_bytes_per_token)
    assert row.decode_bytes == step
    assert row.decode_tokens_per_second == 3.35e12 / step
    # prefill >= FLOPs / 989.4e12 (compute bound at 512 tokens)
    flops = round(llama_plan.forward_flops_per_token * 512)
    assert row.prefill_flops == flops and row.prefill_bound_by == "compute"
    assert row.prefill_seconds == flops / 989.4e12
    # int8 weights read fewer bytes; fp8 only where the GPU has the rate
    assert speed.row("h100-sxm", "int8").decode_tokens_per_second > row.decode_tokens_per_second
    # fp8: int8's weight bytes (embeddings and head stay bf16: 2.1 GB here), so
    # max(FLOPs / 1978.9e12, (weights + KV) / 3.35e12) is the memory side
    fp8, int8 = speed.row("h100-sxm", "fp8"), llama_plan.inference[1]
    assert fp8.prefill_seconds == max(flops / 1978.9e12, (int8.weights + int8.kv_cache) / 3.35e12)
    assert fp8.prefill_bound_by == "memory"
    with pytest.raises(KeyError):
        speed.row("a100-40gb", "fp8")


def test_largest_context_and_batch_round_trip(llama_plan: Plan) -> None:
    tokens = llama_plan.context * llama_plan.batch
    for utilization in (0.9, 0.5):
        speed = speed_plan(llama_plan, ["l4", "h100-sxm"], utilization=utilization)
        for row in speed.rows:
            dtype = {"bf16": "bfloat16", "fp8": "int8"}.get(row.setup, row.setup)
            memory = next(m for m in llama_plan.inference if m.dtype == dtype)
            assert row.budget == int(get_gpu(row.gpu).usable * utilization)
            context, batch = row.max_context, row.max_batch
            assert context % speed.block == 0 and context > 0
            assert memory_at(memory, tokens, context, 1) <= row.budget
            assert memory_at(memory, tokens, context + speed.block, 1) > row.budget
            assert memory_at(memory, tokens, 512, batch) <= row.budget
            assert memory_at(memory, tokens, 512, batch + 1) > row.budget


def test_weights_that_do_not_fit_give_zero(llama_plan: Plan) -> None:
    tiny = "name=tiny,bandwidth=100G,bf16=10T,memory=1G"
    row = speed_plan(llama_plan, [parse_gpu_spec(tiny)]).row("tiny", "bf16")
    assert (row.max_context, row.max_batch, row.fits) == (0, 0, False)


def test_bad_utilization() -> None:
    found = Plan.__new__(Plan)
    with pytest.raises(ValueError, match=r"utilization=1\.5 is not valid"):
        speed_plan(found, ["l4"], utilization=1.5)


def _config(tmp_path: Path) -> Path:
    folder = tmp_path / "llama"
    transformers.LlamaConfig(**LLAMA).save_pretrained(folder)
    return folder / "config.json"


def test_cli_speed_text_and_json(tmp_path: Path, capsys: Any) -> None:
    path = str(_config(tmp_path))
    argv = ["plan", path, "--context", "128", "--gpu", "h100-sxm", "--gpu-spec",
            "name=mine,bandwidth=1T,bf16=100T,memory=24G"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Speed bounds at context 128, batch 1" in out and "mine" in out
    assert "max context (batch 1)" in out
    assert main([*argv, "--format", "json", "--utilization", "0.5"]) == 0
    data = json.loads(capsys.readouterr().out)
    speed = data["speed"]
    assert speed["utilization"] == 0.5
    assert {row["gpu"] for row in speed["rows"]} == {"h100-sxm", "mine"}
    assert [gpu["key"] for gpu in data["gpus"]] == ["h100-sxm", "mine"]
    assert main(["plan", path, "--context", "128", "--gpu", "h1000"]) == 2
    assert "accepted values: h100-sxm" in capsys.readouterr().err
