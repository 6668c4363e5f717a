"""Bytes moved per op and per row (eager and fused), by hand arithmetic, the
same on CPU and meta tensors."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from summaryplus import load_summary, summary

DEVICES = ("cpu", "meta")


class Attention(nn.Module):
    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)


class IntMatmul(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch._int_mm(a, b)


class Fp8Matmul(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        one = torch.ones((), device=a.device)
        return torch._scaled_mm(a, b, one, one, out_dtype=torch.bfloat16)


class Bmm(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.bmm(a, b)


class SelfProduct(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ x.t()  # one region read once, though passed as two views


class Broadcast(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.expand(8, 16) + 1


def _run(model: nn.Module, device: str, *inputs: torch.Tensor, **kwargs: Any) -> Any:
    model = model.to(device)
    return summary(
        model, input_data=[t.to(device) for t in inputs], verbose=0, mode="eval", **kwargs
    )


@pytest.mark.parametrize("device", DEVICES)
def test_linear_2d(device: str) -> None:
    stats = _run(nn.Linear(8, 4), device, torch.randn(3, 8))
    # addmm reads bias 4*4 + x 3*8*4 + W 4*8*4 = 16 + 96 + 128, writes 3*4*4 = 48
    assert stats.total_bytes_moved == stats.total_fused_bytes_moved == 288
    row = stats.summary_list[0]
    assert row.own_op_points == (("float32", 96, 288, 1),)
    # FLOPs per byte: 2 * 3 * 8 * 4 / 288
    assert row.intensity == pytest.approx(192 / 288)


@pytest.mark.parametrize("device", DEVICES)
def test_linear_3d(device: str) -> None:
    stats = _run(nn.Linear(8, 4), device, torch.randn(2, 5, 8))
    # reads bias 16 + x 2*5*8*4 = 320 + W 128, writes 2*5*4*4 = 160 (views free)
    assert stats.total_bytes_moved == 16 + 320 + 128 + 160 == 624


@pytest.mark.parametrize("device", DEVICES)
def test_linear_decode_bf16(device: str) -> None:
    model = nn.Linear(4096, 4096, bias=False).to(torch.bfloat16)
    stats = _run(model, device, torch.randn(1, 1, 4096, dtype=torch.bfloat16))
    # W 4096*4096*2 = 33,554,432 + x 4096*2 = 8,192 + out 8,192
    assert stats.total_bytes_moved == 33_554_432 + 8_192 + 8_192
    assert stats.summary_list[0].own_op_points == (("bfloat16", 4096 * 4096, 33_570_816, 1),)


@pytest.mark.parametrize("device", DEVICES)
def test_conv(device: str) -> None:
    stats = _run(nn.Conv2d(3, 8, 3), device, torch.randn(1, 3, 10, 10))
    # x 3*10*10*4 = 1200, W 8*3*3*3*4 = 864, bias 8*4 = 32, out 8*8*8*4 = 2048
    assert stats.total_bytes_moved == stats.total_fused_bytes_moved == 1200 + 864 + 32 + 2048


@pytest.mark.parametrize("device", DEVICES)
def test_bmm(device: str) -> None:
    stats = _run(Bmm(), device, torch.randn(2, 4, 8), torch.randn(2, 8, 3))
    # 2*4*8*4 = 256 + 2*8*3*4 = 192 read, 2*4*3*4 = 96 written
    assert stats.total_bytes_moved == 544


@pytest.mark.parametrize("device", DEVICES)
def test_sdpa_flash(device: str) -> None:
    q, k, v = (torch.randn(1, 2, 16, 8) for _ in range(3))
    stats = _run(Attention(), device, q, k, v)
    # CPU flash kernel: reads q, k, v 3 * 1*2*16*8*4 = 3072, writes out 1024 and
    # logsumexp 1*2*16*4 = 128; never the 16 x 16 scores
    assert stats.total_bytes_moved == stats.total_fused_bytes_moved == 3072 + 1024 + 128


@pytest.mark.parametrize("device", DEVICES)
def test_sdpa_math(device: str) -> None:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    q, k, v = (torch.randn(1, 2, 16, 8) for _ in range(3))
    with sdpa_kernel(SDPBackend.MATH):
        stats = _run(Attention(), device, q, k, v)
    row = stats.summary_list[0]
    # two bmm's: [2,16,8] x [2,8,16] reads 1024 + 1024, writes 2*16*16*4 = 2048;
    # then [2,16,16] x [2,16,8] reads 2048 + 1024, writes 1024: 4096 each
    assert row.own_op_points == (("float32", 4096, 4096, 2),)
    assert stats.total_fused_bytes_moved == 8192
    # eager adds the scaling and softmax passes over q, k and the scores
    assert stats.total_bytes_moved > stats.total_fused_bytes_moved


@pytest.mark.parametrize("device", DEVICES)
def test_embedding_reads_gathered_rows(device: str) -> None:
    stats = _run(nn.Embedding(100, 16), device, torch.randint(0, 100, (2, 5)))
    # 10 rows of 16*4 = 640 gathered (not the 6,400-byte table), ids 10*8 = 80,
    # out 640
    assert stats.total_bytes_moved == stats.total_fused_bytes_moved == 640 + 80 + 640
    assert stats.summary_list[0].own_op_points == ()  # no MACs: bytes only


@pytest.mark.parametrize("device", DEVICES)
def test_layer_norm_is_eager_only(device: str) -> None:
    stats = _run(nn.LayerNorm(16), device, torch.randn(2, 5, 16))
    # reads x 2*5*16*4 = 640, weight 64, bias 64; writes out 640, mean and rstd
    # 2*5*1*4 = 40 each
    assert stats.total_bytes_moved == 640 + 64 + 64 + 640 + 40 + 40
    assert stats.total_fused_bytes_moved == 0
    assert stats.summary_list[0].intensity == 0.0


@pytest.mark.parametrize("device", DEVICES)
def test_int8_matmul(device: str) -> None:
    a = torch.randint(-5, 5, (32, 64), dtype=torch.int8)
    b = torch.randint(-5, 5, (64, 32), dtype=torch.int8)
    stats = _run(IntMatmul(), device, a, b)
    # 32*64 + 64*32 int8 read, 32*32 int32 = 4096 written
    assert stats.total_bytes_moved == 2048 + 2048 + 4096
    assert stats.summary_list[0].own_op_points == (("int8", 32 * 64 * 32, 8192, 1),)


@pytest.mark.parametrize("device", DEVICES)
def test_fp8_scaled_mm(device: str) -> None:
    a = torch.randn(32, 64).to(torch.float8_e4m3fn)
    b = torch.randn(32, 64).to(torch.float8_e4m3fn).t()
    stats = _run(Fp8Matmul(), device, a, b)
    # a, b 2048 bytes each, the one fp32 scale passed as both scales 4 (once),
    # out 32*32 bf16 = 2048
    assert stats.total_fused_bytes_moved == 2048 + 2048 + 4 + 2048
    assert stats.summary_list[0].own_op_points == (("float8_e4m3fn", 65536, 6148, 1),)


@pytest.mark.parametrize("device", DEVICES)
def test_same_region_once_and_views_free(device: str) -> None:
    stats = _run(SelfProduct(), device, torch.randn(4, 8))
    # x read once (4*8*4 = 128) though passed as x and x.t(); out 4*4*4 = 64
    assert stats.total_bytes_moved == 128 + 64


@pytest.mark.parametrize("device", DEVICES)
def test_expanded_dim_once(device: str) -> None:
    stats = _run(Broadcast(), device, torch.randn(1, 16))
    # reads x 16*4 = 64 once (stride 0 over 8 rows), writes 8*16*4 = 512
    assert stats.total_bytes_moved == 64 + 512


def test_in_place_reads_and_writes_self() -> None:
    class AddInPlace(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = x * 2  # reads 64, writes 64
            return y.add_(x)  # reads y 64 and x 64, writes y 64

    stats = _run(AddInPlace(), "cpu", torch.randn(16))
    assert stats.total_bytes_moved == 64 + 64 + 64 + 64 + 64


def test_subtree_sums_and_columns() -> None:
    model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    stats = summary(
        model, input_size=(3, 8), verbose=0, col_names=("mult_adds", "bytes", "intensity")
    )
    root, first, relu, second = stats.summary_list
    # Linear 288 (above); ReLU reads and writes 3*4*4 = 48; Linear(4, 2):
    # bias 8 + x 48 + W 32 + out 24 = 112
    assert (first.bytes_moved, relu.bytes_moved, second.bytes_moved) == (288, 96, 112)
    assert root.bytes_moved == stats.total_bytes_moved == 288 + 96 + 112
    assert root.fused_bytes_moved == stats.total_fused_bytes_moved == 288 + 112
    text = str(stats)
    assert "496 B" in text and "FLOP/byte" in text
    assert "Bytes moved (MB): 0.00 eager, 0.00 fused (0.6 FLOP/byte)" in text
    loaded = load_summary(json.loads(stats.to_json()))
    assert str(loaded) == text
    assert loaded.summary_list[1].own_op_points == (("float32", 96, 288, 1),)
    assert loaded.total_bytes_moved == 496 and loaded.total_intensity == pytest.approx(0.6)
    assert "496 B" in stats.to_table("github") and "496 B" in stats.to_html()


def test_backward_not_counted_in_forward_bytes() -> None:
    stats = summary(nn.Linear(8, 4), input_size=(3, 8), verbose=0, mode="train")
    assert stats.total_bytes_moved == 288
