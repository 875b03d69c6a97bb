"""The Dataset schema: one definition, read by :mod:`analysis` and written by ``ensemble.io``.

It lives on the reading side because :mod:`analysis` must never import the simulation package; the
writer (``ensemble/io/dataset.py``) builds its Datasets from these names and is tested against them.
Plain Python and numpy only.

==================  ==========================================  ====================================
name                dims                                        meaning
==================  ==========================================  ====================================
``sz``              (L, W, gamma, realization, time, site)      <S^z_j>(t), S = sigma/2; NaN where
                                                                site > L or the realization was not run
``entanglement``    (L, W, gamma, realization, time)            half-chain entropy (nats), optional
``field``           (L, W, realization, site)                   on-site field h_j (units of J)
``n_realizations``  (L,)                                        realizations run per L
``imbalance``       (L, W, gamma, realization, time)            reduced Datasets only, instead of sz
==================  ==========================================  ====================================

Coordinates: ``L``, ``W``, ``gamma`` = [0, gamma], ``realization``, ``time`` (t = step * tau, units
of 1/J), ``step`` (on ``time``), ``site`` = 1..max L. ``site`` is NaN-padded up to the largest L, so a
whole grid is one Dataset; reductions over ``site`` skip the padding and divide by ``L``.

Attributes used by the analysis: ``bath_site`` (b, default 1 for runs that predate it) and
``initial_state`` (default ``"neel"``).
"""

from __future__ import annotations

__all__ = [
    "SZ_DIMS", "I_DIMS", "FIELD_DIMS", "COORDS", "COORD_ATTRS", "DEFAULT_BATH_SITE", "DEFAULT_INITIAL_STATE",
    "bath_site", "initial_state",
]

#: dims of ``sz`` (and, without ``site``, of every per-trajectory scalar such as ``entanglement``).
SZ_DIMS: tuple[str, ...] = ("L", "W", "gamma", "realization", "time", "site")
#: dims of ``imbalance`` in a reduced Dataset (:mod:`analysis.reduced`), which has no ``sz``.
I_DIMS: tuple[str, ...] = ("L", "W", "gamma", "realization", "time")
#: dims of ``field``.
FIELD_DIMS: tuple[str, ...] = ("L", "W", "realization", "site")
#: every coordinate of a Dataset.
COORDS: tuple[str, ...] = ("L", "W", "gamma", "realization", "time", "step", "site")
#: ``long_name`` and ``units`` of each coordinate (dimensionless quantities: units "1").
COORD_ATTRS: dict[str, dict[str, str]] = {
    "L": dict(long_name="chain length L", units="1"),
    "W": dict(long_name="disorder strength W in units of J (h_j uniform in [-W, W])", units="1"),
    "gamma": dict(long_name="bath coupling gamma (0: noiseless reference)", units="1"),
    "realization": dict(long_name="realization index r", units="1"),
    "time": dict(long_name="time t·J", units="1"),
    "step": dict(long_name="number of Trotter steps n, t = n tau", units="1"),
    "site": dict(long_name="site j (1 = bath site)", units="1"),
}
DEFAULT_BATH_SITE = 1
DEFAULT_INITIAL_STATE = "neel"


def bath_site(ds) -> int:
    """The bath site b of a Dataset (``attrs["bath_site"]``; 1 for runs made before it was recorded)."""
    return int(ds.attrs.get("bath_site", DEFAULT_BATH_SITE))


def initial_state(ds) -> str:
    """The product start of a Dataset (``attrs["initial_state"]``; "neel" for older runs)."""
    return str(ds.attrs.get("initial_state", DEFAULT_INITIAL_STATE))
