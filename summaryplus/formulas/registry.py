"""The op -> MACs formula registry, filled by the ``register_macs`` decorator.

Kept apart from the families (``matmul``, ``attention``...) so they import it
without a cycle; ``summaryplus.formulas`` imports every family, which fills it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextvars import ContextVar
from typing import Any

import torch
from torch import Tensor
from torch._ops import OpOverload, OpOverloadPacket

from .._tensors import nested_component_shapes

MacsFormula = Callable[..., int]
#: A user's bytes formula: the op's shapes (as a MACs formula gets them) -> bytes.
BytesFormula = Callable[..., int]


class _Registry(MutableMapping[OpOverloadPacket, MacsFormula]):
    """op packet -> formula, with a ``version`` that every change bumps (a
    formula registered, replaced or removed, by this module's functions or by
    writing the mapping itself, as ``monkeypatch.setitem`` does: every write
    goes through ``__setitem__`` or ``__delitem__``), so that what is kept from
    it (a forward cache, counts of exported composites) is keyed on it and a
    change takes effect at once."""

    def __init__(self) -> None:
        self._formulas: dict[OpOverloadPacket, MacsFormula] = {}
        self.version = 0

    def __getitem__(self, key: OpOverloadPacket) -> MacsFormula:
        return self._formulas[key]

    def get(  # type: ignore[override]
        self, key: OpOverloadPacket, default: MacsFormula | None = None
    ) -> MacsFormula | None:
        return self._formulas.get(key, default)  # the dict's own, one frame

    def __setitem__(self, key: OpOverloadPacket, value: MacsFormula) -> None:
        self._formulas[key] = value
        self.version += 1

    def __delitem__(self, key: OpOverloadPacket) -> None:
        del self._formulas[key]
        self.version += 1

    def __iter__(self) -> Iterator[OpOverloadPacket]:
        return iter(self._formulas)

    def __len__(self) -> int:
        return len(self._formulas)

    def __contains__(self, key: object) -> bool:
        return key in self._formulas


_REGISTRY = _Registry()


def registry_version() -> int:
    """A number that changes whenever a formula is registered, replaced or
    removed (users' formulas included), and differs inside each
    ``custom_formulas`` block: what is computed from the registry is valid
    while it is unchanged."""
    scoped = SCOPED.get()
    serial = 0 if scoped is None else SCOPE_SERIALS.get(id(scoped), 0)
    return _REGISTRY.version + USER_CHANGES[0] + (serial << 40)

# Users' formulas (``formulas.custom``): process-wide, and for the calls inside a
# ``custom_formulas`` block (a context variable: per thread and task). Each
# maps an op packet to (MACs formula, bytes formula or None).
UserFormulas = dict[OpOverloadPacket, tuple[MacsFormula, "BytesFormula | None"]]
USER: UserFormulas = {}
SCOPED: ContextVar[UserFormulas | None] = ContextVar("summaryplus_formulas", default=None)
# Bumped by every change of USER; each custom_formulas block's mapping gets a
# serial of its own (id of the mapping -> serial, while the block runs).
USER_CHANGES = [0]
SCOPE_SERIALS: dict[int, int] = {}


def aten_op(name: str) -> OpOverloadPacket | None:
    """The op packet called ``name`` (``aten`` unless written ``namespace::name``),
    or None on a torch without it."""
    namespace, _, op_name = name.rpartition("::")
    try:
        packet = getattr(getattr(torch.ops, namespace or "aten"), op_name)
    except (AttributeError, RuntimeError):
        return None
    return packet if isinstance(packet, OpOverloadPacket) else None


def register_macs(
    *op_names: str, optional: Iterable[str] = ()
) -> Callable[[MacsFormula], MacsFormula]:
    """Registers a formula for the named ops: aten op names, or
    ``namespace::name`` for other namespaces. ``optional`` names ops that older
    (or CPU-only) builds of torch lack; they are skipped where missing.

    Raises:
        ValueError: an op already has a formula, or a name that is not optional
            is not an op of this torch (a typo would otherwise count nothing).
    """
    maybe_missing = frozenset(optional)

    def decorate(formula: MacsFormula) -> MacsFormula:
        # Every name is checked before any is registered: a refused decorator
        # leaves the registry as it was (a half-filled one would refuse the
        # next import of the module with "already has a MACs formula").
        packets = []
        for name in (*op_names, *maybe_missing):
            packet = aten_op(name)
            if packet is None:
                if name in maybe_missing:
                    continue
                raise ValueError(f"{name} is not an op of this torch: mark it optional")
            if packet in _REGISTRY or packet in packets:
                raise ValueError(f"{name} already has a MACs formula")
            packets.append(packet)
        for packet in packets:
            _REGISTRY[packet] = formula
        return formula

    return decorate


def formula_for(func: OpOverload) -> MacsFormula | None:
    """The op's MACs formula: a ``custom_formulas`` block's, a process-wide
    user's (``register_formula``), or the built-in one."""
    found = user_formulas_for(func)
    if found is not None:
        return found[0]
    return _REGISTRY.get(func.overloadpacket)


def user_formulas_for(func: Any) -> tuple[MacsFormula, BytesFormula | None] | None:
    """A user's (MACs, bytes) formulas for the op (an ``OpOverload``), or None."""
    packet: Any = getattr(func, "overloadpacket", func)
    scoped = SCOPED.get()
    if scoped:
        found = scoped.get(packet)
        if found is not None:
            return found
    return USER.get(packet) if USER else None


def has_builtin(packet: OpOverloadPacket) -> bool:
    return packet in _REGISTRY


def registered_ops() -> list[str]:
    """Names of every op that has a formula, sorted."""
    return sorted(packet.__name__ for packet in _REGISTRY)


def _shape_of(value: Any) -> Any:
    # torch.Size is a tuple (of ints, or SymInts under symbolic shapes).
    if isinstance(value, torch.Tensor):
        return value.shape
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], torch.Tensor):
        return [item.shape if isinstance(item, torch.Tensor) else item for item in value]
    return value


