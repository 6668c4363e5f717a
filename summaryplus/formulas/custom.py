"""Formulas users add for their own ops: custom ops (``torch.library``), Triton
kernels wrapped as ops (``torch.library.triton_op``), or an aten op whose
built-in formula they want to replace.

- ``register_formula(op, macs, bytes=None, override=False)``: for the process;
- ``custom_formulas({op: macs or (macs, bytes)}, override=False)``: a ``with``
  block, for the summaries run inside it (this thread or task only).

A MACs formula is what a built-in one is (``summaryplus.formulas``): a pure
function of the op's shapes (tensors as shapes, lists of tensors as lists of
shapes, other arguments as passed, the output's shape as ``out_shape``) that
returns multiply-accumulates. A bytes formula takes the same and returns the
bytes the op reads plus writes (default: the distinct regions its tensors
cover, ``capture/traffic.py``). Both are checked as the built-ins are: the op
must be an op of this torch, a formula callable, a second registration of an
op (or one over a built-in formula) an error unless ``override=True``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from torch._ops import OpOverload, OpOverloadPacket

from .registry import (
    SCOPE_SERIALS,
    SCOPED,
    USER,
    USER_CHANGES,
    BytesFormula,
    MacsFormula,
    UserFormulas,
    aten_op,
    has_builtin,
)

__all__ = ["custom_formulas", "register_formula", "unregister_formula"]

OpLike = str | OpOverload | OpOverloadPacket


def _packet(op: OpLike) -> OpOverloadPacket:
    if isinstance(op, OpOverload):
        packet: OpOverloadPacket = op.overloadpacket
        return packet
    if isinstance(op, OpOverloadPacket):
        return op
    if isinstance(op, str):
        found = aten_op(op)
        if found is None:
            raise ValueError(f"op={op!r} is not an op of this torch (names are 'mm' for "
                             "aten ops, 'namespace::name' for others; a custom op must be "
                             "defined with torch.library before its formula)")
        return found
    raise TypeError(f"op must be an op name, OpOverload or OpOverloadPacket, got "
                    f"{type(op).__name__}")


def _checked(op: OpLike, macs: Any, bytes_: Any) -> tuple[OpOverloadPacket, MacsFormula,
                                                          BytesFormula | None]:
    packet = _packet(op)
    if not callable(macs):
        raise TypeError(f"the MACs formula of {packet} must be callable, got "
                        f"{type(macs).__name__}")
    if bytes_ is not None and not callable(bytes_):
        raise TypeError(f"the bytes formula of {packet} must be callable or None, got "
                        f"{type(bytes_).__name__}")
    return packet, macs, bytes_


def _refuse_override(packet: OpOverloadPacket, taken: Mapping[Any, Any]) -> None:
    if packet in taken:
        raise ValueError(f"{packet} already has a user formula: pass override=True to replace it")
    if has_builtin(packet):
        raise ValueError(f"{packet} has a built-in MACs formula: pass override=True to "
                         "replace it")


def register_formula(
    op: OpLike, macs: MacsFormula, *, bytes: BytesFormula | None = None, override: bool = False
) -> None:
    """Gives ``op`` a MACs formula (and optionally a bytes formula) for every
    summary in this process.

    Example:
        >>> import torch
        >>> from summaryplus.formulas.custom import register_formula, unregister_formula
        >>> def dot_macs(a, b, out_shape):  # one multiply-add per element
        ...     return a[0]
        >>> register_formula("dot", dot_macs)
        Traceback (most recent call last):
        ...
        ValueError: aten.dot has a built-in MACs formula: pass override=True to replace it

    Raises:
        ValueError: not an op of this torch, or already has a formula and
            ``override`` is False.
        TypeError: a formula that is not callable.
    """
    packet, macs, bytes_ = _checked(op, macs, bytes)
    if not override:
        _refuse_override(packet, USER)
    USER[packet] = (macs, bytes_)
    USER_CHANGES[0] += 1


def unregister_formula(op: OpLike) -> None:
    """Removes a user's process-wide formula for ``op`` (built-ins stay).

    Raises:
        KeyError: ``op`` has no user formula.
    """
    packet = _packet(op)
    if packet not in USER:
        raise KeyError(f"{packet} has no user formula")
    del USER[packet]
    USER_CHANGES[0] += 1


@contextmanager
def custom_formulas(
    formulas: Mapping[OpLike, MacsFormula | tuple[MacsFormula, BytesFormula | None]],
    *,
    override: bool = False,
) -> Iterator[None]:
    """Formulas for the summaries run inside the block (this thread or task).

    Args:
        formulas: op -> MACs formula, or op -> (MACs formula, bytes formula).
        override: allow replacing a built-in or process-wide formula.

    Raises:
        ValueError, TypeError: as ``register_formula``.
    """
    outer = SCOPED.get()
    scoped: UserFormulas = dict(outer or {})
    for op, given in formulas.items():
        macs, bytes_ = given if isinstance(given, tuple) else (given, None)
        packet, macs, bytes_ = _checked(op, macs, bytes_)
        if not override:
            _refuse_override(packet, {**USER, **scoped})
        scoped[packet] = (macs, bytes_)
    USER_CHANGES[0] += 1
    SCOPE_SERIALS[id(scoped)] = USER_CHANGES[0]  # a version of its own (registry_version)
    token = SCOPED.set(scoped)
    try:
        yield
    finally:
        SCOPED.reset(token)
        del SCOPE_SERIALS[id(scoped)]
