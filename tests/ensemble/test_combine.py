"""ensemble.combine: sub-runs of one ensemble merge into exactly the single run of the same grid."""

import json

import numpy as np
import pytest
import xarray as xr

import ensemble
from ensemble.io.combine import OVERLAP_TOLERANCE

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

    def test_overlap_beyond_the_tolerance_is_refused(self, whole):
        altered = whole.copy(deep=True)
        altered["sz"][0, 1, 1, 2, 3, 0] += 10 * OVERLAP_TOLERANCE
        with pytest.raises(ValueError, match=r"differs .* on sz at L=4, W=5 .* by up to 1e-09, beyond the tolerance"):
            ensemble.combine([whole, altered])

    def test_overlap_with_nan_where_a_number_is_held_is_refused(self, whole):
        """A NaN inside a run realization is no run's output: refused before any overlap is compared."""
        altered = whole.copy(deep=True)
        altered["sz"][0, 1, 1, 2, 3, 0] = np.nan
        with pytest.raises(ValueError, match="sz at L=4 holds non-finite values where realizations were run"):
            ensemble.combine([whole, altered])

    def test_overlap_within_the_tolerance_is_merged_and_recorded(self, whole, tmp_path):
        # last-bit differences (another CPU, a batched engine) on one realization of one block
        altered = whole.copy(deep=True)
        altered["sz"][0, 1, 1, 2, 3, 0] += 3e-12
        altered["field"][1, 0, 1, 2] -= 1e-13
        merged = ensemble.combine([whole, altered])
        _bitwise(merged, whole)  # the earlier source's values are kept
        assert merged.attrs["overlap"] == "within tolerance"
        assert merged.attrs["overlap_max_abs_difference"] == pytest.approx(3e-12, rel=1e-3)
        assert merged.attrs["overlap_tolerance"] == OVERLAP_TOLERANCE
        # the record survives netCDF and a further combine with a bitwise-equal source
        merged.to_netcdf(tmp_path / "merged.nc")
        again = ensemble.combine([tmp_path / "merged.nc", whole])
        assert again.attrs["overlap"] == "within tolerance"
        assert again.attrs["overlap_max_abs_difference"] == merged.attrs["overlap_max_abs_difference"]

    def test_bitwise_and_disjoint_sources_say_so(self, whole):
        assert ensemble.combine([whole, whole]).attrs["overlap"] == "bitwise"
        disjoint = ensemble.combine([whole.sel(W=[1.0]), whole.sel(W=[5.0])])
        assert disjoint.attrs["overlap"] == "none"
        assert disjoint.attrs["overlap_max_abs_difference"] == 0.0

    def test_a_later_source_with_more_realizations_keeps_the_earlier_overlap(self, whole):
        fewer = whole.copy(deep=True)
        fewer["sz"][:, :, :, 2:] = np.nan
        fewer["field"][:, :, 2:] = np.nan
        fewer["n_realizations"][:] = 2
        fewer["sz"][0, 0, 1, 0, 3, 0] += 1e-12
        merged = ensemble.combine([fewer, whole])
        assert merged["sz"].values[0, 0, 1, 0, 3, 0] == fewer["sz"].values[0, 0, 1, 0, 3, 0]
        np.testing.assert_array_equal(merged["sz"].values[:, :, :, 2:], whole["sz"].values[:, :, :, 2:])

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
