"""The slowest relaxation rate Gamma of a realization's bath-coupled chain: one number, no time axis.

Gamma is the gap of the Lindbladian that the noisy kicks unravel (coefficient gamma^2 / 2, bath on
site b, Sz_tot = 0 block), in units of J; ``1/Gamma`` is the slowest thermalization time t_s of the
avalanche literature. It is computed from the realization's fields (the same keyed stream as its
trajectories, so it sits beside ``sz`` of the same disorder), by one of two methods that
:mod:`ensemble.references.relaxation` derives and tests:

``relaxation_rate``
    First order in gamma^2 (secular approximation): ``min(Pauli gap, slowest coherence)``, one dense
    diagonalization of H0, done twice; L <= 14 in seconds to a minute on one core. Needs Delta != 0
    (the Anderson chain's Bohr frequencies are degenerate).
``relaxation_resolution``
    The absolute rounding resolution of ``relaxation_rate`` (from the same computation, made once
    when both are stored): a rate below it is not resolved, only bounded from above by it.
``relaxation_rate_exact``
    The exact Lindbladian gap (dense eigenvalues for L <= 6, shift-invert Arnoldi at L = 8); any
    gamma > 0, any Delta.
``relaxation_resolution_exact``
    Its absolute resolution, eps times the norm of the generator (~1e-15 to 1e-14 here): a gap below
    it is not resolved and may come out as a tiny number of either sign.
"""

from __future__ import annotations

from functools import lru_cache
from math import comb

import numpy as np

from ensemble.observables import OBSERVABLES, Observable

__all__ = ["WeakCouplingRelaxationRate", "WeakCouplingResolution", "ExactRelaxationRate", "ExactResolution",
           "weak_coupling", "exact"]

#: Measured single-core seconds of the weak-coupling rate at L = 14 (Ns = 3432; two dense
#: diagonalizations, two V^T A V products, two Laplacian gaps), scaled as Ns^3 to other L.
WEAK_SECONDS_L14 = 31.0
#: Dense Ns x Ns float64 matrices the weak-coupling rate holds at once (H0, perturbation, V, A, G, ...).
WEAK_DENSE_MATRICES = 8
#: Measured seconds of the exact gap at L = 8 (sparse LU of the Ns^2 = 4900 generator), scaled as Ns^3.
EXACT_SECONDS_L8 = 3.0
#: Largest chain the exact gap accepts (its Ns^2 x Ns^2 generator, references.relaxation.EXACT_MAX_DIMENSION).
EXACT_MAX_L = 8


@lru_cache(maxsize=4)
def _rate(method: str, fields: bytes, delta: float, gamma: float, J: float, bath_site: int):
    from ensemble.references import relaxation

    compute = {"weak": relaxation.weak_coupling_relaxation_rate, "exact": relaxation.exact_relaxation_rate}[method]
    return compute(np.frombuffer(fields, dtype=np.float64), delta=delta, gamma=gamma, J=J, bath_site=bath_site)


def _cached(method: str, task):
    """The ``method`` rate of one engine input, cached: a rate and its resolution share one computation."""
    fields = np.ascontiguousarray(task.fields, dtype=np.float64)
    return _rate(method, fields.tobytes(), float(task.chain.delta), float(task.bath.gamma), float(task.chain.J),
                 int(task.bath.site))


def weak_coupling(task):
    """The weak-coupling rates of one engine input (:class:`ensemble.references.relaxation.WeakCouplingRate`)."""
    return _cached("weak", task)


def exact(task):
    """The exact gap of one engine input (:class:`ensemble.references.relaxation.RelaxationRate`)."""
    return _cached("exact", task)


def _bath_refusal(name: str, bath) -> str | None:
    if bath.NAME != "dephasing":
        return f"{name}: the relaxation rate is derived for the dephasing bath only (got the {bath.NAME!r} bath)"
    return None


