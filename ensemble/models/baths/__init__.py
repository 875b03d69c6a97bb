"""Baths: what couples the chain to the environment (TOML table ``[bath]``, gamma and tau in ``[model]``).

A bath is a frozen :class:`Bath` dataclass, registered by name in :data:`BATHS`; each kind is one
module of this package. It states which site it acts on and the per-step map the engines apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from ensemble.models.parameters import Parameters, Registry

__all__ = ["Bath", "BATHS", "SELECTOR"]

#: The TOML key of ``[bath]`` that names the bath.
SELECTOR = "kind"
BATHS = Registry("bath", __name__)


@dataclass(frozen=True, kw_only=True)
class Bath(Parameters):
    """Base of the baths."""

    TABLE = "bath"
    NAME = ""
