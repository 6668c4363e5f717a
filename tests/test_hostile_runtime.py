"""Hostile models at run time: a chain too deep for the C stack raises instead of
crashing the interpreter, and overlapping summaries in threads leave the
global RNG exactly as the caller left it.

Security model: docs/security.md; thread guarantees: docs/guarantees.md.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import torch
from torch import nn

from summaryplus import summary
from summaryplus.capture import interpreter

ROOT = Path(__file__).resolve().parents[1]


class Wrap(nn.Module):
    """One level of a chain: calls the next module, or adds 1 at the end."""

    def __init__(self, inner: nn.Module | None = None) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1 if self.inner is None else self.inner(x)


def chain(levels: int) -> nn.Module:
    model = Wrap()
    for _ in range(levels - 1):
        model = Wrap(model)
    return model


@pytest.mark.parametrize("levels", [200, 1000])
def test_deep_chains_are_summarized(levels: int) -> None:
    stats = summary(chain(levels), input_size=(1,), verbose=0, depth=1)
    assert len(stats.summary_list) == levels
    assert sys.getrecursionlimit() <= max(1000, interpreter.frame_budget())


def run_isolated(code: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``code`` in its own interpreter: a crash there (SIGSEGV) fails the test, not pytest."""
    header = textwrap.dedent(f"""
        import sys, threading
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]
        import torch
        from summaryplus import summary, SummaryError
        from test_hostile_runtime import chain
    """)
    return subprocess.run(
        [sys.executable, "-c", header + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout,
    )


def test_a_chain_too_deep_raises_instead_of_crashing() -> None:
    result = run_isolated("""
        model = chain(4000)
        try:
            model(torch.zeros(1))
        except RecursionError:
            print("bare: RecursionError")
        try:
            summary(model, input_size=(1,), verbose=0, depth=1)
        except SummaryError as error:
            print("summary:", str(error).splitlines()[0])
    """)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert "bare: RecursionError" in result.stdout
    assert "nests modules 3,999 levels deep" in result.stdout  # depth 0 is the root
    assert "RecursionError" in result.stdout


def test_a_thread_with_a_small_stack_raises_instead_of_crashing() -> None:
    # 1 MB of C stack: the recursion limit is raised only as far as it holds.
    result = run_isolated("""
        threading.stack_size(1 << 20)
        outcome = []
        def run():
            try:
                summary(chain(2000), input_size=(1,), verbose=0, depth=1)
                outcome.append("ok")
            except SummaryError as error:
                outcome.append("SummaryError")
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        print(outcome)
    """)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.strip() in ("['ok']", "['SummaryError']")


class Noisy(nn.Module):
    """Draws from the global RNG, and waits for its turn in the middle of the forward."""

    def __init__(self, started: threading.Event, release: threading.Event) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.started, self.release = started, release

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        noise = torch.randn_like(x)
        self.started.set()
        assert self.release.wait(30)
        return self.linear(x + noise + torch.rand(1))


@pytest.mark.parametrize("order", ["first ends first", "last ends first", "staggered"])
def test_overlapping_summaries_leave_the_rng_as_the_caller_left_it(order: str) -> None:
    events = [(threading.Event(), threading.Event()) for _ in range(3)]
    models = [Noisy(started, release) for started, release in events]
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    threads = [
        threading.Thread(target=summary, args=(model,), kwargs={"input_size": (1, 4), "verbose": 0})
        for model in models
    ]

    def start(i: int) -> None:
        threads[i].start()
        assert events[i][0].wait(30)

    def finish(i: int) -> None:
        events[i][1].set()
        threads[i].join(30)

    if order == "staggered":  # A starts, B starts, A ends, C starts, B ends, C ends
        start(0), start(1), finish(0), start(2), finish(1), finish(2)
    else:
        start(0), start(1)
        for i in ((0, 1) if order == "first ends first" else (1, 0)):
            finish(i)
    assert torch.equal(torch.get_rng_state(), before)


def test_reading_the_stack_size_leaves_it_as_set() -> None:
    # threading.stack_size() answers by resetting the size to 0: it is put back.
    previous = threading.stack_size(4 << 20)
    try:
        assert interpreter.stack_bytes() > 0
        assert threading.stack_size() == 4 << 20
    finally:
        threading.stack_size(previous)
