"""How a summary instruments modules: forward wrappers on instances, hooks where a
module has hooks of its own, and nothing left behind either way."""

from __future__ import annotations

import copy
import functools
import inspect
import pickle
import threading
from typing import Any

import pytest
import torch
from fingerprint import assert_same, fingerprint
from torch import nn

from summaryplus import summary
from summaryplus.capture import wrapping


def _no_wrapper_left(*models: nn.Module) -> bool:
    return not any(
        isinstance(vars(module).get("forward"), wrapping.RecordedForward)
        for model in models
        for module in model.modules()
    )


def _rows(stats: Any) -> list[tuple[str, str, list[int]]]:
    return [(row.module_path, row.class_name, row.output_size) for row in stats.summary_list]


def test_nothing_is_left_on_the_instances() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 2)))
    before = fingerprint(model)
    summary(model, input_size=(3, 4), verbose=0)
    assert_same(before, fingerprint(model))
    assert all("forward" not in vars(module) for module in model.modules())


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
    assert _no_wrapper_left(model)


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
    assert "forward" not in vars(inner_model) and _no_wrapper_left(inner_model)


def test_a_forward_kept_by_the_model_passes_calls_through_after_the_summary() -> None:
    class Patching(nn.Module):
        """Wraps a child's forward lazily during its own forward, as some
        libraries do, and keeps the wrapped one."""

        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.b = nn.Linear(4, 2)
            self.patched = False

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if not self.patched:
                self.a.forward = functools.partial(self.a.forward)
                self.patched = True
            return self.b(self.a(x))  # type: ignore[no-any-return]

    model = Patching()
    for _ in range(3):
        stats = summary(model, input_size=(2, 4), verbose=0)
        assert [row.module_path for row in stats.summary_list] == ["", "a", "b"]
        assert stats.total_mult_adds == 2 * 4 * 4 + 2 * 4 * 2
    # The model kept the first summary's wrapper inside its partial: it only
    # passes calls through now.
    assert _no_wrapper_left(model.b)
    assert isinstance(model.a.forward, functools.partial)


