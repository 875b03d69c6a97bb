"""Free-fermion (Gaussian-state) engine for the Anderson case Delta = 0, paper Appendix B.

Jordan-Wigner maps H0 of paper Eq. (1) at Delta = 0 to free fermions (up = occupied),

.. math::

    H_0 = \\sum_{j,l} c^\\dagger_j Q_{jl} c_l + \\text{const}, \\qquad
    Q = \\operatorname{diag}(h) + \\frac{J}{2}\\,(\\text{nearest-neighbour hopping, open ends}),

and each trajectory stays a Slater determinant ``|psi> = prod_k (sum_j W_jk c^dag_j) |Omega>``
of N = L/2 orthonormal orbitals (the columns of the L x N matrix W). The Néel start (site 1 up)
puts orbital k on site 2k - 1 (0-based row 2k). One step of paper Eq. (4) is

.. math::

    W \\leftarrow K_n \\, e^{-i \\tau Q} \\, W, \\qquad
    K_n = 1 + (e^{-i \\eta_n \\gamma} - 1) \\, P_1,

with ``P_1`` the projector on site 1 (the bath site): ``exp(-i eta gamma S^z_1)`` is, up to the
global phase ``exp(i eta gamma / 2)``, the full-angle phase ``exp(-i eta gamma n_1)``.
Observables: ``<S^z_j> = sum_k |W_jk|^2 - 1/2``; the correlation matrix is ``G = W W^dagger``.

Method. With ``Q = V diag(e) V^T`` (real symmetric) the orbitals are kept in the eigenbasis,
``C = V^T W``, where ``exp(-i tau Q)`` is the diagonal phase ``exp(-i tau e)`` and the kick is the
rank-1 update ``1 + (k_n - 1) v v^T`` with ``v = V[0, :]`` (the bath-site row, renormalised to
``|v| = 1`` so the update is unitary to machine precision). A step then costs O(L N) instead of
the O(L^2 N) of a dense product. The orbitals are independent, so a compiled kernel runs all the
steps between two sample times one orbital at a time, with that orbital's L amplitudes held in
the L1 cache. ``W = V C`` is formed only at the sample times, where the orbitals are checked to be
orthonormal to :data:`ORTHONORMALITY_TOLERANCE`. Rounding drift (~1e-16 per step) is
measured every 20,000 steps and removed only where it exceeds 1e-11. The noiseless run
(gamma = 0) never steps by tau: ``W(t) = V exp(-i t e) V^T W(0)`` exactly at each sample time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numba
import numpy as np
import scipy.linalg as sla

from ensemble.engines import REGISTRY, Engine, Sample, Task
from ensemble.models.free_fermion import entanglement_entropy, hopping_matrix
from ensemble.observables import OrbitalState
from ensemble.observables.sz import LocalMagnetization
from ensemble.validation import validate_fields, validate_steps

__all__ = [
    "ORTHONORMALITY_TOLERANCE",
    "GaussianSamples",
    "neel_orbitals",
    "product_orbitals",
    "GaussianEngine",
    "evolve_orbitals",
    "orbital_magnetizations",
    "entanglement_entropy",
    "gaussian_trajectory",
    "gaussian_magnetizations",
    "gaussian_entropy",
]

#: A run whose orbitals deviate from orthonormality by more than this (max |W^dag W - 1|) raises.
ORTHONORMALITY_TOLERANCE = 1e-10
_SZ = LocalMagnetization()
#: Rounding makes |exp(-i tau e)| and |v| differ from 1 by ~1e-16 with a fixed sign, so the
#: deviation grows linearly, ~1e-16 per step (2e-12 after 20,000 steps at L = 100 and 200). Every
#: ``_DRIFT_CHUNK`` steps it is measured, and only above ``_DRIFT_THRESHOLD`` are the orbitals
#: re-orthonormalised (Löwdin: the smallest change that does it).
_DRIFT_CHUNK = 20_000
_DRIFT_THRESHOLD = 1e-11


class GaussianSamples(NamedTuple):
    """Observables of one Gaussian trajectory at the sample steps.

    Attributes
    ----------
    sz : numpy.ndarray
        Shape ``(n_samples, L)``; column ``j - 1`` is ``<S^z_j>``.
    entropy : numpy.ndarray
        Shape ``(n_samples, len(cuts))``; von Neumann entropy (natural log) of sites
        ``1..cut`` for each requested cut.
    """

    sz: np.ndarray
    entropy: np.ndarray


def neel_orbitals(L: int) -> np.ndarray:
    """Orbitals of the Néel state (site 1 up = occupied): orbital k sits on site 2k - 1.

    Returns
    -------
    numpy.ndarray
        Complex ``(L, L // 2)`` matrix with ``W[2k, k] = 1`` (0-based), zero elsewhere.
    """
    if L < 2 or L % 2:
        raise ValueError(f"L must be even and >= 2 (Néel start, Sz_tot = 0); got L={L}")
    return product_orbitals(L, np.arange(0, L, 2))


def product_orbitals(L: int, up_sites: np.ndarray) -> np.ndarray:
    """Orbitals of a product state (up = occupied): orbital k sits on the k-th up site.

    Returns
    -------
    numpy.ndarray
        Complex ``(L, len(up_sites))`` matrix with ``W[up_sites[k], k] = 1``, zero elsewhere.
    """
    up = np.asarray(up_sites, dtype=np.int64)
    W = np.zeros((L, up.size), dtype=np.complex128)
    W[up, np.arange(up.size)] = 1.0
    return W


def orbital_magnetizations(W: np.ndarray) -> np.ndarray:
    """``<S^z_j> = sum_k |W_jk|^2 - 1/2`` for orthonormal orbitals W of shape (L, N)."""
    return np.einsum("jk,jk->j", W.real, W.real) + np.einsum("jk,jk->j", W.imag, W.imag) - 0.5


def _check_orthonormal(Wr: np.ndarray, Wi: np.ndarray, step: int) -> None:
    """Raise unless W = Wr + i Wi has max |W^dagger W - 1| <= ORTHONORMALITY_TOLERANCE."""
    overlap_r = Wr.T @ Wr + Wi.T @ Wi - np.eye(Wr.shape[1])
    overlap_i = Wr.T @ Wi - Wi.T @ Wr
    deviation = np.sqrt(overlap_r**2 + overlap_i**2).max()
    if not deviation <= ORTHONORMALITY_TOLERANCE:  # also catches NaN
        raise FloatingPointError(
            f"orbitals deviate from orthonormality by {deviation:.3e} "
            f"(> {ORTHONORMALITY_TOLERANCE:g}) at step {step}; the propagation is not trustworthy"
        )


# ``reassoc`` lets LLVM vectorise the two dot-product reductions; no ``nnan``/``ninf`` so a NaN
# still propagates to the orthonormality check.
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@numba.njit(cache=True, fastmath=_FASTMATH, nogil=True)
def _kicked_steps(cr, ci, pr, pi, v, ar, ai):  # pragma: no cover - compiled
    """Apply ``len(ar)`` steps in the eigenbasis, in place, one orbital at a time.

    ``cr + i ci`` holds the orbitals as rows (N, L) in the eigenbasis of Q; ``pr + i pi`` is
    ``exp(-i tau e)``; ``v`` the unit bath-site row of V; ``ar + i ai`` the kick factors
    ``exp(-i eta_n gamma) - 1``. Per step and orbital x: ``x <- p * x; x <- x + a v (v . x)``.
    """
    n_orb, L = cr.shape
    for k in range(n_orb):
        xr = cr[k]
        xi = ci[k]
        for n in range(ar.size):
            sr = 0.0
            si = 0.0
            for j in range(L):
                yr = pr[j] * xr[j] - pi[j] * xi[j]
                yi = pr[j] * xi[j] + pi[j] * xr[j]
                xr[j] = yr
                xi[j] = yi
                sr += v[j] * yr
                si += v[j] * yi
            gr = ar[n] * sr - ai[n] * si
            gi = ar[n] * si + ai[n] * sr
            for j in range(L):
                xr[j] += v[j] * gr
                xi[j] += v[j] * gi


def _lowdin_if_drifted(cr: np.ndarray, ci: np.ndarray, step: int) -> None:
    """Re-orthonormalise the orbitals (rows of cr + i ci) in place if they drifted.

    Deviations between ``_DRIFT_THRESHOLD`` and :data:`ORTHONORMALITY_TOLERANCE` are rounding
    drift and are removed with Löwdin's ``C <- C (C^dagger C)^(-1/2)`` (the closest orthonormal
    set); larger ones (or NaN) raise ``FloatingPointError`` instead of being hidden.
    """
    X = cr + 1j * ci
    S = X.conj() @ X.T  # C^dagger C with C = X^T
    deviation = np.abs(S - np.eye(S.shape[0])).max()
    if not deviation <= ORTHONORMALITY_TOLERANCE:
        raise FloatingPointError(
            f"orbitals deviate from orthonormality by {deviation:.3e} "
            f"(> {ORTHONORMALITY_TOLERANCE:g}) at step {step}; the propagation is not trustworthy"
        )
    if deviation <= _DRIFT_THRESHOLD:
        return
    s, U = np.linalg.eigh(S)
    X = (U.conj() / np.sqrt(s)) @ U.T @ X  # (S^-1/2)^T X
    cr[:] = X.real
    ci[:] = X.imag


def _kick_factors(etas: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary parts of ``exp(-i eta gamma) - 1``, accurate for small angles."""
    theta = -gamma * etas
    return -2.0 * np.sin(0.5 * theta) ** 2, np.sin(theta)


