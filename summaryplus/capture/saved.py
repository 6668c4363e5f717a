"""The tensors autograd keeps for backward: their bytes, on the row running when
each is saved, each storage once.

Parameters, buffers and inputs are accounted elsewhere and never count as
activations. A non-reentrant checkpoint's keyword and closure tensors, which no
hook sees, count too (``checkpoint_regions``). Counted storages are kept alive
while the pass runs, so their ids stay unique.
"""

from __future__ import annotations

from typing import Any, Protocol

import torch

from .._tensors import storage_key, storage_nbytes
from ..layer_info import LayerInfo
from ..saved_storages import StorageTracker
from .checkpoint_regions import CheckpointRegions


class _Running(Protocol):
    """What the saved-tensor accounting reads of the recorder."""

    stack: list[LayerInfo]
    in_backward: bool


class SavedTensors:
    """Saved-tensor hooks (``pack``/``unpack``) and what they counted."""

    def __init__(self, running: _Running) -> None:
        self._running = running
        # Storage keys counted, or excluded (parameters, buffers, inputs).
        self.keys: set[int] = set()
        self._keep_alive: list[Any] = []
        # Bytes saved while no row ran.
        self.loose_bytes = 0
        self._regions: CheckpointRegions | None = None
        # Train mode: which rows saved which storages (activation-checkpointing plans).
        self.storages: StorageTracker | None = None

    def exclude(self, tensors: list[torch.Tensor]) -> None:
        """Parameters, buffers and inputs are accounted elsewhere, never as activations."""
        for tensor in tensors:
            self.keys.add(storage_key(tensor))
            self._keep_alive.append(tensor)

    def watch_checkpoints(self) -> None:
        """Counts what non-reentrant checkpoints keep beyond what the hooks see."""
        self._regions = CheckpointRegions(self.add)

    def entered(self, parent: LayerInfo | None, parent_call: Any, call: Any) -> None:
        """A module call starts (see ``CheckpointRegions.entered``)."""
        if self._regions is not None and not self._running.in_backward:
            self._regions.entered(parent, parent_call, call)

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        running = self._running
        # (A backward's recomputation of a checkpointed segment saves again:
        # its tensors live during the backward only, not at its start.)
        if not running.in_backward:
            self.add(tensor, running.stack[-1] if running.stack else None)
        # Hand autograd an alias without grad_fn: returning the tensor itself makes
        # a saved output reference its own graph node, a cycle that leaks the
        # whole graph after the summary.
        return tensor.detach()

    @staticmethod
    def unpack(tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    def add(self, tensor: torch.Tensor, row: LayerInfo | None) -> None:
        """Adds the storage of a tensor kept for backward to ``row`` (None:
        outside every row), each storage once."""
        key = storage_key(tensor)
        if self.storages is not None:
            self.storages.saved(key, tensor, row)
        if key not in self.keys:
            self.keys.add(key)
            self._keep_alive.append(tensor.untyped_storage())
            size = storage_nbytes(tensor)
            if row is not None:
                row.own_activation_bytes += size
            else:
                self.loose_bytes += size

    def release(self) -> None:
        """Drops the references that kept saved storages alive."""
        self._keep_alive.clear()
        self.keys.clear()
        if self._regions is not None:
            self._regions.clear()
