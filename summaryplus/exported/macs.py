"""MACs of one node of an exported graph, from the one formula registry.

The op of each node is classified exactly as the live capture classifies it
(``Recorder.classify``): a formula of the registry, an op known to do no MACs,
a composite whose parts are counted, or an op without a formula (uncounted,
reported). A formula is applied to the node's shapes as they are, so a dynamic
size gives an expression in it (``32*s0``); a composite runs its decomposition
on meta tensors at the evaluated shapes, counting its parts the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy
import torch
from torch._ops import OpOverload
from torch.utils._python_dispatch import TorchDispatchMode

from ..capture.recorder import _DECOMPOSE, _UNCOUNTED, _ZERO_MACS, Recorder, op_name
from ..formulas import apply_formula, count_macs
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
    """A composite op (``matmul`` on older graphs, ``diff``...): its decomposition
    runs on meta tensors, and its parts are classified and counted."""
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
    result.value = result.formula = counter.macs
    result.uncounted.update(counter.uncounted)
    return result


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
        self.macs = 0
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
            self.macs += count_macs(kind, args, kwargs, out)
        return out
