"""Symbolic sizes of an exported graph: parsed without ``eval``, evaluated at a binding.

An archive writes a dynamic size as sympy's ``srepr`` text
(``Symbol('s0', positive=True, integer=True)``, ``Mul(Integer(2), Symbol('s0'))``).
``sympy.sympify`` would ``eval`` that text, running whatever an archive puts
there, so this module parses it with ``ast`` and builds only the sympy objects
an allowlist names.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import sympy

from ..errors import ExportedArchiveError

# A size: an int, or a sympy expression in the dynamic sizes.
Dim: TypeAlias = "int | sympy.Expr"


def _floor_div(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    return sympy.floor(a / b)


def _ceil_div(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    return sympy.ceiling(a / b)


# The functions torch writes in shape expressions (torch.utils._sympy.functions
# and plain sympy), as the sympy they mean.
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "Integer": sympy.Integer,
    "Rational": sympy.Rational,
    "Add": sympy.Add,
    "Mul": sympy.Mul,
    "Pow": sympy.Pow,
    "Max": sympy.Max,
    "Min": sympy.Min,
    "Mod": sympy.Mod,
    "PythonMod": sympy.Mod,
    "FloorDiv": _floor_div,
    "CeilDiv": _ceil_div,
    "IntTrueDiv": lambda a, b: a / b,
    "floor": sympy.floor,
    "ceiling": sympy.ceiling,
    "FloorToInt": sympy.floor,
    "CeilToInt": sympy.ceiling,
}
_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    # Exact (rational) division, as sympy prints floor(s0/2 - 3/2).
    ast.Div: lambda a, b: sympy.Integer(a) / b if isinstance(a, int) else a / b,
    ast.FloorDiv: _floor_div,
    ast.Pow: lambda a, b: a**b,
    ast.Mod: sympy.Mod,
}


def symbol(name: str) -> sympy.Symbol:
    """The symbol of a dynamic size (a positive integer, as torch declares it)."""
    return sympy.Symbol(name, integer=True, positive=True)


def parse_expr(text: str) -> Dim:
    """A shape expression from an archive, without evaluating its text.

    Example:
        >>> parse_expr("Mul(Integer(2), Symbol('s0', positive=True, integer=True))")
        2*s0
        >>> parse_expr("s0 + 1")
        s0 + 1
        >>> parse_expr("floor(s0/2 - 3/2) + 1")
        floor(s0/2 - 3/2) + 1

    Raises:
        ExportedArchiveError: the text uses something other than integers,
            symbols, arithmetic and torch's integer-division functions.
    """
    try:
        tree = ast.parse(text, mode="eval")
        value = _build(tree.body)
    except (SyntaxError, ValueError, TypeError, RecursionError) as error:
        raise ExportedArchiveError(f"cannot read the shape expression {text!r}: {error}") from error
    if isinstance(value, sympy.Integer):
        return int(value)
    if isinstance(value, int):
        return value
    assert isinstance(value, sympy.Expr)
    expression: Dim = value
    return expression


def _build(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, str, bool)):
        return node.value
    if isinstance(node, ast.Name):
        return symbol(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_build(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_build(node.left), _build(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        args = [_build(arg) for arg in node.args]
        if name == "Symbol" and len(args) == 1 and isinstance(args[0], str):
            return symbol(args[0])  # its assumptions: torch's sizes are positive integers
        function = _FUNCTIONS.get(name)
        if function is not None and not node.keywords:
            return function(*args)
        raise ValueError(f"{name}() is not a shape function summaryplus knows")
    raise ValueError(f"unexpected {type(node).__name__}")


def is_symbolic(value: Any) -> bool:
    return isinstance(value, sympy.Expr) and not value.is_number


def evaluate(value: Any, binding: Mapping[sympy.Symbol, int]) -> int:
    """``value`` (an int or an expression in the sizes) at ``binding``.

    Raises:
        ValueError: a symbol of ``value`` has no value in ``binding``.
    """
    if isinstance(value, int):
        return value
    values = {name: sympy.Integer(size) for name, size in binding.items()}
    result = sympy.sympify(value).xreplace(values)
    if not result.is_number:
        missing = ", ".join(sorted(str(s) for s in result.free_symbols))
        raise ValueError(f"no value for the dynamic size(s) {missing}: give --input-size")
    return int(result)


def evaluate_all(value: Any, binding: Mapping[sympy.Symbol, int]) -> Any:
    """Every size in a nested structure of shapes evaluated at ``binding``."""
    if isinstance(value, (list, tuple)):
        return type(value)(evaluate_all(item, binding) for item in value)
    if isinstance(value, sympy.Expr):
        return evaluate(value, binding)
    return value


class SizeName(str):
    """A dynamic size's name or expression in a shape: ``[s0, 128]`` when
    printed, a plain string in JSON."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str.__str__(self)


def show(value: Dim) -> int | str:
    """A size as a table shows it: an int, or its expression by name (``s0``)."""
    if isinstance(value, sympy.Expr):
        return int(value) if value.is_number else SizeName(value)
    return value
