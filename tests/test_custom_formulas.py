"""Formulas users add: for a custom op (torch.library), per call and for the
process, validated; overriding a built-in is explicit."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from summaryplus import custom_formulas, register_formula, summary, unregister_formula


@torch.library.custom_op("summaryplus_test::scaled_matmul", mutates_args=())
def scaled_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a @ b) * 2


@scaled_matmul.register_fake
def _(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a.new_empty(a.shape[0], b.shape[1])


class Kernel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(8, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.summaryplus_test.scaled_matmul(x, self.weight)


def matmul_macs(a: tuple[int, int], b: tuple[int, int], out_shape: tuple[int, int]) -> int:
    return a[0] * a[1] * b[1]


def matmul_bytes(a: tuple[int, int], b: tuple[int, int], out_shape: tuple[int, int]) -> int:
    return 4 * (a[0] * a[1] + b[0] * b[1] + out_shape[0] * out_shape[1])


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_per_call_formula_for_a_custom_op(device: str) -> None:
    model = Kernel().to(device)
    x = torch.randn(3, 8, device=device)
    plain = summary(model, input_data=[x], verbose=0)
    assert plain.total_mult_adds == 0
    assert plain.uncounted_ops == {"summaryplus_test::scaled_matmul": 1}
    name = "summaryplus_test::scaled_matmul"
    with custom_formulas({name: (matmul_macs, matmul_bytes)}):
        counted = summary(model, input_data=[x], verbose=0)
    # 3 * 8 * 4 = 96 MACs; bytes 4 * (24 + 32 + 12) = 272 (the user's formula)
    assert counted.total_mult_adds == 96 and not counted.uncounted_ops
    assert counted.total_bytes_moved == counted.total_fused_bytes_moved == 272
    assert counted.summary_list[0].own_op_points == (("float32", 96, 272, 1),)
    # the block ended: uncounted again
    assert summary(model, input_data=[x], verbose=0).total_mult_adds == 0


def test_process_wide_and_default_bytes() -> None:
    model = Kernel()
    register_formula(torch.ops.summaryplus_test.scaled_matmul, matmul_macs)
    try:
        stats = summary(model, input_data=[torch.randn(3, 8)], verbose=0)
        assert stats.total_mult_adds == 96
        # bytes by the default rule: x 96 + weight 128 read, out 48 written
        assert stats.total_fused_bytes_moved == 96 + 128 + 48
        with pytest.raises(ValueError, match="already has a user formula"):
            register_formula("summaryplus_test::scaled_matmul", matmul_macs)
        register_formula("summaryplus_test::scaled_matmul", lambda a, b, out_shape: 1,
                         override=True)  # fmt: skip
        assert summary(model, input_data=[torch.randn(3, 8)], verbose=0).total_mult_adds == 1
        # another thread's block does not leak here
        seen: list[int] = []

        def other() -> None:
            with custom_formulas({"summaryplus_test::scaled_matmul": matmul_macs}, override=True):
                seen.append(summary(model, input_data=[torch.randn(3, 8)], verbose=0)
                            .total_mult_adds)  # fmt: skip

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert seen == [96]
        assert summary(model, input_data=[torch.randn(3, 8)], verbose=0).total_mult_adds == 1
    finally:
        unregister_formula("summaryplus_test::scaled_matmul")
    with pytest.raises(KeyError):
        unregister_formula("summaryplus_test::scaled_matmul")


def test_overriding_a_builtin_is_explicit() -> None:
    with pytest.raises(ValueError, match=r"aten\.mm has a built-in MACs formula"):
        register_formula("mm", matmul_macs)
    linear = nn.Linear(8, 4, bias=False)
    with custom_formulas({"mm": lambda a, b, out_shape: 7}, override=True):
        assert summary(linear, input_size=(3, 8), verbose=0).total_mult_adds == 7
    assert summary(linear, input_size=(3, 8), verbose=0).total_mult_adds == 96


def test_validation() -> None:
    with pytest.raises(ValueError, match="is not an op of this torch"):
        register_formula("nolib::nothing", matmul_macs)
    with pytest.raises(TypeError, match="must be callable"):
        register_formula("summaryplus_test::scaled_matmul", 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="op must be"):
        register_formula(42, matmul_macs)  # type: ignore[arg-type]


def test_cached_forward_follows_the_formulas() -> None:
    linear = nn.Linear(8, 4, bias=False)
    first = summary(linear, input_size=(3, 8), verbose=0, cache_forward_pass=True)
    with custom_formulas({"mm": lambda a, b, out_shape: 7}, override=True):
        inside = summary(linear, input_size=(3, 8), verbose=0, cache_forward_pass=True)
    after = summary(linear, input_size=(3, 8), verbose=0, cache_forward_pass=True)
    # 3 * 8 * 4 = 96 outside the block, the block's 7 inside: no stale cache either way
    assert (first.total_mult_adds, inside.total_mult_adds, after.total_mult_adds) == (96, 7, 96)
