"""Exact noise-averaged references: the Lindbladian the trajectories unravel, and their exact mean.

The noisy-kick stepper of paper Eq. (4), ``U_n = exp(-i eta_n gamma S^z_1) exp(-i tau H0)`` with
``eta_n ~ N(0, tau)`` (variance tau), averaged over the noise, is the channel

.. math::

    \\rho \\mapsto \\mathcal{F}\\left(U \\rho U^\\dagger\\right), \\qquad
    \\mathcal{F}(\\rho)_{ab} = e^{-\\gamma^2 \\tau (s_a - s_b)^2 / 2} \\rho_{ab},
    \\qquad U = e^{-i \\tau H_0},

where ``s_a = +-1/2`` is S^z_1 in basis state a: the Gaussian average of
``exp(-i eta gamma (s_a - s_b))`` is ``exp(-gamma^2 tau (s_a - s_b)^2 / 2)``, so coherences between
site-1-up and site-1-down states are damped by ``exp(-gamma^2 tau / 2)`` per step. As tau -> 0 this
is the Lindbladian

.. math::

    \\dot\\rho = -i [H_0, \\rho] - \\kappa [S^z_1, [S^z_1, \\rho]], \\qquad \\kappa = \\gamma^2 / 2,

since ``[S^z_1, [S^z_1, rho]]_ab = (s_a - s_b)^2 rho_ab`` and
``F = exp(-tau kappa [S^z_1, [S^z_1, .]])`` exactly. Equivalently: the second-order term of
``exp(-i eta gamma S^z_1) rho exp(i eta gamma S^z_1)`` is
``-(eta^2 gamma^2 / 2) [S^z_1, [S^z_1, rho]]``, and ``<eta^2> = tau``. The paper's Eq. (2) (and
its Appendix A) write the coefficient as gamma^2; the trajectories obey gamma^2 / 2, and that is
what every comparison in this project uses (docs/design.md). The literal gamma^2 is the same equation
with gamma -> sqrt(2) gamma.

Two solvers, chosen by ``delta`` as in :func:`ensemble.magnetization_trajectory`:

- **Many-body** (any Delta, small L): rho as an Ns x Ns matrix in the Sz_tot = 0 sector (the
  dephasing is diagonal in S^z, so it keeps the sector). Continuous time:
  ``d rho/dt = -i[H, rho] - kappa M o rho``, ``M_ab = (s_a - s_b)^2``, integrated in matrix form by
  a truncated Taylor series with an a-priori error bound of 1e-17 per sub-step (no Ns^2 x Ns^2
  superoperator is built; see :func:`_dephasing_evolution`). Discrete stepper:
  ``rho <- F o (U rho U^dagger)`` with dense U from an eigendecomposition of H0.
- **Gaussian** (Delta = 0, any L): after Jordan-Wigner (up = occupied, paper Appendix B) the
  one-body correlation matrix ``G_ij = <c_j^dagger c_i>`` obeys the closed equation

  .. math::

      \\dot G = -i [Q, G] - \\kappa\\, M \\circ G, \\qquad
      Q_{ij} = h_i \\delta_{ij} + \\tfrac{J}{2} (\\delta_{i,j+1} + \\delta_{i,j-1}),

  with ``M_ij = 1`` when exactly one of i, j is site 1 (index 0), and
  ``G(0) = diag(1, 0, 1, 0, ...)`` (Néel, site 1 occupied); ``<S^z_j> = G_jj - 1/2``. Its stepper
  version is ``G <- F o (U G U^dagger)``, ``U = exp(-i tau Q)``, ``F = exp(-gamma^2 tau / 2)`` where
  M = 1. (Along a trajectory G evolves linearly and the eta_n are independent: the mean is exact.)
  Q is rebuilt here rather than imported from :mod:`ensemble.engines.gaussian`, so that this reference
  stays independent of the engine it validates.

All results are arrays of shape ``(n_times, L)`` whose column ``j - 1`` is ``<S^z_j>`` for paper
site j (site 1 is the bath site), between -1/2 and 1/2; times are in units of 1/J. The public
functions also take the bath site b (``bath_site``, default 1: S^z_b replaces S^z_1 throughout) and
a product start (``up_sites``, default Néel).

Cost: the continuous solvers apply the generator (one real sparse-times-dense product ``H rho``)
about ``7 (width(H) + kappa/2) t`` times, width = E_max - E_min of H (L = 10, W = 2, t = 20: a few
seconds); the many-body stepper mean costs two dense ``Ns x Ns`` products per step. The Gaussian
stepper mean works in the eigenbasis of Q, where a step costs O(L^2) (phases plus a rank-one
dephasing update, compiled with numba): L = 100 takes ~50 microseconds per step.

A note on the Trotter error of the stepper mean: with ``A = U . U^dagger`` and ``F = exp(tau B)``,
``(F A)^n = F^(1/2) (F^(1/2) A F^(1/2))^n F^(-1/2)``. F^(+-1/2) leave diagonal matrices (the Néel
state) and diagonal observables (S^z_j) unchanged, so for ``<S^z_j>`` from Néel the stepper mean
equals the symmetric (Strang) splitting, whose error is O(tau^2), not O(tau); coherences, e.g.
``<S^+_1 S^-_2>``, do see the O(tau) boundary term.
"""

