"""Exact jump unraveling of the noise-averaged kicked stepper (opt-in).

Averaged over ``eta ~ N(0, tau)``, the kick ``exp(-i eta gamma S^z_1)`` of paper Eq. (4) multiplies
every coherence between bath-up and bath-down components by ``exp(-gamma^2 tau / 2)`` and leaves the
populations alone. That is exactly the channel

.. math::

    \\rho \\mapsto (1 - p)\\,\\rho + p\\, Z_1 \\rho Z_1, \\qquad
    p = \\frac{1 - e^{-\\gamma^2 \\tau / 2}}{2}, \\qquad Z_1 = \\sigma^z_1 = 2 S^z_1,

so one averaged step is ``rho -> K(U rho U^dag)`` with ``U = exp(-i tau H0)``. The channel is
unraveled here by applying ``Z_1`` after step n with probability p, independently for every step:
flips happen at step boundaries after geometric waiting times (``rng.geometric(p)``, mean 1/p
steps), and between flips the state is propagated *exactly* over the whole interval with the
long-interval Chebyshev propagator (:class:`ensemble.engines.chebyshev.ChebyshevPropagator`). At gamma = 1,
tau = 0.05 a flip comes every ~81 steps (~4 time units), so a trajectory costs a few tens of
matrix-vector products per unit time instead of ~11 per tau step. The error budget is the
stepper's, ``tol`` per tau step: an interval of m steps is propagated to 2-norm error ``m * tol``
(capped at 1e-9), about 3 % fewer matvecs than ``tol`` per interval (L = 16, W = 8: 38.6 instead of
39.8 per unit time on average; the floor is the spectral half-width, ~30 there).

What it is exact for
--------------------
The average over jump trajectories equals the average over Gaussian-kick trajectories of any
quantity that is *linear in the state* rho(t) of one disorder realization - the paper's stepper
mean, including its Trotter error (tau is kept; this is not the tau -> 0 Lindbladian). Hence it
reproduces, with the same disorder realizations:

- realization-averaged magnetizations <S^z_j(t)> and therefore the imbalance I(t), the relative
  imbalance Ir(t) (a ratio of averages) and the threshold time t~ computed from them;
- the ``mean-then-abs`` front: delta S_j = |mean Sz_j(gamma=0) - mean Sz_j(gamma)| and h(t).

It does **not** reproduce anything nonlinear in one trajectory's state: single trajectories are a
different unraveling of the same mean (piecewise unitary with sudden Z_1 flips instead of a
diffusing phase), so per-trajectory fluctuations, error bars over realizations (their variance
differs; the mean does not), and the default ``abs-then-mean`` front (|Sz_j(0) - Sz_j(gamma)|
per realization, then averaged) differ from the Gaussian-kick stepper. Datasets made with it must
record ``unraveling="jump"``.

Randomness: the waiting times are drawn one at a time from the given generator, in order, so the
flip sequence does not depend on the sample times and extending t_final extends the same
trajectory (docs/design.md, Randomness). gamma = 0 draws nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ensemble.engines import REGISTRY, Sample, Task
from ensemble.engines.manybody import ManyBodyEngine, SectorOperators
from ensemble.models import xxz as model
from ensemble.models.baths.dephasing import flip_probability
from ensemble.observables import SectorState
from ensemble.engines.chebyshev import STEP_TOLERANCE, ChebyshevPropagator
from ensemble.engines.stepper import _check_norm, _magnetizations
from ensemble.validation import validate_chain, validate_scalar, validate_steps

__all__ = ["flip_probability", "flip_steps", "jump_magnetizations", "jump_from_operator", "jump_states", "JumpEngine"]

#: Z_1 as a bath-site phase table (column 0: site 1 up, +1; column 1: down, -1).
_Z1 = (1.0, -1.0)
#: Cap on the error bound of one interval between events (long waits at small p).
_MAX_INTERVAL_TOL = 1e-9


def flip_steps(p: float, n_steps: int, rng: np.random.Generator) -> np.ndarray:
    """Steps n in 1..n_steps after which Z_1 acts, each with probability p independently.

    Waiting times are drawn sequentially, ``n_k = n_{k-1} + rng.geometric(p)``, until one passes
    ``n_steps`` (that last draw is consumed but unused), so a longer run starts with the same flips.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"flip probability must be in [0, 1]; got {p}")
    flips: list[int] = []
    if p == 0.0:
        return np.zeros(0, dtype=np.int64)
    n = 0
    while True:
        n += int(rng.geometric(p))
        if n > n_steps:
            return np.asarray(flips, dtype=np.int64)
        flips.append(n)


