"""Forwards that change their own model leave no trace after summary()
(DESIGN.md section 4): every kind of write, every mode, real and fake tensors,
on success, error and interrupt."""

from __future__ import annotations

import logging
from collections.abc import Callable

import hypothesis.strategies as st
import pytest
import torch
from fingerprint import assert_same, fingerprint
from hypothesis import HealthCheck, given, settings
from torch import nn

from summaryplus import SummaryError, summary

Write = Callable[["Stateful"], None]


class Stateful(nn.Module):
    """A student/teacher pair, a counter, a cache and a norm; ``write`` changes
    the model's own state in the middle of the forward."""

    def __init__(self, write: Write, error: BaseException | None = None) -> None:
        super().__init__()
        self.student = nn.Linear(4, 4)
        self.teacher = nn.Linear(4, 4)
        self.norm = nn.BatchNorm1d(4)
        self.act = nn.ReLU()
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        self.register_buffer("cache", torch.zeros(2, 8, 4))
        self.write = write
        self.error = error

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.teacher(self.act(self.norm(self.student(x))))
        self.write(self)
        if self.error is not None:
            raise self.error
        return y


def _ema(m: Stateful) -> None:
    with torch.no_grad():
        m.teacher.weight.mul_(0.9).add_(m.student.weight, alpha=0.1)


def _count(m: Stateful) -> None:
    m.steps += 1


def _cache_slot(m: Stateful) -> None:
    m.cache[:, 3] = torch.ones(2, 4)  # a write through a view


def _out(m: Stateful) -> None:
    torch.add(m.cache, 1.0, out=m.cache)


def _view_of_param(m: Stateful) -> None:
    with torch.no_grad():
        m.student.weight[0].fill_(3.0)
        m.student.bias.view(2, 2).zero_()


def _foreach(m: Stateful) -> None:
    with torch.no_grad():
        torch._foreach_mul_([m.student.weight, m.teacher.bias], 2.0)


def _data_assignment(m: Stateful) -> None:
    m.teacher.weight.data = m.teacher.weight.data * 2


def _data_resized(m: Stateful) -> None:
    m.student.bias.data = torch.zeros(7)


def _replace_parameter(m: Stateful) -> None:
    m.teacher.weight = nn.Parameter(torch.zeros(4, 4))


def _add_attributes(m: Stateful) -> None:
    m.extra = nn.Parameter(torch.ones(3))
    m.register_buffer("added", torch.ones(2))
    m.head = nn.Linear(2, 2)
    m.norm.extra = nn.Parameter(torch.ones(1))  # on a module that held nothing of this kind
    m.act.register_buffer("count", torch.zeros(1))


def _replace_submodule_and_buffer(m: Stateful) -> None:
    m.norm = nn.BatchNorm1d(4)
    m.steps = torch.full((), 9)


def _delete_parameter(m: Stateful) -> None:
    del m.student.bias
    m.student.bias = None  # type: ignore[assignment]


def _requires_grad_flip(m: Stateful) -> None:
    m.student.weight.requires_grad_(False)
    m.steps.requires_grad_(False)


def _grad_assignment(m: Stateful) -> None:
    m.teacher.weight.grad = torch.ones(4, 4)


WRITES = {
    "ema": _ema,
    "counter": _count,
    "cache_slot": _cache_slot,
    "out=": _out,
    "view_of_param": _view_of_param,
    "foreach": _foreach,
    ".data": _data_assignment,
    ".data_resized": _data_resized,
    "replaced_param": _replace_parameter,
    "added": _add_attributes,
    "replaced_module_buffer": _replace_submodule_and_buffer,
    "deleted_param": _delete_parameter,
    "requires_grad": _requires_grad_flip,
    ".grad": _grad_assignment,
}


def _frozen_teacher(write: Write, error: BaseException | None = None) -> Stateful:
    torch.manual_seed(0)
    model = Stateful(write, error)
    model.teacher.requires_grad_(False)
    model.norm.running_mean.uniform_()
    return model


@pytest.mark.parametrize("device", [None, "meta"], ids=["real", "fake"])
@pytest.mark.parametrize("mode", ["eval", "train", "same"])
@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_forward_writing_its_model_leaves_it_as_it_was(
    write: Write, mode: str, device: str | None
) -> None:
    model = _frozen_teacher(write)
    before = fingerprint(model)
    summary(model, input_size=(2, 4), mode=mode, device=device, verbose=0)
    assert_same(before, fingerprint(model))
    # The model really is usable as before: no fake tensor left anywhere.
    for tensor in [*model.parameters(), *model.buffers()]:
        assert type(tensor) in (torch.Tensor, nn.Parameter)


@pytest.mark.parametrize("device", [None, "meta"], ids=["real", "fake"])
@pytest.mark.parametrize("error", [ValueError("late failure"), KeyboardInterrupt()])
@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_failing_forward_writing_its_model_leaves_it_as_it_was(
    write: Write, error: BaseException, device: str | None
) -> None:
    model = _frozen_teacher(write, error)
    before = fingerprint(model)
    expected = KeyboardInterrupt if isinstance(error, KeyboardInterrupt) else SummaryError
    with pytest.raises(expected):
        summary(model, input_size=(2, 4), mode="train", device=device, verbose=0)
    assert_same(before, fingerprint(model))