def evolve_orbitals(
    fields: np.ndarray,
    etas: np.ndarray,
    sample_steps: np.ndarray,
    *,
    gamma: float,
    tau: float = 0.05,
    J: float = 1.0,
) -> Iterator[np.ndarray]:
    """Yield the orbitals W (L, N) of one trajectory at each sample step, in order.

    Parameters
    ----------
    fields : array (L,)
        On-site fields h_j (units of J), ``fields[j-1]`` is site j; L even.
    etas : array
        Noise increments; step n (1-based) uses ``etas[n-1]``. Needs ``max(sample_steps)``
        finite values when ``gamma != 0``; ignored when ``gamma == 0``.
    sample_steps : array of int
        Non-negative, strictly increasing step counts; the times are ``sample_steps * tau``.
    gamma, tau, J : float
        Bath coupling, time step (1/J) and exchange coupling.

    Yields
    ------
    numpy.ndarray
        Complex ``(L, L // 2)`` orbitals, orthonormal to :data:`ORTHONORMALITY_TOLERANCE`
        (checked; a fresh array each time).

    Raises
    ------
    FloatingPointError
        If the orbitals lose orthonormality (never a silent NaN).
    """
    for Wr, Wi in _evolve(fields, etas, sample_steps, gamma=gamma, tau=tau, J=J):
        yield Wr + 1j * Wi


