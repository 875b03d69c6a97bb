"""Type-strict validation of every run parameter, and the cost and memory guards (API side)."""

import numpy as np
import pytest
import xarray as xr

import ensemble
from ensemble.run import cost
from ensemble.references import lindblad
from ensemble import validation
from ensemble.run.grid import plan_grid

BASE = dict(L=4, W=2.0, delta=1.0, t_final=5.0, n_realizations=2, client="synchronous", progress=False)


def _run(**change):
    return ensemble.run_grid(**{**BASE, **change})


class TestValidators:
    @pytest.mark.parametrize("value", [True, 4.0, 4.5, "4", None, [4]])
    def test_integer_refuses_non_integers(self, value):
        with pytest.raises(ValueError, match="n must be an integer"):
            validation.integer("n", value)

    def test_integer_accepts_numpy_integers_and_checks_range(self):
        assert validation.integer("n", np.int32(3), minimum=1) == 3
        assert type(validation.integer("n", np.int64(3))) is int
        with pytest.raises(ValueError, match="n must be >= 1; got 0"):
            validation.integer("n", 0, minimum=1)

    @pytest.mark.parametrize("value", [True, "2.0", None, float("nan"), float("inf"), 1j])
    def test_real_refuses_non_reals(self, value):
        with pytest.raises(ValueError, match="x must be"):
            validation.real("x", value)

    def test_real_list_sorts_and_refuses_strings_and_duplicates(self):
        assert validation.real_list("W", [5, 2.0, np.float32(3.5)]) == [2.0, 3.5, 5.0]
        assert validation.real_list("W", np.array(2.0)) == [2.0]
        with pytest.raises(ValueError, match="W must be a real number or a list of them; got '25'"):
            validation.real_list("W", "25")
        with pytest.raises(ValueError, match="duplicate"):
            validation.real_list("W", [2.0, 2])
        with pytest.raises(ValueError, match="1-D"):
            validation.real_list("W", np.ones((2, 2)))

    def test_boolean_and_choice(self):
        assert validation.boolean("e", np.bool_(True)) is True
        for bad in ("no", 0, 1):
            with pytest.raises(ValueError, match="e must be true or false"):
                validation.boolean("e", bad)
        with pytest.raises(ValueError, match=r"engine must be one of \('a', 'b'\)"):
            validation.choice("engine", ["a"], ("a", "b"))


class TestApiReproducers:
    """Strings, floats and bools are refused, never iterated or coerced."""

    @pytest.mark.parametrize(
        "change, match",
        [
            (dict(L="48"), "L must be an integer or a list of them; got '48'"),
            (dict(W="25"), "W must be a real number or a list of them"),
            (dict(W="2.0"), "W must be a real number or a list of them; got '2.0'"),
            (dict(L=4.5), "L must be an integer; got 4.5"),
            (dict(L=[4.0]), "L must be an integer; got 4.0"),
            (dict(W=[True]), "W must be a real number; got True"),
            (dict(batch_size=1.5), "batch_size must be an integer"),
            (dict(batch_size="2"), "batch_size must be an integer"),
            (dict(entanglement="no"), "entanglement must be true or false"),
            (dict(t_final="1"), "t_final must be a real number"),
            (dict(n_times=2.5), "n_times must be an integer"),
            (dict(t_final=None, times=[]), "times must not be empty"),
            (dict(n_realizations=2.0), "n_realizations .L=4. must be an integer"),
            (dict(n_realizations={4.0: 2}), "n_realizations key L must be an integer"),
            (dict(seed=1.0), "seed must be an integer"),
            (dict(seed=True), "seed must be an integer"),
            (dict(delta="1"), "delta must be a real number"),
            (dict(J=float("nan")), "J must be finite"),
            (dict(gamma=-1.0), "gamma must be > 0"),
            (dict(tau=-0.05), "tau must be > 0"),
            (dict(n_workers=0), "n_workers must be >= 1"),
            (dict(n_workers=-3), "n_workers must be >= 1"),
            (dict(omp_threads=0), "omp_threads must be >= 1"),
            (dict(max_memory=0.0), "max_memory must be > 0"),
            (dict(W=1e300), "W must be <= 1e"),
            (dict(n_times=10**9), "n_times must be <= 100000"),
        ],
    )
    def test_refused_with_the_parameter_named(self, change, match):
        with pytest.raises(ValueError, match=match):
            _run(**change)

    def test_numpy_scalars_and_ints_for_reals_are_accepted(self):
        ds = _run(L=np.int64(4), W=[np.float64(2.0)], delta=1, n_realizations={np.int64(4): 1})
        assert ds.sizes["realization"] == 1 and float(ds.W[0]) == 2.0


