"""The slowest relaxation rate Gamma of the bath-coupled chain: exact Lindbladian gap and weak coupling.

The chain's density matrix obeys the Lindbladian the noisy kicks unravel (:mod:`ensemble.references.lindblad`,
coefficient gamma^2 / 2, docs/design.md):

.. math::

    \\mathcal{L}[\\rho] = -i [H_0, \\rho] - \\kappa [A, [A, \\rho]], \\qquad A = S^z_b, \\qquad
    \\kappa = \\gamma^2 / 2,

restricted to the Sz_tot = 0 block of rho (the dephasing is diagonal in S^z, so the block is
invariant; it is the block of the Néel start). There the identity is the unique steady state (for
gamma > 0 and a connected chain) and every other eigenvalue has ``-kappa <= Re(lambda) < 0``.
The **relaxation rate** is the Lindbladian gap

.. math::

    \\Gamma = -\\max_{\\lambda \\neq 0} \\operatorname{Re} \\lambda > 0,

so that ``1/Gamma`` is the slowest thermalization time t_s of the avalanche literature (Morningstar,
Colmenarez, Khemani, Luitz and Huse, "Avalanches and many-body resonances in many-body localized
systems", arXiv:2107.05642; Sels, "Bath-induced delocalization in interacting disordered spin
chains", arXiv:2108.10796).

**Exact gap** (:func:`exact_relaxation_rate`). Hermitian matrices ``rho = S + i K`` (S real
symmetric, K real antisymmetric) form a real vector space of dimension Ns^2 that the Lindbladian
maps into itself, and the complex Lindbladian is its complexification, so both have the same
spectrum. In the orthonormal coordinates ``(S_aa, sqrt 2 S_ab, sqrt 2 K_ab)`` (a < b) of the S^z
basis, where H0 is sparse and the dissipator is diagonal (``[A, [A, rho]]_ab = (s_a - s_b)^2 rho_ab``),

.. math::

    \\dot S = [H_0, K] - \\kappa M \\circ S, \\qquad \\dot K = -[H_0, S] - \\kappa M \\circ K,
    \\qquad M_{ab} = (s_a - s_b)^2,

a real sparse Ns^2 x Ns^2 matrix (:func:`hermitian_liouvillian`). Trace preservation makes the
traceless matrices an invariant subspace without the steady state; on it the generator is
nonsingular and the gap is computed

- ``"dense"``: every eigenvalue (LAPACK ``geev`` on the real matrix), L <= 8;
- ``"sparse-lu"``: the ``n_eigenvalues`` eigenvalues closest to 0 by shift-invert Arnoldi (ARPACK,
  shift 0, sparse LU of the real generator), the rate from the one with the largest real part.
  This finds the true gap when the slowest mode is among the eigenvalues nearest 0, which holds for
  the population-like slow modes of the weak-coupling and localized regimes (real eigenvalues, see
  below); a slow coherence with a large Bohr frequency ``|Im lambda|`` would be missed, which the
  dense method cannot do. The LU's fill-in limits it to L <= 8: the superoperator's graph is the
  Cartesian square of the Hamiltonian's, which has no small separators (at L = 10, Ns^2 = 63 504,
  the factorization had used more than 5 GB and 13 minutes of one core without finishing).

**Weak coupling** (:func:`weak_coupling_relaxation_rate`). Write rho in the eigenbasis
``H0 |n> = E_n |n>``. At kappa = 0 the populations ``p_n = rho_nn`` are conserved and a coherence
``rho_nm`` rotates at the Bohr frequency ``E_n - E_m``. To first order in kappa (secular
approximation: degenerate perturbation theory of the Lindbladian in the kernel of ``-i[H0, .]``) the
populations obey the Pauli master equation of the dissipator projected on them. With
``D[rho] = -kappa (A^2 rho + rho A^2 - 2 A rho A)`` and ``rho = sum_m p_m |m><m|``,

.. math::

    (D\\rho)_{nn} = -\\kappa \\Big( 2 (A^2)_{nn} p_n - 2 \\sum_m |A_{nm}|^2 p_m \\Big)
    = \\sum_{m \\neq n} 2\\kappa |A_{nm}|^2 (p_m - p_n),

(the m = n terms cancel), i.e. transitions m -> n at the rate

.. math::

    w_{nm} = 2 \\kappa |\\langle n | S^z_b | m \\rangle|^2 = \\gamma^2 |\\langle n | S^z_b | m \\rangle|^2 ,
    \\qquad n \\neq m.

The generator ``G = w - diag(sum_n w_nm)`` is symmetric (``w_nm = w_mn``: infinite temperature),
so its gap is the second-smallest eigenvalue of ``-G``, a weighted graph Laplacian
(:func:`laplacian_gap`, see Precision). The
coherences decay, to the same order and for non-degenerate Bohr frequencies, at

.. math::

    c_{nm} = \\kappa (A_{nn} - A_{mm})^2 + (\\Gamma_n + \\Gamma_m) / 2, \\qquad
    \\Gamma_n = \\sum_{l \\neq n} w_{ln},

(the diagonal element ``<<nm| D |nm>>``), so the first-order gap of the whole Lindbladian is
``min(gap of G, min c_nm)``; :func:`weak_coupling_relaxation_rate` returns both parts. For a
localized chain the slowest mode is a population mode (the flip of the l-bit farthest from the
bath), while coherences decay at least as fast as the bath's nearest l-bits flip; in small or
weakly disordered chains a coherence can be the slower one (for one spin-1/2 with transverse
dephasing the coherence decays at half the population rate).

*Validity.* The secular step needs the dissipator small compared with the level spacings it
mixes: for the populations ``kappa |A_ln A_nm| << |E_l - E_m|`` for the coherences ``(l, m)`` that
``D`` couples to population n (in practice, kappa small against the many-body level spacings of
states connected by ``A``); for the coherences, kappa small against the differences of the Bohr
frequencies that ``D`` couples (much smaller, so the coherence part is the more fragile). Both
fail at exact degeneracies; the Anderson chain (Delta = 0) has degenerate Bohr frequencies, so
there only the population part applies. The exact gap tends to the weak-coupling one as
gamma -> 0 (``tests/ensemble/test_relaxation.py`` shows the trend).

**Precision.** The exact gap is an eigenvalue of a non-normal matrix computed in double
precision, with an absolute error of order ``eps * ||generator||`` (``resolution``, ~1e-15 here).
The Pauli gap avoids that floor: the generator is a weighted graph Laplacian, whose smallest
nonzero eigenvalue :func:`laplacian_gap` computes to a few eps *relative* accuracy (a factorization
without subtractions, block inverse iteration, a Rayleigh quotient of positive terms), so its
limit is the accuracy of the rates themselves, i.e. of the eigenvectors of H0 near small level
spacings; ``resolution`` estimates that from the gap of a perturbed H0 (which doubles the cost).
A rate below about its resolution is not resolved.

**Cost** (one core; ``benchmarks/relaxation.py`` measures it on the machine at hand): the dense gap
is ``O(Ns^6)``, the sparse-LU gap is dominated by the factorization of an ``Ns^2 x Ns^2`` matrix, and
the weak-coupling gap by ``O(Ns^3)`` dense steps (``eigh`` of H0, ``V^T A V``, the elimination of
:func:`_grounded_factor`), each done twice for the resolution: under a minute at L = 14
(Ns = 3432) on one core; L = 16 (Ns = 12 870) scales to ~50 times that and needs several dense
Ns x Ns matrices of 1.3 GB each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ensemble.models import xxz as model
from ensemble.validation import choice, integer, validate_chain

__all__ = [
    "RelaxationRate",
    "WeakCouplingRate",
    "hermitian_liouvillian",
    "exact_relaxation_rate",
    "pauli_generator",
    "weak_coupling_relaxation_rate",
    "laplacian_gap",
    "DENSE_MAX_DIMENSION",
    "EXACT_MAX_DIMENSION",
]

#: Largest Ns^2 (superoperator dimension) that ``method="auto"`` diagonalizes densely (L = 6; the
#: dense gap at L = 8, Ns^2 = 4900, takes about a minute, the sparse LU a few seconds).
DENSE_MAX_DIMENSION = 400
#: Largest Ns^2 the exact gap accepts (L = 8): beyond it the sparse LU's fill-in exhausts a node.
EXACT_MAX_DIMENSION = 4900

_EPS = float(np.finfo(np.float64).eps)
#: Safety factor on the measured rounding sensitivity of the Pauli gap (WeakCouplingRate.resolution).
RESOLUTION_FACTOR = 10.0


@dataclass(frozen=True)
class RelaxationRate:
    """The exact Lindbladian gap of one realization.

    Attributes
    ----------
    rate : float
        Gamma = -max Re(lambda) over the eigenvalues lambda != 0, in units of J.
    eigenvalue : complex
        The slowest eigenvalue itself (its imaginary part is the mode's frequency).
    method : str
        ``"dense"`` or ``"sparse-lu"``.
    resolution : float
        Scale of the absolute rounding error, ``eps * ||generator||_1``: a rate below a few times it
        is not resolved.
    """

    rate: float
    eigenvalue: complex
    method: str
    resolution: float


@dataclass(frozen=True)
class WeakCouplingRate:
    """The first-order (secular) relaxation rates of one realization.

    Attributes
    ----------
    population : float
        Gap of the Pauli master equation of the eigenstate populations (units of J).
    coherence : float
        Smallest first-order decay rate of a coherence ``rho_nm``, n != m.
    resolution : float
        Estimated absolute error of ``population`` from the rounding of the eigenvectors of H0:
        :data:`RESOLUTION_FACTOR` times the change of the gap when H0 gets a random symmetric
        perturbation of size ``eps sqrt(Ns) max|H0|`` (``eigh``'s backward error), at least
        ``16 eps`` times the gap. A rate below about its resolution is not resolved.
    """

    population: float
    coherence: float
    resolution: float

    @property
    def rate(self) -> float:
        """The first-order gap of the whole Lindbladian, ``min(population, coherence)``."""
        return min(self.population, self.coherence)


# --------------------------------------------------------------------------- exact gap


def _validate(fields, delta, gamma, J) -> tuple[np.ndarray, float, float, float]:
    fields, delta, gamma, J = validate_chain(fields, delta, gamma, J)
    if gamma <= 0.0:
        raise ValueError(f"gamma must be > 0 (without the bath there is no unique steady state); got gamma={gamma}")
    return fields, delta, gamma, J


def _hermitian_embedding(n: int) -> sp.csr_matrix:
    """Orthonormal map from the Ns^2 real coordinates of a Hermitian matrix to ``(vec S, vec K)``.

    Coordinates: ``S_aa`` (a = 0..n-1), then ``sqrt 2 S_ab`` and ``sqrt 2 K_ab`` for a < b in
    ``numpy.triu_indices`` order; ``vec`` is row-major, K is stored after S.
    """
    iu, ju = np.triu_indices(n, 1)
    m = iu.size
    diag = np.arange(n)
    r = 1.0 / np.sqrt(2.0)
    rows = np.concatenate([diag * n + diag, iu * n + ju, ju * n + iu, n * n + iu * n + ju, n * n + ju * n + iu])
    cols = np.concatenate([diag, n + np.arange(m), n + np.arange(m), n + m + np.arange(m), n + m + np.arange(m)])
    vals = np.concatenate([np.ones(n), np.full(m, r), np.full(m, r), np.full(m, r), np.full(m, -r)])
    return sp.csr_matrix((vals, (rows, cols)), shape=(2 * n * n, n * n))


def hermitian_liouvillian(H, bath_sz: np.ndarray, kappa: float) -> sp.csr_matrix:
    """The Lindbladian on Hermitian matrices as a real sparse Ns^2 x Ns^2 matrix.

    Parameters
    ----------
    H : sparse or dense matrix (Ns, Ns)
        Real symmetric Hamiltonian in a basis where ``S^z_b`` is diagonal (units of J).
    bath_sz : array (Ns,)
        The diagonal of ``S^z_b`` (+-1/2).
    kappa : float
        Dephasing coefficient (gamma^2 / 2).

    Returns
    -------
    scipy.sparse.csr_matrix
        Real, in the orthonormal coordinates of :func:`_hermitian_embedding`: the first Ns
        coordinates are the diagonal ``rho_aa`` (their sum is the trace).
    """
    H = sp.csr_matrix(H, dtype=np.float64)
    n = H.shape[0]
    eye = sp.identity(n, format="csr")
    commutator = (sp.kron(H, eye) - sp.kron(eye, H)).tocsr()  # vec(H X - X H), row-major, H symmetric
    s = np.asarray(bath_sz, dtype=np.float64)
    damping = sp.diags(-kappa * ((s[:, None] - s[None, :]) ** 2).ravel())
    real_form = sp.bmat([[damping, commutator], [-commutator, damping]], format="csr")
    E = _hermitian_embedding(n)
    out = (E.T @ real_form @ E).tocsr()
    out.eliminate_zeros()
    return out


def _traceless_block(R: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """R on the invariant traceless subspace, basis ``e_a - e_{n-1}`` (a < n-1) and the off-diagonals.

    With B that basis and ``B+`` its left inverse "drop coordinate n-1", the block is ``B+ R B``.
    """
    last = n - 1
    R = R.tocsc()
    keep = np.delete(np.arange(R.shape[0]), last)
    correction = sp.csr_matrix(R[:, [last]]) @ sp.csr_matrix(
        (np.ones(last), (np.zeros(last, dtype=np.int64), np.arange(last))), shape=(1, R.shape[0])
    )
    return (R - correction).tocsr()[keep][:, keep]


def _one_norm(M: sp.spmatrix) -> float:
    return float(abs(M).sum(axis=0).max())


def exact_relaxation_rate(
    fields,
    *,
    delta: float,
    gamma: float,
    J: float = 1.0,
    bath_site: int = 1,
    method: str = "auto",
    n_eigenvalues: int = 12,
) -> RelaxationRate:
    """Gamma = -(largest nonzero real part) of the Lindbladian spectrum in the Sz_tot = 0 block.

    Parameters
    ----------
    fields : array of shape (L,)
        On-site fields h_j (units of J); ``fields[j-1]`` is paper site j. L even.
    delta : float
        Anisotropy Delta.
    gamma : float
        Bath coupling of the stepper, > 0 (the Lindblad coefficient is gamma^2 / 2).
    J : float
        Exchange coupling.
    bath_site : int
        The dephased site b, 1..L.
    method : {"auto", "dense", "sparse-lu"}
        ``"auto"``: dense up to Ns^2 = :data:`DENSE_MAX_DIMENSION` (L <= 6), else the sparse LU.
    n_eigenvalues : int
        Eigenvalues nearest 0 that the sparse-LU method computes (>= 1).

    Returns
    -------
    RelaxationRate
        A gap below ``resolution`` is not resolved (it may come out as a tiny number of either sign).
        Where the shift-invert result has an eigenvalue with a real part above ``resolution`` (none
        exists: the LU of a generator whose gap is many orders below its norm is too inaccurate; seen
        at L = 8, W >= 16), the dense method recomputes it and ``method`` says so.
    """
    fields, delta, gamma, J = _validate(fields, delta, gamma, J)
    L = fields.size
    bath_site = integer("bath_site", bath_site, minimum=1, maximum=L)
    method = choice("method", method, ("auto", "dense", "sparse-lu"))
    n_eigenvalues = integer("n_eigenvalues", n_eigenvalues, minimum=1)
    H = model.xxz_hamiltonian(fields, delta=delta, J=J)
    n = H.shape[0]
    if n * n > EXACT_MAX_DIMENSION:
        raise ValueError(f"the exact gap needs L <= 8 (superoperator dimension Ns^2 = {n * n} > "
                         f"{EXACT_MAX_DIMENSION}); use weak_coupling_relaxation_rate at larger L")
    if method == "auto":
        method = "dense" if n * n <= DENSE_MAX_DIMENSION else "sparse-lu"
    R = hermitian_liouvillian(H, model.sz_diagonals(L)[bath_site - 1], 0.5 * gamma**2)
    C = _traceless_block(R, n)
    resolution = _EPS * _one_norm(C)
    if method == "sparse-lu":
        k = min(n_eigenvalues, C.shape[0] - 2)
        eigenvalues = spla.eigs(C.tocsc(), k=k, sigma=0.0, which="LM", return_eigenvectors=False)
        slowest = eigenvalues[np.argmax(eigenvalues.real)]
        if slowest.real > resolution:  # no Lindbladian eigenvalue has Re > 0: the near-singular LU failed
            method = "dense"
    if method == "dense":
        eigenvalues = la.eigvals(C.toarray(), overwrite_a=True, check_finite=False)
        slowest = eigenvalues[np.argmax(eigenvalues.real)]
    rate = -float(slowest.real)
    if not np.isfinite(rate):
        raise FloatingPointError("the Lindbladian gap is not finite")
    return RelaxationRate(rate=rate, eigenvalue=complex(slowest), method=method, resolution=resolution)


# --------------------------------------------------------------------------- weak coupling


def pauli_generator(H, bath_sz: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Pauli master equation of the eigenstate populations, ``dp/dt = G p``.

    Parameters
    ----------
    H : sparse or dense matrix (Ns, Ns)
        Real symmetric Hamiltonian in a basis where ``S^z_b`` is diagonal.
    bath_sz : array (Ns,)
        The diagonal of ``S^z_b``.
    gamma : float
        Bath coupling; the rates are ``w_nm = gamma^2 |<n|S^z_b|m>|^2`` (module docstring).

    Returns
    -------
    G : numpy.ndarray (Ns, Ns)
        Symmetric generator, ``G_nm = w_nm`` (n != m), columns summing to zero.
    energies : numpy.ndarray (Ns,)
        Eigenvalues of H, increasing (the order of G's rows).
    A : numpy.ndarray (Ns, Ns)
        ``<n|S^z_b|m>`` in that eigenbasis.
    """
    dense = H.toarray() if sp.issparse(H) else np.array(H, dtype=np.float64)  # a copy: eigh overwrites it
    energies, V = la.eigh(dense, overwrite_a=True, check_finite=False)
    A = V.T @ (np.asarray(bath_sz, dtype=np.float64)[:, None] * V)
    G = gamma**2 * A**2
    np.fill_diagonal(G, 0.0)
    G[np.diag_indices_from(G)] = -G.sum(axis=0)
    return G, energies, A


def weak_coupling_relaxation_rate(
    fields, *, delta: float, gamma: float, J: float = 1.0, bath_site: int = 1
) -> WeakCouplingRate:
    """First-order (secular) relaxation rates: the Pauli gap and the slowest coherence.

    Arguments as in :func:`exact_relaxation_rate` (no method): a dense diagonalization of H0 and
    the accurate Laplacian gap (:func:`laplacian_gap`), done twice, the second time for H0 plus a
    rounding-size perturbation that gives ``resolution``.
    Both rates are proportional to gamma^2; the derivation and the validity condition are in the
    module docstring.

    Returns
    -------
    WeakCouplingRate
        ``.population`` (the Pauli gap), ``.coherence`` and ``.rate`` (their minimum).
    """
    fields, delta, gamma, J = _validate(fields, delta, gamma, J)
    L = fields.size
    bath_site = integer("bath_site", bath_site, minimum=1, maximum=L)
    H = model.xxz_hamiltonian(fields, delta=delta, J=J).toarray()
    bath_sz = model.sz_diagonals(L)[bath_site - 1]
    population, A, outflow = _pauli_gap(H, bath_sz, gamma)
    # eigh is backward stable: its eigenvectors are exact for some H + dH, ||dH|| ~ eps ||H||. The
    # gap of one such H + dH (a fixed random symmetric dH) measures how far rounding moves the gap.
    dH = np.random.default_rng(0).standard_normal(H.shape)
    dH = (dH + dH.T) * (0.5 * _EPS * np.sqrt(H.shape[0]) * np.abs(H).max())
    perturbed, _, _ = _pauli_gap(H + dH, bath_sz, gamma)
    resolution = max(RESOLUTION_FACTOR * abs(perturbed - population), 16 * _EPS * population)
    a = np.diagonal(A)
    coherence = 0.5 * gamma**2 * (a[:, None] - a[None, :]) ** 2 + 0.5 * (outflow[:, None] + outflow[None, :])
    np.fill_diagonal(coherence, np.inf)
    return WeakCouplingRate(population=population, coherence=float(coherence.min()), resolution=resolution)


def _pauli_gap(H: np.ndarray, bath_sz: np.ndarray, gamma: float) -> tuple[float, np.ndarray, np.ndarray]:
    """The Pauli gap, ``<n|A|m>`` and the outflow rates Gamma_n of a dense H."""
    G, _, A = pauli_generator(H, bath_sz, gamma)
    outflow = -np.diagonal(G).copy()  # Gamma_n = sum_{l != n} w_ln
    np.fill_diagonal(G, 0.0)
    gap, _ = laplacian_gap(G)
    return gap, A, outflow


def _grounded_factor(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky-type factors of the Laplacian of ``w`` with its last state grounded, without cancellation.

    Eliminating state k (a Schur complement, "Kron reduction") leaves a Laplacian with weights
    ``w_ij + w_ik w_kj / d_k`` (the grounding weights ``g_i = w_i,last`` update the same way), and
    every pivot ``d_k`` is the sum of the current weights of k: only additions of positive numbers,
    so every factor has a small relative error however widely the rates spread (the
    Grassmann-Taksar-Heyman idea for Markov chains). Returns ``U`` (unit upper triangular) and the
    pivots ``d`` with ``K = U^T diag(d) U``, K the grounded Laplacian.
    """
    m = w.shape[0] - 1
    W = np.triu(np.asarray(w[:m, :m], dtype=np.float64), 1)
    g = np.array(w[:m, m], dtype=np.float64)
    d = np.empty(m)
    if not _eliminate(W, g, d):
        raise ValueError("the Pauli generator is reducible (a state without rates): no unique steady state")
    W[np.diag_indices(m)] = 1.0
    return W, d


@numba.njit(cache=True, nogil=True)
def _eliminate(W, g, d):  # pragma: no cover - compiled
    """In place on the upper triangle of W: the elimination of :func:`_grounded_factor`.

    Leaves ``-w_kj / d_k`` in row k (j > k) and the pivots in d; False if a pivot is not positive.
    """
    m = W.shape[0]
    for k in range(m):
        dk = g[k]
        for j in range(k + 1, m):
            dk += W[k, j]
        if not dk > 0.0:
            return False
        d[k] = dk
        for i in range(k + 1, m):
            f = W[k, i] / dk
            if f != 0.0:
                g[i] += f * g[k]
                for j in range(i + 1, m):
                    W[i, j] += f * W[k, j]
        for j in range(k + 1, m):
            W[k, j] = -W[k, j] / dk
    return True


def _lanczos_slowest(U: np.ndarray, d: np.ndarray, rtol: float) -> np.ndarray:
    """The slowest mode (as a column) from implicitly restarted Lanczos (ARPACK) on the pseudo-inverse of
    the grounded-factor Laplacian, for the rare spectra whose slow modes crowd beyond the block."""
    n = U.shape[0] + 1

    def pinv(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).ravel()
        x = x - x.mean()
        z = la.solve_triangular(U, x[:-1], trans="T", unit_diagonal=True, check_finite=False)
        y = np.append(la.solve_triangular(U, z / d, unit_diagonal=True, check_finite=False), 0.0)
        return y - y.mean()

    v0 = np.random.default_rng(1).standard_normal(n)
    _, vectors = spla.eigsh(spla.LinearOperator((n, n), matvec=pinv, dtype=np.float64), k=1, which="LA",
                            v0=v0 - v0.mean(), ncv=min(n - 1, 64), tol=rtol, maxiter=100 * n)
    return vectors - vectors.mean(axis=0)


def laplacian_gap(w: np.ndarray, *, block: int = 8, max_iterations: int = 500, rtol: float = 1e-13
                  ) -> tuple[float, np.ndarray]:
    """Smallest nonzero eigenvalue of the Laplacian ``diag(sum w) - w`` to high relative accuracy.

    Dense symmetric eigensolvers have an absolute error ``~ eps ||w||``, far above the gap of a
    localized chain. Here the grounded Laplacian is factored without cancellation
    (:func:`_grounded_factor`), its inverse drives a block inverse iteration on the vectors
    orthogonal to the constant one, and the gap is the Rayleigh quotient
    ``sum_{n<m} w_nm (v_n - v_m)^2 / |v|^2``, a sum of positive terms. The relative error is then a
    few eps, unless the slowest eigenvalues are nearly degenerate beyond the block (the iteration
    stops when the block's largest inverse Ritz value changes by less than ``rtol``). Where a cluster
    of slow modes wider than the block keeps it from converging in ``max_iterations`` (seen at
    L = 14, W = 8: more than 8 modes within 0.3 % of the slowest), implicitly restarted Lanczos
    (ARPACK, 64 vectors) on the same pseudo-inverse gives the slowest mode instead.

    Parameters
    ----------
    w : array (N, N)
        Symmetric non-negative rates; the diagonal is ignored. N >= 2, irreducible.
    block : int
        Vectors iterated together (covers near-degenerate slow modes).
    max_iterations, rtol
        Iteration limit and relative tolerance on the inverse Ritz value.

    Returns
    -------
    gap : float
    mode : numpy.ndarray (N,)
        The slowest mode (unit norm, orthogonal to the constant vector).
    """
    n = w.shape[0]
    U, d = _grounded_factor(w)
    p = min(block, n - 1)
    X = np.random.default_rng(0).standard_normal((n, p))
    X -= X.mean(axis=0)
    X, _ = np.linalg.qr(X)
    previous = None
    for _ in range(max_iterations):
        z = la.solve_triangular(U, X[:-1], trans="T", unit_diagonal=True, check_finite=False)
        Y = np.vstack([la.solve_triangular(U, z / d[:, None], unit_diagonal=True, check_finite=False),
                       np.zeros((1, p))])
        Y -= Y.mean(axis=0)  # the pseudo-inverse of the Laplacian: solutions orthogonal to the constant
        M = X.T @ Y
        mu, S = np.linalg.eigh(0.5 * (M + M.T))
        X, _ = np.linalg.qr(Y @ S[:, ::-1])
        X -= X.mean(axis=0)
        if previous is not None and abs(mu[-1] - previous) <= rtol * abs(mu[-1]):
            break
        previous = mu[-1]
    else:  # a cluster of slow modes wider than the block: Lanczos on the same inverse resolves it
        X = _lanczos_slowest(U, d, rtol)
    v = X[:, 0]
    diff = v[:, None] - v[None, :]
    gap = float(0.5 * np.sum(w * diff * diff) / (v @ v))
    if not (np.isfinite(gap) and gap > 0.0):
        raise FloatingPointError(f"the Pauli gap is not a finite positive number ({gap!r})")
    return gap, v / np.linalg.norm(v)
