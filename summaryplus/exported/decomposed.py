"""Composite ops of an exported graph, counted through their decompositions.

A training-IR graph keeps some composite ops whole (``conv2d``,
``conv_transpose1d``, ``einsum``...). Each is counted by running its
decomposition and classifying every part as the live capture does.

With dynamic sizes the decomposition runs on fake tensors whose sizes are torch
symbols (a shape environment), so the parts' formulas give an expression in
them. A decomposition may branch on a size being 1 (broadcasting, reshapes):
the expression is made with every size at least 2 (or its exported minimum)
and checked against one run per combination of sizes set to 1 that their
exported ranges allow. Where that cannot be had (a branch that changes the
count, more than ``MAX_SYMBOLS`` sizes, a part that symbolic sizes cannot
take), the parts run on meta tensors at the binding: the value there only.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import sympy
import torch
from torch._ops import OpOverload
from torch.utils._python_dispatch import TorchDispatchMode

from ..capture.recorder import _DECOMPOSE, _UNCOUNTED, _ZERO_MACS, Recorder, op_name
from ..formulas import formula_on_call, registry_version
from .graph import GraphNode, TensorValue
from .symbolic import evaluate, parse_expr

logger = logging.getLogger("summaryplus")

# Dynamic sizes of one node whose regions (each size 1, or more) are checked:
# 2^n runs of the decomposition.
MAX_SYMBOLS = 3
# Symbolic counts kept per process (a model repeats its layers' shapes).
_CACHE_SIZE = 1024

# A dynamic size's exported range: (min, max), max None when unbounded.
Ranges = Mapping[sympy.Symbol, tuple[int, int | None]]


@dataclass(frozen=True)
class Counted:
    """MACs of a composite node: ``formula`` an int or an expression in the
    dynamic sizes, exact for every size in their ranges unless ``exact`` is
    False (then it holds at the binding only); ops without a formula."""

    formula: Any
    exact: bool
    uncounted: Counter[str] = field(default_factory=Counter)


class FormulaError(RuntimeError):
    """A formula of the registry failed on a part's shapes (a bug to report,
    not a reason to call the part uncounted)."""


def count_composite(
    op: OpOverload, node: GraphNode, binding: Mapping[sympy.Symbol, int], ranges: Ranges
) -> Counted:
    """MACs of ``node`` (a composite ``op``) at ``binding``, as an expression in
    its dynamic sizes where one can be had (see the module doc).

    Raises:
        FormulaError: a formula failed on the parts' shapes at the binding.
    """
    symbols = sorted(symbols_of((node.args, node.kwargs)), key=str)
    if symbols:
        global _CACHE_VERSION
        if registry_version() != _CACHE_VERSION:  # counts by formulas since replaced
            _CACHE.clear()
            _CACHE_VERSION = registry_version()
        key = (op, _frozen(node.args), _frozen(node.kwargs),
               tuple((name, ranges.get(name)) for name in symbols))  # fmt: skip
        if key in _CACHE:
            found = _CACHE[key]
        else:
            found = _symbolic(op, node, symbols, binding, ranges)
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.clear()
            _CACHE[key] = found
        if found is not None:
            return found
    return _at_binding(op, node, binding, exact=not symbols)


# (op, arguments, sizes' ranges) -> its symbolic count, or None: none to be had;
# valid for the formula registry at _CACHE_VERSION (cleared when it changes).
_CACHE: dict[Any, Counted | None] = {}
_CACHE_VERSION = -1


def _symbolic(
    op: OpOverload,
    node: GraphNode,
    symbols: list[sympy.Symbol],
    binding: Mapping[sympy.Symbol, int],
    ranges: Ranges,
) -> Counted | None:
    """The symbolic count of ``node``, checked in every region where a size may
    be 1; None where there is none (see the module doc)."""
    if len(symbols) > MAX_SYMBOLS:
        return None
    found = _symbolic_run(op, node, symbols, binding, ranges, ones=())
    if found is None:
        return None
    formula, uncounted = found
    can_be_one = [name for name in symbols if ranges.get(name, (1, None))[0] <= 1]
    for size in range(1, len(can_be_one) + 1):
        for ones in combinations(can_be_one, size):
            region = _symbolic_run(op, node, symbols, binding, ranges, ones)
            expected = sympy.sympify(formula).xreplace({name: sympy.Integer(1) for name in ones})
            if region is None or sympy.simplify(sympy.sympify(region[0]) - expected) != 0:
                logger.debug("%s: the count differs where %s is 1", op_name(op), ones)
                return None
    return Counted(formula, True, uncounted)


def _symbolic_run(
    op: OpOverload,
    node: GraphNode,
    symbols: list[sympy.Symbol],
    binding: Mapping[sympy.Symbol, int],
    ranges: Ranges,
    ones: tuple[sympy.Symbol, ...],
) -> tuple[Any, Counter[str]] | None:
    """The parts' MACs with the sizes in ``ones`` at 1 and the others symbolic
    within their ranges and at least 2; None where the decomposition branched
    on a size anyway (torch recorded a guard) or could not run."""
    try:
        # torch's private symbolic-shape machinery: a torch that moved it
        # counts at the binding instead.
        from torch._dynamo.source import ConstantSource
        from torch._subclasses.fake_tensor import FakeTensorMode
        from torch.fx.experimental.symbolic_shapes import ShapeEnv
        from torch.utils._sympy.numbers import int_oo

        # No duck sizing: two sizes equal at the binding stay two symbols.
        env = ShapeEnv(duck_shape=False, specialize_zero_one=False)
        ours: dict[Any, sympy.Symbol] = {}  # the environment's symbol -> the graph's
        sizes: dict[sympy.Symbol, Any] = {}
        for name in symbols:
            if name in ones:
                sizes[name] = 1
                continue
            low, high = ranges.get(name, (2, None))
            low = max(low, 2)
            hint = max(binding[name], low)
            if high is not None:
                hint = min(hint, high)
            made = env.create_symbol(hint, source=ConstantSource(str(name)))
            env.constrain_symbol_range(
                made, compiler_min=low, compiler_max=high if high is not None else int_oo
            )
            ours[made] = name
            sizes[name] = env.create_symintnode(made, hint=hint)
        fake = FakeTensorMode(shape_env=env)
        with fake:
            args = realized(node.args, lambda size: _to_symint(size, sizes))
            kwargs = realized(node.kwargs, lambda size: _to_symint(size, sizes))
        counter = PartsCounter()
        with fake, counter:
            out = op.decompose(*args, **kwargs)
    except Exception as error:
        logger.debug("%s: no symbolic count (%s: %s)", op_name(op), type(error).__name__, error)
        return None
    if out is NotImplemented or env.guards:
        return None
    total = counter.macs
    if not isinstance(total, torch.SymInt):
        return int(total), counter.uncounted
    # torch's own functions (FloorDiv...) as the archive's expressions read.
    formula = parse_expr(str(total.node.expr.xreplace(ours)))
    return formula, counter.uncounted


def _at_binding(
    op: OpOverload, node: GraphNode, binding: Mapping[sympy.Symbol, int], exact: bool
) -> Counted:
    """The parts counted on meta tensors at ``binding``: the value there only."""
    args = realized(node.args, lambda size: evaluate(size, binding))
    kwargs = realized(node.kwargs, lambda size: evaluate(size, binding))
    counter = PartsCounter()
    try:
        with counter:
            out = op.decompose(*args, **kwargs)
    except FormulaError:
        raise
    except Exception:  # a decomposition that needs values meta tensors lack
        out = NotImplemented
    if out is NotImplemented:
        return Counted(0, exact, Counter({op_name(op): 1}))
    return Counted(int(counter.macs), exact, counter.uncounted)


def symbols_of(value: Any) -> set[sympy.Symbol]:
    """The dynamic sizes in a node's arguments (shapes and size arguments)."""
    found: set[sympy.Symbol] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, TensorValue):
            pending += item.shape
        elif isinstance(item, (list, tuple)):
            pending += item
        elif isinstance(item, dict):
            pending += item.values()
        elif isinstance(item, sympy.Expr):
            found.update(item.free_symbols)
    return found


