"""Initial product states in the Sz_tot = 0 sector (TOML table ``[initial]``).

A start is a frozen :class:`ProductState` dataclass, registered by name in :data:`STATES`; each
kind is one module of this package. It says which sites are up (``S^z_j(0) = +1/2``); the engines
build their own representation from that (a sector basis vector, or occupied site orbitals for
free fermions, up = occupied). The imbalance of any product start is
``I(t) = (2/L) sum_j s_j <S^z_j(t)>`` with ``s_j = 2 S^z_j(0)``, so I(0) = 1 for all of them
(for the Néel start s_j = (-1)^(j+1)).

A start that is random draws from the realization's own keyed stream (:mod:`ensemble.run.seeds`,
stream 2), never from the disorder or noise streams, so choosing it changes neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.models.parameters import Parameters, Registry

__all__ = ["ProductState", "STATES", "SELECTOR", "spins"]

#: The TOML key of ``[initial]`` that names the start.
SELECTOR = "state"
STATES = Registry("initial state", __name__)


@dataclass(frozen=True, kw_only=True)
class ProductState(Parameters):
    """Base of the product starts with L / 2 up spins."""

    TABLE = "initial"
    NAME = ""
    #: Whether :meth:`up_sites` uses its generator (only random starts draw).
    RANDOM = False

    def up_sites(self, L: int, rng: np.random.Generator | None) -> np.ndarray:
        """0-based indices (site j at j - 1) of the L / 2 up spins, sorted, int64."""
        raise NotImplementedError


def spins(L: int, up: np.ndarray) -> np.ndarray:
    """``S^z_j(0)`` (+-1/2) of the product state with the given up sites, shape (L,)."""
    out = np.full(L, -0.5)
    out[np.asarray(up, dtype=np.int64)] = 0.5
    return out
