"""The local magnetizations <S^z_j>(t), S = sigma/2, one value per site (site 1 = column 0)."""

from __future__ import annotations

import numpy as np

from ensemble.observables import OBSERVABLES, MagnetizationState, Observable, OrbitalState, SectorState

__all__ = ["LocalMagnetization"]


@OBSERVABLES.register("sz")
class LocalMagnetization(Observable):
    """``<S^z_j>``: ``sz @ |psi|^2`` (sector), ``sum_k |W_jk|^2 - 1/2`` (orbitals), or as given."""

    DIMS = ("site",)
    LONG_NAME = "local magnetization <S^z_j>(t), S = sigma/2"
    STATES = ("sector", "orbitals", "magnetizations")
    LINEAR = True

    def evaluate(self, state) -> np.ndarray:
        """Shape (L,), values in [-1/2, 1/2]."""
        if isinstance(state, SectorState):
            psi = state.psi
            return state.sz @ (psi.real**2 + psi.imag**2)
        if isinstance(state, OrbitalState):
            Wr, Wi = state.Wr, state.Wi
            return np.einsum("jk,jk->j", Wr, Wr) + np.einsum("jk,jk->j", Wi, Wi) - 0.5
        if isinstance(state, MagnetizationState):
            return state.sz
        raise TypeError(f"sz cannot be evaluated on a {type(state).__name__}")