class TestCollidingW:
    def test_w_values_sharing_a_seed_key_are_refused(self):
        with pytest.raises(ValueError, match=r"W values 2.0 and 2.0000001 share the seed key .* = 2000000"):
            _run(W=[2.0, 2.0000001])

    def test_w_values_one_key_apart_run_and_differ(self):
        ds = _run(W=[2.0, 2.000001], n_realizations=1)
        a, b = ds.sz.isel(W=0).values, ds.sz.isel(W=1).values
        assert not np.isnan(a).any() and not np.isnan(b).any()
        assert not np.array_equal(ds.field.isel(W=0).values, ds.field.isel(W=1).values)


class TestGuards:
    def test_huge_w_on_the_many_body_engine(self):
        with pytest.raises(ValueError, match=r"Chebyshev order per step.*W=1e\+12"):
            _run(W=1e12)

    @pytest.mark.parametrize("change", [dict(delta=0.0, W=1e12), dict(delta=0.0, J=1e300), dict(gamma=1e300)])
    def test_phases_double_precision_cannot_resolve(self, change):
        with pytest.raises(ValueError, match="one step rotates phases by up to .* double precision resolves"):
            _run(**change)

    def test_strong_disorder_on_free_fermions_still_runs(self):
        ds = _run(delta=0.0, W=1000.0, L=20, n_realizations=1)
        assert np.isfinite(ds.sz.values).all()

    def test_huge_tau_and_t_final(self):
        with pytest.raises(ValueError, match="Chebyshev order per step.*tau=1e\\+15"):
            _run(tau=1e15, t_final=1e15)

    def test_too_many_steps(self):
        with pytest.raises(ValueError, match=r"t_final / tau = 1e\+09 steps exceeds"):
            _run(t_final=5e7)

    def test_too_many_matvecs(self):
        with pytest.raises(ValueError, match="H0 applications"):
            _run(W=1000.0, t_final=1e6)

    @pytest.mark.parametrize("L, engine", [(26, "many-body"), (40, "many-body")])
    def test_memory_per_realization(self, L, engine):
        with pytest.raises(ValueError, match=f"one realization at L={L} .{engine} engine.*needs ~.* MiB, more than"):
            _run(L=L, max_memory=4.0)

    def test_memory_against_the_machine(self, monkeypatch):
        monkeypatch.setattr(cost, "available_memory", lambda: 1000)
        with pytest.raises(ValueError, match="available on this machine"):
            _run(L=12)

    def test_dataset_memory(self):
        with pytest.raises(ValueError, match="the Dataset .* needs"):
            plan_grid(L=4, W=2.0, delta=1.0, t_final=5.0, n_realizations=10**9, max_memory=1.0)

    def test_plan_allocates_nothing_and_reports_estimates(self):
        plan = plan_grid(L=[8, 10], W=[2.0, 8.0], delta=1.0, t_final=200.0, n_times=40, n_realizations=4, seed=1)
        assert len(plan.steps) == 37  # n_times is an upper bound: early times merge on the step grid
        assert plan.verdicts[10].engine == "manybody" and plan.verdicts[10].matvecs > 4000
        assert plan.verdicts[10].memory > plan.verdicts[8].memory > 0

    def test_lindblad_refuses_absurd_times(self):
        f = np.array([0.3, -0.2, 0.5, 0.1])
        for delta in (0.0, 1.0):
            with pytest.raises(ValueError, match="generator applications to reach t=1e\\+300"):
                lindblad.magnetization(f, [0.0, 1e300], delta=delta, gamma=1.0)
            with pytest.raises(ValueError, match="stepper mean would take"):
                lindblad.stepper_mean(f, [0, 10**12], delta=delta, gamma=1.0)


class TestNumbersUnchanged:
    """The random draws still follow the shipped data's seed scheme, and the physics agrees with it."""

    def test_quickstart_dataset(self):
        from pathlib import Path

        shipped = xr.load_dataset(Path(__file__).resolve().parents[1] / "datasets" / "quickstart.nc")
        ds = ensemble.run_grid(L=8, W=[2.0, 8.0], delta=1.0, gamma=1.0, tau=0.05, t_final=200.0, n_times=40,
                               n_realizations=2, seed=20240501, client="synchronous", progress=False)
        stored = shipped.sel(L=8, W=[2.0, 8.0]).isel(realization=slice(0, 2), site=slice(0, 8))
        np.testing.assert_array_equal(ds.field.isel(L=0).values, stored.field.values)  # seeds: bitwise
        np.testing.assert_array_equal(ds.step.values, stored.step.values)
        np.testing.assert_allclose(ds.sz.isel(L=0).values, stored.sz.values, rtol=0, atol=1e-12)
