"""The many-body engine: the paper's Gaussian-kick stepper in the Sz_tot = 0 sector (any Delta).

H0 and its Chebyshev propagator (with its Lanczos spectral bounds) are built once per realization
and shared by the noiseless reference, propagated exactly between sample times, and the kicked run,
one fused Chebyshev pass per tau step (:mod:`ensemble.engines.stepper`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np
import scipy.sparse as sp

from ensemble.engines import REGISTRY, Engine, Sample, Task
from ensemble.engines.chebyshev import STEP_TOLERANCE, ChebyshevPropagator
from ensemble.engines.stepper import kicked_states, noiseless_states
from ensemble.models import xxz
from ensemble.observables import SectorState

__all__ = ["ManyBodyEngine", "SectorOperators", "prepare_sector"]

#: Seconds per step per (sector dimension x L), plus a per-step overhead (benchmarks/stepper.py).
SECONDS_PER_ENTRY = 6e-9
SECONDS_PER_STEP = 5e-6


@dataclass(frozen=True, eq=False)
class SectorOperators:
    """H0, the S^z table, the start vector and the propagator of one realization (None: not Chebyshev)."""

    H: sp.csr_matrix
    sz: np.ndarray
    psi0: np.ndarray
    propagator: ChebyshevPropagator | None


def prepare_sector(task: Task, tol: float = STEP_TOLERANCE) -> SectorOperators:
    """Build H0 (paper Eq. 1), the start and the propagator (kicks on ``task.bath.site``)."""
    L = task.L
    H = xxz.xxz_hamiltonian(task.fields, delta=task.chain.delta, J=task.chain.J)
    sz = xxz.sz_diagonals(L)
    psi0 = xxz.product_state(L, task.up_sites)
    return SectorOperators(H, sz, psi0, ChebyshevPropagator(H, sz[task.bath.site - 1] > 0, tol=tol))


def sector_working_bytes(L: int) -> float:
    """Bytes of the arrays a many-body realization holds: the S^z table, a few sector vectors and the
    CSR matrix of H0 (Ns = C(L, L/2))."""
    ns = comb(L, L // 2)
    return ns * (L * 8 + 6 * 16) + ns * L * 3 * 12


@REGISTRY.register("manybody")
class ManyBodyEngine(Engine):
    """Gaussian kicks ``exp(-i eta_n gamma S^z_b)`` after each ``exp(-i tau H0)``, eta_n ~ N(0, tau)."""

    EXPLICIT_NOISE = True
    FAMILY = "manybody"
    STATE = "sector"
    PRIORITY = 20

    def seconds(self, L: int, n_steps: int) -> float:
        """``n_steps`` kicked steps (the noiseless reference is much cheaper)."""
        return n_steps * (SECONDS_PER_STEP + SECONDS_PER_ENTRY * comb(L, L // 2) * L)

    def working_bytes(self, L: int) -> float:
        """:func:`sector_working_bytes`."""
        return sector_working_bytes(L)

    def prepare(self, task: Task) -> SectorOperators:
        """H0 and its propagator, once for both runs."""
        return prepare_sector(task)

    def reference(self, prepared: SectorOperators, task: Task, sample: Sample) -> None:
        """Exact noiseless propagation between sample times."""
        times = task.steps * task.bath.tau
        for k, psi in noiseless_states(prepared.H, prepared.psi0, times, propagator=prepared.propagator):
            sample(k, SectorState(psi, prepared.sz))

    def trajectory(self, prepared: SectorOperators, task: Task, rng: np.random.Generator, sample: Sample) -> None:
        """One noise trajectory: the bath's noise of steps 1..n, drawn in step order."""
        self.kicked(prepared, task, task.bath.noise(rng, int(task.steps[-1])), sample)

    def kicked(self, prepared: SectorOperators, task: Task, etas: np.ndarray, sample: Sample) -> None:
        """The kicked run for given noise increments (step n uses ``etas[n - 1]``)."""
        for k, psi in kicked_states(prepared.H, None, prepared.psi0, etas, task.steps, gamma=task.bath.gamma,
                                    tau=task.bath.tau, propagator=prepared.propagator):
            sample(k, SectorState(psi, prepared.sz))
