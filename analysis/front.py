"""Thermalization front: delta S_j(t), the length h(t), the fit h = A ln t + B and t* (paper Sec. IV B).

.. math::

   \\delta S_j(t) = |S^z_j(t)|_{\\gamma=0} - S^z_j(t)|_{\\gamma}|, \\qquad
   h(t) = \\frac{\\sum_{j=1}^{L} |j - b|\\, \\delta S_j(t)}{\\sum_{j=1}^{L} \\delta S_j(t)}

b is the bath site (``attrs["bath_site"]``, site 1 by default): h = 0 when only the bath site
differs, and h <= L - 1. h is measured
in lattice sites; times are in units of 1/J. The paper leaves open whether the absolute value
is taken per realization or after the realization mean: the default ``order="abs-then-mean"``
takes it per realization, ``"mean-then-abs"`` is the other order.

At t = 0 both evolutions are the Néel state, so every delta S_j vanishes and h is 0/0: h is set
to NaN there explicitly, and wherever sum_j delta S_j <= ``atol`` (default 1e-10: the two
evolutions agree to rounding, e.g. after the first step, whose kick is only a phase on the Néel
state); no other NaN appears except for (L, W) points without any realization.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr

from ._validate import check_finite_number, is_reduced, require, require_schema, set_attrs, valid_pairs
from .schema import bath_site
from .fits import linear_fit

TWO_LN4: float = float(2 * np.log(4.0))

#: A fit window of h(t) must hold at least this many sample times (two parameters and a check).
MIN_WINDOW_POINTS: int = 5


def undefined_front_reason(ds: xr.Dataset, order: str) -> str | None:
    """Why the front with this ``order`` is undefined for ``ds``, or None when it is defined.

    The default ``order="abs-then-mean"`` takes |Sz_j(gamma=0) - Sz_j(gamma)| per trajectory. It is
    the paper's quantity only for trajectories with Gaussian kicks: for ``unraveling="jump"`` runs
    (a different unraveling with the same average, not the same trajectories) and for
    ``noise="averaged"`` runs (no trajectories at all) it is not defined. ``"mean-then-abs"``
    uses only realization means and is valid for every run.
    """
    if is_reduced(ds):
        return ("the front is not defined for a reduced dataset (it stores the per-realization imbalance, "
                "not sz); regenerate sz from the dataset's 'command' or 'config' attribute")
    if order != "abs-then-mean":
        return None
    unraveling = str(ds.attrs.get("unraveling", "kick"))
    noise = str(ds.attrs.get("noise", "trajectory"))
    if unraveling == "jump" or noise == "averaged":
        return (
            f"the default front (order='abs-then-mean', |.| per trajectory) is not defined for this dataset "
            f"(unraveling={unraveling!r}, noise={noise!r}): its trajectories are not the paper's Gaussian-kick "
            "trajectories; the valid order is order='mean-then-abs'"
        )
    return None

def check_h_of(h_of: str, order: str) -> None:
    """``h_of`` must be "mean" or "realization", and "realization" needs ``order="abs-then-mean"``."""
    if h_of not in ("mean", "realization"):
        raise ValueError(f"h_of must be 'mean' or 'realization'; got {h_of!r}")
    if h_of == "realization" and order != "abs-then-mean":
        raise ValueError("h_of='realization' needs order='abs-then-mean' (per-realization |dS_j|)")


_H_COMMENT = (
    "NaN where sum_j dS_j <= atol: at t = 0 (both evolutions start from the Neel state) and where the "
    "two evolutions agree to rounding"
)


def front(
    ds: xr.Dataset,
    order: Literal["abs-then-mean", "mean-then-abs"] = "abs-then-mean",
    *,
    h_of: Literal["mean", "realization"] = "mean",
    atol: float = 1e-10,
    nonfinite: Literal["raise", "drop"] = "raise",
) -> xr.Dataset:
    """delta S_j(t) and the thermalization length h(t) with errors.

    Parameters
    ----------
    ds
        Dataset with ``sz`` (schema: README, "Data"); ``gamma[0]`` must be 0.
    order
        ``"abs-then-mean"`` (default): dS_j = mean_r |Sz_j^(0) - Sz_j^(gamma)|;
        ``"mean-then-abs"``: dS_j = |mean_r Sz_j^(0) - mean_r Sz_j^(gamma)|.
    h_of
        ``"mean"`` (default): h of the realization-averaged dS_j (the paper's Eq. 11 read with the
        mean inside). ``"realization"``: h_r of each realization's |dS_j|, then the mean of h_r
        over the realizations where sum_j |dS_j| > ``atol`` (only with ``order="abs-then-mean"``;
        the paper leaves this choice open too). Weights j instead of j - 1 would add exactly 1 to
        h in either case, leaving A, 1/A and W* unchanged, so they are not an option.
    atol
        h is set to NaN where ``sum_j dS_j <= atol``: there the two evolutions agree to rounding
        (t = 0 exactly; also the first step, whose kick is only a phase on the Néel state) and the
        ratio would be rounding noise, not a length.
    nonfinite
        ``"raise"`` (default) or ``"drop"`` a (realization, time) pair with a non-finite value on
        a chain site (see :func:`analysis.imbalance`).

    Raises
    ------
    ValueError
        For ``order="abs-then-mean"`` on a dataset made with ``unraveling="jump"`` or
        ``noise="averaged"`` (attributes of ``ds``), where that front is not defined; the message
        names the valid ``order="mean-then-abs"``.

    Returns
    -------
    xarray.Dataset
        ``dS`` (L, W, time, site) and ``dS_err`` (standard error over realizations; for
        ``mean-then-abs`` that of the mean difference), NaN for site > L; ``h`` (L, W, time) in
        lattice sites and ``h_err`` (delete-one jackknife over realizations of the ratio);
        ``n_realizations`` (L, W); ``n_used`` and ``n_dropped`` (L, W, time): realizations used,
        and dropped for a non-finite value, at each time. h is NaN where sum_j dS_j <= atol (t = 0), see module
        docstring. Attributes ``order``, ``atol``.
    """
    require_schema(ds)
    if order not in ("abs-then-mean", "mean-then-abs"):
        raise ValueError(f"order must be 'abs-then-mean' or 'mean-then-abs'; got {order!r}")
    check_h_of(h_of, order)
    reason = undefined_front_reason(ds, order)
    if reason:
        raise ValueError(reason)
    chain = ds["site"] <= ds["L"]
    valid, dropped = valid_pairs(ds, nonfinite)
    diff = (ds["sz"].isel(gamma=0, drop=True) - ds["sz"].isel(gamma=1, drop=True)).where(valid)
    n = valid.sum("realization")
    nf = n.where(n > 0)
    nm1 = (n - 1).where(n > 1)
    weight = abs(ds["site"] - bath_site(ds)).astype(float)  # distance from the bath site
    x = (abs(diff) if order == "abs-then-mean" else diff).where(valid & chain, 0.0)
    mean = x.sum("realization") / nf
    err = np.sqrt(((x - mean) ** 2).where(valid & chain, 0.0).sum("realization") / nm1 / nf)
    if order == "abs-then-mean":
        dS = mean
        num = (weight * x).sum("site")  # per realization; x is 0 off-chain and for invalid r
        den = x.sum("site")
        h_err = _loo_ratio_err(num.sum("realization") - num, den.sum("realization") - den, valid, n)
    else:
        dS = abs(mean)
        S = x.sum("realization")
        loo = abs(S - x) / nm1  # delete-one |mean difference| per site
        num = (weight * loo).sum("site")
        den = loo.sum("site")
        h_err = _loo_ratio_err(num, den, valid, n)
    dS = dS.where(chain)
    err = err.where(chain)
    Dsum = dS.where(chain, 0.0).sum("site")
    Nsum = (weight * dS).where(chain, 0.0).sum("site")
    defined = Dsum > atol
    h = (Nsum / Dsum.where(defined)).where(defined & n.astype(bool))
    if h_of == "realization":
        ok = valid & (den > atol)
        h_r = (num / den.where(ok)).where(ok)
        m = ok.sum("realization")
        h = (h_r.where(ok, 0.0).sum("realization") / m.where(m > 0)).where(defined & n.astype(bool))
        sd = np.sqrt(((h_r - h) ** 2).where(ok, 0.0).sum("realization") / (m - 1).where(m > 1))
        h_err = sd / np.sqrt(m.where(m > 0))
    h_err = h_err.where(h.notnull())
    out = xr.Dataset(
        {
            "dS": set_attrs(dS, "delta S_j = |Sz_j(gamma=0) - Sz_j(gamma)|", "1", order=order),
            "dS_err": set_attrs(err, "standard error of delta S_j", "1"),
            "h": set_attrs(h, "thermalization length h (lattice sites)", "1", comment=_H_COMMENT),
            "h_err": set_attrs(h_err, "standard error of h (delete-one jackknife, lattice sites)", "1"),
            "n_realizations": set_attrs(n.max("time"), "number of paired realizations", "1"),
            "n_used": set_attrs(n, "paired realizations used at this time", "1"),
            "n_dropped": set_attrs(dropped, "pairs dropped at this time for a non-finite value", "1"),
        },
        attrs={"order": order, "h_of": h_of, "atol": float(atol)},
    )
    return out.transpose("L", "W", "time", "site")


def _loo_ratio_err(num_i: xr.DataArray, den_i: xr.DataArray, valid: xr.DataArray, n: xr.DataArray) -> xr.DataArray:
    """Delete-one jackknife error of a ratio over ``realization``.

    ``num_i``, ``den_i`` are the numerator and denominator with realization i left out; the
    1/(n-1) normalisation cancels in the ratio. var = (n-1)/n sum_i (h_(i) - h_(.))^2.
    """
    ok = valid & (den_i > 0)
    h_i = (num_i / den_i.where(ok)).where(ok)
    nf = n.where(n > 1)
    h_dot = h_i.where(ok, 0.0).sum("realization") / nf
    ss = ((h_i - h_dot) ** 2).where(ok, 0.0).sum("realization")
    return np.sqrt(ss * (nf - 1) / nf)


def suggest_window(h: xr.DataArray | xr.Dataset, *, decades: float = 1.0, t_floor: float = 10.0) -> tuple[float, float]:
    """Propose a fit window [t_min, t_max] for :func:`fit_front` (a starting point only).

    The window is the last ``decades`` decades of the data, but not earlier than ``t_floor``
    (the linear-in-ln t regime needs t >> 1/J); it is widened downwards to hold at least
    :data:`MIN_WINDOW_POINTS` samples. Look at the fit (``analysis.plots.fig4_front``) before trusting it: the window moves
    1/A by tens of percent.

    Returns
    -------
    (t_min, t_max)
        Sample times, in units of 1/J.
    """
    if isinstance(h, xr.Dataset):
        require(h, variables=["h"], what="h")
        h = h["h"]
    require(h, dims=["time"], coords=["time"], what="h")
    finite = h.notnull()
    other = [d for d in h.dims if d != "time"]
    if other:
        finite = finite.any(other)
    t = h["time"].values.astype(float)[finite.values & (h["time"].values > 0)]
    m = MIN_WINDOW_POINTS
    if t.size < m:
        raise ValueError(f"h has {t.size} finite samples at t > 0; a fit window needs at least {m}")
    t_max = float(t[-1])
    t_min = max(t_floor, t_max / 10.0**decades)
    inside = t[t >= t_min]
    if inside.size < m:
        t_min = float(t[-m])
    else:
        t_min = float(inside[0])
    return t_min, t_max


def fit_front(
    h: xr.DataArray | xr.Dataset,
    t_min: float,
    t_max: float,
    *,
    h_err: xr.DataArray | None = None,
    weighted: bool = False,
) -> xr.Dataset:
    """Fit ``h(t) = A ln t + B`` on ``t_min <= t <= t_max``, with t* = exp(L/(2A)) and the verdict.

    Parameters
    ----------
    h
        The ``h`` DataArray of :func:`front` (dims (..., time), with an ``L`` coordinate), or the
        whole front Dataset (then its ``h_err`` is used unless ``h_err`` is given).
    t_min, t_max
        The fit window in units of 1/J (inclusive, ``0 < t_min < t_max``). It is explicit on
        purpose: 1/A depends on it. It must hold at least :data:`MIN_WINDOW_POINTS` sample
        times, else ``ValueError``; both must be finite.
    h_err, weighted
        With ``weighted=True``, standard errors of h used as weights 1/h_err^2 (absolute errors)
        for a curve whose errors in the window are all finite and positive. By default (and
        otherwise) the fit is ordinary least squares with errors from the residuals, the same
        estimator :func:`analysis.resample.bootstrap` resamples. These errors ignore the
        correlation of h between times (same realizations) and are indicative only: the
        published errors come from the resampling.

    Returns
    -------
    xarray.Dataset
        Per curve (dims of h without ``time``): ``A``, ``A_err`` (lattice sites per unit ln t),
        ``B``, ``B_err`` (lattice sites), ``inv_A``, ``inv_A_err``, ``t_star`` = exp(L/(2A))
        (units of 1/J), ``ln_t_star_err`` = L A_err/(2A^2), ``robust`` (bool, 1/A > 2 ln 4,
        paper Eq. 18; point estimate only, the three-valued verdict is in
        :func:`analysis.resample.verdicts`), ``n_points``, ``weighted``. Curves with fewer than
        :data:`MIN_WINDOW_POINTS` finite points in the window get NaN (``n_points`` says so). Attributes ``t_min``, ``t_max`` (the window used),
        ``two_ln4``.
    """
    if isinstance(h, xr.Dataset):
        require(h, variables=["h"], what="h")
        if h_err is None and "h_err" in h:
            h_err = h["h_err"]
        h = h["h"]
    require(h, dims=["time"], coords=["time", "L"], what="h")
    if bool(np.isinf(h).any()) or (h_err is not None and bool(np.isinf(h_err).any())):
        raise ValueError("h (or h_err) has infinite values; only NaN (h undefined) may be left out of a fit")
    t_min, t_max = check_finite_number(t_min, "t_min"), check_finite_number(t_max, "t_max")
    if not (0 < t_min < t_max):
        raise ValueError(f"fit window needs 0 < t_min < t_max; got t_min={t_min}, t_max={t_max}")
    t = h["time"].values.astype(float)
    in_win = (t >= t_min) & (t <= t_max)
    if int(in_win.sum()) < MIN_WINDOW_POINTS:
        raise ValueError(
            f"fit window [t_min, t_max] = [{t_min:g}, {t_max:g}] holds {int(in_win.sum())} sample time(s); "
            f"at least {MIN_WINDOW_POINTS} are needed"
        )
    hw = h.isel(time=np.nonzero(in_win)[0])
    lnt = np.log(t[in_win])
    if h_err is None or not weighted:
        ew = xr.full_like(hw, np.nan, dtype=float)
    else:
        ew = h_err.isel(time=np.nonzero(in_win)[0]).broadcast_like(hw)

    def one(y: np.ndarray, e: np.ndarray) -> np.ndarray:
        ok = np.isfinite(y)
        m = int(ok.sum())
        if m < MIN_WINDOW_POINTS:
            return np.array([np.nan, np.nan, np.nan, np.nan, 0.0, m])
        X = np.column_stack([lnt[ok], np.ones(m)])
        beta, cov, w = linear_fit(X, y[ok], e[ok] if np.all(np.isfinite(e[ok])) else None)
        return np.array([beta[0], np.sqrt(cov[0, 0]), beta[1], np.sqrt(cov[1, 1]), float(w), m])

    res = xr.apply_ufunc(
        one, hw, ew.transpose(*hw.dims),
        input_core_dims=[["time"], ["time"]], output_core_dims=[["fitpar"]],
        vectorize=True, output_dtypes=[float], dask_gufunc_kwargs={"output_sizes": {"fitpar": 6}},
    )
    A, A_err, B, B_err = (res.isel(fitpar=k, drop=True) for k in range(4))
    L = h["L"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv_A = 1.0 / A
        inv_A_err = A_err / A**2
        t_star = np.exp(L / (2.0 * A))
        ln_ts_err = L * A_err / (2.0 * A**2)
    out = xr.Dataset(
        {
            "A": set_attrs(A, "slope A of h = A ln t + B (lattice sites)", "1"),
            "A_err": set_attrs(A_err, "standard error of A (lattice sites)", "1"),
            "B": set_attrs(B, "intercept B of h = A ln t + B (lattice sites)", "1"),
            "B_err": set_attrs(B_err, "standard error of B (lattice sites)", "1"),
            "inv_A": set_attrs(inv_A, "1/A (per lattice site)", "1"),
            "inv_A_err": set_attrs(inv_A_err, "standard error of 1/A", "1"),
            "t_star": set_attrs(t_star, "front arrival time t*·J = exp(L/(2A))·J", "1"),
            "ln_t_star_err": set_attrs(ln_ts_err, "standard error of ln t*", "1"),
            "robust": set_attrs(inv_A > TWO_LN4, "1/A > 2 ln 4 (robust against avalanches, Eq. 18)", "1"),
            "n_points": set_attrs(res.isel(fitpar=5, drop=True).astype(int), "number of points in the fit", "1"),
            "weighted": set_attrs(res.isel(fitpar=4, drop=True).astype(bool), "fit weighted by h_err", "1"),
        },
        attrs={"t_min": t_min, "t_max": t_max, "two_ln4": TWO_LN4},
    )
    return out
