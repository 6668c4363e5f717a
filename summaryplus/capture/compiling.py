"""The op counter and ``torch.compile`` (dynamo): running higher-order
operators, torch compiles small wrappers around them, under the counter.

- ``never_compiled``: the counter's own frames are never compiled.
- ``dynamo_skips_undone``: frames dynamo skipped under the counter are not
  left marked as skipped after the summary.
- ``eager_hops`` (with ``BelowAutograd``): the retry for a forward that failed
  in torch's machinery around a HOP (``failed_around_hop``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType
from typing import Any

import torch
from torch._ops import HigherOrderOperator
from torch.overrides import TorchFunctionMode

from .higher_order import RULES, hop_name


def never_compiled(function: Callable[..., Any]) -> None:
    """Tells dynamo never to compile ``function``'s frames, nor anything they
    call. Running a HOP, torch compiles it (``torch.cond`` calls
    ``torch.compile``), and its compile would otherwise trace into the
    counter's ``__torch_dispatch__``, which then receives the HOP (with the
    counter popped, so dynamo sees no mode to skip for). The strategy is kept
    on the code object itself, read only while dynamo is compiling: no cost
    per op, unlike ``torch.compiler.disable``'s wrapper."""
    try:
        from torch._C._dynamo.eval_frame import (  # C functions: no dynamo import
            _FrameAction,
            _FrameExecStrategy,
            set_code_exec_strategy,
        )
    except ImportError:  # a torch built without dynamo compiles nothing
        return
    skip = _FrameAction.SKIP
    set_code_exec_strategy(function.__code__, _FrameExecStrategy(skip, skip))


def _dynamo_input_codes() -> list[Any] | None:
    """dynamo's list of (weak references to) every code object its frame
    callback has seen, or None where dynamo was never imported."""
    import sys

    convert_frame = sys.modules.get("torch._dynamo.convert_frame")
    tracker = getattr(convert_frame, "input_codes", None)
    seen = getattr(tracker, "seen", None)
    return seen if isinstance(seen, list) else None


# Code objects dynamo first met during a forward under the counter (weakly
# held): dynamo lists each code once, so a later summary running them again
# finds them here.
_MET_UNDER_COUNTER: weakref.WeakSet[CodeType] = weakref.WeakSet()


@contextmanager
def dynamo_skips_undone() -> Iterator[None]:
    """Puts back how dynamo treats the code it first met under the counter.

    A frame dynamo skips because a dispatch mode is active (the counter) is
    marked on its code object as skipped for good: after a summary, a
    ``torch.compile``d function the forward ran would never compile again, and
    exporting a model with ``torch.cond`` would fail (its eager wrapper,
    compiled under the counter, stays skipped). Each code object dynamo first
    saw during a summary's forward gets dynamo's default treatment back.

    NB: code that dynamo compiled before any summary and that a forward runs
    again under the counter may still be left skipped (dynamo does not say
    which code it marks).
    """
    before = _dynamo_input_codes()
    start = len(before) if before is not None else 0
    try:
        yield
    finally:
        seen = _dynamo_input_codes()
        if seen is not None:
            _MET_UNDER_COUNTER.update(
                code for code in (reference() for reference in seen[start:]) if code is not None
            )
        if _MET_UNDER_COUNTER:
            _default_treatment(list(_MET_UNDER_COUNTER))


def _default_treatment(codes: list[CodeType]) -> None:
    try:
        from torch._C._dynamo.eval_frame import (  # C functions: no dynamo import
            _FrameAction,
            _FrameExecStrategy,
            set_code_exec_strategy,
        )
    except ImportError:  # a torch whose dynamo marks no code this way
        return
    default = _FrameExecStrategy(_FrameAction.DEFAULT, _FrameAction.DEFAULT)
    for code in codes:
        set_code_exec_strategy(code, default)


class BelowAutograd(TorchFunctionMode):
    """Sends every HOP call below autograd, where the counter's ``dispatch``
    runs its subgraphs with autograd recording (see the module's docstring)."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        if isinstance(func, HigherOrderOperator) and hop_name(func) in RULES:
            with torch._C._AutoDispatchBelowAutograd():
                return func(*args, **(kwargs or {}))
        return func(*args, **(kwargs or {}))


@contextmanager
def eager_hops() -> Iterator[None]:
    """The forward's HOPs run eagerly under the counter, for a forward that
    failed in torch's machinery around them (``failed_around_hop``):

    - HOP calls go below autograd (``BelowAutograd``);
    - ``torch.compile`` runs its function eagerly (stance ``force_eager``):
      ``flex_attention`` compiles its HOP with ``fullgraph=True`` and raises
      after running it when a dispatch mode made dynamo skip the frame.

    NB: the stance is torch's process-wide setting, set for this forward only
    and only on this retry (under the counter, dynamo skips every frame
    anyway, so compiled code runs eagerly either way).
    """
    import torch._dynamo  # imported already: the failing forward used it

    with torch.compiler.set_stance("force_eager"), BelowAutograd():
        yield


def failed_around_hop(error: BaseException) -> bool:
    """``error`` was raised by torch's machinery around a HOP, not by the HOP's
    work: its autograd rule (tracing subgraphs that close over real tensors)
    or ``torch.compile``'s check that a fullgraph compile compiled a frame.
    ``eager_hops`` avoids both."""
    import traceback

    if "fullgraph=True found no compiled frames" in str(error):
        return True
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.name in {"maybe_run_autograd", "gen_schema", "materialize_as_graph"} or (
            "_higher_order_ops" in frame.filename and "Autograd" in frame.name
        ):
            return True
    return False
