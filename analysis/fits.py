"""Exponential scaling fits of the threshold time t~(L, W) (paper Sec. IV A, Eqs. 9-10, App. C).

All fits are straight lines in ``ln t~`` solved by (weighted) linear least squares:

* per W:  ``ln t~ = a(W) + kappa(W) L``  -> kappa(W) = d ln t~ / dL; t~ grows like exp(kappa L), so
  ``kappa > ln 4`` means faster than 4^L: robust against avalanches (App. C);
* per L:  ``ln t~ = b(L) + s(L) W``      -> the slope in W;
* joint:  ``ln t~ = c + alpha L W``      -> alpha, and ``W~ = 2 ln 2 / alpha`` (Eq. 10).

By default the fits are ordinary least squares with residual-scaled errors (NaN with as many
points as parameters): the same estimator :func:`analysis.resample.bootstrap` applies to every
resample, whose spread gives the published errors. The errors returned here are indicative only.
With ``weighted=True`` the errors of ln t~ come from the bounds of :func:`analysis.threshold_time`:
sigma = half the width of [ln t~_lower, ln t~_upper] (one-sided distance when only one bound
exists); a fit is weighted only when every point it uses has a finite positive sigma, with errors
from those sigmas (``absolute_sigma``). Which one was used is recorded in the ``*_weighted``
variables. These bounds are not independent errors (chi^2/dof ~ 0.6 on the shipped data) and the
weighting moves alpha by ~15 %, which is why it is not the default.

Censored t~ (Ir never reached the threshold: a lower bound, NaN in ``t_tilde``) are dropped from
every fit, and the number dropped is returned (``kappa_n_censored``, ``alpha_n_censored``).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ._validate import require, set_attrs

LN4: float = float(np.log(4.0))


def linear_fit(
    X: np.ndarray, y: np.ndarray, sigma: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Linear least squares ``y = X @ beta`` with the covariance of ``beta``.

    Parameters
    ----------
    X
        Design matrix, shape (n, p).
    y
        Data, shape (n,). Must be finite.
    sigma
        Standard errors of ``y``, shape (n,), or None. Used as weights ``1/sigma**2`` only if all
        are finite and positive; the covariance is then ``(X^T W X)^-1`` (absolute sigma).

    Returns
    -------
    beta, cov, weighted
        Parameters (p,), covariance (p, p) and whether the weights were used. Without weights the
        covariance is ``s^2 (X^T X)^-1`` with ``s^2 = RSS/(n - p)``; all NaN when ``n <= p``.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    weighted = sigma is not None and bool(np.all(np.isfinite(sigma)) and np.all(np.asarray(sigma) > 0))
    if weighted:
        s = np.asarray(sigma, dtype=float)
        Xw, yw = X / s[:, None], y / s
    else:
        Xw, yw = X, y
    beta, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
    xtx_inv = np.linalg.pinv(Xw.T @ Xw)
    if weighted:
        cov = xtx_inv
    elif n > p:
        rss = float(np.sum((yw - Xw @ beta) ** 2))
        cov = xtx_inv * rss / (n - p)
    else:
        cov = np.full((p, p), np.nan)
    return beta, cov, weighted


def _ln_sigma(t: np.ndarray, lo: np.ndarray | None, hi: np.ndarray | None) -> np.ndarray:
    """sigma of ln t~ from its bounds (half width, or one-sided distance); NaN when none."""
    lnt = np.log(t)
    if lo is None or hi is None:
        return np.full_like(lnt, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        dlo = lnt - np.log(lo)
        dhi = np.log(hi) - lnt
    both = np.isfinite(dlo) & np.isfinite(dhi)
    sig = np.where(both, 0.5 * (dlo + dhi), np.nan)
    sig = np.where(~both & np.isfinite(dlo), np.abs(dlo), sig)
    sig = np.where(~both & np.isfinite(dhi), np.abs(dhi), sig)
    return sig


def _line(x: np.ndarray, y: np.ndarray, sig: np.ndarray, use_weights: bool) -> tuple[float, float, float, float, bool, int]:
    """Fit y = a + b x on the finite points; returns a, a_err, b, b_err, weighted, n."""
    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n < 2:
        return np.nan, np.nan, np.nan, np.nan, False, n
    X = np.column_stack([np.ones(n), x[ok]])
    beta, cov, w = linear_fit(X, y[ok], sig[ok] if use_weights else None)
    return float(beta[0]), float(np.sqrt(cov[0, 0])), float(beta[1]), float(np.sqrt(cov[1, 1])), w, n


def fit_threshold_scaling(t_tilde: xr.Dataset | xr.DataArray, *, weighted: bool = False) -> xr.Dataset:
    """Fit the exponential scaling of the threshold time t~(L, W).

    Parameters
    ----------
    t_tilde
        The output of :func:`analysis.threshold_time` (uses ``t_tilde``, ``t_tilde_lower``,
        ``t_tilde_upper``) or a bare DataArray of t~ with dims (L, W) (unweighted fits).
        NaN entries (censored: never crossed) are left out of every fit and counted.
    weighted
        Use the errors of ln t~ from the bounds as weights where possible (see module docstring;
        default False: ordinary least squares).

    Returns
    -------
    xarray.Dataset
        ``kappa`` (W), ``kappa_err``, ``kappa_intercept``, ``kappa_robust`` (bool, kappa > ln 4),
        ``kappa_n`` (points used), ``kappa_n_censored`` (censored points dropped), ``kappa_weighted``; ``slope_W`` (L), ``slope_W_err``,
        ``slope_W_intercept``, ``slope_W_weighted``; scalars ``alpha``, ``alpha_err``, ``c``,
        ``c_err``, ``alpha_weighted``, ``alpha_n``, ``alpha_n_censored``, ``W_tilde`` = 2 ln 2 / alpha and ``W_tilde_err``.
        All dimensionless (``units="1"``): kappa per lattice site, slopes in W per unit W/J,
        W~ in units of J.
        Attribute ``ln4`` holds the robustness threshold for kappa.
    """
    if isinstance(t_tilde, xr.Dataset):
        require(t_tilde, variables=["t_tilde"], dims=["L", "W"], coords=["L", "W"], what="t_tilde")
        tt = t_tilde["t_tilde"]
        lo = t_tilde.get("t_tilde_lower")
        hi = t_tilde.get("t_tilde_upper")
    else:
        require(t_tilde, dims=["L", "W"], coords=["L", "W"], what="t_tilde")
        tt, lo, hi = t_tilde, None, None
    tt = tt.transpose("L", "W")
    t = tt.values.astype(float)
    if np.any(np.isinf(t) | (t <= 0)):
        raise ValueError("t_tilde must be positive and finite where it is a number (NaN marks a censored t~)")
    Ls = tt["L"].values.astype(float)
    Ws = tt["W"].values.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(t > 0, np.log(np.where(t > 0, t, 1.0)), np.nan)
    sig = _ln_sigma(
        t,
        None if lo is None else lo.transpose("L", "W").values.astype(float),
        None if hi is None else hi.transpose("L", "W").values.astype(float),
    )

    per_w = np.array([_line(Ls, y[:, k], sig[:, k], weighted) for k in range(len(Ws))], dtype=object).reshape(len(Ws), 6)
    per_l = np.array([_line(Ws, y[i, :], sig[i, :], weighted) for i in range(len(Ls))], dtype=object).reshape(len(Ls), 6)
    LW = (Ls[:, None] * Ws[None, :]).ravel()
    c, c_err, alpha, alpha_err, a_w, a_n = _line(LW, y.ravel(), sig.ravel(), weighted)

    def wvar(col: int, dtype: type = float) -> xr.DataArray:
        return xr.DataArray(per_w[:, col].astype(dtype), dims=("W",), coords={"W": tt["W"]})

    def lvar(col: int, dtype: type = float) -> xr.DataArray:
        return xr.DataArray(per_l[:, col].astype(dtype), dims=("L",), coords={"L": tt["L"]})

    censored = ~np.isfinite(y)
    kappa = wvar(2)
    with np.errstate(divide="ignore", invalid="ignore"):
        w_tilde = 2 * np.log(2.0) / alpha
        w_tilde_err = abs(w_tilde) * alpha_err / abs(alpha)
    out = xr.Dataset(
        {
            "kappa": set_attrs(kappa, "kappa = d ln t~/dL at fixed W (per lattice site)", "1"),
            "kappa_err": set_attrs(wvar(3), "standard error of kappa (per lattice site)", "1"),
            "kappa_intercept": set_attrs(wvar(0), "intercept of ln t~ vs L at fixed W", "1"),
            "kappa_robust": set_attrs(kappa > LN4, "kappa > ln 4 (t~ grows faster than 4^L: robust)", "1"),
            "kappa_n": set_attrs(wvar(5, int), "number of L values in the fit", "1"),
            "kappa_n_censored": set_attrs(
                xr.DataArray(censored.sum(axis=0), dims=("W",), coords={"W": tt["W"]}),
                "censored t~ (never crossed) left out of the fit", "1"),
            "kappa_weighted": set_attrs(wvar(4, bool), "fit weighted by the t~ bounds", "1"),
            "slope_W": set_attrs(lvar(2), "slope d ln t~/d(W/J) at fixed L", "1"),
            "slope_W_err": set_attrs(lvar(3), "standard error of slope_W", "1"),
            "slope_W_intercept": set_attrs(lvar(0), "intercept of ln t~ vs W at fixed L", "1"),
            "slope_W_weighted": set_attrs(lvar(4, bool), "fit weighted by the t~ bounds", "1"),
            "alpha": set_attrs(xr.DataArray(alpha), "alpha in ln t~ = c + alpha L (W/J)", "1"),
            "alpha_err": set_attrs(xr.DataArray(alpha_err), "standard error of alpha", "1"),
            "c": set_attrs(xr.DataArray(c), "intercept c in ln t~ = c + alpha L W", "1"),
            "c_err": set_attrs(xr.DataArray(c_err), "standard error of c", "1"),
            "alpha_weighted": set_attrs(xr.DataArray(a_w), "joint fit weighted by the t~ bounds", "1"),
            "alpha_n": set_attrs(xr.DataArray(a_n), "number of (L, W) points in the joint fit", "1"),
            "alpha_n_censored": set_attrs(xr.DataArray(int(censored.sum())), "censored t~ left out of the joint fit", "1"),
            "W_tilde": set_attrs(xr.DataArray(w_tilde), "robustness threshold W~/J = 2 ln 2 / alpha (Eq. 10)", "1"),
            "W_tilde_err": set_attrs(xr.DataArray(w_tilde_err), "standard error of W~/J", "1"),
        },
        attrs={"ln4": LN4, "weighted": int(weighted)},
    )
    return out
