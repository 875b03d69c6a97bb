"""The noisy-kick stepper of paper Eq. (4) and the noiseless reference, many-body engine.

One step of the kicked evolution is

.. math::

    U_n = e^{-i \\eta_n \\gamma S^z_1} \\, e^{-i \\tau H_0},
    \\qquad \\eta_n \\sim \\mathcal{N}(0, \\tau) \\text{ (variance } \\tau),

so the state after n steps is ``U_n ... U_1 |Neel>`` at time t = n tau. The kick is diagonal in the
S^z basis: a phase ``exp(-i eta gamma sz_1)`` with ``sz_1 = +-1/2`` (S = sigma/2), i.e.
``exp(-i eta gamma / 2)`` where paper site 1 is up and its conjugate where it is down.

Two methods compute ``exp(-i tau H0)``:

``method="chebyshev"`` (default, production)
    :class:`ensemble.engines.chebyshev.ChebyshevPropagator`: fixed-order Chebyshev series, order chosen
    from Lanczos spectral bounds so that each step has 2-norm error <= ``tol`` (1e-12), in a
    single-threaded numba kernel with the kick fused into the last pass. Several-fold faster per
    step than the reference (see ``benchmarks/README.md``).
``method="expm_multiply_parallel"`` (reference)
    QuSpin's ``expm_multiply_parallel`` (truncated Taylor series at QuSpin's default tolerance),
    followed by the kick as a separate diagonal phase. Kept to validate the production path.

The noiseless reference (gamma = 0) never steps by tau: it is propagated exactly from one sample
time to the next with ``exp(-i (t_k - t_{k-1}) H0)`` (long-interval Chebyshev, error <= ``tol`` per
interval; or QuSpin's ``expm_multiply_parallel``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import scipy.sparse as sp

from ensemble.engines.chebyshev import STEP_TOLERANCE, ChebyshevPropagator
from ensemble.models.baths.dephasing import kick_phases

__all__ = [
    "kicked_magnetizations",
    "kicked_states",
    "noiseless_magnetizations",
    "noiseless_states",
    "kick_phases",
    "METHODS",
    "NORM_TOLERANCE",
]

#: A run whose state norm drifts further than this from 1 raises instead of returning numbers.
NORM_TOLERANCE = 1e-8
METHODS = ("chebyshev", "expm_multiply_parallel")
Method = Literal["chebyshev", "expm_multiply_parallel"]
#: Steps per kernel call (bounds the size of the phase table between two sample times).
_BLOCK = 4096


def _check_norm(psi: np.ndarray, step: int, allowance: float = 0.0) -> None:
    """Raise unless ``| <psi|psi> - 1 | <= NORM_TOLERANCE + allowance`` (NaN raises too).

    ``allowance`` is the drift a method is proven to produce: ``2 n tol`` after n Chebyshev
    propagations of 2-norm error <= tol each (the truncation error is systematic and adds up; e.g.
    ~2e-8 after 2e5 steps at tol = 1e-12). Anything beyond that is a genuine failure.
    """
    drift = abs(np.vdot(psi, psi).real - 1.0)
    limit = NORM_TOLERANCE + allowance
    if not drift <= limit:  # also catches NaN
        raise FloatingPointError(
            f"state norm drifted by {drift:.3e} (> {limit:.3g}) at step {step}; "
            "the propagation is not trustworthy"
        )


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got method={method!r}")


def _magnetizations(sz: np.ndarray, psi: np.ndarray) -> np.ndarray:
    return sz @ (psi.real**2 + psi.imag**2)


def kicked_magnetizations(
    H: sp.csr_matrix,
    sz: np.ndarray,
    psi0: np.ndarray,
    etas: np.ndarray,
    sample_steps: np.ndarray,
    *,
    gamma: float,
    tau: float,
    method: Method = "chebyshev",
    tol: float = STEP_TOLERANCE,
    propagator: ChebyshevPropagator | None = None,
    bath_site: int = 1,
) -> np.ndarray:
    """<S^z_j> along one noisy trajectory, sampled after the given numbers of steps.

    Parameters
    ----------
    H : scipy.sparse.csr_matrix
        H0 in the sector basis (units of J).
    sz : array (L, Ns)
        S^z_j diagonals (:func:`ensemble.models.xxz.sz_diagonals`); row j - 1 is site j.
    psi0 : array (Ns,)
        Normalized initial state.
    etas : array
        Noise increments; step n (1-based) uses ``etas[n - 1]``.
    sample_steps : array of int
        Non-negative, strictly increasing step counts (validated by the caller).
    gamma, tau : float
        Bath coupling and time step (units of J^(1/2) and 1/J).
    method : {"chebyshev", "expm_multiply_parallel"}
        Production Chebyshev kernel, or QuSpin's Taylor propagator (reference).
    tol : float
        Chebyshev only: bound on the 2-norm error of one step.
    propagator : ChebyshevPropagator, optional
        Chebyshev only: a propagator already built for this H and bath site (reuses its bounds).
    bath_site : int
        The kicked site b (1..L): the kick is ``exp(-i eta gamma S^z_b)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sample_steps), L)``.
    """
    out = np.empty((len(sample_steps), sz.shape[0]))
    for k, psi in kicked_states(H, sz[bath_site - 1] > 0, psi0, etas, sample_steps, gamma=gamma, tau=tau,
                                method=method, tol=tol, propagator=propagator):
        out[k] = _magnetizations(sz, psi)
    return out


def kicked_states(
    H: sp.csr_matrix,
    bath_up: np.ndarray,
    psi0: np.ndarray,
    etas: np.ndarray,
    sample_steps: np.ndarray,
    *,
    gamma: float,
    tau: float,
    method: Method = "chebyshev",
    tol: float = STEP_TOLERANCE,
    propagator: ChebyshevPropagator | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(k, psi)`` at each sample step of one noisy trajectory (norm checked).

    ``bath_up`` (bool, (Ns,)) marks the basis states whose bath site is up; ``psi`` is the live
    state vector, valid until the next iteration. Other parameters as in :func:`kicked_magnetizations`.
    """
    _check_method(method)
    psi = np.array(psi0, dtype=np.complex128, order="C")
    if method == "chebyshev":
        prop = propagator if propagator is not None else ChebyshevPropagator(H, bath_up, tol=tol)
        step = 0
        for k, target in enumerate(sample_steps):
            while step < target:
                stop = min(int(target), step + _BLOCK)
                prop.run(psi, tau, kick_phases(etas[step:stop], gamma))
                step = stop
            _check_norm(psi, step, allowance=2.0 * prop.tol * step)
            yield k, psi
        return

    from quspin.tools.evolution import expm_multiply_parallel  # the reference method only

    propagator_q = expm_multiply_parallel(H, a=-1j * tau, dtype=np.complex128)
    work = np.empty(2 * psi0.size, dtype=np.complex128)
    step = 0
    for k, target in enumerate(sample_steps):
        while step < target:
            psi = propagator_q.dot(psi, work_array=work, overwrite_v=True)
            phase = np.exp(-0.5j * gamma * etas[step])  # exp(-i eta gamma Sz_b) on Sz_b = +1/2
            psi *= np.where(bath_up, phase, phase.conjugate())
            step += 1
        _check_norm(psi, step)
        yield k, psi


