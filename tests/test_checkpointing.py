"""Activation checkpointing: ``training_flops()`` counts what the backward
really recomputes (reentrant and not), and the saved bytes include every tensor
a checkpoint keeps (positional, keyword, closure)."""

from __future__ import annotations

import os

import pytest
import torch
import torch.utils.checkpoint as checkpoint
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from summaryplus import summary, training_flops

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class _Checkpointed(nn.Module):
    """first: Linear(16, 16); inner: Linear(16, 16) under checkpoint."""

    def __init__(self, reentrant: bool) -> None:
        super().__init__()
        self.first = nn.Linear(16, 16)
        self.inner = nn.Linear(16, 16)
        self.reentrant = reentrant

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x)
        out: torch.Tensor = checkpoint.checkpoint(self.inner, h, use_reentrant=self.reentrant)
        return out


def _torch_backward_macs(model: nn.Module, x: torch.Tensor) -> int:
    out = model(x)
    with FlopCounterMode(display=False) as counter:
        out.sum().backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops()) // 2


def test_reentrant_checkpoint_backward_recomputes_the_segment() -> None:
    model = _Checkpointed(reentrant=True)
    step = training_flops(model, input_size=(4, 16))
    assert step.forward_macs == 2 * 4 * 16 * 16  # 2,048
    # recomputed inner forward 4 * 16 * 16 = 1,024; inner grad input 1,024 and
    # grad weight 1,024; first grad weight 1,024 (x needs none): 4,096
    assert step.backward_macs == 4_096
    assert step.backward_macs == _torch_backward_macs(model, torch.randn(4, 16))
    assert all(param.grad is None for param in model.parameters())


def test_reentrant_checkpoint_keeps_existing_gradients() -> None:
    model = _Checkpointed(reentrant=True)
    grads = [torch.full_like(param, 3.0) for param in model.parameters()]
    for param, grad in zip(model.parameters(), grads, strict=True):
        param.grad = grad
    training_flops(model, input_size=(4, 16))
    for param, grad in zip(model.parameters(), grads, strict=True):
        assert param.grad is grad
        assert bool((grad == 3.0).all())


def test_non_reentrant_checkpoint_backward_counts_what_it_recomputes() -> None:
    model = _Checkpointed(reentrant=False)
    step = training_flops(model, input_size=(4, 16))
    # The recomputation stops as soon as the saved tensors are back (early
    # stop): the inner matmul's inputs h and W are all its backward needs, so
    # it does not run again. inner grad input 1,024 + grad weight 1,024 +
    # first grad weight 1,024 = 3,072, as torch's own counter says.
    assert step.backward_macs == 3_072
    assert step.backward_macs == _torch_backward_macs(model, torch.randn(4, 16))


class _Scaled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(16, 16)

    def forward(self, x: torch.Tensor, scale: torch.Tensor | None = None) -> torch.Tensor:
        return self.linear(x) * scale


class _KeywordCheckpoint(nn.Module):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.first = nn.Linear(16, 16)
        self.gate = nn.Linear(16, 16)
        self.inner = _Scaled()
        self.how = how

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, scale = self.first(x), self.gate(x)
        out: torch.Tensor
        if self.how == "keyword":
            out = checkpoint.checkpoint(self.inner, h, scale=scale, use_reentrant=False)
        elif self.how == "closure":
            out = checkpoint.checkpoint(
                lambda hidden: self.inner(hidden, scale=scale), h, use_reentrant=False
            )
        else:
            out = self.inner(h, scale=scale)
        return out


@pytest.mark.parametrize("how", ["keyword", "closure"])
def test_checkpoint_keeps_keyword_and_closure_tensors(how: str) -> None:
    stats = summary(_KeywordCheckpoint(how), input_size=(4, 16), mode="train", verbose=0)
    # kept until the backward: h (positional) and scale (keyword or closure),
    # 4 * 16 * 4 = 256 bytes each = 512; nothing inside the segment is saved
    assert stats.activation_bytes == 512
    assert stats.summary_list[0].own_activation_bytes == 512


def test_without_checkpoint_the_segment_saves_its_own() -> None:
    stats = summary(_KeywordCheckpoint("none"), input_size=(4, 16), mode="train", verbose=0)
    # inner.linear saves h (256); the product saves both factors: the linear's
    # output (256) and scale (256): 768
    assert stats.activation_bytes == 768


def test_hf_gradient_checkpointing_keeps_the_keyword_inputs() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(
        vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )
    model = transformers.LlamaForCausalLM(config)
    model.gradient_checkpointing_enable()
    stats = summary(model, input_size=(1, 16), dtypes=[torch.long], mode="train", verbose=0,
                    use_cache=False)
    rows = {row.module_path: row for row in stats.summary_list}
    # layer 0 keeps hidden 16 * 32 * 4 = 2,048, cos and sin 2 * 16 * 8 * 4 =
    # 1,024 (keywords) and cache_position 16 * 8 = 128 (keyword): 3,200
    assert rows["model.layers.0"].activation_bytes == 3_200
    # layer 1: its hidden 2,048; cos, sin and cache_position are the same tensors
    assert rows["model.layers.1"].activation_bytes == 2_048
    ids = torch.randint(0, 128, (1, 16))
    checkpointed = training_flops(model, input_data=ids, use_cache=False).backward_macs
    model.gradient_checkpointing_disable()
    plain = training_flops(model, input_data=ids, use_cache=False).backward_macs
    # Each layer's forward runs again in the backward, up to its last saved
    # tensor (early stop: down_proj's inputs are saved, so it does not run):
    # q 16*32*32 = 16,384 + k, v 2 * 16*32*16 = 16,384 + attention
    # 4 heads * 16*16*8 * 2 = 16,384 + o 16,384 + gate, up 2 * 16*32*64 =
    # 65,536 = 131,072 per layer, 2 layers: 262,144
    assert checkpointed - plain == 262_144
