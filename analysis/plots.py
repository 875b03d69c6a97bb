"""The paper's Figs. 2-5 from analysis output. Each function returns a ``matplotlib.figure.Figure``.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state, no ``show``),
so they work under any backend, Agg included; save with ``fig.savefig(path)``. Axis labels come
from the ``long_name`` and ``units`` attributes (units "1" are not printed).
"""
from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ._validate import require
from .fits import fit_threshold_scaling
from .front import TWO_LN4


def label(da: xr.DataArray, fallback: str = "", width: int | None = None) -> str:
    """Axis label from ``long_name`` and ``units`` ("1" means dimensionless and is omitted).

    ``width`` wraps long labels onto several lines (for narrow panels).
    """
    name = str(da.attrs.get("long_name", da.name if da.name is not None else fallback))
    units = str(da.attrs.get("units", "1"))
    text = name if units in ("1", "") else f"{name} [{units}]"
    return textwrap.fill(text, width) if width else text


def _positive_time(obj: xr.Dataset) -> xr.Dataset:
    return obj.isel(time=np.nonzero(obj["time"].values > 0)[0])


def _band(ax, t: np.ndarray, y: np.ndarray, e: np.ndarray | None, **kw) -> None:
    (line,) = ax.plot(t, y, **kw)
    if e is not None:
        ax.fill_between(t, y - e, y + e, color=line.get_color(), alpha=0.25, linewidth=0)


def fig2_imbalance(ri: xr.Dataset, *, L: int | None = None, W: Sequence[float] | None = None) -> Figure:
    """Fig. 2: I0, Ig and Ir versus t (log axis) at one L, one panel per W.

    Parameters
    ----------
    ri
        Output of :func:`analysis.relative_imbalance`.
    L
        Chain length (default: the largest).
    W
        Disorder strengths, one panel each (default: all).
    """
    require(ri, variables=["I0", "Ig", "Ir"], dims=["L", "W", "time"], what="ri")
    L = int(ri["L"].values.max()) if L is None else int(L)
    Ws = list(ri["W"].values) if W is None else list(W)
    fig = Figure(figsize=(4.2 * len(Ws), 3.6), layout="constrained")
    axes = fig.subplots(1, len(Ws), squeeze=False, sharey=True)[0]
    sub = _positive_time(ri.sel(L=L))
    t = sub["time"].values
    g = float(ri.attrs.get("gamma", np.nan))
    for ax, w in zip(axes, Ws):
        s = sub.sel(W=w)
        for var, short in (("I0", "I0 (γ = 0)"), ("Ig", f"Iγ (γ = {g:g})"), ("Ir", "Ir = (I0 - Iγ)/I0")):
            err = s.get(f"{var}_err")
            _band(ax, t, s[var].values, None if err is None else err.values, label=short)
        ax.set_xscale("log")
        ax.set_xlabel(label(ri["time"], "time t·J"))
        ax.set_title(f"L = {L}, W = {w:g}")
        ax.axhline(0.0, color="0.7", linewidth=0.8)
    units = str(ri["Ir"].attrs.get("units", "1"))  # mixed quantities of the same units on one axis
    axes[0].set_ylabel("imbalance I0, Iγ; relative imbalance Ir" + ("" if units == "1" else f" [{units}]"))
    axes[0].legend(fontsize="small", loc="best", title="realization means ± s.e.", title_fontsize="x-small")
    return fig


