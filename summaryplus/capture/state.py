"""The model's state around a summary's forward: snapshot cheaply, copy on write,
put everything back.

A forward may change the model it runs: EMA teachers update their weights in
place, counters and static caches write buffers (in eval mode too), code
assigns new parameters or submodules, ``.data`` or ``requires_grad``. A full
copy of the model would make every summary cost the model's size, so the
snapshot holds only references: every parameter and buffer with its version
counter, ``requires_grad``, ``.grad`` and an alias of its data (to see a
``.data =`` assignment), and each module's ``_parameters``/``_buffers``/
``_modules`` dicts (shallow copies, only where not empty). Contents are copied
only when the forward is about to write them: ``OpCounter`` sees every ATen op
and calls ``Snapshot.before_write`` for ops that write an argument (in-place
and ``out=`` ops), which copies each parameter or buffer over the written
storage once. The memory cost of a summary is therefore the bytes its forward
writes into the model, nothing for a forward that writes nothing.

Summaries of one model in several threads share one snapshot: the first to
start takes it, the last to finish restores it, so no thread snapshots the
flags or tensors another one has just changed.
"""

from __future__ import annotations

import logging
import operator
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import UninitializedTensorMixin  # type: ignore[attr-defined]
from torch.utils._python_dispatch import _disable_current_modes

from .._tensors import is_lazy, storage_key
from ..module_tree import ModuleTree

logger = logging.getLogger("summaryplus")

# Ops that write arguments their schema does not mark as written: the batch
# norm kernels update the running statistics when ``training`` (argument 5) is
# true. Each entry: (position, name, position of the flag that enables the
# write, or -1 when always written).
_RUNNING_STATS = ((3, "running_mean", 5), (4, "running_var", 5))
_UNMARKED_WRITES = {
    "aten::native_batch_norm": _RUNNING_STATS,
    "aten::cudnn_batch_norm": _RUNNING_STATS,
    "aten::miopen_batch_norm": _RUNNING_STATS,
}


Written = tuple[tuple[int, str, int], ...]


def written_arguments(func: Any) -> Written | None:
    """(position, name, -1) of each argument an ATen op writes (``self`` of an
    in-place op, ``out=``), or None for an op that writes none (most)."""
    schema = getattr(func, "_schema", None)
    if schema is None:
        return None
    if not schema.is_mutable:
        return _UNMARKED_WRITES.get(schema.name)
    written = tuple(
        (position, argument.name, -1)
        for position, argument in enumerate(schema.arguments)
        if argument.alias_info is not None and argument.alias_info.is_write
    )
    return written or None


