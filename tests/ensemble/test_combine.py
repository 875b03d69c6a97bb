"""ensemble.combine: sub-runs of one ensemble merge into exactly the single run of the same grid."""

import json

import numpy as np
import pytest
import xarray as xr

import ensemble

BASE = dict(delta=1.0, gamma=1.0, t_final=5.0, n_times=6, seed=77, client="synchronous", progress=False)


def _run(**kw) -> xr.Dataset:
    return ensemble.run_grid(**{**BASE, **kw})


@pytest.fixture(scope="module")
def whole() -> xr.Dataset:
    return _run(L=[4, 6], W=[1.0, 5.0], n_realizations={4: 4, 6: 3})


def _bitwise(a: xr.Dataset, b: xr.Dataset) -> None:
    for name in ("sz", "field", "n_realizations"):
        assert a[name].dims == b[name].dims
        np.testing.assert_array_equal(a[name].values, b[name].values)
    for name in ("L", "W", "gamma", "realization", "time", "step", "site"):
        np.testing.assert_array_equal(a[name].values, b[name].values)


class TestCombine:
    def test_disjoint_blocks_and_more_realizations_equal_one_run(self, whole, tmp_path):
        # L = 4 in two W blocks, the first with fewer realizations plus an overlapping larger run;
        # L = 6 alone (its site axis is the longer one).
        parts = [
            _run(L=[4], W=[1.0], n_realizations=2),
            _run(L=[4], W=[1.0], n_realizations=4),
            _run(L=[4], W=[5.0], n_realizations=4),
            _run(L=[6], W=[1.0, 5.0], n_realizations=3),
        ]
        paths = []
        for k, part in enumerate(parts):
            paths.append(tmp_path / f"part{k}.nc")
            part.to_netcdf(paths[-1])
        combined = ensemble.combine(paths)
        _bitwise(combined, whole)
        sources = json.loads(combined.attrs["sources"])
        assert [s["source"] for s in sources] == [str(p) for p in paths]
        assert sources[3]["L"] == [6]
        # the result round-trips through netCDF and combines with itself
        combined.to_netcdf(tmp_path / "all.nc")
        _bitwise(ensemble.combine([tmp_path / "all.nc", paths[0]]), whole)

    def test_other_seed_is_refused_naming_the_attribute(self, whole):
        other = _run(L=[4], W=[1.0], n_realizations=2, seed=78)
        with pytest.raises(ValueError, match="seed_entropy"):
            ensemble.combine([whole, other])

    def test_other_sample_times_are_refused(self, whole):
        other = _run(L=[4], W=[1.0], n_realizations=2, t_final=10.0)
        with pytest.raises(ValueError, match="not the same run"):
            ensemble.combine([whole, other])

    def test_overlap_with_different_values_is_refused(self, whole):
        altered = whole.copy(deep=True)
        altered["sz"][0, 1, 1, 2, 3, 0] += 1e-15
        with pytest.raises(ValueError, match=r"disagrees .* on sz at L=4, W=5"):
            ensemble.combine([whole, altered])

    def test_ragged_union_is_refused(self):
        a = _run(L=[4], W=[1.0], n_realizations=2)
        b = _run(L=[4], W=[5.0], n_realizations=3)
        with pytest.raises(ValueError, match="different realization counts"):
            ensemble.combine([a, b])

    def test_unreadable_source_names_the_file(self, tmp_path):
        bad = tmp_path / "bad.nc"
        bad.write_text("not netCDF")
        with pytest.raises(ValueError, match="bad.nc"):
            ensemble.combine([bad])


class TestCombineCommand:
    def test_cli_writes_the_combined_file_and_refuses_a_foreign_run(self, whole, tmp_path, capsys):
        from ensemble.cli import main

        a, b, c = tmp_path / "a.nc", tmp_path / "b.nc", tmp_path / "c.nc"
        whole.sel(W=[1.0]).to_netcdf(a)
        whole.sel(W=[5.0]).to_netcdf(b)
        assert main(["combine", str(a), str(b), "-o", str(tmp_path / "all.nc")]) == 0
        with xr.open_dataset(tmp_path / "all.nc") as ds:
            _bitwise(ds.load(), whole)
        assert main(["combine", str(a), "-o", str(tmp_path / "all.nc")]) == 2
        assert "exists" in capsys.readouterr().err
        _run(L=[4], W=[1.0], n_realizations=2, delta=0.5).to_netcdf(c)
        assert main(["combine", str(a), str(c), "-o", str(tmp_path / "x.nc")]) == 2
        err = capsys.readouterr().err.strip()
        assert "delta" in err and "\n" not in err and not (tmp_path / "x.nc").exists()
