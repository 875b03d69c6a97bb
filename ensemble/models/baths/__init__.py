"""Baths: what couples the chain to the environment (TOML table ``[bath]``, gamma and tau in ``[model]``).

A bath is a frozen :class:`Bath` dataclass, registered by name in :data:`BATHS`; each kind is one
module of this package. It carries its own physics: the site it acts on, the noise each step
draws, the kick that noise applies and the per-step probability of the jump that unravels the
same channel (its noise-averaged Lindbladian is stated in its module docstring). Engines never write these down
themselves; they declare the *structures* of kick they can apply (:attr:`Bath.STRUCTURE`) and call
the bath, so a new engine reproduces the same realizations from the same keyed streams.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.models.parameters import Parameters, Registry

__all__ = ["Bath", "BATHS", "SELECTOR", "DIAGONAL_ONE_SITE_PHASE"]

#: The TOML key of ``[bath]`` that names the bath.
SELECTOR = "kind"
BATHS = Registry("bath", __name__)

#: A kick that multiplies each basis state of the S^z basis by one of two phases, chosen by the
#: bath site's spin (up: column 0, down: column 1 of :meth:`Bath.kick_phases`). It preserves every
#: S^z sector and is a phase on one orbital for free fermions.
DIAGONAL_ONE_SITE_PHASE = "diagonal one-site phase"


@dataclass(frozen=True, kw_only=True)
class Bath(Parameters):
    """Base of the baths.

    Attributes
    ----------
    STRUCTURE : str
        The kind of per-step map the kick is (e.g. :data:`DIAGONAL_ONE_SITE_PHASE`); an engine applies
        the baths whose structure it lists.
    """

    TABLE = "bath"
    NAME = ""
    STRUCTURE = ""

    def noise(self, rng: np.random.Generator, n_steps: int) -> np.ndarray:
        """The noise of steps 1..n_steps, drawn in step order from the realization's noise stream."""
        raise NotImplementedError

    def kick_phases(self, etas: np.ndarray) -> np.ndarray:
        """The kicks of noise values ``etas`` as an (n, 2) complex table (bath site up, down)."""
        raise NotImplementedError

    def flip_probability(self) -> float:
        """Probability per step of the jump that unravels the same noise-averaged channel."""
        raise NotImplementedError
