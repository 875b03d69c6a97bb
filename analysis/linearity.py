"""Is the front logarithmic? The local slope dh/d ln t, the linearity verdict and W*(window).

The avalanche criterion of the paper (Eq. 18) reads 1/A off a fit ``h = A ln t + B``. That fit
means something only where h is linear in ln t; where the slope changes with time, 1/A (and the
W* where it crosses 2 ln 4) depends on the fit window. Three window-free or window-explicit views,
all from the resampled h(t) curves of :func:`analysis.bootstrap` (``h_samples``), so every number
carries a resampled interval:

* :func:`local_slope`: the slope dh/d ln t fitted on a sliding window around each sample time;
* :func:`linearity`: the slope on a late window over the slope on an early one, per (L, W), with
  P(late > early) and a three-valued verdict on "h is convex in ln t" (late slope larger);
* :func:`w_star_by_window`: W*(L), where 1/A crosses 2 ln 4, as a function of the window start.

Verdicts here, as in :func:`analysis.verdicts`, are "yes" / "no" / "undetermined" from the
percentile interval, and "undetermined" also where P lies within its Monte Carlo error
sqrt(P (1 - P) / n_resamples) of a cut (1 -+ confidence)/2 (:func:`p_error`).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from ._validate import check_finite_number, require, set_attrs
from .front import MIN_WINDOW_POINTS, TWO_LN4
from .resample import first_upward_crossing, interval, masked_line, near_cut, p_error, standard_error, three_valued

Window = tuple[float, float]


def _curves(bs: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(time, h) with h of shape (1 + resamples, L, W, time), row 0 the data."""
    if "h_samples" not in bs:
        raise ValueError("bs: missing variable 'h_samples': pass the output of analysis.bootstrap with the front "
                         f"(front note: {bs.attrs.get('front_note') or 'none'})")
    require(bs, variables=["h_samples"], dims=["L", "W", "time", "resample"], what="bs")
    h = np.concatenate([bs["h"].transpose("L", "W", "time").values[None],
                        bs["h_samples"].transpose("resample", "L", "W", "time").values])
    return bs["time"].values.astype(float), h


def _window(t: np.ndarray, window: Window, name: str) -> np.ndarray:
    t0, t1 = check_finite_number(window[0], f"{name}[0]"), check_finite_number(window[1], f"{name}[1]")
    if not 0 < t0 < t1:
        raise ValueError(f"{name} needs 0 < t_min < t_max; got {window!r}")
    inside = (t >= t0) & (t <= t1)
    if int(inside.sum()) < MIN_WINDOW_POINTS:
        raise ValueError(f"{name} [{t0:g}, {t1:g}] holds {int(inside.sum())} sample time(s); "
                         f"at least {MIN_WINDOW_POINTS} are needed")
    return inside