class Snapshot:
    """What a summary must put back: taken by ``preserved``, filled in by
    ``before_write`` while the forward runs.

    Taken and checked in flat lists with ``map`` over C methods and attribute
    getters (about 1 us per tensor): a 15,000-row model has 10,000 tensors and
    this runs on every summary."""

    def __init__(self, tree: ModuleTree, track: bool = True) -> None:
        self.tree = tree
        modules = tree.modules
        self.flags = [own["training"] for own in tree.attributes]
        # Each non-empty _parameters/_buffers/_modules dict with its module and
        # a shallow copy; the empty ones (most: activations, leaves), to see
        # anything added to them.
        self.live: list[dict[str, Any]] = []
        self.owners: list[nn.Module] = []
        self.copies: list[dict[str, Any]] = []
        self.empty: list[dict[str, Any]] = []
        params: list[Any] = []
        buffers: list[Any] = []
        live, owners, copies, empty = self.live, self.owners, self.copies, self.empty
        # Unrolled, and reading each module's __dict__ (``tree.attributes``): this
        # loop sees every module.
        for module, attributes in zip(modules, tree.attributes, strict=True) if track else ():
            group: dict[str, Any] = attributes["_parameters"]
            if type(group) is not dict:
                # A scripted module's dicts are views of its C++ object (no
                # copy(), no dict methods): its tensors are tracked all the same.
                params += group.values()
                buffers += attributes["_buffers"].values()
                continue
            if group:
                live.append(group)
                owners.append(module)
                copies.append(group.copy())
                params += group.values()
            else:
                empty.append(group)
            group = attributes["_buffers"]
            if group:
                live.append(group)
                owners.append(module)
                copies.append(group.copy())
                buffers += group.values()
            else:
                empty.append(group)
            group = attributes["_modules"]
            if group:
                live.append(group)
                owners.append(module)
                copies.append(group.copy())
            else:
                empty.append(group)
        # Each tensor once (tied ones too), keyed by id: a tensor's __hash__ is
        # Python code, a call per tensor.
        unique = {id(t): t for t in params}
        unique.pop(id(None), None)
        self.params = list(unique.values())
        unique.update({id(t): t for t in buffers})
        unique.pop(id(None), None)
        self.tensors = list(unique.values())
        tensors = self.tensors
        self.types = list(map(type, tensors))
        self.lazy = any(issubclass(cls, UninitializedTensorMixin) for cls in set(self.types))
        # An alias of each tensor's data (``.data``: cheaper than detach()), to
        # put the memory back after `.data =`.
        self.aliases: list[torch.Tensor | None] = (
            [None if is_lazy(t) else t.detach() for t in tensors]
            if self.lazy
            else list(map(_DATA, tensors))
        )
        self.versions = list(map(_VERSION, tensors))
        self.requires_grad = list(map(_REQUIRES_GRAD, tensors))
        self.grads = list(map(_GRAD, self.params))
        # storage_key -> tracked tensors living there; built on the first write
        # (a forward that writes nothing never pays for it).
        self._by_storage: dict[int, list[torch.Tensor]] | None = None
        # id(tensor) -> (tensor, copy of its contents before the first write).
        self.saved: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._lock = threading.Lock()
        # Set by a summary on fake tensors: a write through a view of a real
        # tensor then lands in the view's fake copy, but bumps the real
        # tensor's version counter, which then says nothing.
        self.fake_views = False
        self.users = 1  # summaries sharing this snapshot now

    # ------------------------------------------------------------- the forward
    def before_write(self, written: Written, args: Any, kwargs: Any) -> None:
        """Called by the op counter before an op that writes arguments runs:
        copies each parameter or buffer over a written storage, once."""
        by_storage = self._by_storage
        if by_storage is None:
            by_storage = self._index_storages()
        for position, name, enabled_by in written:
            if enabled_by >= 0 and not (len(args) > enabled_by and args[enabled_by]):
                continue
            value = args[position] if position < len(args) else (kwargs or {}).get(name)
            for tensor in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(tensor, torch.Tensor):
                    owners = by_storage.get(storage_key(tensor))
                    if owners:
                        self._save(owners)

    def _index_storages(self) -> dict[int, list[torch.Tensor]]:
        by_storage: dict[int, list[torch.Tensor]] = {}
        for tensor, alias in zip(self.tensors, self.aliases, strict=True):
            if alias is not None:  # a lazy parameter has no storage yet
                by_storage.setdefault(storage_key(tensor), []).append(tensor)
        self._by_storage = by_storage
        return by_storage

    def _save(self, owners: list[torch.Tensor]) -> None:
        for tensor in owners:
            if id(tensor) in self.saved:
                continue
            # Outside every mode: under fake tensors a real parameter's copy
            # must be real (the fake mode would make it fake).
            with _disable_current_modes(), torch.no_grad():
                copy = tensor.detach().clone()
            with self._lock:  # two threads: the first copy (taken before any write) wins
                self.saved.setdefault(id(tensor), (tensor, copy))

    @property
    def copied_bytes(self) -> int:
        """Bytes copied so far: the contents the forward wrote, nothing else."""
        return sum(copy.numel() * copy.element_size() for _, copy in self.saved.values())

    # ---------------------------------------------------------------- restore
    def restore(self) -> None:
        """Puts back module dicts, data, contents, requires_grad, .grad and flags."""
        _set_flags(self.tree, self.flags)
        self._restore_dicts()
        tensors = self.tensors
        with torch.no_grad():
            versions = list(map(_VERSION, tensors))
            replaced = self._restore_data()
            unrestorable = [
                i
                for i, (now, before) in enumerate(zip(versions, self.versions, strict=True))
                if now != before and i not in replaced and id(tensors[i]) not in self.saved
            ]
            for tensor, copy in self.saved.values():
                if tensor.shape == copy.shape and tensor.dtype == copy.dtype:
                    tensor.copy_(copy)
                else:
                    tensor.data = copy
            requires_grad = list(map(_REQUIRES_GRAD, tensors))
            if requires_grad != self.requires_grad:
                for tensor, now, before in zip(tensors, requires_grad, self.requires_grad,
                                               strict=True):  # fmt: skip
                    if now is not before:
                        tensor.requires_grad_(before)
            grads = list(map(_GRAD, self.params))
            if not all(map(operator.is_, grads, self.grads)):
                for tensor, grad in zip(self.params, self.grads, strict=True):
                    if tensor.grad is not grad:
                        tensor.grad = grad
        logger.debug(
            "summary restored %d written tensor(s), %d bytes copied",
            len(self.saved),
            self.copied_bytes,
        )
        if unrestorable and not self.fake_views:
            warnings.warn(
                f"the forward wrote {len(unrestorable)} parameter(s)/buffer(s) outside "
                "PyTorch's dispatcher (from another thread, or in code hidden from dispatch "
                "modes); summaryplus could not put their contents back",
                RuntimeWarning,
                stacklevel=2,
            )

    def _restore_dicts(self) -> None:
        live, copies = self.live, self.copies
        if any(map(len, self.empty)):
            for group in self.empty:
                group.clear()
        # The common case, in C: every dict as long as before, holding the same objects.
        if list(map(len, live)) == list(map(len, copies)) and all(
            map(
                operator.is_,
                chain.from_iterable(map(dict.values, live)),
                chain.from_iterable(map(dict.values, copies)),
            )
        ):
            return
        for now, before, module in zip(live, copies, self.owners, strict=True):
            if now.keys() == before.keys() and all(
                map(operator.is_, now.values(), before.values())
            ):
                continue
            now.clear()
            now.update(before)
            # A plain attribute of a registered name (``del self.bias;
            # self.bias = None``) would hide the restored one.
            for name in module.__dict__.keys() & before.keys():
                del module.__dict__[name]

    def _restore_data(self) -> set[int]:
        """Puts back each tensor's memory (``.data =``, a resize) and class (a
        lazy parameter the forward materialised); the indices it put back."""
        tensors, aliases = self.tensors, self.aliases
        replaced: set[int] = set()
        if self.lazy or list(map(type, tensors)) != self.types:
            for i, (tensor, alias, cls) in enumerate(zip(tensors, aliases, self.types,
                                                         strict=True)):  # fmt: skip
                if alias is None and not is_lazy(tensor):
                    tensor.data = torch.empty(0, device=tensor.device, dtype=tensor.dtype)
                    replaced.add(i)
                if type(tensor) is not cls:
                    tensor.__class__ = cls
            pairs: list[tuple[int, torch.Tensor, Any]] | None = [
                (i, tensor, alias)
                for i, (tensor, alias) in enumerate(zip(tensors, aliases, strict=True))
                if alias is not None
            ]
        else:
            pairs = None
        if pairs is None:
            try:  # in C, one op per tensor; meta tensors have no kernel for it
                if all(map(torch.Tensor.is_set_to, tensors, aliases)):  # type: ignore[arg-type]
                    return replaced
            except (RuntimeError, NotImplementedError, TypeError):
                pass
            pairs = list(zip(range(len(tensors)), tensors, aliases, strict=True))
        for i, tensor, alias in pairs:
            assert alias is not None
            if not _same_memory(tensor, alias):
                tensor.data = alias
                replaced.add(i)
        return replaced


