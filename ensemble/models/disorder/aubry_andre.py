"""Quasi-periodic (Aubry-André) fields: h_j = W cos(2 pi beta j + phi), phi drawn per realization.

The common alternative to random disorder in MBL studies and in optical-lattice experiments: the
fields are deterministic given the phase phi, which is drawn uniformly in [0, 2 pi) from the
realization's disorder stream. beta defaults to the inverse golden mean (sqrt(5) - 1) / 2
(cos(2 pi beta j) is the same for beta and beta + 1, so this is "the golden mean" of the literature).
For Delta = 0 and L -> infinity the single-particle states localize for W > J (self-dual point
W = J in this normalization, hopping J/2 and potential W).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ensemble.models.disorder import LAWS, Disorder
from ensemble.models.parameters import parameter

__all__ = ["AubryAndre", "GOLDEN"]

#: The inverse golden mean (sqrt(5) - 1) / 2.
GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@LAWS.register("aubry-andre")
@dataclass(frozen=True, kw_only=True)
class AubryAndre(Disorder):
    """h_j = W cos(2 pi beta j + phi), j = 1..L, phi ~ U[0, 2 pi) per realization."""

    beta: float = parameter(GOLDEN, doc="wave number of the quasi-periodic field (default (sqrt 5 - 1)/2)")

    def fields(self, L: int, W: float, rng: np.random.Generator) -> np.ndarray:
        """The fields for one phase phi = ``rng.uniform(0, 2 pi)``; shape (L,), units of J."""
        phi = rng.uniform(0.0, 2.0 * np.pi)
        return W * np.cos(2.0 * np.pi * self.beta * np.arange(1, L + 1) + phi)
