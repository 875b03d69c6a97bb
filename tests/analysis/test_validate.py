"""Bad input gives a ValueError that names what is missing."""
from __future__ import annotations

import numpy as np
import pytest

import analysis
from analysis import fit_front, fit_threshold_scaling, front, imbalance, relative_imbalance, report, threshold_time


@pytest.fixture
def ds(synth):
    t = synth.log_times(6)
    ones = np.ones((1, 1, 2, t.size))
    return synth.from_imbalance(ones, ones, L=[4], W=[1.0], times=t)


class TestBadInput:
    @pytest.mark.parametrize("fn", [imbalance, relative_imbalance, front, report, threshold_time, analysis.collapse])
    def test_missing_sz(self, ds, fn):
        with pytest.raises(ValueError, match="sz"):
            fn(ds.drop_vars("sz"))

    @pytest.mark.parametrize("dim", ["realization", "site", "time"])
    def test_missing_dim(self, ds, dim):
        bad = ds.isel({dim: 0}, drop=True)
        with pytest.raises(ValueError, match=dim):
            imbalance(bad)
        with pytest.raises(ValueError, match=dim):
            front(bad)

    def test_gamma_must_start_at_zero(self, ds):
        with pytest.raises(ValueError, match="gamma"):
            relative_imbalance(ds.assign_coords(gamma=[0.5, 1.0]))

    def test_not_a_dataset(self):
        with pytest.raises(ValueError, match="Dataset"):
            imbalance(np.zeros(3))  # type: ignore[arg-type]

    def test_fit_inputs(self, ds):
        h = front(ds)["h"]
        with pytest.raises(ValueError, match="time"):
            fit_front(h.isel(time=0), 1.0, 10.0)
        with pytest.raises(ValueError, match="L"):
            fit_front(h.drop_vars("L"), 1.0, 10.0)
        with pytest.raises(ValueError, match="t_tilde"):
            fit_threshold_scaling(ds)
        with pytest.raises(ValueError, match="Ir"):
            threshold_time(ds.drop_vars("sz").assign(x=1.0))

    def test_analysis_never_imports_ensemble(self):
        import pathlib
        for path in pathlib.Path(analysis.__file__).parent.glob("*.py"):
            assert "ensemble" not in "".join(
                line for line in path.read_text().splitlines(True) if line.lstrip().startswith(("import", "from"))
            ), path.name
