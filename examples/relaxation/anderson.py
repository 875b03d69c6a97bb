"""The two-point relaxation rate of the bath-coupled Anderson chain (Delta = 0) against L, at several W.

    python examples/relaxation/anderson.py
    # -> docs/results/relaxation_anderson.csv, docs/figures/relaxation_anderson.png

For each disorder strength W in {1, 2, 4, 8} and length L in {8, 16, 32, 64, 128}, with
L = 4, 12, 20, 24 added where the rates are still resolved, it draws :data:`N_REALIZATIONS`
field realizations (:data:`N_LARGE` at L = 128, where every rate is unresolved) from the
project's keyed disorder stream (``ensemble.run.seeds.draw_fields(44, L, W, r)``, r = 0, 1, ...),
computes the gap Gamma_2 of the two-point (correlation-matrix) generator with the bath on site 1 and gamma = 1 (Lindblad
coefficient kappa = gamma^2 / 2; :func:`ensemble.references.two_point_relaxation.two_point_relaxation_rate`,
dense up to L = 20, secular beyond; rates in units of J), and reports the median and the mean of
ln Gamma_2 with 95 % percentile intervals from resampling the realizations
(:func:`analysis.relaxation.typical_rate`). A rate at or below its resolution ``eps * ||K||_1``
(~1e-15) is not resolved: it is censored (ranked below every resolved rate; the mean is then
undefined, NaN), so a median of -inf means that more than half the realizations relax more slowly
than double precision can resolve. L = 200 is left out: every rate at L = 128 is already
unresolved, and one realization at L = 200 costs ~6 times one at L = 128.

Cost (one core): about 3 minutes (L = 128: ~0.45 s per realization, L = 64: ~0.05 s, the rest
less). A rerun writes the same bytes (the figure without a time stamp).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ensemble.threads import pin_threads

pin_threads(1)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from analysis.relaxation import typical_rate  # noqa: E402
from ensemble.references.two_point_relaxation import two_point_relaxation_rate  # noqa: E402
from ensemble.run.seeds import draw_fields  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CSV = ROOT / "docs" / "results" / "relaxation_anderson.csv"
FIGURE = ROOT / "docs" / "figures" / "relaxation_anderson.png"
ENTROPY = 44
WS = (1.0, 2.0, 4.0, 8.0)
LS = (4, 8, 12, 16, 20, 24, 32, 64, 128)
N_REALIZATIONS = 100
#: Realizations at L = 128 (~0.45 s each, all unresolved).
N_LARGE = 40
GAMMA = 1.0
BATH_SITE = 1
COLUMNS = ("L", "W", "n", "n_unresolved", "median_ln_rate", "median_ln_rate_lo", "median_ln_rate_hi",
           "mean_ln_rate", "mean_ln_rate_lo", "mean_ln_rate_hi", "median_ln_resolution")


def rates(L: int, W: float, n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Gamma_2 and its resolution per realization, and the CPU seconds per realization."""
    out, res = np.empty(n), np.empty(n)
    start = time.process_time()
    for r in range(n):
        result = two_point_relaxation_rate(draw_fields(ENTROPY, L, W, r), gamma=GAMMA, bath_site=BATH_SITE)
        out[r], res[r] = result.rate, result.resolution
    return out, res, (time.process_time() - start) / n


def row(L: int, W: float, gamma2: np.ndarray, resolution: np.ndarray) -> dict:
    # Unresolved rates (at or below the resolution, possibly <= 0 from rounding) are bounded by it and censored.
    bounded = np.where(gamma2 > resolution, gamma2, resolution)
    typ = typical_rate(bounded, L=L, W=W, resolutions=resolution)
    return {"L": L, "W": W, "n": typ.n, "n_unresolved": typ.n_unresolved,
            "median_ln_rate": typ.median_ln, "median_ln_rate_lo": typ.median_ln_lo,
            "median_ln_rate_hi": typ.median_ln_hi, "mean_ln_rate": typ.mean_ln, "mean_ln_rate_lo": typ.mean_ln_lo,
            "mean_ln_rate_hi": typ.mean_ln_hi, "median_ln_resolution": float(np.median(np.log(resolution)))}


def write_csv(rows: list[dict], path: Path) -> None:
    def fmt(value) -> str:
        return str(value) if isinstance(value, (int, np.integer)) else f"{value:.6g}"

    lines = [",".join(COLUMNS)] + [",".join(fmt(r[c]) for c in COLUMNS) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def plot(rows: list[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    for k, W in enumerate(WS):
        color = f"C{k}"
        mine = [r for r in rows if r["W"] == W]
        shown = [r for r in mine if np.isfinite(r["median_ln_rate"])]
        if shown:
            L = np.array([r["L"] for r in shown], dtype=float)
            med = np.array([r["median_ln_rate"] for r in shown])
            lo = np.array([r["median_ln_rate_lo"] for r in shown])
            hi = np.array([r["median_ln_rate_hi"] for r in shown])
            lo = np.where(np.isfinite(lo), lo, med)  # an open lower end is drawn as no bar
            ax.errorbar(L, med, yerr=[med - lo, hi - med], marker="o", color=color, capsize=3, label=f"W = {W:g}")
        censored = [r for r in mine if not np.isfinite(r["median_ln_rate"])]
        if censored:
            ax.plot([r["L"] for r in censored], [r["median_ln_resolution"] for r in censored], marker="v",
                    linestyle="none", color=color, label=None if shown else f"W = {W:g}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(LS, [str(L) for L in LS])
    ax.set_xlabel("L")
    ax.set_ylabel(r"median $\ln \Gamma_2$  ($\Gamma_2$ in units of J)")
    ax.set_title(rf"Anderson chain, bath on site 1, $\gamma$ = {GAMMA:g}, 95 % intervals", fontsize=10)
    ax.text(0.02, 0.02, r"$\blacktriangledown$: median below the resolution $\epsilon\,\|K\|_1$ (drawn at it)",
            transform=ax.transAxes, fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150, metadata={"Software": None})
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    rows = []
    for W in WS:
        for L in LS:
            gamma2, resolution, seconds = rates(L, W, N_LARGE if L >= 128 else N_REALIZATIONS)
            rows.append(row(L, W, gamma2, resolution))
            r = rows[-1]
            print(f"W = {W:g}, L = {L}: median ln Gamma_2 = {r['median_ln_rate']:.4g} "
                  f"[{r['median_ln_rate_lo']:.4g}, {r['median_ln_rate_hi']:.4g}], unresolved "
                  f"{r['n_unresolved']}/{r['n']}, {seconds:.4f} s per realization", flush=True)
    CSV.parent.mkdir(parents=True, exist_ok=True)
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    write_csv(rows, CSV)
    plot(rows, FIGURE)
    print(f"wrote {os.path.relpath(CSV, ROOT)} and {os.path.relpath(FIGURE, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
