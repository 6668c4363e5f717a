"""MACs of one node of an exported graph, from the one formula registry.

The op of each node is classified exactly as the live capture classifies it
(``Recorder.classify``): a formula of the registry, an op known to do no MACs,
a composite whose parts are counted, or an op without a formula (uncounted,
reported). A formula is applied to the node's shapes as they are, so a dynamic
size gives an expression in it (``32*s0``); a composite runs its decomposition
on fake tensors with symbolic sizes, counting its parts the same way (an
expression again), or, where that cannot be had, on meta tensors at the
evaluated shapes (the value there only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import sympy
import torch
from torch._ops import OpOverload
from torch.utils._python_dispatch import TorchDispatchMode

from ..capture.recorder import _DECOMPOSE, _UNCOUNTED, _ZERO_MACS, Recorder, op_name
from ..formulas import apply_formula, formula_on_call
from .graph import GraphNode, TensorValue
from .symbolic import evaluate, evaluate_all, is_symbolic


@dataclass
class NodeMacs:
    """MACs of one node: ``value`` at the binding; ``formula`` an int or an
    expression in the dynamic sizes (``exact`` False when only the value at
    the binding could be counted); ``uncounted``: ops without a formula."""

    value: int = 0
    formula: Any = 0
    exact: bool = True
    uncounted: Counter[str] = field(default_factory=Counter)


def resolve_op(target: str) -> OpOverload | None:
    """``torch.ops.aten.mm.default`` -> the op; None for a Python function
    (``_operator.getitem``) or an op this torch does not have."""
    prefix = "torch.ops."
    if not target.startswith(prefix):
        return None
    parts = target[len(prefix):].split(".")
    if len(parts) != 3:
        return None
    namespace, name, overload = parts
    try:
        op = getattr(getattr(getattr(torch.ops, namespace), name), overload)
    except (AttributeError, RuntimeError):
        return None
    return op if isinstance(op, OpOverload) else None


def node_macs(node: GraphNode, binding: Mapping[sympy.Symbol, int]) -> NodeMacs:
    """MACs of ``node`` at ``binding`` (each dynamic size's value)."""
    result = NodeMacs()
    op = resolve_op(node.target)
    if op is None:
        if node.target.startswith("torch.ops."):
            result.uncounted[node.target.removeprefix("torch.ops.")] += 1
        return result  # Python functions (getitem, operator.mul on sizes) do no MACs
    kind = Recorder.classify(op)
    if kind is _ZERO_MACS:
        return result
    if kind is _UNCOUNTED:
        result.uncounted[op_name(op)] += 1
        return result
    if kind is _DECOMPOSE:
        return _decomposed(op, node, binding)
    args, kwargs, out = _shapes(node.args), _shapes(node.kwargs), _shapes(node.out)
    try:
        formula = apply_formula(kind, args, kwargs, out)
        value = evaluate(formula, binding)
    except (TypeError, ValueError):
        # A formula that branches on a size cannot take an expression: count
        # at the binding only.
        formula = value = int(
            apply_formula(
                kind, evaluate_all(args, binding), evaluate_all(kwargs, binding),
                evaluate_all(out, binding),
            )
        )
        result.exact = not _has_symbols(node)
    result.value, result.formula = value, formula
    return result


def _shapes(value: Any) -> Any:
    if isinstance(value, TensorValue):
        return value.shape
    if isinstance(value, list):
        return [_shapes(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_shapes(item) for item in value)
    if isinstance(value, dict):
        return {key: _shapes(item) for key, item in value.items()}
    return value


def _has_symbols(node: GraphNode) -> bool:
    def walk(value: Any) -> bool:
        if isinstance(value, TensorValue):
            return any(is_symbolic(size) for size in value.shape)
        if isinstance(value, (list, tuple)):
            return any(walk(item) for item in value)
        if isinstance(value, dict):
            return any(walk(item) for item in value.values())
        return is_symbolic(value)

    return walk(node.args) or walk(node.kwargs)


def _decomposed(
    op: OpOverload, node: GraphNode, binding: Mapping[sympy.Symbol, int]
) -> NodeMacs:
    """A composite op (``conv2d`` and ``einsum`` in a training-IR graph,
    ``matmul`` on older ones...): its decomposition runs on meta tensors, and its
    parts are classified and counted. With dynamic sizes it first runs on
    symbolic sizes (``_symbolic_parts``), so the count is an expression in them."""
    if _has_symbols(node):
        symbolic = _symbolic_parts(op, node, binding)
        if symbolic is not None:
            return symbolic
    result = NodeMacs(exact=not _has_symbols(node))
    args = _meta(node.args, binding)
    kwargs = _meta(node.kwargs, binding)
    counter = _PartsCounter()
    try:
        with counter:
            out = op.decompose(*args, **kwargs)
    except Exception:  # an op whose decomposition needs values meta tensors lack
        out = NotImplemented
    if out is NotImplemented:
        result.uncounted[op_name(op)] += 1
        return result
    result.value = result.formula = int(counter.macs)
    result.uncounted.update(counter.uncounted)
    return result


def _symbolic_parts(
    op: OpOverload, node: GraphNode, binding: Mapping[sympy.Symbol, int]
) -> NodeMacs | None:
    """The parts' MACs as an expression in the node's dynamic sizes, or None
    where that cannot be had (the caller counts at the binding only).

    A decomposition may branch on whether a size is 1 (broadcasting, reshapes):
    the expression is made with every size at least 2, then checked against a
    run with each combination of sizes set to 1 (up to ``_MAX_SYMBOLS`` sizes:
    2^n runs); it stands when every region gives it back.
    """
    symbols = sorted(_symbols(node), key=str)
    if len(symbols) > _MAX_SYMBOLS:
        return None
    found = _symbolic_count(op, node, binding, symbols, ones=())
    if found is None:
        return None
    formula, uncounted = found
    for size in range(1, len(symbols) + 1):
        for ones in combinations(symbols, size):
            region = _symbolic_count(op, node, binding, symbols, ones)
            expected = sympy.sympify(formula).xreplace({name: sympy.Integer(1) for name in ones})
            if region is None or sympy.simplify(sympy.sympify(region[0]) - expected) != 0:
                return None
    return NodeMacs(value=evaluate(formula, binding), formula=formula, uncounted=uncounted)


# Dynamic sizes of one node whose regions (each size 1 or more) are checked.
_MAX_SYMBOLS = 3


def _symbolic_count(
    op: OpOverload,
    node: GraphNode,
    binding: Mapping[sympy.Symbol, int],
    symbols: list[sympy.Symbol],
    ones: tuple[sympy.Symbol, ...],
) -> tuple[Any, Counter[str]] | None:
    """The parts' MACs with the sizes in ``ones`` at 1 and the others symbolic
    and at least 2 (a fake tensor mode whose shape environment holds one
    symbol per size), or None: the decomposition branched on a size anyway
    (torch recorded a guard), or failed."""
    from torch._dynamo.source import ConstantSource
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv
    from torch.utils._sympy.numbers import int_oo

    env = ShapeEnv(specialize_zero_one=False)
    ours: dict[Any, sympy.Symbol] = {}  # the environment's symbol -> the graph's
    sizes: dict[sympy.Symbol, Any] = {}
    try:
        for name in symbols:
            if name in ones:
                sizes[name] = 1
                continue
            hint = max(2, binding[name])
            made = env.create_symbol(hint, source=ConstantSource(str(name)))
            env.constrain_symbol_range(made, compiler_min=2, compiler_max=int_oo)
            ours[made] = name
            sizes[name] = env.create_symintnode(made, hint=hint)
        fake = FakeTensorMode(shape_env=env)
        with fake:
            args = _symbolic(node.args, sizes)
            kwargs = _symbolic(node.kwargs, sizes)
        counter = _PartsCounter()
        with fake, counter:
            out = op.decompose(*args, **kwargs)
    except Exception:  # a size expression or a part symbolic shapes cannot take
        return None
    if out is NotImplemented or env.guards:
        return None
    total = counter.macs
    formula: Any = (
        total.node.expr.xreplace(ours) if isinstance(total, torch.SymInt) else int(total)
    )
    if isinstance(formula, sympy.Integer):
        formula = int(formula)
    return formula, counter.uncounted


def _symbols(node: GraphNode) -> set[sympy.Symbol]:
    found: set[sympy.Symbol] = set()

    def walk(value: Any) -> None:
        if isinstance(value, TensorValue):
            walk(list(value.shape))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, sympy.Expr):
            found.update(value.free_symbols)

    walk((node.args, node.kwargs))
    return found


def _symbolic(value: Any, sizes: Mapping[sympy.Symbol, Any]) -> Any:
    """A node's arguments as fake tensors (and sizes) with symbolic sizes; made
    under the fake mode."""
    if isinstance(value, TensorValue):
        shape = [_to_symint(size, sizes) for size in value.shape]
        return torch.empty(shape, dtype=value.dtype, device="meta")
    if isinstance(value, list):
        return [_symbolic(item, sizes) for item in value]
    if isinstance(value, tuple):
        return tuple(_symbolic(item, sizes) for item in value)
    if isinstance(value, dict):
        return {key: _symbolic(item, sizes) for key, item in value.items()}
    if isinstance(value, sympy.Expr):
        return _to_symint(value, sizes)
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
    if isinstance(size, sympy.Add):
        total = _to_symint(size.args[0], sizes)
        for term in size.args[1:]:
            total = total + _to_symint(term, sizes)
        return total
    if isinstance(size, sympy.Mul):
        product = _to_symint(size.args[0], sizes)
        for factor in size.args[1:]:
            product = product * _to_symint(factor, sizes)
        return product
    if isinstance(size, sympy.Pow) and size.exp.is_Integer and int(size.exp) > 0:
        return _to_symint(size.base, sizes) ** int(size.exp)
    if isinstance(size, sympy.floor):
        numerator, denominator = sympy.fraction(sympy.together(size.args[0]))
        return _to_symint(numerator, sizes) // _to_symint(denominator, sizes)
    raise ValueError(f"not a size expression summaryplus can make symbolic: {size}")


def _meta(value: Any, binding: Mapping[sympy.Symbol, int]) -> Any:
    if isinstance(value, TensorValue):
        shape = [evaluate(size, binding) for size in value.shape]
        return torch.empty(shape, dtype=value.dtype, device="meta")
    if isinstance(value, list):
        return [_meta(item, binding) for item in value]
    if isinstance(value, dict):
        return {key: _meta(item, binding) for key, item in value.items()}
    if isinstance(value, sympy.Expr):
        return evaluate(value, binding)
    return value


class _PartsCounter(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Counts the ops a decomposition runs, classified as the live capture does."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.macs: Any = 0  # an int, or torch.SymInt on symbolic sizes
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
            # The shapes as they are: symbolic ones give a symbolic count.
            self.macs = self.macs + formula_on_call(kind, args, kwargs, out)
        return out
