"""Dense linear algebra (``torch.linalg``): factorizations, solves, inverses,
eigen- and singular-value decompositions, in multiply-accumulates.

Every count is per matrix, times the batch (the leading dimensions). Direct
methods are counted exactly from the work their LAPACK routines do:

- a triangular solve (xTRTRS) with ``k`` right-hand sides does ``k*n(n+1)/2``
  multiplications (LAPACK Working Note 41, Blackford & Dongarra, "Installation
  Guide for LAPACK", table of operation counts: xTRTRS; divisions counted as
  multiplications, as there);
- Cholesky (xPOTRF) ``n^3/6 + n^2/2 + n/3 = n(n+1)(n+2)/6`` (LAWN 41: xPOTRF);
- LU (xGETRF) of ``[m, n]``: step ``j`` updates the trailing
  ``(m-j) x (n-j)`` block, ``sum_j (m-j)(n-j)`` MACs (Golub & Van Loan, Matrix
  Computations, 4th ed. (GVL), section 3.2: ``2n^3/3`` flops for a square
  matrix, the same to leading order);
- a Householder reflector applied to an ``r x c`` block costs ``2*r*c``
  (``v^T A`` and the rank-1 update; GVL section 5.1), so Householder QR
  (xGEQRF) is ``sum_j 2(m-j)(n-j)`` (GVL section 5.2: ``2n^2(m - n/3)``
  flops), forming Q (xORGQR) and applying it (xORMQR) likewise.

Iterative methods (symmetric and general eigenvalues, the SVD) have no exact
count; they are the standard estimates of GVL: symmetric QR algorithm
``4n^3/3`` flops for eigenvalues, ``9n^3`` with eigenvectors (GVL section
8.3); the Francis QR algorithm ``10n^3`` and ``25n^3`` (GVL section 7.5); the
Golub-Kahan-Reinsch SVD ``4mn^2 - 4n^3/3`` for singular values,
``14mn^2 + 8n^3`` with thin U and V, ``4m^2n + 8mn^2 + 9n^3`` with full U (GVL
section 8.6). MACs are half the flops.

NB: LAPACK's blocked routines do the same arithmetic as these unblocked
counts, to leading order.
"""

from __future__ import annotations

from math import prod
from typing import Any

from .registry import register_macs

Shape = tuple[int, ...]


def _batch(shape: Shape) -> int:
    return prod(shape[:-2])


