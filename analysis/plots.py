"""The paper's Figs. 2-5 from analysis output. Each function returns a ``matplotlib.figure.Figure``.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state, no ``show``),
so they work under any backend, Agg included; save with ``fig.savefig(path)``. Given the output of
:func:`analysis.resample.bootstrap` (``bs=``), bands and error bars are its percentile intervals;
without it they are the per-point jackknife errors. Open intervals (a censored t~, an interval
that reaches infinity) are drawn as arrows, never as one-sided bars that look closed.
"""
from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from ._validate import require
from .fits import fit_threshold_scaling
from .front import TWO_LN4
from .resample import masked_line

T_LABEL = r"time $tJ$"
W_LABEL = r"disorder strength $W/J$"
TT_LABEL = r"threshold time $\tilde{t}J$"
#: the paper's disorder strengths of Fig. 2 (panels a, b) and Fig. 5
PAPER_FIG2_W = (2.0, 8.0)
PAPER_FIG5_W = 8.0


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


def _band(ax, t: np.ndarray, y: np.ndarray, lo: np.ndarray | None = None, hi: np.ndarray | None = None, **kw) -> None:
    (line,) = ax.plot(t, y, **kw)
    if lo is not None and hi is not None:
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(t, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan), color=line.get_color(),
                        alpha=0.25, linewidth=0)


def _ticks_on(ax, values: np.ndarray, axis: str = "x") -> None:
    """Major ticks exactly at the data values (integer labels for integers), no minor ticks."""
    values = np.asarray(values, dtype=float)
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(FixedLocator(values))
    target.set_minor_locator(NullLocator())
    labels = [f"{v:g}" for v in values]
    (ax.set_xticklabels if axis == "x" else ax.set_yticklabels)(labels)


def _interval_bars(ax, x: np.ndarray, c: np.ndarray, lo: np.ndarray, hi: np.ndarray, top: float | None,
                   color, fmt: str = "o", label: str | None = None, log: bool = True) -> None:
    """Points with [lo, hi] bars; an open upper end (inf, NaN) or a censored point becomes an arrow.

    ``c`` NaN with a finite ``lo`` is a censored value: a hollow marker at ``top`` (the largest
    observable value) with an upward arrow. Bars whose upper end is open stop at ``top`` and end
    in an arrow.
    """
    x, c, lo, hi = (np.asarray(a, float) for a in (x, c, lo, hi))
    shown = np.isfinite(c)
    cap = top if top is not None else np.nanmax(np.where(np.isfinite(hi), hi, np.nan))
    open_hi = ~np.isfinite(hi)
    hi_drawn = np.where(open_hi, cap, hi)
    lo_drawn = np.where(np.isfinite(lo), lo, c)
    with np.errstate(invalid="ignore"):  # points not shown (c not finite) may give inf - inf; never drawn
        err = np.vstack([np.clip(c - lo_drawn, 0, None), np.clip(hi_drawn - c, 0, None)])
    ax.errorbar(x[shown], c[shown], yerr=err[:, shown], fmt=fmt, color=color, capsize=2, ms=4, label=label)
    up = 1.8 if log else 0.12 * abs(cap)
    for xi, yi in zip(x[shown & open_hi], hi_drawn[shown & open_hi]):
        ax.annotate("", xy=(xi, yi * up if log else yi + up), xytext=(xi, yi),
                    arrowprops=dict(arrowstyle="->", color=color, lw=1))
    cens = ~shown & np.isfinite(lo)
    for xi in x[cens]:
        ax.plot([xi], [cap], marker=fmt, mfc="none", color=color, ms=5)
        ax.annotate("", xy=(xi, cap * up if log else cap + up), xytext=(xi, cap),
                    arrowprops=dict(arrowstyle="->", color=color, lw=1))