from __future__ import annotations

import sys
import time

import numba
import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from ensemble.models import xxz as model
from ensemble.models.free_fermion import hopping_matrix
from ensemble.validation import integer, validate_chain, validate_scalar, validate_steps

__all__ = [
    "magnetization",
    "stepper_mean",
    "averaged_magnetizations",
    "dephasing_rate",
    "validate_times",
    "manybody_lindblad",
    "manybody_stepper_mean",
    "hopping_matrix",
    "neel_correlation",
    "product_correlation",
    "correlation_lindblad",
    "correlation_stepper_mean",
]


def dephasing_rate(gamma: float) -> float:
    """kappa = gamma^2 / 2: the Lindblad coefficient the stepper's noise average produces."""
    return 0.5 * float(gamma) ** 2


def validate_times(times) -> np.ndarray:
    """Return ``times`` as float64 after checking they are finite, >= 0 and strictly increasing."""
    arr = np.asarray(times, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("times must be a non-empty 1-D sequence of times (units of 1/J)")
    if not np.all(np.isfinite(arr)):
        raise ValueError("times must be finite (found NaN or inf)")
    if np.any(arr < 0):
        raise ValueError("times must be non-negative")
    if np.any(np.diff(arr) <= 0):
        raise ValueError("times must be strictly increasing")
    return arr


def _bath_mask(bath_up: np.ndarray) -> np.ndarray:
    """M_ab = (s_a - s_b)^2 for s = +-1/2: True where site 1 differs between a and b."""
    return bath_up[:, None] != bath_up[None, :]


# --------------------------------------------------------------------------- many-body solvers


def _product_density(L: int, up_sites) -> np.ndarray:
    psi = model.neel_state(L) if up_sites is None else model.product_state(L, up_sites)
    return np.outer(psi, psi.conj())


def manybody_lindblad(
    H: sp.spmatrix, sz: np.ndarray, rho0: np.ndarray, times: np.ndarray, *, kappa: float, bath_site: int = 1
) -> np.ndarray:
    """<S^z_j>(t) under ``d rho/dt = -i[H, rho] - kappa [S^z_1, [S^z_1, rho]]`` in a sector basis.

    Parameters
    ----------
    H : sparse matrix (Ns, Ns)
        Hermitian Hamiltonian in a basis where every S^z_j is diagonal (units of J).
    sz : array (L, Ns)
        S^z_j diagonals, row 0 = site 1 (the dephased site), values +-1/2.
    rho0 : array (Ns, Ns)
        Initial density matrix.
    times : array of float
        Validated sample times (>= 0, strictly increasing; units of 1/J).
    kappa : float
        Dephasing rate (gamma^2 / 2 for the paper's stepper).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(times), L)``.
    """
    populations = _dephasing_evolution(H, sz[bath_site - 1] > 0, kappa, rho0, times)
    return populations @ sz.T


#: The most generator applications one continuous solve may take (~hours at L = 10); beyond it
#: the solver refuses instead of running for days (e.g. t = 1e300, or an enormous W or J).
MAX_GENERATOR_APPLICATIONS = 1e8
#: The most steps a stepper mean may take.
MAX_STEPPER_STEPS = 10**8

#: Largest ||L h||_2 per Taylor sub-step: intermediate sums stay below e^6 ~ 400 times the result,
#: so rounding stays ~1e-13, and ~40 terms reach the 1e-17 truncation bound.
_TAYLOR_THETA = 6.0
_TAYLOR_TOL = 1e-17


def _taylor_terms(theta: float) -> int:
    """Smallest K with sum_{k>K} theta^k / k! <= _TAYLOR_TOL (a-priori bound, ||A h|| <= theta)."""
    k, term = 0, 1.0  # term = theta^k / k!
    while True:
        k += 1
        term *= theta / k
        tail = term * theta / (k + 1)  # theta^(k+1) / (k+1)!, the tail's first and largest term
        if k + 2 > theta and tail / (1.0 - theta / (k + 2)) <= _TAYLOR_TOL:
            return k


def _spectral_width(H: sp.csr_matrix) -> float:
    """An upper bound on E_max - E_min of a real symmetric matrix.

    Dense eigenvalues (plus a 1e-9 relative margin) up to dimension 3000, else the Gershgorin bound.
    """
    if H.shape[0] <= 3000:
        energies = la.eigvalsh(H.toarray())
        return float(energies[-1] - energies[0]) * (1 + 1e-9) + 1e-12
    diag = H.diagonal()
    radius = np.asarray(abs(H).sum(axis=1)).ravel() - np.abs(diag)
    return float(np.max(diag + radius) - np.min(diag - radius))


#: Seconds a continuous solve runs silently; after that it reports its progress on stderr that often.
PROGRESS_INTERVAL = 10.0


class _Progress:
    """A line on stderr every :data:`PROGRESS_INTERVAL` s of a long solve: time reached, applications, time left."""

    def __init__(self, bound: float, times: np.ndarray) -> None:
        previous = np.r_[0.0, times[:-1]]
        widths = np.maximum(times - previous, 0.0)
        subs = np.maximum(1, np.ceil(bound * widths / _TAYLOR_THETA)) * (widths > 0)
        self.total = float(sum(n * _taylor_terms(bound * w / n) for n, w in zip(subs, widths) if n))
        self.t_final, self.done = float(times[-1]), 0
        self.start = self.last = time.monotonic()
        self.shown = False

    def update(self, applications: int, t: float) -> None:
        self.done += applications
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL:
            return
        self.last, self.shown = now, True
        left = (now - self.start) / self.done * (self.total - self.done)
        print(f"lindblad: t = {t:.4g} of {self.t_final:.4g}, {self.done:.3g} of ~{self.total:.3g} generator "
              f"applications, {now - self.start:.0f} s elapsed, ~{left:.0f} s left", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.shown:
            print(f"lindblad: done in {time.monotonic() - self.start:.0f} s", file=sys.stderr, flush=True)


def _dephasing_evolution(
    H, bath_up: np.ndarray, kappa: float, rho0, times: np.ndarray
) -> np.ndarray:
    """Diagonal of rho(t) under ``d rho/dt = -i[H, rho] - kappa M o rho``, M_ab = [bath_up differs].

    Matrix-form truncated Taylor series (no Ns^2 x Ns^2 superoperator is built). For Hermitian rho
    and real symmetric H, ``[H, rho] = X - X^dagger`` with ``X = H rho``: one real sparse product
    per application, and every iterate stays exactly Hermitian. With the dissipator centred
    (``-kappa M = -kappa/2 + kappa (1/2 - M)``, the scalar factor ``exp(-kappa h / 2)`` applied
    exactly), the generator's 2-norm on Frobenius space is at most ``width(H) + kappa/2``; each
    interval is cut into sub-steps with ``||L h|| <= 6`` and summed to a-priori truncation error
    1e-17 relative to ``||rho||_F`` (about 7 applications per unit of ``(width + kappa/2) t``).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(times), Ns)``, real: ``rho_aa(t)``.
    """
    H = sp.csr_matrix(H, dtype=np.float64)
    rho = np.array(rho0, dtype=np.complex128, order="C")
    n = rho.shape[0]
    if (H - H.T).count_nonzero() or not np.array_equal(rho, rho.conj().T):
        raise ValueError("the Lindblad solver needs a real symmetric H and a Hermitian rho0")
    # Centred dissipator: -kappa M = -kappa/2 + kappa (1/2 - M); the scalar part is applied exactly.
    centred = np.where(_bath_mask(np.asarray(bath_up)), 0.5 * kappa, -0.5 * kappa)
    bound = _spectral_width(H) + 0.5 * abs(kappa)
    with np.errstate(over="ignore"):
        applications = 7.0 * bound * float(times[-1])  # ~7 per unit of bound * t (see above)
    if not applications <= MAX_GENERATOR_APPLICATIONS:
        raise ValueError(
            f"the Lindblad solver would need ~{applications:.3g} generator applications to reach t={times[-1]:g} "
            f"(spectral width + kappa/2 = {bound:.3g}; limit {MAX_GENERATOR_APPLICATIONS:.0e}): reduce the "
            "largest time, W, J or gamma"
        )

    def generator(r: np.ndarray) -> np.ndarray:
        X = (H @ r.view(np.float64)).view(np.complex128)  # H r, real sparse times (n, 2n) real
        out = X - X.conj().T
        out *= -1j
        out -= centred * r
        return out

    populations = np.empty((len(times), n))
    progress = _Progress(bound, times)
    t_now = 0.0
    for k, t in enumerate(times):
        if t > t_now:
            n_sub = max(1, int(np.ceil(bound * (t - t_now) / _TAYLOR_THETA)))
            h = (t - t_now) / n_sub
            n_terms = _taylor_terms(bound * h)
            for j in range(n_sub):
                term, total = rho, rho.copy()
                for m in range(1, n_terms + 1):
                    term = generator(term)
                    term *= h / m
                    total += term
                rho = total
                rho *= np.exp(-0.5 * kappa * h)
                progress.update(n_terms, t_now + (j + 1) * h)
            t_now = t
        populations[k] = np.diagonal(rho).real
    progress.close()
    if not np.all(np.isfinite(populations)):
        raise FloatingPointError("the Lindblad evolution produced non-finite values")
    return populations


def manybody_stepper_mean(
    H: sp.spmatrix,
    sz: np.ndarray,
    rho0: np.ndarray,
    sample_steps: np.ndarray,
    *,
    gamma: float,
    tau: float,
    bath_site: int = 1,
) -> np.ndarray:
    """Exact noise average of the kicked stepper: ``rho <- F o (U rho U^dagger)`` per step.

    ``U = exp(-i tau H)``, ``F_ab = exp(-gamma^2 tau (s_a - s_b)^2 / 2)`` with ``s = S^z_1``.
    Arguments as in :func:`manybody_lindblad`; ``sample_steps`` validated step counts.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sample_steps), L)``; row k is the state after ``sample_steps[k]`` steps.
    """
    energies, V = la.eigh(np.asarray(H.toarray() if sp.issparse(H) else H))
    U = (V * np.exp(-1j * tau * energies)) @ V.conj().T
    Ud = np.ascontiguousarray(U.conj().T)
    F = np.where(_bath_mask(sz[bath_site - 1] > 0), np.exp(-0.5 * gamma**2 * tau), 1.0)
    rho = np.array(rho0, dtype=np.complex128)
    out = np.empty((len(sample_steps), sz.shape[0]))
    step = 0
    for k, target in enumerate(sample_steps):
        while step < target:
            rho = U @ rho @ Ud
            rho *= F
            step += 1
        out[k] = sz @ np.diagonal(rho).real
    if not np.all(np.isfinite(out)):
        raise FloatingPointError("the stepper mean produced non-finite values")
    return out


# --------------------------------------------------------------------------- Gaussian solvers


def neel_correlation(L: int) -> np.ndarray:
    """G(0) = diag(1, 0, 1, 0, ...): the Néel state with site 1 up (occupied)."""
    return np.diag((np.arange(L) % 2 == 0).astype(np.complex128))


def product_correlation(L: int, up_sites) -> np.ndarray:
    """G(0) of a product state: 1 on the diagonal at the up (occupied) sites (0-based), 0 elsewhere."""
    if up_sites is None:
        return neel_correlation(L)
    diag = np.zeros(L, dtype=np.complex128)
    diag[np.asarray(up_sites, dtype=np.int64)] = 1.0
    return np.diag(diag)


def _check_bath_site(bath_site, L: int) -> int:
    return integer("bath_site", bath_site, minimum=1, maximum=L)


def correlation_lindblad(
    Q: np.ndarray, G0: np.ndarray, times: np.ndarray, *, kappa: float, bath_site: int = 1
) -> np.ndarray:
    """<S^z_j>(t) = G_jj - 1/2 under ``dG/dt = -i[Q, G] - kappa M o G``.

    Same matrix-form Taylor propagator as :func:`manybody_lindblad` (O(L^2) memory, so L = 100+).

    Parameters
    ----------
    Q : array (L, L)
        Real symmetric single-particle Hamiltonian (:func:`hopping_matrix`).
    G0 : array (L, L)
        Initial correlation matrix ``<c_j^dagger c_i>`` (:func:`neel_correlation`).
    times : array of float
        Validated sample times (units of 1/J).
    kappa : float
        Dephasing rate of site 1 (gamma^2 / 2).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(times), L)``.
    """
    L = Q.shape[0]
    return _dephasing_evolution(sp.csr_matrix(Q), np.arange(L) == bath_site - 1, kappa, G0, times) - 0.5


def correlation_stepper_mean(
    Q: np.ndarray,
    G0: np.ndarray,
    sample_steps: np.ndarray,
    *,
    gamma: float,
    tau: float,
    bath_site: int = 1,
) -> np.ndarray:
    """Exact noise average of the free-fermion stepper: ``G <- F o (U G U^dagger)`` per step.

    ``U = exp(-i tau Q)``; F multiplies row 0 and column 0 (but not G_11) by
    ``exp(-gamma^2 tau / 2)``. The work is done in the eigenbasis of Q, ``Q = V E V^T``: there U is
    a phase ``exp(-i tau (E_m - E_n))`` per element and the dephasing
    ``M o G = P G + G P - 2 P G P`` with ``P = v v^T``, ``v = V^T e_1``, is a rank-one update, so a
    step costs O(L^2).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sample_steps), L)``: ``G_jj - 1/2`` after each sample step.
    """
    energies, V = la.eigh(np.asarray(Q, dtype=np.float64))
    phase = np.exp(-1j * tau * energies)
    P = np.outer(phase, phase.conj())
    v = np.ascontiguousarray(V[bath_site - 1], dtype=np.complex128)  # real: (V^T e_b)_m = V[b - 1, m]
    damp = 1.0 - np.exp(-0.5 * gamma**2 * tau)
    Gt = np.ascontiguousarray(V.T @ np.asarray(G0, dtype=np.complex128) @ V)
    out = np.empty((len(sample_steps), Q.shape[0]))
    step = 0
    for k, target in enumerate(sample_steps):
        _dephased_steps(Gt, P, v, damp, int(target - step))
        step = int(target)
        out[k] = np.einsum("jm,mn,jn->j", V, Gt, V).real - 0.5
    if not np.all(np.isfinite(out)):
        raise FloatingPointError("the stepper mean produced non-finite values")
    return out


@numba.njit(cache=True, nogil=True)
def _dephased_steps(Gt, P, v, damp, n_steps):  # pragma: no cover - compiled
    """``n_steps`` times, in place: ``G <- P o G``, then ``G <- G - damp (M o G)``, eigenbasis.

    ``M o G = v (v^T G) + (G v) v^T - 2 (v^T G v) v v^T``; two passes over G per step.
    """
    L = Gt.shape[0]
    row = np.empty(L, dtype=np.complex128)
    col = np.empty(L, dtype=np.complex128)
    for _ in range(n_steps):
        row[:] = 0.0
        for m in range(L):
            acc = 0.0j
            for n in range(L):
                g = Gt[m, n] * P[m, n]
                Gt[m, n] = g
                row[n] += v[m] * g
                acc += g * v[n]
            col[m] = acc
        if damp == 0.0:
            continue
        corner = 0.0j
        for n in range(L):
            corner += row[n] * v[n]
        for m in range(L):
            a = damp * v[m]
            b = damp * (col[m] - corner * v[m])
            for n in range(L):
                Gt[m, n] -= a * (row[n] - corner * v[n]) + b * v[n]


# --------------------------------------------------------------------------- public API


def magnetization(
    fields, times, *, delta: float, gamma: float, J: float = 1.0, bath_site: int = 1, up_sites=None
) -> np.ndarray:
    """<S^z_j>(t) under the continuous Lindbladian the stepper unravels (coefficient gamma^2 / 2).

    .. math::

        \\dot\\rho = -i [H_0, \\rho] - \\frac{\\gamma^2}{2} [S^z_1, [S^z_1, \\rho]],

    with H0 of paper Eq. (1) (open ends, S = sigma/2, units of J), from the Néel state with site 1
    up. Delta == 0 uses the L x L correlation-matrix equation (any L); otherwise the many-body
    density matrix in the Sz_tot = 0 sector (L <= ~10).

    Parameters
    ----------
    fields : array of shape (L,)
        On-site fields h_j (units of J); ``fields[j-1]`` is paper site j. L even.
    times : sequence of float
        Sample times t (units of 1/J), finite, >= 0, strictly increasing.
    delta : float
        Anisotropy Delta.
    gamma : float
        Bath coupling of the stepper (the Lindblad rate is gamma^2 / 2; pass ``sqrt(2) * gamma``
        for the paper's literal Eq. (2) coefficient gamma^2).
    J : float
        Exchange coupling.
    bath_site : int
        The dephased site b, 1..L (default 1): ``S^z_b`` replaces ``S^z_1`` above.
    up_sites : array of int, optional
        0-based up sites of the product start (default: Néel, site 1 up).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(times), L)``; column ``j - 1`` is ``<S^z_j>``.
    """
    fields, delta, gamma, J = validate_chain(fields, delta, gamma, J)
    times = validate_times(times)
    kappa = dephasing_rate(gamma)
    L = fields.size
    bath_site = _check_bath_site(bath_site, L)
    if delta == 0.0:
        Q = hopping_matrix(fields, J)
        return correlation_lindblad(Q, product_correlation(L, up_sites), times, kappa=kappa, bath_site=bath_site)
    H = model.xxz_hamiltonian(fields, delta=delta, J=J)
    return manybody_lindblad(H, model.sz_diagonals(L), _product_density(L, up_sites), times, kappa=kappa,
                             bath_site=bath_site)


def stepper_mean(
    fields, sample_steps, *, delta: float, gamma: float, tau: float = 0.05, J: float = 1.0, bath_site: int = 1,
    up_sites=None,
) -> np.ndarray:
    """Exact noise average of :func:`ensemble.magnetization_trajectory` (paper Eq. 4).

    Per step ``rho <- F o (exp(-i tau H0) rho exp(i tau H0))``, where F damps the coherences between
    site-1-up and site-1-down states by ``exp(-gamma^2 tau / 2)``. This is what an average over
    noise trajectories converges to, Trotter error included, so it separates statistics from the
    time step. Delta == 0 uses the correlation matrix (any L), otherwise the many-body sector.

    Parameters
    ----------
    fields : array of shape (L,)
        On-site fields h_j (units of J); ``fields[j-1]`` is paper site j. L even.
    sample_steps : sequence of int
        Non-negative, strictly increasing step counts; times are ``sample_steps * tau``.
    delta, gamma, J : float
        As in :func:`magnetization`.
    tau : float
        Trotter step (units of 1/J), > 0.
    bath_site, up_sites
        As in :func:`magnetization`.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sample_steps), L)``; column ``j - 1`` is ``<S^z_j>``.
    """
    fields, delta, gamma, J = validate_chain(fields, delta, gamma, J)
    steps = validate_steps(sample_steps)
    tau = validate_scalar("tau", tau, positive=True)
    if steps[-1] > MAX_STEPPER_STEPS:
        raise ValueError(f"the stepper mean would take {steps[-1]:.3g} steps (limit {MAX_STEPPER_STEPS:.0e}); "
                         "reduce the largest sample step")
    L = fields.size
    bath_site = _check_bath_site(bath_site, L)
    if delta == 0.0:
        return correlation_stepper_mean(
            hopping_matrix(fields, J), product_correlation(L, up_sites), steps, gamma=gamma, tau=tau,
            bath_site=bath_site,
        )
    H = model.xxz_hamiltonian(fields, delta=delta, J=J)
    sz, rho0 = model.sz_diagonals(L), _product_density(L, up_sites)
    return manybody_stepper_mean(H, sz, rho0, steps, gamma=gamma, tau=tau, bath_site=bath_site)


def averaged_magnetizations(
    fields, sample_steps, *, gamma: float, tau: float = 0.05, J: float = 1.0, bath_site: int = 1, up_sites=None
) -> np.ndarray:
    """The ``noise="averaged"`` estimator for Delta = 0: exact noise mean of the stepper, any L.

    Same arguments and return shape as :func:`ensemble.magnetization_trajectory` without the noise
    (``etas``) and with Delta = 0 fixed; equal to ``stepper_mean(fields, sample_steps, delta=0.0,
    gamma=gamma, tau=tau, J=J)``. Replacing the trajectory average by this removes the noise
    statistics but keeps the stepper's Trotter error, so the two estimators are directly comparable.
    """
    return stepper_mean(fields, sample_steps, delta=0.0, gamma=gamma, tau=tau, J=J, bath_site=bath_site,
                        up_sites=up_sites)
