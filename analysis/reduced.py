"""Reduced ensemble Datasets: the per-realization imbalance instead of every site's magnetization.

The imbalance statistics (I, Ir, t~, the collapse) need only ``I`` per trajectory, so a threshold
run can be kept and shipped as ``imbalance(L, W, gamma, realization, time)``: L times smaller than
``sz``. Every imbalance function of :mod:`analysis` accepts the reduced form directly and gives
bitwise the numbers it gives on the full Dataset (the stored values *are* :func:`imbalance` of it).
The front needs ``sz`` and refuses a reduced Dataset.
"""
from __future__ import annotations

import xarray as xr

from .imbalance import imbalance

__all__ = ["per_realization_imbalance", "REDUCED_NOTE"]

#: ``attrs["reduced"]`` of a reduced Dataset.
REDUCED_NOTE = (
    "sz replaced by the per-realization imbalance I = (2/L) sum_j (-1)^(j+1) Sz_j (float64, exact); "
    "regenerate sz with the 'command' or 'config' attribute"
)


def per_realization_imbalance(ds: xr.Dataset) -> xr.Dataset:
    """The reduced form of an ensemble Dataset: ``imbalance`` in place of ``sz``.

    Parameters
    ----------
    ds
        Ensemble Dataset with ``sz`` (L, W, gamma, realization, time, site).

    Returns
    -------
    xarray.Dataset
        ``imbalance`` (L, W, gamma, realization, time), dimensionless with I(0) = 1, NaN for
        realizations not run; ``field`` and ``n_realizations`` as in ``ds``; every attribute of
        ``ds`` plus ``reduced``. Compressed like the full Dataset when written to netCDF.
    """
    out = xr.Dataset(
        {"imbalance": imbalance(ds), "field": ds["field"], "n_realizations": ds["n_realizations"]},
        attrs={**ds.attrs, "reduced": REDUCED_NOTE},
    )
    for name in ("imbalance", "field"):
        out[name].encoding.update({"zlib": True, "complevel": 4})
    return out
