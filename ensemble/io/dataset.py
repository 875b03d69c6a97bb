"""The ensemble Dataset: construction, provenance attributes and validation.

The schema (variable dims, coordinates and their attributes) is defined once, in
:mod:`analysis.schema`, which the analysis reads; this module writes Datasets that follow it. Each
stored observable (:mod:`ensemble.observables`) becomes a variable with dims
``(L, W, gamma, realization, time, *its dims)`` (``(L, W, realization, *its dims)`` for one value
per realization, :func:`ensemble.observables.dataset_dims`) and its own ``long_name`` and ``units``.

Attributes are strings or numbers only (netCDF holds no dicts or None), so
``ds.to_netcdf(path)`` then ``xarray.open_dataset(path)`` round-trips the Dataset exactly.
"""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
import xarray as xr

from analysis.schema import COORD_ATTRS, FIELD_DIMS, SCHEMA_VERSION, SZ_DIMS
from ensemble.observables import CHAIN_DIMS, OBSERVABLES, dataset_dims

__all__ = ["build_dataset", "validate_dataset", "provenance_attrs", "COMPRESSION"]

#: Lossless zlib compression recorded in each variable's encoding, applied by ``to_netcdf``.
COMPRESSION = {"zlib": True, "complevel": 4}

#: The variables that are not observables (those declare their own, :mod:`ensemble.observables`).
_VARIABLE_ATTRS = {
    "field": dict(long_name="on-site field h_j in units of J", units="1"),
    "n_realizations": dict(long_name="number of disorder/noise realizations run", units="1"),
}
_PACKAGES = ("mbl-avalanche", "quspin", "numpy", "scipy", "numba", "xarray", "dask", "distributed", "netcdf4")


def _git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance_attrs(call: str) -> dict[str, str]:
    """Versions, git revision, creation time (UTC) and the call that made the data."""
    versions = []
    for name in _PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return {
        "versions": "; ".join(versions + [f"python {platform.python_version()}"]),
        "git_revision": _git_revision(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "call": call,
    }


def build_dataset(
    *,
    Ls: list[int],
    Ws: list[float],
    gamma: float,
    steps: np.ndarray,
    tau: float,
    n_realizations: Mapping[int, int],
    batches: Iterable[tuple[int, float, Mapping[str, np.ndarray]]],
    attrs: Mapping[str, str | int | float],
    observables: Sequence[str] = ("sz",),
) -> xr.Dataset:
    """Assemble batch results into the labelled Dataset.

    Parameters
    ----------
    Ls, Ws : list
        Grid axes (sorted).
    gamma : float
        The bath coupling; the ``gamma`` coordinate is ``[0, gamma]``.
    steps : array of int
        Sample steps; ``time = steps * tau``.
    n_realizations : mapping L -> int
        Realizations per L; the ``realization`` axis has the largest.
    batches : iterable of (L, W, batch)
        ``batch`` as returned by :func:`ensemble.run.realization.run_batch`.
    attrs : mapping
        Run parameters and provenance (strings and numbers only); ``schema_version`` is added
        (:data:`analysis.schema.SCHEMA_VERSION`).
    observables : sequence of str
        The stored quantities (:mod:`ensemble.observables`); each becomes a variable with the dims
        of :func:`ensemble.observables.dataset_dims`, NaN where not run or beyond L.
    """
    n_sites, n_r = max(Ls), max(n_realizations[L] for L in Ls)
    kinds = [(name, OBSERVABLES.get(name)()) for name in observables]
    sizes = {"L": len(Ls), "W": len(Ws), "gamma": 2, "realization": n_r, "time": len(steps), "site": n_sites}
    values = {name: np.full([sizes[d] for d in dataset_dims(name)], np.nan) for name, _ in kinds}
    field = np.full((len(Ls), len(Ws), n_r, n_sites), np.nan)
    l_index = {L: i for i, L in enumerate(Ls)}
    w_index = {float(W): i for i, W in enumerate(Ws)}
    for L, W, batch in batches:
        i, k = l_index[L], w_index[float(W)]
        r = batch["realization"]
        # Mixed scalar/array indices separated by a slice: numpy puts the realization axis first,
        # which is exactly the batch layout (n, gamma, time, ...).
        for name, obs in kinds:
            sites = tuple(slice(0, L) for d in obs.DIMS if d in CHAIN_DIMS)
            if obs.PER_REALIZATION:
                values[name][(i, k, r, *sites)] = batch[name]
            else:
                values[name][(i, k, slice(None), r, slice(None), *sites)] = batch[name]
        field[i, k, r, :L] = batch["field"]
    coords = {
        "L": ("L", np.asarray(Ls, dtype=np.int64)),
        "W": ("W", np.asarray(Ws, dtype=np.float64)),
        "gamma": ("gamma", np.array([0.0, gamma])),
        "realization": ("realization", np.arange(n_r, dtype=np.int64)),
        "time": ("time", np.asarray(steps, dtype=np.int64) * tau),
        "step": ("time", np.asarray(steps, dtype=np.int64)),
        "site": ("site", np.arange(1, n_sites + 1, dtype=np.int64)),
    }
    variables = {name: (dataset_dims(name), values[name]) for name, _ in kinds}
    ds = xr.Dataset(
        {
            **variables,
            "field": (FIELD_DIMS, field),
            "n_realizations": ("L", np.array([n_realizations[L] for L in Ls], dtype=np.int64)),
        },
        coords=coords,
        attrs={**attrs, "schema_version": SCHEMA_VERSION},
    )
    for name, obs in kinds:
        ds[name].attrs.update(long_name=obs.LONG_NAME, units=obs.UNITS)
    for name, a in {**_VARIABLE_ATTRS, **COORD_ATTRS}.items():
        if name in ds.variables:
            ds[name].attrs.update(a)
    for name in (*observables, "field"):
        ds[name].encoding.update(COMPRESSION)
    return ds


def validate_dataset(ds: xr.Dataset) -> None:
    """Raise ``ValueError`` naming what is missing or inconsistent in an ensemble Dataset."""
    for name in ("sz", "field"):
        if name not in ds.data_vars:
            raise ValueError(f"Dataset has no variable {name!r}")
    expected = SZ_DIMS
    if tuple(ds.sz.dims) != expected:
        raise ValueError(f"sz must have dims {expected}; got {tuple(ds.sz.dims)}")
    for name in (*expected, "step"):
        if name not in ds.coords:
            raise ValueError(f"Dataset has no coordinate {name!r}")
    if ds.sizes["gamma"] != 2 or float(ds.gamma[0]) != 0.0:
        raise ValueError("the gamma coordinate must be [0, gamma]")
    if not np.array_equal(ds.site.values, np.arange(1, ds.sizes["site"] + 1)):
        raise ValueError("the site coordinate must be 1..max L")
    for name, var in ds.variables.items():
        for key in ("long_name", "units"):
            if key not in var.attrs:
                raise ValueError(f"variable {name!r} has no {key!r} attribute")
    for key, value in ds.attrs.items():
        if not isinstance(value, (str, int, float, np.integer, np.floating)):
            raise ValueError(f"attribute {key!r} is a {type(value).__name__}, which netCDF cannot hold")
