"""The summary's own copies of the caller's inputs.

A forward may change the objects it is given: a ``DynamicCache`` appends the
new keys and values, a static cache writes its slots, code appends to a list.
On fake or meta tensors those changes would put fake or meta tensors into the
caller's objects (the caller's next real forward then returns fake logits), so
there the forward gets copies: every container and plain object reachable from
the inputs is copied, and every tensor in them converted (to a fake tensor, to
meta). With ``copy_inputs=True`` the same is done with real copies of the
tensors, for callers who want their inputs untouched on a real forward too.

``copy.deepcopy`` cannot be used: it refuses tensors that are not graph leaves
(a cache filled by a forward with grad enabled holds such tensors) and copies
real data where a fake tensor is all that is needed.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

# Values that cannot change or are not data: shared, never copied.
_SHARED = (
    type(None), bool, int, float, complex, str, bytes, range, slice, type(Ellipsis),
    torch.dtype, torch.device, torch.Size, torch.memory_format, torch.layout,
    type, types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType,
    nn.Module,
)  # fmt: skip
_MAX_NESTING = 32


def copy_inputs(value: Any, convert: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    """``value`` with every container and object copied and every tensor replaced
    by ``convert(tensor)`` (the same tensor twice gives the same conversion, so
    views and repeated references stay shared within the copy)."""
    return _copy(value, convert, {}, 0)


def _copy(value: Any, convert: Callable[[torch.Tensor], torch.Tensor], memo: dict[int, Any],
          depth: int) -> Any:  # fmt: skip
    if isinstance(value, _SHARED) or depth > _MAX_NESTING:
        return value
    done = memo.get(id(value))
    if done is not None:
        return done
    result: Any
    if isinstance(value, torch.Tensor):
        result = convert(value)
    elif type(value) in (list, dict, tuple, set, frozenset):
        items = value.items() if isinstance(value, dict) else value
        if isinstance(value, dict):
            result = {k: _copy(v, convert, memo, depth + 1) for k, v in items}
        else:
            result = type(value)(_copy(v, convert, memo, depth + 1) for v in items)
    elif isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
        result = type(value)(*(_copy(v, convert, memo, depth + 1) for v in value))
    else:
        try:
            result = copy.copy(value)  # the object's own shallow copy (dicts, ModelOutput...)
        except Exception:  # an object that cannot be copied is shared, as is
            return value
        memo[id(value)] = result
        _copy_contents(value, result, convert, memo, depth)
        return result
    memo[id(value)] = result
    return result


def _copy_contents(
    value: Any,
    result: Any,
    convert: Callable[[torch.Tensor], torch.Tensor],
    memo: dict[int, Any],
    depth: int,
) -> None:
    """Replaces the shallow copy's attributes, items and slots by their copies."""
    if isinstance(result, dict):  # dict subclasses (ModelOutput, OrderedDict)
        for key, item in list(result.items()):
            dict.__setitem__(result, key, _copy(item, convert, memo, depth + 1))
    elif isinstance(result, list):
        for index, item in enumerate(result):
            list.__setitem__(result, index, _copy(item, convert, memo, depth + 1))
    attributes = getattr(result, "__dict__", None)
    if isinstance(attributes, dict) and attributes is not getattr(value, "__dict__", None):
        for name, item in list(attributes.items()):
            attributes[name] = _copy(item, convert, memo, depth + 1)
    for cls in type(result).__mro__:  # slotted classes (and dataclasses)
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            try:
                item = object.__getattribute__(result, name)
            except AttributeError:
                continue
            object.__setattr__(result, name, _copy(item, convert, memo, depth + 1))
