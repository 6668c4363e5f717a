"""Linear algebra MACs (``formulas/linalg.py``), counted on the ops torch runs:
each expected value with its arithmetic."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from summaryplus import summary


class Call(nn.Module):
    def __init__(self, function: Callable[..., object]) -> None:
        super().__init__()
        self.function = function

    def forward(self, *args: torch.Tensor) -> object:
        return self.function(*args)


def _macs(function: Callable[..., object], *inputs: torch.Tensor) -> int:
    result = summary(Call(function), input_data=list(inputs), verbose=0)
    assert not result.uncounted_ops, result.uncounted_ops
    return int(result.total_mult_adds)


def _spd(n: int, batch: int = 1) -> torch.Tensor:
    a = torch.rand(batch, n, n)
    return a @ a.transpose(-1, -2) + n * torch.eye(n)


def test_solve_triangular_counts_the_substitutions() -> None:
    # The linear attention of Qwen3-Next solves with a [B, H, 64, 64] triangular
    # matrix: per head and right-hand side n(n+1)/2 = 64 * 65 / 2 = 2,080;
    # 2 * 4 heads * 64 right-hand sides * 2,080 = 1,064,960.
    a = torch.rand(2, 4, 64, 64).tril() + torch.eye(64)
    b = torch.rand(2, 4, 64, 64)
    macs = _macs(lambda a, b: torch.linalg.solve_triangular(a, b, upper=False), a, b)
    assert macs == 1_064_960
    # X A = B (left=False): the right-hand sides are B's rows: the same count.
    right = _macs(lambda a, b: torch.linalg.solve_triangular(a, b, upper=False, left=False),
                  a, b)
    assert right == 1_064_960


def test_cholesky_and_its_solve() -> None:
    a = _spd(10)
    # n(n+1)(n+2)/6 = 10 * 11 * 12 / 6 = 220
    assert _macs(torch.linalg.cholesky, a) == 220
    factor = torch.linalg.cholesky(a)
    b = torch.rand(1, 10, 3)
    # two triangular solves, k * n(n+1) = 3 * 10 * 11 = 330
    assert _macs(lambda b, f: torch.cholesky_solve(b, f), b, factor) == 330


def test_lu_solve_and_inverse() -> None:
    a = torch.rand(6, 6) + 6 * torch.eye(6)
    # LU: sum_{j<6} (6-j)^2 = 36 + 25 + 16 + 9 + 4 + 1 = 91
    assert _macs(lambda a: torch.linalg.lu_factor(a)[0], a) == 91
    # solve with 2 right-hand sides: 91 + 2 * 6 * 6 = 163
    assert _macs(torch.linalg.solve, a, torch.rand(6, 2)) == 163
    # inverse: 91 + 2 * 6^3 / 3 = 91 + 144 = 235
    assert _macs(torch.linalg.inv, a) == 235
    # a determinant is its LU: 91
    assert _macs(torch.linalg.det, a) == 91


def test_qr_and_lstsq() -> None:
    a = torch.rand(8, 4)
    # Householder QR: sum_{j<4} 2(8-j)(4-j) = 2 * (32 + 21 + 12 + 5) = 140
    # forming the reduced Q [8, 4] from 4 reflectors: the same sum, 140
    assert _macs(lambda a: torch.linalg.qr(a)[0], a) == 280
    assert _macs(lambda a: torch.linalg.qr(a, mode="r")[1], a) == 140
    # complete Q [8, 8]: sum_{j<4} 2(8-j)(8-j) = 2 * (64 + 49 + 36 + 25) = 348
    assert _macs(lambda a: torch.linalg.qr(a, mode="complete")[0], a) == 140 + 348
    b = torch.rand(8, 2)
    # QR 140; Q^T B: 2 * 2 * (4 * 8 - 4 * 3 / 2) = 104; back substitution
    # 2 * 4 * 5 / 2 = 20: 264
    assert _macs(lambda a, b: torch.linalg.lstsq(a, b).solution, a, b) == 264


def test_eigen_and_singular_values_use_the_standard_estimates() -> None:
    a = _spd(6)[0]
    # symmetric: 9 n^3 flops with vectors, 4 n^3 / 3 without; MACs half
    assert _macs(lambda a: torch.linalg.eigh(a)[1], a) == 9 * 216 // 2  # 972
    # (eigvalsh asks for the values only; under any dispatch mode torch computes
    # the vectors too, so the kernel is called directly here)
    values_only = _macs(lambda a: torch.ops.aten._linalg_eigh(a, "L", False)[0], a)
    assert values_only == (4 * 216 // 3) // 2  # 288 flops -> 144
    # general: 25 n^3 flops with vectors, 10 n^3 without
    assert _macs(lambda a: torch.linalg.eig(a)[1], a) == 25 * 216 // 2  # 2,700
    assert _macs(lambda a: torch.ops.aten._linalg_eigvals(a), a) == 10 * 216 // 2  # 1,080
    b = torch.rand(8, 4)
    # singular values of [8, 4]: 4 * 8 * 16 - 4 * 64 / 3 = 512 - 85 = 427 flops -> 213
    values = _macs(lambda b: torch.ops.aten._linalg_svd(b, False, False)[1], b)
    assert values == 213
    # thin U and V: 14 * 8 * 16 + 8 * 64 = 2,304 flops -> 1,152
    assert _macs(lambda b: torch.linalg.svd(b, full_matrices=False)[0], b) == 1_152


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_linalg_counts_the_same_on_meta(device: str) -> None:
    result = summary(
        Call(lambda a, b: torch.linalg.solve_triangular(a, b, upper=True)),
        input_size=[(3, 16, 16), (3, 16, 5)],
        device=device,
        verbose=0,
    )
    # 3 * 5 * 16 * 17 / 2 = 2,040
    assert result.total_mult_adds == 2_040


def test_logdet_is_counted_as_its_lu() -> None:
    a = _spd(5)[0]
    with torch.inference_mode():  # logdet arrives whole here
        result = summary(Call(torch.logdet), input_data=[a], verbose=0, mode="eval")
    # 25 + 16 + 9 + 4 + 1 = 55
    assert result.total_mult_adds == 55


def test_qwen3_next_linear_attention_is_counted_whole() -> None:
    """Qwen3-Next's gated delta rule (its PyTorch path) solves a triangular
    system per chunk: every op of the model has a formula or is free."""
    transformers = pytest.importorskip("transformers")
    if not hasattr(transformers, "Qwen3NextConfig"):
        pytest.skip("this transformers has no Qwen3-Next")
    config = transformers.Qwen3NextConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=100, linear_num_value_heads=4,
        linear_num_key_heads=2, linear_key_head_dim=16, linear_value_head_dim=16, head_dim=16,
        num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
        shared_expert_intermediate_size=32, full_attention_interval=2,
    )
    model = transformers.Qwen3NextForCausalLM(config)
    result = summary(model, input_size=(1, 64), dtypes=[torch.long], verbose=0)
    assert not result.uncounted_ops
    assert result.macs_complete
