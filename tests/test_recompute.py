"""The activation-checkpointing plan: its predicted saved bytes equal, to the
byte, what a summary of the model measures once the plan is applied."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from summaryplus import load_summary, summary
from summaryplus.examples import TinyGPT
from summaryplus.recompute import Predictor, parse_bytes
from tests.test_findings import ResNet18


def tiny_gpt_stats(model: nn.Module | None = None) -> Any:
    torch.manual_seed(0)
    return summary(model or TinyGPT(depth=4), input_size=(2, 64), dtypes=[torch.long],
                   mode="train", verbose=0)


def apply(plan: Any, model: nn.Module) -> nn.Module:
    """Runs the plan's own snippet on ``model``."""
    exec(plan.snippet(), {"model": model})
    return model


def test_nothing_wrapped_predicts_the_measured_bytes() -> None:
    stats = tiny_gpt_stats()
    assert Predictor(stats, stats.saved_storages).saved_bytes(()) == stats.activation_bytes


@pytest.mark.parametrize(
    "paths",
    [("blocks.0",), ("blocks.0", "blocks.1"), ("blocks.0", "blocks.1", "blocks.2", "blocks.3"),
     ("blocks.1.mlp",), ("blocks.0.attn", "blocks.2.mlp.1")],
)
def test_any_set_of_wrapped_modules_is_predicted_to_the_byte(paths: tuple[str, ...]) -> None:
    from functools import partial

    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
        CheckpointImpl,
        apply_activation_checkpointing,
        checkpoint_wrapper,
    )

    stats = tiny_gpt_stats()
    predicted = Predictor(stats, stats.saved_storages).saved_bytes(paths)
    model = TinyGPT(depth=4)
    wrapped = {id(m) for name, m in model.named_modules() if name in paths}
    wrapper = partial(checkpoint_wrapper, checkpoint_impl=CheckpointImpl.NO_REENTRANT)
    apply_activation_checkpointing(
        model, checkpoint_wrapper_fn=wrapper, check_fn=lambda module: id(module) in wrapped
    )
    assert tiny_gpt_stats(model).activation_bytes == predicted < stats.activation_bytes


def test_plan_on_a_small_transformer_fits_and_is_measured() -> None:
    stats = tiny_gpt_stats()
    plan = stats.checkpoint_plan(budget="17MB")
    # Each block saves 986,112 B and its checkpoint keeps its 65,536 B input
    # (2 x 64 x 128 x 4): two blocks take 4,343,296 B to 2,369,024.
    assert plan.paths == ("blocks.0", "blocks.1")
    assert plan.fits and plan.peak <= 17_000_000 < plan.peak_before
    assert (plan.saved_bytes_before, plan.saved_bytes) == (4_343_296, 2_369_024)
    assert plan.recompute_flops == sum(
        row.flops for row in stats.summary_list if row.module_path in plan.paths
    )
    assert tiny_gpt_stats(apply(plan, TinyGPT(depth=4))).activation_bytes == plan.saved_bytes
    assert "apply_activation_checkpointing" in str(plan)
    assert plan.to_dict()["paths"] == ["blocks.0", "blocks.1"]


def test_a_budget_nothing_fits_wraps_what_helps_and_says_so() -> None:
    plan = tiny_gpt_stats().checkpoint_plan(budget="1MB")
    assert not plan.fits and len(plan.paths) == 4
    assert "does NOT fit" in str(plan)
    roomy = tiny_gpt_stats().checkpoint_plan(budget="1GB")
    assert roomy.fits and roomy.paths == () and roomy.recompute_flops == 0


