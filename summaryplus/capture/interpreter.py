"""The two interpreter-wide settings a summary adjusts while it runs, put back
when the last running summary ends (summaries may run in several threads).

- Python's cyclic garbage collector is paused: a summary allocates a few small
  objects per module and per call, and on a model of thousands of modules the
  collector would otherwise rescan the whole heap many times over (about 40% of
  the time on 15k rows). Nothing a summary allocates needs it: reference
  counting frees it all.
- The recursion limit is raised for deeply nested models: the recording
  wrapper (or hooks) adds frames to every module call, so a model a few hundred
  levels deep that runs bare could hit the limit under them.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Python frames per level of nesting in a recorded module call (_wrapped_call_impl,
# _call_impl, the wrapper or hook plumbing, forward), with room for the model's
# helpers.
FRAMES_PER_LEVEL = 12
_BASE_FRAMES = 1000

_lock = threading.Lock()
_active = 0
_collector_was_enabled = True
_previous_limit = 0


@contextmanager
def adjusted(nesting_depth: int = 0) -> Iterator[None]:
    """Pauses the collector and makes room for ``nesting_depth`` levels of modules."""
    global _active, _collector_was_enabled, _previous_limit
    needed = _BASE_FRAMES + FRAMES_PER_LEVEL * nesting_depth
    with _lock:
        if _active == 0:
            _collector_was_enabled = gc.isenabled()
            _previous_limit = sys.getrecursionlimit()
            gc.disable()
        _active += 1
        if needed > sys.getrecursionlimit():
            sys.setrecursionlimit(needed)
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                if _collector_was_enabled:
                    gc.enable()
                sys.setrecursionlimit(_previous_limit)
