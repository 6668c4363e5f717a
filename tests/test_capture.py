"""How a summary instruments modules: forward wrappers on instances, hooks where a
module has hooks of its own, and nothing left behind either way."""

from __future__ import annotations

import inspect
import threading
from typing import Any

import torch
from fingerprint import assert_same, fingerprint
from torch import nn

from summaryplus import summary
from summaryplus.capture import wrapping


def _rows(stats: Any) -> list[tuple[str, str, list[int]]]:
    return [(row.module_path, row.class_name, row.output_size) for row in stats.summary_list]


def test_nothing_is_left_on_the_instances() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 2)))
    before = fingerprint(model)
    summary(model, input_size=(3, 4), verbose=0)
    assert_same(before, fingerprint(model))
    assert all("forward" not in vars(module) for module in model.modules())
    assert not wrapping._wrappers


def test_a_forward_set_on_the_instance_is_recorded_and_kept() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    original = model[1].forward

    def doubled(x: torch.Tensor) -> torch.Tensor:
        return original(x) * 2  # type: ignore[no-any-return]

    model[1].forward = doubled  # what accelerate and friends do
    stats = summary(model, input_size=(3, 4), verbose=0)
    assert vars(model[1])["forward"] is doubled
    assert _rows(stats)[2] == ("1", "Linear", [3, 2])
    assert stats.summary_list[2].macs == 3 * 4 * 2


def test_a_module_with_its_own_hooks_keeps_them_inside_its_row() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    projection = torch.ones(2, 6)

    def widen(module: nn.Module, args: Any, output: torch.Tensor) -> torch.Tensor:
        return output @ projection  # runs inside the module's call

    handle = model[1].register_forward_hook(widen)
    before = fingerprint(model)
    stats = summary(model, input_size=(3, 4), verbose=0)
    assert_same(before, fingerprint(model))
    assert _rows(stats)[2] == ("1", "Linear", [3, 6])
    assert stats.summary_list[2].macs == 3 * 4 * 2 + 3 * 2 * 6
    assert len(model[1]._forward_hooks) == 1
    handle.remove()


class _PropertyForward(nn.Module):
    """A class whose ``forward`` no instance attribute can shadow."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 3)

    @property
    def forward(self) -> Any:  # type: ignore[override]
        return self.linear


def test_a_forward_property_falls_back_to_hooks() -> None:
    model = nn.Sequential(_PropertyForward())
    before = fingerprint(model)
    stats = summary(model, input_size=(2, 4), verbose=0)
    assert_same(before, fingerprint(model))
    assert _rows(stats)[1:] == [("0", "_PropertyForward", [2, 3]), ("0.linear", "Linear", [2, 3])]
    assert not wrapping._wrappers


def test_the_forward_signature_reads_as_the_real_one_during_the_summary() -> None:
    seen: list[list[str]] = []

    class Inspecting(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = Block()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(list(inspect.signature(self.block.forward).parameters))
            return self.block(x, scale=2.0)  # type: ignore[no-any-return]

    class Block(nn.Linear):
        def __init__(self) -> None:
            super().__init__(4, 4)

        def forward(self, x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
            return super().forward(x) * scale

    summary(Inspecting(), input_size=(1, 4), verbose=0)
    assert seen == [["x", "scale"]]


def test_a_child_forward_called_directly_gets_its_row() -> None:
    class Direct(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Linear(4, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner.forward(x)  # bypasses __call__ (and hooks)

    stats = summary(Direct(), input_size=(2, 4), verbose=0)
    assert _rows(stats) == [("", "Direct", [2, 5]), ("inner", "Linear", [2, 5])]
    assert stats.summary_list[1].macs == 2 * 4 * 5


def test_other_threads_run_the_model_unrecorded_and_unharmed() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    x = torch.randn(4, 8)
    with torch.no_grad():
        expected = model(x)
    started, stop = threading.Event(), threading.Event()
    outputs: list[torch.Tensor] = []
    errors: list[BaseException] = []

    def run_model() -> None:
        try:
            started.set()
            while not stop.is_set():
                with torch.no_grad():
                    outputs.append(model(x))
        except BaseException as error:  # reported below
            errors.append(error)

    worker = threading.Thread(target=run_model)
    worker.start()
    started.wait(10)
    try:
        for _ in range(20):
            stats = summary(model, input_size=(2, 8), verbose=0)
            assert [row.module_path for row in stats.summary_list] == ["", "0", "1", "2"]
            assert stats.total_mult_adds == 2 * (2 * 8 * 8)
    finally:
        stop.set()
        worker.join(30)
    assert not errors
    assert outputs and all(torch.equal(out, expected) for out in outputs)
    assert all("forward" not in vars(module) for module in model.modules())


def test_summaries_of_one_model_in_two_threads_overlap_cleanly() -> None:
    model = nn.Sequential(*[nn.Sequential(nn.Linear(8, 8), nn.ReLU()) for _ in range(50)])
    alone = _rows(summary(model, input_size=(2, 8), verbose=0))
    barrier = threading.Barrier(2)
    results: list[list[tuple[str, str, list[int]]]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                results.append(_rows(summary(model, input_size=(2, 8), verbose=0)))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(results) == 20 and all(rows == alone for rows in results)
    assert all("forward" not in vars(module) for module in model.modules())
    assert not wrapping._wrappers


def test_a_summary_inside_a_summarized_forward() -> None:
    inner_model = nn.Linear(4, 4)
    inner_stats: list[Any] = []

    class Outer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.shared = inner_model

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            inner_stats.append(summary(self.shared, input_size=(1, 4), verbose=0))
            return self.shared(x)  # type: ignore[no-any-return]

    stats = summary(Outer(), input_size=(2, 4), verbose=0)
    assert _rows(stats) == [("", "Outer", [2, 4]), ("shared", "Linear", [2, 4])]
    # The outer summary's op counter also sees the inner summary's forward (a
    # dispatch mode sees what runs under it), in Outer's own MACs.
    assert stats.summary_list[1].macs == 2 * 4 * 4
    assert inner_stats[0].total_mult_adds == 4 * 4
    assert "forward" not in vars(inner_model) and not wrapping._wrappers
