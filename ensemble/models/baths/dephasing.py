"""The paper's bath: stroboscopic Gaussian S^z kicks on one site (site 1 by default).

Each Trotter step tau is followed by the kick ``exp(-i eta_n gamma S^z_b)``, eta_n ~ N(0, tau)
(variance tau), on the bath site b. Averaged over the noise this is the dephasing channel that
damps every coherence between bath-up and bath-down components by ``exp(-gamma^2 tau / 2)`` per
step: the Lindbladian ``-(gamma^2 / 2) [S^z_b, [S^z_b, rho]]`` as tau -> 0. The same channel is
unravelled exactly by a Z_b flip after each step with probability ``(1 - exp(-gamma^2 tau / 2)) / 2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ensemble.models.baths import BATHS, DIAGONAL_ONE_SITE_PHASE, Bath
from ensemble.models.parameters import parameter

__all__ = ["DephasingBath", "kick_phases", "flip_probability"]


def kick_phases(etas: np.ndarray, gamma: float) -> np.ndarray:
    """The kick ``exp(-i eta gamma S^z_1)`` as an (n, 2) table: column 0 bath up, 1 bath down.

    ``S^z_1 = +1/2`` (paper site 1 up) gets ``exp(-i eta gamma / 2)``, ``-1/2`` its conjugate.
    """
    up = np.exp(-0.5j * gamma * np.asarray(etas, dtype=np.float64))
    return np.stack([up, up.conj()], axis=1)


def flip_probability(gamma: float, tau: float) -> float:
    """p = (1 - exp(-gamma^2 tau / 2)) / 2: probability of a Z_1 flip after one step."""
    return -0.5 * math.expm1(-0.5 * gamma * gamma * tau)


@BATHS.register("dephasing")
@dataclass(frozen=True, kw_only=True)
class DephasingBath(Bath):
    """Gaussian S^z kicks of strength gamma every tau on site ``site`` (1 = the chain's end)."""

    STRUCTURE = DIAGONAL_ONE_SITE_PHASE

    gamma: float = parameter(1.0, check="real", table="model",
                             doc="bath coupling gamma, units of J^(1/2) (> 0 in a run: the gamma = 0 reference always runs too)")
    tau: float = parameter(0.05, check="positive", table="model", doc="Trotter step tau, units of 1/J")
    site: int = parameter(1, check="site", stable_default=True, doc="the bath site b, 1..L (1: the paper's end site)")

    def noise(self, rng: np.random.Generator, n_steps: int) -> np.ndarray:
        """eta_1..eta_n ~ N(0, tau) (standard deviation sqrt(tau)), in step order."""
        return rng.normal(0.0, math.sqrt(self.tau), int(n_steps))

    def kick_phases(self, etas: np.ndarray) -> np.ndarray:
        """:func:`kick_phases` with this bath's gamma."""
        return kick_phases(etas, self.gamma)

    def flip_probability(self) -> float:
        """:func:`flip_probability` with this bath's gamma and tau."""
        return flip_probability(self.gamma, self.tau)
