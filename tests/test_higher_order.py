"""Higher-order operators (``torch.cond``, loops, ``flex_attention``...) are
counted through their subgraphs or by formula, and every HOP torch has is
either handled (``capture.higher_order.RULES``) or reviewed below."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
import torch._higher_order_ops
from torch import nn
from torch._higher_order_ops.associative_scan import associative_scan
from torch._higher_order_ops.map import map as hop_map
from torch._higher_order_ops.out_dtype import out_dtype
from torch._higher_order_ops.scan import scan
from torch._higher_order_ops.while_loop import while_loop
from torch._ops import _higher_order_ops

from summaryplus import summary, training_flops
from summaryplus.capture.higher_order import (
    BLOCK_MASK_ASSUMPTION,
    BRANCH_ASSUMPTION,
    LOOP_ASSUMPTION,
    RULES,
)
from summaryplus.formulas.attention import flex_attention_macs

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# Modules outside torch._higher_order_ops that define HOPs when imported.
_HOP_MODULES = (
    "torch._prims.rng_prims",
    "torch._export.wrappers",
    "torch._functorch.autograd_function",
    "torch._inductor.fx_passes.control_dependencies",
    "torch._dynamo._trace_wrapped_higher_order_op",
)


def _reviewed(reason: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, reason)


# HOPs that never reach the op counter: each overrides ``__call__`` and runs its
# function in Python before any dispatch, so the ops inside are counted as they run.
NEVER_DISPATCHED: dict[str, str] = {
    **_reviewed(
        "runs its function in Python (under the grad mode, autocast or checkpoint it "
        "names) before any dispatch: the counter sees every op inside",
        "wrap", "wrap_with_set_grad_enabled", "wrap_with_autocast", "wrap_activation_checkpoint",
        "tag_activation_checkpoint", "dynamo_bypassing_wrapper",
    ),
    **_reviewed(
        "runs an autograd.Function (Interpreter of its forward graph) in Python: the "
        "counter sees its ops, forward and backward",
        "autograd_function_apply", "custom_function_call",
    ),
    **_reviewed("calls its function on the unflattened arguments in Python", "flat_apply"),
    **_reviewed(
        "registers a gradient hook and returns its tensor: the hook's ops run in backward, "
        "where the counter sees them", "register_hook",
    ),
}


def _torch_hops() -> list[str]:
    for module in pkgutil.iter_modules(torch._higher_order_ops.__path__):
        importlib.import_module(f"torch._higher_order_ops.{module.name}")
    for name in _HOP_MODULES:
        importlib.import_module(name)
    return sorted(_higher_order_ops)


@pytest.mark.parametrize("name", _torch_hops())
def test_every_higher_order_operator_has_a_rule_or_a_reason(name: str) -> None:
    assert (name in RULES) != (name in NEVER_DISPATCHED), (
        f"higher-order operator {name}: give it a rule in capture/higher_order.py "
        "RULES, or a reviewed reason in NEVER_DISPATCHED (not both)"
    )


class Branches(nn.Module):
    """``torch.cond`` between a 16 -> 320 product (16 * 320 = 5,120 MACs per row)
    and a 16 -> 32 one (16 * 32 = 512)."""

    def __init__(self) -> None:
        super().__init__()
        self.big = nn.Linear(16, 320, bias=False)
        self.small = nn.Linear(16, 32, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cond(
            x.sum() > 0,
            lambda x: self.big(x).sum(-1),
            lambda x: self.small(x).sum(-1),
            (x,),
        )


def test_cond_counts_the_branch_taken_on_real_tensors() -> None:
    model = Branches()
    taken = summary(model, input_data=[torch.ones(1, 16)], verbose=0)
    assert taken.total_mult_adds == 5_120  # 1 * 16 * 320
    assert [row.class_name for row in taken.summary_list] == ["Branches", "Linear"]
    assert taken.summary_list[1].module is model.big
    other = summary(model, input_data=[-torch.ones(1, 16)], verbose=0)
    assert other.total_mult_adds == 512  # 1 * 16 * 32
    assert not taken.assumptions and not taken.uncounted_ops


def test_cond_on_meta_counts_the_larger_branch_and_says_so() -> None:
    result = summary(Branches(), input_size=(1, 16), device="meta", verbose=0)
    assert result.total_mult_adds == 5_120  # max(5,120, 512)
    assert result.assumptions == (BRANCH_ASSUMPTION,)
    # The smaller branch's row is forgotten with its MACs.
    assert [row.class_name for row in result.summary_list] == ["Branches", "Linear"]
    assert "Assumed: torch.cond on tensors without data" in str(result)


class ProjectedBranches(Branches):
    """A projection first: the operand of ``cond`` requires grad, which sends
    torch through its autograd rule for cond (the retry runs it eagerly)."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(16, 16, bias=False)
        with torch.no_grad():
            self.proj.weight.copy_(torch.eye(16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.proj(x))


def test_cond_trains_through_the_branch_taken() -> None:
    flops = training_flops(ProjectedBranches(), input_data=[torch.ones(1, 16)])
    assert flops.forward_macs == 256 + 5_120  # 16 * 16 + 16 * 320
    # Backward: big's input and weight gradients (2 * 5,120), proj's weight
    # gradient only (its input needs none): 10,240 + 256 = 10,496.
    assert flops.backward_macs == 10_496


class Counting(nn.Module):
    """``while_loop`` of three steps of an 8 -> 8 product on [2, 8]: 3 * 2 * 8 * 8."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(8, 8, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        def more(i: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return i < 3

        def step(i: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return i + 1, self.lin(x)

        return while_loop(more, step, (torch.tensor(0), x))[1]


def test_while_loop_counts_its_trip_count() -> None:
    result = summary(Counting(), input_data=[torch.ones(2, 8)], verbose=0)
    assert result.total_mult_adds == 384  # 3 trips * 2 * 8 * 8
    assert not result.assumptions


def test_while_loop_without_data_counts_one_trip_and_says_so() -> None:
    result = summary(Counting(), input_size=(2, 8), device="meta", verbose=0)
    assert result.total_mult_adds == 128  # 1 trip * 2 * 8 * 8
    assert result.assumptions == (LOOP_ASSUMPTION,)


class Scanning(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(8, 8, bias=False)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        def step(carry: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            new = carry + self.lin(x)
            return new, new.clone()

        return scan(step, torch.zeros(2, 8), xs)[1]


class Mapping(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(8, 8, bias=False)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        return hop_map(lambda x: self.lin(x), xs)


@pytest.mark.parametrize("model_class", [Scanning, Mapping])
@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_scan_and_map_count_every_step(model_class: type[nn.Module], device: str) -> None:
    # 5 steps (the scanned dimension, known from shapes) * 2 * 8 * 8 = 640
    result = summary(model_class(), input_size=(5, 2, 8), device=device, verbose=0)
    assert result.total_mult_adds == 640
    assert not result.assumptions


def test_associative_scan_counts_the_combines_torch_runs() -> None:
    class Products(nn.Module):
        def forward(self, xs: torch.Tensor) -> torch.Tensor:
            return associative_scan(lambda a, b: a @ b, xs, dim=0, combine_mode="generic")

    result = summary(Products(), input_data=[torch.ones(8, 4, 4)], verbose=0)
    # torch's eager scan over 8 elements combines 4 + 2 + 1 pairs going up and
    # 1 + 2 + 1... down: 11 [4, 4] @ [4, 4] products of 4 * 4 * 4 = 64 MACs.
    assert result.total_mult_adds == 11 * 64


def test_out_dtype_counts_its_product() -> None:
    class IntProduct(nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return out_dtype(torch.ops.aten.mm.default, torch.int32, a, b)

    a = torch.randint(-5, 5, (4, 8), dtype=torch.int8)
    b = torch.randint(-5, 5, (8, 2), dtype=torch.int8)
    assert summary(IntProduct(), input_data=[a, b], verbose=0).total_mult_adds == 64  # 4*8*2


def test_exported_modules_run_their_hops() -> None:
    """An exported program's module calls ``cond`` with graph branches and
    ``wrap_with_set_grad_enabled`` for a ``no_grad`` block."""

    class Exportable(Branches):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                y = self.small(x)
            return super().forward(x) + y.sum()

    program = torch.export.export(Exportable(), (torch.ones(1, 16),))
    result = summary(program.module(), input_data=[torch.ones(1, 16)], verbose=0)
    assert result.total_mult_adds == 512 + 5_120  # the no_grad block + the branch taken
    assert not result.uncounted_ops


def test_nested_compile_region_counts_each_call() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(8, 8, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            @torch.compiler.nested_compile_region
            def block(x: torch.Tensor) -> torch.Tensor:
                return self.lin(x)

            return block(block(x))

    result = summary(Twice(), input_data=[torch.ones(2, 8)], verbose=0)
    assert result.total_mult_adds == 256  # 2 calls * 2 * 8 * 8


def _score_bias(score: torch.Tensor, b: torch.Tensor, h: torch.Tensor, q: torch.Tensor,
                kv: torch.Tensor) -> torch.Tensor:
    return score + (q - kv)


class Flex(nn.Module):
    def __init__(self, block_mask: object = None) -> None:
        super().__init__()
        self.block_mask = block_mask

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        from torch.nn.attention.flex_attention import flex_attention

        out: torch.Tensor = flex_attention(
            q, k, v, score_mod=_score_bias, block_mask=self.block_mask
        )
        return out


def test_flex_attention_with_a_score_mod_counts_its_formula() -> None:
    # B * H * L * S * (E + Ev) = 1 * 4 * 64 * 64 * (32 + 32) = 1,048,576
    assert flex_attention_macs((1, 4, 64, 32), (1, 4, 64, 32), (1, 4, 64, 32)) == 1_048_576
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = summary(Flex(), input_size=[(1, 4, 64, 32)] * 3, verbose=0)
    assert result.total_mult_adds == 1_048_576
    assert not result.uncounted_ops and not result.assumptions


def test_flex_attention_counts_only_the_blocks_a_mask_computes() -> None:
    from torch.nn.attention.flex_attention import create_block_mask

    def causal(b: torch.Tensor, h: torch.Tensor, q: torch.Tensor,
               kv: torch.Tensor) -> torch.Tensor:
        return q >= kv

    mask = create_block_mask(causal, 1, 1, 256, 256, device="cpu", BLOCK_SIZE=64)
    result = summary(Flex(mask), input_size=[(2, 4, 256, 32)] * 3, verbose=0)
    # 4 x 4 blocks of 64 x 64, causal: 1 + 2 + 3 + 4 = 10 computed (the masked
    # diagonal blocks whole), for each of 2 * 4 batch-heads (the mask broadcasts):
    # 8 * 10 * 64 * 64 * (32 + 32) = 20,971,520 (dense: 33,554,432).
    assert result.total_mult_adds == 20_971_520
    assert BLOCK_MASK_ASSUMPTION not in result.assumptions


def test_an_unknown_hop_is_reported_uncounted_not_an_error() -> None:
    from summaryplus.capture import higher_order

    rule = higher_order.RULES.pop("out_dtype")
    try:
        a = torch.ones(4, 8, dtype=torch.int8)

        class IntProduct(nn.Module):
            def forward(self, a: torch.Tensor) -> torch.Tensor:
                return out_dtype(torch.ops.aten.mm.default, torch.int32, a, a.t())

        result = summary(IntProduct(), input_data=[a], verbose=0)
    finally:
        higher_order.RULES["out_dtype"] = rule
    assert result.uncounted_ops == {"higher_order::out_dtype": 1}
    assert result.summary_list[0].macs_partial


def test_torch_refusing_our_own_mode_is_not_blamed_on_the_model() -> None:
    from summaryplus.pipeline import _origin

    def torch_refuses() -> None:
        raise NotImplementedError(
            "There was no rule registered for HigherOrderOperator cond and mode "
            "<summaryplus.capture.counter.OpCounter object at 0x7f0>."
        )

    with pytest.raises(NotImplementedError) as caught:
        torch_refuses()
    assert _origin(caught.value) == "summaryplus"


_DYNAMO_CHECK = """
import sys
sys.path.insert(0, sys.argv[1])
import torch
from torch import nn
from torch._dynamo.testing import CompileCounter
from summaryplus import summary
from test_higher_order import Branches

class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return self.lin(x).sin()

counter = CompileCounter()
compiled = torch.compile(Small(), backend=counter)
summary(compiled, input_data=[torch.ones(1, 3)], verbose=0)
compiled(torch.ones(1, 3))
assert counter.frame_count == 1, counter.frame_count  # it still compiles after the summary
model = Branches()
summary(model, input_data=[torch.ones(1, 16)], verbose=0)
torch.export.export(model, (torch.ones(1, 16),))  # raised Unsupported before
print("ok")
"""


def test_a_summary_leaves_dynamo_compiling_and_exporting_as_before(tmp_path: Path) -> None:
    """Frames dynamo skipped under the counter are not left marked as skipped.
    In a fresh interpreter: dynamo's marks are per process, and code dynamo
    compiled before any summary (an earlier test's export) may still be left
    skipped (capture/compiling.py, NB)."""
    # Its own compile caches too: not the ones earlier tests of this process filled.
    environment = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor")}
    result = subprocess.run(
        [sys.executable, "-c", _DYNAMO_CHECK, str(Path(__file__).parent)],
        capture_output=True, text=True, timeout=300, env=environment,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_switch_counts_the_branch_its_index_names() -> None:
    # torch >= 2.14: switch(index, branches, operands), an N-way cond.
    switch = pytest.importorskip(
        "torch._higher_order_ops.switch", reason="torch.switch is new in torch 2.14"
    ).switch

    class ThreeWays(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(16, 320, bias=False)
            self.b = nn.Linear(16, 32, bias=False)
            self.c = nn.Linear(16, 64, bias=False)

        def forward(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
            branches = [lambda x: self.a(x).sum(-1), lambda x: self.b(x).sum(-1),
                        lambda x: self.c(x).sum(-1)]
            return switch(index, branches, (x,))

    model = ThreeWays()
    # 16 x 320 = 5,120; 16 x 32 = 512; 16 x 64 = 1,024 MACs per row
    for index, macs in ((0, 5_120), (1, 512), (2, 1_024)):
        found = summary(model, input_data=[torch.ones(1, 16), torch.tensor(index)], verbose=0)
        assert found.total_mult_adds == macs and not found.uncounted_ops
    # no values on meta: the largest branch, said
    meta = summary(model, input_data=[torch.ones(1, 16), torch.tensor(2)], device="meta",
                   verbose=0)
    assert meta.total_mult_adds == 5_120 and meta.assumptions
