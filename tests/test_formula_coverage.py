"""No matmul-family op can be silently zero.

Walks every op torch registers in the namespaces that hold matrix products
(``aten``, ``quantized``, ``_quantized``, ``prims``) whose name looks like one
(``mm``, ``matmul``, ``conv``, ``linear``, ``attention``, ``einsum``, ``bmm``) and
checks that each one is counted (a formula, or a composite kernel whose parts
are counted), or stands below with a reviewed reason. A new torch that adds
such an op fails here until someone decides what it costs.
"""

from __future__ import annotations

import re

import pytest
import torch

from summaryplus.capture.fallbacks import has_composite_kernel
from summaryplus.formulas import aten_op, formula_for, is_zero_mac

FAMILY = re.compile(
    r"mm|matmul|conv|linear|attention|einsum|bmm"
    # Dense linear algebra: factorizations, solves, inverses, decompositions.
    r"|linalg_|cholesky|triangular|^p?inverse$|(^|_)(lu|qr|geqrf|svd|eig|eigvals|eigh|det"
    r"|slogdet|logdet|lstsq|solve|spsolve|matrix_exp|matrix_power|householder_product"
    r"|ormqr|orgqr)(_|$)"
)
NAMESPACES = ("aten", "quantized", "_quantized", "prims")


def _reviewed(reason: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, reason)


# Ops whose name matches the family but that do no multiply-accumulates: the
# zero-MAC classifier may match these and nothing else of the family.
FREE: dict[str, str] = {
    **_reviewed(
        "packs, unpacks or re-lays out a weight; the packed matmul has a formula",
        "_quantized::_wrapped_linear_prepack", "_quantized::conv2d_prepack",
        "_quantized::conv3d_prepack", "_quantized::conv_transpose1d_prepack",
        "_quantized::conv_transpose2d_prepack", "_quantized::conv_transpose3d_prepack",
        "_quantized::linear_prepack", "_quantized::linear_prepack_fp16",
        "_quantized::linear_prepack_fp16_legacy", "_quantized::linear_prepack_legacy",
        "_quantized::wrapped_fbgemm_pack_gemm_matrix_fp16", "aten::_wrapped_linear_prepack",
        "aten::_convert_weight_to_int4pack", "aten::_convert_weight_to_int4pack_for_cpu",
        "aten::fbgemm_linear_quantize_weight", "aten::fbgemm_pack_gemm_matrix_fp16",
        "aten::fbgemm_pack_quantized_matrix", "aten::mkldnn_reorder_conv2d_weight",
        "aten::mkldnn_reorder_conv3d_weight", "quantized::conv1d_prepack",
        "quantized::conv1d_unpack", "quantized::conv2d_prepack", "quantized::conv2d_unpack",
        "quantized::conv2d_unpack_sizes", "quantized::conv3d_prepack",
        "quantized::conv3d_unpack", "quantized::conv_prepack",
        "quantized::conv_transpose1d_prepack", "quantized::conv_transpose1d_unpack",
        "quantized::conv_transpose2d_prepack", "quantized::conv_transpose2d_unpack",
        "quantized::conv_transpose3d_prepack", "quantized::conv_transpose3d_unpack",
        "quantized::conv_unpack", "quantized::linear_prepack", "quantized::linear_prepack_fp16",
        "quantized::linear_prepack_fp16_legacy", "quantized::linear_prepack_legacy",
        "quantized::linear_unpack", "quantized::linear_unpack_fp16",
    ),
    **_reviewed(
        "not a product: 'mm' in the name of an elementwise gamma function",
        "aten::_foreach_lgamma", "aten::_foreach_lgamma_", "aten::_standard_gamma",
        "aten::_standard_gamma_grad", "aten::digamma", "aten::digamma_", "aten::igamma",
        "aten::igamma_", "aten::igammac", "aten::igammac_", "aten::lgamma", "aten::lgamma_",
        "aten::mvlgamma", "aten::mvlgamma_", "aten::polygamma", "aten::polygamma_",
        "prims::digamma", "prims::igamma", "prims::igammac", "prims::lgamma",
    ),
    **_reviewed(
        "not a product: 'mm' in a cumulative max/min scan",
        "aten::_cummax_helper", "aten::_cummin_helper", "aten::cummax", "aten::cummin",
        "aten::cummaxmin_backward",
    ),
    **_reviewed(
        "not a product: 'linear' interpolation (upsampling), weighted sums of 2-8 neighbours",
        "aten::_upsample_bilinear2d_aa", "aten::_upsample_bilinear2d_aa_backward",
        "aten::upsample_bilinear2d", "aten::upsample_bilinear2d_backward",
        "aten::upsample_linear1d", "aten::upsample_linear1d_backward",
        "aten::upsample_trilinear3d", "aten::upsample_trilinear3d_backward",
    ),
    **_reviewed(
        "not a product: 'conv' in a conversion (dtype, sparse index format)",
        "prims::convert_element_type", "aten::_convert_indices_from_coo_to_csr",
        "aten::_convert_indices_from_csr_to_coo",
    ),
    **_reviewed(
        "no compute: a factory, an algorithm search or a nested-tensor placeholder",
        "aten::hamming_window", "aten::_cslt_sparse_mm_search", "aten::_nested_get_jagged_dummy",
    ),
    **_reviewed(
        "linear algebra without products: a view of a diagonal, a vector norm or sum "
        "of powers, a 3-vector cross product (two products per output element, "
        "elementwise), unpacking LU factors by masking, checking info codes",
        "aten::linalg_diagonal", "aten::linalg_vector_norm", "aten::linalg__powsum",
        "aten::linalg_cross", "aten::lu_unpack", "aten::_linalg_check_errors",
    ),
}

