"""The hardware table: every row against its datasheet figures (dense only),
and a user's own GPU from text or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summaryplus.gpus import get_gpu, gpu_names, load_gpu_spec, parse_gpu_spec, peak_key

# key -> (bandwidth GB/s, dense TFLOPS fp32, tf32, bf16, fp8, int8), as the
# datasheets print them (sparse figures halved; GeForce bf16/fp8 with FP32
# accumulate); None: no rate (or none published).
DATASHEET = {
    "h100-sxm": (3_350, 67, 494.7, 989.4, 1_978.9, 1_978.9),
    "h100-pcie": (2_000, 51, 378, 756, 1_513, 1_513),
    "h200": (4_800, 67, 494.7, 989.4, 1_978.9, 1_978.9),
    "b200": (8_000, 75, 1_125, 2_250, 4_500, 4_500),
    "a100-40gb": (1_555, 19.5, 156, 312, None, 624),
    "a100-80gb-sxm": (2_039, 19.5, 156, 312, None, 624),
    "a100-80gb-pcie": (1_935, 19.5, 156, 312, None, 624),
    "l4": (300, 30.3, 60, 121, 242.5, 242.5),
    "l40s": (864, 91.6, 183, 362.05, 733, 733),
    "a10g": (600, 35, 35, 70, None, 140),
    "rtx-4090": (1_008, 82.6, 82.6, 165.2, 330.3, 660.6),
    "rtx-5090": (1_792, 104.8, 104.8, 209.5, 419, 838),
    "mi300x": (5_300, 163.4, 653.7, 1_307.4, 2_614.9, 2_614.9),
    "m2-ultra": (800, None, None, None, None, None),
    "m3-max": (400, None, None, None, None, None),
    "m4-max": (546, None, None, None, None, None),
}


def test_every_row_is_checked() -> None:
    assert sorted(gpu_names()) == sorted(DATASHEET)


@pytest.mark.parametrize("key", list(DATASHEET))
def test_row_against_its_datasheet(key: str) -> None:
    gpu = get_gpu(key)
    bandwidth, *tflops = DATASHEET[key]
    assert gpu.bandwidth == bandwidth * 1e9
    for dtype, value in zip(("fp32", "tf32", "bf16", "fp8", "int8"), tflops, strict=True):
        assert gpu.peak(dtype) == (None if value is None else pytest.approx(value * 1e12))
    # the source names the figure it gives (GB/s or TB/s as the vendor writes it)
    forms = (f"{bandwidth:,} GB/s", f"{bandwidth / 1000:g} TB/s")
    assert any(form in gpu.source for form in forms), forms
    assert gpu.source.startswith("https://")
    assert 0 < gpu.usable < gpu.memory * 1.1


def test_h100_sxm_as_the_issue_states() -> None:
    gpu = get_gpu("H100 SXM")
    assert gpu.bandwidth == 3.35e12 and gpu.peak("bfloat16") == 989.4e12
    # 80 GB of HBM; the driver reports 81,559 MiB, less 512 MiB of context
    assert gpu.usable == (81_559 - 512) * 2**20 < 80 * 2**30
    # ridge point: 989.4e12 / 3.35e12 = 295.3 FLOP/byte
    assert gpu.ridge_point("bf16") == pytest.approx(295.34, abs=0.01)
    assert get_gpu("l4").bandwidth == 300e9  # not the H100's 3.35 TB/s


def test_peak_keys() -> None:
    assert [peak_key(d) for d in ("bfloat16", "float16", "float8_e5m2", "uint8", "float32")] == [
        "bf16", "bf16", "fp8", "int8", "fp32"
    ]
    with pytest.raises(ValueError, match="dtype='bool' is not valid"):
        peak_key("bool")


def test_unknown_gpu_names_the_choices() -> None:
    with pytest.raises(ValueError, match="accepted values: h100-sxm"):
        get_gpu("h1000")


def test_user_gpu_from_text_and_json(tmp_path: Path) -> None:
    gpu = parse_gpu_spec("name=mine, bandwidth=1.5T, bf16=300e12, fp8=600T, memory=48G")
    assert (gpu.name, gpu.bandwidth, gpu.peak("bf16"), gpu.peak("fp8")) == (
        "mine", 1.5e12, 300e12, 600e12
    )
    assert gpu.memory == gpu.usable == 48e9
    path = tmp_path / "gpu.json"
    path.write_text(json.dumps({"name": "mine", "bandwidth": 1.5e12, "bf16": "300T"}))
    assert load_gpu_spec(path).peak("bfloat16") == 300e12
    with pytest.raises(ValueError, match="needs at least name= and bandwidth="):
        parse_gpu_spec("name=x")
    with pytest.raises(ValueError, match="unknown key"):
        parse_gpu_spec("name=x,bandwidth=1T,fp4=3T")
    with pytest.raises(ValueError, match="is not a number"):
        parse_gpu_spec("name=x,bandwidth=fast")
