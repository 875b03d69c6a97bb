"""Contract tests, parametrised over the registries: a new engine, bath, observable, disorder law or
initial state is picked up here without touching this file."""

import numpy as np
import pytest
import xarray as xr
from dense_reference import dense_stepper_mean, dense_trajectory

import ensemble
from ensemble.engines import REGISTRY
from ensemble.models.baths import BATHS
from ensemble.models.disorder import LAWS
from ensemble.models.initial_states import STATES, spins
from ensemble.observables import OBSERVABLES, dataset_dims
from ensemble.run import seeds
from ensemble.run.realization import realization_task, run_batch, run_realization
from ensemble.run.spec import RunSpec

L, W, STEPS = 6, 2.0, (0, 3, 12, 40)


def _spec_for(engine_name: str, **extra) -> RunSpec:
    """A spec that the registered engine ``engine_name`` runs (Delta = 0 where it needs free fermions)."""
    cls = REGISTRY.get(engine_name)
    for delta in (1.0, 0.0):
        try:
            spec = RunSpec.build(entropy=21, steps=STEPS, delta=delta, gamma=1.2, engine=cls.NAME,
                                 unraveling=cls.UNRAVELING, noise=cls.NOISE, **extra)
        except ValueError:
            continue
        if type(spec.resolved_engine()) is cls:
            return spec
    pytest.skip(f"no small test configuration for the engine {engine_name!r}")


@pytest.mark.parametrize("name", REGISTRY.names())
def test_every_engine_against_the_dense_reference(name):
    spec = _spec_for(name)
    engine = spec.resolved_engine()
    fields, out = run_realization(spec, L, W, 4)
    steps = np.asarray(STEPS)
    delta = spec.chain.delta
    noiseless = dense_trajectory(fields, np.zeros(steps[-1]), steps, delta=delta, gamma=0.0, tau=0.05)
    np.testing.assert_allclose(out["sz"][0], noiseless, atol=1e-10)
    mean = dense_stepper_mean(fields, steps, delta=delta, gamma=1.2, tau=0.05)
    if engine.EXACT_FOR == "trajectories":  # each trajectory is the paper's: compare one, noise for noise
        etas = seeds.draw_etas(21, L, W, 4, int(steps[-1]), 0.05)
        np.testing.assert_allclose(out["sz"][1], dense_trajectory(fields, etas, steps, delta=delta, gamma=1.2,
                                                                  tau=0.05), atol=1e-10)
    task = realization_task(spec, L, W, 4)
    runs = np.array([engine.run(task, np.random.default_rng(k))["sz"][1] for k in range(300)])
    err = runs.std(axis=0) / np.sqrt(runs.shape[0])
    assert np.all(np.abs(runs.mean(axis=0) - mean) < 5 * err + 1e-8)  # the noise mean is the stepper mean


@pytest.mark.parametrize("name", REGISTRY.names())
def test_every_engine_is_keyed(name):
    """A realization's numbers do not depend on its batch: bitwise, or (engines that evolve a batch as one
    block, whose BLAS and SIMD kernels may sum in another order for another block width) to 1e-14."""
    spec = _spec_for(name)
    engine = spec.resolved_engine()
    same = (np.testing.assert_array_equal if engine.BITWISE_ACROSS_BATCHES
            else lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-14))
    batch = run_batch(spec, L, W, (0, 1, 2))
    for k, r in enumerate((0, 1, 2)):
        fields, out = run_realization(spec, L, W, r)
        np.testing.assert_array_equal(batch["field"][k], fields)
        for obs in spec.observables:
            same(batch[obs][k], out[obs])
    same(run_batch(spec, L, W, (1, 2))["sz"], batch["sz"][1:])
    np.testing.assert_array_equal(run_batch(spec, L, W, (0, 1, 2))["sz"], batch["sz"])  # same batch: bitwise


