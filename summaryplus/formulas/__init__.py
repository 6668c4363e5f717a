"""Op -> MACs formulas, in one registry filled by the ``register_macs`` decorator.

A formula is a pure function of shapes: tensor arguments arrive as shape tuples
(lists of tensors as lists of shapes), other arguments as they were passed, and
the output's shape(s) as ``out_shape``. It returns multiply-accumulates.

MACs are counted for the matmul family only (mm, bmm, convolutions, attention
kernels...); elementwise ops, bias adds, normalisation, pooling and data movement
are not MACs, and ``is_zero_mac`` says which ops are known to be of that kind.
"""

from __future__ import annotations

# Importing the families fills the registry.
from . import attention, convolution, grouped, matmul, quantized, recurrent  # noqa: F401
from .registry import (
    MacsFormula,
    apply_formula,
    aten_op,
    count_macs,
    formula_for,
    formula_on_call,
    register_macs,
    registered_ops,
    registry_version,
)
from .zero import is_zero_mac

__all__ = [
    "MacsFormula",
    "apply_formula",
    "aten_op",
    "count_macs",
    "formula_for",
    "formula_on_call",
    "is_zero_mac",
    "register_macs",
    "registered_ops",
    "registry_version",
]