class _Weak(Observable):
    PER_REALIZATION = True
    COMPUTATION = "weak-coupling relaxation rate"

    def cost(self, L: int) -> tuple[float, float]:
        """Seconds (Ns^3 from the L = 14 measurement) and bytes (dense Ns x Ns matrices) of the one
        computation that gives both the rate and its resolution."""
        ns = comb(L, L // 2)
        return WEAK_SECONDS_L14 * (ns / comb(14, 7)) ** 3, WEAK_DENSE_MATRICES * 8.0 * ns**2

    def refuse(self, L: int, chain, bath) -> str | None:
        if _bath_refusal(self.NAME, bath):
            return _bath_refusal(self.NAME, bath)
        if chain.delta == 0.0:
            return (f"{self.NAME}: the weak-coupling rate needs Delta != 0 (the Anderson chain's Bohr frequencies "
                    "are degenerate); use relaxation_rate_exact at L <= 8")
        return None


@OBSERVABLES.register("relaxation_rate")
class WeakCouplingRelaxationRate(_Weak):
    """Gamma to first order in gamma^2: ``min(Pauli gap, slowest coherence)``, units of J."""

    LONG_NAME = ("slowest relaxation rate Gamma in units of J, first order in gamma^2 (secular Pauli master "
                 "equation of the H0 eigenstates and first-order coherence decay; Lindblad coefficient gamma^2/2)")

    def evaluate_realization(self, task) -> float:
        """Gamma (> 0) of one realization."""
        return float(weak_coupling(task).rate)


@OBSERVABLES.register("relaxation_resolution")
class WeakCouplingResolution(_Weak):
    """The absolute rounding resolution of ``relaxation_rate`` (units of J)."""

    LONG_NAME = ("absolute resolution of relaxation_rate in units of J (its change under a rounding-size "
                 "perturbation of H0, times 10): a rate below it is not resolved")

    def evaluate_realization(self, task) -> float:
        """The resolution (> 0) of one realization's weak-coupling rate."""
        return float(weak_coupling(task).resolution)


class _Exact(Observable):
    PER_REALIZATION = True
    COMPUTATION = "exact relaxation rate"

    def refuse(self, L: int, chain, bath) -> str | None:
        if _bath_refusal(self.NAME, bath):
            return _bath_refusal(self.NAME, bath)
        if L > EXACT_MAX_L:
            return (f"{self.NAME}: L = {L} > {EXACT_MAX_L} (the exact gap factorizes an Ns^2 x Ns^2 "
                    "generator); use relaxation_rate (weak coupling) beyond")
        return None

    def cost(self, L: int) -> tuple[float, float]:
        """Seconds (Ns^3 from the L = 8 measurement) and bytes (a dense Ns^2 x Ns^2 generator bound)."""
        ns = comb(L, L // 2)
        return EXACT_SECONDS_L8 * (ns / comb(8, 4)) ** 3, 16.0 * ns**4


@OBSERVABLES.register("relaxation_rate_exact")
class ExactRelaxationRate(_Exact):
    """The exact Lindbladian gap Gamma (units of J), L <= 8."""

    LONG_NAME = ("slowest relaxation rate Gamma in units of J: exact gap of the Lindbladian (coefficient "
                 "gamma^2/2) in the Sz_tot = 0 block; below relaxation_resolution_exact it is not resolved "
                 "(rounding can make it a tiny number of either sign)")

    def evaluate_realization(self, task) -> float:
        """Gamma of one realization (resolved where above its resolution)."""
        return float(exact(task).rate)


@OBSERVABLES.register("relaxation_resolution_exact")
class ExactResolution(_Exact):
    """The absolute rounding resolution of ``relaxation_rate_exact`` (units of J)."""

    LONG_NAME = ("absolute resolution of relaxation_rate_exact in units of J (eps times the 1-norm of the "
                 "generator): a gap below it is not resolved")

    def evaluate_realization(self, task) -> float:
        """The resolution (> 0) of one realization's exact gap."""
        return float(exact(task).resolution)
