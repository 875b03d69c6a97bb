"""Product starts beyond Néel: the domain wall and a random product state of the Sz_tot = 0 sector."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.models.initial_states import STATES, ProductState

__all__ = ["DomainWall", "RandomProduct"]


@STATES.register("domain-wall")
@dataclass(frozen=True, kw_only=True)
class DomainWall(ProductState):
    """|up ... up down ... down>: sites 1..L/2 up (the bath side), L/2 + 1..L down."""

    def up_sites(self, L: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Sites 1..L/2 (0-based 0..L/2 - 1)."""
        return np.arange(L // 2, dtype=np.int64)


@STATES.register("random-product")
@dataclass(frozen=True, kw_only=True)
class RandomProduct(ProductState):
    """A product state with L / 2 up spins on sites chosen uniformly, one draw per realization.

    All binom(L, L/2) configurations of the sector are equally likely: the up sites are the first
    L / 2 entries of ``rng.permutation(L)``, drawn from the realization's own keyed stream.
    """

    RANDOM = True

    def up_sites(self, L: int, rng: np.random.Generator | None) -> np.ndarray:
        """The first L / 2 entries of ``rng.permutation(L)``, sorted (0-based)."""
        if rng is None:
            raise ValueError("the random-product start needs the realization's generator")
        return np.sort(rng.permutation(L)[: L // 2]).astype(np.int64)