def fig2_imbalance(ri: xr.Dataset, *, L: int | None = None, W: Sequence[float] | None = None,
                   bs: xr.Dataset | None = None, r_th: float | None = 0.17) -> Figure:
    """Fig. 2: I0, Ig and Ir versus t (log axis) at one L, one panel per W (the paper: W = 2 and 8).

    Parameters
    ----------
    ri
        Output of :func:`analysis.relative_imbalance` (bands of I0, Ig: ± their standard errors).
    L
        Chain length (default: the largest).
    W
        Disorder strengths, one panel each (default: the paper's W = 2 and 8 where the data have
        them, else the smallest and the largest W).
    bs
        Output of :func:`analysis.resample.bootstrap`: the band of Ir is its interval (else ± Ir_err).
    r_th
        Draw the threshold line Ir = r_th (None: no line).
    """
    require(ri, variables=["I0", "Ig", "Ir"], dims=["L", "W", "time"], what="ri")
    L = int(ri["L"].values.max()) if L is None else int(L)
    have = [float(w) for w in ri["W"].values]
    if W is None:
        Ws = [w for w in PAPER_FIG2_W if any(np.isclose(w, have))] or sorted({min(have), max(have)})
        Ws = Ws if len(Ws) == 2 or len(have) < 2 else sorted({min(have), max(have)})
    else:
        Ws = [float(w) for w in W]
    fig = Figure(figsize=(4.4 * len(Ws), 3.8), layout="constrained")
    axes = fig.subplots(1, len(Ws), squeeze=False, sharey=True)[0]
    sub = _positive_time(ri.sel(L=L))
    t = sub["time"].values
    g = float(ri.attrs.get("gamma", np.nan))
    conf = None if bs is None else f"{100 * float(bs.attrs['confidence']):g} %"
    for n, (ax, w) in enumerate(zip(axes, Ws)):
        s = sub.sel(W=w)
        for var, short in (("I0", r"$I_0$ ($\gamma = 0$)"), ("Ig", rf"$I_\gamma$ ($\gamma = {g:g}$)")):
            e = s[f"{var}_err"].values if f"{var}_err" in s else None
            _band(ax, t, s[var].values, None if e is None else s[var].values - e,
                  None if e is None else s[var].values + e, label=short)
        if bs is not None:
            b = _positive_time(bs.sel(L=L, W=w))
            lo, hi = b["Ir_lo"].values, b["Ir_hi"].values
        elif "Ir_err" in s:
            lo, hi = s["Ir"].values - s["Ir_err"].values, s["Ir"].values + s["Ir_err"].values
        else:
            lo = hi = None
        _band(ax, t, s["Ir"].values, lo, hi, label=r"$I_r = (I_0 - I_\gamma)/I_0$")
        if r_th is not None:
            ax.axhline(r_th, color="k", ls=":", lw=1)
            ax.text(0.98, r_th, rf"$r_{{th}} = {r_th:g}$", transform=ax.get_yaxis_transform(),
                    va="top", ha="right", fontsize="small")
        ax.set_xscale("log")
        ax.set_xlabel(T_LABEL)
        ax.set_title(f"({'ab'[n] if n < 2 else n + 1}) L = {L}, W = {w:g}", fontsize="medium")
        ax.axhline(0.0, color="0.7", linewidth=0.8)
    axes[0].set_ylabel(r"imbalance $I_0$, $I_\gamma$; relative imbalance $I_r$")
    title = "bands: ± s.e." + ("" if conf is None else f"; $I_r$: {conf} interval (resampled)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize="small",
               title=title, title_fontsize="x-small")
    return fig


