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
``relaxation_*``    (L, W, realization)                         per-realization relaxation rate Gamma
                                                                (units of J), optional: ``_rate``,
                                                                ``_resolution``, ``_rate_exact``
``field``           (L, W, realization, site)                   on-site field h_j (units of J)
``n_realizations``  (L,)                                        realizations run per L
``imbalance``       (L, W, gamma, realization, time)            reduced Datasets only, instead of sz
==================  ==========================================  ====================================

Coordinates: ``L``, ``W``, ``gamma`` = [0, gamma], ``realization``, ``time`` (t = step * tau, units
of 1/J), ``step`` (on ``time``), ``site`` = 1..max L. ``site`` is NaN-padded up to the largest L, so a
whole grid is one Dataset; reductions over ``site`` skip the padding and divide by ``L``.

Attributes used by the analysis: ``bath_site`` (b, default 1 for runs that predate it) and
``initial_state`` (default ``"neel"``).

Versions: every Dataset written since the schema was versioned carries ``attrs["schema_version"]``
(:data:`SCHEMA_VERSION`). Version 1 is every earlier file (no such attribute): it lacks some of the
attributes that later runs record, always at the value those runs implicitly had (the paper's bath,
law and start, no observables beyond ``sz`` unless ``entanglement`` was recorded). :func:`migrate`
adds them, explicitly and only where missing, so that reading and combining treat old and new files
alike and refuse only real physics differences. A file of a newer version is refused.
"""

from __future__ import annotations

__all__ = [
    "SZ_DIMS", "I_DIMS", "FIELD_DIMS", "COORDS", "COORD_ATTRS", "DEFAULT_BATH_SITE", "DEFAULT_INITIAL_STATE",
    "bath_site", "initial_state", "SCHEMA_VERSION", "migrate", "schema_version",
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


#: Version of the Dataset schema that this code writes (``attrs["schema_version"]``).
SCHEMA_VERSION = 2


def schema_version(ds) -> int:
    """The schema version of a Dataset: ``attrs["schema_version"]``, 1 for files written before it existed."""
    return int(ds.attrs.get("schema_version", 1))


def _engine_name_v1(attrs) -> str:
    """The engine a version-1 file was run with: before engines had their own names, the noise mode and
    the unraveling chose it within the family."""
    if attrs.get("noise") == "averaged":
        return "averaged"
    if attrs.get("unraveling") == "jump":
        return "jump"
    return str(attrs.get("engine_resolved", ""))


def _v1_to_v2(attrs: dict, data_vars) -> dict:
    """The attributes version 2 added, at the values every version-1 run had (only those missing)."""
    if "entanglement" in attrs:
        entanglement = int(attrs["entanglement"])
    else:  # the flag was recorded from when the observable existed: a file without it has no entropy
        entanglement = int("entanglement" in data_vars)
    added = {
        "entanglement": entanglement,
        "observables": "sz,entanglement" if entanglement else "sz",
        "disorder_law": "uniform",
        "initial_state": DEFAULT_INITIAL_STATE,
        "bath_kind": "dephasing",
        "bath_site": DEFAULT_BATH_SITE,
        "engine_name": _engine_name_v1(attrs),
    }
    return {key: value for key, value in added.items() if key not in attrs}


#: version -> the function that gives the attributes to add to reach the next version.
_MIGRATIONS = {1: _v1_to_v2}


def migrate(ds):
    """``ds`` read as the current schema version: older files get the attributes added since.

    Parameters
    ----------
    ds : xarray.Dataset
        A Dataset written by any version of this package (full, reduced or combined).

    Returns
    -------
    xarray.Dataset
        ``ds`` itself if it is of the current version; otherwise a shallow copy (the data are shared)
        whose attributes gained what each later version records, with ``schema_version`` set to
        :data:`SCHEMA_VERSION` and ``schema_migrated_from`` to the version read.

    Raises
    ------
    ValueError
        If ``ds`` was written by a newer schema version than this code reads.
    """
    version = schema_version(ds)
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"the Dataset has schema version {version}, newer than this mbl-avalanche reads ({SCHEMA_VERSION}); "
            "upgrade mbl-avalanche to read it"
        )
    if version == SCHEMA_VERSION:
        return ds
    out = ds.copy(deep=False)
    attrs = dict(ds.attrs)
    for v in range(version, SCHEMA_VERSION):
        attrs.update(_MIGRATIONS[v](attrs, ds.data_vars))
    attrs["schema_version"] = SCHEMA_VERSION
    attrs["schema_migrated_from"] = version
    out.attrs = attrs
    return out
