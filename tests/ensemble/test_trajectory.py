"""The public one-trajectory API against an independent dense numpy reference."""

import numpy as np
import pytest
from dense_reference import dense_exact, dense_hamiltonian, dense_trajectory, neel, sector_states

import ensemble
from ensemble.models import xxz as model
from ensemble.engines import stepper

TAU = 0.05


def _inputs(L: int, W: float, n_steps: int, seed: int):
    rng = np.random.default_rng(seed)
    fields = rng.uniform(-W, W, L)
    etas = rng.normal(0.0, np.sqrt(TAU), n_steps)
    return fields, etas


class TestModel:
    def test_sector_dimension_and_bath_site_bit(self):
        basis = model.sector_basis(6)
        assert basis.Ns == 20
        sz = model.sz_diagonals(6)
        # QuSpin's site 0 is the most significant bit: state 0b111000 has paper sites 1-3 up.
        k = int(np.flatnonzero(basis.states == 0b111000)[0])
        np.testing.assert_array_equal(sz[:, k], [0.5, 0.5, 0.5, -0.5, -0.5, -0.5])

    def test_neel_state_site_one_up(self):
        for L in (2, 4, 8):
            psi = model.neel_state(L)
            mags = model.sz_diagonals(L) @ np.abs(psi) ** 2
            np.testing.assert_array_equal(mags, 0.5 * (-1.0) ** np.arange(L))

    @pytest.mark.parametrize("delta", [0.0, 1.0, 0.7])
    def test_hamiltonian_matches_dense_by_site_labels(self, delta):
        fields, _ = _inputs(6, 3.0, 0, seed=4)
        H = model.xxz_hamiltonian(fields, delta=delta, J=1.3).toarray()
        Hd, szd = dense_hamiltonian(fields, delta, J=1.3)
        # Map QuSpin basis -> dense basis through the site-resolved Sz patterns.
        sz = model.sz_diagonals(6)
        key = lambda table: [tuple(col) for col in table.T]  # noqa: E731
        dense_index = {k: i for i, k in enumerate(key(szd))}
        perm = np.array([dense_index[k] for k in key(sz)])
        np.testing.assert_allclose(H, Hd[np.ix_(perm, perm)], atol=1e-14)

    def test_odd_length_refused(self):
        with pytest.raises(ValueError, match="L must be even"):
            model.sector_basis(5)


class TestAgainstDenseReference:
    @pytest.mark.parametrize("L", [4, 6, 8])
    @pytest.mark.parametrize("delta", [0.0, 1.0])
    @pytest.mark.parametrize("gamma", [0.0, 1.0])
    def test_trajectory_matches_dense(self, L, delta, gamma):
        n = 300
        fields, etas = _inputs(L, 3.0, n, seed=L + 10 * int(delta) + 100 * int(gamma))
        steps = np.array([0, 1, 2, 7, 40, 133, 299, 300])
        got = ensemble.magnetization_trajectory(
            fields, etas, steps, delta=delta, gamma=gamma, engine="manybody"
        )
        ref = dense_trajectory(fields, etas, steps, delta=delta, gamma=gamma, tau=TAU)
        assert got.shape == (len(steps), L)
        np.testing.assert_allclose(got, ref, atol=1e-10, rtol=0)

    @pytest.mark.parametrize("delta", [0.0, 1.0])
    def test_noiseless_equals_exact_diagonalization(self, delta):
        fields, _ = _inputs(8, 5.0, 0, seed=3)
        steps = np.array([0, 3, 20, 160, 1280, 20000])
        got = ensemble.magnetization_trajectory(
            fields, [], steps, delta=delta, gamma=0.0, engine="manybody"
        )
        np.testing.assert_allclose(got, dense_exact(fields, steps * TAU, delta=delta), atol=1e-10)

    def test_gamma_zero_ignores_etas(self):
        fields, etas = _inputs(6, 2.0, 50, seed=5)
        steps = [0, 10, 50]
        a = ensemble.magnetization_trajectory(fields, etas, steps, delta=1.0, gamma=0.0)
        b = ensemble.magnetization_trajectory(fields, [], steps, delta=1.0, gamma=0.0)
        np.testing.assert_array_equal(a, b)


