"""The bytes a forward pass holds alive at its peak, and the output it returns.

``LiveMemory`` is a ``TorchDispatchMode`` stacked above the op counter. Every
storage an op creates is tracked until its last tensor is freed (a weakref
finalizer per tensor), so the running sum is what the forward really holds:
on meta and fake tensors too, where nothing is allocated. Storages that first
appear as an op's *input* were there before the forward (parameters, buffers,
inputs, constants) and never count.

Attention runs as a fused kernel does on a GPU (flash/memory-efficient SDPA):
on meta and fake tensors ``scaled_dot_product_attention`` runs torch's math
decomposition, whose ``[batch, heads, T, T]`` scores a fused kernel never
holds, so only what the call returns counts (``_FusedAttention``).

Floating-point storages are counted in elements and everything else in bytes,
so one pass gives the peak for any compute dtype (``peak_bytes(element_size)``).
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from .._tensors import storage_key, storage_nbytes

# Element sizes of the floating dtypes a forward can be planned in.
ELEMENT_SIZES = (1, 2, 4, 8)


class _Ledger:
    """The storages one forward attempt created and still holds (a fresh ledger
    per attempt: finalizers of an abandoned attempt's tensors touch only theirs)."""

    def __init__(self) -> None:
        self.before: set[int] = set()
        # storage key -> [live tensors, float elements, other bytes]
        self.live: dict[int, list[int]] = {}
        self.float_elements = 0
        self.other_bytes = 0
        self.peaks = dict.fromkeys(ELEMENT_SIZES, 0)

    def saw_input(self, tensor: torch.Tensor) -> None:
        key = storage_key(tensor)
        if key not in self.live and key not in self.before:
            self.before.add(key)
            # Forgotten when it dies: a later storage may reuse its address.
            weakref.finalize(tensor, self.before.discard, key)

    def made(self, tensor: torch.Tensor) -> None:
        key = storage_key(tensor)
        if key in self.before:
            return
        entry = self.live.get(key)
        if entry is None:
            size = storage_nbytes(tensor)
            floating = tensor.is_floating_point() or tensor.is_complex()
            entry = [0, size // tensor.element_size() if floating else 0, 0 if floating else size]
            self.live[key] = entry
            self.float_elements += entry[1]
            self.other_bytes += entry[2]
            for element_size in ELEMENT_SIZES:
                held = self.float_elements * element_size + self.other_bytes
                if held > self.peaks[element_size]:
                    self.peaks[element_size] = held
        entry[0] += 1
        weakref.finalize(tensor, self.release, key)

    def release(self, key: int) -> None:
        entry = self.live.get(key)
        if entry is None:
            return
        entry[0] -= 1
        if entry[0] == 0:
            del self.live[key]
            self.float_elements -= entry[1]
            self.other_bytes -= entry[2]


class LiveMemory(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Tracks the storages the forward creates; ``output`` keeps what it returned."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._ledger = _Ledger()
        self.output: Any = None
        self.paused = 0
        self._fused: _FusedAttention | None = None

    def __enter__(self) -> LiveMemory:
        # A capture that falls back (meta -> fake tensors) runs again: start afresh.
        self._ledger, self.output, self.paused = _Ledger(), None, 0
        self._fused = _FusedAttention(self)
        self._fused.__enter__()  # type: ignore[no-untyped-call]
        super().__enter__()  # type: ignore[no-untyped-call]
        return self

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)  # type: ignore[no-untyped-call]
        if self._fused is not None:
            self._fused.__exit__(*exc)  # type: ignore[no-untyped-call]
            self._fused = None

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False

    def __torch_dispatch__(
        self, func: Any, types: Any, args: Any = (), kwargs: Any = None
    ) -> Any:
        if self.paused:
            return func(*args, **(kwargs or {}))
        inputs, _ = tree_flatten((args, kwargs or {}))
        for value in inputs:
            if isinstance(value, torch.Tensor):
                self._ledger.saw_input(value)
        result = func(*args, **(kwargs or {}))
        self.track(result)
        return result

    def track(self, value: Any) -> None:
        """Counts the tensors in ``value`` as made by the forward."""
        outputs, _ = tree_flatten(value)
        for tensor in outputs:
            if isinstance(tensor, torch.Tensor):
                self._ledger.made(tensor)

    def peak_bytes(self, element_size: int) -> int:
        """The largest sum of live bytes, floating tensors at ``element_size``
        (one of ``ELEMENT_SIZES``)."""
        return self._ledger.peaks[element_size]

    def keep(self, output: Any) -> None:
        """Called by the capture with the forward's return value."""
        self.output = output


class _FusedAttention(TorchFunctionMode):
    """Counts only the output of ``scaled_dot_product_attention`` (see module doc)."""

    def __init__(self, live: LiveMemory) -> None:
        super().__init__()
        self.live = live

    def __torch_function__(
        self, func: Any, types: Any, args: Any = (), kwargs: Any = None
    ) -> Any:
        if func is not torch.nn.functional.scaled_dot_product_attention:
            return func(*args, **(kwargs or {}))
        self.live.paused += 1
        try:
            result = func(*args, **(kwargs or {}))
        finally:
            self.live.paused -= 1
        self.live.track(result)
        return result
