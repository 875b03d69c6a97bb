"""The README's Results are what the analysis computes from what the project ships, and the script
that writes them never loses data."""

import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import analysis

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
spec = importlib.util.spec_from_file_location("reduce", ROOT / "examples" / "paper" / "reduce.py")
reduce = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reduce)


def _compare(table: pd.DataFrame, shipped: pd.DataFrame) -> None:
    assert list(table.columns) == list(shipped.columns)
    for column in table.columns:
        a, b = table[column].to_numpy(), shipped[column].to_numpy()
        if a.dtype.kind in "fi" and b.dtype.kind in "fi":
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-12, equal_nan=True,
                                       err_msg=column)
        else:
            assert [str(x) for x in pd.Series(a).fillna("")] == [str(x) for x in pd.Series(b).fillna("")], column


@pytest.mark.parametrize("name", ["mbl_front", "mbl_front_L14", "mbl_threshold"])
def test_shipped_tables_are_what_analysis_computes(name):
    ds = xr.load_dataset(ROOT / "datasets" / f"{name}.nc")
    rep = analysis.report(ds, window=reduce.WINDOWS[name.removesuffix("_L14")], n_resamples=1000, seed=0)
    grid = pd.read_csv(io.StringIO(rep.to_csv("grid")))
    _compare(grid, pd.read_csv(RESULTS / f"{name}_grid.csv"))
    _compare(pd.read_csv(io.StringIO(rep.summary.to_csv(index=False))), pd.read_csv(RESULTS / f"{name}_summary.csv"))


@pytest.mark.parametrize("L", [50, 100, 200])
def test_anderson_fits_follow_from_the_shipped_fronts(L):
    front = xr.load_dataset(RESULTS / f"anderson_L{L}_front.nc").sel(order="abs-then-mean")
    fit = analysis.fit_front(front["h"], *reduce.WINDOWS["anderson"])
    shipped = pd.read_csv(RESULTS / "anderson_fits.csv").query("L == @L")
    np.testing.assert_allclose(fit.inv_A.sel(L=L).values, shipped.inv_A.to_numpy(), rtol=1e-9)
    assert (shipped.front_verdict == "yes").all() and (shipped.inv_A_lo > 2 * np.log(4)).all()


def test_readme_shows_the_regenerated_block_and_the_command():
    readme = (ROOT / "README.md").read_text()
    results = readme.split("## Results")[1].split("\n## ")[0]
    assert reduce.COMMAND in results
    block = results.split(reduce.START + "\n")[1].split(reduce.END)[0]
    assert block == (RESULTS / "results.md").read_text(), "README Results block differs from docs/results/results.md"
    # outside the generated block the section quotes no result: no interval, no verdict
    outside = results.replace(block, "")
    assert not re.search(r"\d \[[-\d.]+, [-\d.]+\]", outside)
    assert not re.search(r"\*\*(yes|no|undetermined)\*\* (at|for)", outside)


def test_reduce_refuses_missing_inputs_and_keeps_existing_outputs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "results.md"
    existing.write_text("earlier results\n")
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "paper" / "reduce.py"), "--results",
                           str(tmp_path / "nothing"), "--out", str(out), "--figures", str(tmp_path / "figs"),
                           "--no-readme"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.startswith("reduce.py: error: missing input(s)") and "mbl_front.nc" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert existing.read_text() == "earlier results\n"
    assert not (tmp_path / "figs").exists()


def test_reduce_rewrites_the_tracked_outputs_byte_for_byte(tmp_path):
    """A rerun of the reduction leaves every tracked output unchanged: floats with fixed digits, figures
    without tool versions or dates (the Anderson curves and their resamples are read from the output directory, as shipped)."""
    out, figures = tmp_path / "results", tmp_path / "figures"
    out.mkdir()
    for curve in RESULTS.glob("anderson_L*_*.nc"):  # the mean curves and the resampled ones
        (out / curve.name).write_bytes(curve.read_bytes())
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "paper" / "reduce.py"), "--results",
                           str(ROOT / "datasets"), "--out", str(out), "--figures", str(figures), "--no-readme"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    written = sorted([*out.iterdir(), *figures.iterdir()])
    assert len(written) >= 18
    changed = [p.name for p in written
               if (RESULTS if p.parent == out else ROOT / "docs" / "figures").joinpath(p.name).read_bytes() != p.read_bytes()]
    assert not changed, f"rerunning reduce.py changes {changed}"
    assert b"Software" not in (figures / "mbl_front.png").read_bytes()


@pytest.mark.parametrize("L, n", [(50, 1200), (100, 1200), (200, 300)])
def test_shipped_anderson_resamples_are_of_the_shipped_runs(L, n):
    """The resampled h(t) curves behind the resampled Anderson intervals come from the same realizations
    as the shipped mean curve (float32 storage: ~1e-7), and the intervals hold the estimate."""
    res = xr.load_dataset(RESULTS / f"anderson_L{L}_resamples.nc")
    curve = xr.load_dataset(RESULTS / f"anderson_L{L}_front.nc").sel(order="abs-then-mean")
    assert int(res.n_realizations.max()) == n and res.sizes["resample"] == 1000
    np.testing.assert_allclose(res.h.values, curve.h.transpose(*res.h.dims).values, rtol=1e-6, equal_nan=True)
    fits = pd.read_csv(RESULTS / "anderson_fits.csv").query(f"L == {L}")
    assert fits.intervals.str.startswith("resampled").all() and fits.P.notna().all()
    assert ((fits.inv_A_lo <= fits.inv_A) & (fits.inv_A <= fits.inv_A_hi)).all()
