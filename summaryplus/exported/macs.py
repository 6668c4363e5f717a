"""MACs of one node of an exported graph, from the one formula registry.

The op of each node is classified exactly as the live capture classifies it
(``Recorder.classify``): a formula of the registry, an op known to do no MACs,
a composite whose parts are counted, or an op without a formula (uncounted,
reported). A formula is applied to the node's shapes as they are, so a dynamic
size gives an expression in it (``32*s0``); a composite is counted through its
decomposition (``decomposed``), an expression again where one can be had.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy
import torch
from torch._ops import OpOverload

from ..capture.recorder import _DECOMPOSE, _UNCOUNTED, _ZERO_MACS, Recorder, op_name
from ..formulas import apply_formula
from .decomposed import Ranges, count_composite, symbols_of
from .graph import GraphNode, TensorValue
from .symbolic import evaluate, evaluate_all


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


def node_macs(
    node: GraphNode, binding: Mapping[sympy.Symbol, int], ranges: Ranges | None = None
) -> NodeMacs:
    """MACs of ``node`` at ``binding`` (each dynamic size's value); ``ranges``:
    each dynamic size's exported (min, max), for composite ops (``decomposed``).

    Raises:
        decomposed.FormulaError: a formula failed on a composite's parts.
    """
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
        counted = count_composite(op, node, binding, ranges or {})
        return NodeMacs(
            evaluate(counted.formula, binding), counted.formula, counted.exact, counted.uncounted
        )
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
    return bool(symbols_of((node.args, node.kwargs)))
