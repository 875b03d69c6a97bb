"""The README's Results are what the analysis computes from what the project ships."""

import importlib.util
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
        if a.dtype.kind in "fi":
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-12, equal_nan=True,
                                       err_msg=column)
        else:
            assert [str(x) for x in a] == [str(x) for x in b], column


@pytest.mark.parametrize("name", ["mbl_front", "mbl_front_L14", "mbl_threshold"])
def test_shipped_reports_are_what_analysis_computes(name):
    ds = xr.load_dataset(ROOT / "datasets" / f"{name}.nc")
    table = analysis.report(ds, window=reduce.WINDOWS[name.removesuffix("_L14")])
    _compare(table, pd.read_csv(RESULTS / f"{name}_report.csv"))


@pytest.mark.parametrize("L", [50, 100, 200])
def test_anderson_fits_follow_from_the_shipped_fronts(L):
    front = xr.load_dataset(RESULTS / f"anderson_L{L}_front.nc").sel(order="abs-then-mean")
    fit = analysis.fit_front(front, *reduce.WINDOWS["anderson"])
    shipped = pd.read_csv(RESULTS / f"anderson_L{L}_report.csv")
    np.testing.assert_allclose(fit.inv_A.sel(L=L).values, shipped.inv_A.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(fit.inv_A_err.sel(L=L).values, shipped.inv_A_err.to_numpy(), rtol=1e-9)
    assert bool(fit.robust.all()) == bool(shipped.front_robust.all())


def test_readme_shows_the_regenerated_tables():
    readme = (ROOT / "README.md").read_text()
    for line in (RESULTS / "results.md").read_text().splitlines():
        if line.startswith("| ") and "±" in line:
            assert line in readme, f"README table row differs from docs/results/results.md: {line}"
