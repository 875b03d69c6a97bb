"""Imbalance I(t), relative imbalance Ir(t) with paired errors, threshold time t~ (paper Sec. IV A).

Conventions (README, "Conventions"): S = sigma/2; site 1 is the bath site; the Néel start has
``Sz_j(0) = (-1)^(j+1)/2`` so that

.. math:: I(t) = \\frac{2}{L} \\sum_{j=1}^{L} (-1)^{j+1} \\langle S^z_j(t) \\rangle, \\qquad I(0) = 1,

(the paper's Eq. 7 misses the factor 2 and the sign). For any other product start it generalises to
``I(t) = (2/L) sum_j s_j <S^z_j(t)>`` with ``s_j = 2 S^z_j(0)``, so again I(0) = 1. The relative imbalance is
``Ir = (I0bar - Igbar) / I0bar`` with bars = means over realizations, gamma = 0 and gamma paired on
the same disorder (paper Eq. 8).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr

from ._validate import check_fraction, is_reduced, require, require_schema, set_attrs, valid_pairs
from .schema import initial_state

Definition = Literal["paper", "crossing"]


def _chain_mask(ds: xr.Dataset) -> xr.DataArray:
    """True where ``site <= L`` (the site belongs to the chain of that L)."""
    return ds["site"] <= ds["L"]


def start_signs(ds: xr.Dataset) -> xr.DataArray:
    """s_j = 2 S^z_j(0), the signs of the imbalance: ``(-1)^(j+1)`` for the Néel start.

    For another product start (``attrs["initial_state"]``) they are read from the stored t = 0
    magnetizations of the gamma = 0 member, per realization (a random start differs between
    realizations); those must be exactly +-1/2 on the chain sites.
    """
    if initial_state(ds) == "neel":
        return xr.where(ds["site"] % 2 == 1, 1.0, -1.0)
    if float(ds["time"][0]) != 0.0:
        raise ValueError("the imbalance of a non-Néel start needs the t = 0 sample (time[0] == 0)")
    s0 = 2.0 * ds["sz"].isel(time=0, gamma=0, drop=True)
    inside = s0.where(_chain_mask(ds)).values
    ok = np.isnan(inside) | (np.abs(inside) == 1.0)
    if not ok.all():
        raise ValueError("the t = 0 magnetizations are not those of a product state (2 Sz_j(0) != +-1)")
    return s0.transpose("site", ...)


def imbalance(ds: xr.Dataset, *, nonfinite: Literal["raise", "drop"] = "raise") -> xr.DataArray:
    """Imbalance per trajectory pair, ``I(t) = (2/L) sum_j s_j Sz_j(t)``, ``s_j = 2 Sz_j(0)``.

    For the Néel start ``s_j = (-1)^(j+1)``; for any product start I(0) = 1 (:func:`start_signs`).

    Parameters
    ----------
    ds
        Dataset with ``sz`` (L, W, gamma, realization, time, site), schema of the README, "Data".
    nonfinite
        What a non-finite value on a chain site of a realization that ran means:
        ``"raise"`` (default) a ``ValueError`` naming realization, time and site; ``"drop"``
        NaN for that (realization, time) pair, both gamma members (see
        :func:`analysis._validate.valid_pairs`).

    Returns
    -------
    xarray.DataArray
        ``I`` with dims (L, W, gamma, realization, time), dimensionless, I = 1 for the Néel state.
        The sum runs over the sites j <= L (padding beyond L is ignored) and is divided by the ``L``
        coordinate. A realization that was not run (NaN on all its chain sites) gives NaN; any
        other non-finite value is an error or, with ``nonfinite="drop"``, NaN for that pair.
    """
    require_schema(ds)
    valid, _ = valid_pairs(ds, nonfinite)
    if is_reduced(ds):  # analysis.reduced: the stored values are this function of the full Dataset
        out = ds["imbalance"].where(valid).transpose("L", "W", "gamma", "realization", "time")
        out.name = "I"
        return set_attrs(out, "imbalance I = (2/L) sum_j (-1)^(j+1) Sz_j", "1")
    sz = ds["sz"].where(valid)
    terms = (start_signs(ds) * sz).where(_chain_mask(ds), 0.0)
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
    ds: xr.Dataset,
    *,
    error: Literal["jackknife", "unpaired"] = "jackknife",
    nonfinite: Literal["raise", "drop"] = "raise",
) -> xr.Dataset:
    """Realization means of I for gamma = 0 and gamma, and the relative imbalance Ir with errors.

    Parameters
    ----------
    ds
        Dataset with ``sz`` (schema: README, "Data").
    error
        ``"jackknife"`` (default): delete-one jackknife over realizations applied to the *pair*
        (I0_r, Ig_r) of each realization r; it keeps the covariance between gamma = 0 and gamma,
        which share the disorder, so correlated fluctuations cancel in Ir. ``"unpaired"``: naive
        propagation of the two standard errors as if independent (for comparison only; it
        overestimates the error when the pair is positively correlated).
    nonfinite
        ``"raise"`` (default) or ``"drop"``: see :func:`imbalance`.

    Returns
    -------
    xarray.Dataset
        Dims (L, W, time): ``I0``, ``I0_err``, ``Ig``, ``Ig_err`` (mean and standard error
        ``std/sqrt(n)``), ``Ir`` = (I0 - Ig)/I0, ``Ir_err``; ``n_realizations`` (L, W): the
        number of realizations where both gamma values exist (realizations not run are NaN and
        skipped), its largest value over time; ``n_used`` (L, W, time): the realizations actually
        used at each time (the n of the errors there); ``n_dropped`` (L, W, time): pairs dropped
        for a non-finite value (``nonfinite="drop"``; 0 otherwise). Ir is 0 at t = 0 and tends to
        1 when the bath thermalizes the chain. Attribute ``gamma`` holds the nonzero gamma,
        ``error`` the estimator.
    """
    require_schema(ds)
    _, dropped = valid_pairs(ds, nonfinite)
    i = imbalance(ds, nonfinite=nonfinite)
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
            "n_used": set_attrs(st["n"], "paired realizations used at this time", "1"),
            "n_dropped": set_attrs(dropped, "pairs dropped at this time for a non-finite value", "1"),
        },
        attrs={"gamma": g, "error": error},
    )
    return out.transpose("L", "W", "time")


def first_time_above(t: np.ndarray, y: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """First sample time with ``y > level`` along the last axis (no interpolation).

    Returns ``(time, censored)``: NaN and True where y never exceeds ``level`` (NaN samples never
    do). Vectorised over leading axes.
    """
    above = y > level
    found = above.any(axis=-1)
    k = np.argmax(above, axis=-1)
    return np.where(found, t[k], np.nan), ~found


def first_crossing(t: np.ndarray, y: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """First upward crossing of ``level`` by y(t) along the last axis, interpolated linearly in ln t.

    The first sample k with ``y >= level`` and the sample before it are interpolated linearly in
    ln t (linearly in t when the earlier sample is t = 0); at k = 0, or when sample k - 1 is NaN,
    the time of sample k is returned. Returns ``(time, censored)``: NaN and True where y never
    reaches ``level``. Vectorised over leading axes.
    """
    above = y >= level
    found = above.any(axis=-1)
    k = np.argmax(above, axis=-1)
    km1 = np.maximum(k - 1, 0)
    y1 = np.take_along_axis(y, k[..., None], -1)[..., 0]
    y0 = np.take_along_axis(y, km1[..., None], -1)[..., 0]
    t0, t1 = t[km1], t[k]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        f = (level - y0) / (y1 - y0)
        in_log = np.exp(np.log(t0) + f * (np.log(t1) - np.log(t0)))
        interp = np.where(t0 <= 0, t0 + f * (t1 - t0), in_log)
    plain = (k == 0) | ~np.isfinite(y0)
    out = np.where(plain, t1, interp)
    return np.where(found, out, np.nan), ~found


def _as_relative_imbalance(data: xr.Dataset, kw: dict) -> xr.Dataset:
    if "Ir" not in data.data_vars:
        if "sz" in data.data_vars or is_reduced(data):
            return relative_imbalance(data, **kw)  # type: ignore[arg-type]
        raise ValueError(
            "data: missing variable(s): needs 'sz' (a raw Dataset), 'imbalance' (a reduced one) or 'Ir' and "
            "'Ir_err' (the output of relative_imbalance)"
        )
    return data


def threshold_time(
    data: xr.Dataset, r_th: float = 0.17, *, definition: Definition = "paper", **kw: object
) -> xr.Dataset:
    """Threshold time t~(L, W) of the relative imbalance (paper Sec. IV A).

    Parameters
    ----------
    data
        Either the output of :func:`relative_imbalance` (``Ir``, ``Ir_err``) or a Dataset with
        ``sz``, in which case :func:`relative_imbalance` is called with ``**kw``.
    r_th
        The threshold, strictly inside (0, 1) (paper: 0.17).
    definition
        ``"paper"`` (default): the paper's t~, the first *sample* time at which Ir exceeds r_th
        beyond its statistical error, ``Ir - Ir_err > r_th`` (Ir_err is the paired jackknife error
        unless ``relative_imbalance`` was asked otherwise). ``"crossing"``: the first crossing of
        the central curve, ``Ir >= r_th``, interpolated linearly in ln t between samples.

    Returns
    -------
    xarray.Dataset
        Dims (L, W), times in units of 1/J: ``t_tilde`` (the chosen definition), ``censored``
        (bool: t~ does not happen within the data, so t~ > t_final is only a lower bound;
        ``t_tilde`` is NaN there, never a number), ``t_tilde_lower`` / ``t_tilde_upper``
        (interpolated crossings of Ir + Ir_err and Ir - Ir_err: the error band of the central
        crossing; NaN where that curve never crosses), ``crossed`` (= not censored). Attributes
        ``r_th``, ``definition``, ``t_final`` (the last sample time: the lower bound of a censored t~).

    Notes
    -----
    The band brackets the ``"crossing"`` t~. The ``"paper"`` t~ is the first sample after the
    crossing of Ir - Ir_err, so ``t_tilde_upper <= t_tilde`` there, by less than one sample
    spacing: the band is then a per-point indication, not an interval for that t~. Intervals that
    are reported come from resampling realizations (:func:`analysis.resample.bootstrap`).
    """
    r_th = check_fraction(r_th, "r_th")
    if definition not in ("paper", "crossing"):
        raise ValueError(f"definition must be 'paper' or 'crossing'; got {definition!r}")
    data = _as_relative_imbalance(data, kw)
    require(data, variables=["Ir", "Ir_err"], dims=["L", "W", "time"], coords=["time"], what="data")
    ir = data["Ir"].transpose("L", "W", "time")
    err = data["Ir_err"].transpose("L", "W", "time")
    t = data["time"].values.astype(float)
    y, e = ir.values, err.values
    if definition == "paper":
        tt, cens = first_time_above(t, y - e, r_th)
    else:
        tt, cens = first_crossing(t, y, r_th)
    lo, _ = first_crossing(t, y + e, r_th)
    hi, _ = first_crossing(t, y - e, r_th)
    coords = {"L": ir["L"], "W": ir["W"]}

    def da(x: np.ndarray) -> xr.DataArray:
        return xr.DataArray(x, dims=("L", "W"), coords=coords)

    what = "first sample with Ir - err > " if definition == "paper" else "Ir crosses "
    out = xr.Dataset(
        {
            "t_tilde": set_attrs(da(tt), f"threshold time t~·J ({what}{r_th:g})", "1", definition=definition),
            "censored": set_attrs(da(cens), "t~ beyond the data (t~ > t_final: a lower bound only)", "1"),
            "t_tilde_lower": set_attrs(da(lo), "crossing of Ir + err (t·J)", "1"),
            "t_tilde_upper": set_attrs(da(hi), "crossing of Ir - err (t·J)", "1"),
            "crossed": set_attrs(da(~cens), f"t~ happens within the data (r_th = {r_th:g})", "1"),
        },
        attrs={"r_th": float(r_th), "definition": definition, "t_final": float(t[-1])},
    )
    if "n_realizations" in data:
        out["n_realizations"] = data["n_realizations"]
    return out


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
    data = _as_relative_imbalance(data, kw)
    require(data, variables=["Ir", "Ir_err"], dims=["L", "time"], coords=["L", "time"], what="data")
    L = data["L"].astype(float)
    return xr.Dataset(
        {
            "L_Ir": set_attrs(L * data["Ir"], "L·Ir (lattice sites)", "1"),
            "L_Ir_err": set_attrs(L * data["Ir_err"], "standard error of L·Ir", "1"),
        },
        attrs=dict(data.attrs),
    )
