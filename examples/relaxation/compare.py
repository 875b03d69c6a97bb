"""The slowest relaxation rate Gamma next to the threshold time t~ and the front's t*, on the same disorder.

    python examples/relaxation/compare.py    # docs/results/relaxation.md, docs/figures/relaxation_*.png, README

Reads the shipped rate runs ``datasets/relaxation/rates_*.nc`` (``examples/relaxation/rates.toml``:
Gamma to first order in gamma^2 per realization, seed 43), combined with :func:`ensemble.combine`;
the threshold runs ``datasets/paper/threshold_*.nc`` (the same seed: realization r at (L, W) has
bitwise the same fields, which this script checks before pairing them); and t* = exp(L / 2A) from
the front tables ``docs/results/mbl_front_grid.csv`` (L = 12) and ``mbl_front_L14_grid.csv``
(L = 14), written by ``examples/paper/reduce.py``.

It reports, with 95 % percentile intervals from resampling the disorder realizations
(:mod:`analysis.relaxation`): the typical ln Gamma per (L, W) (median and mean; unresolved rates
censored), kappa_Gamma(W) = -d ln Gamma_typ / dL from consecutive sizes with its verdict against
ln 4, W*_Gamma from each pair of sizes, and whether t~ and t* lower-bound each realization's 1/Gamma.
The Findings also go into the README, between the ``<!-- relaxation:start -->`` and
``<!-- relaxation:end -->`` markers. A rerun writes the same bytes.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

import analysis  # noqa: E402
import ensemble  # noqa: E402
from analysis import relaxation as ar  # noqa: E402
from analysis.fits import LN4  # noqa: E402
from analysis.report import format_interval  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RATES = ROOT / "datasets" / "relaxation"
THRESHOLD = ROOT / "datasets" / "paper"
ANDERSON = ROOT / "docs" / "results" / "relaxation_anderson.csv"
FRONT_TABLES = {12: ROOT / "docs" / "results" / "mbl_front_grid.csv",
                14: ROOT / "docs" / "results" / "mbl_front_L14_grid.csv"}
#: The typical rate used for kappa_Gamma and W*_Gamma: the median, which unresolved rates leave defined.
STATISTIC = "median"
START, END = "<!-- relaxation:start -->", "<!-- relaxation:end -->"
#: The paper's threshold from the front, "W* ≳ 7" (Scocco et al., arXiv:2407.20985, L = 16), in units of J.
PAPER_W_STAR = 7.0
#: Sels, "Markovian baths and quantum avalanches", arXiv:2108.10796 (abstract): "W* >~ 20" for the disordered
#: Heisenberg chain, drifting up with L. Its operator convention could not be read here: 20 in the same
#: convention as this project, 10 if written with Pauli matrices (h sigma^z, fields W' = 2 W).
SELS_W_STAR = 20.0


def load_rates() -> xr.Dataset:
    """The shipped rate runs, combined (disjoint sizes: exactly)."""
    paths = sorted(RATES.glob("rates_*.nc"))
    if not paths:
        raise FileNotFoundError(f"no rate runs in {RATES} (make them with examples/relaxation/rates.toml)")
    return ensemble.combine(paths) if len(paths) > 1 else xr.load_dataset(paths[0])


def threshold_times(rates: xr.Dataset) -> dict[tuple[int, float], float]:
    """t~ (paper definition) at each shipped (L, W) that the rate runs also hold (not censored), after
    checking that both hold the same fields for every shared realization."""
    sizes = {}
    for path in sorted(THRESHOLD.glob("threshold_*.nc")):
        with xr.open_dataset(path) as ds:
            sizes[path] = ds.L.values.tolist()
    out = {}
    for L in rates.L.values.tolist():
        paths = [p for p, held in sizes.items() if L in held]
        if not paths:
            continue
        ds = ensemble.combine(paths) if len(paths) > 1 else xr.load_dataset(paths[0])
        ds = ds.sel(L=[L])
        shared = [W for W in ds.W.values.tolist() if W in rates.W.values]
        n = min(int(ds.n_realizations.sel(L=L)), int(rates.n_realizations.sel(L=L)))
        a = ds.field.sel(L=L, W=shared).isel(realization=slice(0, n), site=slice(0, L)).values
        b = rates.field.sel(L=L, W=shared).isel(realization=slice(0, n), site=slice(0, L)).values
        if not np.array_equal(a.view(np.uint64), b.view(np.uint64)):
            raise ValueError(f"L={L}: the threshold and rate runs do not hold the same fields; not pairable")
        tt = analysis.threshold_time(analysis.relative_imbalance(ds.sel(W=shared)))
        for W in shared:
            p = tt.sel(L=L, W=W)
            if not bool(p.censored):
                out[(L, W)] = float(p.t_tilde)
    return out


def front_times() -> dict[tuple[int, float], tuple[float, float, float]]:
    """t* = exp(L / 2A) with its interval from the shipped front tables, (L, W) -> (t*, lo, hi)."""
    out = {}
    for L, path in FRONT_TABLES.items():
        grid = pd.read_csv(path)
        columns = [f"log10_t_star{end} [log10(1/J)]" for end in ("", "_lo", "_hi")]
        for _, row in grid.iterrows():
            out[(L, float(row["W [J]"]))] = tuple(10.0 ** row[columns].to_numpy(dtype=float))
    return out


def _rates(rates: xr.Dataset, L: int, W: float) -> tuple[np.ndarray, np.ndarray]:
    n = int(rates.n_realizations.sel(L=L))
    sel = rates.sel(L=L, W=W).isel(realization=slice(0, n))
    return sel.relaxation_rate.values, sel.relaxation_resolution.values


def compare(n_resamples: int = 2000, seed: int = 0) -> tuple[str, dict[str, plt.Figure]]:
    """The Markdown of docs/results/relaxation.md and its figures."""
    rates = load_rates()
    Ls, Ws = rates.L.values.tolist(), rates.W.values.tolist()
    kw = dict(n_resamples=n_resamples, seed=seed)
    md = ["# The slowest relaxation rate Gamma (generated by examples/relaxation/compare.py)\n",
          f"Delta = {float(rates.attrs['delta']):g}, gamma = {float(rates.attrs['gamma']):g}, bath on site 1; Gamma "
          "to first order in gamma^2 (secular Pauli master equation and first-order coherence decay, "
          "`relaxation_rate`), units of J; intervals 95 %, from resampling the disorder realizations "
          f"({n_resamples} resamples). A rate at or below its rounding resolution is unresolved (censored below).\n",
          "## Typical rate\n",
          "| L | realizations | " + " | ".join(f"W = {W:g}" for W in Ws) + " |",
          "| --- | --- | " + " | ".join("---" for _ in Ws) + " |"]
    typical = {}
    for L in Ls:
        cells = []
        for W in Ws:
            g, res = _rates(rates, L, W)
            t = typical[(L, W)] = ar.typical_rate(g, L=L, W=W, resolutions=res, **kw)
            cell = format_interval(t.median_ln, t.median_ln_lo, t.median_ln_hi, ".1f")
            cells.append(cell + (f" ({t.n_unresolved} unresolved)" if t.n_unresolved else ""))
        md.append(f"| {L} | {int(rates.n_realizations.sel(L=L))} | " + " | ".join(cells) + " |")
    md.append("\nMedian of ln Gamma per (L, W). Where every rate is resolved, the mean of ln Gamma agrees with "
              "the median to within " + f"{max(abs(t.mean_ln - t.median_ln) for t in typical.values() if not t.n_unresolved):.2f}"
              " (largest difference).\n")

    md += ["## kappa_Gamma = -d ln Gamma_typ / dL against ln 4\n",
           f"ln 4 = {LN4:.3f}. kappa_Gamma > ln 4: Gamma falls faster than 4^(-L), so a localized chain is stable "
           "against avalanches (Morningstar, Colmenarez, Khemani, Luitz and Huse, arXiv:2107.05642; Sels, "
           "arXiv:2108.10796). From the medians of consecutive sizes.\n",
           "| sizes | " + " | ".join(f"W = {W:g}" for W in Ws) + " | W*_Gamma [J] |",
           "| --- | " + " | ".join("---" for _ in Ws) + " | --- |"]
    kappas, stars = {}, {}
    for small, large in zip(Ls, Ls[1:]):
        cells = []
        for W in Ws:
            (gs, rs), (gl, rl) = _rates(rates, small, W), _rates(rates, large, W)
            d = kappas[(small, large, W)] = ar.rate_decay(gs, gl, L_small=small, L_large=large, W=W, statistic=STATISTIC,
                                                         resolutions_small=rs, resolutions_large=rl, **kw)
            cells.append(f"{format_interval(d.kappa, d.lo, d.hi, '.2f')} {d.verdict} (P = {d.P:.2f})")
        small_rates = [_rates(rates, small, W) for W in Ws]
        large_rates = [_rates(rates, large, W) for W in Ws]
        star = ar.threshold_disorder(Ws, [g for g, _ in small_rates], [g for g, _ in large_rates], L_small=small,
                                     L_large=large, statistic=STATISTIC, resolutions_small=[r for _, r in small_rates],
                                     resolutions_large=[r for _, r in large_rates], **kw)
        stars[(small, large)] = star
        cells.append(format_interval(star.W_star, star.lo, star.hi, ".2f", words=True))
        md.append(f"| {small} -> {large} | " + " | ".join(cells) + " |")

    exact_path = RATES / "exact_L8.nc"
    if exact_path.is_file():
        md += _exact_section(xr.load_dataset(exact_path), rates, kw)
    md += ["\n## Do t~ and t* lower-bound the slowest time 1/Gamma?\n",
           "Per (L, W): the fraction of realizations with t <= 1/Gamma (interval from resampling the realizations "
           "of Gamma at the central t) and the median of log10(t Gamma); the verdict says whether t lies below "
           "1/Gamma for most realizations (the fraction's interval above 1/2). t~: the paper's threshold time of "
           "the shipped threshold runs on the same realizations (its resampled interval is in "
           "paper_comparison.md); t* = exp(L / 2A) from the shipped fronts, with its interval (L = 12, 14; "
           "other realizations, same law).\n",
           "| time | L | W [J] | t [1/J] | fraction t <= 1/Gamma | median log10(t Gamma) | lower bound for most |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    bounds = {}
    t_tilde = {key: (t, None, None) for key, t in threshold_times(rates).items()}
    for label, times in (("t~", t_tilde), ("t*", front_times())):
        for (L, W), (t, lo, hi) in sorted(times.items()):
            if L not in Ls or W not in Ws:
                continue
            g, res = _rates(rates, L, W)
            b = bounds[(label, L, W)] = ar.lower_bound_fraction(t, g, L=L, W=W, resolutions=res, **kw)
            shown = f"{t:.3g}" if lo is None else format_interval(t, lo, hi, ".3g")
            md.append(f"| {label} | {L} | {W:g} | {shown} | "
                      f"{format_interval(b.fraction, b.lo, b.hi, '.2f')} | "
                      f"{format_interval(b.median_ln_ratio / np.log(10), b.median_ln_ratio_lo / np.log(10), b.median_ln_ratio_hi / np.log(10), '.1f')} | "
                      f"{b.verdict} |")
    anderson, anderson_summary = _anderson_section()
    md += anderson
    md += _findings(kappas, stars, bounds) + [f"- Anderson chain (two-point rate): {anderson_summary}"]
    return "\n".join(md) + "\n", {"relaxation_ln_gamma": _figure_distribution(rates),
                                  "relaxation_kappa": _figure_kappa(Ls, Ws, kappas)}


def _exact_section(exact: xr.Dataset, rates: xr.Dataset, kw: dict) -> list[str]:
    """Exact Lindbladian gap against the weak-coupling rate on the same realizations (L = 8)."""
    L = int(exact.L.values[0])
    n = int(exact.n_realizations.sel(L=L))
    out = [f"\n## Weak coupling against the exact gap (L = {L}, gamma = {float(exact.attrs['gamma']):g})\n",
           f"The exact Lindbladian gap (`relaxation_rate_exact`) and the first-order rate on the same {n} "
           "realizations per W (`examples/relaxation/rates.toml` at L = 8 with both observables; the weak rates "
           "are bitwise those of the main run). Ratio exact / weak over the realizations where both are resolved "
           "(each above its resolution): median and 95 % interval; the first-order rate is exact as gamma -> 0 "
           "(`tests/ensemble/test_relaxation.py`).\n",
           "| W [J] | both resolved | median exact / weak | fraction exact < weak |", "| --- | --- | --- | --- |"]
    for W in exact.W.values.tolist():
        sel = exact.sel(L=L, W=W).isel(realization=slice(0, n))
        weak, gap = sel.relaxation_rate.values, sel.relaxation_rate_exact.values
        main = rates.sel(L=L, W=W).isel(realization=slice(0, n)).relaxation_rate.values
        if not np.array_equal(weak, main):
            raise ValueError(f"W={W:g}: the exact run's weak rates differ from the main run's; not the same realizations")
        both = (gap > sel.relaxation_resolution_exact.values) & (weak > sel.relaxation_resolution.values)
        if both.sum() < 2:
            out.append(f"| {W:g} | {int(both.sum())} of {n} | too few resolved | |")
            continue
        t = ar.typical_rate(gap[both] / weak[both], L=L, W=W, **kw)
        out.append(f"| {W:g} | {int(both.sum())} of {n} | "
                   f"{format_interval(np.exp(t.median_ln), np.exp(t.median_ln_lo), np.exp(t.median_ln_hi), '.2f')} "
                   f"| {np.mean(gap[both] < weak[both]):.2f} |")
    return out


def _anderson_section() -> tuple[list[str], str]:
    """The two-point rate of the Anderson chain against L (table of examples/relaxation/anderson.py), and
    the sentence that sums it up."""
    table = pd.read_csv(ANDERSON)
    Ws, Ls = sorted(table.W.unique()), sorted(table.L.unique())
    out = ["\n## The Anderson chain (Delta = 0): the two-point rate to large L\n",
           "With a dephasing bath the equations of the correlation matrix <c_i^dag c_j> close, so its gap "
           "Gamma_2 (`ensemble/references/two_point_relaxation.py`; it equals the exact many-body gap at L <= 8 in "
           "every tested case) is an L^2-dimensional problem. Median ln Gamma_2 [95 %], gamma = 1, bath on site 1 "
           "(`examples/relaxation/anderson.py`, `relaxation_anderson.csv`); \"below resolution\": more than half "
           "the rates lie below eps ||K||_1, which double precision cannot resolve.\n",
           "| L | " + " | ".join(f"W = {W:g}" for W in Ws) + " |", "| --- | " + " | ".join("---" for _ in Ws) + " |"]
    monotonic = True
    for L in Ls:
        cells = []
        for W in Ws:
            r = table[(table.L == L) & (table.W == W)].iloc[0]
            cells.append("below resolution" if not np.isfinite(r.median_ln_rate) else
                         format_interval(r.median_ln_rate, r.median_ln_rate_lo, r.median_ln_rate_hi, ".1f")
                         + (f" ({int(r.n_unresolved)} unresolved)" if r.n_unresolved else ""))
        out.append(f"| {L} | " + " | ".join(cells) + " |")
    for W in Ws:
        med = table[table.W == W].sort_values("L").median_ln_rate.to_numpy()
        med = med[np.isfinite(med)]
        monotonic &= bool(np.all(np.diff(med) < 0))
    largest = {W: int(table[(table.W == W) & np.isfinite(table.median_ln_rate)].L.max()) for W in Ws}
    summary = (f"resolved up to L = {', '.join(f'{largest[W]} (W = {W:g})' for W in Ws)}; where resolved, the "
               f"median falls {'monotonically' if monotonic else 'non-monotonically'} with L at every W.")
    out.append(f"\n{summary[0].upper()}{summary[1:]} Berger, "
               "Nava, Bardarson and Artiaco (arXiv:2412.03233) report strong, non-monotonic finite-size effects in the "
               "gap of bath-coupled Anderson chains; within the sizes double precision resolves here none is seen. "
               "Their conventions (hopping, disorder width, bath operator and rate) could not be read in this "
               "project's sources, so the comparison is qualitative.")
    return out, summary


def _findings(kappas, stars, bounds) -> list[str]:
    """The summary sentences, every number taken from the tables above."""
    out = ["\n## Findings\n"]
    for verdict in ("yes", "no", "undetermined"):
        pairs = [f"W = {W:g} ({s}->{b})" for (s, b, W), d in kappas.items() if d.verdict == verdict]
        out.append(f"- kappa_Gamma > ln 4 is \"{verdict}\" at {', '.join(pairs) or 'no grid point'}.")
    for (small, large), star in stars.items():
        where = ("above" if star.lo > PAPER_W_STAR else "below" if star.hi < PAPER_W_STAR else "not separated from")
        out.append(f"- W*_Gamma({small}->{large}) = {format_interval(star.W_star, star.lo, star.hi, '.2f', words=True)} "
                   f"J: {where} the paper's W* ≳ {PAPER_W_STAR:g} from the front"
                   + (" (so W* ≳ 7 is a lower bound of the Gamma threshold at these sizes)." if where == "above" else
                      " (so W* ≳ 7 is an upper bound of the Gamma threshold at these sizes)." if where == "below" else
                      " at 95 %."))
    if stars:
        highest = max(s.hi for s in stars.values())
        out.append(f"- Literature: Sels (arXiv:2108.10796) reports W* ≳ {SELS_W_STAR:g}, drifting up with L; in this "
                   f"project's convention that is {SELS_W_STAR:g}, or {SELS_W_STAR / 2:g} if his chain is written with "
                   "Pauli matrices (not readable in this project's sources). The largest upper end of W*_Gamma here is "
                   f"{highest:.2f}: {'below both' if highest < SELS_W_STAR / 2 else 'not below both'}. Morningstar et al. "
                   "(arXiv:2107.05642) place the avalanche threshold \"much deeper in the MBL regime\" than earlier "
                   "estimates. Gamma here is first order in gamma^2 at gamma = 1 and L <= 14; both studies take "
                   "weakly coupled baths and the thresholds' drift with L.")
    for label in ("t~", "t*"):
        rows = [(L, W, b) for (lab, L, W), b in bounds.items() if lab == label]
        if rows:
            n_yes = sum(b.verdict == "yes" for _, _, b in rows)
            worst = min(rows, key=lambda r: r[2].fraction)
            top = max(rows, key=lambda r: r[2].median_ln_ratio)
            out.append(f"- {label} lies below 1/Gamma for most realizations at {n_yes} of {len(rows)} grid points; "
                       f"the smallest fraction is {worst[2].fraction:.2f} (L = {worst[0]}, W = {worst[1]:g}); the largest "
                       f"median t Gamma is 10^{top[2].median_ln_ratio / np.log(10):.1f} (L = {top[0]}, W = {top[1]:g}).")
    return out


def _figure_distribution(rates: xr.Dataset) -> plt.Figure:
    """log10 Gamma per realization, one box per (W, L); an unresolved rate is drawn at its resolution
    (an upper bound of it)."""
    Ls, Ws = rates.L.values.tolist(), rates.W.values.tolist()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / len(Ls)
    for k, L in enumerate(Ls):
        data = [np.log10(np.maximum(*_rates(rates, L, W))) for W in Ws]
        positions = np.arange(len(Ws)) + (k - (len(Ls) - 1) / 2) * width
        box = ax.boxplot(data, positions=positions, widths=0.9 * width, patch_artist=True, showfliers=False)
        for patch in box["boxes"]:
            patch.set_facecolor(plt.cm.viridis(k / max(1, len(Ls) - 1)))
        ax.plot([], [], "s", color=plt.cm.viridis(k / max(1, len(Ls) - 1)), label=f"L = {L}")
    ax.set_xticks(np.arange(len(Ws)), [f"{W:g}" for W in Ws])
    ax.set_xlabel("W [J]")
    ax.set_ylabel("log10 Gamma [J] (weak coupling)")
    ax.set_title("Slowest relaxation rate per realization (boxes: quartiles, whiskers: 1.5 IQR;\n"
                 "a rate below its resolution is drawn at the resolution)", fontsize=10)
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def _figure_kappa(Ls, Ws, kappas) -> plt.Figure:
    """kappa_Gamma(W) from each pair of consecutive sizes, with intervals, against ln 4."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, (small, large) in enumerate(zip(Ls, Ls[1:])):
        d = [kappas[(small, large, W)] for W in Ws]
        y = np.array([x.kappa for x in d])
        with np.errstate(invalid="ignore"):
            err = np.array([[x.kappa - x.lo for x in d], [x.hi - x.kappa for x in d]])
        err = np.where(np.isfinite(err), err, 0.0)  # an open interval end (unresolved rates) is drawn as no bar
        ax.errorbar(np.asarray(Ws) + 0.15 * k, y, yerr=err, fmt="o-", capsize=3, label=f"L = {small} -> {large}")
    ax.axhline(LN4, color="k", ls="--", label="ln 4")
    ax.set_xlabel("W [J]")
    ax.set_ylabel("kappa_Gamma = -d ln Gamma_typ / dL [1/site]")
    ax.legend()
    fig.tight_layout()
    return fig


def readme_with(readme: str, text: str) -> str:
    """``readme`` with the text between the relaxation markers replaced by the Findings of ``text``."""
    findings = text.split("## Findings\n", 1)[1].strip()
    block = (f"{findings}\n\nTables: [docs/results/relaxation.md](docs/results/relaxation.md) (regenerate with "
             "`python examples/relaxation/compare.py`).\n\n"
             "![ln Gamma per realization](docs/figures/relaxation_ln_gamma.png)\n"
             "![kappa_Gamma against ln 4](docs/figures/relaxation_kappa.png)\n")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-resamples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "relaxation.md")
    parser.add_argument("--figures", type=Path, default=ROOT / "docs" / "figures")
    args = parser.parse_args(argv)
    text, figures = compare(args.n_resamples, args.seed)
    spec = importlib.util.spec_from_file_location("paper_compare", ROOT / "examples" / "paper" / "compare.py")
    paper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(paper)
    paper.write_outputs(text, figures, args.out, args.figures, readme_with)  # the same writer as the paper's
    return 0

if __name__ == "__main__":
    sys.exit(main())
