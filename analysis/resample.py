"""Resampling over disorder realizations: the uncertainties of every headline number.

The realizations of each (L, W) grid point are drawn with replacement, independently per grid
point, and each draw is pushed through the whole pipeline:

    I0, Ig -> Ir (and its paired jackknife error) -> t~ (both definitions) -> kappa(W), alpha, W~
    dS_j -> h(t) -> A, B, 1/A, log10 t* -> W*(L)

The same indices serve the gamma = 0 and the gamma member of every pair (they share the
disorder: the pairing is what makes Ir precise), and the same draw serves every statistic, so
joint statements (e.g. W*(L) from the 1/A of several W) are consistent. The draw of a grid point
comes from ``numpy.random.SeedSequence(seed, spawn_key=(L, round(W * 1e6)))``: it does not depend
on which other grid points the Dataset holds.

Every resample is a vector of integer counts ``c_r`` (how often realization r was drawn), so
each mean over realizations is one matrix product ``counts @ x``: nothing is looped per
resample, and the xarray machinery runs once. Row 0 of the counts is all ones: the point
estimate goes through the very same code and equals the plain functions of :mod:`analysis`
(``relative_imbalance``, ``threshold_time``, ``front``, ``fit_front(weighted=False)``,
``fit_threshold_scaling``).

Intervals are percentile intervals (the ``(1 - confidence)/2`` and ``(1 + confidence)/2``
quantiles of the resamples, taken as observed resample values so that a censored resample, +inf,
gives an open bound). ``scipy.stats.bootstrap`` was considered: it resamples one statistic of
one sample set (``paired=True`` keeps pairs together, BCa is available), but here one draw per
grid point must feed fifteen grid points' worth of statistics and their fits at once, so the
draw is done here; the tests check the percentile intervals against ``scipy.stats.bootstrap``
on a single mean.

Standard errors are the standard deviation of the resamples (``ddof=1``); NaN when any resample
is not finite (a censored t~, a fit without enough points), where only the interval is meaningful.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import xarray as xr

from ._validate import check_fraction, require, require_schema, set_attrs, valid_pairs
from .fits import LN4
from .front import MIN_WINDOW_POINTS, TWO_LN4, check_h_of, front, suggest_window, undefined_front_reason
from .imbalance import first_crossing, first_time_above, imbalance

Window = tuple[float, float]
LN2: float = float(np.log(2.0))
#: rows of resamples processed at once in the (resample, realization, time) jackknife arrays
_CHUNK = 128


def grid_counts(n: int, n_resamples: int, seed: int, L: int, W: float) -> np.ndarray:
    """Counts of each realization in ``n_resamples`` draws of n out of n with replacement.

    Returns an int array (n_resamples + 1, n); row 0 is all ones (the data themselves). The
    generator is ``default_rng(SeedSequence(seed, spawn_key=(L, round(W * 1e6))))``.
    """
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(L), int(round(float(W) * 1e6)))))
    idx = rng.integers(0, n, size=(n_resamples, n))
    flat = idx + n * np.arange(n_resamples)[:, None]
    counts = np.bincount(flat.ravel(), minlength=n_resamples * n).reshape(n_resamples, n)
    return np.vstack([np.ones((1, n), dtype=counts.dtype), counts])


def interval(samples: np.ndarray, confidence: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Central percentile interval of ``samples`` along ``axis``.

    The lower end is the observed value at or below the ``(1 - confidence)/2`` quantile, the upper
    end the one at or above ``(1 + confidence)/2`` (no interpolation, so +-inf samples give open
    ends instead of NaN). NaN where any sample is NaN.
    """
    q = (1.0 - confidence) / 2.0
    s = np.asarray(samples, dtype=float)
    lo = np.quantile(s, q, axis=axis, method="lower")
    hi = np.quantile(s, 1.0 - q, axis=axis, method="higher")
    bad = np.isnan(s).any(axis=axis)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def standard_error(samples: np.ndarray, axis: int = 0) -> np.ndarray:
    """Standard deviation of the resamples (ddof=1); NaN where any resample is not finite."""
    s = np.asarray(samples, dtype=float)
    with np.errstate(invalid="ignore"):
        se = np.std(np.where(np.isfinite(s), s, 0.0), axis=axis, ddof=1)
    return np.where(np.isfinite(s).all(axis=axis), se, np.nan)


