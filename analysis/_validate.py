"""Input validation shared by the analysis functions.

Every public function checks its input once, up front, and raises a ``ValueError`` that names
what is missing, instead of failing deep inside xarray with a ``KeyError``.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr

from .schema import I_DIMS, SZ_DIMS


def is_reduced(ds: xr.Dataset) -> bool:
    """True for a reduced Dataset: the per-realization ``imbalance`` instead of ``sz``."""
    return "sz" not in ds.data_vars and "imbalance" in ds.data_vars


def require(
    obj: xr.Dataset | xr.DataArray,
    *,
    variables: Iterable[str] = (),
    dims: Iterable[str] = (),
    coords: Iterable[str] = (),
    what: str = "input",
) -> None:
    """Raise ``ValueError`` naming every missing variable, dimension or coordinate.

    Parameters
    ----------
    obj
        The Dataset or DataArray to check.
    variables
        Data variables that must be present (Datasets only).
    dims
        Dimensions that must be present. For a Dataset, the dims of each required variable
        are checked too.
    coords
        Coordinates that must be present (dimension coordinates or scalar coordinates).
    what
        A short name of the input for the message (e.g. ``"ds"``).
    """
    if not isinstance(obj, (xr.Dataset, xr.DataArray)):
        raise ValueError(f"{what} must be an xarray Dataset or DataArray; got {type(obj).__name__}")
    problems: list[str] = []
    variables = list(variables)
    if variables:
        if not isinstance(obj, xr.Dataset):
            raise ValueError(f"{what} must be an xarray Dataset with variable(s) {variables}")
        missing = [v for v in variables if v not in obj.data_vars]
        if missing:
            problems.append(f"missing variable(s) {missing}")
    dims = list(dims)
    missing_dims = [d for d in dims if d not in obj.dims]
    if missing_dims:
        problems.append(f"missing dimension(s) {missing_dims}")
    elif isinstance(obj, xr.Dataset):
        for v in variables:
            if v in obj.data_vars:
                lacking = [d for d in dims if d not in obj[v].dims]
                if lacking:
                    problems.append(f"variable {v!r} lacks dimension(s) {lacking}")
    missing_coords = [c for c in coords if c not in obj.coords]
    if missing_coords:
        problems.append(f"missing coordinate(s) {missing_coords}")
    if problems:
        raise ValueError(f"{what}: " + "; ".join(problems))


def require_schema(ds: xr.Dataset, what: str = "ds") -> None:
    """Check that ``ds`` has ``sz`` (or, reduced, ``imbalance``) with the schema's dims and coordinates,
    and ``gamma[0] == 0``."""
    if isinstance(ds, xr.Dataset) and is_reduced(ds):
        require(ds, variables=["imbalance"], dims=I_DIMS, coords=["L", "W", "gamma", "time"], what=what)
    else:
        require(ds, variables=["sz"], dims=SZ_DIMS, coords=["L", "W", "gamma", "time", "site"], what=what)
    gam = np.asarray(ds["gamma"].values, dtype=float)
    if gam.size != 2 or gam[0] != 0.0:
        raise ValueError(
            f"{what}: coordinate 'gamma' must be [0, gamma] (two values, the first 0); got {gam.tolist()}"
        )


def set_attrs(da: xr.DataArray, long_name: str, units: str = "1", **extra: object) -> xr.DataArray:
    """Replace the attributes of ``da`` with ``long_name``, ``units`` and ``extra`` (in place) and return it."""
    da.attrs = {"long_name": long_name, "units": units, **extra}
    return da


def check_fraction(value: object, name: str) -> float:
    """``value`` as a float strictly inside (0, 1), else ``ValueError`` naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in (0, 1); got {value!r}")
    x = float(value)
    if not (0.0 < x < 1.0):
        raise ValueError(f"{name} must be a number in (0, 1); got {value!r}")
    return x


def check_finite_number(value: object, name: str) -> float:
    """``value`` as a finite float, else ``ValueError`` naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    x = float(value)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return x


NONFINITE = ("raise", "drop")


def valid_pairs(ds: xr.Dataset, nonfinite: str = "raise") -> tuple[xr.DataArray, xr.DataArray]:
    """Which (realization, time) pairs of ``sz`` the statistics may use, and how many were dropped.

    A realization is *not run* at (L, W) when every value on its chain sites (j <= L), for both
    gamma values and all times, is NaN (the schema's marker for realizations an L did not run);
    it is left out silently and does not count. Any other non-finite value on a chain site
    (a NaN among finite values, or +-inf) is an error, unless ``nonfinite="drop"``: then the pair
    (both gamma members) is dropped *at that time only* and counted.

    Parameters
    ----------
    ds
        Dataset with ``sz`` (L, W, gamma, realization, time, site).
    nonfinite
        ``"raise"`` (default): ``ValueError`` naming L, W, gamma, realization, time and site of
        the first non-finite value. ``"drop"``: drop and count.

    Returns
    -------
    valid, dropped
        ``valid`` (L, W, realization, time) bool: the pair is used at that time; ``dropped``
        (L, W, time) int: the number of run realizations dropped at that time.
    """
    if nonfinite not in NONFINITE:
        raise ValueError(f"nonfinite must be 'raise' or 'drop'; got {nonfinite!r}")
    reduced = is_reduced(ds)
    if reduced:  # one "site": the stored imbalance itself
        v = ds["imbalance"].transpose(*I_DIMS).values[..., None]
        chain = np.ones((ds.sizes["L"], 1), dtype=bool)
    else:
        v = ds["sz"].transpose(*SZ_DIMS).values
        chain = ds["site"].values[None, :] <= ds["L"].values[:, None]  # (L, site)
    inchain = chain[:, None, None, None, None, :]
    fin = np.isfinite(v) | ~inchain
    nan_or_pad = np.isnan(v) | ~inchain
    not_run = nan_or_pad.all(axis=(2, 4, 5))  # (L, W, realization)
    bad = ~fin.all(axis=(2, 5)) & ~not_run[..., None]  # (L, W, realization, time)
    if nonfinite == "raise" and bad.any():
        iL, iW, ig, ir, it, js = np.argwhere(~fin & ~not_run[:, :, None, :, None, None])[0]
        where = "" if reduced else f", site={int(ds['site'][js])}"
        raise ValueError(
            f"{'imbalance' if reduced else 'sz'} has a non-finite value ({v[iL, iW, ig, ir, it, js]}) inside the "
            f"chain at L={int(ds['L'][iL])}, W={float(ds['W'][iW]):g}, gamma={float(ds['gamma'][ig]):g}, "
            f"realization={ds['realization'].values[ir]}, time={float(ds['time'][it]):g}{where}; pass "
            "nonfinite='drop' to drop that (realization, time) pair and count it"
        )
    valid = ~not_run[..., None] & ~bad
    coords = {k: ds[k] for k in ("L", "W", "realization", "time")}
    valid_da = xr.DataArray(valid, dims=("L", "W", "realization", "time"), coords=coords)
    dropped = xr.DataArray(bad.sum(axis=2), dims=("L", "W", "time"),
                           coords={k: ds[k] for k in ("L", "W", "time")})
    return valid_da, dropped