def _slope(t: np.ndarray, h: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Least-squares slope of h against ln t on the samples ``inside``, along the last axis."""
    _, b = masked_line(np.log(t[inside]), h[..., inside], MIN_WINDOW_POINTS)
    return b


def _add(out: xr.Dataset, name: str, samples: np.ndarray, dims: tuple[str, ...], confidence: float,
         long_name: str, keep_samples: bool = True) -> None:
    lo, hi = interval(samples[1:], confidence)
    out[name] = set_attrs(xr.DataArray(samples[0], dims=dims), long_name, "1")
    out[f"{name}_se"] = set_attrs(xr.DataArray(standard_error(samples[1:]), dims=dims),
                                  f"standard error of {long_name} (resampling)", "1")
    out[f"{name}_lo"] = set_attrs(xr.DataArray(lo, dims=dims), "lower end of the interval", "1")
    out[f"{name}_hi"] = set_attrs(xr.DataArray(hi, dims=dims), "upper end of the interval", "1")
    if keep_samples:
        out[f"{name}_samples"] = set_attrs(xr.DataArray(samples[1:], dims=("resample", *dims)),
                                           f"{long_name}: one value per resample", "1")


def local_slope(bs: xr.Dataset, *, half_width: float = 0.5) -> xr.Dataset:
    """The local slope dh/d ln t(t) with resampled bands.

    At each sample time t_c the slope is the least-squares slope of h against ln t over the
    samples with ``|log10 t - log10 t_c| <= half_width`` (decades), the same fit as
    :func:`analysis.fit_front` on that window; NaN where the window holds fewer than
    :data:`analysis.front.MIN_WINDOW_POINTS` finite samples. h = A ln t + B holds where the
    slope is flat, and then equals A.

    Parameters
    ----------
    bs
        Output of :func:`analysis.bootstrap` with the front (``h``, ``h_samples``).
    half_width
        Half width of the sliding window, in decades of t (> 0).

    Returns
    -------
    xarray.Dataset
        ``slope`` (L, W, time; lattice sites per unit ln t), ``slope_se``, ``slope_lo``,
        ``slope_hi``; attributes ``half_width`` and those of ``bs``.
    """
    half_width = check_finite_number(half_width, "half_width")
    if half_width <= 0:
        raise ValueError(f"half_width must be > 0 decades; got {half_width}")
    t, h = _curves(bs)
    out_s = np.full(h.shape, np.nan)
    pos = t > 0
    lg = np.where(pos, np.log10(np.where(pos, t, 1.0)), -np.inf)
    for c in np.nonzero(pos)[0]:
        inside = pos & (np.abs(lg - lg[c]) <= half_width + 1e-12)
        if int(inside.sum()) >= MIN_WINDOW_POINTS:
            out_s[..., c] = _slope(t, h, inside)
    out = xr.Dataset(coords={"L": bs["L"], "W": bs["W"], "time": bs["time"], "resample": bs["resample"]})
    _add(out, "slope", out_s, ("L", "W", "time"), float(bs.attrs["confidence"]),
         "local slope dh/d ln t (lattice sites)", keep_samples=False)
    out.attrs.update(bs.attrs)
    out.attrs["half_width"] = half_width
    return out


def default_windows(t_final: float) -> tuple[Window, Window]:
    """The early and late windows of :func:`linearity`: the two last decades of the data,
    ``[t_final/100, t_final/10]`` and ``[t_final/10, t_final]`` ([10, 100] and [100, 1000] at
    t_final = 1000)."""
    return (t_final / 100.0, t_final / 10.0), (t_final / 10.0, t_final)


def linearity(bs: xr.Dataset, *, early: Window | None = None, late: Window | None = None) -> xr.Dataset:
    """Does h grow as A ln t? The late slope over the early slope, per (L, W), with P and a verdict.

    Parameters
    ----------
    bs
        Output of :func:`analysis.bootstrap` with the front.
    early, late
        Windows ``(t_min, t_max)`` in units of 1/J (inclusive, at least
        :data:`analysis.front.MIN_WINDOW_POINTS` samples each); default
        :func:`default_windows` of the data's last time.

    Returns
    -------
    xarray.Dataset
        Per (L, W): ``slope_early``, ``slope_late`` and ``slope_ratio`` = late/early, each with
        ``_se``, ``_lo``, ``_hi``, ``_samples``; ``convex_P`` = P(late slope > early slope) over
        resamples and ``convex_P_err``, its Monte Carlo error; ``convex_verdict``, the claim
        "h is convex in ln t" (late slope > early slope): "yes" where the interval of
        late - early lies above 0 (then h = A ln t does not hold and 1/A depends on the window),
        "no" where below (concave), "undetermined" otherwise or where P is within its Monte Carlo
        error of a cut. Attributes ``early``, ``late`` and those of ``bs``.
    """
    t, h = _curves(bs)
    d_early, d_late = default_windows(float(t[-1]))
    early = d_early if early is None else (float(early[0]), float(early[1]))
    late = d_late if late is None else (float(late[0]), float(late[1]))
    s_early = _slope(t, h, _window(t, early, "early"))
    s_late = _slope(t, h, _window(t, late, "late"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = s_late / s_early
    conf = float(bs.attrs["confidence"])
    lw = ("L", "W")
    out = xr.Dataset(coords={"L": bs["L"], "W": bs["W"], "resample": bs["resample"]})
    _add(out, "slope_early", s_early, lw, conf, f"slope dh/d ln t on [{early[0]:g}, {early[1]:g}] (lattice sites)")
    _add(out, "slope_late", s_late, lw, conf, f"slope dh/d ln t on [{late[0]:g}, {late[1]:g}] (lattice sites)")
    _add(out, "slope_ratio", ratio, lw, conf, "late slope / early slope of h against ln t")
    diff = s_late[1:] - s_early[1:]
    B = diff.shape[0]
    P = (diff > 0).mean(0)
    d_lo, d_hi = interval(diff, conf)
    verdict = three_valued(d_lo, d_hi, 0.0, near_cut(P, B, conf))
    out["convex_P"] = set_attrs(xr.DataArray(P, dims=lw), "P(late slope > early slope) over resamples", "1")
    out["convex_P_err"] = set_attrs(xr.DataArray(p_error(P, B), dims=lw), "Monte Carlo error of convex_P", "1")
    out["convex_verdict"] = set_attrs(xr.DataArray(verdict, dims=lw),
                                      "h convex in ln t (late slope > early slope): h = A ln t fails", "1")
    out.attrs.update(bs.attrs)
    out.attrs.update({"early": list(early), "late": list(late)})
    return out


def default_starts(t_final: float) -> list[float]:
    """Window starts of :func:`w_star_by_window`: t_final times 1e-3, 3e-3, 0.01, 0.02, 0.05,
    0.1, 0.2, 0.3 (1 ... 300 at t_final = 1000)."""
    return [t_final * f for f in (1e-3, 3e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.3)]


def w_star_by_window(bs: xr.Dataset, starts: Sequence[float] | None = None, *, t_max: float | None = None,
                     w: float = 7.0) -> xr.Dataset:
    """W*(L), where 1/A crosses 2 ln 4 (linear in W), as a function of the fit window start.

    For each start t1 the front is fitted, h = A ln t + B on [t1, t_max], in every resample, and
    W* found as in :func:`analysis.bootstrap`. If h were A ln t the result would not depend on t1.

    Parameters
    ----------
    bs
        Output of :func:`analysis.bootstrap` with the front, at least two W.
    starts
        Window starts in units of 1/J (default :func:`default_starts`); starts whose window holds
        fewer than :data:`analysis.front.MIN_WINDOW_POINTS` samples are left out.
    t_max
        Window end (default: the data's last time).
    w
        The W* > w claim to give the probability of (the paper's W* ≳ 7 at L = 16).

    Returns
    -------
    xarray.Dataset
        ``W_star`` (L, t_min) with ``_se``, ``_lo``, ``_hi``, ``_samples`` (-inf / +inf where 1/A
        is above / below 2 ln 4 over the whole W grid); ``P_above`` = P(W* > w) and its Monte
        Carlo error ``P_above_err``; ``inv_A`` (L, W, t_min) with ``_lo``, ``_hi``. Attributes
        ``t_max``, ``w`` and those of ``bs``.
    """
    t, h = _curves(bs)
    if bs.sizes["W"] < 2:
        raise ValueError("W*(window) needs at least two W")
    t_max = float(t[-1]) if t_max is None else check_finite_number(t_max, "t_max")
    starts = default_starts(float(t[-1])) if starts is None else [check_finite_number(s, "start") for s in starts]
    kept = [s for s in starts if 0 < s < t_max and int(((t >= s) & (t <= t_max)).sum()) >= MIN_WINDOW_POINTS]
    if not kept:
        raise ValueError(f"no window start leaves {MIN_WINDOW_POINTS} samples before t_max = {t_max:g}")
    Ws = bs["W"].values.astype(float)
    order = np.argsort(Ws)
    inv_A = np.empty((*h.shape[:3], len(kept)))
    for k, s in enumerate(kept):
        A = _slope(t, h, (t >= s) & (t <= t_max))
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_A[..., k] = 1.0 / A
    wstar = first_upward_crossing(Ws[order], np.moveaxis(inv_A[:, :, order], 2, -1), TWO_LN4)  # (B+1, L, start)
    conf = float(bs.attrs["confidence"])
    out = xr.Dataset(coords={"L": bs["L"], "W": bs["W"], "t_min": ("t_min", np.asarray(kept)),
                             "resample": bs["resample"]})
    out["t_min"].attrs.update(long_name="fit window start t·J", units="1")
    _add(out, "W_star", wstar, ("L", "t_min"), conf, "W*/J where 1/A crosses 2 ln 4 (linear in W)")
    _add(out, "inv_A", inv_A, ("L", "W", "t_min"), conf, "1/A (per lattice site)", keep_samples=False)
    B = wstar.shape[0] - 1
    P = (wstar[1:] > w).mean(0)
    out["P_above"] = set_attrs(xr.DataArray(P, dims=("L", "t_min")), f"P(W* > {w:g}) over resamples", "1")
    out["P_above_err"] = set_attrs(xr.DataArray(p_error(P, B), dims=("L", "t_min")), "Monte Carlo error of P_above", "1")
    out.attrs.update(bs.attrs)
    out.attrs.update({"t_max": t_max, "w": float(w)})
    return out
