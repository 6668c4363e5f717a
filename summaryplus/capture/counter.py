"""The op counter: a private ``TorchDispatchMode`` that sees every ATen op the
forward runs, runs it (copy-on-write of the model's state first) and hands it
to the ``Recorder`` for its MACs and bytes; higher-order operators go to their
rules (``higher_order``).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch._ops import HigherOrderOperator, OpOverload
from torch.utils._python_dispatch import TorchDispatchMode

from . import higher_order
from .compiling import never_compiled
from .fallbacks import runner
from .recorder import _DECOMPOSE, _UNCOUNTED, _ZERO_MACS, Recorder
from .state import Snapshot, written_arguments
from .traffic import OpTraffic, op_traffic


def count_op(
    self: OpCounter,
    func: Any,
    types: Any,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
) -> Any:
    # Keyed by id: an OpOverload hashes in Python. (Ops live as long as torch.)
    known = self.formulas.get(id(func))
    if known is None and isinstance(func, HigherOrderOperator):
        # Run by its rule, which counts what runs inside (higher_order).
        hop = partial(higher_order.dispatch, self, self.recorder, func)
        # (No bytes of its own: the ops inside count theirs.)
        known = self.formulas[id(func)] = (_ZERO_MACS, hop, func, None, None)
    elif known is None:
        # An OpOverload's __call__ is a Python frame around its C++ ``_op``:
        # call that directly (half the dispatch overhead of a cheap op).
        run = runner(func, func._op if type(func) is OpOverload else func)
        written = written_arguments(func)
        formula = Recorder.classify(func)
        traffic = op_traffic(func, formula not in (_ZERO_MACS, _UNCOUNTED, _DECOMPOSE))
        known = self.formulas[id(func)] = (formula, run, func, written, traffic)
    formula, run, _, written, traffic = known
    if formula is _DECOMPOSE:
        if id(func) in self.decomposing:
            # Its kernel came back to the op itself (numel on a nested tensor
            # once did, until the recursion limit): run it whole, uncounted.
            formula = _UNCOUNTED
        else:
            self.decomposing.add(id(func))
            try:
                with self:  # the parts come back through this mode and are counted
                    out = func.decompose(*args, **(kwargs or {}))
            finally:
                self.decomposing.discard(id(func))
            if out is not NotImplemented:
                return out
            formula = _UNCOUNTED
    if written is not None:  # in-place and out= ops: copy-on-write of the model's state
        self.snapshot.before_write(written, args, kwargs)
    out = run(*args, **kwargs) if kwargs else run(*args)
    macs = 0
    if formula is not _ZERO_MACS:  # most ops: views, elementwise, norms...
        macs = self.recorder.record_op(func, formula, args, kwargs or {}, out)
    if traffic is not None:  # views and metadata ops move nothing
        self.recorder.record_bytes(traffic, args, kwargs or {}, out, macs)
    return out


never_compiled(count_op)


class OpCounter(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Sends every ATen op that runs to ``Recorder.record_op``."""

    __torch_dispatch__ = count_op
    # torch.cond, flex_attention... reach __torch_dispatch__ (higher_order).
    supports_higher_order_operators = True

    def __init__(self, recorder: Recorder, snapshot: Snapshot) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.recorder = recorder
        self.snapshot = snapshot
        # The dispatch keys the forward runs with: a HOP's subgraph runs with
        # these again (autograd included), whatever torch's HOP rules excluded.
        self.entry_exclude = torch._C._dispatch_tls_local_exclude_set()
        # id(op) -> its formula (or _ZERO_MACS / _UNCOUNTED), the callable that
        # runs it, the op (kept alive while its id is a key) and the arguments
        # it writes (None for most) and how its bytes count, once per pass.
        self.formulas: dict[int, tuple[Any, Any, Any, Any, OpTraffic | None]] = {}
        # ids of the composite ops being decomposed now (a kernel that calls
        # its own op again is run whole instead of decomposed without end).
        self.decomposing: set[int] = set()

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch wraps a mode's __torch_dispatch__ in a dynamo-disable shim that
        # costs ~15 us per op; no compiled code runs inside this mode's frames
        # unless the model itself is compiled (CompileSafeOpCounter then).
        return False


class CompileSafeOpCounter(OpCounter):  # type: ignore[no-untyped-call]
    """``OpCounter`` for models holding ``torch.compile``d modules: dynamo must
    not trace into the mode's frames. (torch adds its shim to a subclass that
    defines ``__torch_dispatch__`` itself, hence the assignment.)"""

    __torch_dispatch__ = count_op

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return True