def fig3_threshold(tt: xr.Dataset, fits: xr.Dataset | None = None, *, bs: xr.Dataset | None = None) -> Figure:
    """Fig. 3: t~ versus W per L (a) and versus L per W (b), log y, with the fits.

    Parameters
    ----------
    tt
        Output of :func:`analysis.threshold_time`.
    fits
        Output of :func:`analysis.fit_threshold_scaling` (used without ``bs``; computed from ``tt``
        if None).
    bs
        Output of :func:`analysis.resample.bootstrap`: points are its t~ (the definition it fitted),
        bars its intervals, lines its fits; censored t~ are hollow markers at t_final with an
        upward arrow. Without it the bars span [t_tilde_lower, t_tilde_upper].
    """
    require(tt, variables=["t_tilde"], dims=["L", "W"], what="tt")
    tt = tt.transpose("L", "W")
    Ls, Ws = tt["L"].values, tt["W"].values
    t_final = float(tt.attrs.get("t_final", np.nan))
    if bs is not None:
        name = f"t_tilde_{bs.attrs['definition']}"
        c, lo, hi = (bs[name + s].transpose("L", "W").values for s in ("", "_lo", "_hi"))
        t_final = float(bs.attrs["t_final"])
        alpha, ci = float(bs["alpha"]), float(bs["c"])
        a_txt = rf"$\alpha$ = {alpha:.3g} [{float(bs['alpha_lo']):.3g}, {float(bs['alpha_hi']):.3g}]"
        w_txt = rf"$\tilde W$ = {float(bs['W_tilde']):.3g} [{float(bs['W_tilde_lo']):.3g}, {float(bs['W_tilde_hi']):.3g}]"
        ints, kaps = masked_line(Ls.astype(float), np.log(c).T, 2)
        conf = f"{100 * float(bs.attrs['confidence']):g} % intervals"
    else:
        fits = fit_threshold_scaling(tt) if fits is None else fits
        c = tt["t_tilde"].values
        lo = tt["t_tilde_lower"].values if "t_tilde_lower" in tt else np.full_like(c, np.nan)
        hi = tt["t_tilde_upper"].values if "t_tilde_upper" in tt else np.full_like(c, np.nan)
        alpha, ci = float(fits["alpha"]), float(fits["c"])
        a_txt = rf"$\alpha$ = {alpha:.3g} ± {float(fits['alpha_err']):.2g}"
        w_txt = rf"$\tilde W$ = {float(fits['W_tilde']):.3g}"
        kaps = fits["kappa"].values
        ints = fits["kappa_intercept"].values
        conf = "bars: Ir ± err crossings"
    top = t_final if np.isfinite(t_final) else None
    with np.errstate(invalid="ignore"):
        outside = int((np.isfinite(c) & ((c < lo) | (c > hi))).sum())
    if outside and bs is None:
        conf += (f"\n{outside} marker(s) lie above their bar: the paper's t~ is the first sample after Ir - err "
                 "crosses r_th, the bar's upper end is that crossing interpolated")
    elif outside:
        conf += f"\n{outside} marker(s) outside their resampled interval (t~ is a sample time: skewed resamples)"
    fig = Figure(figsize=(9.6, 4.2), layout="constrained")
    ax_w, ax_l = fig.subplots(1, 2, sharey=True)
    wgrid = np.linspace(Ws.min(), Ws.max(), 50)
    colors = [f"C{i}" for i in range(10)]
    for i, L in enumerate(Ls):
        col = colors[i % 10]
        dx = 0.012 * np.ptp(Ws) * (i - (len(Ls) - 1) / 2)  # keep the bars of different L apart
        _interval_bars(ax_w, Ws + dx, c[i], lo[i], hi[i], top, col, "o", f"L = {L}")
        if np.isfinite(alpha):
            ax_w.plot(wgrid, np.exp(ci + alpha * L * wgrid), color=col, lw=1)
    lgrid = np.linspace(Ls.min(), Ls.max(), 50)
    for k, W in enumerate(Ws):
        col = colors[k % 10]
        dx = 0.012 * np.ptp(Ls) * (k - (len(Ws) - 1) / 2)
        _interval_bars(ax_l, Ls + dx, c[:, k], lo[:, k], hi[:, k], top, col, "s", f"W = {W:g}")
        if np.isfinite(kaps[k]):
            ax_l.plot(lgrid, np.exp(ints[k] + kaps[k] * lgrid), color=col, lw=1)
    if top is not None:
        for ax in (ax_w, ax_l):
            ax.axhline(top, color="0.6", lw=0.8, ls="--")
        ax_w.text(0.02, top, r"$t_{final}$", transform=ax_w.get_yaxis_transform(), va="top", fontsize="x-small")
    ax_w.set_yscale("log")
    if top is not None:  # room for the arrows of open intervals above t_final
        low = np.nanmin(np.where(np.isfinite(lo) & (lo > 0), lo, np.where(c > 0, c, np.nan)))
        ax_w.set_ylim(low / 2 if np.isfinite(low) else None, top * 3.0)
    _ticks_on(ax_w, Ws)
    _ticks_on(ax_l, Ls)
    ax_w.set_xlabel(W_LABEL)
    ax_w.set_ylabel(TT_LABEL)
    ax_l.set_xlabel(r"chain length $L$")
    ax_w.set_title(f"(a) {a_txt}\n{w_txt}", fontsize="small")
    ax_l.set_title(r"(b) per-W fits of $\ln\tilde t = a + \kappa L$" + f"\n({conf}; arrows: open)", fontsize="small")
    ax_w.legend(fontsize="x-small")
    ax_l.legend(fontsize="x-small")
    return fig


