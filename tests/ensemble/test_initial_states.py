"""Initial product states beyond Néel: domain wall and random product, engines and the imbalance."""

from collections import Counter

import numpy as np
import pytest
from dense_reference import dense_stepper_mean, dense_trajectory

import analysis
import ensemble
from ensemble import config
from ensemble.models.initial_states import STATES, spins
from ensemble.models.initial_states.product_states import DomainWall, RandomProduct
from ensemble.run import seeds
from ensemble.run.realization import realization_task, run_realization
from ensemble.run.spec import RunSpec


def test_domain_wall_and_neel_sites():
    np.testing.assert_array_equal(DomainWall().up_sites(8), [0, 1, 2, 3])
    np.testing.assert_array_equal(STATES.get("neel")().up_sites(8), [0, 2, 4, 6])
    np.testing.assert_array_equal(spins(4, [0, 1]), [0.5, 0.5, -0.5, -0.5])


def test_random_product_is_uniform_over_the_sector_and_keyed():
    counts = Counter(tuple(RandomProduct().up_sites(4, seeds.initial_rng(2, 4, 1.0, r))) for r in range(3000))
    assert len(counts) == 6  # binom(4, 2) configurations, each L/2 up
    expected = 3000 / 6
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 20.5  # 5 degrees of freedom: P(chi2 > 20.5) ~ 1e-3
    a = RandomProduct().up_sites(10, seeds.initial_rng(2, 10, 1.0, 7))
    assert np.array_equal(a, RandomProduct().up_sites(10, seeds.initial_rng(2, 10, 1.0, 7)))
    assert a.size == 5 and np.unique(a).size == 5
    with pytest.raises(ValueError, match="needs the realization's generator"):
        RandomProduct().up_sites(4, None)


def test_the_random_start_has_its_own_stream():
    """Choosing the random start changes neither the disorder nor the noise of a realization."""
    neel = RunSpec.build(entropy=4, steps=(0, 5, 20), delta=1.0, gamma=1.0)
    rand = RunSpec.build(entropy=4, steps=(0, 5, 20), delta=1.0, gamma=1.0, initial=RandomProduct())
    t0, t1 = realization_task(neel, 8, 3.0, 1), realization_task(rand, 8, 3.0, 1)
    np.testing.assert_array_equal(t0.fields, t1.fields)
    starts = {tuple(realization_task(rand, 8, 3.0, r).up_sites) for r in range(6)}
    assert len(starts) > 1


@pytest.mark.parametrize("initial", [DomainWall(), RandomProduct()], ids=["domain-wall", "random-product"])
@pytest.mark.parametrize("delta", [1.0, 0.0])
def test_engines_from_product_starts_match_the_dense_reference(initial, delta):
    spec = RunSpec.build(entropy=6, steps=(0, 2, 9, 30), delta=delta, gamma=1.3, initial=initial)
    task = realization_task(spec, 6, 2.5, 3)
    fields, out = run_realization(spec, 6, 2.5, 3)
    steps = np.array(spec.steps)
    ref = dense_trajectory(fields, np.zeros(int(steps[-1])), steps, delta=delta, gamma=0.0, tau=0.05,
                           up_sites=task.up_sites)
    np.testing.assert_allclose(out["sz"][0], ref, atol=1e-10)
    etas = seeds.draw_etas(6, 6, 2.5, 3, int(steps[-1]), 0.05)
    kicked = dense_trajectory(fields, etas, steps, delta=delta, gamma=1.3, tau=0.05, up_sites=task.up_sites)
    np.testing.assert_allclose(out["sz"][1], kicked, atol=1e-10)
    np.testing.assert_array_equal(out["sz"][:, 0], np.broadcast_to(spins(6, task.up_sites), (2, 6)))


