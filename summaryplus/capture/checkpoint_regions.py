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
NB: a tensor made inside the region by plain functions before its first module
call and handed to that call is counted too (it is freed, not kept), and
closure tensors used only by plain functions are not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .._tensors import storage_key
from .values import iter_tensors

_top_hooks = torch._C._autograd._top_saved_tensors_default_hooks


def _is_checkpoint_hook(pack: Any) -> bool:
    return "_checkpoint_hook" in getattr(pack, "__qualname__", "")


class CheckpointRegions:
    """Follows the checkpoint regions module calls run in, one at a time."""

    def __init__(self, count: Callable[[torch.Tensor, Any], None]) -> None:
        # count(tensor, row): adds a kept tensor's storage to a row, once.
        self._count = count
        self._pack: Any = None  # the current region's pack hook (its identity)
        self._owner: Any = None  # the row that was running when it began
        self._candidates: dict[int, torch.Tensor] = {}

    def entered(self, parent: Any, parent_call: Any, call: Any) -> None:
        """A module call starts (``parent``: the running row, None for the
        root; ``parent_call``: its (args, kwargs); ``call``: this call's)."""
        top = _top_hooks(False)
        if top is None or not _is_checkpoint_hook(top[0]):
            return
        if top[0] is not self._pack:
            # A new region: what it can have been given from outside.
            self._pack, self._owner = top[0], parent
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
