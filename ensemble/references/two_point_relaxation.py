"""The relaxation rate of the two-point function of the Anderson chain (Delta = 0) with a dephased site.

At Delta = 0, after Jordan-Wigner (up = occupied), the chain is free fermions with the single-particle
matrix Q of :func:`ensemble.models.free_fermion.hopping_matrix` (on-site h_j, hopping J/2, open ends;
units of J). Under the Lindbladian of :mod:`ensemble.references.lindblad`,

.. math::

    \\dot\\rho = -i [H_0, \\rho] - \\kappa [A, [A, \\rho]], \\qquad A = S^z_b = n_b - 1/2, \\qquad
    \\kappa = \\gamma^2 / 2,

the correlation matrix ``G_ij = <c_j^dagger c_i>`` (the convention of
:mod:`ensemble.references.lindblad`; its transpose obeys the same equation) obeys the closed linear
equation

.. math::

    \\dot G = \\mathcal{K} G = -i [Q, G] - \\kappa\\, M \\circ G, \\qquad
    M_{ij} = (\\delta_{ib} - \\delta_{jb})^2,

because ``[n_b, c_i^dagger c_j] = (delta_ib - delta_jb) c_i^dagger c_j``. With ``vec`` row-major
and ``P = e_b e_b^T``, the L^2 x L^2 generator is a Kronecker sum plus a rank-one term,

.. math::

    \\mathcal{K} = X \\otimes 1 + 1 \\otimes \\bar X + 2\\kappa\\, (P \\otimes P), \\qquad
    X = -i Q - \\kappa P,

(``M o G = P G + G P - 2 P G P``). The **two-point rate** is its gap,

.. math::

    \\Gamma_2 = -\\max \\{ \\operatorname{Re} \\lambda : \\lambda \\in \\operatorname{spec} \\mathcal{K},\\
    \\lambda \\neq 0 \\text{ (the steady state)} \\},

in units of J. Every eigenvalue of ``K`` is an eigenvalue of the many-body Lindbladian on the
Sz_tot = 0 block (one-body operators act faithfully on every sector with 0 < N < L particles), so
``Gamma_2`` is the gap of an invariant subspace and ``Gamma_2 >= Gamma``, the many-body gap of
:func:`ensemble.references.relaxation.exact_relaxation_rate`.

**The zero eigenvalue.** ``tr G`` is conserved (``M_ii = 0``) and ``G = 1`` is stationary. For an
eigenvalue with ``Re lambda = 0``, ``Re <G, K G> = -kappa ||M o G||^2`` forces ``G e_b = g e_b`` and
``-i[Q, G] = lambda G``; if e_b is cyclic for Q (every eigenvector of Q is nonzero at b), the
Krylov vectors ``Q^k e_b`` span C^L and G is fixed by g: ``lambda = 0`` and ``G = g 1``. So the
zero eigenvalue is simple and every other eigenvalue has ``Re lambda < 0``. e_b is cyclic whenever
b = 1 or b = L (a Jacobi matrix's eigenvectors never vanish at an end); for an interior b it fails
only when the two sub-chains left and right of b share an eigenvalue (e.g. mirror-symmetric
fields), a set of measure zero for random fields; then a dark orbital gives a second zero
eigenvalue and the rate is 0 (up to ``resolution``), which both methods return. The steady state
is removed by a Hotelling deflation: ``K' = K - (s_0 / L) vec(1) vec(1)^T`` with ``s_0 = 2 kappa + 1``
(``vec(1)`` is the left and the right eigenvector of 0, and every other right eigenvector is
traceless) moves 0 to ``-s_0``, left of the whole spectrum (``-kappa <= Re lambda <= 0``), and leaves
every other eigenvalue where it is; the rate is then ``-max Re spec K'``.

Methods
-------
``"dense"``: every eigenvalue of the deflated ``K'`` (LAPACK ``geev``, complex L^2 x L^2):
``O(L^6)`` time and ``O(L^4)`` memory, L <= ~40 (L = 40 is a 1600 x 1600 matrix).

``"secular"``: the eigenbasis of X instead of a sparse solver. ``X = R diag(alpha) R^T`` (X is
complex symmetric; ``R^T R = 1``) diagonalises the Kronecker sum: its eigenvalues are the poles
``p_nm = alpha_n + conj(alpha_m)`` with eigenvectors ``r_n (x) conj(r_m)``. ``K'`` is that sum
plus a rank-two term, so its eigenvalues away from the poles are the roots of the 2 x 2 secular
determinant

.. math::

    \\det \\begin{pmatrix} 1 - 2\\kappa \\sum a_{nm}^2 / (\\lambda - p_{nm}) &
    (s_0/L) \\sum a_{nm} d_{nm} / (\\lambda - p_{nm}) \\\\
    -2\\kappa \\sum a_{nm} d_{nm} / (\\lambda - p_{nm}) &
    1 + (s_0/L) \\sum d_{nm}^2 / (\\lambda - p_{nm}) \\end{pmatrix} = 0,

with ``a_nm = R_bn conj(R_bm)`` and ``d_nm = (R^T conj R)_nm`` (the components of ``e_b (x) e_b``
and of ``vec(1)``). Each root is found by Newton's method from a pole (the pole's own term is
factored out, so the iteration is regular there): ``O(L^3)`` for ``eig(X)`` and ``O(L^2)`` per
Newton step and starting pole, against ``O(L^3)`` per shift for a sparse LU of the L^2 x L^2
matrix (whose graph is an L x L grid) plus an Arnoldi run; at L = 128 a secular rate takes ~0.5 s.
A shift-invert solver near 0 (``eigs(sigma=...)``) was not used for a second reason: in a localized
chain almost all L^2 eigenvalues crowd along the imaginary axis (coherences ``<c_n^dagger c_m>``
between orbitals far from the bath, with Bohr frequencies ``|Im lambda| = |E_n - E_m|`` of order W
and nearly vanishing real parts), so eigenvalues nearest a shift are not those with the largest real
part; it finds the gap only when the slowest mode is real (a population mode). That was so in every
resolved case checked (W = 1, L = 8-16, 120 realizations: ``Im lambda = 0``), but nothing
guarantees it. The starting poles here are the ``2L + 8`` with the largest real part (slow
coherences and populations) together with the ``2L + 8`` with the largest bath weight ``|a_nm|``
(the poles that the bath moves most), whatever their frequency.

*Limitation.* The secular method finds the roots near those poles; it does not prove that no
other root lies further right (a root far from every starting pole would be missed). The guard
is a comparison with the dense method where both run
(``tests/ensemble/test_two_point_relaxation.py``: equal to 1e-10 relative, up to a few times
``resolution``, at L = 5, 10, 20 over several W and bath sites; also, by hand, 45 realizations at
L = 4-30, W = 0.5-8), and the requirement that Newton converges from every starting pole right of
the slowest root found (else it raises). It also needs X diagonalizable with ``r_n^T r_n != 0``
(no exceptional point of X); where that fails it raises and the dense method applies.

**Precision.** Both methods return an eigenvalue of a non-normal matrix in double precision, with
an absolute error of order ``resolution = eps * ||K||_1`` (~1e-15 for W of order 1): a rate below a
few times the resolution is not resolved (it is exponentially small in L in a localized chain).
The secular method takes the real parts of the poles from Rayleigh quotients
(``Re alpha_n = -kappa |R_bn|^2 / ||r_n||^2``, no cancellation), but the population roots lie far
from their poles (the deflation couples them), so its rates carry the same absolute error: values
it returns below the resolution (often ~1e-30, or slightly negative) are rounding, not physics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la

from ensemble.models.free_fermion import hopping_matrix
from ensemble.validation import choice, integer, real

__all__ = ["TwoPointRate", "two_point_generator", "two_point_relaxation_rate", "DENSE_MAX_L"]

#: Largest L for which ``method="auto"`` uses the dense method (an L^2 = 400 matrix).
DENSE_MAX_L = 20
_EPS = float(np.finfo(np.float64).eps)
#: Starting poles per criterion (largest real part, largest bath weight) of the secular method: 2L + this.
_EXTRA_SEEDS = 8
_MAX_NEWTON = 60
_NEWTON_RTOL = 1e-9
_SEED_CHUNK = 64


@dataclass(frozen=True)
class TwoPointRate:
    """The gap of the two-point generator of one realization.

    Attributes
    ----------
    rate : float
        ``Gamma_2 = -max Re(lambda)`` over the eigenvalues ``lambda != 0`` (units of J).
    eigenvalue : complex
        The slowest eigenvalue (its imaginary part is the mode's Bohr frequency).
    method : str
        ``"dense"`` or ``"secular"``.
    resolution : float
        ``eps * ||K||_1``, the scale of the absolute rounding error of ``rate``.
    """

    rate: float
    eigenvalue: complex
    method: str
    resolution: float


def _validate(fields, gamma, J, bath_site) -> tuple[np.ndarray, float, float, int]:
    arr = np.asarray(fields, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"fields must be a 1-D array of on-site fields; got shape {arr.shape}")
    if arr.size < 2:
        raise ValueError(f"the chain needs L = len(fields) >= 2 sites; got L={arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("fields must be finite (found NaN or inf)")
    gamma = real("gamma", gamma)
    if gamma <= 0.0:
        raise ValueError(f"gamma must be > 0 (without the bath there is no unique steady state); got gamma={gamma}")
    J = real("J", J)
    if J == 0.0:
        raise ValueError("J must be nonzero (a disconnected chain has no unique steady state)")
    bath_site = integer("bath_site", bath_site, minimum=1, maximum=arr.size)
    return arr, gamma, J, bath_site


def _one_norm(Q: np.ndarray, b: int, kappa: float) -> float:
    """``||K||_1``: column (i, j) holds ``Q_ki`` (k != i), ``Q_jl`` (l != j) and the diagonal entry."""
    off = np.abs(Q).sum(axis=0) - np.abs(np.diagonal(Q))
    h = np.diagonal(Q)
    mask = np.zeros(Q.shape, dtype=bool)
    mask[b, :] = mask[:, b] = True
    mask[b, b] = False
    diag = np.abs(-1j * (h[:, None] - h[None, :]) - kappa * mask)
    return float(np.max(off[:, None] + off[None, :] + diag))


def two_point_generator(fields, *, gamma: float, J: float = 1.0, bath_site: int = 1) -> np.ndarray:
    """The dense L^2 x L^2 generator K of ``dG/dt = -i[Q, G] - kappa M o G`` (module docstring).

    Parameters
    ----------
    fields : array of shape (L,)
        On-site fields h_j (units of J); ``fields[j-1]`` is site j. L >= 2 (any parity).
    gamma : float
        Bath coupling, > 0; the Lindblad coefficient is ``kappa = gamma^2 / 2``.
    J : float
        Exchange coupling (hopping J/2).
    bath_site : int
        The dephased site b, 1..L.

    Returns
    -------
    numpy.ndarray
        Complex ``(L^2, L^2)``, acting on ``G.ravel()`` (row-major), ``G_ij = <c_j^dagger c_i>``.
    """
    fields, gamma, J, bath_site = _validate(fields, gamma, J, bath_site)
    return _generator(hopping_matrix(fields, J), bath_site - 1, 0.5 * gamma**2)


def _generator(Q: np.ndarray, b: int, kappa: float) -> np.ndarray:
    L = Q.shape[0]
    eye = np.eye(L)
    mask = np.zeros((L, L))
    mask[b, :] = mask[:, b] = 1.0
    mask[b, b] = 0.0
    return -1j * (np.kron(Q, eye) - np.kron(eye, Q)) - kappa * np.diag(mask.ravel())


def two_point_relaxation_rate(
    fields, *, gamma: float, J: float = 1.0, bath_site: int = 1, method: str = "auto"
) -> TwoPointRate:
    """The gap Gamma_2 of the two-point generator of the Delta = 0 chain (module docstring).

    Parameters
    ----------
    fields : array of shape (L,)
        On-site fields h_j (units of J); ``fields[j-1]`` is site j. L >= 2, finite.
    gamma : float
        Bath coupling of the stepper, > 0 (Lindblad coefficient ``kappa = gamma^2 / 2``).
    J : float
        Exchange coupling, nonzero (hopping J/2).
    bath_site : int
        The dephased site b, 1..L.
    method : {"auto", "dense", "secular"}
        ``"auto"``: dense up to L = :data:`DENSE_MAX_L`, else secular.

    Returns
    -------
    TwoPointRate

    Raises
    ------
    ValueError
        On invalid arguments.
    FloatingPointError
        If the secular method meets a (near-)exceptional point of X or a root does not converge.
    """
    fields, gamma, J, bath_site = _validate(fields, gamma, J, bath_site)
    method = choice("method", method, ("auto", "dense", "secular"))
    L = fields.size
    if method == "auto":
        method = "dense" if L <= DENSE_MAX_L else "secular"
    kappa = 0.5 * gamma**2
    Q = hopping_matrix(fields, J)
    b = bath_site - 1
    s0 = 2.0 * kappa + 1.0
    resolution = _EPS * _one_norm(Q, b, kappa)
    if method == "dense":
        K = _generator(Q, b, kappa)
        identity = np.eye(L).ravel()
        K -= (s0 / L) * np.outer(identity, identity)
        eigenvalues = la.eigvals(K, overwrite_a=True, check_finite=False)
    else:
        eigenvalues = _secular_roots(Q, b, kappa, s0, 1e-3 * resolution)
    slowest = complex(eigenvalues[np.argmax(eigenvalues.real)])
    rate = -slowest.real
    if not np.isfinite(rate):
        raise FloatingPointError("the two-point gap is not finite")
    return TwoPointRate(rate=rate, eigenvalue=slowest, method=method, resolution=resolution)


def _secular_roots(Q: np.ndarray, b: int, kappa: float, s0: float, floor: float) -> np.ndarray:
    """Roots of the deflated secular determinant (module docstring) near the selected poles."""
    L = Q.shape[0]
    X = -1j * Q.astype(np.complex128)
    X[b, b] -= kappa
    alpha, R = la.eig(X, check_finite=False)
    norms = np.sum(R * R, axis=0)  # r^T r, the bilinear normalization of a complex symmetric matrix
    sq = np.sum(np.abs(R) ** 2, axis=0)
    if np.any(np.abs(norms) < 1e-6 * sq):
        raise FloatingPointError("X is (near) an exceptional point (r^T r ~ 0): use method='dense'")
    R = R / np.sqrt(norms)
    # Re alpha_n = -kappa |R_bn|^2 / ||r_n||^2 exactly (Rayleigh quotient): no cancellation in the real part.
    alpha = -kappa * np.abs(R[b]) ** 2 / np.sum(np.abs(R) ** 2, axis=0) + 1j * alpha.imag
    p = (alpha[:, None] + alpha.conj()[None, :]).ravel()
    a = (R[b][:, None] * R[b].conj()[None, :]).ravel()
    d = (R.T @ R.conj()).ravel()
    weights = np.stack([a * a, a * d, d * d], axis=1)  # (L^2, 3)
    k = min(L * L, 2 * L + _EXTRA_SEEDS)
    seeds = np.union1d(np.argsort(-p.real, kind="stable")[:k], np.argsort(-np.abs(a), kind="stable")[:k])
    roots = np.empty(seeds.size, dtype=np.complex128)
    converged = np.empty(seeds.size, dtype=bool)
    for start in range(0, seeds.size, _SEED_CHUNK):
        idx = seeds[start:start + _SEED_CHUNK]
        part = slice(start, start + idx.size)
        roots[part], converged[part] = _newton(p, weights, idx, kappa, s0 / L, floor)
    converged &= np.isfinite(roots)
    if not converged.any():
        raise FloatingPointError("no secular root converged: use method='dense'")
    found = roots[converged]
    # A starting pole whose iteration wandered is ignored only if it lies left of the slowest root found.
    if np.any(p[seeds[~converged]].real >= found.real.max()):
        raise FloatingPointError("a secular root near a slow pole did not converge: use method='dense'")
    return found


def _newton(p: np.ndarray, weights: np.ndarray, idx: np.ndarray, kappa: float, s: float, floor: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """Newton's method on ``F_j(lambda) = (lambda - p_j) det(1 - M(lambda))`` from each pole p_j, j in idx.

    With the rest sums ``A, B, D`` (weights ``a^2, a d, d^2``, pole j left out), the own weights
    ``(alpha, beta, delta)`` of pole j (``beta^2 = alpha delta``) and ``e = lambda - p_j``:
    ``F = e [(1 - 2k A)(1 + s D) + 2 k s B^2] + s delta (1 - 2k A) - 2k alpha (1 + s D) + 4 k s B beta``.
    Returns the iterates and whether each converged: two more steps after a step below
    ``_NEWTON_RTOL (|e| + |lambda|) + floor`` (Newton converges quadratically; the extra steps reach
    rounding). ``floor`` (a thousandth of the resolution) stops roots whose steps stall at rounding
    level below the resolution, where the root is not resolved anyway.
    """
    own = weights[idx]  # (n, 3)
    pj = p[idx]
    lam = pj.copy()
    step = np.zeros(idx.size, dtype=np.complex128)
    hits = np.zeros(idx.size, dtype=np.int64)
    two_k = 2.0 * kappa
    active = np.arange(idx.size)
    for _ in range(_MAX_NEWTON):
        x, q = lam[active], pj[active]
        with np.errstate(all="ignore"):  # a root on another pole: that pole's terms are dropped
            inv = 1.0 / (x[:, None] - p[None, :])
            inv[np.arange(active.size), idx[active]] = 0.0
            inv[~np.isfinite(inv)] = 0.0
            S = inv @ weights  # (n, 3): A, B, D
            inv *= inv
            inv[~np.isfinite(inv)] = 0.0
            dS = -(inv @ weights)
            A, B, D = S[:, 0], S[:, 1], S[:, 2]
            dA, dB, dD = dS[:, 0], dS[:, 1], dS[:, 2]
            al, be, de = own[active, 0], own[active, 1], own[active, 2]
            e = x - q
            core = (1 - two_k * A) * (1 + s * D) + two_k * s * B * B
            F = e * core + s * de * (1 - two_k * A) - two_k * al * (1 + s * D) + 2 * two_k * s * be * B
            dcore = -two_k * dA * (1 + s * D) + (1 - two_k * A) * s * dD + 2 * two_k * s * B * dB
            dF = core + e * dcore - two_k * s * de * dA - two_k * al * s * dD + 2 * two_k * s * be * dB
            step[active] = F / dF
        new = x - step[active]
        lam[active] = new
        with np.errstate(invalid="ignore"):
            hits[active] += np.abs(step[active]) <= _NEWTON_RTOL * (np.abs(new - q) + np.abs(new)) + floor
        active = active[(hits[active] < 3) & np.isfinite(lam[active])]
        if active.size == 0:
            break
    done = hits >= 3
    return lam, done
