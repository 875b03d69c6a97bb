"""The noisy-kick stepper of paper Eq. (4) and the noiseless reference, many-body engine.

One step of the kicked evolution is

.. math::

    U_n = e^{-i \\eta_n \\gamma S^z_1} \\, e^{-i \\tau H_0},
    \\qquad \\eta_n \\sim \\mathcal{N}(0, \\tau) \\text{ (variance } \\tau),

so the state after n steps is ``U_n ... U_1 |Neel>`` at time t = n tau. The kick is diagonal in the
S^z basis and is applied as a phase ``exp(-i eta gamma sz_1)`` with ``sz_1 = +-1/2`` (S = sigma/2).
``exp(-i tau H0)`` acts through QuSpin's ``expm_multiply_parallel`` (truncated Taylor series with
QuSpin's double-precision tolerance).

The noiseless reference (gamma = 0) never steps by tau: it is propagated exactly from one sample
time to the next with ``exp(-i (t_k - t_{k-1}) H0)``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from quspin.tools.evolution import expm_multiply_parallel

__all__ = ["kicked_magnetizations", "noiseless_magnetizations", "NORM_TOLERANCE"]

#: A run whose state norm drifts further than this from 1 raises instead of returning numbers.
NORM_TOLERANCE = 1e-8


def _check_norm(psi: np.ndarray, step: int) -> None:
    drift = abs(np.vdot(psi, psi).real - 1.0)
    if not drift <= NORM_TOLERANCE:  # also catches NaN
        raise FloatingPointError(
            f"state norm drifted by {drift:.3e} (> {NORM_TOLERANCE:g}) at step {step}; "
            "the propagation is not trustworthy"
        )


def kicked_magnetizations(
    H: sp.csr_matrix,
    sz: np.ndarray,
    psi0: np.ndarray,
    etas: np.ndarray,
    sample_steps: np.ndarray,
    *,
    gamma: float,
    tau: float,
) -> np.ndarray:
    """<S^z_j> along one noisy trajectory, sampled after the given numbers of steps.

    Parameters
    ----------
    H : scipy.sparse.csr_matrix
        H0 in the sector basis (units of J).
    sz : array (L, Ns)
        S^z_j diagonals (:func:`ensemble.model.sz_diagonals`); row 0 is the bath site.
    psi0 : array (Ns,)
        Normalized initial state.
    etas : array
        Noise increments; step n (1-based) uses ``etas[n - 1]``.
    sample_steps : array of int
        Non-negative, strictly increasing step counts (validated by the caller).
    gamma, tau : float
        Bath coupling and time step (units of J and 1/J).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sample_steps), L)``.
    """
    propagator = expm_multiply_parallel(H, a=-1j * tau, dtype=np.complex128)
    work = np.empty(2 * psi0.size, dtype=np.complex128)
    bath_up = sz[0] > 0
    psi = psi0.astype(np.complex128, copy=True)
    out = np.empty((len(sample_steps), sz.shape[0]))
    step = 0
    for k, target in enumerate(sample_steps):
        while step < target:
            psi = propagator.dot(psi, work_array=work, overwrite_v=True)
            phase = np.exp(-0.5j * gamma * etas[step])  # exp(-i eta gamma Sz_1) on Sz_1 = +1/2
            psi *= np.where(bath_up, phase, phase.conjugate())
            step += 1
        _check_norm(psi, step)
        out[k] = sz @ (psi.real**2 + psi.imag**2)
    return out


def noiseless_magnetizations(
    H: sp.csr_matrix, sz: np.ndarray, psi0: np.ndarray, times: np.ndarray
) -> np.ndarray:
    """<S^z_j>(t) under H0 alone, propagated exactly from one sample time to the next.

    Parameters
    ----------
    H, sz, psi0
        As in :func:`kicked_magnetizations`.
    times : array of float
        Non-negative, increasing sample times t (units of 1/J).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(times), L)``.
    """
    propagator = expm_multiply_parallel(H, a=-1j, dtype=np.complex128)
    work = np.empty(2 * psi0.size, dtype=np.complex128)
    psi = psi0.astype(np.complex128, copy=True)
    out = np.empty((len(times), sz.shape[0]))
    t_now = 0.0
    for k, t in enumerate(times):
        if t > t_now:
            propagator.set_a(-1j * (t - t_now), dtype=np.complex128)
            psi = propagator.dot(psi, work_array=work, overwrite_v=True)
            t_now = t
        _check_norm(psi, k)
        out[k] = sz @ (psi.real**2 + psi.imag**2)
    return out
