"""Reduce the paper-reproduction datasets to the tables and figures the README's Results show.

Run from the repository root (this is the command printed next to the results)::

    python examples/paper/reduce.py --results datasets --out docs/results --figures docs/figures

Inputs, all required: ``mbl_front.nc``, ``mbl_front_L14.nc`` and ``mbl_threshold.nc`` in ``--results``
(shipped in ``datasets/``). The Anderson runs (``anderson_L50.nc``, ``anderson_L100.nc``,
``anderson_L200.nc``, 180-360 MB each) are used when present in ``--results``; otherwise their
reduced h(t) curves already in ``--out`` (``anderson_L*_front.nc``) are fitted, without
resampling (the realizations are not shipped), and said so.

Outputs (each written to a temporary file and moved into place only after everything has been
computed, so a failure never leaves a truncated or emptied file); a rerun writes the same bytes
(floats with :data:`FLOAT_FORMAT`, figures without tool versions or dates):

* ``<name>_grid.csv``, ``<name>_summary.csv``: the two tables of :func:`analysis.report`;
* ``<name>_front.nc``: h(t) and its error for both orders of |.| and the mean (small);
* ``anderson_fits.csv``: 1/A of the Anderson curves;
* ``sensitivity.csv``: 1/A for several fit windows and both orders;
* ``results.md``: the Markdown of the README's Results, also written between the README's
  ``<!-- results:start -->`` and ``<!-- results:end -->`` markers (``--no-readme``: not);
* ``<name>_slope.png``: the local slope dh/d ln t of the interacting fronts;
* figures under ``--figures`` (``--format png|pdf|svg``, ``--dpi``).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "mbl-avalanche"  # fixed SVG element ids
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy import stats  # noqa: E402

import analysis  # noqa: E402
from analysis import plots  # noqa: E402
from analysis.report import format_interval  # noqa: E402

#: The fit windows of h = A ln t + B stated in the README (units of 1/J).
WINDOWS = {"anderson": (20.0, 1000.0), "mbl_front": (20.0, 1000.0), "mbl_threshold": (20.0, 1000.0)}
#: Alternative windows for the sensitivity table.
SENSITIVITY = [(10.0, 1000.0), (20.0, 1000.0), (50.0, 1000.0), (100.0, 1000.0), (20.0, 300.0)]
REQUIRED = ("mbl_front.nc", "mbl_front_L14.nc", "mbl_threshold.nc")
ANDERSON_L = (50, 100, 200)
#: realizations of the Anderson runs (README commands), for reduced curves that do not record it
ANDERSON_REALIZATIONS = {50: 1200, 100: 1200, 200: 300}
TWO_LN4 = 2 * np.log(4.0)
#: Digits of every float in the CSV outputs: 12 significant digits keep them byte-stable across
#: machines (the numbers differ in the last bits between CPUs, docs/reliability.md) and lose nothing
#: that the intervals (2-3 digits) resolve.
FLOAT_FORMAT = "%.12g"
#: Figure metadata left out (tool versions, dates), per format, so that a rerun writes the same bytes.
FIGURE_METADATA = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
                   "svg": {"Creator": None, "Date": None}}
#: 1/A at W = 15 in the paper's inset of Fig. 4(a), read off the figure.
INSET_15 = 10.0
COMMAND = "python examples/paper/reduce.py --results datasets --out docs/results --figures docs/figures"
#: The README's generated Results block lies between these markers.
START, END = "<!-- results:start -->", "<!-- results:end -->"
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_with(readme: str, text: str) -> str:
    """``readme`` with the text between the results markers replaced by ``text``."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{text}{END}{tail}"


class InputError(Exception):
    """A missing or unreadable input: reported as one line, exit status 2."""


def _front_file(ds: xr.Dataset) -> xr.Dataset:
    parts = []
    for order in ("abs-then-mean", "mean-then-abs"):
        parts.append(analysis.front(ds, order=order)[["h", "h_err"]].expand_dims(order=[order]))
    out = xr.concat(parts, dim="order")
    out["order"].attrs.update(long_name="order of |.| and the realization mean in dS_j", units="1")
    out.attrs.update({k: ds.attrs[k] for k in ("delta", "gamma", "tau", "seed_entropy", "command") if k in ds.attrs})
    out.attrs["n_realizations"] = int(ds["n_realizations"].max()) if "n_realizations" in ds else ds.sizes["realization"]
    return out


