"""The paper's start: the Néel state with site 1 (the bath site) up."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.models.initial_states import STATES, ProductState

__all__ = ["Neel"]


@STATES.register("neel")
@dataclass(frozen=True, kw_only=True)
class Neel(ProductState):
    """|up down up down ...>: ``S^z_j(0) = (-1)^(j+1)/2``, up on sites 1, 3, 5, ..."""

    def up_sites(self, L: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Sites 1, 3, ..., L - 1 (0-based 0, 2, ...)."""
        return np.arange(0, L, 2, dtype=np.int64)
