"""Every file the project ships opens everywhere: `report`, the ``ds.avalanche`` accessor and `combine`.

The shipped files span every kind the project writes (full runs, combined campaigns, reduced
per-realization-imbalance files) and every schema version (files written before the schema was
versioned lack attributes added since). Each is reported through the CLI, analysed through the
accessor and combined with itself; the quickstart file is also combined with a fresh run of a few
realizations of its own config, which must agree with it within the combine tolerance.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import analysis  # noqa: F401  (registers ds.avalanche)
import ensemble
from analysis.schema import SCHEMA_VERSION, migrate, schema_version
from ensemble import config
from ensemble.cli import main
from ensemble.io.combine import OVERLAP_TOLERANCE

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
SHIPPED = sorted(DATASETS.rglob("*.nc"))
#: attributes every current Dataset records (the analysis and combine read them).
CURRENT_ATTRS = ("entanglement", "observables", "disorder_law", "initial_state", "bath_kind", "bath_site",
                 "engine_name", "schema_version")


def _load(path: Path) -> xr.Dataset:
    with xr.open_dataset(path) as opened:
        return opened.load()


def test_the_shipped_files_include_old_versions_and_reduced_files():
    kinds = {("sz" in _load(p).data_vars, schema_version(_load(p))) for p in SHIPPED}
    assert (True, 1) in kinds and (False, 1) in kinds


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(DATASETS)))
def test_report_accepts_every_shipped_file(path, capsys):
    assert main(["report", str(path), "--n-resamples", "20"]) == 0
    out = capsys.readouterr().out
    assert "Per (L, W):" in out and "Per W, per L and global:" in out


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(DATASETS)))
def test_every_shipped_file_migrates_analyses_and_combines_with_itself(path):
    raw = _load(path)
    ds = migrate(raw)
    assert ds.attrs["schema_version"] == SCHEMA_VERSION and all(k in ds.attrs for k in CURRENT_ATTRS)
    assert "schema_version" not in raw.attrs or raw.attrs["schema_version"] == SCHEMA_VERSION  # input untouched
    ir = ds.avalanche.relative_imbalance()
    assert set(ir["L"].values) == set(ds["L"].values)
    tt = ds.avalanche.threshold_time()
    assert (np.isfinite(tt["t_tilde"].values) | tt["censored"].values).all()  # a time, or censored
    if "sz" in ds.data_vars:
        order = "abs-then-mean" if ds.attrs["unraveling"] == "kick" else "mean-then-abs"  # jump: means only
        h = ds.avalanche.front(order=order)["h"].isel(time=-1).values
        if ds.sizes["time"] > 2:
            assert np.isfinite(h).all()
        else:  # a relaxation-rate run evolves one step: the front is undefined there, NaN by its rule
            assert np.isnan(h).all()
    else:
        with pytest.raises(ValueError, match="reduced"):
            ds.avalanche.front()
    both = ensemble.combine([path, path])
    assert both.attrs["overlap"] == "bitwise" and both.attrs["schema_version"] == SCHEMA_VERSION
    name = "sz" if "sz" in ds.data_vars else "imbalance"
    np.testing.assert_array_equal(both[name].values, raw[name].values)


def test_version_one_attributes_are_migrated_to_the_values_those_runs_had():
    raw = _load(DATASETS / "quickstart.nc")
    assert schema_version(raw) == 1 and "entanglement" not in raw.attrs
    ds = migrate(raw)
    assert {k: ds.attrs[k] for k in CURRENT_ATTRS} == {
        "entanglement": 0, "observables": "sz", "disorder_law": "uniform", "initial_state": "neel",
        "bath_kind": "dephasing", "bath_site": 1, "engine_name": "manybody", "schema_version": SCHEMA_VERSION}
    assert ds.attrs["schema_migrated_from"] == 1
    # what a file recorded is kept: a version-1 file with the entropy flag keeps it
    flagged = raw.assign_attrs(entanglement=1)
    assert migrate(flagged).attrs["observables"] == "sz,entanglement"


def test_a_newer_schema_version_is_refused(tmp_path, capsys):
    newer = _load(DATASETS / "quickstart.nc").assign_attrs(schema_version=SCHEMA_VERSION + 1)
    with pytest.raises(ValueError, match="newer than this mbl-avalanche reads"):
        migrate(newer)
    newer.to_netcdf(tmp_path / "newer.nc")
    assert main(["report", str(tmp_path / "newer.nc"), "--n-resamples", "20"]) == 2
    assert "upgrade mbl-avalanche" in capsys.readouterr().err
    with pytest.raises(ValueError, match="upgrade"):
        ensemble.combine([tmp_path / "newer.nc"])


def test_fresh_runs_record_the_schema_version():
    ds = ensemble.run_grid(L=[4], W=[1.0], n_realizations=1, delta=1.0, gamma=1.0, t_final=1.0, n_times=3, seed=1,
                           client="synchronous", progress=False)
    assert ds.attrs["schema_version"] == SCHEMA_VERSION
    assert migrate(ds) is ds


def test_the_shipped_quickstart_combines_with_a_fresh_run_of_its_own_config():
    shipped = _load(DATASETS / "quickstart.nc")
    cfg = tomllib.loads(shipped.attrs["config"])
    cfg["grid"].update(L=[8], W=[8.0], n_realizations=2)  # two realizations of one block: cheap
    kwargs = config.to_run_grid_kwargs(config.resolve(cfg))
    kwargs.pop("n_workers", None)
    fresh = ensemble.run_grid(client="synchronous", progress=False, **kwargs)
    merged = ensemble.combine([DATASETS / "quickstart.nc", fresh])
    assert merged.attrs["overlap"] in ("bitwise", "within tolerance")
    assert merged.attrs["overlap_max_abs_difference"] <= OVERLAP_TOLERANCE
    np.testing.assert_array_equal(merged["sz"].values, shipped["sz"].values)
    np.testing.assert_array_equal(merged["n_realizations"].values, shipped["n_realizations"].values)


def test_a_combined_campaign_file_and_an_old_plus_fresh_combine_go_through_the_cli(tmp_path, capsys):
    parts = [DATASETS / "paper" / "threshold_L16_W2.nc", DATASETS / "paper" / "threshold_L16_W4.nc"]
    assert main(["combine", *map(str, parts), "-o", str(tmp_path / "L16.nc")]) == 0
    assert "overlap: none" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "L16.nc"), "--n-resamples", "20"]) == 0
    assert "| 16  | 2 " in capsys.readouterr().out
    # the shipped version-1 quickstart with a version-2 file of the same run (its own copy, migrated)
    migrate(_load(DATASETS / "quickstart.nc")).to_netcdf(tmp_path / "q2.nc")
    assert main(["combine", str(DATASETS / "quickstart.nc"), str(tmp_path / "q2.nc"), "-o",
                 str(tmp_path / "q.nc")]) == 0
    assert "overlap: bitwise" in capsys.readouterr().err
