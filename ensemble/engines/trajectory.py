"""One quantum trajectory for given noise increments: the public entry point :func:`magnetization_trajectory`.

Validates its inputs once, then hands them to the kick engine the ``engine`` flag selects
(:func:`ensemble.engines.select`): the many-body stepper (:mod:`ensemble.engines.manybody`) or the
free-fermion engine for Delta = 0 (:mod:`ensemble.engines.gaussian`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ensemble.engines import Task, select
from ensemble.models.baths.dephasing import DephasingBath
from ensemble.models.initial_states.neel import Neel
from ensemble.models.xxz import XXZChain
from ensemble.observables.sz import LocalMagnetization
from ensemble.validation import validate_chain, validate_scalar, validate_steps

__all__ = ["magnetization_trajectory", "ENGINES"]

#: The engine families of the ``engine`` flag (a registered engine's name is accepted too).
ENGINES = ("auto", "manybody", "gaussian")
Engine = Literal["auto", "manybody", "gaussian"]


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
    etas = np.asarray(etas, dtype=np.float64).ravel()
    n_needed = int(steps[-1])
    if gamma != 0.0:
        if etas.size < n_needed:
            raise ValueError(
                f"etas holds {etas.size} values but the largest sample step is {n_needed}"
            )
        if not np.all(np.isfinite(etas[:n_needed])):
            raise ValueError("etas must be finite (found NaN or inf)")
    chain = XXZChain(delta=delta, J=J)
    bath = DephasingBath(gamma=gamma, tau=tau)
    chosen = select(engine, "kick", "trajectory", chain, bath)
    if not chosen.EXPLICIT_NOISE:
        raise ValueError(f"engine={engine!r} evolves whole batches of realizations; use ensemble.run_grid or "
                         "ensemble.engines.batched.run_batched")
    L = fields.size
    task = Task(fields=fields, up_sites=Neel().up_sites(L), steps=steps, chain=chain, bath=bath)
    out = np.empty((steps.size, L))
    sz = LocalMagnetization()

    def sample(k: int, state) -> None:
        out[k] = sz.evaluate(state)

    prepared = chosen.prepare(task)
    if gamma == 0.0:
        chosen.reference(prepared, task, sample)
    else:
        chosen.kicked(prepared, task, etas, sample)
    return out
