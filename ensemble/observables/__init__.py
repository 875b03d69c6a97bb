"""Stored quantities: each declares its name, dims, ``long_name``, ``units`` and what it needs.

An observable is evaluated at every sample time on the state an engine holds there, which comes in
one of three representations (the engine's ``STATE``):

``"sector"``
    :class:`SectorState`: a many-body vector in the Sz_tot = 0 sector (QuSpin basis).
``"orbitals"``
    :class:`OrbitalState`: the L / 2 orbitals of a Slater determinant (free fermions, Delta = 0).
``"magnetizations"``
    :class:`MagnetizationState`: only ``<S^z_j>`` (engines that evolve a noise-averaged state).

An observable implements :meth:`Observable.evaluate` for the representations it supports and lists
them in ``STATES``. ``LINEAR`` says whether its realization mean is linear in the state rho(t); only
those are defined on the jump unraveling and on noise-averaged engines, whose single trajectories
are not the paper's. Each observable is one module of this package, registered in
:data:`OBSERVABLES`; the Dataset builder and the checkpoints are generic over them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.models.parameters import Registry

__all__ = ["Observable", "OBSERVABLES", "SectorState", "OrbitalState", "MagnetizationState", "resolve"]

OBSERVABLES = Registry("observable", __name__)


@dataclass(frozen=True)
class SectorState:
    """A normalized many-body state in the Sz_tot = 0 sector at one sample time.

    Attributes
    ----------
    psi : numpy.ndarray
        Complex amplitudes in the basis of :func:`ensemble.models.xxz.sector_basis` (L).
    sz : numpy.ndarray
        ``(L, Ns)`` S^z_j diagonals (:func:`ensemble.models.xxz.sz_diagonals`).
    """

    psi: np.ndarray
    sz: np.ndarray


@dataclass(frozen=True)
class OrbitalState:
    """A Slater determinant at one sample time: orbitals W = Wr + i Wi, shape (L, L / 2), orthonormal."""

    Wr: np.ndarray
    Wi: np.ndarray


@dataclass(frozen=True)
class MagnetizationState:
    """Only the local magnetizations ``<S^z_j>`` (shape (L,)) of a noise-averaged state."""

    sz: np.ndarray


class Observable:
    """Base of the observables (class attributes describe it; instances are stateless).

    Attributes
    ----------
    NAME : str
        Variable name in the Dataset and the checkpoints.
    DIMS : tuple of str
        Dims of one sample beyond (gamma, time): ``("site",)`` or ``()``.
    LONG_NAME, UNITS : str
        The variable's ``long_name`` and ``units`` attributes.
    STATES : tuple of str
        State representations it can be evaluated on.
    LINEAR : bool
        Whether its realization mean is linear in the state (defined on the jump unraveling and on
        noise-averaged engines).
    """

    NAME = ""
    DIMS: tuple[str, ...] = ()
    LONG_NAME = ""
    UNITS = "1"
    STATES: tuple[str, ...] = ()
    LINEAR = False

    def shape(self, L: int) -> tuple[int, ...]:
        """Shape of one sample for a chain of length L (``site`` is the only sample dim so far)."""
        if any(d != "site" for d in self.DIMS):
            raise ValueError(f"observable {self.NAME!r}: unknown sample dims {self.DIMS} (known: 'site')")
        return tuple(L for _ in self.DIMS)

    def evaluate(self, state) -> np.ndarray | float:
        """The value on one state (a :class:`SectorState`, :class:`OrbitalState` or :class:`MagnetizationState`)."""
        raise NotImplementedError


def resolve(names) -> tuple[str, ...]:
    """Validated observable names: a non-empty sequence of registered, distinct names, ``"sz"`` first.

    ``sz`` is always stored (the analysis needs it); it is added when missing.
    """
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise ValueError(f"observables must be a list of names; got {names!r}")
    names = list(names)
    for name in names:
        OBSERVABLES.get(name)
    if len(set(names)) != len(names):
        raise ValueError(f"observables must not repeat a name; got {names}")
    return ("sz", *[n for n in names if n != "sz"])
