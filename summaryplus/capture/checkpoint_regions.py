"""What a non-reentrant activation checkpoint keeps alive for its backward.

``torch.utils.checkpoint(fn, *args, use_reentrant=False, **kwargs)`` saves its
positional tensors through the saved-tensor hooks (the recorder sees those),
but keeps ``kwargs`` and the tensors ``fn`` closes over in the closure it
recomputes from: no hook sees them, yet they stay alive until the backward.
Inside the region torch's own ``_checkpoint_hook`` replaces the recorder's
hooks, which is how a module call knows it runs inside one.

The tensors counted: those of the region's call (the arguments of the module
call that runs the checkpoint, and of the first module called inside it) that
a module call inside the region receives. Hugging Face's
``gradient_checkpointing_enable()`` checkpoints a layer's own forward with its
keywords (``position_embeddings`` cos/sin, ``cache_position``, the mask) in a
``functools.partial``, which is this case.
A reentrant checkpoint (``use_reentrant=True``) runs its segment without
grad inside ``CheckpointFunction.forward``: a module call made there (found on
the stack only while grad is off) is in that region; its positional tensors are
saved through the hooks, its closure's (Hugging Face's keywords again) counted
here.
NB: a tensor made inside the region by plain functions before its first module
call and handed to that call is counted too (it is freed, not kept), and
closure tensors used only by plain functions are not seen.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import CodeType
from typing import Any

import torch

from .._tensors import storage_key
from ..values import iter_tensors

# torch >= 2.8 (older ones cannot say which hooks are on top: there the tensors
# a checkpoint keeps in its closure are not counted).
_top_hooks = getattr(torch._C._autograd, "_top_saved_tensors_default_hooks", None)


def _is_checkpoint_hook(pack: Any) -> bool:
    return "_checkpoint_hook" in getattr(pack, "__qualname__", "")


_REENTRANT: list[CodeType] = []  # CheckpointFunction.forward's code, once known


def _reentrant_region() -> Any:
    """The ``ctx`` of the reentrant checkpoint running the current call, or None."""
    if not _REENTRANT:
        checkpoint = sys.modules.get("torch.utils.checkpoint")
        if checkpoint is None:
            return None  # never imported: no checkpoint can be running
        _REENTRANT.append(checkpoint.CheckpointFunction.forward.__code__)
    code = _REENTRANT[0]
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code is code:
            return frame.f_locals.get("ctx")
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _region() -> Any:
    """What identifies the checkpoint region a module call runs in, or None."""
    top = _top_hooks(False) if _top_hooks is not None else None
    if top is not None and _is_checkpoint_hook(top[0]):
        return top[0]
    return None if torch.is_grad_enabled() else _reentrant_region()


class CheckpointRegions:
    """Follows the checkpoint regions module calls run in, one at a time."""

    def __init__(self, count: Callable[[torch.Tensor, Any], None]) -> None:
        # count(tensor, row): adds a kept tensor's storage to a row, once.
        self._count = count
        # The current region: its pack hook, or a reentrant checkpoint's ctx.
        self._pack: Any = None
        self._owner: Any = None  # the row that was running when it began
        self._candidates: dict[int, torch.Tensor] = {}

    def entered(self, parent: Any, parent_call: Any, call: Any) -> None:
        """A module call starts (``parent``: the running row, None for the
        root; ``parent_call``: its (args, kwargs); ``call``: this call's)."""
        region = _region()
        if region is None:
            return
        if region is not self._pack:
            # A new region: what it can have been given from outside.
            self._pack, self._owner = region, parent
            self._candidates = {
                storage_key(tensor): tensor
                for tensor in iter_tensors((parent_call, call))
                if not tensor.is_nested
            }
        if self._owner is None:
            return
        candidates = self._candidates
        for tensor in iter_tensors(call):
            if not tensor.is_nested and storage_key(tensor) in candidates:
                self._count(tensor, self._owner)

    def clear(self) -> None:
        self._pack = self._owner = None
        self._candidates = {}