def _evolve(
    fields, etas, sample_steps, *, gamma, tau, J, up_sites=None, bath_site=1, eigen=None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """:func:`evolve_orbitals` as (real, imaginary) parts: V is real, so W = V C is two dgemm.

    ``up_sites`` (0-based, default Néel) are the occupied sites of the product start, orbital k
    on the k-th of them; the kick acts on ``bath_site`` (1-based); ``eigen`` is a precomputed
    ``(energies, V) = eigh(Q)`` (shared by the two runs of a realization).
    """
    fields = validate_fields(fields)
    L = fields.size
    up = np.arange(0, L, 2) if up_sites is None else np.asarray(up_sites, dtype=np.int64)
    start = product_orbitals(L, up).real
    zero = np.zeros_like(start)
    steps = validate_steps(sample_steps)
    energies, V = sla.eigh(hopping_matrix(fields, J)) if eigen is None else eigen
    C0 = np.ascontiguousarray(V[up, :].T)  # V^T W(0): the occupied rows of V, shape (L, N)

    if gamma == 0.0:
        for step in steps:
            if step == 0:
                Wr, Wi = start.copy(), zero.copy()
            else:
                angle = (step * tau) * energies
                Wr = V @ (np.cos(angle)[:, None] * C0)
                Wi = V @ (-np.sin(angle)[:, None] * C0)
            _check_orthonormal(Wr, Wi, int(step))
            yield Wr, Wi
        return

    etas = np.asarray(etas, dtype=np.float64).ravel()
    if etas.size < steps[-1] or not np.all(np.isfinite(etas[: steps[-1]])):
        raise ValueError(f"etas must hold at least {steps[-1]} finite values when gamma != 0")
    ar, ai = _kick_factors(etas[: steps[-1]], float(gamma))
    phase = np.exp(-1j * tau * energies)
    pr, pi = np.ascontiguousarray(phase.real), np.ascontiguousarray(phase.imag)
    v = np.ascontiguousarray(V[bath_site - 1, :])
    v /= np.linalg.norm(v)
    cr = np.ascontiguousarray(C0.T)  # (N, L): one orbital per contiguous row
    ci = np.zeros_like(cr)
    done = 0
    for step in steps:
        while done < step:
            stop = min(int(step), done + _DRIFT_CHUNK)
            _kicked_steps(cr, ci, pr, pi, v, ar[done:stop], ai[done:stop])
            done = stop
            _lowdin_if_drifted(cr, ci, done)
        if step == 0:
            Wr, Wi = start.copy(), zero.copy()
        else:
            Wr, Wi = V @ cr.T, V @ ci.T
        _check_orthonormal(Wr, Wi, int(step))
        yield Wr, Wi


def gaussian_trajectory(
    fields: np.ndarray,
    etas: np.ndarray,
    sample_steps: np.ndarray,
    *,
    gamma: float,
    tau: float = 0.05,
    J: float = 1.0,
    cuts: Sequence[int] = (),
) -> GaussianSamples:
    """Magnetizations and (optionally) entanglement entropies of one Gaussian trajectory.

    Parameters are those of :func:`evolve_orbitals`, plus ``cuts``: subsystem sizes; cut c
    means A = sites 1..c (``L // 2`` is the half chain), ``0 <= c <= L``.

    Returns
    -------
    GaussianSamples
        ``sz`` of shape ``(n_samples, L)`` and ``entropy`` of shape ``(n_samples, len(cuts))``
        (natural log).
    """
    cuts = [int(c) for c in np.atleast_1d(np.asarray(cuts, dtype=np.int64))]
    L = np.asarray(fields).size
    for c in cuts:
        if not 0 <= c <= L:
            raise ValueError(f"cuts must lie between 0 and L={L}; got {c}")
    n = len(np.atleast_1d(sample_steps))
    sz = np.empty((n, L))
    entropy = np.empty((n, len(cuts)))
    for k, (Wr, Wi) in enumerate(_evolve(fields, etas, sample_steps, gamma=gamma, tau=tau, J=J)):
        sz[k] = _SZ.evaluate(OrbitalState(Wr, Wi))
        if cuts:
            W = Wr + 1j * Wi
            entropy[k] = [entanglement_entropy(W, c) for c in cuts]
    return GaussianSamples(sz=sz, entropy=entropy)


def gaussian_magnetizations(
    fields: np.ndarray,
    etas: np.ndarray,
    sample_steps: np.ndarray,
    *,
    gamma: float,
    tau: float = 0.05,
    J: float = 1.0,
) -> np.ndarray:
    """<S^z_j> along one trajectory at Delta = 0 (the engine behind ``engine="gaussian"``).

    Parameters are those of :func:`evolve_orbitals`.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sample_steps), L)``; column ``j - 1`` is ``<S^z_j>``; row 0 at step 0 is
        the Néel profile ``(-1)^(j+1)/2``.
    """
    return gaussian_trajectory(fields, etas, sample_steps, gamma=gamma, tau=tau, J=J).sz


def gaussian_entropy(
    fields: np.ndarray,
    etas: np.ndarray,
    sample_steps: np.ndarray,
    *,
    gamma: float,
    tau: float = 0.05,
    J: float = 1.0,
    cut: int | Sequence[int] | None = None,
) -> np.ndarray:
    """Entanglement entropy (nats) of sites 1..cut along one trajectory at Delta = 0.

    Parameters are those of :func:`evolve_orbitals`; ``cut`` is the subsystem size (default
    ``L // 2``, the half chain) or a sequence of them.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sample_steps),)`` for a single cut, ``(len(sample_steps), len(cut))`` for a
        sequence.
    """
    L = np.asarray(fields).size
    single = cut is None or np.ndim(cut) == 0
    cuts = [L // 2] if cut is None else list(np.atleast_1d(cut))
    out = gaussian_trajectory(fields, etas, sample_steps, gamma=gamma, tau=tau, J=J, cuts=cuts)
    return out.entropy[:, 0] if single else out.entropy


@REGISTRY.register("gaussian")
class GaussianEngine(Engine):
    """Free fermions (Delta = 0): Slater-determinant orbitals, the kick a rank-1 update (module docstring)."""

    EXPLICIT_NOISE = True
    FAMILY = "gaussian"
    STATE = "orbitals"
    PRIORITY = 10
    #: Seconds per step per L^2 / 2 (eigenbasis rank-1 update), plus a per-step overhead.
    SECONDS_PER_ENTRY = 2e-9
    SECONDS_PER_STEP = 5e-6

    def working_bytes(self, L: int) -> float:
        """A few L x L complex matrices (orbitals, eigenvectors of the hopping matrix)."""
        return 8 * L * L * 16

    def refuse(self, chain, bath, observables) -> str | None:
        """Refuses Delta != 0 (interacting chains are not Gaussian)."""
        if chain.delta != 0:
            return f"engine='gaussian' needs delta == 0 (free fermions); got delta={chain.delta}"
        return super().refuse(chain, bath, observables)

    def seconds(self, L: int, n_steps: int) -> float:
        """``n_steps`` rank-1 steps."""
        return n_steps * (self.SECONDS_PER_STEP + self.SECONDS_PER_ENTRY * L * L / 2)

    def prepare(self, task: Task) -> tuple[np.ndarray, np.ndarray]:
        """The eigenbasis ``(energies, V)`` of the hopping matrix Q, once for both runs."""
        return sla.eigh(hopping_matrix(task.fields, task.chain.J))

    def _run(self, eigen, task: Task, etas, gamma: float, sample: Sample) -> None:
        orbitals = _evolve(task.fields, etas, task.steps, gamma=gamma, tau=task.bath.tau, J=task.chain.J,
                           up_sites=task.up_sites, bath_site=task.bath.site, eigen=eigen)
        for k, (Wr, Wi) in enumerate(orbitals):
            sample(k, OrbitalState(Wr, Wi))

    def reference(self, prepared, task: Task, sample: Sample) -> None:
        """Exact noiseless orbitals ``V exp(-i t e) V^T W(0)`` at each sample time."""
        self._run(prepared, task, np.zeros(0), 0.0, sample)

    def trajectory(self, prepared, task: Task, rng: np.random.Generator, sample: Sample) -> None:
        """One noise trajectory: the bath's noise of steps 1..n, drawn in step order."""
        self.kicked(prepared, task, task.bath.noise(rng, int(task.steps[-1])), sample)

    def kicked(self, prepared, task: Task, etas: np.ndarray, sample: Sample) -> None:
        """The kicked run for given noise increments (step n uses ``etas[n - 1]``)."""
        self._run(prepared, task, etas, task.bath.gamma, sample)
