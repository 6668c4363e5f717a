"""``cache_forward_pass=True``: captured forward passes kept for the next summary
of the same model, which can never get another model's or an older state's rows.

An entry belongs to one model object (held weakly: a freed model takes its
entries with it) and is used only while a fingerprint of what the forward
depends on is unchanged: every module's identity, class, ``training`` flag and
plain attributes (flags such as ``use_cache``), every parameter's and buffer's
identity, version counter (any in-place write bumps it), shape, dtype, device
and ``requires_grad``, and the inputs' structure, shapes, dtypes, devices and
plain values, with the mode and device of the summary and the formula
registry's version (a formula registered or replaced since makes an entry
stale: its MACs came from the old formulas). Computing it walks the
model once: far cheaper than a forward pass.

Rows are never shared: the cache keeps its own copy of the rows (holding their
modules weakly) and hands every summary a fresh copy, so statistics filled
into one result's rows cannot change another's.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from .._tensors import data_pointer, is_lazy
from ..layer_info import LayerInfo
from ..module_tree import ModuleTree

_PLAIN = (type(None), bool, int, float, complex, str, bytes, torch.dtype, torch.device)
# The slots' member descriptors (a class attribute read gives the descriptor).
_SLOTS: list[tuple[str, Any]] = [
    (name, getattr(LayerInfo, name)) for name in LayerInfo.__slots__ if name != "module"
]
_MODULE_SLOT: Any = getattr(LayerInfo, "module")  # noqa: B009 (the descriptor)
# Entries kept per model (modes, inputs), the newest ones.
_ENTRIES_PER_MODEL = 4


class Unkeyable(Exception):
    """An input whose effect on the forward cannot be fingerprinted: not cached."""


def fingerprint(tree: ModuleTree, inputs: Any, settings: tuple[Any, ...]) -> tuple[Any, ...]:
    """What the forward of ``tree.root`` on ``inputs`` depends on, as a hashable tuple.

    Raises:
        Unkeyable: an input is an object of a kind not described here (a
            cache object, say): such a summary is not cached.
    """
    modules = []
    tensors = []
    for module in tree.modules:
        attributes = module.__dict__
        modules.append(
            (
                id(module),
                type(module),
                tuple(attributes),
                tuple(_attribute_key(value) for value in attributes.values()),
            )
        )
        for group in (module._parameters, module._buffers):
            for tensor in group.values():
                tensors.append(None if tensor is None else _tensor_key(tensor))
    return (settings, tuple(modules), tuple(tensors), _describe(inputs, 0))


def _attribute_key(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    return _tensor_key(value) if isinstance(value, torch.Tensor) else id(value)


def _tensor_key(tensor: torch.Tensor) -> tuple[Any, ...]:
    """A parameter's or buffer's identity and state: a replaced object, a
    ``.data =`` (pointer) or an in-place write (version) changes it."""
    if is_lazy(tensor):
        return (id(tensor), type(tensor))
    return (
        id(tensor),
        type(tensor),
        tensor._version,
        tensor.shape,
        tensor.dtype,
        tensor.device,
        tensor.requires_grad,
        data_pointer(tensor),
    )


def _describe(value: Any, depth: int) -> Any:
    if isinstance(value, torch.Tensor):
        # An input by its kind only, as torchinfo's cache: random inputs of
        # one shape (input_size) are new tensors every call.
        return (type(value), value.shape, value.dtype, value.device, value.requires_grad)
    if type(value) in _PLAIN:
        return value
    if depth > 8:
        raise Unkeyable(type(value).__name__)
    if isinstance(value, Mapping) and type(value) in (dict,):
        return ("dict", tuple((k, _describe(v, depth + 1)) for k, v in value.items()))
    if type(value) in (list, tuple):
        return (type(value), tuple(_describe(v, depth + 1) for v in value))
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value), tuple(_describe(v, depth + 1) for v in value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value), tuple(_describe(getattr(value, f.name), depth + 1) for f in fields))
    raise Unkeyable(type(value).__name__)


def copy_rows(rows: list[LayerInfo], modules: list[nn.Module] | None) -> list[LayerInfo]:
    """New rows equal to ``rows``, linked to each other as they are; with
    ``modules[i]`` as row i's module (None: no module at all, for keeping)."""
    position = {id(row): i for i, row in enumerate(rows)}
    copies = [LayerInfo.__new__(LayerInfo) for _ in rows]
    for i, (row, copy) in enumerate(zip(rows, copies, strict=True)):
        for name, slot in _SLOTS:
            try:
                value = slot.__get__(row, LayerInfo)
            except AttributeError:
                continue  # not set: reads as its default in the copy too
            if name == "parent_info":
                value = None if value is None else copies[position[id(value)]]
            elif name == "children":
                value = [copies[position[id(child)]] for child in value]
            elif isinstance(value, list):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            slot.__set__(copy, value)
        if modules is not None:
            _MODULE_SLOT.__set__(copy, modules[i])
    return copies


class _Entry:
    def __init__(self, key: tuple[Any, ...], rows: list[LayerInfo], result: Any) -> None:
        self.key = key
        self.modules = [weakref.ref(row.module) for row in rows]
        self.rows = copy_rows(rows, None)
        self.result = result  # the CaptureResult, without its rows


class ForwardCache:
    """Captured forward passes per model object, each valid for one fingerprint."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[nn.Module], dict[Any, _Entry]]] = {}
        self._lock = threading.Lock()

    def get(self, model: nn.Module, key: tuple[Any, ...]) -> tuple[list[LayerInfo], Any] | None:
        """Fresh rows and the rest of the result kept for ``model`` under ``key``."""
        with self._lock:
            held = self._entries.get(id(model))
            if held is None or held[0]() is not model:
                return None
            entry = held[1].get(key)
        if entry is None:
            return None
        modules = [ref() for ref in entry.modules]
        if any(module is None for module in modules):
            return None
        return copy_rows(entry.rows, modules), entry.result  # type: ignore[arg-type]

    def put(
        self, model: nn.Module, key: tuple[Any, ...], rows: list[LayerInfo], result: Any
    ) -> None:
        """Keeps a copy of ``rows`` (call before statistics fill them in)."""
        entry = _Entry(key, rows, result)
        model_id = id(model)
        with self._lock:
            held = self._entries.get(model_id)
            if held is None or held[0]() is not model:
                ref = weakref.ref(model, self._forgetter(model_id))
                held = self._entries[model_id] = (ref, {})
            held[1][key] = entry
            while len(held[1]) > _ENTRIES_PER_MODEL:  # older states, other inputs
                del held[1][next(iter(held[1]))]

    def _forgetter(self, model_id: int) -> Callable[[Any], None]:
        return lambda _: self._forget(model_id)

    def _forget(self, model_id: int) -> None:
        with self._lock:
            held = self._entries.get(model_id)
            if held is not None and held[0]() is None:
                del self._entries[model_id]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