@pytest.mark.parametrize("kind", BATHS.names())
@pytest.mark.parametrize("site", [1, 4])
def test_every_bath_mean_matches_the_exact_references(kind, site):
    """The kick trajectories' mean over noise is the exact stepper mean (and the package's reference)."""
    spec = RunSpec(entropy=3, steps=STEPS, chain=RunSpec.build(entropy=3, steps=STEPS, delta=1.0, gamma=1.0).chain,
                   bath=BATHS.get(kind)(site=site), engine="manybody")
    task = realization_task(spec, L, W, 0)
    engine = spec.resolved_engine()
    runs = np.array([engine.run(task, np.random.default_rng(k))["sz"][1] for k in range(300)])
    mean = dense_stepper_mean(task.fields, np.asarray(STEPS), delta=1.0, gamma=spec.bath.gamma, tau=spec.bath.tau,
                              bath_site=site)
    err = runs.std(axis=0) / np.sqrt(runs.shape[0])
    assert np.all(np.abs(runs.mean(axis=0) - mean) < 5 * err + 1e-8)
    np.testing.assert_allclose(ensemble.lindblad.stepper_mean(task.fields, STEPS, delta=1.0, gamma=spec.bath.gamma,
                                                              bath_site=site), mean, atol=1e-10)


@pytest.mark.parametrize("law", LAWS.names())
@pytest.mark.parametrize("state", STATES.names())
def test_every_law_and_start_is_keyed_and_starts_at_imbalance_one(law, state):
    kw = dict(L=[4, 6], W=1.5, delta=1.0, t_final=1.0, n_times=4, n_realizations=3, seed=5, disorder=law,
              initial_state=state, client="synchronous", progress=False)
    a = ensemble.run_grid(**kw)
    b = ensemble.run_grid(**{**kw, "L": [6], "n_realizations": 2, "batch_size": 1})  # other grid and batching
    np.testing.assert_array_equal(a.sz.sel(L=6).isel(realization=slice(0, 2)).values, b.sz.sel(L=6).values)
    import analysis

    np.testing.assert_array_equal(analysis.imbalance(a).isel(time=0).values, 1.0)
    spec = RunSpec.build(entropy=5, steps=tuple(a.step.values), delta=1.0, gamma=1.0, disorder=LAWS.get(law)(),
                         initial=STATES.get(state)())
    task = realization_task(spec, 6, 1.5, 2)
    np.testing.assert_array_equal(a.sz.sel(L=6, realization=2).isel(W=0, gamma=0, time=0).values,
                                  spins(6, task.up_sites))


@pytest.mark.parametrize("name", OBSERVABLES.names())
def test_every_observable_round_trips_checkpoints_and_netcdf(name, tmp_path):
    obs = OBSERVABLES.get(name)
    kw = dict(L=[4, 6], W=1.0, delta=1.0, t_final=1.0, n_times=4, n_realizations=3, seed=6, observables=[name],
              client="synchronous", progress=False, batch_size=1)
    full = ensemble.run_grid(checkpoint=tmp_path / "ck", **kw)
    base = ("L", "W", "realization") if obs.PER_REALIZATION else ("L", "W", "gamma", "realization", "time")
    assert full[name].dims == dataset_dims(name) == (*base, *obs.DIMS)
    assert full[name].attrs["long_name"] == obs.LONG_NAME and full[name].attrs["units"] == obs.UNITS
    # a resume from the checkpoint alone reproduces every observable bitwise
    for part in sorted((tmp_path / "ck").glob("part-*.nc"))[1:]:
        with xr.open_dataset(part) as p:
            assert name in p
    resumed = ensemble.run_grid(checkpoint=tmp_path / "ck", **kw)
    np.testing.assert_array_equal(resumed[name].values, full[name].values)
    full.to_netcdf(tmp_path / "out.nc")
    with xr.open_dataset(tmp_path / "out.nc") as back:
        np.testing.assert_array_equal(back[name].values, full[name].values)
        ensemble.validate_dataset(back)


@pytest.mark.parametrize("name", REGISTRY.names())
def test_every_engine_answers_for_its_cost(name):
    """Time and memory come from the selected engine itself (the cost guard asks it, never a copy of the
    selection rules): positive and growing with L."""
    engine = _spec_for(name).resolved_engine()
    assert 0 < engine.seconds(8, 100) < engine.seconds(12, 100)
    assert 0 < engine.working_bytes(8) < engine.working_bytes(12)