_DATA = operator.attrgetter("data")
_VERSION = operator.attrgetter("_version")
_REQUIRES_GRAD = operator.attrgetter("requires_grad")
_GRAD = operator.attrgetter("grad")


def _same_memory(tensor: torch.Tensor, alias: torch.Tensor) -> bool:
    """Whether ``tensor`` still shows the memory ``alias`` does (``is_set_to``,
    which meta tensors lack)."""
    if tensor.shape != alias.shape or tensor.dtype != alias.dtype:
        return False
    if tensor.is_meta:
        return storage_key(tensor) == storage_key(alias)
    try:
        return bool(tensor.data_ptr() == alias.data_ptr())
    except (RuntimeError, NotImplementedError, TypeError):  # no data pointer: not replaced
        return True


def set_training(tree: ModuleTree, training: bool, snapshot: Snapshot) -> None:
    """``model.train(training)``, flag by flag (10x cheaper on big models)
    unless a module overrides ``train()``, whose override must then run."""
    model = tree.root
    if type(model).eval is not nn.Module.eval and not training:
        model.eval()
        return
    if any(cls.train is not nn.Module.train for cls in tree.classes):
        model.train(training)
        return
    # The flags as they are: the snapshot's, unless another summary shares it.
    current = snapshot.flags if snapshot.users == 1 else None
    _set_flags(tree, [training] * len(tree.modules), current)