# Products that have no formula: they are reported as uncounted (the total says
# partial), never as zero.
UNCOUNTED: dict[str, str] = {
    **_reviewed(
        "sparse x sparse or sampled products: MACs depend on the number of non-zeros",
        "aten::_sparse_sparse_matmul", "aten::sparse_sampled_addmm",
        "aten::_sparse_mm_reduce_impl", "aten::_sparse_mm_reduce_impl_backward",
    ),
    **_reviewed(
        "backward kernels reached only on MPS or by nested-tensor matmul's backward",
        "aten::matmul_backward", "aten::mps_convolution_backward",
        "aten::mps_convolution_transpose_backward",
    ),
    **_reviewed(
        "a sparse solve: its cost depends on the non-zeros and their fill-in",
        "aten::_spsolve",
    ),
    **_reviewed(
        "scaling and squaring: how many products it takes depends on the matrix's norm "
        "(a value, not a shape)",
        "aten::linalg_matrix_exp",
    ),
}


def family_ops() -> list[str]:
    names = {name.split(".")[0] for name in torch._C._dispatch_get_all_op_names()}
    return sorted(
        name
        for name in names
        if name.partition("::")[0] in NAMESPACES and FAMILY.search(name.partition("::")[2])
    )


@pytest.mark.parametrize("name", family_ops())
def test_every_matmul_family_op_is_counted_or_reviewed(name: str) -> None:
    packet = aten_op(name)
    assert packet is not None
    overloads = [getattr(packet, overload) for overload in packet.overloads()]
    op = overloads[0]
    if is_zero_mac(op):
        assert name in FREE, f"{name} is classified as free of MACs without a review"
        return
    assert name not in FREE, f"{name} is reviewed as free but not classified so"
    counted = formula_for(op) is not None or any(has_composite_kernel(o) for o in overloads)
    if counted:
        assert name not in UNCOUNTED, f"{name} is counted now: drop its review"
    else:
        assert name in UNCOUNTED, f"{name} has no formula and no reviewed reason"


def test_reviewed_ops_exist_on_this_torch() -> None:
    # A stale review would hide nothing, but it would mislead its reader.
    ops = set(family_ops())
    assert set(FREE) <= ops
    assert set(UNCOUNTED) <= ops
