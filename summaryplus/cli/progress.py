"""A progress bar on stderr for commands that take a while (``summaryplus plan``).

Drawn only on a terminal, and only once the run has taken a second: a pipe, a
file or ``--format json`` gets nothing, so output stays clean to parse. The bar
counts the stages the command announces (``Progress.stage``) and shows the time
so far; it is erased when the command ends.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

# Runs shorter than this show no bar at all.
DELAY_S = 1.0
_WIDTH = 20  # characters of the bar itself
_TICK_S = 0.1


class Progress:
    """``with Progress(total, enabled) as progress: progress.stage("name")``.

    Args:
        total: how many stages the run has.
        enabled: draw at all (False: every call is a no-op).
        stream: where to draw (default ``sys.stderr``, read when entering).
    """

    def __init__(self, total: int, enabled: bool, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.enabled = enabled
        self.stream = stream
        self.done = 0
        self.name = ""
        self.drawn = False
        self._start = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.stream is None:
            self.stream = sys.stderr
        self._start = time.monotonic()
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="summaryplus-progress",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self.drawn and self.stream is not None:
                self.stream.write("\r\x1b[K")  # erase the bar: the output follows
                self.stream.flush()

    def stage(self, name: str) -> None:
        """A new stage starts; the ones before it are done."""
        with self._lock:
            if self.name:
                self.done = min(self.done + 1, self.total)
            self.name = name

    def line(self, elapsed: float) -> str:
        """The bar's text at ``elapsed`` seconds: ``[#####...] 1/3 name  2.1 s``."""
        filled = _WIDTH * self.done // self.total
        bar = "#" * filled + "." * (_WIDTH - filled)
        step = min(self.done + 1, self.total)
        return f"[{bar}] {step}/{self.total} {self.name}  {elapsed:.1f} s"

    def _run(self) -> None:
        if self._stop.wait(DELAY_S):
            return
        while not self._stop.is_set():
            with self._lock:
                if self.stream is not None:
                    self.stream.write("\r\x1b[K" + self.line(time.monotonic() - self._start))
                    self.stream.flush()
                    self.drawn = True
            self._stop.wait(_TICK_S)


def wants_progress(fmt: str, stream: TextIO | None = None) -> bool:
    """A bar for ``fmt`` on ``stream`` (default stderr): a terminal, and not JSON."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return fmt != "json" and callable(isatty) and bool(isatty())
