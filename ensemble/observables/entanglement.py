"""The half-chain entanglement entropy S(sites 1..L/2) of a pure state, in nats.

On a many-body sector vector it is the von Neumann entropy of the reduced density matrix of
sites 1..L/2, from QuSpin's ``basis.ent_entropy`` (``density=False``: the entropy itself, not per
site); on a Slater determinant it is the correlation-matrix formula
:func:`ensemble.models.free_fermion.entanglement_entropy`. Nonlinear in the state: undefined on the
jump unraveling and on noise-averaged engines (their trajectories are not the paper's).
"""

from __future__ import annotations

import numpy as np

from ensemble.models.free_fermion import entanglement_entropy
from ensemble.models.xxz import sector_basis
from ensemble.observables import OBSERVABLES, Observable, OrbitalState, SectorState

__all__ = ["HalfChainEntanglement", "sector_entropy"]


def sector_entropy(psi: np.ndarray, L: int, cut: int | None = None) -> float:
    """Von Neumann entropy (nats) of sites 1..cut (default L/2) of a normalized sector vector."""
    cut = L // 2 if cut is None else int(cut)
    if not 0 < cut < L:
        return 0.0
    out = sector_basis(L).ent_entropy(psi, sub_sys_A=list(range(cut)), density=False)
    return float(out["Sent_A"])


@OBSERVABLES.register("entanglement")
class HalfChainEntanglement(Observable):
    """S(sites 1..L/2) = -tr rho_A ln rho_A of each trajectory's pure state."""

    DIMS = ()
    LONG_NAME = "half-chain entanglement entropy S(sites 1..L/2) in nats"
    STATES = ("sector", "orbitals")
    LINEAR = False

    def evaluate(self, state) -> float:
        """The entropy in nats (0 <= S <= (L/2) ln 2)."""
        if isinstance(state, SectorState):
            return sector_entropy(state.psi, state.sz.shape[0])
        if isinstance(state, OrbitalState):
            W = state.Wr + 1j * state.Wi
            return entanglement_entropy(W, W.shape[0] // 2)
        raise TypeError(f"entanglement cannot be evaluated on a {type(state).__name__}")
