"""Time bounds per row and in total: the sum over ops of max(FLOPs / peak,
bytes / bandwidth), by hand, live and loaded; FLOPs never halved."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from summaryplus import load_summary, roofline, summary
from summaryplus.gpus import get_gpu, parse_gpu_spec

H100 = get_gpu("h100-sxm")


def _bf16(model: nn.Module, *shape: int) -> object:
    model = model.to(torch.bfloat16)
    return summary(model, input_data=[torch.randn(*shape, dtype=torch.bfloat16)],
                   verbose=0, mode="eval")  # fmt: skip


def test_decode_linear_is_memory_bound() -> None:
    stats = _bf16(nn.Linear(4096, 4096, bias=False), 1, 1, 4096)
    bound = roofline(stats, "h100-sxm").total  # type: ignore[arg-type]
    # bytes 33,570,816 (weight + in + out) / 3.35e12 B/s; FLOPs 2 * 4096^2 / 989.4e12
    assert bound.memory_time == pytest.approx(33_570_816 / 3.35e12)
    assert bound.compute_time == pytest.approx(2 * 4096 * 4096 / 989.4e12)
    assert bound.time == pytest.approx(33_570_816 / 3.35e12)
    assert bound.bound_by == "memory"


def test_prefill_linear_is_compute_bound() -> None:
    stats = _bf16(nn.Linear(4096, 4096, bias=False), 1, 2048, 4096)
    bound = roofline(stats, H100).total  # type: ignore[arg-type]
    # 2 * 2048 * 4096 * 4096 = 68.7 GFLOP at 989.4 TFLOP/s
    assert bound.flops == 2 * 2048 * 4096 * 4096
    assert bound.time == pytest.approx(2 * 2048 * 4096 * 4096 / 989.4e12)
    assert bound.bound_by == "compute"


def test_sum_over_ops_of_the_max_not_max_of_sums() -> None:
    model = nn.Sequential(nn.Linear(4096, 4096, bias=False), nn.Linear(4096, 4096, bias=False))

    class Two(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.big = model[0]
            self.small = model[1]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.big(x) + self.small(x[:, :1]).sum()  # one prefill op, one decode op

    stats = _bf16(Two(), 1, 2048, 4096)
    result = roofline(stats, "h100-sxm")  # type: ignore[arg-type]
    big, small = result.bound_of("big"), result.bound_of("small")
    assert big.bound_by == "compute" and small.bound_by == "memory"
    assert result.rows[0].compute_time < big.time + small.time
    # the root's own ops (add, sum) do no MACs: with fused bytes they add nothing
    assert result.total.time == pytest.approx(big.time + small.time)
    eager = roofline(stats, "h100-sxm", fused=False)  # type: ignore[arg-type]
    assert eager.total.time > result.total.time


def test_eager_adds_elementwise_bytes() -> None:
    stats = summary(nn.LayerNorm(16), input_size=(2, 5, 16), verbose=0)
    assert roofline(stats, "l4").total.time == 0.0
    # 1,488 bytes (test_bytes_moved) / 300 GB/s
    assert roofline(stats, "l4", fused=False).total.time == pytest.approx(1_488 / 300e9)


def test_dtype_override_fallback_and_no_peak() -> None:
    stats = _bf16(nn.Linear(1024, 1024, bias=False), 1, 4096, 1024)
    a100 = roofline(stats, "a100-40gb", dtype="fp8")  # type: ignore[arg-type]
    assert a100.total.compute_time == pytest.approx(2 * 4096 * 1024 * 1024 / 312e12)
    assert any("no fp8 rate" in note for note in a100.assumptions)
    apple = roofline(stats, "m4-max")  # type: ignore[arg-type]
    assert apple.total.compute_time == 0 and apple.total.bound_by == "memory"
    assert apple.ridge_point is None
    mine = roofline(stats, parse_gpu_spec("name=mine,bandwidth=1T,bf16=100T"))  # type: ignore[arg-type]
    assert mine.ridge_point == pytest.approx(100.0)


def test_live_and_loaded_agree_and_render() -> None:
    model = nn.Sequential(nn.Embedding(1000, 64), nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 1000))
    stats = summary(model, input_data=[torch.randint(0, 1000, (2, 32))], verbose=0)
    loaded = load_summary(json.loads(stats.to_json()))
    live, again = stats.roofline("l4"), loaded.roofline("l4")
    assert live.to_dict() == again.to_dict()
    # embedding bytes: 64 rows of 64*4 gathered + 64 ids * 8 + out 64*64*4
    assert live.bound_of("0").bytes == 16_384 + 512 + 16_384
    assert live.bound_of("0").bound_by == "memory"
    assert live.ridge_point == pytest.approx(30.3e12 / 300e9)  # fp32 ops
    text = str(live)
    assert "Time bound on L4 24GB" in text and "ridge point 101.0 FLOP/byte" in text
    assert json.loads(json.dumps(live.to_dict()))["total"]["time_s"] == live.total.time


def test_plot_is_a_figure() -> None:
    pytest.importorskip("matplotlib")
    stats = summary(nn.Sequential(nn.Linear(64, 64), nn.ReLU()), input_size=(8, 64), verbose=0)
    figure = stats.roofline().plot()
    assert figure.axes[0].get_xscale() == "log"