def fig4_front(fr: xr.Dataset, ff: xr.Dataset | None = None, *, L: int | None = None,
               bs: xr.Dataset | None = None) -> Figure:
    """Fig. 4: h(t) versus t (log axis) per W at one L with the fit A ln t + B; 1/A vs W beside it.

    The paper's inset (1/A vs W with the line 2 ln 4) is drawn as a side panel so that it never
    hides data.

    Parameters
    ----------
    fr
        Output of :func:`analysis.front`.
    ff
        Output of :func:`analysis.fit_front` on ``fr`` (used without ``bs``; its ``t_min``,
        ``t_max`` attrs give the drawn fit range).
    L
        Chain length (default: the largest).
    bs
        Output of :func:`analysis.resample.bootstrap` with the front: bands of h, the fits, and
        1/A with its interval (an open end drawn as an arrow) come from it.
    """
    require(fr, variables=["h"], dims=["L", "W", "time"], what="fr")
    if bs is None and ff is None:
        raise ValueError("fig4_front needs ff (analysis.fit_front) or bs (analysis.resample.bootstrap)")
    L = int(fr["L"].values.max()) if L is None else int(L)
    sub = _positive_time(fr.sel(L=L))
    t = sub["time"].values
    fig = Figure(figsize=(9.0, 4.2), layout="constrained")
    ax, ins = fig.subplots(1, 2, width_ratios=[2.4, 1])
    Ws = sub["W"].values
    if bs is not None:
        bL = bs.sel(L=L)
        A, B = bL["A"].values, bL["B"].values
        windows = np.column_stack([bL["t_min"].values, bL["t_max"].values])
        iA, lo, hi = bL["inv_A"].values, bL["inv_A_lo"].values, bL["inv_A_hi"].values
        what = f"{100 * float(bs.attrs['confidence']):g} % intervals (resampled)"
    else:
        ffL = ff.sel(L=L) if "L" in ff.dims else ff
        A, B = ffL["A"].values, ffL["B"].values
        windows = np.tile([float(ff.attrs.get("t_min", t[0])), float(ff.attrs.get("t_max", t[-1]))], (len(Ws), 1))
        iA = ffL["inv_A"].values
        e = ffL["inv_A_err"].values if "inv_A_err" in ffL else np.zeros_like(iA)
        lo, hi = iA - e, iA + e
        what = "bars: ± s.e. of the fit"
    for k, W in enumerate(Ws):
        s = sub.sel(W=W)
        y = s["h"].values
        ok = np.isfinite(y)
        if bs is not None:
            b = _positive_time(bs.sel(L=L, W=W))
            blo, bhi = b["h_lo"].values[ok], b["h_hi"].values[ok]
        elif "h_err" in s:
            blo, bhi = (y - s["h_err"].values)[ok], (y + s["h_err"].values)[ok]
        else:
            blo = bhi = None
        _band(ax, t[ok], y[ok], blo, bhi, label=f"W = {W:g}")
        if np.isfinite(A[k]) and np.all(np.isfinite(windows[k])):
            tw = np.geomspace(*windows[k], 40)
            ax.plot(tw, A[k] * np.log(tw) + B[k], color="k", lw=1.5, ls="--")
    wins = {tuple(np.round(w, 6)) for w in windows if np.all(np.isfinite(w))}
    win_txt = (f" on t in [{next(iter(wins))[0]:g}, {next(iter(wins))[1]:g}]" if len(wins) == 1 else "")
    ax.plot([], [], color="k", ls="--", label=rf"fit $A\ln t + B${win_txt}")
    ax.set_xscale("log")
    ax.set_xlabel(T_LABEL)
    ax.set_ylabel(r"front length $h$ (lattice sites)")
    ax.set_title(f"L = {L}" + ("" if bs is None else f"; bands: {what}"), fontsize="small")
    ax.legend(fontsize="x-small", loc="upper left")
    finite_top = np.nanmax(np.where(np.isfinite(hi), hi, iA))
    top = max(finite_top, TWO_LN4) * 1.15
    _interval_bars(ins, Ws, iA, lo, hi, top, "C0", "o", log=False)
    ins.axhline(TWO_LN4, color="k", ls=":", lw=1)
    ends = np.abs(np.nan_to_num(iA[[0, -1]], nan=np.inf) - TWO_LN4)  # label where the line is free of data
    right = bool(ends[1] >= ends[0])
    ins.text(0.97 if right else 0.03, TWO_LN4, r"$2\ln 4$", transform=ins.get_yaxis_transform(), va="bottom",
             ha="right" if right else "left", fontsize="small")
    ins.set_ylim(bottom=min(0.0, float(np.nanmin(lo)) if np.isfinite(lo).any() else 0.0), top=top * 1.2)
    _ticks_on(ins, Ws)
    ins.set_xlabel(W_LABEL)
    ins.set_ylabel(r"$1/A$ (per lattice site)")
    ins.set_title(r"robust if $1/A > 2\ln 4$ (Eq. 18)" + f"\n{what}", fontsize="small")
    return fig


