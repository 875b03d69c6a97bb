"""One tidy table of every headline number: t~, kappa, alpha, W~, 1/A, t*, and the verdicts."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr

from ._validate import require_schema
from .fits import fit_threshold_scaling
from .front import fit_front, front, suggest_window
from .imbalance import relative_imbalance, threshold_time

Window = tuple[float, float]

#: column -> description (also stored in ``DataFrame.attrs["columns"]``).
COLUMNS: dict[str, str] = {
    "L": "chain length (lattice sites)",
    "W": "disorder strength W/J",
    "n_realizations": "paired realizations used",
    "t_tilde": "threshold time t~·J (first Ir >= r_th)",
    "t_tilde_lower": "lower bound of t~·J (Ir + err crosses)",
    "t_tilde_upper": "upper bound of t~·J (Ir - err crosses; NaN: beyond the data)",
    "crossed": "Ir reaches r_th within the data",
    "kappa": "d ln t~/dL at this W",
    "kappa_err": "standard error of kappa",
    "kappa_robust": "kappa > ln 4",
    "slope_W": "d ln t~/d(W/J) at this L",
    "slope_W_err": "standard error of slope_W",
    "alpha": "alpha of ln t~ = c + alpha L W (joint fit, same on every row)",
    "alpha_err": "standard error of alpha",
    "W_tilde": "W~/J = 2 ln 2 / alpha (same on every row)",
    "W_tilde_err": "standard error of W~",
    "A": "slope of h = A ln t + B (lattice sites)",
    "A_err": "standard error of A",
    "B": "intercept of h = A ln t + B (lattice sites)",
    "inv_A": "1/A",
    "inv_A_err": "standard error of 1/A",
    "t_star": "t*·J = exp(L/(2A))",
    "ln_t_star_err": "standard error of ln t*",
    "front_robust": "1/A > 2 ln 4",
    "t_min": "fit window start t·J",
    "t_max": "fit window end t·J",
    "window": "'given' or 'suggested' (analysis.suggest_window) or 'none' (no data)",
}


def _pick_window(window: Window | Mapping[tuple[int, float], Window] | None, L: int, W: float) -> Window | None:
    if window is None:
        return None
    if isinstance(window, Mapping):
        for key, val in window.items():
            if int(key[0]) == L and np.isclose(float(key[1]), W):
                return (float(val[0]), float(val[1]))
        return None
    return (float(window[0]), float(window[1]))


def report(
    ds: xr.Dataset,
    *,
    r_th: float = 0.17,
    window: Window | Mapping[tuple[int, float], Window] | None = None,
    order: Literal["abs-then-mean", "mean-then-abs"] = "abs-then-mean",
    error: Literal["jackknife", "unpaired"] = "jackknife",
    weighted: bool = True,
) -> pd.DataFrame:
    """All headline results as one tidy table, one row per (L, W).

    Parameters
    ----------
    ds
        Dataset with ``sz`` (schema of docs/design.md).
    r_th
        Threshold of the relative imbalance for t~.
    window
        Fit window(s) for h = A ln t + B, in units of 1/J: one ``(t_min, t_max)`` for every
        (L, W), or a mapping ``{(L, W): (t_min, t_max)}``; (L, W) points it leaves out, and all
        points when ``window`` is None, use :func:`analysis.front.suggest_window` on that curve.
        The window used is in the columns ``t_min``, ``t_max`` and ``window``.
    order, error, weighted
        Passed to :func:`analysis.front`, :func:`analysis.relative_imbalance` and the fits.

    Returns
    -------
    pandas.DataFrame
        Columns as in :data:`COLUMNS` (descriptions also in ``df.attrs["columns"]``);
        ``df.attrs`` also holds r_th, order, error, gamma, ln4 and two_ln4. Print it with
        :func:`report_markdown`.
    """
    require_schema(ds)
    ri = relative_imbalance(ds, error=error)
    tt = threshold_time(ri, r_th=r_th)
    sc = fit_threshold_scaling(tt, weighted=weighted)
    fr = front(ds, order=order)
    rows = []
    for L in ds["L"].values:
        for W in ds["W"].values:
            sel = dict(L=L, W=W)
            row: dict[str, object] = {"L": int(L), "W": float(W)}
            row["n_realizations"] = int(ri["n_realizations"].sel(sel))
            for k in ("t_tilde", "t_tilde_lower", "t_tilde_upper"):
                row[k] = float(tt[k].sel(sel))
            row["crossed"] = bool(tt["crossed"].sel(sel))
            for k in ("kappa", "kappa_err"):
                row[k] = float(sc[k].sel(W=W))
            row["kappa_robust"] = bool(sc["kappa_robust"].sel(W=W))
            for k in ("slope_W", "slope_W_err"):
                row[k] = float(sc[k].sel(L=L))
            for k in ("alpha", "alpha_err", "W_tilde", "W_tilde_err"):
                row[k] = float(sc[k])
            h = fr["h"].sel(sel)
            win = _pick_window(window, int(L), float(W))
            source = "given"
            if win is None:
                source = "suggested"
                try:
                    win = suggest_window(h)
                except ValueError:
                    win, source = None, "none"
            if win is not None:
                ff = fit_front(h, *win, h_err=fr["h_err"].sel(sel), weighted=weighted)
                for k in ("A", "A_err", "B", "inv_A", "inv_A_err", "t_star", "ln_t_star_err"):
                    row[k] = float(ff[k])
                row["front_robust"] = bool(ff["robust"])
                row["t_min"], row["t_max"] = win
            else:
                for k in ("A", "A_err", "B", "inv_A", "inv_A_err", "t_star", "ln_t_star_err", "t_min", "t_max"):
                    row[k] = np.nan
                row["front_robust"] = False
            row["window"] = source
            rows.append(row)
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df.attrs.update(
        {
            "r_th": float(r_th), "order": order, "error": error, "gamma": float(ds["gamma"].values[1]),
            "ln4": float(np.log(4.0)), "two_ln4": float(2 * np.log(4.0)), "columns": dict(COLUMNS),
        }
    )
    return df


def report_markdown(table: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """The table of :func:`report` as a Markdown string (via tabulate)."""
    return table.to_markdown(index=False, floatfmt=floatfmt)
