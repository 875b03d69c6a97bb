"""The paper's disorder: h_j independent and uniform in [-W, W]."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.models.disorder import LAWS, Disorder

__all__ = ["UniformDisorder"]


@LAWS.register("uniform")
@dataclass(frozen=True, kw_only=True)
class UniformDisorder(Disorder):
    """h_j ~ U(-W, W), independently for j = 1..L, drawn in site order."""

    def fields(self, L: int, W: float, rng: np.random.Generator) -> np.ndarray:
        """``rng.uniform(-W, W, L)``: shape (L,), units of J."""
        return rng.uniform(-W, W, L)