def fig5_collapse(col: xr.Dataset, *, W: float | None = None, bs: xr.Dataset | None = None) -> Figure:
    """Fig. 5: L·Ir versus t (log axis) for every L at one W (the paper's Fig. 5 uses W = 8).

    Parameters
    ----------
    col
        Output of :func:`analysis.collapse`.
    W
        Disorder strength (default: the paper's W = 8 if present, else the largest).
    bs
        Output of :func:`analysis.resample.bootstrap`: bands are L times its interval of Ir.
    """
    require(col, variables=["L_Ir"], dims=["L", "W", "time"], what="col")
    if W is None:
        have = col["W"].values.astype(float)
        W = PAPER_FIG5_W if np.isclose(have, PAPER_FIG5_W).any() else float(have.max())
    W = float(W)
    sub = _positive_time(col.sel(W=W))
    t = sub["time"].values
    fig = Figure(figsize=(6.0, 4.2), layout="constrained")
    ax = fig.subplots()
    for L in sub["L"].values:
        s = sub.sel(L=L)
        y = s["L_Ir"].values
        ok = np.isfinite(y)
        if bs is not None:
            b = _positive_time(bs.sel(L=L, W=W))
            lo, hi = L * b["Ir_lo"].values[ok], L * b["Ir_hi"].values[ok]
        elif "L_Ir_err" in s:
            lo, hi = (y - s["L_Ir_err"].values)[ok], (y + s["L_Ir_err"].values)[ok]
        else:
            lo = hi = None
        _band(ax, t[ok], y[ok], lo, hi, label=f"L = {L}")
    ax.set_xscale("log")
    ax.set_xlabel(T_LABEL)
    ax.set_ylabel(r"$L\,I_r$ (lattice sites)")
    band = "± s.e." if bs is None else f"{100 * float(bs.attrs['confidence']):g} % intervals (resampled)"
    ax.set_title(f"W = {W:g}; bands: {band}", fontsize="small")
    ax.legend(fontsize="x-small")
    return fig


