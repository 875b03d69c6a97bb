"""The bath chosen in TOML, in run_grid or on the command line is the bath that runs (never a silent default)."""

from dataclasses import dataclass

import numpy as np
import pytest

import ensemble
from ensemble import config
from ensemble.models.baths import BATHS
from ensemble.models.baths.dephasing import DephasingBath
from ensemble.run.grid import plan_grid

KW = dict(L=[6], W=[2.0], delta=1.0, t_final=1.0, n_times=3, n_realizations=1, seed=2)


@pytest.fixture
def other_bath(monkeypatch):
    """A second bath kind, registered for the test only, whose kick no engine applies."""

    @dataclass(frozen=True, kw_only=True)
    class OtherBath(DephasingBath):
        """Same parameters as the dephasing bath, a kick of another structure."""

        STRUCTURE = "general one-site unitary"

    BATHS._load()
    monkeypatch.setitem(BATHS._kinds, "other-noise", OtherBath)
    OtherBath.NAME = "other-noise"
    return OtherBath


def test_a_bath_kind_reaches_the_engines_which_refuse_what_they_do_not_apply(other_bath):
    with pytest.raises(ValueError, match="does not apply the 'other-noise' bath"):
        plan_grid(bath="other-noise", **KW)
    with pytest.raises(ValueError, match="does not apply the 'other-noise' bath"):
        ensemble.run_grid(bath=other_bath(gamma=1.0, tau=0.05, site=1), client="synchronous", progress=False, **KW)


def test_the_toml_bath_kind_is_passed_on(other_bath, tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[model]\ndelta = 1.0\n[grid]\nL = [6]\nW = [2.0]\nn_realizations = 1\nt_final = 1.0\n'
                    'n_times = 3\n[bath]\nkind = "other-noise"\nsite = 2\n')
    kwargs = config.to_run_grid_kwargs(config.resolve(config.load_config(path)))
    assert type(kwargs["bath"]) is other_bath and kwargs["bath"].site == kwargs["bath_site"] == 2
    with pytest.raises(ValueError, match="does not apply the 'other-noise' bath"):
        plan_grid(**kwargs)


def test_a_bath_object_must_agree_with_the_run(other_bath):
    with pytest.raises(ValueError, match="has gamma = 2.0 but the run asks for gamma = 1.0"):
        plan_grid(bath=DephasingBath(gamma=2.0), **KW)
    assert plan_grid(bath=DephasingBath(site=3), bath_site=3, **KW).spec.bath.site == 3


@pytest.mark.parametrize("delta", [1.0, 0.0], ids=["manybody", "gaussian"])
def test_the_engines_take_noise_and_kick_from_the_bath(delta, monkeypatch):
    """A bath of the same structure whose noise is twice the dephasing bath's runs through every kick
    engine unchanged: eta -> 2 eta at gamma is the kick of 2 gamma, bit for bit."""

    @dataclass(frozen=True, kw_only=True)
    class DoubledNoise(DephasingBath):
        """Dephasing kicks with the noise doubled."""

        def noise(self, rng, n_steps):
            return 2.0 * super().noise(rng, n_steps)

    BATHS._load()
    monkeypatch.setitem(BATHS._kinds, "doubled-noise", DoubledNoise)
    DoubledNoise.NAME = "doubled-noise"
    kw = dict(KW, delta=delta, L=[6], n_realizations=2, client="synchronous", progress=False)
    doubled = ensemble.run_grid(bath=DoubledNoise(gamma=1.0, tau=0.05, site=1), gamma=1.0, **kw)
    plain = ensemble.run_grid(gamma=2.0, **kw)
    np.testing.assert_array_equal(doubled.sz.isel(gamma=1).values, plain.sz.isel(gamma=1).values)
    assert doubled.attrs["bath_kind"] == "doubled-noise"
