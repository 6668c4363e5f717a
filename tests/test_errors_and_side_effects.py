"""No side effects, clear failures (DESIGN.md section 4)."""

from __future__ import annotations

import pytest
import torch
from fingerprint import assert_same, fingerprint
from models import NestedNet
from torch import nn

from summaryplus import SummaryError, summary


class Dropper(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = NestedNet()
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.body(x))


@pytest.mark.parametrize("mode", ["train", "eval", "same"])
def test_summary_leaves_the_model_as_it_was(mode: str) -> None:
    model = Dropper()
    model.body.stem.eval()  # a partly frozen model keeps its mixed flags
    before = fingerprint(model)
    summary(model, input_size=(2, 3, 8, 8), mode=mode, verbose=0)
    assert_same(before, fingerprint(model))


def test_meta_and_fake_paths_leave_the_model_as_it_was() -> None:
    model = Dropper()
    before = fingerprint(model)
    stats = summary(model, input_size=(2, 3, 8, 8), device="meta", mode="train", verbose=0)
    assert_same(before, fingerprint(model))
    real = summary(model, input_size=(2, 3, 8, 8), verbose=0)
    assert stats.total_mult_adds == real.total_mult_adds


class Exploding(nn.Module):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
        self.inner = nn.Sequential(nn.ReLU(), Boom(error))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(self.stem(x))


class Boom(nn.Module):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise self.error


def test_failing_forward_names_the_module_and_keeps_the_partial_table() -> None:
    model = Exploding(ValueError("bad shapes"))
    before = fingerprint(model)
    with pytest.raises(SummaryError) as caught:
        summary(model, input_size=(3, 4), mode="train", verbose=0)
    error = caught.value
    assert isinstance(error, RuntimeError)
    assert error.module_path == "inner.1"
    assert error.module_class == "Boom"
    assert "Tensor[3, 8] float32" in error.input_shapes
    assert "inner.1" in str(error) and "Boom" in str(error) and "bad shapes" in str(error)
    assert isinstance(error.__cause__, ValueError)
    assert error.partial is not None
    ran = [row.class_name for row in error.partial.summary_list if row.executed]
    assert ran == ["Sequential", "Linear", "BatchNorm1d", "ReLU"]
    assert error.partial.total_params == 4 * 8 + 8 + 16
    assert_same(before, fingerprint(model))


def test_keyboard_interrupt_propagates_after_cleanup() -> None:
    model = Exploding(KeyboardInterrupt())
    before = fingerprint(model)
    with pytest.raises(KeyboardInterrupt):
        summary(model, input_size=(3, 4), mode="train", verbose=0)
    assert_same(before, fingerprint(model))


