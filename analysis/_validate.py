"""Input validation shared by the analysis functions.

Every public function checks its input once, up front, and raises a ``ValueError`` that names
what is missing, instead of failing deep inside xarray with a ``KeyError``.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr

#: dims of ``sz`` in the Dataset schema (docs/design.md, "The Dataset").
SZ_DIMS: tuple[str, ...] = ("L", "W", "gamma", "realization", "time", "site")


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
    """Check that ``ds`` has ``sz`` with the schema's dims and coordinates, and ``gamma[0] == 0``."""
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
