"""The ``noise="averaged"`` engine (Delta = 0): the bath run is the exact noise mean of the stepper.

Per disorder realization, the gamma run is replaced by the exact average over the noise of the
free-fermion stepper, an L x L correlation-matrix recursion (:mod:`ensemble.references.lindblad`),
so only the disorder fluctuates; the Trotter error of the stepper is kept. Exact for realization
means of quantities linear in the state. The noiseless reference runs on the trajectory engine
the ``engine`` flag names (the free-fermion one by default).
"""

from __future__ import annotations

import numpy as np

from ensemble.engines import REGISTRY, Engine, Sample, Task
from ensemble.engines.gaussian import GaussianEngine
from ensemble.engines.manybody import ManyBodyEngine
from ensemble.observables import MagnetizationState
from ensemble.references.lindblad import averaged_magnetizations

__all__ = ["AveragedEngine"]

#: Seconds per step per L^3 (the correlation-matrix recursion).
SECONDS_PER_ENTRY = 5e-11


@REGISTRY.register("averaged")
class AveragedEngine(Engine):
    """The exact noise mean of the free-fermion stepper as the bath run; a trajectory engine's reference."""

    FAMILY = "gaussian"
    NOISE = "averaged"
    STATE = "magnetizations"
    EXACT_FOR = "linear means"
    PRIORITY = 10

    def __init__(self, reference: Engine | None = None) -> None:
        self._reference = reference if reference is not None else GaussianEngine()

    @classmethod
    def for_family(cls, family: str) -> AveragedEngine:
        """The engine whose noiseless reference runs on ``family`` ("auto" and "gaussian": free fermions)."""
        return cls(ManyBodyEngine() if family == "manybody" else GaussianEngine())

    def refuse(self, chain, bath, observables) -> str | None:
        """Refuses Delta != 0 (the correlation matrix closes only for free fermions)."""
        if chain.delta != 0:
            return f"noise='averaged' needs delta == 0 (the Gaussian correlation matrix); got delta={chain.delta}"
        return super().refuse(chain, bath, observables)

    def seconds(self, L: int, n_steps: int) -> float:
        """``n_steps`` correlation-matrix steps."""
        return n_steps * (GaussianEngine.SECONDS_PER_STEP + SECONDS_PER_ENTRY * L**3)

    def working_bytes(self, L: int) -> float:
        """The reference engine's arrays or a few L x L complex matrices, whichever is larger."""
        return max(self._reference.working_bytes(L), 8 * L * L * 16)

    def prepare(self, task: Task):
        """The reference engine's operators."""
        return self._reference.prepare(task)

    def reference(self, prepared, task: Task, sample: Sample) -> None:
        """The noiseless run of the reference engine."""
        self._reference.reference(prepared, task, sample)

    def trajectory(self, prepared, task: Task, rng: np.random.Generator, sample: Sample) -> None:
        """The exact noise mean (draws nothing from ``rng``)."""
        sz = averaged_magnetizations(task.fields, task.steps, gamma=task.bath.gamma, tau=task.bath.tau,
                                     J=task.chain.J, bath_site=task.bath.site, up_sites=task.up_sites)
        for k in range(task.steps.size):
            sample(k, MagnetizationState(sz[k]))
