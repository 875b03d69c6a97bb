"""Imbalance I(t), relative imbalance Ir(t) with paired errors, threshold time t~ (paper Sec. IV A).

Conventions (docs/design.md): S = sigma/2; site 1 is the bath site; the Néel start has
``Sz_j(0) = (-1)^(j+1)/2`` so that

.. math:: I(t) = \\frac{2}{L} \\sum_{j=1}^{L} (-1)^{j+1} \\langle S^z_j(t) \\rangle, \\qquad I(0) = 1,

(the paper's Eq. 7 misses the factor 2 and the sign). The relative imbalance is
``Ir = (I0bar - Igbar) / I0bar`` with bars = means over realizations, gamma = 0 and gamma paired on
the same disorder (paper Eq. 8).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr

from ._validate import require, require_schema, set_attrs


def _chain_mask(ds: xr.Dataset) -> xr.DataArray:
    """True where ``site <= L`` (the site belongs to the chain of that L)."""
    return ds["site"] <= ds["L"]


def imbalance(ds: xr.Dataset) -> xr.DataArray:
    """Imbalance per trajectory pair, ``I(t) = (2/L) sum_j (-1)^(j+1) Sz_j(t)``.

    Parameters
    ----------
    ds
        Dataset with ``sz`` (L, W, gamma, realization, time, site), schema of docs/design.md.

    Returns
    -------
    xarray.DataArray
        ``I`` with dims (L, W, gamma, realization, time), dimensionless, I = 1 for the Néel state.
        The sum runs over the sites j <= L (padding beyond L is ignored) and is divided by the ``L``
        coordinate. A realization that was not run (NaN on its sites) gives NaN; so does any NaN on
        a site inside the chain (it is never silently skipped).
    """
    require_schema(ds)
    sz = ds["sz"]
    sign = xr.where(ds["site"] % 2 == 1, 1.0, -1.0)
    terms = (sign * sz).where(_chain_mask(ds), 0.0)
    out = 2.0 * terms.sum("site", skipna=False) / ds["L"]
    out = out.transpose("L", "W", "gamma", "realization", "time")
    out.name = "I"
    return set_attrs(out, "imbalance I = (2/L) sum_j (-1)^(j+1) Sz_j", "1")


def _paired_stats(
    x0: xr.DataArray, xg: xr.DataArray, error: Literal["jackknife", "unpaired"]
) -> dict[str, xr.DataArray]:
    """Means, standard errors and Ir over ``realization`` for paired samples x0, xg.

    Only realizations where both members of the pair are finite count. No warnings are raised on
    empty slices: sums and counts are taken explicitly and 0 counts give NaN.
    """
    valid = x0.notnull() & xg.notnull()
    n = valid.sum("realization")
    nf = n.where(n > 0)
    a = x0.where(valid, 0.0)
    b = xg.where(valid, 0.0)
    s0 = a.sum("realization")
    sg = b.sum("realization")
    m0 = s0 / nf
    mg = sg / nf
    nm1 = (n - 1).where(n > 1)
    var0 = ((a - m0) ** 2).where(valid, 0.0).sum("realization") / nm1
    varg = ((b - mg) ** 2).where(valid, 0.0).sum("realization") / nm1
    e0 = np.sqrt(var0 / nf)
    eg = np.sqrt(varg / nf)
    with np.errstate(divide="ignore", invalid="ignore"):
        ir = (m0 - mg) / m0
        if error == "jackknife":
            # delete-one means, then Ir_(i) = 1 - mg_(i)/m0_(i); var = (n-1)/n sum (Ir_(i) - Ir_(.))^2
            m0_i = (s0 - a) / nm1
            mg_i = (sg - b) / nm1
            ir_i = ((m0_i - mg_i) / m0_i).where(valid)
            ir_dot = ir_i.where(valid, 0.0).sum("realization") / nf
            ss = ((ir_i - ir_dot) ** 2).where(valid, 0.0).sum("realization")
            ir_err = np.sqrt(ss * nm1 / nf)
        elif error == "unpaired":
            # first-order propagation treating I0bar and Igbar as independent
            ir_err = np.sqrt((eg / m0) ** 2 + (mg * e0 / m0**2) ** 2)
        else:
            raise ValueError(f"error must be 'jackknife' or 'unpaired'; got {error!r}")
    return {"m0": m0, "mg": mg, "e0": e0, "eg": eg, "ir": ir, "ir_err": ir_err, "n": n}


def relative_imbalance(
    ds: xr.Dataset, *, error: Literal["jackknife", "unpaired"] = "jackknife"
) -> xr.Dataset:
    """Realization means of I for gamma = 0 and gamma, and the relative imbalance Ir with errors.

    Parameters
    ----------
    ds
        Dataset with ``sz`` (schema of docs/design.md).
    error
        ``"jackknife"`` (default): delete-one jackknife over realizations applied to the *pair*
        (I0_r, Ig_r) of each realization r; it keeps the covariance between gamma = 0 and gamma,
        which share the disorder, so correlated fluctuations cancel in Ir. ``"unpaired"``: naive
        propagation of the two standard errors as if independent (for comparison only; it
        overestimates the error when the pair is positively correlated).

    Returns
    -------
    xarray.Dataset
        Dims (L, W, time): ``I0``, ``I0_err``, ``Ig``, ``Ig_err`` (mean and standard error
        ``std/sqrt(n)``), ``Ir`` = (I0 - Ig)/I0, ``Ir_err``; ``n_realizations`` (L, W): the
        number of realizations where both gamma values exist (realizations not run are NaN and
        skipped; the count is per (L, W) and is the n used in the errors). Ir is 0 at t = 0 and tends to 1 when the bath thermalizes the chain.
        Attribute ``gamma`` holds the nonzero gamma, ``error`` the estimator.
    """
    require_schema(ds)
    i = imbalance(ds)
    st = _paired_stats(i.isel(gamma=0, drop=True), i.isel(gamma=1, drop=True), error)
    g = float(ds["gamma"].values[1])
    out = xr.Dataset(
        {
            "I0": set_attrs(st["m0"], "imbalance without bath, realization mean (gamma = 0)", "1"),
            "I0_err": set_attrs(st["e0"], "standard error of I0", "1"),
            "Ig": set_attrs(st["mg"], f"imbalance with bath, realization mean (gamma = {g:g})", "1"),
            "Ig_err": set_attrs(st["eg"], "standard error of Ig", "1"),
            "Ir": set_attrs(st["ir"], "relative imbalance Ir = (I0 - Ig)/I0", "1"),
            "Ir_err": set_attrs(st["ir_err"], f"standard error of Ir ({error})", "1"),
            "n_realizations": set_attrs(
                st["n"].max("time"), "number of paired realizations (both gamma values present)", "1"
            ),
        },
        attrs={"gamma": g, "error": error},
    )
    return out.transpose("L", "W", "time")


def _crossing(t: np.ndarray, y: np.ndarray, level: float) -> float:
    """First upward crossing of ``level`` by y(t), interpolated linearly in ln t.

    The first sample with ``y >= level`` (after samples with ``y < level``) defines the crossing;
    between the previous sample and it, y is interpolated linearly in ln t (linearly in t when
    the previous sample is t = 0, where ln t is undefined). If the very first finite sample
    already satisfies ``y >= level`` its time is returned. NaN when never crossed.
    """
    ok = np.isfinite(y)
    t, y = t[ok], y[ok]
    above = np.nonzero(y >= level)[0]
    if above.size == 0:
        return np.nan
    k = int(above[0])
    if k == 0:
        return float(t[0])
    t0, t1, y0, y1 = t[k - 1], t[k], y[k - 1], y[k]
    f = (level - y0) / (y1 - y0)
    if t0 <= 0:
        return float(t0 + f * (t1 - t0))
    return float(np.exp(np.log(t0) + f * (np.log(t1) - np.log(t0))))


def threshold_time(data: xr.Dataset, r_th: float = 0.17, **kw: object) -> xr.Dataset:
    """Threshold time t~(L, W): the first time the relative imbalance reaches ``r_th``.

    Parameters
    ----------
    data
        Either the output of :func:`relative_imbalance` (``Ir``, ``Ir_err``) or a Dataset with
        ``sz``, in which case :func:`relative_imbalance` is called with ``**kw``.
    r_th
        The threshold (paper: 0.17).

    Returns
    -------
    xarray.Dataset
        Dims (L, W), times in units of 1/J: ``t_tilde`` (first crossing of Ir, interpolated
        linearly in ln t), ``t_tilde_lower`` (crossing of Ir + Ir_err, the earliest compatible
        time), ``t_tilde_upper`` (crossing of Ir - Ir_err), ``crossed`` (bool: Ir reaches r_th
        within the data). t_tilde is NaN exactly where ``crossed`` is False; a bound is NaN where
        its curve never crosses (the upper bound then is "beyond the data"). Attribute ``r_th``.
    """
    if "Ir" not in data.data_vars:
        if "sz" in data.data_vars:
            data = relative_imbalance(data, **kw)  # type: ignore[arg-type]
        else:
            raise ValueError(
                "data: missing variable(s): needs 'sz' (a raw Dataset) or 'Ir' and 'Ir_err' "
                "(the output of relative_imbalance)"
            )
    require(data, variables=["Ir", "Ir_err"], dims=["L", "W", "time"], coords=["time"], what="data")
    ir = data["Ir"].transpose(..., "time")
    err = data["Ir_err"].transpose(..., "time")
    t = data["time"].values.astype(float)

    def cross(y: xr.DataArray) -> xr.DataArray:
        return xr.apply_ufunc(
            lambda v: _crossing(t, v, r_th),
            y,
            input_core_dims=[["time"]],
            vectorize=True,
            output_dtypes=[float],
        )

    tt = cross(ir)
    lo = cross(ir + err)
    hi = cross(ir - err)
    out = xr.Dataset(
        {
            "t_tilde": set_attrs(tt, f"threshold time t~·J (Ir = {r_th:g})", "1"),
            "t_tilde_lower": set_attrs(lo, "lower bound of t~·J (Ir + err crosses)", "1"),
            "t_tilde_upper": set_attrs(hi, "upper bound of t~·J (Ir - err crosses)", "1"),
            "crossed": set_attrs(tt.notnull(), f"Ir reaches {r_th:g} within the data", "1"),
        },
        attrs={"r_th": float(r_th)},
    )
    if "n_realizations" in data:
        out["n_realizations"] = data["n_realizations"]
    return out.transpose("L", "W", ...)


def collapse(data: xr.Dataset, **kw: object) -> xr.Dataset:
    """Scaling collapse ``L * Ir(t)`` (paper Eq. 13, Fig. 5): curves for different L at fixed W
    approach one limit curve, linear in ln t.

    Parameters
    ----------
    data
        The output of :func:`relative_imbalance`, or a Dataset with ``sz`` (then
        :func:`relative_imbalance` is called with ``**kw``).

    Returns
    -------
    xarray.Dataset
        ``L_Ir`` and ``L_Ir_err`` with dims (L, W, time), in lattice sites.
    """
    if "Ir" not in data.data_vars and "sz" in data.data_vars:
        data = relative_imbalance(data, **kw)  # type: ignore[arg-type]
    elif "Ir" not in data.data_vars:
        raise ValueError(
            "data: missing variable(s): needs 'sz' (a raw Dataset) or 'Ir' and 'Ir_err' "
            "(the output of relative_imbalance)"
        )
    require(data, variables=["Ir", "Ir_err"], dims=["L", "time"], coords=["L", "time"], what="data")
    L = data["L"].astype(float)
    return xr.Dataset(
        {
            "L_Ir": set_attrs(L * data["Ir"], "L·Ir (lattice sites)", "1"),
            "L_Ir_err": set_attrs(L * data["Ir_err"], "standard error of L·Ir", "1"),
        },
        attrs=dict(data.attrs),
    )