def test_plan_on_a_cnn() -> None:
    def stats_of(model: nn.Module) -> Any:
        # ImageNet's shape at batch 32: activations (not the optimizer step) set the peak.
        return summary(model, input_size=(32, 3, 224, 224), device="meta", mode="train",
                       verbose=0)

    stats = stats_of(ResNet18())
    budget = stats.training_memory().total - 100_000_000  # 0.1 GB under the whole step
    plan = stats.checkpoint_plan(budget=budget)
    assert plan.fits and plan.paths and all(p.startswith("layers.") for p in plan.paths)
    assert stats_of(apply(plan, ResNet18())).activation_bytes == plan.saved_bytes


def test_plan_on_a_transformers_model_with_its_own_switch() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=256,
    )

    def stats_of(model: nn.Module) -> Any:
        return summary(model, input_size=(2, 32), dtypes=[torch.long], mode="train", verbose=0)

    # Training runs without the KV cache (gradient checkpointing turns it off):
    # the layers then take no cache object holding the earlier layers' keys.
    config.use_cache = False
    torch.manual_seed(0)
    stats = stats_of(transformers.LlamaForCausalLM(config))
    plan = stats.checkpoint_plan(budget="1MB")  # needs every layer
    assert plan.paths == tuple(f"model.layers.{i}" for i in range(4))
    assert plan.transformers_layers
    assert "gradient_checkpointing_enable" in plan.snippet()
    model = transformers.LlamaForCausalLM(config)
    apply(plan, model)
    measured = stats_of(model).activation_bytes
    # Each checkpoint keeps hidden_states (2 x 32 x 64 x 4 = 16,384 B, positional)
    # and its keyword inputs, which transformers binds in a functools.partial:
    # RoPE's cos and sin (1 x 32 x 16 x 4 = 2,048 B each, shared by the 4 layers)
    # and position_ids (1 x 32 x 8 = 256 B). The prediction counts them, and so
    # does the measurement (capture/checkpoint_regions.py): 119,296 B both.
    assert measured == plan.saved_bytes == 119_296


def test_plan_needs_a_live_train_mode_summary() -> None:
    stats = tiny_gpt_stats()
    with pytest.raises(ValueError, match="mode='train'"):
        load_summary(stats.to_dict()).checkpoint_plan(budget="1GB")
    with pytest.raises(ValueError, match="mode='train'"):
        summary(TinyGPT(), input_size=(2, 8), dtypes=[torch.long], verbose=0).checkpoint_plan(
            budget="1GB"
        )
    with pytest.raises(ValueError, match="candidates"):
        stats.checkpoint_plan(budget="1GB", candidates="some")


def test_budget_sizes() -> None:
    assert parse_bytes("80GB") == 80 * 10**9
    assert parse_bytes("80 GiB") == 80 * 2**30
    assert parse_bytes(1.5e9) == 1_500_000_000
    for bad in ("80 apples", "-1GB", 0, True):
        with pytest.raises(ValueError, match="budget"):
            parse_bytes(bad)  # type: ignore[arg-type]


def test_plan_command_with_checkpoint(tmp_path: Any) -> None:
    import json

    from tests.test_cli import run_cli as cli  # a process of its own: plan sets env vars

    (tmp_path / "gpt.py").write_text(
        "from summaryplus.examples import TinyGPT\n"
        "def make():\n"
        "    return TinyGPT(depth=4)\n"
    )
    text = cli("plan", "gpt.py:make", "--context", "64", "--batch", "2", "--checkpoint",
               "14MB", cwd=tmp_path)
    assert text.code == 0, text.err
    assert "Activation checkpointing" in text.out and "14.00 MB" in text.out
    data = json.loads(cli("plan", "gpt.py:make", "--context", "64", "--batch", "2",
                          "--checkpoint", "14MB", "--format", "json", cwd=tmp_path).out)
    plan = data["checkpointing"]
    assert plan["budget"] == 14_000_000 and plan["paths"]
    assert plan["saved_bytes"] < plan["saved_bytes_before"]
    bad = cli("plan", "gpt.py:make", "--context", "64", "--checkpoint", "lots", cwd=tmp_path)
    assert bad.code == 2 and "budget='lots' is not a size" in bad.err