def masked_line(x: np.ndarray, y: np.ndarray, min_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Ordinary least squares ``y = a + b x`` along the last axis, using the finite y only.

    ``x`` broadcasts against ``y``. Returns ``(a, b)`` over the leading axes; NaN where fewer than
    ``min_points`` finite points (or a single distinct x) remain.
    """
    m = np.isfinite(y)
    xb = np.broadcast_to(x, y.shape)
    w = m.astype(float)
    yz = np.where(m, y, 0.0)
    xz = np.where(m, xb, 0.0)
    n = w.sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        xm = xz.sum(-1) / n
        ym = yz.sum(-1) / n
        dx = np.where(m, xb - xm[..., None], 0.0)
        sxx = (dx * dx).sum(-1)
        b = (dx * (yz - ym[..., None])).sum(-1) / sxx
        a = ym - b * xm
    ok = (n >= min_points) & (sxx > 0)
    return np.where(ok, a, np.nan), np.where(ok, b, np.nan)


def origin_slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares ``y = b x`` (no constant) along the last axis, on the finite y only.

    Returns b over the leading axes; NaN where no finite point with x != 0 remains.
    """
    m = np.isfinite(y)
    xb = np.where(m, np.broadcast_to(x, y.shape), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sxx = (xb * xb).sum(-1)
        b = (xb * np.where(m, y, 0.0)).sum(-1) / sxx
    return np.where(sxx > 0, b, np.nan)


def first_upward_crossing(x: np.ndarray, y: np.ndarray, level: float) -> np.ndarray:
    """x at which y first reaches ``level`` from below, linear in x, along the last axis.

    -inf where y already reaches it at the first x (the crossing lies below the grid), +inf where
    it never does (above the grid), NaN where any y is NaN.
    """
    above = y >= level
    k = np.argmax(above, axis=-1)
    found = above.any(axis=-1)
    km1 = np.maximum(k - 1, 0)
    y1 = np.take_along_axis(y, k[..., None], -1)[..., 0]
    y0 = np.take_along_axis(y, km1[..., None], -1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = x[km1] + (level - y0) * (x[k] - x[km1]) / (y1 - y0)
    out = np.where(k == 0, -np.inf, xc)
    out = np.where(found, out, np.inf)
    return np.where(np.isnan(y).any(axis=-1), np.nan, out)


def _ir_stats(I0: np.ndarray, Ig: np.ndarray, v: np.ndarray, C: np.ndarray,
              error: str = "jackknife") -> tuple[np.ndarray, ...]:
    """Ir, its error and the count of used realizations, per resample.

    ``I0``, ``Ig``: (n, T); ``v``: (n, T) bool, the pair is used; ``C``: (B, n) counts. With
    ``error="jackknife"`` the paired jackknife deletes one *draw* of the resample: with counts it is
    ``var = (N - 1)/N sum_r c_r (Ir_(r) - Ir_(.))^2``, the formula of
    :func:`analysis.relative_imbalance` when all counts are 1. With ``error="unpaired"`` the
    standard errors of the two means are propagated as if independent (the paper's error bars),
    the formula of ``relative_imbalance(error="unpaired")``. Returns ``(ir, err, N)``, (B, T).
    """
    V = v.astype(float)
    X0, Xg = np.where(v, I0, 0.0), np.where(v, Ig, 0.0)
    Cf = C.astype(float)
    N = Cf @ V
    S0, Sg = Cf @ X0, Cf @ Xg
    with np.errstate(divide="ignore", invalid="ignore"):
        m0, mg = S0 / N, Sg / N
        ir = (m0 - mg) / m0
    if error == "unpaired":
        err = np.empty_like(ir)
        for s in range(0, C.shape[0], _CHUNK):  # two-pass variances, as relative_imbalance
            w = Cf[s:s + _CHUNK, :, None] * V[None]
            n_, a0, ag = N[s:s + _CHUNK], m0[s:s + _CHUNK], mg[s:s + _CHUNK]
            with np.errstate(divide="ignore", invalid="ignore"):
                e0 = np.sqrt((w * (X0[None] - a0[:, None]) ** 2).sum(1) / (n_ - 1) / n_)
                eg = np.sqrt((w * (Xg[None] - ag[:, None]) ** 2).sum(1) / (n_ - 1) / n_)
                err[s:s + _CHUNK] = np.sqrt((eg / a0) ** 2 + (ag * e0 / a0**2) ** 2)
        return ir, np.where(N > 1, err, np.nan), N
    err = np.empty_like(ir)
    for s in range(0, C.shape[0], _CHUNK):
        c = Cf[s:s + _CHUNK, :, None]
        n_, s0, sg = N[s:s + _CHUNK, None, :], S0[s:s + _CHUNK, None, :], Sg[s:s + _CHUNK, None, :]
        w = c * V[None]
        with np.errstate(divide="ignore", invalid="ignore"):
            m0_i = (s0 - X0[None]) / (n_ - 1)
            mg_i = (sg - Xg[None]) / (n_ - 1)
            ir_i = np.where(w > 0, (m0_i - mg_i) / m0_i, 0.0)
            ir_dot = (w * ir_i).sum(1) / n_[:, 0]
            ss = (w * (ir_i - ir_dot[:, None]) ** 2).sum(1)
            err[s:s + _CHUNK] = np.sqrt(ss * (n_[:, 0] - 1) / n_[:, 0])
    err = np.where(N > 1, err, np.nan)
    return ir, err, N


def _h_samples(diff: np.ndarray, v: np.ndarray, C: np.ndarray, weight: np.ndarray, order: str, atol: float,
               h_of: str = "mean") -> np.ndarray:
    """h(t) per resample from the pair differences ``diff`` (n, T, S) (0 off the chain), (B, T)."""
    Cf = C.astype(float)
    x = np.where(v[..., None], diff, 0.0)
    N = Cf @ v.astype(float)
    n, T, S = x.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        if order == "abs-then-mean" and h_of == "realization":
            ax = np.abs(x)
            num_r, den_r = ax @ weight, ax.sum(-1)
            ok = v & (den_r > atol)
            h_r = np.where(ok, num_r / np.where(ok, den_r, 1.0), 0.0)
            m = Cf @ ok.astype(float)
            h = (Cf @ h_r) / m
            defined = ((Cf @ den_r) / N > atol) & (N > 0) & (m > 0)
            return np.where(defined, h, np.nan)
        if order == "abs-then-mean":
            ax = np.abs(x)
            num, den = Cf @ (ax @ weight), Cf @ ax.sum(-1)
        else:
            D = np.abs((Cf @ x.reshape(n, T * S)).reshape(-1, T, S))
            num, den = D @ weight, D.sum(-1)
        h = num / den
    defined = (den / N > atol) & (N > 0)
    return np.where(defined, h, np.nan)


def _pick_window(window: Window | Mapping[tuple[int, float], Window] | None, L: int, W: float) -> Window | None:
    if window is None:
        return None
    if isinstance(window, Mapping):
        for key, val in window.items():
            if int(key[0]) == L and np.isclose(float(key[1]), W):
                return (float(val[0]), float(val[1]))
        return None
    return (float(window[0]), float(window[1]))


def _summaries(out: xr.Dataset, name: str, samples: np.ndarray, dims: tuple[str, ...], coords: dict,
               confidence: float, long_name: str, units: str, point: np.ndarray | None = None) -> None:
    """Add ``name`` (point = row 0), ``name_se``, ``name_lo``, ``name_hi``, ``name_samples``."""
    pt = samples[0] if point is None else point
    res = samples[1:]
    lo, hi = interval(res, confidence)
    c = {d: coords[d] for d in dims}
    pct = f"{100 * confidence:g} %"
    out[name] = set_attrs(xr.DataArray(pt, dims=dims, coords=c), long_name, units)
    out[f"{name}_se"] = set_attrs(xr.DataArray(standard_error(res), dims=dims, coords=c),
                                  f"standard error of {long_name} (resampling)", units)
    out[f"{name}_lo"] = set_attrs(xr.DataArray(lo, dims=dims, coords=c), f"lower end of the {pct} interval", units)
    out[f"{name}_hi"] = set_attrs(xr.DataArray(hi, dims=dims, coords=c), f"upper end of the {pct} interval", units)
    out[f"{name}_samples"] = set_attrs(
        xr.DataArray(res, dims=("resample", *dims), coords={"resample": out["resample"], **c}),
        f"{long_name}: one value per resample", units)


def _threshold_fits(out: xr.Dataset, y: np.ndarray, Ls: np.ndarray, Ws: np.ndarray, coords: dict,
                    confidence: float) -> None:
    """Add kappa(W), alpha, c, W~ and their point counts to ``out`` from ``y = ln t~``, shaped
    (1 + resamples, L, W) with row 0 the data and NaN for censored t~ (left out of every fit).

    Also ``alpha_origin`` and ``W_tilde_origin``: the fit ``ln t~ = alpha L W`` without a constant,
    as the paper's Eq. (9) is written."""
    B = y.shape[0] - 1
    # kappa(W): ln t~ = a + kappa L; fit along L
    _, kap = masked_line(Ls.astype(float), np.moveaxis(y, 1, -1), 2)  # (B+1, W)
    _summaries(out, "kappa", kap, ("W",), coords, confidence, "kappa = d ln t~/dL (per lattice site)", "1")
    fin = np.isfinite(y[0])
    out["kappa_n"] = set_attrs(xr.DataArray(fin.sum(0), dims=("W",)), "L values in the data's fit", "1")
    out["kappa_n_censored"] = set_attrs(xr.DataArray((~fin).sum(0), dims=("W",)), "censored t~ left out", "1")
    LW = (Ls[:, None] * Ws[None, :]).astype(float).ravel()
    c, alpha = masked_line(LW, y.reshape(B + 1, -1), 2)
    _summaries(out, "alpha", alpha, (), coords, confidence, "alpha in ln t~ = c + alpha L W (per site per J)", "1")
    _summaries(out, "c", c, (), coords, confidence, "intercept c of ln t~ = c + alpha L W", "1")
    with np.errstate(divide="ignore", invalid="ignore"):
        wt = np.where(alpha > 0, 2 * LN2 / alpha, np.where(np.isnan(alpha), np.nan, np.inf))
    _summaries(out, "W_tilde", wt, (), coords, confidence, "W~/J = 2 ln 2 / alpha (Eq. 10)", "1")
    a0 = origin_slope(LW, y.reshape(B + 1, -1))
    _summaries(out, "alpha_origin", a0, (), coords, confidence,
               "alpha in ln t~ = alpha L W, no constant (Eq. 9 as written; per site per J)", "1")
    with np.errstate(divide="ignore", invalid="ignore"):
        wt0 = np.where(a0 > 0, 2 * LN2 / a0, np.where(np.isnan(a0), np.nan, np.inf))
    _summaries(out, "W_tilde_origin", wt0, (), coords, confidence, "W~/J = 2 ln 2 / alpha, fit without constant", "1")
    out["alpha_n"] = set_attrs(xr.DataArray(int(fin.sum())), "(L, W) points in the data's joint fit", "1")
    out["alpha_n_censored"] = set_attrs(xr.DataArray(int((~fin).sum())), "censored t~ left out", "1")


def refit_sizes(bs: xr.Dataset, L: list[int] | np.ndarray) -> xr.Dataset:
    """The threshold-time fits of a :func:`bootstrap` on a subset of its sizes, same resamples.

    The draw of each (L, W) grid point does not depend on the other grid points, so this equals
    ``bootstrap(ds.sel(L=L))`` in its fit variables, bit for bit, without resampling again: use
    it to see how kappa, alpha and W~ drift with the range of L fitted.

    Parameters
    ----------
    bs
        Output of :func:`bootstrap`.
    L
        The sizes to keep (at least two, all in ``bs``).

    Returns
    -------
    xarray.Dataset
        ``kappa`` (W), ``alpha``, ``c``, ``W_tilde`` with ``_se``, ``_lo``, ``_hi``, ``_samples``,
        ``kappa_n``, ``kappa_n_censored``, ``alpha_n``, ``alpha_n_censored``, and the chosen
        definition's t~ and ``_censored`` at those L (so :func:`verdicts` applies); ``bs``'s attributes.
    """
    require(bs, variables=["t_tilde_paper_samples", "t_tilde_crossing_samples"], dims=["L", "W", "resample"],
            what="bs")
    Ls = np.asarray(L, dtype=int)
    if Ls.ndim != 1 or len(Ls) < 2 or len(np.unique(Ls)) != len(Ls):
        raise ValueError(f"L: need at least two distinct sizes, each once; got {L!r}")
    absent = sorted(set(Ls.tolist()) - set(bs["L"].values.astype(int).tolist()))
    if absent:
        raise ValueError(f"L: size(s) {absent} not in the bootstrap (it has L = {bs['L'].values.tolist()})")
    sub = bs.sel(L=Ls)
    name = f"t_tilde_{bs.attrs['definition']}"
    point = sub[name].transpose("L", "W").values[None]
    res = sub[f"{name}_samples"].transpose("resample", "L", "W").values
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(np.concatenate([point, np.where(np.isinf(res), np.nan, res)]))
    coords = {"L": sub["L"], "W": sub["W"]}
    out = xr.Dataset(coords={**coords, "resample": bs["resample"]})
    out[name] = sub[name]
    out[f"{name}_censored"] = sub[f"{name}_censored"]
    _threshold_fits(out, y, Ls, sub["W"].values.astype(float), coords, float(bs.attrs["confidence"]))
    out.attrs.update(bs.attrs)
    return out


def bootstrap(
    ds: xr.Dataset,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    r_th: float = 0.17,
    definition: Literal["paper", "crossing"] = "paper",
    error: Literal["jackknife", "unpaired"] = "jackknife",
    window: Window | Mapping[tuple[int, float], Window] | None = None,
    order: Literal["abs-then-mean", "mean-then-abs"] = "abs-then-mean",
    h_of: Literal["mean", "realization"] = "mean",
    with_front: bool | None = None,
    atol: float = 1e-10,
    nonfinite: Literal["raise", "drop"] = "raise",
) -> xr.Dataset:
    """Resample the realizations of every (L, W) point and push each resample through the pipeline.

    Parameters
    ----------
    ds
        Dataset with ``sz`` (schema: README, "Data").
    n_resamples
        Number of resamples (>= 10; 1000 for published numbers).
    seed
        Root seed of the draws (see module docstring); recorded in the attributes.
    confidence
        Level of the central intervals, in (0, 1).
    r_th
        Threshold of Ir for t~, in (0, 1).
    definition
        The t~ fed to the fits kappa, alpha, W~: ``"paper"`` (first sample with
        Ir - err > r_th, err = paired jackknife error of that resample) or ``"crossing"``. Both
        t~ are always returned.
    error
        The sigma of the paper's t~ (first sample with Ir - sigma > r_th), recomputed in every
        resample: ``"jackknife"`` (default), the paired jackknife error of Ir, which keeps the
        covariance of the gamma = 0 and gamma members of a pair (they share the disorder); or
        ``"unpaired"``, the standard errors of the two means propagated as if independent (the
        paper's "root mean square deviation divided by sqrt(Nr), performing error propagation";
        about twice as large, so t~ comes later). See :func:`analysis.relative_imbalance`.
    window
        Fit window(s) ``(t_min, t_max)`` of h = A ln t + B, in units of 1/J: one for all (L, W),
        a mapping ``{(L, W): (t_min, t_max)}``, or None; points without one get
        :func:`analysis.suggest_window` of the data's h(t). The same window serves every resample.
    order
        Order of |.| and the realization mean in dS_j (:func:`analysis.front`).
    h_of
        h of the realization-averaged dS_j (``"mean"``, default) or the mean of each realization's
        h (``"realization"``, with ``order="abs-then-mean"`` only); :func:`analysis.front`.
    with_front
        Compute the front statistics. None (default): when they are defined for ``ds``;
        True: insist (``ValueError`` where undefined); False: skip.
    atol
        h is undefined where sum_j dS_j <= atol (:func:`analysis.front`).
    nonfinite
        ``"raise"`` or ``"drop"`` non-finite values on chain sites (:func:`analysis.imbalance`).

    Returns
    -------
    xarray.Dataset
        Point estimates (row 0: the data), ``*_se``, ``*_lo``, ``*_hi`` and ``*_samples``
        (dim ``resample``) for: ``t_tilde_paper`` and ``t_tilde_crossing`` (L, W; +inf in a
        resample where censored, NaN in the point estimate where censored, flags
        ``t_tilde_paper_censored`` / ``t_tilde_crossing_censored`` and the fraction of censored
        resamples ``*_P_censored``); ``kappa`` (W) with ``kappa_n`` and ``kappa_n_censored`` of the
        data's fit; ``alpha``, ``c``, ``W_tilde`` (scalars; W~ = +inf where alpha <= 0) with
        ``alpha_n``, ``alpha_n_censored``; ``alpha_origin`` and ``W_tilde_origin``, the same joint
        fit without a constant (``ln t~ = alpha L W``, the paper's Eq. 9 as written); and with the front ``A``, ``B``, ``inv_A``,
        ``log10_t_star`` (L, W), ``W_star`` (L; -inf/+inf: 1/A crosses 2 ln 4 below/above the W
        grid). Curves (L, W, time) with ``_lo``/``_hi``/``_se`` only: ``Ir`` (and the data's
        jackknife ``Ir_err``) and ``h``, whose resamples are also kept (``h_samples``: every
        window-dependent front statistic, e.g. :func:`analysis.linearity`, follows from them). Counts: ``n_realizations`` (L, W), ``n_used`` (L, W,
        time). Attributes: ``n_resamples``, ``seed``, ``confidence``, ``interval`` ("percentile"),
        ``r_th``, ``definition``, ``order``, ``front`` (1/0) and ``front_note`` (why it is absent),
        ``t_final``, the windows ``t_min``/``t_max`` are variables (L, W).
    """
    require_schema(ds)
    r_th = check_fraction(r_th, "r_th")
    confidence = check_fraction(confidence, "confidence")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 10:
        raise ValueError(f"n_resamples must be an integer >= 10; got {n_resamples!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    if definition not in ("paper", "crossing"):
        raise ValueError(f"definition must be 'paper' or 'crossing'; got {definition!r}")
    if error not in ("jackknife", "unpaired"):
        raise ValueError(f"error must be 'jackknife' or 'unpaired'; got {error!r}")
    check_h_of(h_of, order)
    reason = undefined_front_reason(ds, order)
    if with_front is None:
        with_front = reason is None
    elif with_front and reason:
        raise ValueError(reason)
    B = int(n_resamples)
    valid, _ = valid_pairs(ds, nonfinite)
    # I from its one definition (also what a reduced Dataset stores, so both give the same bits)
    imb = imbalance(ds, nonfinite=nonfinite).transpose("L", "W", "gamma", "realization", "time").values
    if with_front:
        sz = ds["sz"].transpose("L", "W", "gamma", "realization", "time", "site").values
    vv = valid.transpose("L", "W", "realization", "time").values
    Ls = ds["L"].values.astype(int)
    Ws = ds["W"].values.astype(float)
    t = ds["time"].values.astype(float)
    sites = ds["site"].values if "site" in ds.coords else np.arange(1, int(Ls.max()) + 1)
    nL, nW, nT = len(Ls), len(Ws), len(t)

    ir = np.full((B + 1, nL, nW, nT), np.nan)
    ir_err = np.full_like(ir, np.nan)
    n_used = np.zeros((nL, nW, nT), dtype=int)
    n_real = np.zeros((nL, nW), dtype=int)
    h = np.full_like(ir, np.nan)
    AB = np.full((2, B + 1, nL, nW), np.nan)
    t_win = np.full((2, nL, nW), np.nan)
    fr = front(ds, order=order, h_of=h_of, atol=atol, nonfinite=nonfinite) if with_front else None
    for i, L in enumerate(Ls):
        chain = sites <= L
        weight = np.where(chain, sites - 1.0, 0.0)
        for k, W in enumerate(Ws):
            run = vv[i, k].any(axis=1)
            idx = np.nonzero(run)[0]
            n = idx.size
            n_real[i, k] = n
            if n == 0:
                continue
            C = grid_counts(n, B, seed, L, W)
            v = vv[i, k][idx]
            I0, Ig = imb[i, k, 0][idx], imb[i, k, 1][idx]
            ir[:, i, k], ir_err[:, i, k], N = _ir_stats(I0, Ig, v, C, error)
            n_used[i, k] = N[0].astype(int)
            if fr is None:
                continue
            s0 = np.where(chain, sz[i, k, 0][idx], 0.0)
            sg = np.where(chain, sz[i, k, 1][idx], 0.0)
            h[:, i, k] = _h_samples(s0 - sg, v, C, weight, order, atol, h_of)
            win = _pick_window(window, int(L), float(W))
            if win is None:
                try:
                    win = suggest_window(fr["h"].sel(L=L, W=W))
                except ValueError:
                    continue
            in_win = (t >= win[0]) & (t <= win[1])
            if int(in_win.sum()) < MIN_WINDOW_POINTS:
                raise ValueError(
                    f"fit window [t_min, t_max] = [{win[0]:g}, {win[1]:g}] holds {int(in_win.sum())} sample time(s) "
                    f"at L={L}, W={W:g}; at least {MIN_WINDOW_POINTS} are needed")
            t_win[:, i, k] = win
            b, a = masked_line(np.log(t[in_win]), h[:, i, k][:, in_win], MIN_WINDOW_POINTS)
            AB[0, :, i, k], AB[1, :, i, k] = a, b  # h = A ln t + B: slope a, intercept b

    coords = {"L": ds["L"], "W": ds["W"], "time": ds["time"]}
    out = xr.Dataset(coords={**coords, "resample": np.arange(B)})
    lo, hi = interval(ir[1:], confidence)
    cur = ("L", "W", "time")
    out["Ir"] = set_attrs(xr.DataArray(ir[0], dims=cur, coords={d: coords[d] for d in cur}),
                          "relative imbalance Ir = (I0 - Ig)/I0", "1")
    out["Ir_err"] = set_attrs(xr.DataArray(ir_err[0], dims=cur),
                              f"{'paired jackknife' if error == 'jackknife' else 'unpaired'} error of Ir (data)", "1")
    out["Ir_se"] = set_attrs(xr.DataArray(standard_error(ir[1:]), dims=cur), "standard error of Ir (resampling)", "1")
    out["Ir_lo"] = set_attrs(xr.DataArray(lo, dims=cur), "lower end of the interval of Ir", "1")
    out["Ir_hi"] = set_attrs(xr.DataArray(hi, dims=cur), "upper end of the interval of Ir", "1")
    out["n_realizations"] = set_attrs(xr.DataArray(n_real, dims=("L", "W")), "paired realizations resampled", "1")
    out["n_used"] = set_attrs(xr.DataArray(n_used, dims=cur), "paired realizations used at this time", "1")

    lw = ("L", "W")
    kept = {}
    for name, (tt, cens) in {
        "t_tilde_paper": first_time_above(t, ir - ir_err, r_th),
        "t_tilde_crossing": first_crossing(t, ir, r_th),
    }.items():
        kept[name] = np.where(cens, np.nan, tt)
        label = ("first sample with Ir - err > r_th" if name == "t_tilde_paper" else "crossing of Ir = r_th")
        _summaries(out, name, np.where(cens, np.inf, tt), lw, coords, confidence, f"threshold time t~·J ({label})",
                   "1", point=kept[name][0])
        out[f"{name}_censored"] = set_attrs(xr.DataArray(cens[0], dims=lw), "t~ beyond the data (> t_final)", "1")
        out[f"{name}_P_censored"] = set_attrs(xr.DataArray(cens[1:].mean(0), dims=lw),
                                              "fraction of resamples with t~ beyond the data", "1")

    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(kept[f"t_tilde_{definition}"])  # censored: NaN, dropped from the fits
    _threshold_fits(out, y, Ls, Ws, coords, confidence)

    if fr is not None:
        lo, hi = interval(h[1:], confidence)
        out["h"] = set_attrs(xr.DataArray(h[0], dims=cur), "thermalization length h (lattice sites)", "1")
        out["h_se"] = set_attrs(xr.DataArray(standard_error(h[1:]), dims=cur), "standard error of h (resampling)", "1")
        out["h_lo"] = set_attrs(xr.DataArray(lo, dims=cur), "lower end of the interval of h", "1")
        out["h_hi"] = set_attrs(xr.DataArray(hi, dims=cur), "upper end of the interval of h", "1")
        out["h_samples"] = set_attrs(xr.DataArray(h[1:], dims=("resample", *cur)),
                                     "thermalization length h (lattice sites): one curve per resample", "1")
        A, Bc = AB
        _summaries(out, "A", A, lw, coords, confidence, "slope A of h = A ln t + B (lattice sites)", "1")
        _summaries(out, "B", Bc, lw, coords, confidence, "intercept B of h = A ln t + B (lattice sites)", "1")
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_A = 1.0 / A
            log10_ts = Ls[None, :, None] / (2.0 * A * np.log(10.0))
        _summaries(out, "inv_A", inv_A, lw, coords, confidence, "1/A (per lattice site)", "1")
        _summaries(out, "log10_t_star", log10_ts, lw, coords, confidence,
                   "log10(t*·J), t* = exp(L/(2A)) (Eq. 17)", "1")
        order_w = np.argsort(Ws)
        wstar = first_upward_crossing(Ws[order_w], inv_A[:, :, order_w], TWO_LN4)
        _summaries(out, "W_star", wstar, ("L",), coords, confidence,
                   "W*/J where 1/A crosses 2 ln 4 (linear in W)", "1")
        out["t_min"] = set_attrs(xr.DataArray(t_win[0], dims=lw), "fit window start t·J", "1")
        out["t_max"] = set_attrs(xr.DataArray(t_win[1], dims=lw), "fit window end t·J", "1")
    out.attrs.update({
        "n_resamples": B, "seed": int(seed), "confidence": confidence, "interval": "percentile",
        "r_th": r_th, "definition": definition, "error": error, "order": order, "h_of": h_of, "front": int(fr is not None),
        "front_note": "" if fr is not None else (reason or "front statistics not requested"),
        "t_final": float(t[-1]), "gamma": float(ds["gamma"].values[1]), "ln4": LN4, "two_ln4": TWO_LN4,
        "nonfinite": nonfinite,
    })
    return out


Verdict = Literal["yes", "no", "undetermined"]


def p_error(P: np.ndarray | float, n_resamples: int) -> np.ndarray:
    """Monte Carlo (binomial) standard error of a fraction P of ``n_resamples`` resamples."""
    P = np.asarray(P, dtype=float)
    return np.sqrt(P * (1.0 - P) / int(n_resamples))


def near_cut(P: np.ndarray, n_resamples: int, confidence: float) -> np.ndarray:
    """True where P lies within its Monte Carlo error of a verdict cut, (1 - c)/2 or (1 + c)/2.

    There the verdict would change with the resampling seed: it is reported as "undetermined".
    """
    P = np.asarray(P, dtype=float)
    err = p_error(P, n_resamples)
    cuts = ((1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0)
    return np.any([np.abs(P - c) <= err for c in cuts], axis=0)



def three_valued(lo: np.ndarray, hi: np.ndarray, threshold: float | np.ndarray,
                 undetermined: np.ndarray | bool = False) -> np.ndarray:
    """"yes" where the interval [lo, hi] lies above ``threshold``, "no" where below, else "undetermined".

    Also "undetermined" where lo or hi is NaN, or where ``undetermined`` is True.
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    out = np.where(lo > threshold, "yes", np.where(hi < threshold, "no", "undetermined"))
    return np.where(np.isnan(lo) | np.isnan(hi) | np.asarray(undetermined), "undetermined", out).astype(object)


def verdicts(bs: xr.Dataset, confidence: float | None = None) -> xr.Dataset:
    """The avalanche verdicts, three-valued, with the probability of each claim.

    Parameters
    ----------
    bs
        Output of :func:`bootstrap`.
    confidence
        Level of the intervals the verdicts use (default: ``bs.attrs["confidence"]``).

    Returns
    -------
    xarray.Dataset
        ``kappa_verdict``, ``kappa_P`` (W): the claim kappa(W) > ln 4 (t~ grows faster than 4^L);
        undetermined also where a t~ at that W is censored. ``W_tilde_verdict``, ``W_tilde_P``
        (W): the claim W > W~. With the front: ``front_verdict``, ``front_P`` (L, W): the claim
        1/A > 2 ln 4 (Eq. 18); undetermined also where the interval of A reaches 0 or below (A not
        significantly positive). P is the fraction of resamples for which the claim holds
        (a resample without a value counts as not holding). Verdicts are "yes" (the whole interval
        is on the claim's side), "no" (the whole interval on the other side) or "undetermined";
        also "undetermined" where P lies within its Monte Carlo error ``*_P_err`` =
        sqrt(P (1 - P) / n_resamples) of a cut (1 -+ confidence)/2, where the verdict would change
        with the resampling seed (:func:`near_cut`). Attribute ``confidence``.
    """
    conf = float(bs.attrs["confidence"]) if confidence is None else check_fraction(confidence, "confidence")
    B = int(bs.sizes["resample"])
    out = xr.Dataset(coords={k: bs[k] for k in ("L", "W")})

    def put(name: str, dims: tuple[str, ...], verdict: np.ndarray, P: np.ndarray, claim: str) -> None:
        verdict = np.where(near_cut(P, B, conf), "undetermined", verdict).astype(object)
        out[f"{name}_verdict"] = set_attrs(xr.DataArray(verdict, dims=dims), claim, "1")
        out[f"{name}_P"] = set_attrs(xr.DataArray(P, dims=dims), f"P({claim}) over resamples", "1")
        out[f"{name}_P_err"] = set_attrs(xr.DataArray(p_error(P, B), dims=dims),
                                         f"Monte Carlo error of P({claim})", "1")

    chosen = f"t_tilde_{bs.attrs['definition']}_censored"
    k_lo, k_hi = interval(bs["kappa_samples"].values, conf)
    cens = bs[chosen].any("L").values
    put("kappa", ("W",), three_valued(k_lo, k_hi, LN4, cens), (bs["kappa_samples"].values > LN4).mean(0),
        "kappa > ln 4")
    Ws = bs["W"].values.astype(float)
    w_lo, w_hi = interval(bs["W_tilde_samples"].values, conf)
    # W > W~ holds when W~'s whole interval lies below W: compare the interval with each W
    claim = np.where(w_hi < Ws, "yes", np.where(w_lo > Ws, "no", "undetermined"))
    claim = np.where(np.isnan(w_lo) | np.isnan(w_hi), "undetermined", claim).astype(object)
    put("W_tilde", ("W",), claim, (Ws[None, :] > bs["W_tilde_samples"].values[:, None]).mean(0), "W > W~")
    if "inv_A_samples" in bs:
        A = bs["A_samples"].values
        a_lo, _ = interval(A, conf)
        i_lo, i_hi = interval(bs["inv_A_samples"].values, conf)
        put("front", ("L", "W"), three_valued(i_lo, i_hi, TWO_LN4, ~(a_lo > 0)),
            ((A > 0) & (1.0 / np.where(A > 0, A, np.inf) > TWO_LN4)).mean(0), "1/A > 2 ln 4")
    out.attrs["confidence"] = conf
    return out