def noiseless_magnetizations(
    H: sp.csr_matrix,
    sz: np.ndarray,
    psi0: np.ndarray,
    times: np.ndarray,
    *,
    method: Method = "chebyshev",
    tol: float = STEP_TOLERANCE,
    propagator: ChebyshevPropagator | None = None,
) -> np.ndarray:
    """<S^z_j>(t) under H0 alone, propagated exactly from one sample time to the next.

    Parameters
    ----------
    H, sz, psi0, method, propagator
        As in :func:`kicked_magnetizations`.
    times : array of float
        Non-negative, increasing sample times t (units of 1/J).
    tol : float
        Chebyshev only: bound on the 2-norm error of each interval between sample times.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(times), L)``.
    """
    out = np.empty((len(times), sz.shape[0]))
    for k, psi in noiseless_states(H, psi0, times, method=method, tol=tol, propagator=propagator):
        out[k] = _magnetizations(sz, psi)
    return out


def noiseless_states(
    H: sp.csr_matrix,
    psi0: np.ndarray,
    times: np.ndarray,
    *,
    method: Method = "chebyshev",
    tol: float = STEP_TOLERANCE,
    propagator: ChebyshevPropagator | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(k, psi)`` at each sample time of the noiseless run (norm checked; ``psi`` is live)."""
    _check_method(method)
    psi = np.array(psi0, dtype=np.complex128, order="C")
    if method == "chebyshev":
        # the bath mask only matters for kicks, which the noiseless run never applies
        prop = propagator if propagator is not None else ChebyshevPropagator(H, np.ones(psi.size, bool), tol=tol)
        t_now = 0.0
        for k, t in enumerate(times):
            if t > t_now:
                prop.evolve(psi, t - t_now)
                t_now = t
            _check_norm(psi, k, allowance=2.0 * prop.tol * k)
            yield k, psi
        return

    from quspin.tools.evolution import expm_multiply_parallel  # the reference method only

    propagator_q = expm_multiply_parallel(H, a=-1j, dtype=np.complex128)
    work = np.empty(2 * psi0.size, dtype=np.complex128)
    t_now = 0.0
    for k, t in enumerate(times):
        if t > t_now:
            propagator_q.set_a(-1j * (t - t_now), dtype=np.complex128)
            psi = propagator_q.dot(psi, work_array=work, overwrite_v=True)
            t_now = t
        _check_norm(psi, k)
        yield k, psi
