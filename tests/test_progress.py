"""`summaryplus plan`'s progress bar: on a terminal after a second, never in a pipe or JSON."""

from __future__ import annotations

import io
import time

from summaryplus.cli import progress as progress_module
from summaryplus.cli.progress import Progress, wants_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_wants_a_terminal_and_not_json() -> None:
    assert wants_progress("text", _Terminal())
    assert wants_progress("md", _Terminal())
    assert not wants_progress("json", _Terminal())
    assert not wants_progress("text", io.StringIO())  # a pipe or a file


def test_a_short_run_draws_nothing() -> None:
    stream = _Terminal()
    with Progress(3, True, stream) as progress:
        progress.stage("building the model")
    assert stream.getvalue() == ""


def test_a_long_run_draws_a_bar_and_erases_it(monkeypatch: object) -> None:
    import pytest

    patch = pytest.MonkeyPatch()
    patch.setattr(progress_module, "DELAY_S", 0.05)
    try:
        stream = _Terminal()
        with Progress(3, True, stream) as progress:
            progress.stage("building the model")
            progress.stage("training step")
            time.sleep(0.3)
        text = stream.getvalue()
    finally:
        patch.undo()
    # 1 of 3 stages done: 20 * 1 // 3 = 6 characters filled, at stage 2 of 3
    assert "[######..............] 2/3 training step" in text
    assert text.endswith("\r\x1b[K")  # erased: the output starts on a clean line


def test_disabled_draws_nothing_even_when_long(monkeypatch: object) -> None:
    stream = _Terminal()
    with Progress(2, False, stream) as progress:
        progress.stage("a")
    assert stream.getvalue() == ""


def test_line_counts_stages() -> None:
    bar = Progress(4, True)
    bar.stage("one")
    bar.stage("two")
    bar.stage("three")
    # 2 of 4 done: 20 * 2 // 4 = 10 filled
    assert bar.line(2.04) == "[##########..........] 3/4 three  2.0 s"
