"""The headline numbers as two tables: per (L, W), and per W / per L / global, with verdicts.

Every uncertainty and every verdict comes from :func:`analysis.resample.bootstrap` (resampling
realizations through the whole pipeline); the tables carry units in their headers.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr

from ._validate import require_schema
from .linearity import linearity, w_star_by_window
from .relaxation import rate_decay, threshold_disorder, typical_rate
from .resample import Window, bootstrap, verdicts

#: grid-table column -> (unit, description). Units: times in 1/J, lengths in lattice sites.
GRID_COLUMNS: dict[str, tuple[str, str]] = {
    "L": ("site", "chain length"),
    "W": ("J", "disorder strength"),
    "n_realizations": ("", "paired realizations resampled"),
    "t_tilde_paper": ("1/J", "t~: first sample time with Ir - err > r_th (paper); NaN if censored"),
    "t_tilde_paper_lo": ("1/J", "lower end of its interval"),
    "t_tilde_paper_hi": ("1/J", "upper end of its interval (inf, JSON null: beyond the data)"),
    "t_tilde_paper_censored": ("", "t~ (paper) beyond the data: only t~ > t_final is known"),
    "t_tilde_crossing": ("1/J", "t~: crossing of the central Ir with r_th, interpolated in ln t"),
    "t_tilde_crossing_lo": ("1/J", "lower end of its interval"),
    "t_tilde_crossing_hi": ("1/J", "upper end of its interval (inf, JSON null: beyond the data)"),
    "t_tilde_crossing_censored": ("", "t~ (crossing) beyond the data"),
    "slope_early": ("site", "slope dh/d ln t on the early window (linearity.default_windows)"),
    "slope_late": ("site", "slope dh/d ln t on the late window"),
    "slope_ratio": ("", "late slope / early slope: 1 where h = A ln t"),
    "slope_ratio_lo": ("", "lower end of its interval"),
    "slope_ratio_hi": ("", "upper end of its interval"),
    "convex_verdict": ("", "h convex in ln t (late slope > early slope; h = A ln t fails): yes / no / undetermined"),
    "convex_P": ("", "fraction of resamples with late slope > early slope"),
    "convex_P_err": ("", "Monte Carlo error of convex_P"),
    "t_min": ("1/J", "start of the fit window of h = A ln t + B"),
    "t_max": ("1/J", "end of the fit window"),
    "A": ("site", "slope of h = A ln t + B"),
    "A_lo": ("site", "lower end of the interval of A"),
    "A_hi": ("site", "upper end of the interval of A"),
    "inv_A": ("1/site", "1/A"),
    "inv_A_se": ("1/site", "standard error of 1/A (resampling)"),
    "inv_A_lo": ("1/site", "lower end of the interval of 1/A"),
    "inv_A_hi": ("1/site", "upper end of the interval of 1/A"),
    "front_verdict": ("", "1/A > 2 ln 4 (Eq. 18): yes / no / undetermined"),
    "front_P": ("", "fraction of resamples with 1/A > 2 ln 4"),
    "front_P_err": ("", "Monte Carlo error of front_P, sqrt(P (1 - P) / n_resamples)"),
    "log10_t_star": ("log10(1/J)", "log10 t*, t* = exp(L/(2A))"),
    "log10_t_star_lo": ("log10(1/J)", "lower end of its interval"),
    "log10_t_star_hi": ("log10(1/J)", "upper end of its interval"),
    "ln_gamma_median": ("ln(J)", "median over realizations of ln Gamma, the slowest relaxation rate (relaxation_rate)"),
    "ln_gamma_median_lo": ("ln(J)", "lower end of its interval (-inf: among unresolved rates)"),
    "ln_gamma_median_hi": ("ln(J)", "upper end of its interval"),
    "gamma_unresolved": ("", "realizations whose rate is at or below its resolution (censored below)"),
}
#: summary-table column -> (unit, description).
SUMMARY_COLUMNS: dict[str, tuple[str, str]] = {
    "quantity": ("", "kappa (per W), alpha, c, W~, alpha and W~ without constant (global), 'W > W~' (per W), "
                     "W* (per L), W* per fit window start (per L and t_min); with relaxation rates: "
                     "kappa_Gamma (per W, from L - dL to L) and W*_Gamma (per L)"),
    "L": ("site", "chain length of a per-L row"),
    "t_min": ("1/J", "fit window start of a W_star_window row (window [t_min, t_final])"),
    "W": ("J", "disorder strength of a per-W row"),
    "unit": ("", "unit of estimate, se, lo, hi"),
    "estimate": ("", "point estimate from the data"),
    "se": ("", "standard error (resampling); NaN where some resamples have no finite value"),
    "lo": ("", "lower end of the interval"),
    "hi": ("", "upper end of the interval"),
    "claim": ("", "the claim the verdict is about"),
    "verdict": ("", "yes / no / undetermined"),
    "P": ("", "fraction of resamples for which the claim holds"),
    "P_err": ("", "Monte Carlo error of P, sqrt(P (1 - P) / n_resamples)"),
    "n_points": ("", "points in the data's fit (kappa, alpha)"),
    "n_censored": ("", "censored t~ left out of that fit"),
}

_SUMMARY_QUANTITIES = {
    "kappa": ("1/site", "kappa > ln 4"),
    "alpha": ("1/(site·J)", ""),
    "c": ("", ""),
    "W_tilde": ("J", ""),
    "alpha_origin": ("1/(site·J)", ""),
    "W_tilde_origin": ("J", ""),
    "W_star": ("J", ""),
    "W_star_window": ("J", ""),
    "kappa_Gamma": ("1/site", "kappa_Gamma > ln 4"),
    "W_star_Gamma": ("J", ""),
}


@dataclass
class Report:
    """The two tables of :func:`report`, the notes that qualify them, and the run's settings.

    Attributes
    ----------
    grid
        One row per (L, W), columns :data:`GRID_COLUMNS` (front columns only where defined).
    summary
        Rows for kappa(W), alpha, c, W~, the claims W > W~ (per W) and W*(L); columns
        :data:`SUMMARY_COLUMNS`.
    notes
        One-line statements: the fit window, censored points, a front left out and why, etc.
    attrs
        Settings: r_th, confidence, n_resamples, seed, definition, order, gamma, t_final.
    bootstrap
        The full output of :func:`analysis.resample.bootstrap` (for figures).
    """

    grid: pd.DataFrame
    summary: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)
    bootstrap: xr.Dataset | None = None

    def to_markdown(self, all_columns: bool = False) -> str:
        """Both tables in Markdown (compact cells "estimate [lo, hi]" unless ``all_columns``)."""
        conf = f"{100 * self.attrs['confidence']:g} %"
        head = (f"r_th = {self.attrs['r_th']:g}; {conf} percentile intervals from {self.attrs['n_resamples']} "
                f"resamples of the realizations (seed {self.attrs['seed']}); t~ fits use the "
                f"{self.attrs['definition']} definition.")
        parts = [head, ""] + [f"- {n}" for n in self.notes] + [""]
        if all_columns:
            parts += ["Per (L, W):", "", _with_units(self.grid, GRID_COLUMNS).to_markdown(index=False, floatfmt=".4g"),
                      "", "Per W, per L and global:", "",
                      self.summary.to_markdown(index=False, floatfmt=".4g")]
        else:
            grid, summary = compact_grid(self.grid, conf), compact_summary(self.summary, conf)
            cells = " ".join(grid.astype(str).to_numpy().ravel()) + " " + " ".join(summary.astype(str).to_numpy().ravel())
            extra = [f"- {UNBOUNDED_NOTE}"] * (NO_LOWER in cells or NO_UPPER in cells)
            extra += [f"- {NO_P_NOTE}"] * bool((summary["P"] == "n/a").any())
            parts = parts[:-1] + extra + [""]
            parts += ["Per (L, W):", "", grid.to_markdown(index=False, disable_numparse=True), "",
                      "Per W, per L and global:", "", summary.to_markdown(index=False, disable_numparse=True)]
        return "\n".join(parts)

    def to_csv(self, table: Literal["grid", "summary"] = "grid", float_format: str | None = None) -> str:
        """One table as CSV, one header line (units in brackets) and one row per line.

        ``pandas.read_csv`` reads it back as the table; infinities are written ``inf`` / ``-inf``
        (an interval end beyond the data), NaN as an empty field. ``float_format`` (e.g. ``"%.12g"``)
        fixes the digits written (default: every digit of the float). :meth:`write_csv` writes both.
        """
        if table not in TABLES:
            raise ValueError(f"table must be one of {TABLES}; got {table!r}")
        if table == "grid":
            return _with_units(self.grid, GRID_COLUMNS).to_csv(index=False, float_format=float_format)
        return self.summary.to_csv(index=False, float_format=float_format)

    def write_csv(self, directory: str | Path) -> list[Path]:
        """``grid.csv`` and ``summary.csv`` (:meth:`to_csv`) and ``notes.txt`` in ``directory`` (created)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for table in TABLES:
            written.append(directory / f"{table}.csv")
            written[-1].write_text(self.to_csv(table), encoding="utf-8")
        written.append(directory / "notes.txt")
        written[-1].write_text("".join(f"{note}\n" for note in self.notes), encoding="utf-8")
        return written

    def to_json(self) -> str:
        """Both tables, units, notes and settings as one JSON document.

        Strict JSON (``json.loads`` and ``pandas.DataFrame(doc["grid"])`` read it): a number
        without a finite value is ``null``, which means NaN (undefined: no fit, a censored point
        estimate) or, for an interval end, unbounded (beyond the data, e.g. t~ > t_final); the
        document's ``"null"`` entry says so, and the ``*_censored`` columns tell the two apart for t~.
        """
        def records(df: pd.DataFrame) -> list[dict]:
            return [{k: _jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]
        doc = {
            "null": JSON_NULL,
            "attrs": {k: _jsonable(v) for k, v in self.attrs.items()},
            "notes": self.notes,
            "units": {"grid": {k: GRID_COLUMNS[k][0] for k in self.grid.columns},
                      "summary": {k: SUMMARY_COLUMNS[k][0] for k in self.summary.columns}},
            "grid": records(self.grid),
            "summary": records(self.summary),
        }
        return json.dumps(doc, indent=1, allow_nan=False)


#: The tables of a report, in order.
TABLES = ("grid", "summary")
#: What ``null`` stands for in :meth:`Report.to_json`.
JSON_NULL = ("no finite value: NaN (undefined, e.g. no fit or a censored estimate) or, for an interval end "
             "(_lo, _hi, lo, hi), unbounded: beyond the data on that side")


def _jsonable(v: object) -> object:
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return None  # an unbounded interval end: JSON_NULL
        return x
    return v


def _with_units(df: pd.DataFrame, spec: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    return df.rename(columns={c: f"{c} [{spec[c][0]}]" for c in df.columns if spec.get(c, ("",))[0]})


#: Markdown wording of interval ends beyond the data (``format_interval(..., words=True)``).
NO_LOWER, NO_UPPER = "no lower bound", "no upper bound"
#: An estimate itself beyond the data (e.g. 1/A above 2 ln 4 at every W studied: W* below the W range).
BELOW_DATA, ABOVE_DATA = "below the data", "above the data"
#: The note that says what those words mean.
UNBOUNDED_NOTE = (f"'{NO_LOWER}' / '{NO_UPPER}': so many resamples put the value beyond the data on that side "
                  "(t~ beyond t_final, W* outside the W range studied) that the interval is open there; "
                  f"the other end is a bound. '{BELOW_DATA}' / '{ABOVE_DATA}': the estimate itself lies there.")
#: The note for a P that is not stated.
NO_P_NOTE = ("P n/a: the data give no estimate (a t~ censored at some L), so the verdict is undetermined and no "
             "probability is stated.")


def _num(x: float, fmt: str = ".3g") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return format(x, fmt)


def _end(x: float, fmt: str, words: bool) -> str:
    if words and x is not None and math.isinf(x):
        return NO_UPPER if x > 0 else NO_LOWER
    return _num(x, fmt)


def format_interval(est: float, lo: float, hi: float, fmt: str = ".3g", words: bool = False) -> str:
    """``"est [lo, hi]"`` with ``fmt``; NaN as "NaN", infinities as "∞" / "-∞" (open bounds), or with
    ``words`` as :data:`NO_LOWER` / :data:`NO_UPPER`, and an infinite estimate as :data:`BELOW_DATA` /
    :data:`ABOVE_DATA` (:data:`UNBOUNDED_NOTE` says what they mean)."""
    shown = (BELOW_DATA if est < 0 else ABOVE_DATA) if words and est is not None and math.isinf(est) else _num(est, fmt)
    return f"{shown} [{_end(lo, fmt, words)}, {_end(hi, fmt, words)}]"


def compact_grid(grid: pd.DataFrame, conf: str = "95 %") -> pd.DataFrame:
    """The per-(L, W) table with "estimate [interval]" cells and units in the headers."""
    rows = []
    for r in grid.itertuples():
        row = {"L": r.L, "W [J]": f"{r.W:g}", "realizations": r.n_realizations}
        for d in ("paper", "crossing"):
            if getattr(r, f"t_tilde_{d}_censored"):
                cell = f"censored (> t_final), interval [{_end(getattr(r, 't_tilde_' + d + '_lo'), '.3g', True)}, {NO_UPPER}]"
            else:
                cell = format_interval(getattr(r, f"t_tilde_{d}"), getattr(r, f"t_tilde_{d}_lo"),
                                       getattr(r, f"t_tilde_{d}_hi"), words=True)
            row[f"t~ {d} [1/J] ({conf})"] = cell
        if "slope_ratio" in grid.columns:
            row[f"late/early slope of h vs ln t ({conf})"] = format_interval(r.slope_ratio, r.slope_ratio_lo,
                                                                             r.slope_ratio_hi)
            row["h convex in ln t"] = r.convex_verdict
            row["P(convex)"] = f"{r.convex_P:.3f} ± {r.convex_P_err:.3f}"
        if "inv_A" in grid.columns:
            row["fit window [1/J]"] = f"[{_num(r.t_min, 'g')}, {_num(r.t_max, 'g')}]"
            row[f"1/A [1/site] ({conf})"] = format_interval(r.inv_A, r.inv_A_lo, r.inv_A_hi, words=True)
            row["1/A > 2 ln 4"] = r.front_verdict
            row["P"] = f"{r.front_P:.3f} ± {r.front_P_err:.3f}"
            row["log10 t* [log10(1/J)]"] = format_interval(r.log10_t_star, r.log10_t_star_lo, r.log10_t_star_hi,
                                                           words=True)
        if "ln_gamma_median" in grid.columns:
            row[f"median ln Gamma [ln J] ({conf})"] = (
                format_interval(r.ln_gamma_median, r.ln_gamma_median_lo, r.ln_gamma_median_hi, ".3g")
                + (f" ({r.gamma_unresolved} unresolved)" if r.gamma_unresolved else ""))
        rows.append(row)
    return pd.DataFrame(rows)


def _no_estimate(row) -> bool:
    """A claim row whose quantity has no finite estimate (its P would count every resample as failing)."""
    return bool(row.claim) and row.quantity != "W > W~" and not np.isfinite(row.estimate)


def compact_summary(summary: pd.DataFrame, conf: str = "95 %") -> pd.DataFrame:
    """The summary table with "estimate [interval]" cells and the unit next to each quantity."""
    names = {"kappa": "κ = d ln t~/dL", "alpha": "α (ln t~ = c + α L W)", "c": "c", "W_tilde": "W~ = 2 ln 2/α",
             "alpha_origin": "α (ln t~ = α L W, no constant)", "W_tilde_origin": "W~ = 2 ln 2/α (no constant)",
             "W > W~": "W > W~", "W_star": "W* (1/A = 2 ln 4)", "W_star_window": "W* on [t_min, t_final]",
             "kappa_Gamma": "κ_Γ = -d ln Γ/dL (medians)", "W_star_Gamma": "W*_Γ (κ_Γ = ln 4)"}
    rows = []
    for r in summary.itertuples():
        at = f"W = {r.W:g}" if np.isfinite(r.W) else (f"L = {int(r.L)}" if np.isfinite(r.L) else "all")
        if np.isfinite(r.t_min):
            at += f", t_min = {r.t_min:g}"
        unit = f" [{r.unit}]" if r.unit else ""
        value = "" if r.quantity == "W > W~" else format_interval(r.estimate, r.lo, r.hi, words=True)
        p = "" if not r.claim else "n/a" if _no_estimate(r) else f"{r.P:.3f} ± {r.P_err:.3f}"
        rows.append({"quantity": names.get(r.quantity, r.quantity) + unit, "at": at,
                     f"estimate [{conf} interval]": value, "s.e.": "" if r.quantity == "W > W~" else _num(r.se, ".2g"),
                     "claim": r.claim, "verdict": r.verdict, "P": p})
    return pd.DataFrame(rows)


def report(
    ds: xr.Dataset,
    *,
    r_th: float = 0.17,
    window: Window | Mapping[tuple[int, float], Window] | None = None,
    order: Literal["abs-then-mean", "mean-then-abs"] = "abs-then-mean",
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    definition: Literal["paper", "crossing"] = "paper",
    error: Literal["jackknife", "unpaired"] = "jackknife",
    nonfinite: Literal["raise", "drop"] = "raise",
) -> Report:
    """All headline results, with resampled intervals and three-valued verdicts.

    Parameters
    ----------
    ds
        Dataset with ``sz`` (schema: README, "Data").
    r_th, window, order, n_resamples, seed, confidence, definition, error, nonfinite
        As in :func:`analysis.resample.bootstrap`: ``window`` is one ``(t_min, t_max)`` (units of
        1/J) for every (L, W), a mapping ``{(L, W): (t_min, t_max)}``, or None (then
        :func:`analysis.suggest_window` per curve); the window used is in the ``t_min``,
        ``t_max`` columns and stated in the notes.

    Returns
    -------
    Report
        ``grid`` (per (L, W)) and ``summary`` (per W, per L, global) DataFrames, ``notes``,
        ``attrs``. With the front, the grid first says whether h = A ln t holds at all
        (:func:`analysis.linearity`: late/early slope ratio, P(convex) and its verdict), before
        1/A; the summary adds W* per fit window start (:func:`analysis.w_star_by_window`, rows
        ``W_star_window``) next to W* on the chosen window. Print with ``Report.to_markdown()``, ``to_csv()`` or ``to_json()``. The front
        columns are left out, with a note saying why, where the front is undefined (the default
        front on jump-unraveling or noise-averaged data).
    """
    require_schema(ds)
    bs = bootstrap(ds, n_resamples=n_resamples, seed=seed, confidence=confidence, r_th=r_th,
                   definition=definition, error=error, window=window, order=order, nonfinite=nonfinite)
    vd = verdicts(bs)
    with_front = bool(bs.attrs["front"])
    lin = None
    if with_front:
        try:
            lin = linearity(bs)
        except ValueError:  # too few samples in the last two decades: the note says so
            lin = None
    rows = []
    for L in bs["L"].values:
        for W in bs["W"].values:
            b = bs.sel(L=L, W=W)
            row: dict[str, object] = {"L": int(L), "W": float(W), "n_realizations": int(b["n_realizations"])}
            for d in ("paper", "crossing"):
                for suffix in ("", "_lo", "_hi"):
                    row[f"t_tilde_{d}{suffix}"] = float(b[f"t_tilde_{d}{suffix}"])
                row[f"t_tilde_{d}_censored"] = bool(b[f"t_tilde_{d}_censored"])
            if lin is not None:
                li = lin.sel(L=L, W=W)
                for k in ("slope_early", "slope_late", "slope_ratio", "slope_ratio_lo", "slope_ratio_hi"):
                    row[k] = float(li[k])
                row["convex_verdict"] = str(li["convex_verdict"].item())
                row["convex_P"], row["convex_P_err"] = float(li["convex_P"]), float(li["convex_P_err"])
            if with_front:
                row["t_min"], row["t_max"] = float(b["t_min"]), float(b["t_max"])
                for k in ("A", "A_lo", "A_hi", "inv_A", "inv_A_se", "inv_A_lo", "inv_A_hi"):
                    row[k] = float(b[k])
                row["front_verdict"] = str(vd["front_verdict"].sel(L=L, W=W).item())
                row["front_P"] = float(vd["front_P"].sel(L=L, W=W))
                row["front_P_err"] = float(vd["front_P_err"].sel(L=L, W=W))
                for k in ("log10_t_star", "log10_t_star_lo", "log10_t_star_hi"):
                    row[k] = float(b[k])
            rows.append(row)
    grid = pd.DataFrame(rows, columns=[c for c in GRID_COLUMNS if c in rows[0]])

    B = int(bs.sizes["resample"])

    def srow(quantity: str, *, L: float = np.nan, W: float = np.nan, sel: dict | None = None,
             claim: str = "", verdict: str = "", P: float = np.nan, n_points: float = np.nan,
             n_censored: float = np.nan, source: xr.Dataset | None = None, name: str | None = None,
             t_min: float = np.nan) -> dict:
        src = bs if source is None else source
        name = name or quantity
        b = src.sel(sel or {})
        unit = _SUMMARY_QUANTITIES.get(quantity, ("",))[0]
        est = {k: float(b[f"{name}{k}"]) for k in ("", "_se", "_lo", "_hi")} if name in src else {}
        P_err = float(np.sqrt(P * (1 - P) / B)) if np.isfinite(P) else np.nan
        return {"quantity": quantity, "L": L, "t_min": t_min, "W": W, "unit": unit,
                "estimate": est.get("", np.nan), "se": est.get("_se", np.nan), "lo": est.get("_lo", np.nan),
                "hi": est.get("_hi", np.nan), "claim": claim, "verdict": verdict, "P": P, "P_err": P_err,
                "n_points": n_points, "n_censored": n_censored}

    summary = []
    for W in bs["W"].values if bs.sizes["L"] >= 2 else []:
        summary.append(srow("kappa", W=float(W), sel={"W": W}, claim="kappa > ln 4",
                            verdict=str(vd["kappa_verdict"].sel(W=W).item()), P=float(vd["kappa_P"].sel(W=W)),
                            n_points=int(bs["kappa_n"].sel(W=W)), n_censored=int(bs["kappa_n_censored"].sel(W=W))))
    n_pts, n_cens = int(bs["alpha_n"]), int(bs["alpha_n_censored"])
    summary.append(srow("alpha", n_points=n_pts, n_censored=n_cens))
    summary.append(srow("c", n_points=n_pts, n_censored=n_cens))
    summary.append(srow("W_tilde", n_points=n_pts, n_censored=n_cens))
    summary.append(srow("alpha_origin", n_points=n_pts, n_censored=n_cens))
    summary.append(srow("W_tilde_origin", n_points=n_pts, n_censored=n_cens))
    for W in bs["W"].values:
        summary.append(srow("W > W~", W=float(W), claim=f"W = {float(W):g} > W~",
                            verdict=str(vd["W_tilde_verdict"].sel(W=W).item()), P=float(vd["W_tilde_P"].sel(W=W))))
    wsw = None
    if with_front and bs.sizes["W"] >= 2:
        try:
            wsw = w_star_by_window(bs)
        except ValueError:  # no window start leaves enough samples
            wsw = None
    if with_front:
        for L in bs["L"].values:
            summary.append(srow("W_star", L=int(L), sel={"L": L}))
            for t1 in ([] if wsw is None else wsw["t_min"].values):
                summary.append(srow("W_star_window", L=int(L), t_min=float(t1), sel={"L": L, "t_min": t1},
                                    source=wsw, name="W_star"))
    if "relaxation_rate" in ds.data_vars:
        grid, extra = _relaxation(ds, grid, n_resamples=n_resamples, seed=seed, confidence=confidence)
        summary += extra
    summary_df = pd.DataFrame(summary, columns=list(SUMMARY_COLUMNS))

    notes = []
    if lin is not None:
        v = lin["convex_verdict"].values.ravel().tolist()
        e, la = lin.attrs["early"], lin.attrs["late"]
        notes.append(f"is h = A ln t? slope of h against ln t on [{la[0]:g}, {la[1]:g}] over that on [{e[0]:g}, {e[1]:g}] "
                     f"(columns slope_ratio, convex_*): h is convex in ln t (late slope larger) at {v.count('yes')} of "
                     f"{len(v)} (L, W), concave at {v.count('no')}, undetermined at {v.count('undetermined')}; where it "
                     "is convex, 1/A below depends on the fit window (rows W_star_window).")
    elif with_front:
        notes.append("linearity of h in ln t not tested: the last two decades of the data hold fewer than 5 samples each.")
    if with_front:
        t_min, t_max = grid["t_min"].dropna().unique(), grid["t_max"].dropna().unique()
        source = "given" if window is not None else "suggested per curve by analysis.suggest_window"
        if len(t_min) == 0:
            notes.append("no fit of h = A ln t + B: no curve has the 5 finite samples a fit window needs.")
        elif len(t_min) == 1 and len(t_max) == 1:
            notes.append(f"fit window of h = A ln t + B: t in [{t_min[0]:g}, {t_max[0]:g}] (units of 1/J, {source}).")
        else:
            notes.append(f"fit windows of h = A ln t + B differ per (L, W) ({source}): columns t_min, t_max.")
    else:
        notes.append(f"front columns (1/A, t*, W*) left out: {bs.attrs['front_note']}.")
    if bs.sizes["L"] < 2:
        notes.append("kappa = d ln t~/dL needs at least two L values: left out.")
    for d in ("paper", "crossing"):
        n = int(bs[f"t_tilde_{d}_censored"].sum())
        if n:
            notes.append(f"{n} t~ ({d}) censored (Ir does not reach r_th within t_final = {bs.attrs['t_final']:g}): "
                         "lower bounds only" + ("; left out of the fits" if d == definition else "") + ".")
    few = int(bs["n_realizations"].min())
    if few < 10:
        notes.append(f"as few as {few} realizations at some (L, W): resampling intervals from so few are rough "
                     "(they understate the spread); treat the verdicts there with care.")
    n_drop = int((ds.sizes["time"] * bs["n_realizations"] - bs["n_used"].sum("time")).sum())
    if nonfinite == "drop" and n_drop:
        notes.append(f"{n_drop} (realization, time) pairs dropped for non-finite values (nonfinite='drop').")
    attrs = {k: bs.attrs[k] for k in ("r_th", "confidence", "n_resamples", "seed", "definition", "error", "order", "gamma",
                                      "t_final", "interval")}
    attrs["two_ln4"], attrs["ln4"] = bs.attrs["two_ln4"], bs.attrs["ln4"]
    return Report(grid=grid, summary=summary_df, notes=notes, attrs=attrs, bootstrap=bs)


def _relaxation(ds: xr.Dataset, grid: pd.DataFrame, *, n_resamples: int, seed: int,
                confidence: float) -> tuple[pd.DataFrame, list[dict]]:
    """The relaxation-rate columns of the grid and the kappa_Gamma / W*_Gamma rows of the summary
    (:mod:`analysis.relaxation`: medians, unresolved rates censored when resolutions are stored)."""
    kw = dict(n_resamples=n_resamples, seed=seed, confidence=confidence)

    def held(L, W) -> tuple[np.ndarray, np.ndarray | None]:
        n = int(ds["n_realizations"].sel(L=L))
        sel = ds.sel(L=L, W=W).isel(realization=slice(0, n))
        res = sel["relaxation_resolution"].values if "relaxation_resolution" in ds.data_vars else None
        return sel["relaxation_rate"].values, res

    grid = grid.copy()
    for k, r in grid.iterrows():
        rates, resolutions = held(r.L, r.W)
        t = typical_rate(rates, L=int(r.L), W=float(r.W), resolutions=resolutions, **kw)
        grid.loc[k, ["ln_gamma_median", "ln_gamma_median_lo", "ln_gamma_median_hi"]] = (
            t.median_ln, t.median_ln_lo, t.median_ln_hi)
        grid.loc[k, "gamma_unresolved"] = t.n_unresolved
    grid["gamma_unresolved"] = grid["gamma_unresolved"].astype(int)
    Ls, Ws = [int(L) for L in ds["L"].values], [float(W) for W in ds["W"].values]
    rows = []

    def row(quantity, L, W, est, lo, hi, claim="", verdict="", P=np.nan) -> dict:
        P_err = float(np.sqrt(P * (1 - P) / n_resamples)) if np.isfinite(P) else np.nan
        return {"quantity": quantity, "L": L, "t_min": np.nan, "W": W, "unit": _SUMMARY_QUANTITIES[quantity][0],
                "estimate": est, "se": np.nan, "lo": lo, "hi": hi, "claim": claim, "verdict": verdict, "P": P,
                "P_err": P_err, "n_points": np.nan, "n_censored": np.nan}

    for small, large in zip(Ls, Ls[1:]):
        pairs = [(held(small, W), held(large, W)) for W in Ws]
        censored = dict(statistic="median")
        for W, ((gs, rs), (gl, rl)) in zip(Ws, pairs):
            d = rate_decay(gs, gl, L_small=small, L_large=large, W=W, resolutions_small=rs, resolutions_large=rl,
                           **censored, **kw)
            rows.append(row("kappa_Gamma", large, W, d.kappa, d.lo, d.hi, f"kappa_Gamma({small}->{large}) > ln 4",
                            d.verdict, d.P))
        if len(Ws) >= 2:
            star = threshold_disorder(Ws, [p[0][0] for p in pairs], [p[1][0] for p in pairs], L_small=small,
                                      L_large=large, resolutions_small=None if pairs[0][0][1] is None else
                                      [p[0][1] for p in pairs], resolutions_large=None if pairs[0][1][1] is None
                                      else [p[1][1] for p in pairs], **censored, **kw)
            rows.append(row("W_star_Gamma", large, np.nan, star.W_star, star.lo, star.hi))
    return grid, rows


def report_markdown(rep: Report, all_columns: bool = False) -> str:
    """``rep.to_markdown(all_columns)``: both tables of :func:`report` in Markdown."""
    return rep.to_markdown(all_columns)
