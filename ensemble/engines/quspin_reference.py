"""QuSpin's own propagator as a many-body engine: the reference the Chebyshev kernel is validated against.

Each tau step is QuSpin's ``expm_multiply_parallel`` (a truncated Taylor series at QuSpin's default
tolerance) followed by the kick as a separate diagonal phase; the noiseless reference jumps between
sample times with the same propagator. Several times slower than :mod:`ensemble.engines.manybody`
(``benchmarks/stepper.py``); selected only by name, ``engine="quspin"``, never by ``"auto"``.
"""

from __future__ import annotations

import numpy as np

from ensemble.engines import REGISTRY, Sample, Task
from ensemble.engines.manybody import ManyBodyEngine, SectorOperators
from ensemble.engines.stepper import kicked_states, noiseless_states
from ensemble.models import xxz
from ensemble.observables import SectorState

__all__ = ["QuSpinEngine"]


@REGISTRY.register("quspin")
class QuSpinEngine(ManyBodyEngine):
    """The paper's kick stepper with QuSpin's ``expm_multiply_parallel`` for exp(-i tau H0)."""

    PRIORITY = 90
    #: Measured slowdown against the Chebyshev kernel (benchmarks/stepper.py, L = 12-16).
    SLOWDOWN = 4.0

    def seconds(self, L: int, n_steps: int) -> float:
        """The Chebyshev engine's estimate times :data:`SLOWDOWN`."""
        return super().seconds(L, n_steps) * self.SLOWDOWN

    def prepare(self, task: Task) -> SectorOperators:
        """H0, the S^z table and the start (no Chebyshev propagator)."""
        L = task.L
        H = xxz.xxz_hamiltonian(task.fields, delta=task.chain.delta, J=task.chain.J)
        return SectorOperators(H, xxz.sz_diagonals(L), xxz.product_state(L, task.up_sites), None)

    def reference(self, prepared: SectorOperators, task: Task, sample: Sample) -> None:
        """QuSpin propagation between sample times."""
        times = task.steps * task.bath.tau
        for k, psi in noiseless_states(prepared.H, prepared.psi0, times, method="expm_multiply_parallel"):
            sample(k, SectorState(psi, prepared.sz))

    def kicked(self, prepared: SectorOperators, task: Task, etas: np.ndarray, sample: Sample) -> None:
        """QuSpin steps, each followed by the kick phase on the bath site."""
        bath_up = prepared.sz[task.bath.site - 1] > 0
        for k, psi in kicked_states(prepared.H, bath_up, prepared.psi0, etas, task.steps, gamma=task.bath.gamma,
                                    tau=task.bath.tau, method="expm_multiply_parallel"):
            sample(k, SectorState(psi, prepared.sz))
