"""The paper's interacting claims (Sec. IV, Delta = 1) next to what this package finds, from the campaign.

    python examples/paper/compare.py    # docs/results/paper_comparison.md, docs/figures/paper_*.png, README

Reads the shipped sub-runs of ``examples/paper/campaign.toml`` (``datasets/paper/*.nc``) and, for
W*(L) at L = 12 and 14, ``datasets/mbl_front.nc`` and ``datasets/mbl_front_L14.nc``. Sub-runs of a
kind are combined with :func:`ensemble.combine` (disjoint blocks, so exactly; it refuses runs that
are not one ensemble). A threshold size L enters only when all its W are shipped; the blocks still missing are
listed in the output, so a partial campaign gives a partial, labelled comparison, never a silent
one. Every interval is a 95 % percentile interval from resampling the disorder realizations
(:func:`analysis.bootstrap`), every verdict is three-valued with its probability.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import xarray as xr

import analysis
import ensemble
from analysis import plots
from analysis.report import format_interval

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
COMMAND = "python examples/paper/compare.py"
#: Fit window of h = A ln t + B, as for the shipped fronts (examples/paper/reduce.py).
WINDOW = (20.0, 1000.0)
#: Other fit windows, to show how much 1/A depends on the choice.
SENSITIVITY = [(10.0, 1000.0), (50.0, 1000.0), (100.0, 1000.0), (200.0, 1000.0), (20.0, 300.0)]
#: The paper's W* claim at L = 16 (Sec. IV B, inset of Fig. 4b).
PAPER_W_STAR = 7.0
LN4 = float(np.log(4.0))
#: The README's generated block lies between these markers.
START, END = "<!-- paper-comparison:start -->", "<!-- paper-comparison:end -->"


def _campaign():
    spec = importlib.util.spec_from_file_location("campaign", HERE / "campaign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shipped(kind: str) -> tuple[xr.Dataset | None, list[str], list[str]]:
    """The combined shipped sub-runs of ``kind`` over complete sizes, the names used, the blocks missing.

    A size L is complete when every W that any sub-run of the kind has is shipped at L.
    """
    camp = _campaign()
    c = camp.load()
    subs = [s for s in c["subrun"] if s["kind"] == kind]
    have, missing = [], []
    for s in subs:
        path = camp._paths(c, s["name"])[2]
        (have if path.is_file() else missing).append((s, path))
    if not have:
        return None, [], [s["name"] for s, _ in missing]
    grids = {}
    for s, path in have:
        with xr.open_dataset(path) as ds:
            grids[s["name"]] = (ds.L.values.tolist(), ds.W.values.tolist())
    W_all = {W for _, Ws in grids.values() for W in Ws}
    per_L: dict[int, set] = {}
    for Ls, Ws in grids.values():
        for L in Ls:
            per_L.setdefault(L, set()).update(Ws)
    complete = {L for L, Ws in per_L.items() if Ws == W_all}
    used = [(s, p) for s, p in have if set(grids[s["name"]][0]) <= complete]
    left = [s["name"] for s, p in have if (s, p) not in used]
    combined = ensemble.combine([p for _, p in used]) if used else None
    return combined, [s["name"] for s, _ in used], [s["name"] for s, _ in missing] + [f"{n} (size incomplete)" for n in left]


def incomplete(kind: str, used: list[str]) -> xr.Dataset | None:
    """The combined shipped sub-runs of ``kind`` not in ``used`` (the names :func:`shipped` combined):
    those at sizes not yet complete (None if there are none)."""
    camp = _campaign()
    c = camp.load()
    paths = [camp._paths(c, s["name"])[2] for s in c["subrun"] if s["kind"] == kind and s["name"] not in used]
    paths = [p for p in paths if p.is_file()]
    return ensemble.combine(paths) if paths else None


def _row(s, quantity: str, **sel) -> object:
    rows = s[s.quantity == quantity]
    for key, value in sel.items():
        rows = rows[rows[key] == value]
    return rows.iloc[0]


def _size_ranges(bs: xr.Dataset, Ws: list[float]) -> list[str]:
    """Markdown: alpha, W~ and kappa(W) fitted on ranges of L (from the smallest L up, and down to
    the largest), on the same resamples (:func:`analysis.refit_sizes`): the finite-size drift."""
    Ls = [int(L) for L in bs.L.values]
    if len(Ls) < 3:
        return []
    ranges = [Ls[:k] for k in range(2, len(Ls) + 1)] + [Ls[k:] for k in range(1, len(Ls) - 1)]
    out = ["How the fits depend on the sizes fitted (same resamples; kappa from two sizes is their slope):\n",
           "| L fitted | alpha [1/(site J)] (95 %) | W~ [J] (95 %) | "
           + " | ".join(f"kappa (W = {w:g}) [1/site]" for w in Ws) + " |",
           "| --- | --- | --- |" + " --- |" * len(Ws)]
    for sizes in ranges:
        f = analysis.refit_sizes(bs, sizes)
        kap = " | ".join(format_interval(float(f.kappa.sel(W=w)), float(f.kappa_lo.sel(W=w)),
                                         float(f.kappa_hi.sel(W=w)), ".2f") for w in Ws)
        out.append(f"| {sizes[0]}..{sizes[-1]} | {format_interval(float(f.alpha), float(f.alpha_lo), float(f.alpha_hi), '.4f')} | "
                   f"{format_interval(float(f.W_tilde), float(f.W_tilde_lo), float(f.W_tilde_hi), '.1f')} | {kap} |")
    t = bs.time.values
    step = float(np.median(np.diff(np.log(t[t > 1.0]))))
    dL = int(np.min(np.diff(Ls)))
    out.append(f"\nln 4 = {LN4:.2f}: kappa > ln 4 would mean t~ grows faster than 4^L (robust against avalanches). "
               f"The paper's t~ is a sample time and the samples are {step:.2f} apart in ln t, so kappa from two "
               f"sizes {dL} apart moves in steps of {step / dL:.2f}.\n")
    return out


def compare(n_resamples: int, seed: int) -> tuple[str, dict[str, object]]:
    """The Markdown comparison and the figures {file name: Figure}."""
    kw = dict(n_resamples=n_resamples, seed=seed)
    figures: dict[str, object] = {}
    md = [f"Regenerate with `{COMMAND}` ({n_resamples} resamples of the realizations, seed {seed}, 95 % "
          "percentile intervals). Campaign status: `python examples/paper/campaign.py plan`.\n"]
    claims = ["| claim of the paper (Delta = 1) | the paper | this package (same L and Nr) | agreement |",
              "| --- | --- | --- | --- |"]

    front, front_used, front_missing = shipped("front")
    thr, thr_used, thr_missing = shipped("threshold")
    anderson, _, anderson_missing = shipped("anderson")
    md.append(f"Sub-runs used: front {front_used or 'none'}; threshold {thr_used or 'none'}. "
              f"Not yet shipped: {', '.join(front_missing + thr_missing + anderson_missing) or 'none'}.\n")

    w_star = {}
    for name in ("mbl_front.nc", "mbl_front_L14.nc"):
        with xr.open_dataset(ROOT / "datasets" / name) as opened:
            rep = analysis.report(opened.load(), window=WINDOW, **kw)
        L = int(rep.grid.L.max())
        w_star[L] = (_row(rep.summary, "W_star", L=L), int(rep.grid.n_realizations.iloc[0]))
    if front is not None:
        rep16 = analysis.report(front, window=WINDOW, **kw)
        bs16 = rep16.bootstrap
        g = rep16.grid
        md.append(f"### Front at L = 16 (Gaussian kicks, {int(g.n_realizations.iloc[0])} realizations, "
                  f"h = A ln t + B on t in [{WINDOW[0]:g}, {WINDOW[1]:g}])\n")
        md.append("| W | 1/A [1/site] (95 %) | 1/A > 2 ln 4 | P |\n| --- | --- | --- | --- |")
        for r in g.itertuples():
            md.append(f"| {r.W:g} | {format_interval(r.inv_A, r.inv_A_lo, r.inv_A_hi)} | {r.front_verdict} | {r.front_P:.2f} |")
        w_star[16] = (_row(rep16.summary, "W_star", L=16), int(g.n_realizations.iloc[0]))
        samples = bs16["W_star_samples"].sel(L=16).values
        p7 = float(np.mean(samples > PAPER_W_STAR))
        ws = w_star[16][0]
        shown = ", ".join(f"{w:g}" for w in g.W)
        if np.isneginf(ws.estimate):
            lowest = g.iloc[0]
            ours = (f"W*(16) < {lowest.W:g}, the smallest W shipped: there 1/A = "
                    f"{format_interval(lowest.inv_A, lowest.inv_A_lo, lowest.inv_A_hi)} > 2 ln 4 ({lowest.front_verdict}, "
                    f"P = {lowest.front_P:.2f}); P(W* > 7) = {p7:.2f}")
        else:
            ours = f"W*(16) = {format_interval(ws.estimate, ws.lo, ws.hi, '.2f')}, P(W* > 7) = {p7:.2f}"
        agree = "consistent" if (ws.lo <= PAPER_W_STAR <= ws.hi or ws.lo > PAPER_W_STAR) else "differs"
        claims.append(f"| W* where 1/A = 2 ln 4, robust for W > W* (Fig. 4b inset) | W* ≳ 7 at L = 16 | "
                      f"{ours} (W = {shown} shipped) | {agree} |")
        md.append("\nThe same 1/A on other fit windows (the paper fits where h is linear in ln t, without "
                  "giving the window):\n")
        md.append("| window [1/J] | " + " | ".join(f"1/A (W = {w:g}) (95 %)" for w in g.W) + " |")
        md.append("| --- |" + " --- |" * len(g))
        for win in SENSITIVITY:
            b = analysis.bootstrap(front, window=win, **kw)
            md.append(f"| [{win[0]:g}, {win[1]:g}] | " + " | ".join(
                format_interval(float(b.inv_A.sel(L=16, W=w)), float(b.inv_A_lo.sel(L=16, W=w)), float(b.inv_A_hi.sel(L=16, W=w)))
                for w in g.W) + " |")
        inv = ", ".join(f"{r.inv_A:.2f} (W = {r.W:g})" for r in g.itertuples())
        claims.append(f"| 1/A grows with W, slightly faster than linear (Fig. 4b inset) | qualitative | "
                      f"1/A = {inv} | see table |")
        fr = analysis.front(front)
        figures["paper_fig4b_front"] = plots.fig4_front(fr, bs=bs16)
        ri16 = analysis.relative_imbalance(front)
        panels = [w for w in (2.0, 8.0) if w in front.W.values] or [float(front.W.values[0])]
        figures["paper_fig2_imbalance"] = plots.fig2_imbalance(ri16, L=16, W=panels, bs=bs16)
    md.append("\nW*(L), where 1/A crosses 2 ln 4 (interpolated linearly in W):\n")
    md.append("| L | realizations | W* (95 %) |\n| --- | --- | --- |")
    for L in sorted(w_star):
        r, n = w_star[L]
        text = "below the W range shipped" if np.isneginf(r.estimate) else format_interval(r.estimate, r.lo, r.hi, ".2f")
        md.append(f"| {L} | {n} | {text} |")
    md.append("")

    if thr is not None:
        rep = analysis.report(thr, **kw)
        s, g = rep.summary, rep.grid
        md.append(f"### Threshold time t~ (jump unraveling, t_final = {thr.attrs['t_final']:g}, r_th = 0.17, "
                  f"L = {', '.join(str(L) for L in thr.L.values)})\n")
        Ws = [float(w) for w in thr.W.values]
        md.append("| L | realizations | " + " | ".join(f"t~ (W = {w:g}) [1/J]" for w in Ws) + " |")
        md.append("| --- | --- |" + " --- |" * len(Ws))
        for L in thr.L.values:
            cells = []
            for W in Ws:
                r = g[(g.L == L) & (g.W == W)].iloc[0]
                cells.append("censored" if r["t_tilde_paper_censored"] else
                             format_interval(r["t_tilde_paper"], r["t_tilde_paper_lo"], r["t_tilde_paper_hi"]))
            md.append(f"| {L} | {int(g[g.L == L].n_realizations.iloc[0])} | " + " | ".join(cells) + " |")
        part = incomplete("threshold", thr_used)
        if part is not None:
            bp = analysis.bootstrap(part, **kw)
            for L in part.L.values:
                cells = []
                for W in Ws:
                    if W not in part.W.values:
                        cells.append("not yet run")
                        continue
                    b = bp.sel(L=L, W=W)
                    cells.append("censored" if bool(b.t_tilde_paper_censored) else format_interval(
                        float(b.t_tilde_paper), float(b.t_tilde_paper_lo), float(b.t_tilde_paper_hi)))
                md.append(f"| {L} (incomplete: not in the fits below) | {int(bp.n_realizations.sel(L=L).max())} | "
                          + " | ".join(cells) + " |")
        md.append("\n| W | kappa = d ln t~/dL [1/site] (95 %) | kappa > ln 4 | P |\n| --- | --- | --- | --- |")
        for W in Ws:
            k = _row(s, "kappa", W=W)
            md.append(f"| {W:g} | {format_interval(k.estimate, k.lo, k.hi)} | {k.verdict} | {k.P:.2f} |")
        a, wt = _row(s, "alpha"), _row(s, "W_tilde")
        md.append(f"\nJoint fit ln t~ = c + alpha L W: alpha = {format_interval(a.estimate, a.lo, a.hi, '.4f')} per site per J, "
                  f"W~ = 2 ln 2 / alpha = {format_interval(wt.estimate, wt.lo, wt.hi, '.1f')} J.\n")
        bs = rep.bootstrap
        md.extend(_size_ranges(bs, Ws))
        alpha_pos = float(np.mean(bs["alpha_samples"].values > 0))
        claims.append(f"| t~ grows exponentially with W (Fig. 3a) | fits of ln t~ linear in W | alpha = "
                      f"{format_interval(a.estimate, a.lo, a.hi, '.4f')} > 0 with P = {alpha_pos:.2f} | "
                      f"{'consistent' if a.lo > 0 else 'undetermined'} |")
        kappas = ", ".join(f"W = {W:g}: {format_interval(_row(s, 'kappa', W=W).estimate, _row(s, 'kappa', W=W).lo, _row(s, 'kappa', W=W).hi, '.2f')}"
                           for W in Ws)
        claims.append(f"| t~ grows exponentially with L (Fig. 3b) | t~ ~ exp(alpha L W), L = 8..16 | kappa(W): {kappas} "
                      f"(L = {thr.L.values.min()}..{thr.L.values.max()}) | see kappa table; vs ln 4 = {LN4:.2f} |")
        claims.append(f"| MBL robust for W > W~ = 2 ln 2 / alpha (Eq. 10) | no number given | W~ = "
                      f"{format_interval(wt.estimate, wt.lo, wt.hi, '.1f')}, beyond the W range studied | W > W~ is 'no' for "
                      "every W here |")
        ri = analysis.relative_imbalance(thr)
        figures["paper_fig3_threshold"] = plots.fig3_threshold(analysis.threshold_time(ri), bs=bs)
        if 8.0 in thr.W.values:
            figures["paper_fig5b_collapse"] = plots.fig5_collapse(analysis.collapse(ri), W=8.0, bs=bs)
            claims.append("| L Ir(t) collapses onto a curve linear in ln t (Fig. 5b, W = 8) | smaller L | "
                          "see `docs/figures/paper_fig5b_collapse.png` | by eye |")
    if anderson is not None:
        bs_a = analysis.bootstrap(anderson, **kw)
        ri_a = analysis.relative_imbalance(anderson)
        figures["paper_fig5a_anderson_collapse"] = plots.fig5_collapse(analysis.collapse(ri_a), W=8.0, bs=bs_a)
        claims.append(f"| Anderson: L Ir(t) tends to a limit curve linear in ln t (Fig. 5a, W = 8) | large L | "
                      f"L = {', '.join(str(L) for L in anderson.L.values)}, "
                      f"{int(anderson.n_realizations.max())} realizations: `docs/figures/paper_fig5a_anderson_collapse.png` "
                      "| by eye |")
    md = ["### Claim by claim\n", *claims, "", *md]
    return "\n".join(md) + "\n", figures


def readme_with(readme: str, text: str) -> str:
    """``readme`` with the text between the paper-comparison markers replaced by ``text``."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{text}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "paper_comparison.md")
    parser.add_argument("--figures", type=Path, default=ROOT / "docs" / "figures")
    args = parser.parse_args(argv)
    text, figures = compare(args.n_resamples, args.seed)
    args.figures.mkdir(parents=True, exist_ok=True)
    for name, fig in figures.items():
        tmp = args.figures / f"{name}.png.tmp"
        fig.savefig(tmp, dpi=150, format="png", metadata={"Software": None})  # no tool version: rerun-stable bytes
        os.replace(tmp, args.figures / f"{name}.png")
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, args.out)
    readme = ROOT / "README.md"
    tmp = readme.with_name("README.md.tmp")
    tmp.write_text(readme_with(readme.read_text(encoding="utf-8"), text), encoding="utf-8")
    os.replace(tmp, readme)
    print(text)
    print(f"wrote {args.out} and {len(figures)} figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
