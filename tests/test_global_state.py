"""The order fixture of conftest.py (``global_state``) names and undoes what a
test leaves changed."""

from __future__ import annotations

import logging
import os

import torch
from global_state import dynamo_patched, restore, snapshot

from summaryplus.formulas import registry


def test_each_kind_of_leak_is_named_and_put_back() -> None:
    before = snapshot()
    torch.set_default_dtype(torch.float64)
    torch.distributions.Distribution.set_default_validate_args(
        not torch.distributions.Distribution._validate_args
    )
    original = registry._REGISTRY[torch.ops.aten.mm]
    registry._REGISTRY[torch.ops.aten.mm] = lambda *args, **kwargs: 0
    os.environ["SUMMARYPLUS_TEST_LEAK"] = "1"
    logging.getLogger("summaryplus").setLevel(logging.CRITICAL)
    torch.set_grad_enabled(False)
    # (Whether torch's dynamo has already run its one-time patch depends on
    # the tests before this one: a change now is this test's either way.)
    leaked = restore(before, dynamo_patched_before=dynamo_patched())
    named = "\n".join(leaked)
    for what in ("default dtype", "validate_args", "formula registry", "SUMMARYPLUS_TEST_LEAK",
                 "loggers: summaryplus", "grad mode"):
        assert what in named, (what, named)
    assert torch.get_default_dtype() is torch.float32
    assert registry._REGISTRY[torch.ops.aten.mm] is original
    assert "SUMMARYPLUS_TEST_LEAK" not in os.environ
    assert logging.getLogger("summaryplus").level == before["logging's loggers"]["summaryplus"][0]
    assert torch.is_grad_enabled()
    assert restore(snapshot(), dynamo_patched_before=dynamo_patched()) == []  # nothing left


def test_random_numbers_drawn_are_put_back_without_failing() -> None:
    before = snapshot()
    first = torch.rand(3)
    assert restore(before, dynamo_patched_before=dynamo_patched()) == []
    assert torch.equal(torch.rand(3), first)  # the generator is where it was