def realized(value: Any, size: Callable[[Any], Any]) -> Any:
    """A node's arguments as meta tensors, each size through ``size`` (to an
    int at the binding, or to a symbolic int under a fake mode)."""
    if isinstance(value, TensorValue):
        return torch.empty([size(dim) for dim in value.shape], dtype=value.dtype, device="meta")
    if isinstance(value, list):
        return [realized(item, size) for item in value]
    if isinstance(value, tuple):
        return tuple(realized(item, size) for item in value)
    if isinstance(value, dict):
        return {key: realized(item, size) for key, item in value.items()}
    if isinstance(value, sympy.Expr):
        return size(value)
    return value


def _to_symint(size: Any, sizes: Mapping[sympy.Symbol, Any]) -> Any:
    """A size expression as torch's symbolic int: integers, symbols, sums,
    products, positive integer powers and floor divisions (what shapes hold).

    Raises:
        ValueError: anything else (the caller then counts at the binding).
    """
    if isinstance(size, int):
        return size
    if isinstance(size, sympy.Integer):
        return int(size)
    if isinstance(size, sympy.Symbol):
        return sizes[size]
    if isinstance(size, (sympy.Add, sympy.Mul)):
        parts = [_to_symint(part, sizes) for part in size.args]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined + part if isinstance(size, sympy.Add) else combined * part
        return combined
    if isinstance(size, sympy.Pow) and size.exp.is_Integer and int(size.exp) > 0:
        return _to_symint(size.base, sizes) ** int(size.exp)
    if isinstance(size, sympy.floor):
        numerator, denominator = sympy.fraction(sympy.together(size.args[0]))
        return _to_symint(numerator, sizes) // _to_symint(denominator, sizes)
    raise ValueError(f"not a size expression summaryplus can make symbolic: {size}")


def _frozen(value: Any) -> Any:
    """``value`` as a hashable cache key (lists as tuples, dicts as items)."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, *(_frozen(item) for item in value))
    if isinstance(value, dict):
        return ("dict", *((key, _frozen(item)) for key, item in value.items()))
    return value


class PartsCounter(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Counts the ops a decomposition runs, classified as the live capture does;
    ``macs`` is a ``torch.SymInt`` when the shapes are symbolic."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.macs: Any = 0
        self.uncounted: Counter[str] = Counter()

    def __torch_dispatch__(
        self, func: Any, types: Any, args: Any = (), kwargs: Any = None
    ) -> Any:
        kwargs = kwargs or {}
        kind = Recorder.classify(func)
        if kind is _DECOMPOSE:
            with self:
                out = func.decompose(*args, **kwargs)
            if out is not NotImplemented:
                return out
            kind = _UNCOUNTED
        out = func(*args, **kwargs)
        if kind is _UNCOUNTED:
            self.uncounted[op_name(func)] += 1
        elif kind is not _ZERO_MACS:
            try:
                self.macs = self.macs + formula_on_call(kind, args, kwargs, out)
            except Exception as error:
                raise FormulaError(
                    f"summaryplus could not count the MACs of {op_name(func)} (a part of a "
                    f"composite op): {type(error).__name__}: {error}"
                ) from error
        return out