def fig4_local_slope(sl: xr.Dataset, *, L: int | None = None, ff: xr.Dataset | None = None) -> Figure:
    """Companion of Fig. 4: the local slope dh/d ln t versus t per W at one L, with its bands.

    h = A ln t + B holds where the curve is flat (then it equals A). With ``ff`` (a
    :func:`analysis.bootstrap` or :func:`analysis.fit_front` output with ``A``), the fitted A of
    each W is drawn as a dashed horizontal line over its fit window, so one sees which times the
    single 1/A of Fig. 4 averages over.

    Parameters
    ----------
    sl
        Output of :func:`analysis.local_slope`.
    L
        Chain length (default: the largest).
    ff
        Optional fits with ``A`` (L, W) and ``t_min``, ``t_max`` (variables or attributes).
    """
    require(sl, variables=["slope", "slope_lo", "slope_hi"], dims=["L", "W", "time"], what="sl")
    L = int(sl["L"].values.max()) if L is None else int(L)
    sub = _positive_time(sl.sel(L=L))
    t = sub["time"].values
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    for k, W in enumerate(sub["W"].values):
        s = sub.sel(W=W)
        y = s["slope"].values
        ok = np.isfinite(y)
        _band(ax, t[ok], y[ok], s["slope_lo"].values[ok], s["slope_hi"].values[ok], label=f"W = {W:g}",
              color=f"C{k % 10}")
        if ff is not None and "A" in ff:
            f = ff.sel(L=L, W=W) if "L" in ff["A"].dims else ff.sel(W=W)
            t0 = float(f["t_min"]) if "t_min" in f else float(ff.attrs["t_min"])
            t1 = float(f["t_max"]) if "t_max" in f else float(ff.attrs["t_max"])
            ax.plot([t0, t1], [float(f["A"])] * 2, color=f"C{k % 10}", ls="--", lw=1)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(T_LABEL)
    ax.set_ylabel(r"local slope $dh/d\ln t$ (lattice sites)")
    conf = f"{100 * float(sl.attrs.get('confidence', 0.95)):g} %"
    ax.set_title(f"L = {L}; slope on ±{float(sl.attrs['half_width']):g} decade around t, {conf} resampled bands"
                 + ("\ndashed: the A of Fig. 4 over its fit window" if ff is not None else "")
                 + "\nflat where h = A ln t", fontsize="small")
    ax.legend(fontsize="x-small", loc="upper left")
    return fig


def fig_w_star_window(ws: xr.Dataset, *, claim: float | None = None) -> Figure:
    """W* (where 1/A crosses 2 ln 4) versus the start t_min of the fit window [t_min, t_max], per L.

    If h were A ln t, W* would not depend on t_min. Open interval ends (1/A above or below
    2 ln 4 over the whole W grid in some resamples) are drawn as arrows.

    Parameters
    ----------
    ws
        Output of :func:`analysis.w_star_by_window`.
    claim
        A W* value to draw as a horizontal line (e.g. the paper's 7 at L = 16); default
        ``ws.attrs["w"]``.
    """
    require(ws, variables=["W_star", "W_star_lo", "W_star_hi"], dims=["L", "t_min"], what="ws")
    claim = float(ws.attrs.get("w", np.nan)) if claim is None else float(claim)
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    t1 = ws["t_min"].values.astype(float)
    Ls = ws["L"].values
    Wmax = float(ws["W"].values.max())
    for i, L in enumerate(Ls):
        s = ws.sel(L=L)
        shift = 1.0 + 0.04 * (i - (len(Ls) - 1) / 2)  # keep the bars of different L apart (log axis)
        c, lo, hi = s["W_star"].values, s["W_star_lo"].values, s["W_star_hi"].values
        _interval_bars(ax, t1 * shift, c, lo, np.where(np.isfinite(hi), hi, np.inf), Wmax, f"C{i % 10}", "o",
                       label=f"L = {L}", log=False)
        ax.plot(t1 * shift, c, color=f"C{i % 10}", lw=0.8)
    if np.isfinite(claim):
        ax.axhline(claim, color="k", ls=":", lw=1)
        ax.text(0.02, claim, f"W* = {claim:g}", transform=ax.get_yaxis_transform(), va="bottom", fontsize="small")
    ax.set_xscale("log")
    ax.set_xlabel(r"fit window start $t_{min}J$ (window $[t_{min}, " + f"{float(ws.attrs['t_max']):g}]$)")
    ax.set_ylabel(r"$W^*/J$ where $1/A = 2\ln 4$")
    conf = f"{100 * float(ws.attrs.get('confidence', 0.95)):g} %"
    ax.set_title(f"W* moves with the fit window where h is not A ln t\n({conf} resampled intervals; "
                 "arrows: open)", fontsize="small")
    ax.legend(fontsize="x-small")
    return fig