def _yerr(c: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Asymmetric error bars from bounds; a missing bound draws no bar on that side."""
    down = np.where(np.isfinite(lo), c - lo, 0.0)
    up = np.where(np.isfinite(hi), hi - c, 0.0)
    return np.abs(np.vstack([np.nan_to_num(down), np.nan_to_num(up)]))


def fig3_threshold(tt: xr.Dataset, fits: xr.Dataset | None = None) -> Figure:
    """Fig. 3: t~ versus W per L (a) and versus L per W (b), log y, with the fits.

    Parameters
    ----------
    tt
        Output of :func:`analysis.threshold_time`; bars span [t_tilde_lower, t_tilde_upper].
    fits
        Output of :func:`analysis.fit_threshold_scaling` (computed from ``tt`` if None). Panel (a)
        draws the joint fit exp(c + alpha L W), panel (b) the per-W fits exp(a + kappa L).
    """
    require(tt, variables=["t_tilde"], dims=["L", "W"], what="tt")
    fits = fit_threshold_scaling(tt) if fits is None else fits
    tt = tt.transpose("L", "W")
    c = tt["t_tilde"].values
    lo = tt["t_tilde_lower"].values if "t_tilde_lower" in tt else np.full_like(c, np.nan)
    hi = tt["t_tilde_upper"].values if "t_tilde_upper" in tt else np.full_like(c, np.nan)
    Ls, Ws = tt["L"].values, tt["W"].values
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax_w, ax_l = fig.subplots(1, 2, sharey=True)
    wgrid = np.linspace(Ws.min(), Ws.max(), 50)
    for i, L in enumerate(Ls):
        eb = ax_w.errorbar(Ws, c[i], yerr=_yerr(c[i], lo[i], hi[i]), fmt="o", capsize=2, label=f"L = {L}")
        if np.isfinite(float(fits["alpha"])):
            ax_w.plot(wgrid, np.exp(float(fits["c"]) + float(fits["alpha"]) * L * wgrid), color=eb[0].get_color(), lw=1)
    lgrid = np.linspace(Ls.min(), Ls.max(), 50)
    for k, W in enumerate(Ws):
        eb = ax_l.errorbar(Ls, c[:, k], yerr=_yerr(c[:, k], lo[:, k], hi[:, k]), fmt="s", capsize=2, label=f"W = {W:g}")
        kap = float(fits["kappa"].sel(W=W))
        if np.isfinite(kap):
            ax_l.plot(lgrid, np.exp(float(fits["kappa_intercept"].sel(W=W)) + kap * lgrid), color=eb[0].get_color(), lw=1)
    ax_w.set_yscale("log")
    ax_w.set_xlabel(label(tt["W"], "disorder strength W/J", width=50))
    ax_w.set_ylabel(label(tt["t_tilde"]))
    ax_l.set_xlabel(label(tt["L"], "chain length L", width=50))
    a, ae, wt = float(fits["alpha"]), float(fits["alpha_err"]), float(fits["W_tilde"])
    ax_w.set_title(f"(a) joint fit: α = {a:.3g} ± {ae:.2g}, W~ = {wt:.3g}", fontsize="small")
    ax_l.set_title("(b) per-W fits: κ = d ln t~/dL (robust if κ > ln 4)", fontsize="small")
    ax_w.legend(fontsize="x-small")
    ax_l.legend(fontsize="x-small")
    return fig


def fig4_front(fr: xr.Dataset, ff: xr.Dataset, *, L: int | None = None) -> Figure:
    """Fig. 4: h(t) versus t (log axis) per W at one L with the fit A ln t + B; 1/A vs W beside it.

    The paper's inset (1/A vs W with the line 2 ln 4) is drawn as a side panel so that it never
    hides data.

    Parameters
    ----------
    fr
        Output of :func:`analysis.front`.
    ff
        Output of :func:`analysis.fit_front` on ``fr`` (its ``t_min``, ``t_max`` attrs give the
        drawn fit range). The side panel shows 1/A versus W with the line 2 ln 4 (Eq. 18).
    L
        Chain length (default: the largest).
    """
    require(fr, variables=["h"], dims=["L", "W", "time"], what="fr")
    require(ff, variables=["A", "B", "inv_A"], what="ff")
    L = int(fr["L"].values.max()) if L is None else int(L)
    sub = _positive_time(fr.sel(L=L))
    ffL = ff.sel(L=L) if "L" in ff.dims else ff
    t = sub["time"].values
    t_min, t_max = float(ff.attrs.get("t_min", t[0])), float(ff.attrs.get("t_max", t[-1]))
    tw = np.geomspace(t_min, t_max, 40)
    fig = Figure(figsize=(8.4, 4.2), layout="constrained")
    ax, ins = fig.subplots(1, 2, width_ratios=[2.6, 1])
    for W in sub["W"].values:
        s = sub.sel(W=W)
        err = s.get("h_err")
        ok = np.isfinite(s["h"].values)
        _band(ax, t[ok], s["h"].values[ok], None if err is None else err.values[ok], label=f"W = {W:g}")
        A, B = float(ffL["A"].sel(W=W)), float(ffL["B"].sel(W=W))
        if np.isfinite(A):
            ax.plot(tw, A * np.log(tw) + B, color="k", lw=1.5, ls="--")
    ax.plot([], [], color="k", ls="--", label=f"fit A ln t + B on [{t_min:.3g}, {t_max:.3g}]")
    ax.set_xscale("log")
    ax.set_xlabel(label(fr["time"], "time t·J"))
    ax.set_ylabel(label(fr["h"]))
    ax.set_title(f"L = {L}", fontsize="small")
    ax.legend(fontsize="x-small", loc="upper left")
    Ws = ffL["W"].values
    iA = ffL["inv_A"].values
    iAe = ffL["inv_A_err"].values if "inv_A_err" in ffL else None
    ins.errorbar(Ws, iA, yerr=None if iAe is None else np.nan_to_num(iAe), fmt="o", ms=3, capsize=2)
    ins.axhline(TWO_LN4, color="k", ls=":", lw=1)
    ins.text(1.0, TWO_LN4, "2 ln 4 ", fontsize="small", va="bottom", ha="right",
             transform=ins.get_yaxis_transform())
    ins.set_xlabel(label(ffL["W"], "W/J", width=28))
    ins.set_ylabel(label(ffL["inv_A"], width=28))
    ins.set_title("1/A > 2 ln 4: robust (Eq. 18)", fontsize="small")
    return fig


def fig5_collapse(col: xr.Dataset, *, W: float | None = None) -> Figure:
    """Fig. 5: L·Ir versus t (log axis) for every L at one W.

    Parameters
    ----------
    col
        Output of :func:`analysis.collapse`.
    W
        Disorder strength (default: the largest).
    """
    require(col, variables=["L_Ir"], dims=["L", "W", "time"], what="col")
    W = float(col["W"].values.max()) if W is None else float(W)
    sub = _positive_time(col.sel(W=W))
    t = sub["time"].values
    fig = Figure(figsize=(6.0, 4.2), layout="constrained")
    ax = fig.subplots()
    for L in sub["L"].values:
        s = sub.sel(L=L)
        err = s.get("L_Ir_err")
        ok = np.isfinite(s["L_Ir"].values)
        _band(ax, t[ok], s["L_Ir"].values[ok], None if err is None else err.values[ok], label=f"L = {L}")
    ax.set_xscale("log")
    ax.set_xlabel(label(col["time"], "time t·J"))
    ax.set_ylabel(label(col["L_Ir"]))
    ax.set_title(f"W = {W:g}", fontsize="small")
    ax.legend(fontsize="x-small")
    return fig