def test_a_copy_made_during_the_forward_runs_its_own_weights() -> None:
    class Teacher(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.student = nn.Linear(4, 4)
            self.teacher: list[nn.Module] = []  # not registered: a plain list

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if not self.teacher:
                self.teacher.append(copy.deepcopy(self.student))
            return self.student(x)  # type: ignore[no-any-return]

    model = Teacher()
    summary(model, input_size=(2, 4), verbose=0)
    teacher = model.teacher[0]
    with torch.no_grad():
        teacher.weight.zero_()
        teacher.bias.zero_()
        assert torch.equal(teacher(torch.ones(1, 4)), torch.zeros(1, 4))
    pickled = pickle.loads(pickle.dumps(model.student))
    assert "forward" not in vars(pickled) or vars(pickled)["forward"].__self__ is pickled


def test_transformer_encoder_layers_keep_their_submodule_rows() -> None:
    torchinfo = pytest.importorskip("torchinfo")
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    ours = summary(encoder, input_size=(2, 5, 16), depth=5, verbose=0)
    theirs = torchinfo.summary(encoder, input_size=(2, 5, 16), depth=5, verbose=0)
    assert len(ours.summary_list) == len(theirs.summary_list) == 20
    assert "layers.0.self_attn" in [row.module_path for row in ours.summary_list]


def test_a_forward_calling_itself_directly_stays_in_its_row() -> None:
    class Recursive(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor, depth: int = 2) -> torch.Tensor:
            if depth:
                x = self.forward(x, depth - 1)
            return x

    stats = summary(nn.Sequential(Recursive()), input_size=(1, 4), verbose=0)
    assert [row.module_path for row in stats.summary_list] == ["", "0"]


def test_a_module_calling_itself_as_a_module_gets_a_recursive_row() -> None:
    torchinfo = pytest.importorskip("torchinfo")
    class Nested(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor, depth: int = 1) -> torch.Tensor:
            if depth:
                return self(x, depth - 1)  # type: ignore[no-any-return]
            return self.l(x)  # type: ignore[no-any-return]

    ours = summary(Nested(), input_size=(1, 4), verbose=0)
    theirs = torchinfo.summary(Nested(), input_size=(1, 4), verbose=0)
    assert [row.class_name for row in ours.summary_list] == [
        row.class_name for row in theirs.summary_list
    ]
    assert any(row.is_recursive for row in ours.summary_list)


def test_a_hooked_summary_beside_a_wrapped_one_of_the_same_modules() -> None:
    # A compiled model is recorded with hooks only; the plain one with wrappers.
    plain = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    compiled = torch.compile(plain, backend="eager")
    expected = {
        "plain": [row.module_path for row in summary(plain, input_size=(2, 8), verbose=0)],
        "compiled": [row.module_path for row in summary(compiled, input_size=(2, 8), verbose=0)],
    }
    barrier = threading.Barrier(2)
    results: dict[str, list[list[str]]] = {"plain": [], "compiled": []}
    errors: list[BaseException] = []

    def work(name: str, target: nn.Module) -> None:
        try:
            barrier.wait()
            for _ in range(20):
                stats = summary(target, input_size=(2, 8), verbose=0)
                results[name].append([row.module_path for row in stats.summary_list])
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [
        threading.Thread(target=work, args=("plain", plain)),
        threading.Thread(target=work, args=("compiled", compiled)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    for name, runs in results.items():
        assert all(rows == expected[name] for rows in runs), name
    assert _no_wrapper_left(plain)


def test_the_wrapped_forward_reads_as_a_bound_method() -> None:
    seen: list[Any] = []

    class Looking(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l = nn.Linear(2, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            forward = self.l.forward
            seen.append((forward.__self__ is self.l, forward.__name__, forward.__func__))
            return self.l(x)  # type: ignore[no-any-return]

    summary(Looking(), input_size=(1, 2), verbose=0)
    assert seen == [(True, "forward", nn.Linear.forward)]


def test_rows_list_their_attributes_in_vars() -> None:
    stats = summary(nn.Sequential(nn.Linear(3, 2)), input_size=(1, 3), verbose=0)
    row = vars(stats.summary_list[1])
    assert row["class_name"] == "Linear" and row["num_params"] == 8
    assert row["module_path"] == "0" and row["output_size"] == [1, 2]


def test_a_shared_module_called_through_one_parent_gets_that_parents_path() -> None:
    shared = nn.Linear(4, 4)

    class Caller(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Sequential(shared)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner[0](x)  # type: ignore[no-any-return]

    class Root(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.second = Caller()
            self.first = nn.Sequential(shared)  # registered first (walked first)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.second(x)  # type: ignore[no-any-return]

    stats = summary(Root(), input_size=(2, 4), verbose=0)
    paths = [row.module_path for row in stats.summary_list]
    assert paths[:4] == ["", "second", "second.inner", "second.inner.0"]


def test_the_tree_reads_plain_modules_attributes_in_their_dict() -> None:
    from summaryplus.module_tree import AttributesView, ModuleTree

    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    tree = ModuleTree(model)
    pairs = zip(tree.attributes, tree.modules, strict=True)
    assert all(own is module.__dict__ for own, module in pairs)
    scripted = ModuleTree(torch.jit.script(nn.Sequential(nn.Linear(2, 2))))
    assert all(isinstance(own, AttributesView) for own in scripted.attributes)


class _FlagProperty(nn.Module):
    """``training`` kept elsewhere, behind a property: reading the instance's
    __dict__ would miss it (the tree reads it the usual way)."""

    def __init__(self) -> None:
        self._mode: list[bool] = [True]
        super().__init__()
        self.linear = nn.Linear(3, 3)
        self.seen: list[bool] = []

    @property  # type: ignore[override]
    def training(self) -> bool:
        return self._mode[0]

    @training.setter
    def training(self, value: bool) -> None:
        self._mode[0] = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(self.training)
        return self.linear(x)


def test_a_class_keeping_its_attributes_elsewhere_is_summarized_and_put_back() -> None:
    from summaryplus.module_tree import AttributesView, ModuleTree

    model = _FlagProperty()
    assert isinstance(ModuleTree(model).attributes[0], AttributesView)
    stats = summary(model, input_size=(1, 3), verbose=0, mode="eval")
    assert model.seen == [False] and model.training is True
    assert stats.total_params == 12
    summary(model, input_size=(1, 3), verbose=0, mode="train")
    model.eval()
    summary(model, input_size=(1, 3), verbose=0, mode="train")
    assert model.seen == [False, True, True] and model.training is False
