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

# Budgets of one expression (torch writes a few dozen characters, exponents of 2
# or 3): longer text, more nodes, a larger integer literal or exponent, or an
# intermediate constant wider than _MAX_BITS is refused before sympy evaluates
# it (``9**9**9`` would take forever as a big integer).
MAX_EXPR_CHARS = 4096
MAX_EXPR_NODES = 500
MAX_EXPONENT = 64
_MAX_BITS = 1024


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
    "Pow": lambda a, b: _power(a, b),
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
    ast.Pow: lambda a, b: _power(a, b),
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
    shown = text if len(text) <= 80 else text[:77] + "..."
    try:
        if len(text) > MAX_EXPR_CHARS:
            raise ValueError(f"{len(text):,} characters, over the {MAX_EXPR_CHARS:,} read")
        tree = ast.parse(text, mode="eval")
        nodes = sum(1 for _ in ast.walk(tree))
        if nodes > MAX_EXPR_NODES:
            raise ValueError(f"{nodes:,} terms, over the {MAX_EXPR_NODES} read")
        value = _build(tree.body)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError) as error:
        raise ExportedArchiveError(
            f"cannot read the shape expression {shown!r}: {error}"
        ) from None
    if isinstance(value, sympy.Integer):
        return int(value)
    if isinstance(value, int):
        return value
    assert isinstance(value, sympy.Expr)
    expression: Dim = value
    return expression


def _build(node: ast.expr) -> Any:
    return _bounded(_build_node(node))


def _bounded(value: Any) -> Any:
    """``value``, unless it is a constant wider than the budget allows."""
    number = value if isinstance(value, int) else None
    if isinstance(value, sympy.Rational):
        number = max(abs(int(value.p)), abs(int(value.q)))
    if number is not None and abs(number).bit_length() > _MAX_BITS:
        raise ValueError(f"a constant of more than {_MAX_BITS} bits")
    return value


def _power(base: Any, exponent: Any) -> Any:
    """``base ** exponent`` with a small integer exponent, checked before sympy
    computes it."""
    if isinstance(exponent, sympy.Integer):
        exponent = int(exponent)
    if not isinstance(exponent, int) or isinstance(exponent, bool):
        raise ValueError(f"an exponent that is not an integer literal ({exponent})")
    if abs(exponent) > MAX_EXPONENT:
        raise ValueError(f"the exponent {exponent} (summaryplus reads at most {MAX_EXPONENT})")
    bits = abs(int(base)).bit_length() if isinstance(base, (int, sympy.Integer)) else 0
    if bits * abs(exponent) > _MAX_BITS:
        raise ValueError(f"a power of more than {_MAX_BITS} bits")
    return sympy.Pow(base, exponent) if isinstance(base, sympy.Basic) else base**exponent


def _build_node(node: ast.expr) -> Any:
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