def jump_from_operator(
    propagator: ChebyshevPropagator,
    sz: np.ndarray,
    psi0: np.ndarray,
    sample_steps: np.ndarray,
    *,
    p: float,
    tau: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, int]:
    """One jump trajectory for a prepared propagator (no validation; see jump_magnetizations).

    The flips act on the propagator's bath site.

    Returns
    -------
    (numpy.ndarray, int)
        ``<S^z_j>`` of shape ``(len(sample_steps), L)``, and the number of flips applied.
    """
    steps = np.asarray(sample_steps, dtype=np.int64)
    flips = flip_steps(p, int(steps[-1]), rng)
    out = np.empty((steps.size, sz.shape[0]))
    for k, psi in jump_states(propagator, psi0, steps, flips, tau=tau):
        out[k] = _magnetizations(sz, psi)
    return out, int(flips.size)


def jump_states(
    propagator: ChebyshevPropagator, psi0: np.ndarray, steps: np.ndarray, flips: np.ndarray, *, tau: float
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(k, psi)`` at each sample step, flipping the bath site after the steps ``flips``.

    ``psi`` is the live state vector (norm checked), valid until the next iteration.
    """
    # Events: every flip and every sample step, in order; a step can be both.
    events = np.union1d(flips, steps)
    is_flip = np.isin(events, flips)
    is_sample = np.isin(events, steps)
    psi = np.array(psi0, dtype=np.complex128, order="C")
    now = 0
    k = 0
    for n, flip, sample in zip(events.tolist(), is_flip.tolist(), is_sample.tolist()):
        if n > now:
            # The error budget of the Gaussian-kick stepper, tol per tau step: an interval of
            # m steps gets m * tol (fewer matvecs than tol per interval, same bound at any step).
            propagator.evolve(
                psi, (n - now) * tau, final_phase=_Z1 if flip else (1.0, 1.0),
                tol=min(propagator.tol * (n - now), _MAX_INTERVAL_TOL),
            )
            now = n  # (n == now only for sample step 0, never a flip: flips are >= 1)
        if sample:
            _check_norm(psi, n, allowance=2.0 * propagator.tol * n)
            yield k, psi
            k += 1


def jump_magnetizations(
    fields,
    sample_steps,
    *,
    delta: float,
    gamma: float,
    tau: float = 0.05,
    J: float = 1.0,
    rng: np.random.Generator,
    tol: float = STEP_TOLERANCE,
) -> np.ndarray:
    """<S^z_j> along one jump trajectory whose average is the Gaussian-kick stepper's mean.

    Exact for realization-averaged quantities linear in the state (I, Ir, t~, the mean-then-abs
    front); not for single trajectories or the abs-then-mean front (module docstring).

    Parameters
    ----------
    fields : array of shape (L,)
        On-site fields h_j (units of J); ``fields[j-1]`` is paper site j. L must be even.
    sample_steps : sequence of int
        Non-negative, strictly increasing step counts; times ``sample_steps * tau`` (units of 1/J).
    delta, gamma, tau, J : float
        As in :func:`ensemble.magnetization_trajectory`; the flip probability per step is
        :func:`flip_probability` (gamma, tau).
    rng : numpy.random.Generator
        Source of the waiting times (the realization's noise stream). Drawn sequentially.
    tol : float
        2-norm error bound per tau step, as for the Gaussian-kick stepper: an interval of m steps
        between events is propagated exactly to within ``m * tol`` (at most 1e-9).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sample_steps), L)``, column ``j - 1`` is ``<S^z_j>``.
    """
    fields, delta, gamma, J = validate_chain(fields, delta, gamma, J)
    steps = validate_steps(sample_steps)
    tau = validate_scalar("tau", tau, positive=True)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    L = fields.size
    sz = model.sz_diagonals(L)
    H = model.xxz_hamiltonian(fields, delta=delta, J=J)
    propagator = ChebyshevPropagator(H, sz[0] > 0, tol=tol)
    out, _ = jump_from_operator(
        propagator, sz, model.neel_state(L), steps, p=flip_probability(gamma, tau), tau=tau, rng=rng
    )
    return out


@REGISTRY.register("jump")
class JumpEngine(ManyBodyEngine):
    """Z_b flips after geometric waiting times (module docstring): the kick channel's mean, exactly.

    Shares H0, the propagator and the noiseless reference with :class:`ManyBodyEngine`; exact for
    realization means of quantities linear in the state only, so nonlinear observables are refused.
    """

    UNRAVELING = "jump"
    EXACT_FOR = "linear means"
    #: The jump unraveling needs ~35 matvecs per unit time instead of ~250 (benchmarks/stepper.py).
    COST_FRACTION = 0.2

    def seconds(self, L: int, n_steps: int) -> float:
        """A fifth of the kicked run's cost."""
        return super().seconds(L, n_steps) * self.COST_FRACTION

    def trajectory(self, prepared: SectorOperators, task: Task, rng: np.random.Generator, sample: Sample) -> None:
        """One jump trajectory; the waiting times are drawn from ``rng`` one at a time, in order."""
        flips = flip_steps(task.bath.flip_probability(), int(task.steps[-1]), rng)
        for k, psi in jump_states(prepared.propagator, prepared.psi0, task.steps, flips, tau=task.bath.tau):
            sample(k, SectorState(psi, prepared.sz))
