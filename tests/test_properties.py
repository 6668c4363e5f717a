"""Property-based tests: random module trees (nesting, sharing, freezing, dtypes)
give totals equal to the unique parameter count, Param # columns that add up to
the footer, MACs that add up the tree, and never crash on a working forward."""

from __future__ import annotations

import torch
from fingerprint import assert_same, fingerprint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from summaryplus import summary
from summaryplus.formatting import visible_rows

WIDTH = 4


class Node(nn.Module):
    """Runs its children in order, optionally twice, with a residual add."""

    def __init__(self, children: list[nn.Module], repeat: bool) -> None:
        super().__init__()
        self.parts = nn.ModuleList(children)
        self.repeat = repeat

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(2 if self.repeat else 1):
            for part in self.parts:
                x = x + part(x)
        return x


@st.composite
def module_trees(draw: st.DrawFn) -> nn.Module:
    pool: list[nn.Linear] = []

    def build(depth: int) -> nn.Module:
        if depth == 0 or draw(st.booleans()):
            if pool and draw(st.integers(0, 3)) == 0:
                return draw(st.sampled_from(pool))  # a module shared by two parents
            layer = nn.Linear(WIDTH, WIDTH, bias=draw(st.booleans()))
            if pool and draw(st.integers(0, 4)) == 0:
                layer.weight = draw(st.sampled_from(pool)).weight  # a tied weight
            if draw(st.integers(0, 3)) == 0:
                layer.requires_grad_(False)
            pool.append(layer)
            return layer
        count = draw(st.integers(1, 3))
        return Node([build(depth - 1) for _ in range(count)], repeat=draw(st.booleans()))

    return build(draw(st.integers(1, 4)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=module_trees(), mode=st.sampled_from(["eval", "train"]),
       depth=st.integers(0, 5), double=st.booleans())
def test_random_trees(model: nn.Module, mode: str, depth: int, double: bool) -> None:
    if double:
        model = model.double()
    dtype = torch.float64 if double else torch.float32
    before = fingerprint(model)
    stats = summary(model, input_size=(3, WIDTH), dtypes=[dtype], mode=mode, depth=depth,
                    verbose=0)
    assert_same(before, fingerprint(model))

    unique = list(model.parameters())
    assert stats.total_params == sum(p.numel() for p in unique)
    assert stats.trainable_params == sum(p.numel() for p in unique if p.requires_grad)
    assert stats.total_param_bytes == sum(p.numel() * p.element_size() for p in unique)

    shown = trainable = 0
    for row, deepest in visible_rows(stats):
        if row.is_recursive:
            continue
        leafish = deepest or row.is_leaf_layer
        shown += row.subtree_params if leafish else row.counted_params
        trainable += row.subtree_trainable_params if leafish else row.counted_trainable_params
    assert (shown, trainable) == (stats.total_params, stats.trainable_params)

    for row in stats.summary_list:
        assert row.macs == row.own_macs + sum(child.macs for child in row.children)
    calls = sum(1 for row in stats.summary_list if row.class_name == "Linear")
    assert stats.total_mult_adds == calls * 3 * WIDTH * WIDTH
    assert stats.uncounted_ops == {}
    assert "Total params" in str(stats)
