"""The quasi-periodic (Aubry-André) field law: formula, keyed phase, and a run against dense references."""

import math

import numpy as np
import pytest
from dense_reference import dense_exact, dense_trajectory

import ensemble
from ensemble import config
from ensemble.models.disorder import LAWS
from ensemble.models.disorder.aubry_andre import GOLDEN, AubryAndre
from ensemble.run import seeds
from ensemble.run.realization import run_realization
from ensemble.run.spec import RunSpec


def test_fields_follow_the_formula_with_a_phase_from_the_disorder_stream():
    law = AubryAndre()
    rng = seeds.fields_rng(5, 12, 3.0, 4)
    phi = seeds.fields_rng(5, 12, 3.0, 4).uniform(0.0, 2.0 * math.pi)
    j = np.arange(1, 13)
    expected = 3.0 * np.cos(2.0 * math.pi * (math.sqrt(5.0) - 1.0) / 2.0 * j + phi)
    np.testing.assert_allclose(law.fields(12, 3.0, rng), expected, rtol=0, atol=1e-13)
    assert GOLDEN == pytest.approx(0.6180339887498949, abs=1e-15)


def test_phase_is_keyed_per_realization_and_beta_changes_the_fields():
    law = AubryAndre()
    a = law.fields(10, 2.0, seeds.fields_rng(1, 10, 2.0, 0))
    again = law.fields(10, 2.0, seeds.fields_rng(1, 10, 2.0, 0))
    other = law.fields(10, 2.0, seeds.fields_rng(1, 10, 2.0, 1))
    assert np.array_equal(a, again) and not np.allclose(a, other)
    assert np.max(np.abs(a)) <= 2.0
    assert not np.allclose(AubryAndre(beta=0.3).fields(10, 2.0, seeds.fields_rng(1, 10, 2.0, 0)), a)


def test_phases_are_uniform_over_realizations():
    # h_1 / W = cos(2 pi beta + phi) of a uniform phi has mean 0 and variance 1/2
    h1 = np.array([AubryAndre().fields(4, 1.0, seeds.fields_rng(9, 4, 1.0, r))[0] for r in range(400)])
    assert abs(h1.mean()) < 4 * math.sqrt(0.5 / 400) and abs(h1.var() - 0.5) < 0.1


def test_beta_must_be_a_number():
    with pytest.raises(ValueError, match="disorder.beta"):
        AubryAndre(beta="golden")
    assert LAWS.get("aubry-andre") is AubryAndre


def test_a_realization_matches_the_dense_reference_for_its_own_fields():
    spec = RunSpec.build(entropy=3, steps=(0, 3, 10, 40), delta=1.0, gamma=1.0, disorder=AubryAndre())
    fields, out = run_realization(spec, 6, 4.0, 2)
    np.testing.assert_array_equal(fields, AubryAndre().fields(6, 4.0, seeds.fields_rng(3, 6, 4.0, 2)))
    steps = np.array(spec.steps)
    np.testing.assert_allclose(out["sz"][0], dense_exact(fields, steps * 0.05, delta=1.0), atol=1e-10)
    etas = seeds.draw_etas(3, 6, 4.0, 2, int(steps[-1]), 0.05)
    np.testing.assert_allclose(out["sz"][1], dense_trajectory(fields, etas, steps, delta=1.0, gamma=1.0, tau=0.05),
                               atol=1e-10)


def test_reachable_from_run_grid_config_and_cli(tmp_path):
    ds = ensemble.run_grid(L=4, W=1.5, delta=1.0, t_final=1.0, n_times=5, n_realizations=2, seed=1,
                           disorder="aubry-andre", client="synchronous", progress=False)
    assert ds.attrs["disorder_law"] == "aubry-andre" and ds.attrs["disorder_beta"] == GOLDEN
    expected = AubryAndre().fields(4, 1.5, seeds.fields_rng(1, 4, 1.5, 1))
    np.testing.assert_array_equal(ds.field.sel(L=4, W=1.5, realization=1).values, expected)
    cfg = {"model": {"delta": 1.0}, "grid": {"L": 4, "W": 1.5, "n_realizations": 2, "t_final": 1.0, "n_times": 5},
           "run": {"seed": 1}}
    config.apply_override(cfg, "disorder.law=aubry-andre")
    config.apply_override(cfg, "disorder.beta=0.25")
    kwargs = config.to_run_grid_kwargs(config.resolve(cfg))
    assert kwargs["disorder"] == AubryAndre(beta=0.25)
    uniform = {**cfg, "disorder": {"law": "uniform", "beta": 0.25}}
    with pytest.raises(ValueError, match="disorder.beta is not a parameter of the disorder law 'uniform'"):
        config.to_run_grid_kwargs(config.resolve(uniform))
    with pytest.raises(ValueError, match="unknown disorder law 'gaussian'"):
        ensemble.run_grid(L=4, W=1.0, delta=1.0, t_final=1.0, n_realizations=1, disorder="gaussian",
                          client="synchronous", progress=False)
    # the fingerprint records the law, so runs with different laws never combine or resume
    uni = ensemble.plan_grid(L=4, W=1.5, delta=1.0, t_final=1.0, n_times=5, n_realizations=2, seed=1)
    aa = ensemble.plan_grid(L=4, W=1.5, delta=1.0, t_final=1.0, n_times=5, n_realizations=2, seed=1,
                            disorder="aubry-andre")
    assert "disorder_law" not in uni.fingerprint and '"disorder_law": "aubry-andre"' in aa.fingerprint