COMPLEX_NOTE = (
    "mult-adds of complex ops are real multiply-accumulates "
    "(complex x complex = 4, complex x real = 2)"
)


def complex_factor(args: tuple[Any, ...], out: Any) -> int:
    """Real multiply-accumulates in one MAC of an op's formula: 4 when its
    operands are complex (``(a+bi)(c+di)`` takes ``ac``, ``bd``, ``ad``,
    ``bc``), 2 when complex operands meet real ones, else 1 (a real matrix's
    eigendecomposition has complex outputs but real arithmetic).

    Example:
        >>> import torch
        >>> a = torch.ones(2, 2, dtype=torch.cfloat)
        >>> complex_factor((a, a), a @ a), complex_factor((a.real, a.real), a.real @ a.real)
        (4, 1)
    """
    complex_operands = real_operands = 0
    for arg in args:
        if isinstance(arg, Tensor):
            if arg.is_complex():
                complex_operands += 1
            else:
                real_operands += 1
    if not complex_operands:
        return 1
    return 2 if real_operands else 4


def count_macs(
    formula: MacsFormula, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any
) -> int:
    """Applies ``formula`` to the shapes of one op call."""
    return int(formula_on_call(formula, args, kwargs, out))


def formula_on_call(
    formula: MacsFormula, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any
) -> Any:
    """``formula`` on the shapes of one op call's tensors as they are: an int,
    or a ``torch.SymInt`` where the tensors have symbolic sizes (fake tensors
    of a shape environment)."""
    shaped_args = []  # a loop, not a comprehension: no frame of its own on 3.11
    for arg in args:
        if isinstance(arg, Tensor):
            if arg.is_nested:
                return _count_nested_macs(formula, args, kwargs, out)
            shaped_args.append(arg.shape)
        else:
            shaped_args.append(_shape_of(arg))
    if isinstance(out, Tensor):
        out_shape: Any = out.shape
    elif isinstance(out, (list, tuple)):
        out_shape = tuple(_shape_of(item) for item in out)
    else:
        out_shape = out
    if kwargs:
        shaped_kwargs = {key: _shape_of(value) for key, value in kwargs.items()}
        return formula(*shaped_args, out_shape=out_shape, **shaped_kwargs)
    return formula(*shaped_args, out_shape=out_shape)


def apply_formula(
    formula: MacsFormula, shaped_args: list[Any], shaped_kwargs: dict[str, Any], out_shape: Any
) -> Any:
    """``formula`` on shapes given directly (tuples of ints or of symbolic sizes,
    e.g. sympy expressions), as an exported graph records them: the result is
    an int, or an expression in the symbolic sizes.

    Example:
        >>> import torch, sympy
        >>> from summaryplus.formulas import formula_for
        >>> batch = sympy.Symbol("s0")
        >>> mm = formula_for(torch.ops.aten.mm.default)
        >>> apply_formula(mm, [(batch, 8), (8, 4)], {}, (batch, 4))
        32*s0
    """
    return formula(*shaped_args, out_shape=out_shape, **shaped_kwargs)


def _count_nested_macs(
    formula: MacsFormula, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any
) -> int:
    """An op on nested tensors does the work of one call per component (one
    sequence each, its real length, no padding): the formula is applied to each
    component's shapes and the results are added."""

    count = max(int(arg.size(0)) for arg in args if isinstance(arg, Tensor) and arg.is_nested)

    def component(value: Any, index: int) -> Any:
        if isinstance(value, Tensor):
            return nested_component_shapes(value)[index] if value.is_nested else value.shape
        return _shape_of(value)

    total = 0
    for index in range(count):
        shaped_args = [component(arg, index) for arg in args]
        if isinstance(out, (list, tuple)):
            out_shape: Any = tuple(component(item, index) for item in out)
        else:
            out_shape = component(out, index)
        shaped_kwargs = {key: component(value, index) for key, value in kwargs.items()}
        total += int(formula(*shaped_args, out_shape=out_shape, **shaped_kwargs))
    return total


