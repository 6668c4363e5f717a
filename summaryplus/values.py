"""Walking the values a forward receives and returns: tensors inside tuples, lists,
dicts (``ModelOutput``s), dataclasses, namedtuples, distributions and plain
objects holding tensors as attributes (caches, custom result classes)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch import nn

from ._tensors import dtype_name, sparse_bytes, tensor_key, tensor_shape

_MAX_NESTING = 8


def _is_distribution(value: Any) -> bool:
    # Duck-typed: no torch.distributions import on the hot path.
    return hasattr(value, "batch_shape") and hasattr(value, "event_shape") and not isinstance(
        value, torch.Tensor
    )


def is_array(value: Any) -> bool:
    """A numpy array (or numpy scalar): passed to the forward untouched, its
    shape reported. Duck-typed, so that numpy is never imported here."""
    return type(value).__module__ == "numpy" and hasattr(value, "shape") and hasattr(
        value, "__array__"
    )


def _children(value: Any) -> Iterator[Any] | None:
    """The values inside a container-like ``value``; None for a leaf."""
    if isinstance(value, (str, bytes, nn.Module, type)):
        return None
    if isinstance(value, Mapping):
        return iter(value.values())
    if isinstance(value, (list, tuple)):
        return iter(value)
    if dataclasses.is_dataclass(value):
        return (getattr(value, field.name) for field in dataclasses.fields(value))
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        return iter(list(attributes.values()))
    return None


def _leaves(value: Any) -> Iterator[Any]:
    """Tensors, numpy arrays and distributions in ``value``, depth first, in
    order, each object once (objects may refer to each other)."""
    seen: set[int] = set()
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, torch.Tensor):
            yield item
            continue
        if id(item) in seen or depth >= _MAX_NESTING:
            continue
        seen.add(id(item))
        if _is_distribution(item) or is_array(item):
            yield item
            continue
        children = _children(item)
        if children is not None:
            pending.extend((child, depth + 1) for child in reversed(list(children)))


def iter_tensors(value: Any) -> Iterator[torch.Tensor]:
    """Every tensor in ``value``, depth first, in order (a distribution's own
    parameter tensors included)."""
    for leaf in _leaves(value):
        if isinstance(leaf, torch.Tensor):
            yield leaf
        elif not is_array(leaf):
            yield from (t for t in vars(leaf).values() if isinstance(t, torch.Tensor))


def first_shape(value: Any) -> list[int | str]:
    """Shape of the first tensor or numpy array in ``value`` (a distribution's:
    its ``batch_shape + event_shape``), or ``[]`` when it holds none (a nested
    tensor's ragged dimensions are named: ``[2, j1, 8]``)."""
    for leaf in _leaves(value):
        if isinstance(leaf, torch.Tensor):
            return tensor_shape(leaf)
        if is_array(leaf):
            return [int(size) for size in leaf.shape]
        return [int(size) for size in (*leaf.batch_shape, *leaf.event_shape)]
    return []


def all_shapes(value: Any) -> list[list[int | str]]:
    """The shape of every tensor, numpy array and distribution in ``value``,
    depth first, in order (``first_shape`` of each)."""
    shapes: list[list[int | str]] = []
    for leaf in _leaves(value):
        if isinstance(leaf, torch.Tensor):
            shapes.append(tensor_shape(leaf))
        elif is_array(leaf):
            shapes.append([int(size) for size in leaf.shape])
        else:
            shapes.append([int(size) for size in (*leaf.batch_shape, *leaf.event_shape)])
    return shapes


def dtypes_of(value: Any) -> list[str]:
    return [dtype_name(t.dtype) for t in iter_tensors(value)]


def total_bytes(value: Any) -> int:
    """Bytes of the distinct tensors in ``value`` (views of one tensor once) and
    of its numpy arrays."""
    seen: set[object] = set()
    total = sum(int(leaf.nbytes) for leaf in _leaves(value) if is_array(leaf))
    for tensor in iter_tensors(value):
        key = tensor_key(tensor)
        if key not in seen:
            seen.add(key)
            if tensor.layout is torch.strided:
                total += int(tensor.numel()) * int(tensor.element_size())
            else:  # what a sparse tensor stores: indices and values
                total += sparse_bytes(tensor)
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
