"""Disorder laws: how the on-site fields h_j of one realization are drawn (TOML table ``[disorder]``).

A law is a frozen :class:`Disorder` dataclass with a :meth:`Disorder.fields` method, registered by
name in :data:`LAWS`; each law is one module of this package. The strength W is a grid axis, not a
parameter of the law. The generator passed in is the realization's keyed disorder stream
(:mod:`ensemble.run.seeds`), so a law's draws depend only on (seed, L, W, realization).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.models.parameters import Parameters, Registry

__all__ = ["Disorder", "LAWS", "SELECTOR"]

#: The TOML key of ``[disorder]`` that names the law.
SELECTOR = "law"
LAWS = Registry("disorder law", __name__)


@dataclass(frozen=True, kw_only=True)
class Disorder(Parameters):
    """Base of the disorder laws (no parameters of its own)."""

    TABLE = "disorder"
    NAME = ""

    def fields(self, L: int, W: float, rng: np.random.Generator) -> np.ndarray:
        """On-site fields h_j (units of J) of one realization, shape (L,), index j - 1 = site j."""
        raise NotImplementedError
