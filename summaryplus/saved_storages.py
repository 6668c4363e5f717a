"""Which rows saved which storages for backward, and which storages each row
took as input: what an activation-checkpointing plan needs to predict the bytes
saved after wrapping any set of modules, to the byte (``summaryplus.recompute``).

Filled during a train-mode forward by ``Recorder`` (only then: an eval forward
saves nothing), as plain data keyed by storage and by row position, so it
survives the forward cache's copies of the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch

from ._tensors import storage_key, storage_nbytes

#: The "row" of a storage saved outside every module call.
OUTSIDE = -1


@dataclass
class StorageTracker:
    """Collects storages while the forward runs (row objects, by ``id``)."""

    # storage key -> bytes of every storage saved (parameters, buffers and the
    # model's inputs are never activations and are left out).
    sizes: dict[int, int] = field(default_factory=dict)
    # storage key -> ids of the rows running when an op saved it (OUTSIDE: none).
    savers: dict[int, list[int]] = field(default_factory=dict)
    # id(row) -> (storage key, bytes) of every tensor its call received.
    inputs: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    # storage key -> n, for storages saved as a tensor whose last two dims are
    # both n (attention probabilities are [B, H, T, T]).
    square: dict[int, int] = field(default_factory=dict)
    excluded: set[int] = field(default_factory=set)
    # Input tensors kept alive while the forward runs, so that their storage ids
    # stay unique (a freed storage's address can be reused).
    keep_alive: list[Any] = field(default_factory=list)

    def saved(self, key: int, tensor: torch.Tensor, row: object | None) -> None:
        if key in self.excluded:
            return
        if key not in self.sizes:
            self.sizes[key] = storage_nbytes(tensor)
        shape = tensor.shape
        if len(shape) >= 2 and shape[-1] == shape[-2] and isinstance(shape[-1], int):
            self.square[key] = shape[-1]
        self.savers.setdefault(key, []).append(OUTSIDE if row is None else id(row))

    def entered(self, row: object, tensors: Iterable[torch.Tensor]) -> None:
        found: dict[int, int] = {}
        for tensor in tensors:
            key = storage_key(tensor)
            if key not in found:
                found[key] = storage_nbytes(tensor)
                self.keep_alive.append(tensor)
        self.inputs[id(row)] = tuple(found.items())

    def finished(self, rows: list[Any]) -> SavedStorages:
        """The plain data, with rows as positions in ``rows``."""
        position = {id(row): index for index, row in enumerate(rows)}
        self.keep_alive.clear()
        return SavedStorages(
            sizes=dict(self.sizes),
            square=dict(self.square),
            savers={
                key: tuple(sorted({position.get(row, OUTSIDE) for row in rows_}))
                for key, rows_ in self.savers.items()
            },
            inputs={
                position[row]: tuple(
                    (key, size) for key, size in keys if key not in self.excluded
                )
                for row, keys in self.inputs.items()
                if row in position
            },
        )


@dataclass(frozen=True)
class SavedStorages:
    """Storages saved for backward in one train-mode forward.

    Attributes:
        sizes: storage key -> bytes, for every storage autograd saved.
        savers: storage key -> positions (in ``summary_list``) of the rows whose
            own ops saved it; ``OUTSIDE`` for ops outside every module call.
        inputs: row position -> (storage key, bytes) of each tensor the call
            received (parameters, buffers and the model's inputs left out: they
            are held anyway).
        square: storage key -> n, for storages saved as a tensor whose last two
            dims are both n (attention probabilities: [B, H, T, T]).
    """

    sizes: dict[int, int]
    square: dict[int, int]
    savers: dict[int, tuple[int, ...]]
    inputs: dict[int, tuple[tuple[int, int], ...]]
