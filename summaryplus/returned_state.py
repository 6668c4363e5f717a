"""The state a forward returns for its next step (a KV cache, a recurrent state),
found by what it is, and its bytes as the model holds it (``inference.py``'s
``kv_cache``).

The forward is run on a meta copy of the model in ``PROBE_DTYPE``
(``probe_copy``): a returned floating tensor in that dtype follows the weights'
dtype (counted at the serving ``kv_dtype``), one in another dtype is state the
model's own code keeps in that dtype (RWKV's float32 accumulators, Mamba's SSM
state), and integer tensors are the cache's bookkeeping (int64 token counters).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from . import _tensors
from .capture.reach import is_cache_key
from .values import iter_tensors

# The dtype the cache is measured in (``probe_copy``): a served model's usual one.
PROBE_DTYPE = torch.bfloat16


def probe_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose parameters and buffers are meta tensors, the
    floating ones in ``PROBE_DTYPE``: nothing is allocated, the user's model is
    not touched, and a cache tensor the forward returns in another floating dtype
    is one the model holds in that dtype whatever its weights' (xLSTM keeps its
    state in float32). The model itself where it cannot be copied."""
    memo: dict[int, Any] = {}
    try:
        for tensor in [*model.parameters(), *model.buffers()]:
            if id(tensor) in memo:
                continue
            dtype = PROBE_DTYPE if tensor.is_floating_point() else tensor.dtype
            meta = torch.empty_like(tensor, device="meta", dtype=dtype)
            if isinstance(tensor, nn.Parameter):
                meta = nn.Parameter(meta, requires_grad=tensor.requires_grad)
            memo[id(tensor)] = meta
        copied = copy.deepcopy(model, memo)
    except Exception:  # a module or tensor subclass that cannot be copied: run it as is
        return model
    return copied if isinstance(copied, nn.Module) else model


def in_probe_dtype(value: Any) -> Any:
    """A floating tensor cast to ``PROBE_DTYPE``; anything else as it is."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.to(PROBE_DTYPE)
    return value


@dataclass
class ReturnedState:
    """What ``returned_state`` found in a forward's output (elements and bytes)."""

    follows: int = 0  # floating elements in the model's dtype (counted at kv_dtype)
    fixed: int = 0  # bytes of floating tensors the model holds in another dtype
    floating: int = 0  # every floating element (as the live-memory ledger counts them)
    counters: int = 0  # bytes of integer bookkeeping
    found: bool = False
    fixed_dtypes: set[str] = field(default_factory=set)


def returned_state(output: Any, accepted: Sequence[str], reference: torch.dtype) -> ReturnedState:
    """The state in a forward's output (see ``state_values``), each tensor view once, at
    its element count (a sliding window's cache is the window it keeps); floating
    tensors in ``reference`` (the dtype the probe's model computes in) follow the
    model's dtype, others are held in their own."""

    caches = state_values(output, accepted)
    seen: set[object] = set()
    found = ReturnedState(found=bool(caches))
    for tensor in iter_tensors(caches):
        key = _tensors.tensor_key(tensor)
        if key in seen:
            continue
        seen.add(key)
        count = int(tensor.numel())
        if tensor.is_floating_point() or tensor.is_complex():
            found.floating += count
            if tensor.dtype == reference:
                found.follows += count
            else:
                found.fixed += count * int(tensor.element_size())
                found.fixed_dtypes.add(_tensors.dtype_name(tensor.dtype))
        else:
            found.counters += count * int(tensor.element_size())
    return found


#: Names of a forward's second parameter that take back an RNN-style returned state.
_STATE_PARAMETERS = ("hx", "h0", "state", "hidden", "cache", "memory", "past")


def state_values(output: Any, accepted: Sequence[str]) -> list[Any]:
    """The state a forward returns for its next step: a transformers ``Cache``
    object anywhere at the top of the output, any output field the forward takes
    back as an input (``state``, ``cache_params``, ``past_key_values``, ``cache``),
    or fields named for a cache; for a plain ``(output, state)`` pair, the state
    when the forward's second parameter takes one back (``nn.LSTM``'s ``hx``)."""
    if isinstance(output, Mapping):
        return [
            value
            for key, value in output.items()
            if value is not None
            and (_is_cache_object(value) or str(key) in accepted or is_cache_key(key))
        ]
    values = list(output) if isinstance(output, (list, tuple)) else [output]
    found = [value for value in values if _is_cache_object(value)]
    if not found and isinstance(output, tuple) and len(output) == 2:
        second = accepted[1].lower() if len(accepted) > 1 else ""
        if output[1] is not None and any(word in second for word in _STATE_PARAMETERS):
            found.append(output[1])
    return found


def _is_cache_object(value: Any) -> bool:
    return any(cls.__name__.endswith("Cache") for cls in type(value).__mro__)


__all__ = [
    "PROBE_DTYPE",
    "ReturnedState",
    "in_probe_dtype",
    "probe_copy",
    "returned_state",
    "state_values",
]
