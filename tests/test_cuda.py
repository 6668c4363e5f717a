"""CUDA checks: the same numbers as on CPU with cuDNN/flash kernels. Skipped without a GPU."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from models import LSTMNet, NestedNet
from torch import nn

from summaryplus import summary, training_flops

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _gpt2() -> nn.Module:
    transformers = pytest.importorskip("transformers")
    return transformers.GPT2LMHeadModel(
        transformers.GPT2Config(n_layer=2, n_embd=128, n_head=4, vocab_size=500)
    )


@pytest.mark.parametrize(
    "build,kwargs",
    [
        (_gpt2, {"input_size": (2, 64), "dtypes": [torch.long]}),
        (LSTMNet, {"input_size": (2, 7), "dtypes": [torch.long]}),
        (NestedNet, {"input_size": (2, 3, 8, 8)}),
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_cuda_counts_match_cpu(build: Any, kwargs: dict[str, Any], dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = build()
    on_cpu = summary(model, verbose=0, **kwargs)
    cuda_model = build().to("cuda", dtype)
    rng = torch.cuda.get_rng_state()
    cuda_kwargs = {"dtypes": [dtype], **kwargs}
    on_cuda = summary(cuda_model, verbose=0, mode="train", **cuda_kwargs)
    assert torch.equal(torch.cuda.get_rng_state(), rng)
    assert next(cuda_model.parameters()).device.type == "cuda"
    assert on_cuda.uncounted_ops == {}
    assert on_cuda.total_mult_adds == on_cpu.total_mult_adds
    assert on_cuda.activation_bytes > 0


def test_cuda_backward_matches_cpu() -> None:
    # Without attention dropout both devices run a fused attention kernel, whose
    # backward recomputes Q @ K^T (the CPU math path used with dropout does not).
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(
        transformers.GPT2Config(n_layer=2, n_embd=128, n_head=4, vocab_size=500, attn_pdrop=0.0)
    )
    cpu = training_flops(model, input_size=(2, 64), dtypes=[torch.long])
    cuda = training_flops(model.to("cuda", torch.float16), input_size=(2, 64), dtypes=[torch.long])
    assert cuda.uncounted_ops == {}
    assert (cuda.forward_macs, cuda.backward_macs) == (cpu.forward_macs, cpu.backward_macs)


def test_no_cuda_memory_is_left_behind() -> None:
    model = _gpt2().cuda()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    summary(model, input_size=(4, 64), dtypes=[torch.long], mode="train", verbose=0)
    training_flops(model, input_size=(4, 64), dtypes=[torch.long])
    torch.cuda.synchronize()
    assert torch.cuda.memory_allocated() == before


def test_device_mismatch_is_reported_on_cuda() -> None:
    model = nn.Linear(4, 4).cuda()
    with pytest.raises(ValueError, match="never moves a model"):
        summary(model, input_size=(1, 4), device="cpu", verbose=0)
