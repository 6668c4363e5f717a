"""The process-wide settings a summary adjusts while it runs, put back when the
last running summary ends (summaries may run in several threads).

- Python's cyclic garbage collector is paused: a summary allocates a few small
  objects per module and per call, and on a model of thousands of modules the
  collector would otherwise rescan the whole heap many times over (about 40% of
  the time on 15k rows). Nothing a summary allocates needs it: reference
  counting frees it all.
- The recursion limit is raised for deeply nested models: the recording
  wrapper (or hooks) adds frames to every module call, so a model a few hundred
  levels deep that runs bare could hit the limit under them. It is never
  raised past what the thread's C stack holds (:func:`frame_budget`): a
  limit above that turns a ``RecursionError`` into a crash of the interpreter
  (SIGSEGV), so a model nested deeper than :func:`max_depth` fails with a
  ``RecursionError`` (a ``SummaryError`` naming the depth), as its bare
  forward does at the default limit.
- The global RNG (CPU, and CUDA devices the forward uses) is saved when the
  first running summary starts and restored when the last one ends
  (:func:`rng_preserved`): each summary restoring the state it saw would let
  the one that ends last put back a state older than another's restore.
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
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch.distributions import Distribution

# Python frames per level of nesting in a recorded module call (_wrapped_call_impl,
# _call_impl, the wrapper or hook plumbing, forward), with room for the model's
# helpers.
FRAMES_PER_LEVEL = 12
_BASE_FRAMES = 1000
# C stack one Python frame of a recorded module call may take, with a margin of
# about three: on CPython 3.11 (x86-64 Linux, 8 MB stack) a recorded chain of
# 4,000 modules (limit 49,000) overflowed the stack, 3,000 did not, so a frame
# takes about 170 bytes there.
_BYTES_PER_FRAME = 512
_DEFAULT_STACK_BYTES = 8 << 20

_lock = threading.Lock()
_active = 0
_collector_was_enabled = True
_previous_limit = 0
_unvalidated = 0
_previous_validation = True


def stack_bytes() -> int:
    """The C stack of the calling thread, in bytes (a conservative guess where
    the platform does not say)."""
    if sys.platform == "win32":
        return 1 << 20  # python.exe reserves 2 MB for its main thread, threads 1 MB
    size = threading.stack_size()
    if threading.current_thread() is not threading.main_thread() and size:
        return size
    try:
        import resource  # Unix only

        soft = resource.getrlimit(resource.RLIMIT_STACK)[0]
    except (ImportError, OSError, ValueError):  # pragma: no cover - platform-specific
        return _DEFAULT_STACK_BYTES
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return _DEFAULT_STACK_BYTES
    return int(soft) if os.name == "posix" else _DEFAULT_STACK_BYTES


def frame_budget() -> int:
    """The highest recursion limit this thread's C stack can take."""
    return stack_bytes() // _BYTES_PER_FRAME


def max_depth() -> int:
    """How many levels of nested modules a summary records in this thread."""
    return max(0, (frame_budget() - _BASE_FRAMES) // FRAMES_PER_LEVEL)


@contextmanager
def adjusted(nesting_depth: int = 0) -> Iterator[None]:
    """Pauses the collector and makes room for ``nesting_depth`` levels of
    modules, as far as the C stack allows (:func:`frame_budget`)."""
    global _active, _collector_was_enabled, _previous_limit
    needed = min(_BASE_FRAMES + FRAMES_PER_LEVEL * nesting_depth, frame_budget())
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


_rng_lock = threading.Lock()
_rng_active = 0
_rng_cpu: Any = None
_rng_cuda: dict[int, Any] = {}


@contextmanager
def rng_preserved(cuda_devices: Sequence[int] = ()) -> Iterator[None]:
    """The CPU RNG, and that of each CUDA device in ``cuda_devices``, as the
    caller left them once every overlapping summary has ended.

    The first summary to start saves the states; a later one adds the CUDA
    devices not saved yet; the last to end restores them all (as ``state``
    does for a model summarized in several threads at once).
    """
    global _rng_active, _rng_cpu
    with _rng_lock:
        if _rng_active == 0:
            _rng_cpu = torch.get_rng_state()
            _rng_cuda.clear()
        for device in cuda_devices:
            if device not in _rng_cuda:
                _rng_cuda[device] = torch.cuda.get_rng_state(device)
        _rng_active += 1
    try:
        yield
    finally:
        with _rng_lock:
            _rng_active -= 1
            if _rng_active == 0:
                torch.set_rng_state(_rng_cpu)
                for device, saved in _rng_cuda.items():
                    torch.cuda.set_rng_state(saved, device)
                _rng_cpu = None
                _rng_cuda.clear()
