"""``measure_latency``: per-row times beside bounds, on CPU (and CUDA when
there is one), with no side effects on the model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from summaryplus.latency import Latency, LayerLatency, gpu_of_device, measure_latency


def _model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 14 * 14, 10)
    )


def test_cpu_rows_and_totals_without_side_effects() -> None:
    model = _model().train()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    found = measure_latency(model, input_size=(2, 3, 16, 16), warmup=1, repeats=2)
    assert found.device == "cpu" and found.gpu is None and found.bound is None
    assert [row.class_name for row in found.rows] == [
        "Sequential", "Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear"
    ]
    assert all(row.measured > 0 and row.fraction is None for row in found.rows)
    assert found.leaves == pytest.approx(sum(row.measured for row in found.rows[1:]))
    assert found.forward > 0 and found.hooked_forward > 0
    # BatchNorm's running statistics, flags and hooks are as before
    after = model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert model.training and model[1].training and not found.written
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert "Forward without hooks" in str(found) and found.to_dict()["rows"][0]["bound_s"] is None


def test_bounds_for_a_named_gpu_and_the_flag() -> None:
    found = measure_latency(nn.Linear(64, 64), input_size=(4, 64), repeats=1, gpu="l4")
    row = found.rows[0]
    # addmm: 64*4 bias + 4*64*4 x + 64*64*4 W + 4*64*4 out = 18,688 bytes at 300 GB/s
    assert row.bound == pytest.approx(18_688 / 300e9)
    assert row.fraction == pytest.approx(row.bound / row.measured)
    slow = LayerLatency("x", "Linear", 1, True, measured=1e-3, bound=2e-3)
    assert slow.faster_than_bound and slow.fraction == 2.0
    assert not LayerLatency("x", "Linear", 1, True, measured=3e-3, bound=2e-3).faster_than_bound


def test_meta_models_are_refused() -> None:
    with torch.device("meta"):
        model = nn.Linear(4, 4)
    with pytest.raises(ValueError, match="real weights"):
        measure_latency(model, input_size=(1, 4))


def test_bad_repeats() -> None:
    with pytest.raises(ValueError, match="repeats=0 is not valid"):
        measure_latency(nn.Linear(4, 4), input_size=(1, 4), repeats=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_events_and_the_device_row() -> None:
    model = nn.Sequential(nn.Linear(1024, 4096), nn.GELU(), nn.Linear(4096, 1024)).cuda().half()
    found: Latency = measure_latency(model, input_size=(64, 1024), dtypes=[torch.half])
    assert found.device.startswith("cuda")
    if gpu_of_device(torch.device("cuda")) is not None:
        assert found.bound is not None and found.bound <= found.forward
        assert not found.flagged
