"""Half-chain entanglement entropy on the many-body engine, against a numpy Schmidt decomposition."""

import numpy as np
import pytest
from dense_reference import dense_states, schmidt_entropy

import ensemble
from ensemble.models.xxz import neel_state, product_state, sector_basis
from ensemble.observables.entanglement import sector_entropy
from ensemble.run import seeds
from ensemble.run.realization import run_realization
from ensemble.run.spec import RunSpec


def _to_quspin(psi_dense: np.ndarray, L: int) -> np.ndarray:
    """Dense-reference amplitudes (bit j - 1 = site j) in QuSpin's basis order (site 1 = top bit)."""
    from dense_reference import sector_states

    basis = sector_basis(L)
    out = np.zeros(basis.Ns, dtype=complex)
    for amp, s in zip(psi_dense, sector_states(L)):
        q = sum(((int(s) >> j) & 1) << (L - 1 - j) for j in range(L))
        out[np.flatnonzero(basis.states == q)[0]] = amp
    return out


@pytest.mark.parametrize("L", [4, 6, 8])
def test_sector_entropy_matches_schmidt_for_random_states(L):
    rng = np.random.default_rng(L)
    from dense_reference import sector_states

    psi = rng.normal(size=len(sector_states(L))) + 1j * rng.normal(size=len(sector_states(L)))
    psi /= np.linalg.norm(psi)
    for cut in range(1, L):
        assert sector_entropy(_to_quspin(psi, L), L, cut) == pytest.approx(schmidt_entropy(psi, L, cut), abs=1e-12)
    assert sector_entropy(neel_state(L), L) == pytest.approx(0.0, abs=1e-12)
    # a singlet on the bond across the cut carries ln 2
    up = set(range(0, L, 2))
    swapped = sorted(up ^ {L // 2 - 1, L // 2})
    singlet = (neel_state(L) - product_state(L, swapped)) / np.sqrt(2)
    assert sector_entropy(singlet, L) == pytest.approx(np.log(2), abs=1e-12)


@pytest.mark.parametrize("delta", [1.0, 0.5])
def test_trajectory_entanglement_matches_schmidt_of_the_dense_state(delta):
    spec = RunSpec.build(entropy=5, steps=(0, 3, 20, 60), delta=delta, gamma=1.0, observables=["entanglement"])
    fields, out = run_realization(spec, 6, 2.0, 1)
    steps = np.array(spec.steps)
    etas = seeds.draw_etas(5, 6, 2.0, 1, int(steps[-1]), 0.05)
    for g, (gamma, noise) in enumerate(((0.0, np.zeros_like(etas)), (1.0, etas))):
        states = dense_states(fields, noise, steps, delta=delta, gamma=gamma, tau=0.05)
        expected = [schmidt_entropy(psi, 6, 3) for psi in states]
        np.testing.assert_allclose(out["entanglement"][g], expected, atol=1e-9)
    assert out["entanglement"][1, -1] > 0.1


def test_manybody_and_free_fermion_entanglement_agree_at_delta_zero():
    for engine in ("manybody", "gaussian"):
        spec = RunSpec.build(entropy=2, steps=(0, 10, 40), delta=0.0, gamma=1.0, engine=engine, entanglement=True)
        _, out = run_realization(spec, 8, 1.5, 0)
        if engine == "manybody":
            mb = out["entanglement"]
    np.testing.assert_allclose(mb, out["entanglement"], atol=1e-9)


def test_refused_where_it_is_undefined():
    with pytest.raises(ValueError, match="nonlinear in the state"):
        RunSpec.build(entropy=1, steps=(0, 1), delta=1.0, gamma=1.0, unraveling="jump", entanglement=True)
    with pytest.raises(ValueError, match="cannot be evaluated"):
        RunSpec.build(entropy=1, steps=(0, 1), delta=0.0, gamma=1.0, noise="averaged", entanglement=True)
    with pytest.raises(ValueError, match="unknown observable 'purity'"):
        RunSpec.build(entropy=1, steps=(0, 1), delta=1.0, gamma=1.0, observables=["purity"])


def test_stored_by_run_grid_and_round_trips(tmp_path):
    kw = dict(L=6, W=2.0, delta=1.0, t_final=2.0, n_times=5, n_realizations=3, seed=4, client="synchronous",
              progress=False)
    ds = ensemble.run_grid(observables=["sz", "entanglement"], checkpoint=tmp_path / "ck", **kw)
    assert ds.entanglement.dims == ("L", "W", "gamma", "realization", "time")
    assert ds.attrs["observables"] == "sz,entanglement" and ds.attrs["entanglement"] == 1
    again = ensemble.run_grid(entanglement=True, checkpoint=tmp_path / "ck", **kw)  # the flag is the alias
    np.testing.assert_array_equal(again.entanglement.values, ds.entanglement.values)
    ds.to_netcdf(tmp_path / "e.nc")
    import xarray as xr

    with xr.open_dataset(tmp_path / "e.nc") as back:
        np.testing.assert_array_equal(back.entanglement.values, ds.entanglement.values)