def _set_flags(tree: ModuleTree, flags: list[bool], current: list[bool] | None = None) -> None:
    """Sets ``training`` to ``flags[i]`` on each module ``tree.modules[i]`` whose
    flag differs (``current``: the flags as they are; read when not given).

    Written in the module's __dict__ where every class uses nn.Module's
    ``__setattr__`` (which would put a plain bool there after its checks); a
    ScriptModule keeps the flag in its C++ object: its own ``__setattr__`` runs."""
    plain = all(cls.__setattr__ is nn.Module.__setattr__ for cls in tree.classes)
    modules, attributes = tree.modules, tree.attributes
    if current is None:
        # A plain module's flag, read in its live __dict__ (see ModuleTree.attributes).
        current = [
            own["training"] if type(own) is dict else module.training
            for module, own in zip(modules, attributes, strict=True)
        ]
    for module, own, training, now in zip(modules, attributes, flags, current, strict=True):
        if now != training:
            if plain and type(own) is dict:
                own["training"] = training
            else:
                module.training = training


# id(root module) -> [its shared snapshot, summaries running on it]
_running: dict[int, list[Any]] = {}
_running_lock = threading.Lock()


@contextmanager
def preserved(tree: ModuleTree, restore: bool = True) -> Iterator[Snapshot]:
    """Snapshots the model of ``tree`` (or joins the snapshot of a summary of it
    already running in another thread) and restores it when the last summary
    of it ends: on success, on error and on ``KeyboardInterrupt``.

    ``restore=False``: a private copy of the user's model (a lazy model's),
    whose state after the forward is what the summary counts: nothing is
    tracked or put back."""
    if not restore:
        yield Snapshot(tree, track=False)
        return
    key = id(tree.root)
    with _running_lock:
        entry = _running.get(key)
        if entry is not None:
            entry[1] += 1
            entry[0].users = entry[1]
    if entry is None:
        # Taken outside the lock (summaries of other models need not wait);
        # another summary of this model that registered meanwhile owns the
        # snapshot, and this one, taken after it started, is dropped.
        fresh = Snapshot(tree)
        with _running_lock:
            entry = _running.setdefault(key, [fresh, 0])
            entry[1] += 1
            entry[0].users = entry[1]
    snapshot: Snapshot = entry[0]
    try:
        yield snapshot
    finally:
        with _running_lock:
            entry[1] -= 1
            entry[0].users = entry[1]
            last = entry[1] == 0
            if last:
                del _running[key]
            # Restored under the lock: a summary starting now snapshots after it.
            if last:
                snapshot.restore()
