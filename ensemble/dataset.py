"""The ensemble Dataset of docs/design.md: construction, provenance attributes and validation.

============  ==========================================  =======================================
name          dims                                        meaning
============  ==========================================  =======================================
``sz``        (L, W, gamma, realization, time, site)      <S^z_j>(t), S = sigma/2; NaN where
                                                          site > L or the realization was not run
``field``     (L, W, realization, site)                   disorder h_j (units of J)
============  ==========================================  =======================================

Coordinates: ``L``, ``W``, ``gamma`` = [0, gamma], ``realization``, ``time`` (t = step * tau),
``step`` (on ``time``), ``site`` = 1..max L (site 1 is the bath site). ``L`` is a dimension and
``site`` is NaN-padded up to the largest L, so a whole grid is one Dataset.

Attributes are strings or numbers only (netCDF holds no dicts or None), so
``ds.to_netcdf(path)`` then ``xarray.open_dataset(path)`` round-trips the Dataset exactly.
"""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["build_dataset", "validate_dataset", "provenance_attrs", "COMPRESSION"]

#: Lossless zlib compression recorded in each variable's encoding, applied by ``to_netcdf``.
COMPRESSION = {"zlib": True, "complevel": 4}

_VARIABLE_ATTRS = {
    "sz": dict(long_name="local magnetization <S^z_j>(t), S = sigma/2", units="1"),
    "field": dict(long_name="on-site field h_j in units of J", units="1"),
    "n_realizations": dict(long_name="number of disorder/noise realizations run", units="1"),
    "entanglement": dict(long_name="half-chain entanglement entropy S(sites 1..L/2) in nats", units="1"),
}
_COORD_ATTRS = {
    "L": dict(long_name="chain length L", units="1"),
    "W": dict(long_name="disorder strength W in units of J (h_j uniform in [-W, W])", units="1"),
    "gamma": dict(long_name="bath coupling gamma (0: noiseless reference)", units="1"),
    "realization": dict(long_name="realization index r", units="1"),
    "time": dict(long_name="time t·J", units="1"),
    "step": dict(long_name="number of Trotter steps n, t = n tau", units="1"),
    "site": dict(long_name="site j (1 = bath site)", units="1"),
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
        ``batch`` as returned by :func:`ensemble.realization.run_batch`.
    attrs : mapping
        Run parameters and provenance (strings and numbers only).
    """
    n_sites, n_r = max(Ls), max(n_realizations[L] for L in Ls)
    sz = np.full((len(Ls), len(Ws), 2, n_r, len(steps), n_sites), np.nan)
    field = np.full((len(Ls), len(Ws), n_r, n_sites), np.nan)
    entanglement = None
    l_index = {L: i for i, L in enumerate(Ls)}
    w_index = {float(W): i for i, W in enumerate(Ws)}
    for L, W, batch in batches:
        i, k = l_index[L], w_index[float(W)]
        r = batch["realization"]
        # Mixed scalar/array indices separated by a slice: numpy puts the realization axis first,
        # which is exactly the batch layout (n, gamma, time, site).
        sz[i, k, :, r, :, :L] = batch["sz"]
        field[i, k, r, :L] = batch["field"]
        if "entanglement" in batch:
            if entanglement is None:
                entanglement = np.full((len(Ls), len(Ws), 2, n_r, len(steps)), np.nan)
            entanglement[i, k, :, r, :] = batch["entanglement"]
    coords = {
        "L": ("L", np.asarray(Ls, dtype=np.int64)),
        "W": ("W", np.asarray(Ws, dtype=np.float64)),
        "gamma": ("gamma", np.array([0.0, gamma])),
        "realization": ("realization", np.arange(n_r, dtype=np.int64)),
        "time": ("time", np.asarray(steps, dtype=np.int64) * tau),
        "step": ("time", np.asarray(steps, dtype=np.int64)),
        "site": ("site", np.arange(1, n_sites + 1, dtype=np.int64)),
    }
    ds = xr.Dataset(
        {
            "sz": (("L", "W", "gamma", "realization", "time", "site"), sz),
            "field": (("L", "W", "realization", "site"), field),
            "n_realizations": ("L", np.array([n_realizations[L] for L in Ls], dtype=np.int64)),
        },
        coords=coords,
        attrs=dict(attrs),
    )
    if entanglement is not None:
        ds["entanglement"] = (("L", "W", "gamma", "realization", "time"), entanglement)
        ds["entanglement"].encoding.update(COMPRESSION)
    for name, a in {**_VARIABLE_ATTRS, **_COORD_ATTRS}.items():
        if name in ds.variables:
            ds[name].attrs.update(a)
    for name in ("sz", "field"):
        ds[name].encoding.update(COMPRESSION)
    return ds


def validate_dataset(ds: xr.Dataset) -> None:
    """Raise ``ValueError`` naming what is missing or inconsistent in an ensemble Dataset."""
    for name in ("sz", "field"):
        if name not in ds.data_vars:
            raise ValueError(f"Dataset has no variable {name!r}")
    expected = ("L", "W", "gamma", "realization", "time", "site")
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