def _trailing(m: int, n: int, k: int) -> int:
    """``sum_{j<k} (m-j)(n-j)``: the entries of the trailing blocks a
    factorization updates in its first ``k`` steps."""
    # sum(m n - (m + n) j + j^2) over j = 0 .. k-1
    return (
        k * m * n
        - (m + n) * (k * (k - 1) // 2)
        + (k - 1) * k * (2 * k - 1) // 6
    )


def _triangular_solve(n: int, rhs: int) -> int:
    return rhs * n * (n + 1) // 2


def _cholesky(n: int) -> int:
    return n * (n + 1) * (n + 2) // 6


def _lu(m: int, n: int) -> int:
    return _trailing(m, n, min(m, n))


def _householder_qr(m: int, n: int) -> int:
    return 2 * _trailing(m, n, min(m, n))


def _apply_reflectors(rows: int, cols: int, reflectors: int) -> int:
    """``reflectors`` Householder reflectors (the ``j``-th of length ``rows-j``)
    applied from the left to ``[rows, cols]``."""
    return 2 * cols * (reflectors * rows - reflectors * (reflectors - 1) // 2)


def _solve_sizes(a: Shape, b: Shape, left: bool) -> tuple[int, int]:
    """``A X = B`` (left) or ``X A = B``: the order n and the right-hand sides."""
    n = a[-1]
    if len(b) == 1:  # a vector right-hand side
        return n, 1
    return n, (b[-1] if left else b[-2])


@register_macs("linalg_solve_triangular")
def solve_triangular_macs(
    a: Shape, b: Shape, *args: Any, out_shape: Shape, left: bool = True, **kwargs: Any
) -> int:
    """``A [*, n, n]`` triangular, ``B [*, n, k]``: ``k * n(n+1)/2`` (xTRTRS)."""
    n, rhs = _solve_sizes(a, b, left)
    return _batch(out_shape) * _triangular_solve(n, rhs)


@register_macs("triangular_solve")
def legacy_triangular_solve_macs(b: Shape, a: Shape, *args: Any, out_shape: Any,
                                 **kwargs: Any) -> int:
    # torch.triangular_solve(B, A): the solution first among its outputs.
    n, rhs = a[-1], b[-1]
    return _batch(out_shape[0]) * _triangular_solve(n, rhs)


@register_macs(
    "linalg_cholesky_ex", "linalg_ldl_factor_ex", optional=("cholesky",)  # gone in torch 2.14
)
def cholesky_macs(a: Shape, *args: Any, **kwargs: Any) -> int:
    """``n(n+1)(n+2)/6`` (xPOTRF); an LDL^T factorization (xSYTRF, Bunch-
    Kaufman) does the same ``n^3/6`` to leading order (GVL section 4.4)."""
    return _batch(a) * _cholesky(a[-1])


@register_macs("cholesky_solve", "_cholesky_solve_helper")
def cholesky_solve_macs(b: Shape, factor: Shape, *args: Any, out_shape: Shape,
                        **kwargs: Any) -> int:
    """Two triangular solves with the factor: ``k * n(n+1)`` (xPOTRS)."""
    n, rhs = factor[-1], b[-1]
    return _batch(out_shape) * 2 * _triangular_solve(n, rhs)


@register_macs("cholesky_inverse")
def cholesky_inverse_macs(factor: Shape, *args: Any, **kwargs: Any) -> int:
    """Inverting the triangular factor (xTRTRI) and multiplying it by its
    transpose (xLAUUM), ``n(n+1)(n+2)/6`` each (LAWN 41)."""
    return _batch(factor) * 2 * _cholesky(factor[-1])


@register_macs("linalg_lu_factor_ex", "linalg_lu", "_linalg_det", "_linalg_slogdet")
def lu_macs(a: Shape, *args: Any, **kwargs: Any) -> int:
    """``[m, n]``: ``sum_j (m-j)(n-j)`` (xGETRF); a determinant is its LU."""
    return _batch(a) * _lu(a[-2], a[-1])


@register_macs("linalg_lu_solve", "linalg_ldl_solve")
def lu_solve_macs(factor: Shape, pivots: Shape, b: Shape, *args: Any, out_shape: Shape,
                  left: bool = True, **kwargs: Any) -> int:
    """Two triangular solves, one with a unit diagonal: ``k * n^2`` (LAWN 41:
    xGETRS; xSYTRS likewise)."""
    n, rhs = _solve_sizes(factor, b, left)
    return _batch(out_shape) * rhs * n * n


@register_macs("_linalg_solve_ex")
def solve_macs(a: Shape, b: Shape, *args: Any, out_shape: Any, left: bool = True,
               **kwargs: Any) -> int:
    """LU of ``A`` then two triangular solves (xGESV = xGETRF + xGETRS)."""
    n, rhs = _solve_sizes(a, b, left)
    return _batch(out_shape[0]) * (_lu(n, n) + rhs * n * n)


@register_macs("linalg_inv_ex")
def inverse_macs(a: Shape, *args: Any, **kwargs: Any) -> int:
    """LU, then the inverse from it: ``n^3/3 + 2n^3/3`` to leading order
    (LAWN 41: xGETRF, xGETRI)."""
    n = a[-1]
    return _batch(a) * (_lu(n, n) + 2 * n * n * n // 3)


@register_macs("geqrf")
def geqrf_macs(a: Shape, *args: Any, **kwargs: Any) -> int:
    """Householder QR: ``sum_j 2(m-j)(n-j)`` (xGEQRF)."""
    return _batch(a) * _householder_qr(a[-2], a[-1])


@register_macs("linalg_householder_product")
def householder_product_macs(a: Shape, tau: Shape, *args: Any, **kwargs: Any) -> int:
    """``Q [m, n]`` from ``k`` reflectors, accumulated backward: reflector ``j``
    acts on a ``(m-j) x (n-j)`` block (xORGQR)."""
    m, n, k = a[-2], a[-1], tau[-1]
    return _batch(a) * 2 * _trailing(m, n, k)


@register_macs("ormqr")
def ormqr_macs(reflectors: Shape, tau: Shape, c: Shape, left: bool = True, *args: Any,
               **kwargs: Any) -> int:
    """``Q C`` or ``C Q`` with ``Q`` given as ``k`` reflectors (xORMQR)."""
    k = tau[-1]
    rows, cols = (c[-2], c[-1]) if left else (c[-1], c[-2])
    return _batch(c) * _apply_reflectors(rows, cols, k)


@register_macs("linalg_qr")
def qr_macs(a: Shape, mode: str = "reduced", *args: Any, **kwargs: Any) -> int:
    """Householder QR, then Q formed from its reflectors: ``[m, min(m, n)]``
    (``reduced``) or ``[m, m]`` (``complete``); ``mode="r"`` forms none."""
    m, n = a[-2], a[-1]
    p = min(m, n)
    macs = _householder_qr(m, n)
    if mode != "r":
        macs += 2 * _trailing(m, m if mode == "complete" else p, p)
    return _batch(a) * macs


@register_macs("linalg_lstsq")
def lstsq_macs(a: Shape, b: Shape, *args: Any, **kwargs: Any) -> int:
    """Least squares through Householder QR (GVL section 5.3): QR of ``A [m, n]``,
    ``Q^T B`` and a triangular solve, for ``k`` right-hand sides.

    NB: the CPU's default driver (``gelsy``) pivots columns, at the same cost;
    the SVD drivers (``gelsd``, ``gelss``) cost more and are counted as this.
    """
    m, n = a[-2], a[-1]
    rhs = b[-1] if len(b) > 1 and len(b) == len(a) else 1
    p = min(m, n)
    macs = _householder_qr(m, n) + _apply_reflectors(m, rhs, p) + _triangular_solve(p, rhs)
    return _batch(a) * macs


@register_macs("_linalg_eigh")
def eigh_macs(a: Shape, uplo: str = "L", compute_v: bool = True, *args: Any,
              **kwargs: Any) -> int:
    """Symmetric/Hermitian eigenvalues: ``4n^3/3`` flops, ``9n^3`` with the
    eigenvectors (GVL section 8.3). NB: an iterative method; the standard
    estimate."""
    n = a[-1]
    flops = 9 * n**3 if compute_v else 4 * n**3 // 3
    return _batch(a) * (flops // 2)


@register_macs("linalg_eig", "_linalg_eigvals")
def eig_macs(a: Shape, *args: Any, out_shape: Any, **kwargs: Any) -> int:
    """General eigenvalues, Francis QR: ``10n^3`` flops, ``25n^3`` with the
    eigenvectors (GVL section 7.5). NB: an iterative method; the standard
    estimate."""
    n = a[-1]
    vectors = isinstance(out_shape, tuple) and len(out_shape) == 2 and not isinstance(
        out_shape[0], int
    )
    flops = 25 * n**3 if vectors else 10 * n**3
    return _batch(a) * (flops // 2)


@register_macs("_linalg_svd", optional=("prims::svd",))
def svd_macs(a: Shape, full_matrices: bool = False, compute_uv: bool = True, *args: Any,
             **kwargs: Any) -> int:
    """Golub-Kahan-Reinsch SVD of ``[m, n]`` (``p = min``, ``q = max``):
    ``4qp^2 - 4p^3/3`` flops for the singular values, ``14qp^2 + 8p^3`` with
    thin U and V, ``4q^2p + 8qp^2 + 9p^3`` with full U (GVL section 8.6).
    NB: an iterative method; the standard estimate."""
    p, q = min(a[-2], a[-1]), max(a[-2], a[-1])
    if not compute_uv:
        flops = 4 * q * p * p - 4 * p**3 // 3
    elif full_matrices:
        flops = 4 * q * q * p + 8 * q * p * p + 9 * p**3
    else:
        flops = 14 * q * p * p + 8 * p**3
    return _batch(a) * (flops // 2)


@register_macs(optional=("linalg_matrix_sqrth",))  # torch >= 2.14
def matrix_sqrth_macs(a: Shape, *args: Any, **kwargs: Any) -> int:
    """Square root of a symmetric/Hermitian ``[n, n]`` matrix as
    ``V diag(sqrt(w)) V^H``: the eigendecomposition (:func:`eigh_macs`, with
    vectors) and one ``n x n x n`` product (the diagonal scaling is
    elementwise). NB: an iterative method underneath; the standard estimate."""
    n = a[-1]
    return eigh_macs(a) + _batch(a) * n**3


@register_macs(optional=("linalg_polar",))  # torch >= 2.14
def polar_macs(a: Shape, *args: Any, **kwargs: Any) -> int:
    """Polar decomposition ``A = U H`` of ``[m, n]`` from the thin SVD
    ``W S V^H`` (:func:`svd_macs`): ``U = W V^H`` (``m x k x n``) and
    ``H = V S V^H`` (``n x k x n``), ``k = min(m, n)``. NB: an iterative
    method underneath; the standard estimate."""
    m, n = a[-2], a[-1]
    k = min(m, n)
    return svd_macs(a) + _batch(a) * (m * k * n + n * k * n)
