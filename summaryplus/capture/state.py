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
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import _disable_current_modes

from .._tensors import is_lazy, storage_key
from .tree import ModuleTree

logger = logging.getLogger("summaryplus")

# One tracked tensor: the object, its version counter, requires_grad, .grad
# (parameters only; None for buffers), its class (a lazy parameter becomes a
# Parameter when materialised) and an alias of its data (None for a lazy one).
_Tracked = tuple[torch.Tensor, int, bool, Any, type, torch.Tensor | None]
# A module and shallow copies of its non-empty _parameters, _buffers, _modules.
_Dict = dict[str, Any] | None
_ModuleDicts = tuple[nn.Module, _Dict, _Dict, _Dict]


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
    ``before_write`` while the forward runs."""

    def __init__(self, tree: ModuleTree, track: bool = True) -> None:
        self.tree = tree
        self.flags = [module.training for module in tree.modules]
        self.dicts: list[_ModuleDicts] = []
        self.tracked: list[_Tracked] = []
        seen: set[int] = set()
        for module in tree.modules if track else ():
            params, buffers, children = module._parameters, module._buffers, module._modules
            if not (params or buffers or children):
                continue  # activations: most modules of a big model
            self.dicts.append(
                (
                    module,
                    dict(params) if params else None,
                    dict(buffers) if buffers else None,
                    dict(children) if children else None,
                )
            )
            for tensors, grads in ((params, True), (buffers, False)):
                if not tensors:
                    continue
                for tensor in tensors.values():
                    if tensor is None or id(tensor) in seen:
                        continue
                    seen.add(id(tensor))
                    self.tracked.append(_track(tensor, grads))
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
        for tensor, *_, alias in self.tracked:
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
        _is = operator.is_
        for module, params, buffers, children in self.dicts:
            for now, before in (
                (module._parameters, params),
                (module._buffers, buffers),
                (module._modules, children),
            ):
                before = before or {}
                if len(now) != len(before) or not all(map(_is, now.values(), before.values())):
                    now.clear()
                    now.update(before)
                    # A plain attribute of a registered name (``del self.bias;
                    # self.bias = None``) would hide the restored one.
                    shadowing = module.__dict__.keys() & before.keys()
                    for name in shadowing:
                        del module.__dict__[name]
        unrestorable = []
        with torch.no_grad():
            for tensor, version, requires_grad, grad, cls, alias in self.tracked:
                if alias is None:
                    if not is_lazy(tensor):  # a lazy parameter the forward materialised
                        tensor.data = torch.empty(0, device=tensor.device, dtype=tensor.dtype)
                    replaced = True
                else:
                    # `.data = ...` or a resize: the old memory back.
                    replaced = not _same_memory(tensor, alias)
                    if replaced:
                        tensor.data = alias
                if type(tensor) is not cls:
                    tensor.__class__ = cls
                saved = self.saved.get(id(tensor))
                if saved is not None:
                    copy = saved[1]
                    if tensor.shape == copy.shape and tensor.dtype == copy.dtype:
                        tensor.copy_(copy)
                    else:
                        tensor.data = copy
                elif not replaced and tensor._version != version:
                    unrestorable.append(tensor)
                if tensor.requires_grad is not requires_grad:
                    tensor.requires_grad_(requires_grad)
                if grad is not _NO_GRAD and tensor.grad is not grad:
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
                "modes); "
                "summaryplus could not put their contents back",
                RuntimeWarning,
                stacklevel=2,
            )


def _same_memory(tensor: torch.Tensor, alias: torch.Tensor) -> bool:
    """Whether ``tensor`` still shows the memory ``alias`` does (``is_set_to``,
    which meta tensors lack)."""
    if tensor.shape != alias.shape or tensor.dtype != alias.dtype:
        return False
    if tensor.is_meta:
        return storage_key(tensor) == storage_key(alias)
    return bool(tensor.data_ptr() == alias.data_ptr())


_NO_GRAD = object()  # a buffer's .grad is not tracked


def _track(tensor: torch.Tensor, is_parameter: bool) -> _Tracked:
    grad = tensor.grad if is_parameter else _NO_GRAD
    if is_lazy(tensor):
        return (tensor, 0, tensor.requires_grad, grad, type(tensor), None)
    return (tensor, tensor._version, tensor.requires_grad, grad, type(tensor), tensor.detach())


def set_training(tree: ModuleTree, training: bool) -> None:
    """``model.train(training)``, flag by flag (10x cheaper on big models)
    unless a module overrides ``train()``, whose override must then run."""
    model = tree.root
    if type(model).eval is not nn.Module.eval and not training:
        model.eval()
        return
    if any(cls.train is not nn.Module.train for cls in tree.classes):
        model.train(training)
        return
    _set_flags(tree, [training] * len(tree.modules))


def _set_flags(tree: ModuleTree, flags: list[bool], current: list[bool] | None = None) -> None:
    """Sets ``training`` to ``flags[i]`` on each module ``tree.modules[i]`` whose
    flag differs (``current``: the flags as they are; read when not given).

    A plain bool, so nn.Module.__setattr__'s checks are skipped where every
    class allows it (a ScriptModule keeps the flag in its C++ object: its own
    __setattr__ must run)."""
    plain = all(cls.__setattr__ is nn.Module.__setattr__ for cls in tree.classes)
    assign = object.__setattr__ if plain else setattr
    if current is None:
        current = [module.training for module in tree.modules]
    for module, training, now in zip(tree.modules, flags, current, strict=True):
        if now != training:
            assign(module, "training", training)


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
        if entry is None or entry[0].tree.root is not tree.root:
            entry = _running[key] = [Snapshot(tree), 0]
        entry[1] += 1
    snapshot: Snapshot = entry[0]
    try:
        yield snapshot
    finally:
        with _running_lock:
            entry[1] -= 1
            last = entry[1] == 0
            if last:
                del _running[key]
            # Restored under the lock: a summary starting now snapshots after it.
            if last:
                snapshot.restore()
