"""Training-step memory from what the step really allocates: gradients and
optimizer state only for the trainable parameters the outputs reach, outputs
that are saved activations counted once, no gradient for outputs a loss is not
built from (caches, integer, detached)."""

from __future__ import annotations

import os

import pytest
import torch
import torch.utils.checkpoint
from torch import nn

from summaryplus import load_summary, summary

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class _WithUnusedHead(nn.Module):
    """``used`` runs; ``unused`` never does; ``frozen`` runs without gradients."""

    def __init__(self) -> None:
        super().__init__()
        self.used = nn.Linear(256, 256)
        self.unused = nn.Linear(1024, 1024)
        self.frozen = nn.Linear(256, 10)
        self.frozen.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.frozen(self.used(x)))


def test_parameters_that_never_ran_get_no_gradient_or_state() -> None:
    stats = summary(_WithUnusedHead(), input_size=(4, 256), mode="train", verbose=0)
    memory = stats.training_memory("adam")
    # used: 256 * 256 + 256 = 65,792 params * 4 bytes = 263,168
    assert stats.gradient_params == 65_792
    assert memory.gradients == 263_168
    assert memory.optimizer_state == 2 * 263_168
    assert memory.largest_gradient == 256 * 256 * 4
    # unused: 1024 * 1024 + 1024 = 1,049,600 params, named
    assert stats.unused_trainable_params == ("unused.weight", "unused.bias")
    assert memory.no_gradient == ("unused.weight", "unused.bias")
    assert stats.to_dict()["totals"]["unused_trainable_params"] == ["unused.weight", "unused.bias"]
    text = str(stats)
    assert (
        "Trainable params with no gradient: 1,049,600 (not reached by the outputs: "
        "unused.weight, unused.bias)" in text
    )
    assert "unused.weight" in str(memory)


def test_parameters_used_without_grad_get_no_gradient() -> None:
    class NoGradBranch(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(8, 8)
            self.teacher = nn.Linear(8, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                target = self.teacher(x)
            return self.a(x) - target

    stats = summary(NoGradBranch(), input_size=(2, 8), mode="train", verbose=0)
    assert stats.unused_trainable_params == ("teacher.weight", "teacher.bias")
    # a: 8 * 8 + 8 = 72 params * 4 bytes = 288
    assert stats.training_memory("sgd").gradients == 288


def test_tied_parameter_reached_through_either_name_is_used() -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(10, 4)
            self.head = nn.Linear(4, 10, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.head(self.embed(ids))

    stats = summary(Tied(), input_data=torch.tensor([[1, 2]]), mode="train", verbose=0)
    assert stats.unused_trainable_params == ()
    assert stats.gradient_params == 40  # 10 * 4, once


def test_output_saved_by_its_own_op_counts_once() -> None:
    # Sigmoid saves its output for backward: that output is an activation and
    # an output at once. Output 16 * 256 floats = 16,384 bytes.
    model = nn.Sequential(nn.Linear(64, 256), nn.Sigmoid())
    stats = summary(model, input_size=(16, 64), mode="train", verbose=0)
    memory = stats.training_memory("adam")
    assert stats.activation_bytes == 16_384
    assert stats.output_held_bytes == 0
    assert stats.output_grad_bytes == 16_384
    assert memory.outputs == 16_384  # was 2 * 16,384
    # params (64 * 256 + 256) * 4 = 66,560; adam 2 * 66,560 = 133,120;
    # inputs 16 * 64 * 4 = 4,096; largest gradient 64 * 256 * 4 = 65,536
    # backward start: 66,560 + 133,120 + 4,096 + 16,384 + 16,384 + 65,536 = 302,080
    assert memory.total == 302_080


@pytest.mark.parametrize("last", [nn.Tanh(), nn.Softmax(-1), nn.LogSoftmax(-1)])
def test_every_op_that_saves_its_output_counts_once(last: nn.Module) -> None:
    stats = summary(nn.Sequential(nn.Linear(8, 32), last), input_size=(4, 8), mode="train",
                    verbose=0)
    # 4 * 32 floats = 512 bytes: saved once, plus its gradient
    assert stats.output_held_bytes == 0
    assert stats.training_memory().outputs == 512


def test_integer_and_detached_outputs_get_no_gradient() -> None:
    class Three(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(8, 8)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
            y = self.linear(x)
            return y, y.argmax(-1), y.detach() * 2

    stats = summary(Three(), input_size=(4, 8), mode="train", verbose=0)
    # held: y 4 * 8 * 4 = 128 + argmax 4 * 8 (int64) = 32 + detached 128 = 288
    assert stats.output_held_bytes == 288
    # a gradient for y only: 128
    assert stats.output_grad_bytes == 128
    assert stats.training_memory().outputs == 416


def test_returned_kv_cache_holds_no_gradient_and_is_not_counted_twice() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )
    model = transformers.LlamaForCausalLM(config)
    with_cache, without = (
        summary(model, input_size=(1, 16), dtypes=[torch.long], mode="train", verbose=0,
                use_cache=use_cache)
        for use_cache in (True, False)
    )
    # The cache: 2 layers * (k + v) * 2 kv heads * 16 tokens * 8 dims * 4 bytes = 4,096
    assert with_cache.summary_list[0].output_bytes - without.summary_list[0].output_bytes == 4_096
    # ...all of it saved by attention already, and no gradient: the logits
    # 16 * 128 * 4 = 8,192 bytes, held once, and their gradient.
    assert with_cache.output_held_bytes == without.output_held_bytes == 8_192
    assert with_cache.output_grad_bytes == 8_192
    assert with_cache.training_memory().total == without.training_memory().total


def test_reentrant_checkpoint_parameters_count_as_used() -> None:
    class Checkpointed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.Linear(8, 8)
            self.inner = nn.Linear(8, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.first(x)
            return torch.utils.checkpoint.checkpoint(self.inner, h, use_reentrant=True)

    stats = summary(Checkpointed(), input_size=(2, 8), mode="train", verbose=0)
    assert stats.unused_trainable_params == ()
    assert stats.gradient_params == 2 * 72  # two layers of 8 * 8 + 8


def test_loaded_summary_gives_the_same_estimate() -> None:
    stats = summary(_WithUnusedHead(), input_size=(4, 256), mode="train", verbose=0)
    loaded = load_summary(stats.to_dict())
    assert loaded.training_memory("adam") == stats.training_memory("adam")
    assert loaded.unused_trainable_params == ("unused.weight", "unused.bias")
    assert "Trainable params with no gradient" in str(loaded)


def test_summary_saved_before_the_measurement_keeps_the_old_estimate() -> None:
    stats = summary(nn.Linear(4, 2), input_size=(3, 4), mode="train", verbose=0)
    data = stats.to_dict()
    for name in ("gradient_params", "gradient_param_bytes", "largest_gradient_bytes",
                 "local_gradient_param_bytes", "unused_trainable_params",
                 "output_held_bytes", "output_grad_bytes"):
        del data["totals"][name]
    memory = load_summary(data).training_memory("adam")
    assert memory.gradients == 40  # (4 * 2 + 2) * 4: every trainable parameter
    assert memory.outputs == 2 * 3 * 2 * 4  # every output twice, as before