def _sensitivity(name: str, front: xr.Dataset) -> pd.DataFrame:
    rows = []
    for order in front.order.values:
        fr = front.sel(order=order)
        for window in SENSITIVITY:
            if fr.time.values.max() < window[1]:
                continue
            ff = analysis.fit_front(fr["h"], *window)
            for L in ff.L.values:
                for W in ff.W.values:
                    sel = ff.sel(L=L, W=W)
                    rows.append(dict(run=name, order=str(order), t_min=window[0], t_max=window[1], L=int(L),
                                     W=float(W), A=float(sel.A), inv_A=float(sel.inv_A)))
    return pd.DataFrame(rows)


def _anderson_from_curves(front: xr.Dataset, confidence: float) -> pd.DataFrame:
    """OLS fit of the shipped mean h(t); the interval is the fit's normal interval, not resampled."""
    fr = front.sel(order="abs-then-mean")
    ff = analysis.fit_front(fr["h"], *WINDOWS["anderson"])
    z = stats.norm.ppf(0.5 + confidence / 2)
    rows = []
    for W in ff.W.values:
        s = ff.sel(W=W).isel(L=0)
        A, e = float(s.A), float(s.A_err)
        lo_A, hi_A = A - z * e, A + z * e
        lo, hi = (1 / hi_A, 1 / lo_A) if lo_A > 0 else (1 / hi_A, np.inf)
        verdict = "yes" if lo_A > 0 and lo > TWO_LN4 else ("no" if lo_A > 0 and hi < TWO_LN4 else "undetermined")
        L = int(ff.L.values[0])
        n = int(front.attrs.get("n_realizations", ANDERSON_REALIZATIONS.get(L, 0)))
        rows.append(dict(L=L, W=float(W), n_realizations=n, inv_A=1 / A, inv_A_lo=lo, inv_A_hi=hi,
                         front_verdict=verdict, P=np.nan, intervals="least-squares error of the mean h(t)"))
    return pd.DataFrame(rows)


def _anderson_resampled(front: xr.Dataset, samples: xr.Dataset, confidence: float) -> pd.DataFrame:
    """1/A of the shipped mean h(t) with intervals, verdict and P from shipped resampled h(t) curves.

    ``samples`` holds ``h_samples`` (resample, L, W, time) of the same realizations
    (``examples/paper/anderson_conventions.py``, ``examples/paper/anderson_resamples.py``); the fits are those of
    :func:`analysis.bootstrap`."""
    from analysis.resample import interval, masked_line, near_cut, three_valued

    point = _anderson_from_curves(front, confidence)
    t = samples.time.values
    win = (t >= WINDOWS["anderson"][0]) & (t <= WINDOWS["anderson"][1])
    h = samples.h_samples.transpose("resample", "L", "W", "time").values.astype(float)
    _, A = masked_line(np.log(t[win]), h[..., win], 5)
    with np.errstate(divide="ignore"):
        inv = 1.0 / A
    lo, hi = interval(inv, confidence)
    a_lo, _ = interval(A, confidence)
    P = ((A > 0) & (inv > TWO_LN4)).mean(0)
    verdict = three_valued(lo, hi, TWO_LN4, ~(a_lo > 0) | near_cut(P, A.shape[0], confidence))
    point["inv_A_lo"], point["inv_A_hi"] = lo[0], hi[0]
    point["front_verdict"], point["P"] = verdict[0], P[0]
    point["intervals"] = f"resampled ({A.shape[0]} resamples of the realizations)"
    return point


