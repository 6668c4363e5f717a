"""``ParameterMonitor``: a log line when a model's parameters change during training.

Progressive unfreezing, a head swapped mid-run, a layer grown by architecture
search, a cast to bf16 or a move to another device: ``check()`` reports each
change since the previous call, as data (``Change``) and as a plain-text
record on ``logging.getLogger("summaryplus")`` (or the logger given).

Cost: no forward pass and no table. Each call walks the module tree once
(``_modules``/``_parameters`` dicts, no dotted names built) and reads
``requires_grad``, dtype, device and shape of every parameter with
``operator.attrgetter`` (C loops), then compares the result with the cached
fingerprint. Names, tied-weight deduplication and counts are recomputed only
when the fingerprint differs. ``benchmarks/bench_monitor.py`` measures it.

What it cannot see: a weight tied or untied by assigning ``.data`` with the
same shape, dtype and device (the fingerprint holds the ``Parameter`` objects,
not their storage); it is picked up at the next change of anything else.
Holding those objects also means that a removed parameter stays alive until
the next ``check()``.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from . import _tensors
from ._logging import LoggerLike, resolve_logger
from .escape import terminal
from .module_tree import ModuleTree

__all__ = ["Change", "ParameterMonitor", "format_change"]

#: What a ``Change`` can be about, in the order ``check()`` reports them.
CHANGE_KINDS = (
    "params",
    "trainable",
    "added",
    "removed",
    "moved",
    "resized",
    "tied",
    "untied",
    "frozen",
    "unfrozen",
    "dtype",
    "device",
)

# How many names a log line lists before "and N more".
_NAMES_IN_LOG = 5

_STATE = operator.attrgetter("requires_grad", "dtype", "device", "shape")


@dataclass(frozen=True)
class Change:
    """One change to a model's parameters, seen by ``ParameterMonitor.check``.

    Attributes:
        kind: one of ``CHANGE_KINDS``:
            ``"params"``/``"trainable"``: the total / trainable parameter count
            went from ``before`` to ``after``;
            ``"added"``/``"removed"``: tensors appeared / disappeared
            (``before``/``after``: their element count, 0 on the other side);
            ``"moved"``: the same tensors under new names (a module inserted
            before them; ``before`` = ``after`` = their element count);
            ``"resized"``: tensors changed shape, in place or replaced under
            the same name (``before``/``after``: their element counts);
            ``"tied"``/``"untied"``: names that became another name of an
            existing tensor / got a tensor of their own (``before``/``after``:
            their element count);
            ``"frozen"``/``"unfrozen"``: tensors stopped / started requiring
            grad (``before`` = ``after`` = their element count);
            ``"dtype"``/``"device"``: tensors moved from dtype or device
            ``before`` to ``after`` (names such as ``"float32"``, ``"cuda:0"``).
        before: the value before (see ``kind``).
        after: the value after.
        names: the parameter names concerned (first name of each distinct tensor).
        step: the step given to ``check()``, if any.
        previous_names: for ``"moved"``, the names the tensors had before,
            in the order of ``names``; empty otherwise.
    """

    kind: str
    before: Any
    after: Any
    names: tuple[str, ...] = ()
    step: int | None = None
    previous_names: tuple[str, ...] = ()

    @property
    def delta(self) -> int | None:
        """``after - before`` for counts, None for dtype and device changes."""
        if isinstance(self.before, int) and isinstance(self.after, int):
            return self.after - self.before
        return None

    def __str__(self) -> str:
        return format_change(self)


@dataclass(frozen=True)
class _Tensor:
    numel: int
    trainable: bool
    dtype: str
    device: str
    shape: tuple[int, ...]
    ident: int  # id() of the Parameter; alive as long as the snapshot is


@dataclass(frozen=True)
class _Snapshot:
    tensors: dict[str, _Tensor]  # first name -> state, each distinct tensor once
    aliases: dict[str, str]  # another name of a tensor -> its first name
    total: int
    trainable: int
    # The Parameters themselves: while the snapshot lives their ids stay
    # unique, so "the same tensor under a new name" can be told from "a new
    # tensor under an old name".
    objects: tuple[torch.Tensor, ...]


class ParameterMonitor:
    """Reports changes of a model's parameters between calls, cheaply enough for every step.

    Watches the parameter count, the trainable count, and each parameter's
    dtype and device, and names the tensors added, removed, moved to new
    names, resized, tied, untied, frozen or unfrozen. The first ``check()``
    compares with the model as it was when the monitor was created. Counts
    are summaryplus's: each distinct tensor once (tied weights too), the same
    as ``summary().total_params``.

    Args:
        model: the module to watch.
        logger: where to log each change: a ``logging.Logger``/``LoggerAdapter``,
            a logger name, or None for ``logging.getLogger("summaryplus")``.
        level: the logging level of the records (default ``logging.INFO``).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``, or ``logger`` or ``level``
            is of another type.

    Example:
        >>> from torch import nn
        >>> from summaryplus import ParameterMonitor
        >>> model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 2))
        >>> model[0].requires_grad_(False)
        Linear(in_features=8, out_features=8, bias=True)
        >>> monitor = ParameterMonitor(model)
        >>> monitor.check(step=0)
        []
        >>> model[0].requires_grad_(True)  # unfreeze the first layer
        Linear(in_features=8, out_features=8, bias=True)
        >>> for change in monitor.check(step=1):
        ...     print(change)
        step 1: trainable params 18 -> 90 (+72)
        step 1: unfrozen 2 tensor(s), 72 params: 0.weight, 0.bias
    """

    def __init__(
        self, model: nn.Module, logger: LoggerLike = None, level: int = logging.INFO
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if isinstance(level, bool) or not isinstance(level, int):
            raise TypeError(f"level must be a logging level number, got {type(level).__name__}")
        self.model = model
        self.logger = resolve_logger(logger)
        self.level = level
        #: Every change reported so far, oldest first.
        self.history: list[Change] = []
        self._params: list[nn.Parameter | None] = []
        self._walk_limit = 0
        self._tensors: list[nn.Parameter] = []
        self._states: list[Any] | None = None
        self._snapshot = _snapshot(model)
        self._refresh_fingerprint()

    @property
    def total_params(self) -> int:
        """Distinct parameter elements at the last check."""
        return self._snapshot.total

    @property
    def trainable_params(self) -> int:
        """The part of ``total_params`` that requires grad, at the last check."""
        return self._snapshot.trainable

    def check(self, step: int | None = None) -> list[Change]:
        """Reports what changed since the previous call (or since the monitor was made).

        Args:
            step: the training step or epoch, recorded in each ``Change`` and log line.

        Returns:
            The changes, in ``CHANGE_KINDS`` order; empty when nothing changed.

        Example:
            >>> from torch import nn
            >>> from summaryplus import ParameterMonitor
            >>> model = nn.Sequential(nn.Linear(4, 4))
            >>> monitor = ParameterMonitor(model)
            >>> model.append(nn.Linear(4, 2))  # grow the network
            Sequential(
              (0): Linear(in_features=4, out_features=4, bias=True)
              (1): Linear(in_features=4, out_features=2, bias=True)
            )
            >>> [(c.kind, c.before, c.after) for c in monitor.check()]
            [('params', 20, 30), ('trainable', 20, 30), ('added', 0, 10)]
        """
        if self._unchanged():
            return []
        before = self._snapshot
        self._snapshot = _snapshot(self.model)
        self._refresh_fingerprint()
        changes = list(_changes(before, self._snapshot, step))
        if changes:
            self.history.extend(changes)
            if self.logger.isEnabledFor(self.level):
                for change in changes:
                    self.logger.log(self.level, "%s", format_change(change))
        return changes

    __call__ = check

    def reset(self) -> None:
        """Takes the model as it is now as the reference, without reporting anything."""
        self._snapshot = _snapshot(self.model)
        self._refresh_fingerprint()

    # ----------------------------------------------------------- fingerprint
    def _unchanged(self) -> bool:
        """True when the same Parameter objects hold the same grad flag, dtype, device, shape.

        The hot path: one walk of the module dicts and one C-level map over the
        parameters; nothing allocated per parameter besides the state tuple.
        """
        if self._states is None:  # the fast read is not possible for this model
            return False
        params = _walk(self.model, self._walk_limit)
        cached = self._params
        if len(params) != len(cached) or not all(map(operator.is_, params, cached)):
            return False
        try:
            return list(map(_STATE, self._tensors)) == self._states
        except (RuntimeError, ValueError, TypeError, AttributeError, NotImplementedError):
            return False

    def _refresh_fingerprint(self) -> None:
        # Room for growth before the fast walk suspects a cycle (see _walk).
        self._walk_limit = 2 * len(_unique_modules(self.model)) + 1024
        self._params = _walk(self.model, self._walk_limit)
        self._tensors = [param for param in self._params if param is not None]
        try:
            self._states = list(map(_STATE, self._tensors))
        except (RuntimeError, ValueError, TypeError, AttributeError, NotImplementedError):
            # A parameter whose shape cannot be read (an uninitialized lazy one):
            # every check recomputes the snapshot until it can.
            self._states = None


def _walk(model: nn.Module, limit: int) -> list[nn.Parameter | None]:
    """Every ``_parameters`` value of every module reachable from ``model``.

    ``None`` entries are kept so that the list lines up with the cached one
    without a filtering pass. Modules are not deduplicated on the hot path: a
    shared module's parameters appear once per path, the same at every call,
    so the fingerprint still compares. A ``None`` child, or more than
    ``limit`` modules (a cycle would never end), hand over to the
    deduplicating walk, which gives the same list for the same structure.
    """
    # Any: a None child is caught as an AttributeError rather than tested for.
    modules: list[Any] = [model]
    extend = modules.extend
    try:
        for module in modules:  # grows while it is walked: breadth first
            extend(module._modules.values())
            if len(modules) > limit:
                modules = _unique_modules(model)
                break
    except AttributeError:  # a child registered as None
        modules = _unique_modules(model)
    params: list[nn.Parameter | None] = []
    for module in modules:
        params.extend(module._parameters.values())
    return params


def _unique_modules(model: nn.Module) -> list[nn.Module]:
    return ModuleTree(model).modules


def _snapshot(model: nn.Module) -> _Snapshot:
    named = list(ModuleTree(model).named_parameters())
    # An uninitialized lazy parameter has no storage to compare: it is told
    # apart by identity, and counts 0 until its module first runs.
    lazy: dict[int, tuple[str, torch.Tensor, list[str]]] = {}
    for name, param in named:
        if _tensors.is_lazy(param):
            lazy.setdefault(id(param), (name, param, []))[2].append(name)
    real = [(name, param) for name, param in named if id(param) not in lazy]
    tensors: dict[str, _Tensor] = {}
    aliases: dict[str, str] = {}
    objects: list[torch.Tensor] = []
    total = trainable = 0
    for name, param, names in [*_tensors.unique_tensors(real), *lazy.values()]:
        objects.append(param)
        for alias in names[1:]:
            aliases[alias] = name
        count = _tensors.numel(param)
        state = _Tensor(
            numel=count,
            trainable=bool(param.requires_grad),
            dtype=_tensors.dtype_name(param.dtype),
            device=str(param.device),
            shape=() if id(param) in lazy else tuple(int(size) for size in param.shape),
            ident=id(param),
        )
        tensors[name] = state
        total += count
        trainable += count if state.trainable else 0
    return _Snapshot(tensors, aliases, total, trainable, tuple(objects))


def _changes(before: _Snapshot, after: _Snapshot, step: int | None) -> Iterator[Change]:
    if before.total != after.total:
        yield Change("params", before.total, after.total, step=step)
    if before.trainable != after.trainable:
        yield Change("trainable", before.trainable, after.trainable, step=step)
    old, new = before.tensors, after.tensors
    old_by_id = {state.ident: name for name, state in old.items()}
    new_ids = {state.ident for state in new.values()}
    # Pair each tensor of the new snapshot with its old state: the same
    # Parameter object wherever it now sits, else the tensor that had its
    # name if that one is gone (a replaced head: compared by name).
    matched: list[tuple[str, str]] = []
    added: list[str] = []
    untied: list[str] = []
    for name, state in new.items():
        if state.ident in old_by_id:
            matched.append((old_by_id[state.ident], name))
        elif name in old and old[name].ident not in new_ids:
            matched.append((name, name))
        elif name in before.aliases:
            untied.append(name)
        else:
            added.append(name)
    paired = {old_name for old_name, _ in matched}
    gone = [name for name in old if name not in paired]
    tied = [name for name in gone if name in after.aliases]
    removed = [name for name in gone if name not in after.aliases]
    moved = [(old_name, name) for old_name, name in matched if old_name != name]
    if added:
        yield Change("added", 0, _numel(new, added), tuple(added), step)
    if removed:
        yield Change("removed", _numel(old, removed), 0, tuple(removed), step)
    if moved:
        count = _numel(new, [name for _, name in moved])
        names = tuple(name for _, name in moved)
        yield Change("moved", count, count, names, step, tuple(name for name, _ in moved))
    resized = [(a, b) for a, b in matched if old[a].shape != new[b].shape]
    if resized:
        before_count = _numel(old, [a for a, _ in resized])
        after_count = _numel(new, [b for _, b in resized])
        yield Change("resized", before_count, after_count, tuple(b for _, b in resized), step)
    if tied:
        count = _numel(old, tied)
        yield Change("tied", count, count, tuple(tied), step)
    if untied:
        count = _numel(new, untied)
        yield Change("untied", count, count, tuple(untied), step)
    frozen = [b for a, b in matched if old[a].trainable and not new[b].trainable]
    unfrozen = [b for a, b in matched if new[b].trainable and not old[a].trainable]
    if frozen:
        count = _numel(new, frozen)
        yield Change("frozen", count, count, tuple(frozen), step)
    if unfrozen:
        count = _numel(new, unfrozen)
        yield Change("unfrozen", count, count, tuple(unfrozen), step)
    for kind in ("dtype", "device"):
        groups: dict[tuple[str, str], list[str]] = {}
        for a, b in matched:
            pair = (getattr(old[a], kind), getattr(new[b], kind))
            if pair[0] != pair[1]:
                groups.setdefault(pair, []).append(b)
        for (source, target), group in groups.items():
            yield Change(kind, source, target, tuple(group), step)


def _numel(tensors: dict[str, _Tensor], names: Iterable[str]) -> int:
    return sum(tensors[name].numel for name in names)


def format_change(change: Change) -> str:
    """One plain-text line for a change (what ``ParameterMonitor`` logs).

    Example:
        >>> from summaryplus.monitor import Change, format_change
        >>> format_change(Change("frozen", 4096, 4096, ("encoder.weight",), step=7))
        'step 7: frozen 1 tensor(s), 4,096 params: encoder.weight'
    """
    prefix = "" if change.step is None else f"step {change.step}: "
    if change.kind in ("params", "trainable"):
        label = "params" if change.kind == "params" else "trainable params"
        return f"{prefix}{label} {change.before:,} -> {change.after:,} ({change.delta:+,})"
    names = _names(change.names)
    count = len(change.names)
    if change.kind in ("dtype", "device"):
        return (
            f"{prefix}{change.kind} {change.before} -> {change.after} "
            f"for {count} tensor(s): {names}"
        )
    if change.kind == "moved":
        pairs = tuple(
            f"{old} -> {new}" for old, new in zip(change.previous_names, change.names, strict=False)
        )
        return f"{prefix}moved {count} tensor(s), {change.before:,} params: {_names(pairs)}"
    if change.kind == "resized":
        return (
            f"{prefix}resized {count} tensor(s), {change.before:,} -> {change.after:,} params: "
            f"{names}"
        )
    size = change.after if change.kind != "removed" else change.before
    return f"{prefix}{change.kind} {count} tensor(s), {size:,} params: {names}"


def _names(names: tuple[str, ...]) -> str:
    # Parameter names are ModuleDict keys too: shown, never sent to a terminal raw.
    shown = terminal(", ".join(names[:_NAMES_IN_LOG]))
    hidden = len(names) - _NAMES_IN_LOG
    return shown if hidden <= 0 else f"{shown} and {hidden} more"
