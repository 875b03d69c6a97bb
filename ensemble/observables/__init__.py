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
them in ``STATES``. An observable of the realization itself (``PER_REALIZATION``, e.g. the
relaxation rate) has no time axis and no gamma = 0 member: it implements
:meth:`Observable.evaluate_realization` on the engine's input (fields, chain, bath) and runs beside
the engine, on the same fields. ``LINEAR`` says whether its realization mean is linear in the state rho(t); only
those are defined on the jump unraveling and on noise-averaged engines, whose single trajectories
are not the paper's. Each observable is one module of this package, registered in
:data:`OBSERVABLES`; the Dataset builder and the checkpoints are generic over them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.models.parameters import Registry

__all__ = [
    "Observable", "OBSERVABLES", "SectorState", "OrbitalState", "MagnetizationState", "resolve", "sampled",
    "per_realization", "dataset_dims", "batch_dims", "CHAIN_DIMS",
]

OBSERVABLES = Registry("observable", __name__)
#: The sample dims whose length is the chain length L: a Dataset pads them with NaN up to the largest
#: L of its grid, and every writer and reader (Dataset, checkpoint parts, combining) takes the chain
#: part ``0..L-1`` of them by this rule.
CHAIN_DIMS = ("site",)


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
    PER_REALIZATION : bool
        One value per realization (no gamma, no time axis), from :meth:`evaluate_realization`.
    COMPUTATION : str
        For per-realization observables that share one computation (a rate and its resolution):
        its name, so that the plan counts its :meth:`cost` once; empty: the observable's own.
    """

    NAME = ""
    DIMS: tuple[str, ...] = ()
    LONG_NAME = ""
    UNITS = "1"
    STATES: tuple[str, ...] = ()
    LINEAR = False
    PER_REALIZATION = False
    COMPUTATION = ""

    def shape(self, L: int) -> tuple[int, ...]:
        """Shape of one sample for a chain of length L (``site`` is the only sample dim so far)."""
        if any(d not in CHAIN_DIMS for d in self.DIMS):
            raise ValueError(f"observable {self.NAME!r}: unknown sample dims {self.DIMS} (known: {CHAIN_DIMS})")
        return tuple(L for _ in self.DIMS)

    def evaluate(self, state) -> np.ndarray | float:
        """The value on one state (a :class:`SectorState`, :class:`OrbitalState` or :class:`MagnetizationState`)."""
        raise NotImplementedError

    def refuse(self, L: int, chain, bath) -> str | None:
        """Why a per-realization observable cannot be computed at chain length L, or None (checked
        before a run starts)."""
        return None

    def cost(self, L: int) -> tuple[float, float]:
        """Single-core seconds and peak bytes of a per-realization observable at chain length L, added
        to the engine's estimates by the run's plan (0, 0 for sampled observables: the engine's own)."""
        return 0.0, 0.0

    def evaluate_realization(self, task) -> np.ndarray | float:
        """The value of a per-realization observable for one engine input
        (:class:`ensemble.engines.Task`: fields, chain, bath)."""
        raise NotImplementedError


def sampled(names) -> tuple[str, ...]:
    """The names among ``names`` evaluated on the state at every sample time (what engines record)."""
    return tuple(n for n in names if not OBSERVABLES.get(n).PER_REALIZATION)


def per_realization(names) -> tuple[str, ...]:
    """The names among ``names`` with one value per realization (computed beside the engine)."""
    return tuple(n for n in names if OBSERVABLES.get(n).PER_REALIZATION)


def dataset_dims(name: str) -> tuple[str, ...]:
    """Dims of the stored variable ``name`` in a Dataset: ``(L, W, gamma, realization, time, *DIMS)``,
    or ``(L, W, realization, *DIMS)`` for a per-realization observable. The one rule for every writer
    and reader (Dataset, checkpoint parts, combining)."""
    obs = OBSERVABLES.get(name)
    base = ("L", "W", "realization") if obs.PER_REALIZATION else ("L", "W", "gamma", "realization", "time")
    return (*base, *obs.DIMS)


def batch_dims(name: str) -> tuple[str, ...]:
    """Dims of ``name`` in one batch of realizations at one (L, W) (a checkpoint part): the Dataset's
    dims without L and W, in batch order (realization first), ``step`` for ``time``."""
    obs = OBSERVABLES.get(name)
    base = ("realization",) if obs.PER_REALIZATION else ("realization", "gamma", "step")
    return (*base, *obs.DIMS)


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
