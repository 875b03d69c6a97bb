"""The bath on any site: every engine and the exact references, against brute-force dense references."""

import numpy as np
import pytest
from dense_reference import dense_lindblad, dense_stepper_mean, dense_trajectory

import analysis
import ensemble
from ensemble import config
from ensemble.engines import REGISTRY
from ensemble.run import seeds
from ensemble.run.realization import realization_task, run_realization
from ensemble.run.spec import RunSpec

FIELDS = np.array([0.7, -1.2, 0.4, 1.5, -0.3, 0.9])


@pytest.mark.parametrize("site", [1, 3, 6])
@pytest.mark.parametrize("delta", [1.0, 0.0])
def test_kicked_trajectory_matches_dense(site, delta):
    spec = RunSpec.build(entropy=8, steps=(0, 4, 17, 50), delta=delta, gamma=1.4, bath_site=site)
    fields, out = run_realization(spec, 6, 2.0, 1)
    steps = np.array(spec.steps)
    etas = seeds.draw_etas(8, 6, 2.0, 1, int(steps[-1]), 0.05)
    ref = dense_trajectory(fields, etas, steps, delta=delta, gamma=1.4, tau=0.05, kick_site=site)
    np.testing.assert_allclose(out["sz"][1], ref, atol=1e-10)
    if site != 1:  # the reference would not catch a kick left on site 1
        wrong = dense_trajectory(fields, etas, steps, delta=delta, gamma=1.4, tau=0.05, kick_site=1)
        assert np.max(np.abs(out["sz"][1] - wrong)) > 1e-3


@pytest.mark.parametrize("site", [2, 5])
def test_references_follow_the_bath_site(site):
    steps = np.array([0, 7, 30, 80])
    for delta in (0.0, 1.0):
        mean = dense_stepper_mean(FIELDS, steps, delta=delta, gamma=1.1, tau=0.05, bath_site=site)
        np.testing.assert_allclose(
            ensemble.lindblad.stepper_mean(FIELDS, steps, delta=delta, gamma=1.1, bath_site=site), mean, atol=1e-10)
        times = steps * 0.05
        exact = dense_lindblad(FIELDS, times, delta=delta, gamma=1.1, bath_site=site)
        np.testing.assert_allclose(
            ensemble.lindblad.magnetization(FIELDS, times, delta=delta, gamma=1.1, bath_site=site), exact, atol=1e-9)
    np.testing.assert_allclose(ensemble.lindblad.averaged_magnetizations(FIELDS, steps, gamma=1.1, bath_site=site),
                               dense_stepper_mean(FIELDS, steps, delta=0.0, gamma=1.1, tau=0.05, bath_site=site),
                               atol=1e-10)


def test_bath_site_is_validated():
    with pytest.raises(ValueError, match="bath_site"):
        ensemble.lindblad.magnetization(FIELDS, [0.0, 1.0], delta=1.0, gamma=1.0, bath_site=7)
    with pytest.raises(ValueError, match="bath_site=5 lies outside the shortest chain"):
        ensemble.plan_grid(L=[4, 6], W=1.0, delta=1.0, t_final=1.0, n_realizations=1, bath_site=5)
    with pytest.raises(ValueError, match="bath.site must be >= 1"):
        config.to_run_grid_kwargs(config.resolve({"model": {"delta": 1.0}, "bath": {"site": 0},
                                                  "grid": {"L": 4, "W": 1.0, "n_realizations": 1, "t_final": 1.0}}))


def test_jump_mean_follows_the_bath_site():
    steps = np.array([0, 20, 60])
    spec = RunSpec.build(entropy=1, steps=tuple(steps), delta=1.0, gamma=1.0, unraveling="jump", bath_site=4)
    task = realization_task(spec, 6, 1.0, 0)
    task = type(task)(fields=FIELDS, up_sites=task.up_sites, steps=steps, chain=task.chain, bath=task.bath)
    runs = np.array([spec.resolved_engine().run(task, np.random.default_rng(k))["sz"][1] for k in range(500)])
    mean = dense_stepper_mean(FIELDS, steps, delta=1.0, gamma=1.0, tau=0.05, bath_site=4)
    err = runs.std(axis=0) / np.sqrt(runs.shape[0])
    assert np.all(np.abs(runs.mean(axis=0) - mean) < 5 * err + 1e-8)


def test_front_is_measured_from_the_bath_site(tmp_path):
    ds = ensemble.run_grid(L=6, W=1.0, delta=1.0, t_final=5.0, n_times=6, n_realizations=4, seed=2, bath_site=3,
                           client="synchronous", progress=False)
    assert ds.attrs["bath_site"] == 3 and "site 3 = bath site" in ds.attrs["conventions"]
    front = analysis.front(ds)
    dS = abs(ds.sz.isel(gamma=0) - ds.sz.isel(gamma=1)).mean("realization").isel(L=0, W=0).values
    t = -1
    expected = np.sum(np.abs(np.arange(1, 7) - 3) * dS[t]) / np.sum(dS[t])
    assert float(front["h"].isel(L=0, W=0, time=t)) == pytest.approx(expected, rel=1e-12)
    assert REGISTRY.get("manybody")


def test_reachable_from_the_cli(tmp_path):
    from ensemble.cli import main

    path = tmp_path / "run.toml"
    path.write_text('[model]\ndelta = 1.0\n[grid]\nL = 4\nW = 1.0\nn_realizations = 2\nt_final = 1.0\nn_times = 4\n'
                    '[run]\nseed = 3\nscheduler = "synchronous"\n')
    out = tmp_path / "out.nc"
    assert main(["run", str(path), "-o", str(out), "--set", "bath.site=2", "--set", 'run.observables=["entanglement"]',
                 "--quiet"]) == 0
    import xarray as xr

    with xr.open_dataset(out) as ds:
        assert ds.attrs["bath_site"] == 2 and "entanglement" in ds
        assert '"bath_site": 2' in ds.attrs["run_fingerprint"]
