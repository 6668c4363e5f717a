"""Two summaries in two threads at once give the same results as alone."""

from __future__ import annotations

import gc
import sys
import threading
from typing import Any

import pytest
import torch
from models import NestedNet

from summaryplus import ModelStatistics, summary


def _gpt2() -> Any:
    transformers = pytest.importorskip("transformers")
    return transformers.GPT2LMHeadModel(
        transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=200)
    )


def _key(stats: ModelStatistics) -> tuple[Any, ...]:
    return (
        str(stats),
        stats.total_params,
        stats.total_mult_adds,
        stats.activation_bytes,
        [(row.module_path, row.macs, row.output_size) for row in stats.summary_list],
    )


def test_two_threads_two_models() -> None:
    torch.manual_seed(0)
    cnn, gpt = NestedNet(), _gpt2()
    jobs = {
        "cnn": lambda: summary(cnn, input_size=(2, 3, 8, 8), mode="train", verbose=0),
        "gpt": lambda: summary(gpt, input_size=(2, 16), dtypes=[torch.long], mode="train",
                               verbose=0),
    }
    alone = {name: _key(job()) for name, job in jobs.items()}
    collector, limit = gc.isenabled(), sys.getrecursionlimit()

    results: dict[str, list[Any]] = {name: [] for name in jobs}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(jobs))

    def work(name: str) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                results[name].append(_key(jobs[name]()))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    for name in jobs:
        assert results[name] == [alone[name]] * 5
    # The interpreter-wide settings a summary adjusts are back as they were.
    assert gc.isenabled() == collector and sys.getrecursionlimit() == limit


def test_two_threads_one_model_leave_every_flag_and_tensor_as_before() -> None:
    from fingerprint import assert_same, fingerprint
    from torch import nn

    torch.manual_seed(0)
    model = NestedNet()
    model.train()
    model.stem.eval()  # mixed flags
    before = fingerprint(model)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(mode: str) -> None:
        try:
            barrier.wait()
            for _ in range(6):
                summary(model, input_size=(2, 3, 8, 8), mode=mode, verbose=0)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(mode,)) for mode in ("eval", "train")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert_same(before, fingerprint(model))
    assert model.training and not model.stem.training
    assert all(isinstance(m, nn.Module) for m in model.modules())


def test_overlapping_summaries_without_data_put_validation_back_once_both_end() -> None:
    # Two summaries on meta in two threads: the first to end must not switch
    # torch.distributions' validation back on under the second, and the last
    # to end restores the setting found by the first (interleaved, not nested).
    from summaryplus.capture import interpreter

    validation = torch.distributions.Distribution
    before = validation._validate_args
    first, second = interpreter.distributions_unvalidated(), interpreter.distributions_unvalidated()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert validation._validate_args is False  # the second is still running
    second.__exit__(None, None, None)
    assert validation._validate_args is before
