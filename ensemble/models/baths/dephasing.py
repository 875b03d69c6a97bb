"""The paper's bath: stroboscopic Gaussian S^z kicks on one site (site 1 by default).

Each Trotter step tau is followed by the kick ``exp(-i eta_n gamma S^z_b)``, eta_n ~ N(0, tau)
(variance tau), on the bath site b. Averaged over the noise this is the dephasing channel that
damps every coherence between bath-up and bath-down components by ``exp(-gamma^2 tau / 2)`` per
step: the Lindbladian ``-(gamma^2 / 2) [S^z_b, [S^z_b, rho]]`` as tau -> 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from ensemble.models.baths import BATHS, Bath
from ensemble.models.parameters import parameter

__all__ = ["DephasingBath"]


@BATHS.register("dephasing")
@dataclass(frozen=True, kw_only=True)
class DephasingBath(Bath):
    """Gaussian S^z kicks of strength gamma every tau on site ``site`` (1 = the chain's end)."""

    gamma: float = parameter(1.0, check="real", table="model",
                             doc="bath coupling gamma, units of J^(1/2) (> 0 in a run: the gamma = 0 reference always runs too)")
    tau: float = parameter(0.05, check="positive", table="model", doc="Trotter step tau, units of 1/J")
    site: int = parameter(1, check="site", stable_default=True, doc="the bath site b, 1..L (1: the paper's end site)")
