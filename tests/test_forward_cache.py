"""cache_forward_pass=True gives what a fresh summary gives, for any sequence of
models and changes, and never shares rows between results."""

from __future__ import annotations

import gc
from typing import Any

import hypothesis.strategies as st
import torch
from hypothesis import given, settings
from torch import nn

from summaryplus import ModelStatistics, clear_cached_forward_pass, summary
from summaryplus.pipeline import cached_forward_pass as _cached_forward_pass


def MLP(width: int) -> nn.Sequential:  # named as in the issue
    return nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 4))


def _view(stats: ModelStatistics) -> tuple[Any, ...]:
    return (
        str(stats),
        stats.total_params,
        stats.trainable_params,
        stats.total_mult_adds,
        [
            (r.module_path, r.num_params, r.trainable_params, r.macs, r.output_size,
             r.counted_params, r.subtree_params)
            for r in stats.summary_list
        ],
    )


def _fresh_and_cached(model: nn.Module, **kwargs: Any) -> tuple[Any, Any]:
    cached = summary(model, cache_forward_pass=True, verbose=0, **kwargs)
    fresh = summary(model, verbose=0, **kwargs)
    return _view(cached), _view(fresh)


def test_a_second_model_of_the_same_class_gets_its_own_rows() -> None:
    clear_cached_forward_pass()
    first = summary(MLP(4), input_size=(1, 4), cache_forward_pass=True, verbose=0)
    second = summary(MLP(32), input_size=(1, 4), cache_forward_pass=True, verbose=0)
    assert first.total_mult_adds == 4 * 4 + 4 * 4
    assert second.total_mult_adds == 4 * 32 + 32 * 4  # 256, not the first model's 32
    assert second.total_params == 4 * 32 + 32 + 32 * 4 + 4


def test_freezing_a_layer_changes_the_cached_result_and_not_the_earlier_one() -> None:
    clear_cached_forward_pass()
    model = MLP(8)
    first = summary(model, input_size=(1, 4), cache_forward_pass=True, verbose=0)
    before = _view(first)
    model[0].requires_grad_(False)
    second = summary(model, input_size=(1, 4), cache_forward_pass=True, verbose=0)
    assert _view(first) == before  # the earlier result's rows are its own
    assert second.trainable_params == 8 * 4 + 4
    assert second.summary_list[1].trainable_params == 0
    assert not {id(r) for r in first.summary_list} & {id(r) for r in second.summary_list}


def test_a_cache_hit_gives_fresh_rows() -> None:
    clear_cached_forward_pass()
    model = MLP(8)
    calls = []
    model[0].register_forward_pre_hook(lambda *_: calls.append(1))
    one = summary(model, input_size=(1, 4), cache_forward_pass=True, verbose=0)
    two = summary(model, input_size=(1, 4), cache_forward_pass=True, depth=1, verbose=0)
    assert len(calls) == 1  # the second came from the cache
    assert not {id(r) for r in one.summary_list} & {id(r) for r in two.summary_list}
    assert _view(two)[1:] == _view(one)[1:]
    assert two.summary_list[1].parent_info is two.summary_list[0]


def test_a_changed_weight_or_flag_or_input_misses_the_cache() -> None:
    clear_cached_forward_pass()
    model = MLP(8)
    calls = []
    model.register_forward_pre_hook(lambda *_: calls.append(1))
    summary(model, input_size=(1, 4), cache_forward_pass=True, verbose=0)
    with torch.no_grad():
        model[0].weight.mul_(2)  # a data-dependent forward could route differently
    summary(model, input_size=(1, 4), cache_forward_pass=True, verbose=0)
    model[2] = nn.Linear(8, 4)
    summary(model, input_size=(1, 4), cache_forward_pass=True, verbose=0)
    summary(model, input_size=(2, 4), cache_forward_pass=True, verbose=0)
    summary(model, input_size=(2, 4), cache_forward_pass=True, mode="train", verbose=0)
    model[1].inplace = True  # a plain attribute
    summary(model, input_size=(2, 4), cache_forward_pass=True, mode="train", verbose=0)
    assert len(calls) == 6


def test_the_cache_holds_models_weakly() -> None:
    clear_cached_forward_pass()
    summary(MLP(8), input_size=(1, 4), cache_forward_pass=True, verbose=0)
    gc.collect()
    assert len(_cached_forward_pass) == 0


_CHANGES = ["freeze", "unfreeze", "scale", "replace", "train", "eval", "bigger_input", "none"]


@settings(max_examples=25, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(_CHANGES), st.sampled_from(["eval", "same"])),
        min_size=1,
        max_size=6,
    )
)
def test_the_cache_agrees_with_a_fresh_summary_for_any_sequence(
    steps: list[tuple[int, str, str]],
) -> None:
    clear_cached_forward_pass()
    models = [MLP(4), MLP(4), MLP(16)]
    batch = 1
    for which, change, mode in steps:
        model = models[which]
        if change == "freeze":
            model[0].requires_grad_(False)
        elif change == "unfreeze":
            model.requires_grad_(True)
        elif change == "scale":
            with torch.no_grad():
                model[2].bias.add_(1)
        elif change == "replace":
            model[2] = nn.Linear(model[0].out_features, 3)
        elif change in ("train", "eval"):
            model.train(change == "train")
        elif change == "bigger_input":
            batch += 1
        cached, fresh = _fresh_and_cached(model, input_size=(batch, 4), mode=mode)
        assert cached == fresh
