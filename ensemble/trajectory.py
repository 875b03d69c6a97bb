"""One quantum trajectory: the public entry point :func:`magnetization_trajectory`.

Validates its inputs once, then hands them to an engine: the many-body QuSpin stepper
(:mod:`ensemble.stepper`) or the free-fermion engine for Delta = 0.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from . import model, stepper

__all__ = [
    "magnetization_trajectory", "ENGINES", "validate_fields", "validate_steps", "validate_scalar", "validate_chain",
]

ENGINES = ("auto", "manybody", "gaussian")
Engine = Literal["auto", "manybody", "gaussian"]


def validate_fields(fields) -> np.ndarray:
    """Return ``fields`` as a float array after checking it describes an even, finite chain."""
    arr = np.asarray(fields, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"fields must be a 1-D array of on-site fields; got shape {arr.shape}")
    L = arr.size
    if L < 2 or L % 2:
        raise ValueError(f"L = len(fields) must be even and >= 2 (Néel start, Sz_tot = 0); got L={L}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("fields must be finite (found NaN or inf)")
    return arr


def validate_steps(sample_steps) -> np.ndarray:
    """Return ``sample_steps`` as int64 after checking they are integers, >= 0 and increasing."""
    raw = np.asarray(sample_steps)
    if raw.ndim != 1 or raw.size == 0:
        raise ValueError("sample_steps must be a non-empty 1-D sequence of step counts")
    if raw.dtype.kind not in "iu":
        if raw.dtype.kind != "f" or not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
            raise ValueError("sample_steps must be integers (numbers of tau steps)")
    steps = raw.astype(np.int64)
    if np.any(steps < 0):
        raise ValueError("sample_steps must be non-negative")
    if np.any(np.diff(steps) <= 0):
        raise ValueError("sample_steps must be strictly increasing")
    return steps


def validate_scalar(name: str, value: float, *, positive: bool = False) -> float:
    """Return ``value`` as a float after checking it is finite (and > 0 if ``positive``)."""
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name} must be finite{' and > 0' if positive else ''}; got {name}={value}")
    return value


def validate_chain(fields, delta: float, gamma: float, J: float) -> tuple[np.ndarray, float, float, float]:
    """Validated ``(fields, delta, gamma, J)``: an even, finite chain and finite couplings."""
    return (validate_fields(fields), validate_scalar("delta", delta), validate_scalar("gamma", gamma),
            validate_scalar("J", J))


def magnetization_trajectory(
    fields,
    etas,
    sample_steps,
    *,
    delta: float,
    gamma: float,
    tau: float = 0.05,
    J: float = 1.0,
    engine: Engine = "auto",
) -> np.ndarray:
    """<S^z_j> along one noisy trajectory of paper Eq. (4), at the requested steps.

    Each step is ``exp(-i eta_n gamma S^z_1) exp(-i tau H0)`` with H0 of paper Eq. (1) (open
    ends, S = sigma/2, energies in units of J); the state starts in the Néel state with site 1
    up, so ``<S^z_j>(0) = (-1)^(j+1)/2``. Site 1 is the bath site.

    Parameters
    ----------
    fields : array of shape (L,)
        On-site fields h_j (units of J); ``fields[j-1]`` is paper site j. L must be even.
    etas : array
        Noise increments eta_n (variance tau for the paper's bath); step n uses ``etas[n-1]``.
        Must hold at least ``max(sample_steps)`` finite values unless ``gamma == 0``, in which
        case it is ignored (the noiseless run is propagated exactly between sample times).
    sample_steps : sequence of int
        Non-negative, strictly increasing numbers of steps; the sample times are
        ``t = sample_steps * tau`` (units of 1/J). Step 0 is the Néel state.
    delta : float
        Anisotropy Delta (0: Anderson, free fermions; 1: Heisenberg).
    gamma : float
        Bath coupling (units of J^(1/2), so that the kick angle ``eta * gamma`` is a pure
        number); gamma = 0 is the noiseless reference.
    tau : float
        Trotter step (units of 1/J), > 0.
    J : float
        Exchange coupling.
    engine : {"auto", "manybody", "gaussian"}
        ``"manybody"``: QuSpin sector stepper (any Delta). ``"gaussian"``: free-fermion
        Slater-determinant engine (Delta = 0 only). ``"auto"``: gaussian when Delta == 0.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sample_steps), L)``, column ``j - 1`` is ``<S^z_j>`` (between -1/2 and 1/2).

    Raises
    ------
    ValueError
        On any malformed input (the message names the parameter).
    FloatingPointError
        If the state norm drifts by more than 1e-8 plus the propagator's proven truncation
        bound (2 x 1e-12 per propagation), or becomes NaN: never a silent NaN.
    """
    fields, delta, gamma, J = validate_chain(fields, delta, gamma, J)
    steps = validate_steps(sample_steps)
    tau = validate_scalar("tau", tau, positive=True)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}; got engine={engine!r}")
    etas = np.asarray(etas, dtype=np.float64).ravel()
    n_needed = int(steps[-1])
    if gamma != 0.0:
        if etas.size < n_needed:
            raise ValueError(
                f"etas holds {etas.size} values but the largest sample step is {n_needed}"
            )
        if not np.all(np.isfinite(etas[:n_needed])):
            raise ValueError("etas must be finite (found NaN or inf)")
    if engine == "gaussian" and delta != 0.0:
        raise ValueError(f"engine='gaussian' needs delta == 0 (free fermions); got delta={delta}")
    if engine == "gaussian" or (engine == "auto" and delta == 0.0):
        from . import gaussian

        return gaussian.gaussian_magnetizations(fields, etas, steps, gamma=gamma, tau=tau, J=J)

    L = fields.size
    H = model.xxz_hamiltonian(fields, delta=delta, J=J)
    sz = model.sz_diagonals(L)
    psi0 = model.neel_state(L)
    if gamma == 0.0:
        return stepper.noiseless_magnetizations(H, sz, psi0, steps * tau)
    return stepper.kicked_magnetizations(H, sz, psi0, etas, steps, gamma=gamma, tau=tau)