def _invA_vs_W(tables: dict[str, pd.DataFrame], title: str) -> Figure:
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for k, (label, table) in enumerate(tables.items()):
        x = table.W.to_numpy() * (1 + 0.012 * (k - 1))  # small offsets keep the bars apart
        err = np.vstack([table.inv_A - table.inv_A_lo, table.inv_A_hi - table.inv_A])
        ax.errorbar(x, table.inv_A, yerr=err, marker="o", ms=4, capsize=3, label=label)
    ax.axhline(TWO_LN4, color="k", ls=":")
    ax.text(0.03, TWO_LN4, r"$2\ln 4$ (Eq. 18)", transform=ax.get_yaxis_transform(), va="bottom", fontsize="small")
    ax.set_yscale("log")
    ws = sorted({float(w) for t in tables.values() for w in t.W})
    ax.set_xticks(ws, [f"{w:g}" for w in ws])
    ax.set_xlabel(r"disorder strength $W/J$")
    ax.set_ylabel(r"$1/A$ (per lattice site)")
    ax.set_title(title, fontsize="small")
    ax.legend(fontsize="small")
    return fig


def _front_md(grid: pd.DataFrame, summary: pd.DataFrame, L: int) -> list[str]:
    md = ["Is h = A ln t? The slope of h against ln t on the last decade over that on the decade before "
          "(`analysis.linearity`); 'convex' = the late slope is larger, where 1/A depends on the fit window. "
          "P ± its Monte Carlo error.\n",
          "| W | realizations | late/early slope (95 % interval) | h convex in ln t | P(convex) | "
          "1/A [1/site] (95 % interval) | 1/A > 2 ln 4 | P(1/A > 2 ln 4) | log10 t* [log10(1/J)] |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in grid[grid.L == L].itertuples():
        md.append(f"| {r.W:g} | {r.n_realizations} | {format_interval(r.slope_ratio, r.slope_ratio_lo, r.slope_ratio_hi)} | "
                  f"{r.convex_verdict} | {r.convex_P:.3f} ± {r.convex_P_err:.3f} | "
                  f"{format_interval(r.inv_A, r.inv_A_lo, r.inv_A_hi)} | {r.front_verdict} | "
                  f"{r.front_P:.3f} ± {r.front_P_err:.3f} | "
                  f"{format_interval(r.log10_t_star, r.log10_t_star_lo, r.log10_t_star_hi)} |")
    ws = summary[(summary.quantity == "W_star") & (summary.L == L)].iloc[0]
    md.append(f"\nW*(L = {L}), where 1/A crosses 2 ln 4 (linear in W): **{format_interval(ws.estimate, ws.lo, ws.hi, '.2f')}** "
              "(95 % interval). The same on other fit windows [t_min, t_final]:\n")
    wsw = summary[(summary.quantity == "W_star_window") & (summary.L == L)]
    md.append("| t_min [1/J] | " + " | ".join(f"{t:g}" for t in wsw.t_min) + " |")
    md.append("| --- |" + " --- |" * len(wsw))
    md.append("| W* [J] (95 %) | " + " | ".join(format_interval(r.estimate, r.lo, r.hi, ".2f") for r in wsw.itertuples())
              + " |\n")
    return md


def _verdict_list(grid: pd.DataFrame, column: str) -> str:
    """'yes at W = 8, 10; undetermined at W = 6; no at W = 2, 4' from a verdict column."""
    parts = []
    for v in ("yes", "undetermined", "no"):
        Ws = [f"{w:g}" for w in grid.W[grid[column] == v]]
        if Ws:
            parts.append(f"**{v}** at W = {', '.join(Ws)}")
    return "; ".join(parts)


def _claims_md(anderson: pd.DataFrame, resampled: bool, fronts: dict[str, analysis.Report],
               threshold: analysis.Report, sens: pd.DataFrame, t_unpaired: np.ndarray) -> list[str]:
    """The README's claim table and "where we differ" list, every number and verdict from the data."""
    md = ["| paper's statement | this project | run (2-core laptop scale) |", "| --- | --- | --- |"]
    a100 = anderson[anderson.L == 100]
    lo, hi = a100.iloc[0], a100.iloc[-1]
    n_yes = int((anderson.front_verdict == "yes").sum())
    kinds = a100.intervals.iloc[0] if "intervals" in a100 else ("resampled" if resampled else "fit error")
    how = ("resampled" if resampled or kinds.startswith("resampled") else
           "least-squares intervals of the shipped mean h(t): the L = 100 realizations are not shipped, so these are "
           "not resampled")
    md.append(f"| Anderson (Fig. 4a, L = 100): 1/A > 2 ln 4 for every W in 3..15, 1/A \"irregularly increasing\" "
              f"(inset 1/A ~ 4-10) | 1/A > 2 ln 4 is **yes** at {n_yes} of {len(anderson)} (L, W) points; at L = 100 "
              f"1/A = {format_interval(lo.inv_A, lo.inv_A_lo, lo.inv_A_hi)} (W = {lo.W:g}) rising to "
              f"{format_interval(hi.inv_A, hi.inv_A_lo, hi.inv_A_hi)} (W = {hi.W:g}) ({how})"
              + (f": the whole interval at W = {hi.W:g} lies above the inset's about {INSET_15:g}, faster with W than the "
                 "paper (conventions tested: the paper comparison)" if hi.inv_A_lo > INSET_15 else "")
              + " | `mbl-avalanche run examples/paper/anderson_front.toml -o results/anderson_L100.nc` |")
    cells = []
    for name, rep in fronts.items():
        g = rep.grid
        L = int(g.L.iloc[0])
        ws = rep.summary[(rep.summary.quantity == "W_star") & (rep.summary.L == L)].iloc[0]
        wsw = rep.summary[(rep.summary.quantity == "W_star_window") & (rep.summary.L == L)]
        cells.append(f"L = {L}: h convex in ln t (late slope > early) {_verdict_list(g, 'convex_verdict')}; "
                     f"1/A > 2 ln 4 on [{g.t_min.iloc[0]:g}, {g.t_max.iloc[0]:g}] {_verdict_list(g, 'front_verdict')}; "
                     f"W* = {format_interval(ws.estimate, ws.lo, ws.hi, '.2f')}, moving from "
                     f"{wsw.estimate.iloc[0]:.2f} to {wsw.estimate.iloc[-1]:.2f} as the window start goes from "
                     f"t = {wsw.t_min.iloc[0]:g} to {wsw.t_min.iloc[-1]:g}")
    md.append("| Interacting front (Fig. 4b): h ~ A ln t for W > Wc; 1/A > 2 ln 4 for W > W* ≳ 7 (L = 16) | "
              + ". ".join(cells) + " (paper scale, L = 16: the comparison below) | "
              "`mbl-avalanche run examples/paper/mbl_front.toml -o results/mbl_front.nc` and "
              "`... -o results/mbl_front_L14.nc --set 'grid.L=[14]' --set grid.n_realizations=80` |")
    s = threshold.summary
    a, wt = s[s.quantity == "alpha"].iloc[0], s[s.quantity == "W_tilde"].iloc[0]
    kap = s[s.quantity == "kappa"]
    g = threshold.grid
    md.append(f"| t~ exponential in W and L (Fig. 3), t~ ~ exp(alpha L W) | joint fit **alpha = "
              f"{format_interval(a.estimate, a.lo, a.hi, '.4f')}**, **W~ = 2 ln 2 / alpha = "
              f"{format_interval(wt.estimate, wt.lo, wt.hi, '.1f')}**; kappa(W) = d ln t~/dL > ln 4 is "
              f"{', '.join(sorted(set(kap.verdict)))} at every W (L = {', '.join(str(L) for L in sorted(set(g.L)))}; "
              f"largest P = {kap.P.max():.3f}) | `mbl-avalanche run examples/paper/mbl_threshold.toml -o "
              "results/mbl_threshold.nc` |")
    bs = threshold.bootstrap
    if 8.0 in bs.W.values:
        b = bs.sel(W=8.0)
        t = bs.time.values
        late = t >= 1.0
        lo_ = (b.L * b.Ir_lo).values[:, late]
        hi_ = (b.L * b.Ir_hi).values[:, late]
        common = int((lo_.max(0) <= hi_.min(0)).sum())
        md.append(f"| L Ir(t) collapses onto one curve rising linearly in ln t (Fig. 5, W = 8) | the resampled 95 % "
                  f"bands of L Ir for L = {', '.join(str(int(L)) for L in bs.L.values)} share a common value at "
                  f"{common} of {int(late.sum())} sample times t >= 1 (up to t = {t[-1]:g}) | same run |")
    md.append("")
    # where we differ
    g = threshold.grid
    ratio = (g.t_tilde_paper / g.t_tilde_crossing).max()
    L_top = int(g.L.max())
    paired = g[g.L == L_top].t_tilde_paper.to_numpy()
    unp = t_unpaired[list(sorted(set(g.L))).index(L_top)]
    later = unp / paired
    sens_abs = sens[(sens.order == "abs-then-mean") & (sens.A > 0) & (sens.t_max == WINDOWS["anderson"][1])]
    spread = sens_abs.groupby(["run", "L", "W"]).inv_A.agg(lambda x: x.max() / x.min() - 1)
    s15 = sens_abs[(sens_abs.run == "anderson_L100") & (sens_abs.W == sens_abs.W.max())]
    w15 = {(r.t_min, r.t_max): r.inv_A for r in s15.itertuples()}
    md.append("Where we differ, and why:")
    md.append(f"- **Smaller L and fewer realizations for Delta = 1 here** (L <= {max(int(r.grid.L.max()) for r in fronts.values())} "
              "instead of 16): the paper-scale campaign below has the paper's L = 16 and realization counts, and it is "
              "what the paper's W* ≳ 7 is compared with. W* is not a property of h alone here: h is convex in ln t, so "
              "W* grows with the start of the fit window (table above).")
    md.append(f"- **The two t~ differ by up to {ratio:.1f}x** (paper: first sample with Ir - err > r_th; crossing: the "
              "central curve); the paper's t~ is later by construction and is the one fitted. With the paper's unpaired "
              f"error instead of the paired one, t~ at L = {L_top} is {later.min():.1f}-{later.max():.1f}x later "
              "(`analysis.bootstrap(error=\"unpaired\")`).")
    md.append(f"- **The fit window moves 1/A by {100 * spread.min():.0f}-{100 * spread.max():.0f} %** over the windows of "
              f"the sensitivity table that end at t = {WINDOWS['anderson'][1]:g} (largest/smallest - 1 per run, L and W; "
              "more on shorter windows); the paper does not state its window. "
              f"A later window lowers 1/A at strong disorder (Anderson L = 100, W = {s15.W.iloc[0]:g}: "
              f"{w15[WINDOWS['anderson']]:.0f} on [{WINDOWS['anderson'][0]:g}, {WINDOWS['anderson'][1]:g}], "
              f"{w15[(100.0, 1000.0)]:.0f} on [100, 1000]), but no window brings the Anderson values down to the paper's "
              "inset range, nor any below 2 ln 4.")
    md.append("- **The order of |.| and the mean in dS_j** (the paper is ambiguous): `mean-then-abs` gives larger "
              "1/A at strong disorder and is unstable on short windows; the default `abs-then-mean` is used for every "
              "verdict. The t~ run uses the jump unraveling, for which the default front is not defined: its report "
              "leaves the front out.")
    md.append("- **The Lindblad coefficient** is gamma^2/2, not gamma^2 (Validation): the trajectories are the "
              "paper's own stepper, so this changes the interpretation of gamma, not the data.")
    md.append("- **t~ to 10^4 uses the exact jump unraveling**, whose realization averages equal the Gaussian "
              "kick's (tested), at a fraction of the matvecs (Performance); the h(t) runs use the paper's Gaussian "
              "kicks, since the default front needs single trajectories.")
    md.append("")
    return md


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="datasets", type=Path, help="directory of the input datasets")
    parser.add_argument("--out", default="docs/results", type=Path)
    parser.add_argument("--figures", default="docs/figures", type=Path)
    parser.add_argument("--n-resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--format", choices=("png", "pdf", "svg"), default="png", help="figure file format")
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--no-readme", dest="readme", action="store_false",
                        help="do not replace the README's generated Results block")
    args = parser.parse_args(argv)
    try:
        outputs = reduce(args)
    except InputError as exc:
        print(f"reduce.py: error: {exc}", file=sys.stderr)
        return 2
    for path, content in outputs.items():  # everything computed: now write, each file atomically
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        if isinstance(content, Figure):
            content.savefig(tmp, dpi=args.dpi, format=args.format, metadata=FIGURE_METADATA[args.format])
        elif isinstance(content, xr.Dataset):
            content.to_netcdf(tmp)
        else:
            tmp.write_text(content)
        os.replace(tmp, path)
    print((args.out / "results.md").read_text())
    print(f"wrote {len(outputs)} files", file=sys.stderr)
    return 0