def test_jump_and_averaged_engines_follow_the_start():
    """Means over noise of jump trajectories, and the averaged engine, against the dense stepper mean."""
    steps = np.array([0, 10, 40])
    up = DomainWall().up_sites(6)
    fields = np.array([0.3, -1.0, 0.8, 0.1, -0.4, 0.9])
    mean = dense_stepper_mean(fields, steps, delta=0.0, gamma=1.0, tau=0.05, up_sites=up)
    np.testing.assert_allclose(
        ensemble.lindblad.averaged_magnetizations(fields, steps, gamma=1.0, up_sites=up), mean, atol=1e-10)
    spec = RunSpec.build(entropy=1, steps=tuple(steps), delta=0.0, gamma=1.0, engine="manybody",
                         unraveling="jump", initial=DomainWall())
    engine = spec.resolved_engine()
    task = realization_task(spec, 6, 1.0, 0)
    task = type(task)(fields=fields, up_sites=up, steps=steps, chain=task.chain, bath=task.bath)
    runs = np.array([engine.run(task, np.random.default_rng(k))["sz"][1] for k in range(600)])
    err = runs.std(axis=0) / np.sqrt(runs.shape[0])
    # 1e-8: the propagation error budget (1e-12 per step, at most 1e-9 per interval between flips)
    assert np.all(np.abs(runs.mean(axis=0) - mean) < 5 * err + 1e-8)


def test_imbalance_is_one_at_t0_for_every_start_and_follows_the_signs():
    for initial in ("neel", "domain-wall", "random-product"):
        ds = ensemble.run_grid(L=[4, 6], W=1.0, delta=1.0, t_final=2.0, n_times=6, n_realizations=3, seed=2,
                               initial_state=initial, client="synchronous", progress=False)
        assert ds.attrs["initial_state"] == initial
        I = analysis.imbalance(ds)
        np.testing.assert_array_equal(I.isel(time=0).values, 1.0)
        # independent: s_j from the realization's own start, then (2/L) sum_j s_j Sz_j(t)
        spec = RunSpec.build(entropy=2, steps=tuple(ds.step.values), delta=1.0, gamma=1.0,
                             initial=STATES.get(initial)())
        for L in (4, 6):
            for r in range(3):
                s = 2 * spins(L, realization_task(spec, L, 1.0, r).up_sites)
                direct = 2.0 / L * ds.sz.sel(L=L, W=1.0, realization=r).values[..., :L] @ s
                np.testing.assert_allclose(I.sel(L=L, W=1.0, realization=r).values, direct, atol=1e-14)


def test_imbalance_refuses_a_start_whose_t0_is_not_a_product_state():
    ds = ensemble.run_grid(L=4, W=1.0, delta=1.0, t_final=1.0, n_times=4, n_realizations=2, seed=2,
                           initial_state="domain-wall", client="synchronous", progress=False)
    bad = ds.copy(deep=True)
    bad["sz"][..., 0, 0] = 0.3
    with pytest.raises(ValueError, match="not those of a product state"):
        analysis.imbalance(bad)


def test_reachable_from_config_and_cli(tmp_path):
    from ensemble.cli import main

    path = tmp_path / "run.toml"
    path.write_text('[model]\ndelta = 1.0\n[grid]\nL = 4\nW = 1.0\nn_realizations = 2\nt_final = 1.0\nn_times = 4\n'
                    '[run]\nseed = 3\nworkers = 1\nscheduler = "synchronous"\n')
    out = tmp_path / "out.nc"
    assert main(["run", str(path), "-o", str(out), "--set", "initial.state=domain-wall"]) == 0
    import xarray as xr

    with xr.open_dataset(out) as ds:
        assert ds.attrs["initial_state"] == "domain-wall"
        np.testing.assert_array_equal(ds.sz.isel(time=0, gamma=0, L=0, W=0).values[:, :4],
                                      np.broadcast_to([0.5, 0.5, -0.5, -0.5], (2, 4)))
    base = {"model": {"delta": 1.0}, "grid": {"L": 4, "W": 1.0, "n_realizations": 1, "t_final": 1.0}}
    cfg = config.resolve({**base, "initial": {"state": "random-product"}})
    assert config.to_run_grid_kwargs(cfg)["initial_state"] == RandomProduct()
    with pytest.raises(ValueError, match="unknown initial state 'ferro'"):
        config.to_run_grid_kwargs(config.resolve({**base, "initial": {"state": "ferro"}}))
