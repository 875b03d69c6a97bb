"""Reduce the paper-reproduction runs to the numbers, tables and figures the README shows.

Run after the commands in the README's "Results" section (also in each config's header)::

    python examples/paper/reduce.py --results results --out docs/results --figures docs/figures

Reads ``results/anderson_L*.nc``, ``results/mbl_front*.nc`` and ``results/mbl_threshold.nc`` (any that
exist) and writes

* ``docs/results/<name>_report.csv``: :func:`analysis.report` of each run with the stated fit window;
* ``docs/results/<name>_front.nc``: h(t) and its error for both orders of |.| and the mean (small);
* ``docs/results/sensitivity.csv``: 1/A for several fit windows and both orders;
* ``docs/results/results.md``: the Markdown tables pasted into the README;
* figures under ``docs/figures/``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import analysis  # noqa: E402
from analysis import plots  # noqa: E402

#: The fit windows of h = A ln t + B stated in the README (units of 1/J).
WINDOWS = {"anderson": (20.0, 1000.0), "mbl_front": (20.0, 1000.0), "mbl_threshold": (20.0, 1000.0)}
#: Alternative windows for the sensitivity table.
SENSITIVITY = [(10.0, 1000.0), (20.0, 1000.0), (50.0, 1000.0), (100.0, 1000.0), (20.0, 300.0)]
TWO_LN4 = 2 * np.log(4.0)


def _front_file(ds: xr.Dataset, path: Path) -> xr.Dataset:
    parts = []
    for order in ("abs-then-mean", "mean-then-abs"):
        fr = analysis.front(ds, order=order)[["h", "h_err"]].expand_dims(order=[order])
        parts.append(fr)
    out = xr.concat(parts, dim="order")
    out["order"].attrs.update(long_name="order of |.| and the realization mean in dS_j", units="1")
    out.attrs.update({k: ds.attrs[k] for k in ("delta", "gamma", "tau", "seed_entropy", "command") if k in ds.attrs})
    out.to_netcdf(path)
    return out


def _sensitivity(name: str, front: xr.Dataset) -> pd.DataFrame:
    rows = []
    for order in front.order.values:
        fr = front.sel(order=order)
        for window in SENSITIVITY:
            if fr.time.values.max() < window[1]:
                continue
            ff = analysis.fit_front(fr, *window)
            for L in ff.L.values:
                for W in ff.W.values:
                    sel = ff.sel(L=L, W=W)
                    rows.append(dict(run=name, order=str(order), t_min=window[0], t_max=window[1], L=int(L),
                                     W=float(W), inv_A=float(sel.inv_A), inv_A_err=float(sel.inv_A_err)))
    return pd.DataFrame(rows)


def _invA_vs_W(reports: dict[str, pd.DataFrame], title: str) -> Figure:
    fig = Figure(figsize=(5.5, 4), layout="constrained")
    ax = fig.add_subplot()
    for label, table in reports.items():
        ax.errorbar(table.W, table.inv_A, yerr=table.inv_A_err, marker="o", capsize=3, label=label)
    ax.axhline(TWO_LN4, color="k", ls=":", label="2 ln 4 (Eq. 18)")
    ax.set_xlabel("disorder strength W (units of J)")
    ax.set_ylabel("1/A (per lattice site)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", type=Path)
    parser.add_argument("--out", default="docs/results", type=Path)
    parser.add_argument("--figures", default="docs/figures", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.figures.mkdir(parents=True, exist_ok=True)
    md, sens = [], []

    anderson = sorted(args.results.glob("anderson_L*.nc"), key=lambda p: int(p.stem.split("_L")[1]))
    if anderson:
        reports = {}
        for path in anderson:
            ds = xr.load_dataset(path)
            name = path.stem
            window = WINDOWS["anderson"]
            table = analysis.report(ds, window=window)
            table.to_csv(args.out / f"{name}_report.csv", index=False)
            front = _front_file(ds, args.out / f"{name}_front.nc")
            sens.append(_sensitivity(name, front))
            L = int(ds.L.values[0])
            reports[f"L = {L} ({int(ds.n_realizations[0])} realizations)"] = table
            if L == 100:
                fr = analysis.front(ds)
                plots.fig4_front(fr, analysis.fit_front(fr, *window)).savefig(
                    args.figures / "anderson_front.png", dpi=120)
        _invA_vs_W(reports, "Anderson (Delta = 0): 1/A from h = A ln t + B on t in [20, 1000]").savefig(
            args.figures / "anderson_invA.png", dpi=120)
        md.append("### Anderson front (Delta = 0, gamma = 1, t_final = 1000, window t in [20, 1000])\n")
        md.append("| L | W | realizations | 1/A | 1/A > 2 ln 4 |\n| --- | --- | --- | --- | --- |")
        for label, table in reports.items():
            for row in table.itertuples():
                md.append(f"| {row.L} | {row.W:g} | {row.n_realizations} | {row.inv_A:.2f} ± {row.inv_A_err:.2f} | "
                          f"{'yes' if row.front_robust else 'no'} |")
        md.append("")

    for path in sorted(args.results.glob("mbl_front*.nc")):
        name = path.stem
        ds = xr.load_dataset(path)
        window = WINDOWS["mbl_front"]
        table = analysis.report(ds, window=window)
        table.to_csv(args.out / f"{name}_report.csv", index=False)
        front = _front_file(ds, args.out / f"{name}_front.nc")
        sens.append(_sensitivity(name, front))
        fr = analysis.front(ds)
        plots.fig4_front(fr, analysis.fit_front(fr, *window)).savefig(args.figures / f"{name}.png", dpi=120)
        L = int(ds.L.max())
        sub = table[table.L == L]
        w_star = _crossing(sub.W.values, sub.inv_A.values, TWO_LN4)
        md.append(f"### Interacting front (Delta = 1, L = {L}, t_final = {ds.attrs['t_final']:g}, window t in "
                  f"[{window[0]:g}, {window[1]:g}])\n")
        md.append("| W | realizations | 1/A | 1/A > 2 ln 4 |\n| --- | --- | --- | --- |")
        for row in sub.itertuples():
            md.append(f"| {row.W:g} | {row.n_realizations} | {row.inv_A:.2f} ± {row.inv_A_err:.2f} | "
                      f"{'yes' if row.front_robust else 'no'} |")
        md.append(f"\n1/A crosses 2 ln 4 at W* ≈ {w_star:.1f} (linear interpolation in W).\n")

    path = args.results / "mbl_threshold.nc"
    if path.exists():
        ds = xr.load_dataset(path)
        table = analysis.report(ds, window=WINDOWS["mbl_threshold"])
        table.to_csv(args.out / "mbl_threshold_report.csv", index=False)
        ri = analysis.relative_imbalance(ds)
        tt = analysis.threshold_time(ri)
        sc = analysis.fit_threshold_scaling(tt)
        plots.fig2_imbalance(ri, L=int(ds.L.max())).savefig(args.figures / "mbl_imbalance.png", dpi=120)
        plots.fig3_threshold(tt, sc).savefig(args.figures / "mbl_threshold.png", dpi=120)
        plots.fig5_collapse(analysis.collapse(ri)).savefig(args.figures / "mbl_collapse.png", dpi=120)
        md.append(f"### Imbalance threshold (Delta = 1, unraveling = {ds.attrs['unraveling']}, "
                  f"t_final = {ds.attrs['t_final']:g}, r_th = 0.17)\n")
        Ws = [float(w) for w in ds.W.values]
        md.append("| L | " + " | ".join(f"t~ (W = {w:g})" for w in Ws) + " |")
        md.append("| --- |" + " --- |" * len(Ws))
        for L in ds.L.values:
            cells = []
            for W in Ws:
                r = table[(table.L == L) & (table.W == W)].iloc[0]
                cells.append(f"{r.t_tilde:.3g} [{r.t_tilde_lower:.3g}, {r.t_tilde_upper:.3g}]"
                             if r.crossed else "not crossed")
            md.append(f"| {L} | " + " | ".join(cells) + " |")
        md.append("\n| W | kappa = d ln t~ / dL | kappa > ln 4 |\n| --- | --- | --- |")
        for W in Ws:
            k = sc.sel(W=W)
            md.append(f"| {W:g} | {float(k.kappa):.3f} ± {float(k.kappa_err):.3f} | {'yes' if bool(k.kappa_robust) else 'no'} |")
        md.append(f"\nJoint fit ln t~ = c + alpha L W: alpha = {float(sc.alpha):.4f} ± {float(sc.alpha_err):.4f}, "
                  f"W~ = 2 ln 2 / alpha = {float(sc.W_tilde):.1f} ± {float(sc.W_tilde_err):.1f}.\n")

    if sens:
        table = pd.concat(sens, ignore_index=True)
        table.to_csv(args.out / "sensitivity.csv", index=False)
        md.append("### Sensitivity of 1/A to the fit window and to the order of |.| and the mean\n")
        md.append("1/A for fit windows [t_min, t_max] and both orders (abs: |.| per realization, then the mean, "
                  "the default; mean: |mean - mean|). All runs and L: `docs/results/sensitivity.csv`.\n")
        md.append(sensitivity_markdown(table[table.run.isin(["anderson_L100", "mbl_front", "mbl_front_L14"])]))
        md.append("")
    (args.out / "results.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


def sensitivity_markdown(table: pd.DataFrame) -> str:
    """The sensitivity table: one row per (run, L, W), one column per (order, window), 1/A ± error.

    A fit whose slope A is within two standard errors of 0 (|1/A| < 2 err(1/A), since
    err(1/A) / |1/A| = err(A) / |A|) has no meaningful 1/A: a flat h(t) on a short window gives any
    value, of either sign. Such cells read "A ≈ 0" instead of a number.
    """
    rows: dict[str, dict[str, str]] = {}
    columns: list[str] = []
    for r in table.sort_values(["run", "L", "W"], kind="stable").itertuples():
        kind = "Anderson" if r.run.startswith("anderson") else "interacting"
        row = rows.setdefault(f"{kind}, L = {r.L}, W = {r.W:g}", {})
        column = f"{'abs' if r.order == 'abs-then-mean' else 'mean'} [{r.t_min:g}, {r.t_max:g}]"
        if column not in columns:
            columns.append(column)
        row[column] = "A ≈ 0" if abs(r.inv_A) < 2 * r.inv_A_err else f"{r.inv_A:.2f} ± {r.inv_A_err:.2f}"
    lines = ["| chain, L, W | " + " | ".join(columns) + " |", "| --- |" + " --- |" * len(columns)]
    lines += [f"| {name} | " + " | ".join(row.get(c, "") for c in columns) + " |" for name, row in rows.items()]
    lines.append('\n"A ≈ 0": the slope A is within two standard errors of 0 on that window, so 1/A is undefined.')
    return "\n".join(lines)


def _crossing(W: np.ndarray, y: np.ndarray, level: float) -> float:
    """First W where y crosses ``level`` from below, interpolated linearly; NaN if it never does."""
    for k in range(1, len(W)):
        if y[k - 1] < level <= y[k]:
            return float(W[k - 1] + (level - y[k - 1]) * (W[k] - W[k - 1]) / (y[k] - y[k - 1]))
    return float("nan")


if __name__ == "__main__":
    main()
