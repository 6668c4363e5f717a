"""The registration tree of a model: who holds each module, under which name.

A module can be registered under several parents (shared modules); the tree
keeps every (parent, name) edge so a call can be placed under the parent that is
actually running it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ._tensors import direct_parameters

# A module is reached from a running ancestor in a few steps; this bounds the walk
# up the registration tree for modules held by something that is not running.
_MAX_CHAIN = 64


# The attributes later stages read from ``ModuleTree.attributes``.
_NAMES = frozenset(
    ("_modules", "_parameters", "_buffers", "training", "_forward_hooks", "_forward_pre_hooks")
)


def _reads_from_dict(cls: type) -> bool:
    """Whether, on instances of ``cls``, reading each of ``_NAMES`` gives the
    instance ``__dict__``'s entry: no ``__getattribute__`` of its own, no class
    attribute of those names that is a data descriptor (a property), not
    scripted."""
    if cls.__getattribute__ is not object.__getattribute__:  # type: ignore[comparison-overlap]
        return False
    if issubclass(cls, torch.jit.ScriptModule):
        return False  # its dicts and flag live in its C++ object
    for klass in cls.__mro__:
        for name in _NAMES & klass.__dict__.keys():
            kind = type(klass.__dict__[name])
            if hasattr(kind, "__set__") or hasattr(kind, "__delete__"):
                return False
    return True


class AttributesView(dict[str, Any]):
    """``ModuleTree.attributes`` of a module whose ``_NAMES`` do not (all) live in
    its ``__dict__`` (a scripted module keeps ``training`` in its C++ object):
    a copy, with those names read the usual way, as the tree is made. (Plain
    modules' entries are their live ``__dict__``, of type ``dict``.)"""


def _attributes_view(module: nn.Module, own: dict[str, Any]) -> dict[str, Any]:
    view = AttributesView(own)
    for name in _NAMES:
        view[name] = getattr(module, name, True if name == "training" else {})
    return view


class ModuleTree:
    """Registration edges of every module reachable from ``root``."""

    def __init__(self, root: nn.Module) -> None:
        self.root = root
        # id(module) -> its (parent, name) edges: a tuple of one for most modules.
        self.parents: dict[int, tuple[tuple[nn.Module, str], ...]] = {}
        # Some module is registered under two parents (or twice under one).
        self.shares_modules = False
        # Every module once, parents before children (depth-first pre-order).
        self.modules: list[nn.Module] = []
        # Each module's attributes (``attributes[i]`` for ``modules[i]``): its
        # ``__dict__``, where ``module._parameters`` and the like live. Later
        # stages read them there: ``module.name`` costs ten times more, as
        # nn.Module defines ``__getattr__`` (about 0.3 us, per module and name).
        self.attributes: list[dict[str, Any]] = []
        parents, modules, attributes = self.parents, self.modules, self.attributes
        deepest = 0
        pending = [(root, 0)]
        checked: dict[type, bool] = {}
        while pending:
            module, level = pending.pop()
            modules.append(module)
            own = module.__dict__
            cls = type(module)
            plain = checked.get(cls)
            if plain is None:
                plain = checked[cls] = _reads_from_dict(cls)
            # (nn.Module.__init__ puts _NAMES in every instance's __dict__: checked
            # per class, and by the one read below.)
            children = own.get("_modules") if plain else None
            if children is None:
                own = _attributes_view(module, own)
                children = own["_modules"]
            attributes.append(own)
            if level > deepest:
                deepest = level
            fresh = []
            for name, child in children.items():
                if child is None:
                    continue
                edges = parents.get(id(child))
                if edges is not None:  # seen before: a shared module
                    parents[id(child)] = (*edges, (module, name))
                    self.shares_modules = True
                elif child is not root:
                    parents[id(child)] = ((module, name),)
                    fresh.append((child, level + 1))
                else:
                    parents[id(child)] = ((module, name),)  # the root, held by a child
            # Reversed onto the stack, so that children are visited in registration
            # order: a shared module's first edge is its first parent in that order.
            pending.extend(reversed(fresh))
        self._depth = deepest
        # The distinct classes, for checks that depend on the class only.
        self.classes: set[type[nn.Module]] = {type(module) for module in modules}

    def post_order(self) -> list[nn.Module]:
        """Every module once, each after all of its children (shared ones too)."""
        order: list[nn.Module] = []
        seen = {id(self.root)}
        stack = [(self.root, iter(self.root._modules.values()))]
        while stack:
            module, children = stack[-1]
            for child in children:
                if child is not None and id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(child._modules.values())))
                    break
            else:
                stack.pop()
                order.append(module)
        return order

    def named_paths(self) -> Iterator[tuple[str, nn.Module]]:
        """Every (dotted path, module), depth first in registration order; a shared
        module once per path that reaches it (``named_modules(remove_duplicate=False)``
        without its generator per level, which is quadratic in the depth).

        Raises:
            ValueError: the registration graph has a cycle (a path longer than
                the number of distinct modules goes round it).
        """
        distinct = len(self.modules)
        pending: list[tuple[str, nn.Module, int]] = [("", self.root, 0)]
        while pending:
            prefix, current, depth = pending.pop()
            if depth > distinct:
                raise ValueError(f"the module tree has a cycle through {prefix!r}")
            yield prefix, current
            children = [(n, child) for n, child in current._modules.items() if child is not None]
            for name, child in reversed(children):
                pending.append((f"{prefix}.{name}" if prefix else name, child, depth + 1))

    def named_parameters(self) -> Iterator[tuple[str, torch.Tensor]]:
        """Every parameter by every dotted name (tied ones under each), packed ones included."""
        for prefix, module in self.named_paths():
            for name, param in direct_parameters(module):
                yield (f"{prefix}.{name}" if prefix else name), param

    def named_buffers(self) -> Iterator[tuple[str, torch.Tensor]]:
        """Every buffer by every dotted name (shared ones under each)."""
        for prefix, module in self.named_paths():
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{prefix}.{name}" if prefix else name), buffer

    def non_persistent_buffer_names(self) -> set[str]:
        """Dotted names of the buffers ``state_dict()`` leaves out."""
        return {
            f"{prefix}.{name}" if prefix else name
            for prefix, module in self.named_paths()
            for name in getattr(module, "_non_persistent_buffers_set", ())
        }

    def depth(self) -> int:
        """Levels of nesting below the root (0 for a module without children)."""
        return self._depth

    def name_of(self, module: nn.Module) -> str:
        """The attribute name of ``module`` under its first registered parent."""
        edges = self.parents.get(id(module))
        return edges[0][1] if edges else type(module).__name__

    def parent_of(self, module: nn.Module) -> nn.Module | None:
        """The first registered parent of ``module`` (None for the root)."""
        edges = self.parents.get(id(module))
        return edges[0][0] if edges and module is not self.root else None

    def path_of(self, module: nn.Module) -> str:
        """Dotted path of ``module`` through its first registered parents."""
        names: list[str] = []
        current: nn.Module | None = module
        for _ in range(len(self.modules)):  # bounded: a shared root makes a cycle
            parent = None if current is None else self.parent_of(current)
            if parent is None or current is None:
                break
            names.append(self.name_of(current))
            current = parent
        return ".".join(reversed(names))

    def chain(
        self, ancestor: nn.Module, module: nn.Module, edge: int = 0
    ) -> list[tuple[nn.Module, str]] | None:
        """Modules registered between ``ancestor`` (excluded) and ``module`` (included).

        ``edge``: for a module registered under several parents, which of its
        registrations to go through first (the next ones if that one does not
        lead to ``ancestor``).

        Returns None when ``module`` is not registered below ``ancestor`` (a module
        shared from elsewhere, or passed into ``forward``).
        """
        # Breadth first over every registration edge: a shared module's first
        # edge may lead to another parent's branch than the running one.
        frontier: list[tuple[nn.Module, list[tuple[nn.Module, str]]]] = [(module, [])]
        seen = {id(module)}
        for _ in range(_MAX_CHAIN):
            reached = []
            for current, path in frontier:
                edges = self.parents.get(id(current), ())
                if current is module and edge:
                    edges = (*edges[edge:], *edges[:edge])
                for parent, name in edges:
                    step = [*path, (current, name)]
                    if parent is ancestor:
                        step.reverse()
                        return step
                    if id(parent) not in seen:
                        seen.add(id(parent))
                        reached.append((parent, step))
            if not reached:
                return None
            frontier = reached
        return None
