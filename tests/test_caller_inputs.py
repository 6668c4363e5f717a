"""Nothing fake or meta reaches the caller's inputs; copy_inputs=True leaves
real inputs untouched (DESIGN.md section 4)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensor

from summaryplus import SummaryError, summary


def _gpt2() -> Any:
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    return transformers.GPT2LMHeadModel(
        transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=200)
    ).eval()


def _cache_key() -> str:
    """The keyword the installed transformers takes a cache by: ``cache`` (5.x,
    where ``past_key_values`` is deprecated) or ``past_key_values`` (older)."""
    transformers = pytest.importorskip("transformers")
    taken = inspect.signature(transformers.GPT2LMHeadModel.forward).parameters
    return "cache" if "cache" in taken else "past_key_values"


def _flat(value: Any, path: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """Every tensor (by value, type and device) and container length reachable
    from ``value``: what a forward could have changed."""
    if isinstance(value, torch.Tensor):
        return [(path, (type(value), value.device, value.detach().clone()))]
    if isinstance(value, (type, nn.Module)):
        return [(path, value)]  # by identity
    if depth > 10 or isinstance(value, (str, bytes, int, float, bool, type(None))):
        return [(path, value)]
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    elif hasattr(value, "__dict__"):
        items = vars(value).items()
    else:
        return out
    items = list(items)
    out.append((path + "#len", len(items)))
    for key, item in items:
        out += _flat(item, f"{path}.{key}", depth + 1)
    return out


def _assert_same(before: list[tuple[str, Any]], after: list[tuple[str, Any]]) -> None:
    assert [p for p, _ in before] == [p for p, _ in after]
    for (path, old), (_, new) in zip(before, after, strict=True):
        if isinstance(old, tuple) and len(old) == 3 and isinstance(old[2], torch.Tensor):
            assert old[0] is new[0] and old[1] == new[1], path
            assert torch.equal(old[2], new[2]), path
        else:
            assert old == new, path


def _filled_cache(model: Any, grad: bool) -> Any:
    transformers = pytest.importorskip("transformers")
    cache = transformers.DynamicCache()
    with torch.set_grad_enabled(grad):
        model(torch.randint(0, 200, (1, 5)), **{_cache_key(): cache}, use_cache=True)
    return cache


@pytest.mark.parametrize("grad", [False, True], ids=["leaf", "with_history"])
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_a_cache_given_on_the_fake_path_gets_nothing_fake(mode: str, grad: bool) -> None:
    model = _gpt2()
    cache = _filled_cache(model, grad)
    before = _flat(cache)
    ids = torch.randint(0, 200, (1, 3))
    summary(model, input_data={"input_ids": ids, _cache_key(): cache, "use_cache": True},
            device="meta", mode=mode, verbose=0)
    _assert_same(before, _flat(cache))
    assert cache.get_seq_length() == 5
    logits = model(ids, **{_cache_key(): cache}, use_cache=True).logits
    assert not isinstance(logits, FakeTensor) and logits.device.type == "cpu"


def test_an_empty_cache_on_the_fake_path_stays_empty() -> None:
    transformers = pytest.importorskip("transformers")
    model = _gpt2()
    cache = transformers.DynamicCache()
    summary(model, input_data={"input_ids": torch.randint(0, 200, (1, 4))}, device="meta",
            **{_cache_key(): cache}, use_cache=True, verbose=0)
    assert cache.get_seq_length() == 0
    assert not isinstance(model(torch.randint(0, 200, (1, 4))).logits, FakeTensor)


@dataclasses.dataclass
class Memory:
    seen: list[torch.Tensor]
    slots: torch.Tensor


class Writes(nn.Module):
    """Appends to a list, writes a static slot in place, sets an attribute."""

    def __init__(self, error: BaseException | None = None) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.error = error

    def forward(self, x: torch.Tensor, memory: Memory, notes: dict[str, Any]) -> torch.Tensor:
        y = self.proj(x)
        memory.seen.append(y)
        memory.slots.index_copy_(0, torch.tensor([1], device=x.device), y[:1].detach())
        notes["last"] = y
        notes.setdefault("calls", []).append(1)
        if self.error is not None:
            raise self.error
        return y


def _inputs() -> tuple[torch.Tensor, Memory, dict[str, Any]]:
    return torch.ones(2, 4), Memory([torch.zeros(1)], torch.zeros(3, 4)), {"calls": []}


@pytest.mark.parametrize("error", [None, RuntimeError("late"), KeyboardInterrupt()])
@pytest.mark.parametrize("how", ["fake", "meta_model", "copy_inputs"])
def test_inputs_are_untouched_on_fake_and_meta_paths_and_with_copy_inputs(
    how: str, error: BaseException | None
) -> None:
    model = Writes(error)
    if how == "meta_model":
        model = model.to("meta")
    x, memory, notes = _inputs()
    before = _flat((x, memory, notes))
    options: dict[str, Any] = {
        "fake": {"device": "meta"},
        "meta_model": {},
        "copy_inputs": {"copy_inputs": True},
    }[how]
    try:
        summary(model, input_data=[x, memory, notes], verbose=0, **options)
    except (SummaryError, KeyboardInterrupt):
        assert error is not None
    _assert_same(before, _flat((x, memory, notes)))


def test_a_real_forward_changes_its_inputs_as_any_forward_does() -> None:
    transformers = pytest.importorskip("transformers")
    x, memory, notes = _inputs()
    summary(Writes(), input_data=[x, memory, notes], verbose=0)
    assert len(memory.seen) == 2  # documented: a cache advances
    model = _gpt2()
    cache = transformers.DynamicCache()
    summary(model, input_data={"input_ids": torch.randint(0, 200, (1, 4))},
            **{_cache_key(): cache}, use_cache=True, verbose=0)
    assert cache.get_seq_length() == 4
    kept = transformers.DynamicCache()
    summary(model, input_data={"input_ids": torch.randint(0, 200, (1, 4))},
            **{_cache_key(): kept}, use_cache=True, copy_inputs=True, verbose=0)
    assert kept.get_seq_length() == 0


def test_copy_inputs_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="copy_inputs"):
        summary(nn.Linear(2, 2), input_size=(1, 2), copy_inputs="yes", verbose=0)