def test_the_summary_is_of_the_state_before_the_forward() -> None:
    model = _frozen_teacher(_add_attributes)
    stats = summary(model, input_size=(2, 4), verbose=0)
    # The parameters counted are the model's as the caller holds it.
    assert stats.total_params == sum(p.numel() for p in model.parameters())
    assert not hasattr(model, "head") and "added" not in model._buffers


class LazyInside(nn.Module):
    """Materialises an uninitialised parameter by hand (no LazyModuleMixin)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.UninitializedParameter()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.weight, nn.UninitializedParameter):
            self.weight.materialize((x.shape[-1], 3))
            with torch.no_grad():
                self.weight.fill_(1.0)
        return x @ self.weight


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_a_parameter_materialised_by_the_forward_is_uninitialised_again(mode: str) -> None:
    model = LazyInside()
    before = fingerprint(model)
    stats = summary(model, input_size=(2, 4), mode=mode, verbose=0)
    assert stats.total_mult_adds == 2 * 4 * 3
    assert_same(before, fingerprint(model))
    assert type(model.weight) is nn.UninitializedParameter
    assert model(torch.ones(1, 4)).shape == (1, 3)  # still works as a lazy module


def test_lazy_modules_stay_lazy_in_every_mode() -> None:
    # (device="meta" on a lazy model is not supported: its copy materialises
    # fake parameters.)
    model = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyLinear(2))
    before = fingerprint(model)
    for mode in ("eval", "train", "same"):
        summary(model, input_size=(2, 5), mode=mode, verbose=0)
    assert_same(before, fingerprint(model))
    assert isinstance(model[0], nn.LazyLinear)


def test_copy_on_write_copies_only_what_the_forward_writes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="summaryplus")
    summary(_frozen_teacher(lambda m: None), input_size=(2, 4), verbose=0)
    assert "0 written tensor(s), 0 bytes copied" in caplog.text
    caplog.clear()
    summary(_frozen_teacher(_ema), input_size=(2, 4), verbose=0)
    assert "1 written tensor(s), 64 bytes copied" in caplog.text  # 4 * 4 float32
    caplog.clear()
    summary(_frozen_teacher(lambda m: None), input_size=(2, 4), mode="train", verbose=0)
    # train-mode batch norm: running_mean, running_var, num_batches_tracked
    assert "3 written tensor(s), 40 bytes copied" in caplog.text  # 4*4 + 4*4 + 8


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    writes=st.lists(
        st.tuples(
            st.integers(0, 10_000),  # which tensor
            st.sampled_from(["fill_", "mul_", "add_", "zero_", "copy_", "slice", "out="]),
            st.floats(-3, 3, allow_nan=False),
        ),
        max_size=6,
    ),
    mode=st.sampled_from(["eval", "train", "same"]),
    fake=st.booleans(),
    fails=st.booleans(),
)
def test_random_in_place_writes_to_parameters_and_buffers(
    writes: list[tuple[int, str, float]], mode: str, fake: bool, fails: bool
) -> None:
    def write(m: Stateful) -> None:
        tensors = [*m.parameters(), *m.buffers()]
        with torch.no_grad():
            for index, op, value in writes:
                tensor = tensors[index % len(tensors)]
                if not tensor.is_floating_point():
                    tensor.add_(1)
                elif op == "slice":
                    tensor.view(-1)[: max(1, tensor.numel() // 2)].fill_(value)
                elif op == "out=":
                    torch.mul(tensor, value, out=tensor)
                elif op == "copy_":
                    tensor.copy_(torch.full_like(tensor, value))
                elif op == "zero_":
                    tensor.zero_()
                else:
                    getattr(tensor, op)(value)

    model = _frozen_teacher(write, RuntimeError("after the writes") if fails else None)
    before = fingerprint(model)
    try:
        summary(model, input_size=(2, 4), mode=mode, device="meta" if fake else None, verbose=0)
    except SummaryError:
        assert fails
    assert_same(before, fingerprint(model))


def test_a_write_the_capture_cannot_see_is_reported() -> None:
    import threading

    def from_another_thread(m: Stateful) -> None:
        thread = threading.Thread(target=lambda: m.cache.add_(1.0))
        thread.start()
        thread.join()

    with pytest.warns(RuntimeWarning, match="could not put their contents back"):
        summary(_frozen_teacher(from_another_thread), input_size=(2, 4), verbose=0)


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_meta_model_writing_itself_keeps_its_tensors_and_attributes(write: Write) -> None:
    with torch.device("meta"):
        model = Stateful(write)
    before = {
        name: (id(t), t.shape, t.dtype, t.requires_grad)
        for name, t in [*model.named_parameters(), *model.named_buffers()]
    }
    modules = [id(m) for m in model.modules()]
    try:
        summary(model, input_size=(2, 4), mode="train", verbose=0)
    except SummaryError:  # a write of a CPU tensor into a meta model: restored all the same
        assert write in (_data_resized, _grad_assignment)
    after = {
        name: (id(t), t.shape, t.dtype, t.requires_grad)
        for name, t in [*model.named_parameters(), *model.named_buffers()]
    }
    assert after == before
    assert [id(m) for m in model.modules()] == modules
    assert all(t.is_meta for t in [*model.parameters(), *model.buffers()])
