"""Walking the values a forward receives and returns: tensors inside tuples, dicts,
dataclasses, namedtuples and ``ModelOutput``s."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from .._tensors import dtype_name, tensor_key, tensor_shape

_MAX_NESTING = 8


def iter_tensors(value: Any, _depth: int = 0) -> Iterator[torch.Tensor]:
    """Every tensor in ``value``, depth first, in order."""
    if isinstance(value, torch.Tensor):
        yield value
        return
    if _depth >= _MAX_NESTING or isinstance(value, (str, bytes)):
        return
    if isinstance(value, Mapping):
        items: Any = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = (getattr(value, field.name) for field in dataclasses.fields(value))
    else:
        return
    for item in items:
        yield from iter_tensors(item, _depth + 1)


def first_shape(value: Any) -> list[int | str]:
    """Shape of the first tensor in ``value``, or ``[]`` when it holds none (a
    nested tensor's ragged dimensions are named: ``[2, j1, 8]``)."""
    for tensor in iter_tensors(value):
        return tensor_shape(tensor)
    return []


def dtypes_of(value: Any) -> list[str]:
    return [dtype_name(t.dtype) for t in iter_tensors(value)]


def total_bytes(value: Any) -> int:
    """Bytes of the distinct tensors in ``value`` (views of one tensor once)."""
    seen: set[object] = set()
    total = 0
    for tensor in iter_tensors(value):
        key = tensor_key(tensor)
        if key not in seen:
            seen.add(key)
            total += int(tensor.numel()) * int(tensor.element_size())
    return total


def describe(value: Any, _depth: int = 0) -> str:
    """A short text of shapes and dtypes, for error messages."""
    if isinstance(value, torch.Tensor):
        dtype = dtype_name(value.dtype)
        shape = tensor_shape(value)
        kind = "NestedTensor" if value.is_nested else "Tensor"
        return f"{kind}{shape} {dtype} on {value.device.type}"
    if _depth >= 3:
        return "..."
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k}={describe(v, _depth + 1)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v, _depth + 1) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
