"""The shipped relaxation-rate runs: they reproduce from their attributes, pair with the threshold runs'
fields, and the comparison in docs/results/relaxation.md is what the analysis computes from them."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from ensemble.references.relaxation import weak_coupling_relaxation_rate
from ensemble.run import seeds

ROOT = Path(__file__).resolve().parents[1]
RATES = ROOT / "datasets" / "relaxation"


def _compare_module():
    spec = importlib.util.spec_from_file_location("relaxation_compare", ROOT / "examples/relaxation/compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rates():
    return _compare_module().load_rates()


@pytest.mark.parametrize(("L", "W", "r"), [(8, 20.0, 0), (8, 4.0, 299), (10, 12.0, 7), (12, 6.0, 3)])
def test_shipped_rates_reproduce_from_the_seed(rates, L, W, r):
    """Fields bitwise (integer-keyed streams); the rate to the accuracy of a dense eigensolver on
    another machine (its resolution, or 1e-8 relative)."""
    fields = seeds.draw_fields(int(rates.attrs["seed_entropy"]), L, W, r)
    point = rates.sel(L=L, W=W, realization=r)
    np.testing.assert_array_equal(fields.view(np.uint64), point.field.values[:L].view(np.uint64))
    again = weak_coupling_relaxation_rate(fields, delta=float(rates.attrs["delta"]), gamma=float(rates.attrs["gamma"]))
    stored = float(point.relaxation_rate)
    assert abs(again.rate - stored) <= max(1e-8 * stored, float(point.relaxation_resolution))


def test_every_shipped_rate_is_resolved_positive_and_below_the_dephasing_coefficient(rates):
    for L in rates.L.values:
        n = int(rates.n_realizations.sel(L=L))
        block = rates.sel(L=L).isel(realization=slice(0, n))
        g, res = block.relaxation_rate.values, block.relaxation_resolution.values
        assert np.all(np.isfinite(g)) and np.all(g > 0) and np.all(g <= float(rates.attrs["gamma"]) ** 2 / 2)
        assert np.all(res > 0)


def test_the_shipped_comparison_is_what_the_analysis_computes():
    module = _compare_module()
    text, figures = module.compare()
    assert text == (ROOT / "docs" / "results" / "relaxation.md").read_text()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert module.readme_with(readme, text) == readme, "README's relaxation section is stale: rerun compare.py"
    assert set(figures) == {"relaxation_ln_gamma", "relaxation_kappa"}
    for name in figures:
        assert (ROOT / "docs" / "figures" / f"{name}.png").stat().st_size > 0


def test_the_rate_runs_hold_the_threshold_runs_fields():
    """Same seed, so the same keyed fields: the pairing that t~ and Gamma per realization rely on."""
    with xr.open_dataset(ROOT / "datasets" / "paper" / "threshold_L8-10.nc") as t, \
            xr.open_dataset(RATES / "rates_L8-12.nc") as g:
        a = t.field.sel(L=8, W=[4.0, 10.0]).isel(realization=slice(0, 300), site=slice(0, 8)).values
        b = g.field.sel(L=8, W=[4.0, 10.0]).isel(realization=slice(0, 300), site=slice(0, 8)).values
        np.testing.assert_array_equal(a.view(np.uint64), b.view(np.uint64))


def test_the_shipped_anderson_table_is_what_its_script_computes():
    """Rows of docs/results/relaxation_anderson.csv recomputed from their seeds (the cheap sizes)."""
    spec = importlib.util.spec_from_file_location("relaxation_anderson", ROOT / "examples/relaxation/anderson.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = {(int(line.split(",")[0]), float(line.split(",")[1])): line
               for line in module.CSV.read_text().splitlines()[1:]}
    for L, W in [(4, 1.0), (8, 2.0), (8, 8.0)]:
        gamma2, resolution, _ = module.rates(L, W, module.N_REALIZATIONS)
        row = module.row(L, W, gamma2, resolution)
        assert shipped[(L, W)].split(",")[2:] == [
            str(row[c]) if isinstance(row[c], (int, np.integer)) else f"{row[c]:.6g}" for c in module.COLUMNS[2:]]