class TestConservationAndConventions:
    def test_neel_start_and_total_sz_conserved(self):
        fields, etas = _inputs(8, 4.0, 500, seed=8)
        steps = np.arange(0, 501, 25)
        mags = ensemble.magnetization_trajectory(fields, etas, steps, delta=1.0, gamma=1.0)
        np.testing.assert_array_equal(mags[0], 0.5 * (-1.0) ** np.arange(8))
        np.testing.assert_allclose(mags.sum(axis=1), 0.0, atol=1e-12)
        assert np.all(np.abs(mags) <= 0.5 + 1e-12)

    def test_norm_drift_raises_instead_of_returning(self):
        L = 6
        fields, etas = _inputs(L, 2.0, 10, seed=1)
        H = model.xxz_hamiltonian(fields, delta=1.0)
        with pytest.raises(FloatingPointError, match="norm"):
            stepper.kicked_magnetizations(
                H, model.sz_diagonals(L), 1.1 * model.neel_state(L), etas, np.array([0, 5]),
                gamma=1.0, tau=TAU,
            )

    @pytest.mark.parametrize("wrong", [dict(kick_scale=0.5), dict(kick_site=6), dict(kick_scale=-1.0)])
    def test_wrong_kick_would_be_caught(self, wrong):
        """The dense reference with a wrong kick angle, site or sign differs from the engine."""
        L, n = 6, 400
        fields, etas = _inputs(L, 2.0, n, seed=21)
        steps = np.array([0, 100, 200, 400])
        got = ensemble.magnetization_trajectory(fields, etas, steps, delta=1.0, gamma=1.0)
        right = dense_trajectory(fields, etas, steps, delta=1.0, gamma=1.0, tau=TAU)
        bad = dense_trajectory(fields, etas, steps, delta=1.0, gamma=1.0, tau=TAU, **wrong)
        np.testing.assert_allclose(got, right, atol=1e-10)
        assert np.max(np.abs(got - bad)) > 1e-3

    def test_dense_reference_is_self_consistent(self):
        """Guard the reference itself: its Néel state and gamma = 0 limit agree with ED."""
        L = 4
        psi = neel(L, sector_states(L))
        assert np.count_nonzero(psi) == 1
        fields, etas = _inputs(L, 1.0, 20, seed=0)
        steps = np.array([0, 20])
        np.testing.assert_allclose(
            dense_trajectory(fields, etas, steps, delta=1.0, gamma=0.0, tau=TAU),
            dense_exact(fields, steps * TAU, delta=1.0),
            atol=1e-12,
        )


class TestBadInput:
    fields = np.array([0.1, -0.2, 0.3, 0.4])
    etas = np.zeros(10)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            (dict(fields=np.ones(5)), "L = len"),
            (dict(fields=np.ones(0)), "L = len"),
            (dict(fields=np.array([0.0, np.nan, 0.0, 0.0])), "fields must be finite"),
            (dict(fields=np.ones((2, 2))), "1-D"),
            (dict(tau=0.0), "tau"),
            (dict(tau=-0.05), "tau"),
            (dict(etas=np.zeros(9)), "etas holds 9"),
            (dict(etas=np.r_[np.zeros(9), np.inf]), "etas must be finite"),
            (dict(sample_steps=[0, -1]), "non-negative"),
            (dict(sample_steps=[5, 3]), "increasing"),
            (dict(sample_steps=[0, 2, 2]), "increasing"),
            (dict(sample_steps=[0, 2.5]), "integers"),
            (dict(sample_steps=[]), "non-empty"),
            (dict(engine="lanczos"), "engine"),
            (dict(engine="gaussian", delta=1.0), "delta == 0"),
            (dict(gamma=np.nan), "gamma"),
            (dict(delta=np.inf), "delta"),
        ],
    )
    def test_value_errors_name_the_parameter(self, kwargs, match):
        args = dict(fields=self.fields, etas=self.etas, sample_steps=[0, 5, 10], delta=1.0, gamma=1.0)
        args.update(kwargs)
        with pytest.raises(ValueError, match=match):
            ensemble.magnetization_trajectory(
                args.pop("fields"), args.pop("etas"), args.pop("sample_steps"), **args
            )
