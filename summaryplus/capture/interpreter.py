"""The interpreter-wide settings a summary adjusts while it runs, put back
when the last running summary ends (summaries may run in several threads).

- Python's cyclic garbage collector is paused: a summary allocates a few small
  objects per module and per call, and on a model of thousands of modules the
  collector would otherwise rescan the whole heap many times over (about 40% of
  the time on 15k rows). Nothing a summary allocates needs it: reference
  counting frees it all.
- The recursion limit is raised for deeply nested models: the recording
  wrapper (or hooks) adds frames to every module call, so a model a few hundred
  levels deep that runs bare could hit the limit under them.
- ``torch.distributions``' default argument validation is off while a forward
  runs on tensors without data (fake or meta): checking that a scale is
  positive reads values (``aten._local_scalar_dense``), which such tensors do
  not have, so a model returning ``Normal(mean, std)`` could not be summarized
  on meta at torch's default. Only the class-wide default is changed (a
  distribution built with ``validate_args=True`` still validates) and it is
  put back as found, whatever it was.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from torch.distributions import Distribution

# Python frames per level of nesting in a recorded module call (_wrapped_call_impl,
# _call_impl, the wrapper or hook plumbing, forward), with room for the model's
# helpers.
FRAMES_PER_LEVEL = 12
_BASE_FRAMES = 1000

_lock = threading.Lock()
_active = 0
_collector_was_enabled = True
_previous_limit = 0
_unvalidated = 0
_previous_validation = True


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


@contextmanager
def distributions_unvalidated() -> Iterator[None]:
    """``torch.distributions.Distribution``'s default ``validate_args`` off
    while it is entered (forwards on tensors without data), put back as found
    when the last such forward ends."""
    global _unvalidated, _previous_validation
    with _lock:
        if _unvalidated == 0:
            # The class attribute set_default_validate_args writes (no getter).
            _previous_validation = Distribution._validate_args
            Distribution.set_default_validate_args(False)
        _unvalidated += 1
    try:
        yield
    finally:
        with _lock:
            _unvalidated -= 1
            if _unvalidated == 0:
                Distribution.set_default_validate_args(_previous_validation)
