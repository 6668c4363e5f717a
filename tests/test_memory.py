"""Activations saved for backward, and the training-step estimate."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from models import NestedNet
from torch import nn

from summaryplus import summary
from summaryplus.values import iter_tensors


def graph_saved_bytes(outputs: list[torch.Tensor], exclude: list[torch.Tensor]) -> int:
    """An independent measurement: walk the autograd graph from ``outputs`` and add
    up the storages of every ``_saved_*`` tensor (parameters and inputs excluded)."""
    excluded = {t.untyped_storage().data_ptr() for t in exclude}
    seen: set[int] = set()
    total = 0
    pending = [output.grad_fn for output in outputs]
    visited: set[Any] = set()
    while pending:
        node = pending.pop()
        if node is None or node in visited:
            continue
        visited.add(node)
        for name in dir(node):
            if not name.startswith("_saved_"):
                continue
            try:
                value = getattr(node, name)
            except RuntimeError:
                continue
            for tensor in value if isinstance(value, (tuple, list)) else [value]:
                if not isinstance(tensor, torch.Tensor):
                    continue
                storage = tensor.untyped_storage()
                key = storage.data_ptr()
                if key not in excluded and key not in seen:
                    seen.add(key)
                    total += storage.nbytes()
        pending.extend(next_node for next_node, _ in node.next_functions)
    return total


def _gpt2() -> nn.Module:
    transformers = pytest.importorskip("transformers")
    return transformers.GPT2LMHeadModel(
        transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=500)
    )


def _bert() -> nn.Module:
    transformers = pytest.importorskip("transformers")
    return transformers.BertModel(
        transformers.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=128, vocab_size=500)
    )


def _tensors(output: Any) -> list[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        return [output]
    return [value for value in output.values() if isinstance(value, torch.Tensor)]


CASES = [
    ("cnn-batchnorm", NestedNet, lambda: torch.rand(4, 3, 8, 8)),
    ("mlp", lambda: nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Dropout(0.1),
                                  nn.Linear(64, 8)), lambda: torch.rand(16, 32)),
    ("gpt2", _gpt2, lambda: torch.randint(0, 500, (2, 32))),
    ("bert", _bert, lambda: torch.randint(0, 500, (2, 32))),
]


@pytest.mark.parametrize("name,build,make_input", CASES, ids=[c[0] for c in CASES])
def test_activations_match_an_independent_measurement(
    name: str, build: Any, make_input: Any
) -> None:
    torch.manual_seed(0)
    model = build()
    data = make_input()
    stats = summary(model, input_data=[data], mode="train", verbose=0)
    model.train()
    outputs = _tensors(model(data))
    expected = graph_saved_bytes(outputs, list(model.parameters()) + list(model.buffers()) + [data])
    assert expected > 0
    assert abs(stats.activation_bytes - expected) <= 0.01 * expected
    assert stats.total_output_bytes == stats.activation_bytes
    assert sum(row.own_activation_bytes for row in stats.summary_list) == stats.activation_bytes


def test_the_graph_is_freed_after_the_summary() -> None:
    import gc
    import weakref

    model = _bert()
    seen: list[weakref.ref[torch.Tensor]] = []

    def remember(module: nn.Module, args: Any, output: Any) -> None:
        seen.extend(weakref.ref(t) for t in iter_tensors(output))

    handle = model.encoder.register_forward_hook(remember)
    summary(model, input_size=(2, 16), dtypes=[torch.long], mode="train", verbose=0)
    handle.remove()
    gc.collect()
    assert seen and all(ref() is None for ref in seen)


def test_activations_are_the_same_on_meta() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=500)
    torch.manual_seed(0)
    cpu = summary(transformers.GPT2LMHeadModel(config), input_size=(2, 32),
                  dtypes=[torch.long], mode="train", verbose=0)
    with torch.device("meta"):
        meta_model = transformers.GPT2LMHeadModel(config)
    meta = summary(meta_model, input_size=(2, 32), dtypes=[torch.long], mode="train", verbose=0)
    assert cpu.activation_bytes == meta.activation_bytes > 0


def test_training_memory_parts_add_up() -> None:
    model = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 10))
    model[0].requires_grad_(False)  # frozen: no gradient, no optimizer state
    stats = summary(model, input_size=(8, 100), mode="train", verbose=0)
    adam = stats.training_memory("adam")
    assert adam.params == (5050 + 510) * 4
    assert adam.gradients == 510 * 4
    assert adam.optimizer_state == 2 * 510 * 4
    assert adam.activations == stats.activation_bytes > 0
    assert adam.inputs == 8 * 100 * 4
    resident = adam.params + adam.optimizer_state + adam.master_weights + adam.buffers + adam.inputs
    assert adam.resident == resident
    assert adam.outputs == 2 * 8 * 10 * 4  # the output and its gradient
    assert adam.largest_gradient == 500 * 4  # the second Linear's weight
    assert adam.total == max(
        resident + adam.activations + adam.outputs + adam.largest_gradient,
        resident + adam.gradients,
    )
    assert stats.training_memory("sgd").optimizer_state == 0
    assert stats.training_memory("sgd", momentum=0.9).optimizer_state == 510 * 4
    assert stats.training_memory("none").optimizer_state == 0
    # each part in a unit for its value: 510 params x 4 bytes = 2.04 kB
    assert "Total" in str(adam) and "Gradients" in str(adam) and " 2.04 kB" in str(adam)
    assert "Training step estimate, Adam: " in str(stats)


def test_mixed_precision_keeps_fp32_master_weights_and_state() -> None:
    model = nn.Linear(64, 64).to(torch.bfloat16)
    stats = summary(model, input_data=[torch.rand(4, 64, dtype=torch.bfloat16)], mode="train",
                    verbose=0)
    step = stats.training_memory("adamw", mixed_precision=True)
    assert step.params == step.gradients == 4160 * 2
    assert step.master_weights == 4160 * 4
    assert step.optimizer_state == 2 * 4160 * 4


def test_tied_weights_are_counted_once_in_every_byte_figure() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=100)
    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(config)
    stats = summary(model, input_size=(1, 8), dtypes=[torch.long], mode="train", verbose=0)
    unique = sum(p.numel() for p in model.parameters())
    step = stats.training_memory()
    assert stats.total_param_bytes == step.params == step.gradients == unique * 4
    assert step.optimizer_state == 2 * unique * 4


def test_training_memory_needs_a_train_mode_summary() -> None:
    stats = summary(nn.Linear(4, 4), input_size=(2, 4), verbose=0)
    with pytest.raises(ValueError, match="mode='train'"):
        stats.training_memory()
    train = summary(nn.Linear(4, 4), input_size=(2, 4), mode="train", verbose=0)
    with pytest.raises(ValueError, match="'adam'"):
        train.training_memory("lion")


def test_low_precision_parameters_and_activations() -> None:
    model = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 16)).to(torch.float16)
    stats = summary(model, input_data=[torch.rand(4, 16, dtype=torch.float16)], mode="train",
                    verbose=0)
    assert stats.total_param_bytes == 2 * 272 * 2
    # ReLU output (saved by the second Linear and by ReLU's backward): 4*16 fp16
    assert stats.activation_bytes == 4 * 16 * 2
    int8 = nn.Linear(8, 8)
    int8.weight = nn.Parameter(torch.zeros(8, 8, dtype=torch.int8), requires_grad=False)
    assert summary(int8, verbose=0).total_param_bytes == 64 + 8 * 4


def test_memory_column() -> None:
    stats = summary(NestedNet(), input_size=(2, 3, 8, 8), mode="train", verbose=0,
                    col_names=("output_size", "num_params", "memory"))
    assert "Memory" in str(stats) and "kB" in str(stats)


def test_eval_mode_reports_output_bytes() -> None:
    stats = summary(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), input_size=(2, 4), verbose=0)
    assert not stats.grad_enabled and stats.activation_bytes == 0
    assert stats.total_output_bytes == 2 * (2 * 8 * 4)  # both leaf outputs


class _Attention(nn.Module):
    """q, k, v projections and torch's fused attention, as transformers' SDPA path."""

    def __init__(self, dim: int = 32, heads: int = 4, causal: bool = True) -> None:
        super().__init__()
        self.heads, self.causal = heads, causal
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (
            part.view(b, t, self.heads, d // self.heads).transpose(1, 2)
            for part in self.qkv(x).chunk(3, dim=-1)
        )
        o = nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=self.causal and mask is None
        )
        return self.out(o.transpose(1, 2).reshape(b, t, d))


@pytest.mark.parametrize("masked", [False, True], ids=["causal", "bool-mask"])
def test_attention_saves_the_same_on_a_meta_model_as_on_the_cpu(masked: bool) -> None:
    # The CPU runs SDPA's fused kernel (output and log-sum-exp saved); a model
    # built on meta used to take the math path, saving [B, H, T, T] probabilities.
    saved = {}
    for t in (64, 256):
        kwargs: dict[str, Any] = {}
        if masked:
            kwargs["mask"] = torch.ones(1, 1, t, t, dtype=torch.bool).tril()
        cpu = summary(_Attention(), input_size=(2, t, 32), mode="train", verbose=0, **kwargs)
        with torch.device("meta"):
            meta_model = _Attention()
        meta_kwargs = {key: value.to("meta") for key, value in kwargs.items()}
        meta = summary(meta_model, input_size=(2, t, 32), mode="train", verbose=0, **meta_kwargs)
        assert meta.activation_bytes == cpu.activation_bytes
        assert meta.total_mult_adds == cpu.total_mult_adds
        assert not meta.uncounted_ops
        saved[t] = cpu.activation_bytes
    # Linear in the sequence (4x the tokens, 4x the bytes), but for the mask the
    # kernel keeps: a boolean mask becomes a float [1, 1, T, T] one (4 bytes each).
    mask_bytes = {t: 4 * t * t if masked else 0 for t in saved}
    assert saved[256] - mask_bytes[256] == 4 * (saved[64] - mask_bytes[64])