def test_exception_caught_inside_the_model_does_not_derail_the_rows() -> None:
    class Fallback(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fast = Boom(RuntimeError("no fast path"))
            self.slow = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            try:
                return self.fast(x)  # type: ignore[no-any-return]
            except RuntimeError:
                return self.slow(x)  # type: ignore[no-any-return]

    stats = summary(Fallback(), input_size=(2, 4), verbose=0)
    rows = [(row.class_name, row.depth, row.executed) for row in stats.summary_list]
    assert rows == [("Fallback", 0, True), ("Boom", 1, False), ("Linear", 1, True)]
    assert stats.total_mult_adds == 2 * 4 * 4


def test_verbose_prints_once(capsys: pytest.CaptureFixture[str]) -> None:
    summary(nn.Linear(2, 2), input_size=(1, 2), verbose=1)
    assert capsys.readouterr().out.count("Total params") == 1
    summary(nn.Linear(2, 2), input_size=(1, 2), verbose=0)
    assert capsys.readouterr().out == ""


def test_cached_forward_pass_is_reused_and_clearable() -> None:
    from summaryplus import clear_cached_forward_pass

    calls = []

    class Counted(nn.Linear):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            calls.append(1)
            return super().forward(x)

    model = Counted(3, 3)
    clear_cached_forward_pass()
    summary(model, input_size=(1, 3), cache_forward_pass=True, verbose=0)
    again = summary(model, input_size=(1, 3), cache_forward_pass=True, depth=1, verbose=0)
    assert len(calls) == 1
    assert again.total_params == 12 and again.summary_list[0].subtree_params == 12
    assert again.total_mult_adds == 9
    clear_cached_forward_pass()
    summary(model, input_size=(1, 3), cache_forward_pass=True, verbose=0)
    assert len(calls) == 2


def test_a_train_override_runs_as_model_train_would() -> None:
    class FrozenNorm(nn.Module):
        """Keeps its BatchNorm in eval mode even when trained, as fine-tuning code does."""

        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.BatchNorm1d(4)
            self.seen: list[bool] = []

        def train(self, mode: bool = True) -> FrozenNorm:
            super().train(mode)
            self.norm.eval()
            return self

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.seen.append(self.norm.training)
            return self.norm(x)  # type: ignore[no-any-return]

    model = FrozenNorm()
    summary(model, input_size=(3, 4), mode="train", verbose=0)
    assert model.seen == [False]
    assert model.norm.training  # and the flags are back as they were


def test_a_wrong_input_shape_is_the_models_error_not_summaryplus() -> None:
    # The op counter passes the model's own call on: torch's shape error is the
    # model's (no "please report it").
    with pytest.raises(SummaryError) as caught:
        summary(nn.Sequential(nn.Linear(4, 3)), input_size=(2, 5), verbose=0)
    message = str(caught.value)
    assert message.startswith("Failed to run the forward pass of Sequential: module '0' (Linear)")
    assert "please report" not in message and "mat1 and mat2" in message


class _TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + y  # type: ignore[no-any-return]


@pytest.mark.parametrize("device", [None, "meta"])
@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"input_size": (1, 4)}, "missing 1 required positional argument: 'y'"),
        ({"input_size": [(1, 4)] * 3}, "takes 3 positional arguments but 4 were given"),
        ({"input_data": [torch.rand(1, 4)] * 2, "z": 1}, "unexpected keyword argument 'z'"),
    ],
    ids=["too-few", "too-many", "unknown-keyword"],
)
def test_inputs_that_do_not_bind_to_the_forward_are_the_callers_error(
    inputs: dict[str, object], said: str, device: str | None
) -> None:
    with pytest.raises(SummaryError) as caught:
        summary(_TwoInputs(), device=device, verbose=0, **inputs)  # type: ignore[arg-type]
    first = str(caught.value).splitlines()[0]
    assert first.startswith("The inputs given do not fit the forward of the model (_TwoInputs)")
    # (the annotations are strings here: this file has `from __future__ import annotations`)
    assert said in first and "; it takes forward(x: 'torch.Tensor', y: 'torch.Tensor')" in first
    assert "please report" not in str(caught.value)


def test_a_binding_error_inside_the_models_own_code_stays_the_models() -> None:
    class CallsBadly(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.relu(x, 1, 2, 3)  # type: ignore[call-arg]

    with pytest.raises(SummaryError, match=r"^Failed to run the forward pass of CallsBadly"):
        summary(CallsBadly(), input_size=(1, 4), verbose=0)


@pytest.mark.parametrize("device", [None, "meta"])
def test_float_token_ids_get_a_hint_to_pass_long_dtypes(device: str | None) -> None:
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2))
    with pytest.raises(SummaryError, match=r"'indices'") as caught:
        summary(model, input_size=(1, 5), device=device, verbose=0)
    assert "pass dtypes=[torch.long]" in str(caught.value) and "--seq-len" in str(caught.value)
    # Another module's float error gets no such hint.
    with pytest.raises(SummaryError) as other:
        summary(nn.Linear(4, 3), input_size=(2, 5), verbose=0)
    assert "dtypes=[torch.long]" not in str(other.value)


@pytest.mark.parametrize("inputs", [{}, {"input_size": (1, 4)}], ids=["no-forward", "forward"])
def test_a_bad_device_is_refused_whether_or_not_a_forward_runs(inputs: dict[str, object]) -> None:
    # torchinfo 1.8.0's suite expects a RuntimeError; summaryplus's convention is a
    # ValueError naming the argument: DeviceError is both.
    with pytest.raises(ValueError, match=r"device='lol' is not a torch device") as caught:
        summary(nn.Linear(4, 2), device="lol", verbose=0, **inputs)  # type: ignore[arg-type]
    assert isinstance(caught.value, RuntimeError)
