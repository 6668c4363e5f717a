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
from . import attention, convolution, grouped, linalg, matmul, quantized, recurrent  # noqa: F401
from .custom import custom_formulas, register_formula, unregister_formula
from .registry import (
    COMPLEX_NOTE,
    MacsFormula,
    apply_formula,
    aten_op,
    complex_factor,
    count_macs,
    formula_for,
    formula_on_call,
    register_macs,
    registered_ops,
    registry_version,
    user_formulas_for,
)
from .sparse import SPARSE_WITHOUT_DATA, sparse_fraction, stored_elements
from .zero import is_zero_mac

__all__ = [
    "COMPLEX_NOTE",
    "SPARSE_WITHOUT_DATA",
    "MacsFormula",
    "apply_formula",
    "aten_op",
    "complex_factor",
    "count_macs",
    "custom_formulas",
    "formula_for",
    "formula_on_call",
    "is_zero_mac",
    "register_formula",
    "register_macs",
    "registered_ops",
    "registry_version",
    "sparse_fraction",
    "stored_elements",
    "unregister_formula",
    "user_formulas_for",
]