def _load(path: Path) -> xr.Dataset:
    try:
        return xr.load_dataset(path)
    except Exception as exc:
        raise InputError(f"cannot read {path} ({type(exc).__name__})") from None


def reduce(args: argparse.Namespace) -> dict[Path, object]:
    """Compute every output in memory; returns {path: text, Dataset or Figure}."""
    missing = [str(args.results / n) for n in REQUIRED if not (args.results / n).is_file()]
    if missing:
        raise InputError(f"missing input(s) {', '.join(missing)}: run the commands in README 'Results' (or use "
                         "--results datasets, the shipped copies); nothing was written")
    out: dict[Path, object] = {}
    fig_path = lambda name: args.figures / f"{name}.{args.format}"  # noqa: E731
    kw = dict(n_resamples=args.n_resamples, seed=args.seed, confidence=args.confidence)
    md = [f"Regenerate everything below with `{COMMAND}` "
          f"({args.n_resamples} resamples of the realizations, seed {args.seed}, "
          f"{100 * args.confidence:g} % percentile intervals).\n"]
    sens = []

    anderson_raw = {L: args.results / f"anderson_L{L}.nc" for L in ANDERSON_L}
    anderson_curves = {L: args.out / f"anderson_L{L}_front.nc" for L in ANDERSON_L}
    tables, kinds = {}, {}  # kinds: "full" (the realizations), "samples" (shipped resamples) or "fit" (LS errors)
    for L in ANDERSON_L:
        if anderson_raw[L].is_file():
            ds = _load(anderson_raw[L])
            rep = analysis.report(ds, window=WINDOWS["anderson"], **kw)
            front = _front_file(ds)
            out[anderson_curves[L]] = front
            table, kinds[L] = rep.grid, "full"
        elif anderson_curves[L].is_file():
            front = _load(anderson_curves[L])
            shipped_samples = args.out / f"anderson_L{L}_resamples.nc"
            if shipped_samples.is_file():
                table, kinds[L] = _anderson_resampled(front, _load(shipped_samples), args.confidence), "samples"
            else:
                table, kinds[L] = _anderson_from_curves(front, args.confidence), "fit"
        else:
            raise InputError(f"missing input {anderson_raw[L]} (and its reduced curves {anderson_curves[L]})")
        tables[f"L = {L} ({int(table.n_realizations.iloc[0])} realizations)"] = table
        sens.append(_sensitivity(f"anderson_L{L}", front))
        if L == 100:
            fr = front.sel(order="abs-then-mean")
            out[fig_path("anderson_front")] = plots.fig4_front(fr, analysis.fit_front(fr["h"], *WINDOWS["anderson"]))
    fits = pd.concat(tables.values(), ignore_index=True)
    out[args.out / "anderson_fits.csv"] = fits.to_csv(index=False, float_format=FLOAT_FORMAT)
    how = ("resampled" if "fit" not in kinds.values() else
           ", ".join(f"L = {L}: {'fit error' if kinds[L] == 'fit' else 'resampled'}" for L in ANDERSON_L))
    out[fig_path("anderson_invA")] = _invA_vs_W(
        tables, f"Anderson ($\\Delta = 0$): $1/A$ of $h = A\\ln t + B$ on t in [20, 1000]\n"
                f"{100 * args.confidence:g} % intervals: {how}")
    md.append("### Anderson front (Delta = 0, gamma = 1, t_final = 1000, window t in [20, 1000])\n")
    if "fit" in kinds.values():
        md.append("Intervals: resampled where the resampled h(t) curves are shipped (`anderson_L*_resamples.nc`, "
                  "written by `python examples/paper/anderson_conventions.py` at L = 50 and "
                  "`python examples/paper/anderson_resamples.py --L 100` / `--L 200 --n 300`); elsewhere the ordinary "
                  "least-squares error of A on the shipped mean h(t), A ± z s.e. (z = 1.96 at 95 %) mapped to 1/A, "
                  "and no P: the 180-360 MB datasets with the realizations are not shipped.\n")
    elif "samples" in kinds.values():
        md.append("Intervals: resampled, from the shipped resampled h(t) curves (`anderson_L*_resamples.nc`, written "
                  "by `python examples/paper/anderson_conventions.py` at L = 50 and "
                  "`python examples/paper/anderson_resamples.py --L 100` / `--L 200 --n 300`: the same realizations "
                  "as the mean curves; the 180-360 MB datasets with the realizations are not shipped).\n")
    md.append("| L | W | realizations | 1/A [1/site] (95 % interval) | 1/A > 2 ln 4 | P(1/A > 2 ln 4) | intervals |\n"
              "| --- | --- | --- | --- | --- | --- | --- |")
    for r in fits.itertuples():
        md.append(f"| {r.L} | {r.W:g} | {r.n_realizations} | {format_interval(r.inv_A, r.inv_A_lo, r.inv_A_hi)} | "
                  f"{r.front_verdict} | {'n/a' if np.isnan(r.P) else f'{r.P:.3f}'} | {r.intervals} |")
    md.append("")

    timing = {}
    fronts = {}
    for name in ("mbl_front", "mbl_front_L14"):
        ds = _load(args.results / f"{name}.nc")
        start = time.perf_counter()
        rep = analysis.report(ds, window=WINDOWS["mbl_front"], **kw)
        timing[name] = time.perf_counter() - start
        fronts[name] = rep
        out[args.out / f"{name}_grid.csv"] = rep.to_csv("grid", float_format=FLOAT_FORMAT)
        out[args.out / f"{name}_summary.csv"] = rep.to_csv("summary", float_format=FLOAT_FORMAT)
        front = _front_file(ds)
        out[args.out / f"{name}_front.nc"] = front
        sens.append(_sensitivity(name, front))
        fr = analysis.front(ds)
        out[fig_path(name)] = plots.fig4_front(fr, bs=rep.bootstrap)
        out[fig_path(f"{name}_slope")] = plots.fig4_local_slope(analysis.local_slope(rep.bootstrap), ff=rep.bootstrap)
        L = int(ds.L.max())
        md.append(f"### Interacting front (Delta = 1, L = {L}, t_final = {ds.attrs['t_final']:g}, "
                  f"window t in [{WINDOWS['mbl_front'][0]:g}, {WINDOWS['mbl_front'][1]:g}])\n")
        md += _front_md(rep.grid, rep.summary, L)

    ds = _load(args.results / "mbl_threshold.nc")
    start = time.perf_counter()
    rep = analysis.report(ds, window=WINDOWS["mbl_threshold"], **kw)
    timing["mbl_threshold"] = time.perf_counter() - start
    out[args.out / "mbl_threshold_grid.csv"] = rep.to_csv("grid", float_format=FLOAT_FORMAT)
    out[args.out / "mbl_threshold_summary.csv"] = rep.to_csv("summary", float_format=FLOAT_FORMAT)
    bs = rep.bootstrap
    ri = analysis.relative_imbalance(ds)
    tt = analysis.threshold_time(ri)
    out[fig_path("mbl_imbalance")] = plots.fig2_imbalance(ri, L=int(ds.L.max()), bs=bs)
    out[fig_path("mbl_threshold")] = plots.fig3_threshold(tt, bs=bs)
    out[fig_path("mbl_collapse")] = plots.fig5_collapse(analysis.collapse(ri), bs=bs)
    md.append(f"### Imbalance threshold (Delta = 1, unraveling = {ds.attrs['unraveling']}, "
              f"t_final = {ds.attrs['t_final']:g}, r_th = 0.17)\n")
    md.append("t~ [1/J] with 95 % intervals; paper: the first sample time with Ir - err > r_th (err: paired "
              "jackknife), crossing: where the central Ir crosses r_th (interpolated in ln t). The fits use the "
              "paper's t~.\n")
    Ws = [float(w) for w in ds.W.values]
    md.append("| L | realizations | " + " | ".join(f"t~ (W = {w:g}) paper / crossing" for w in Ws) + " |")
    md.append("| --- | --- |" + " --- |" * len(Ws))
    g = rep.grid
    for L in ds.L.values:
        cells = []
        for W in Ws:
            r = g[(g.L == L) & (g.W == W)].iloc[0]
            cell = []
            for d in ("paper", "crossing"):
                cell.append("censored" if r[f"t_tilde_{d}_censored"] else
                            format_interval(r[f"t_tilde_{d}"], r[f"t_tilde_{d}_lo"], r[f"t_tilde_{d}_hi"]))
            cells.append(" / ".join(cell))
        md.append(f"| {L} | {int(g[g.L == L].n_realizations.iloc[0])} | " + " | ".join(cells) + " |")
    s = rep.summary
    md.append("\n| W | kappa = d ln t~/dL [1/site] (95 % interval) | kappa > ln 4 | P(kappa > ln 4) | W > W~ | P(W > W~) |")
    md.append("| --- | --- | --- | --- | --- | --- |")
    for W in Ws:
        k = s[(s.quantity == "kappa") & (s.W == W)].iloc[0]
        w = s[(s.quantity == "W > W~") & (s.W == W)].iloc[0]
        md.append(f"| {W:g} | {format_interval(k.estimate, k.lo, k.hi)} | {k.verdict} | {k.P:.2f} | {w.verdict} | {w.P:.2f} |")
    a = s[s.quantity == "alpha"].iloc[0]
    wt = s[s.quantity == "W_tilde"].iloc[0]
    md.append(f"\nJoint fit ln t~ = c + alpha L W ({int(a.n_points)} points, {int(a.n_censored)} censored): "
              f"**alpha = {a.estimate:.4f} ± {a.se:.4f}** (95 % interval [{a.lo:.4f}, {a.hi:.4f}]) per site per J, "
              f"**W~ = 2 ln 2 / alpha = {wt.estimate:.1f}** (95 % interval [{wt.lo:.1f}, {wt.hi:.1f}]) J.\n")

    table = pd.concat(sens, ignore_index=True)
    out[args.out / "sensitivity.csv"] = table.to_csv(index=False, float_format=FLOAT_FORMAT)
    md.append("### Sensitivity of 1/A to the fit window and to the order of |.| and the mean\n")
    md.append("1/A (point estimates, ordinary least squares) for fit windows [t_min, t_max] and both orders (abs: |.| "
              "per realization, then the mean, the default; mean: |mean - mean|). 'A < 0': the fitted slope is negative on "
              "that window (h does not grow there: no 1/A to quote). "
              "All runs and L: `docs/results/sensitivity.csv`.\n")
    shown = table[table.run.isin(["anderson_L100", "mbl_front", "mbl_front_L14"])].copy()
    shown["fit"] = [f"{'abs' if o == 'abs-then-mean' else 'mean'} [{a:g}, {b:g}]"
                    for o, a, b in zip(shown.order, shown.t_min, shown.t_max)]
    shown["value"] = [f"{v:.2f}" if a > 0 else "A < 0" for v, a in zip(shown.inv_A, shown.A)]
    pivot = shown.pivot_table(index=["run", "W"], columns="fit", values="value", aggfunc="first", sort=False)
    pivot = pivot.sort_index().reset_index()
    pivot["W"] = pivot["W"].map(lambda w: f"{w:g}")
    md.append(pivot.to_markdown(index=False, disable_numparse=True))
    md.append("")
    t_unpaired = analysis.threshold_time(analysis.relative_imbalance(ds, error="unpaired"))["t_tilde"]
    claims = _claims_md(fits, "fit" not in kinds.values(), fronts, rep, table, t_unpaired.transpose("L", "W").values)
    md = [md[0], *claims, *md[1:]]
    out[args.out / "results.md"] = "\n".join(md) + "\n"
    if args.readme:
        out[README] = readme_with(README.read_text(encoding="utf-8"), out[args.out / "results.md"])
    for name, seconds in timing.items():
        print(f"{name}: report with {args.n_resamples} resamples in {seconds:.1f} s", file=sys.stderr)
    return out


if __name__ == "__main__":
    sys.exit(main())
