"""The jump unraveling: flip statistics, and its average against the exact stepper mean."""

import numpy as np
import pytest
import scipy.linalg as la

import ensemble  # noqa: F401  (pins threads before numerics start)
from ensemble.engines import chebyshev
from ensemble.engines import jump
from ensemble.models import xxz as model
from ensemble.engines import stepper

TAU = 0.05


def _exact_stepper_mean(fields, steps, *, delta, gamma, rate_factor=1.0):
    """Density-matrix evolution of the averaged stepper: rho <- F o (U rho U^dag), dense numpy.

    F_ab = exp(-rate_factor * gamma^2 tau / 2) where the site-1 spin differs between a and b
    (the Gaussian kick's average). ``rate_factor != 1`` builds a deliberately wrong reference.
    """
    L = len(fields)
    sz = model.sz_diagonals(L)
    energies, V = la.eigh(model.xxz_hamiltonian(fields, delta=delta).toarray())
    U = (V * np.exp(-1j * TAU * energies)) @ V.conj().T
    differs = sz[0][:, None] != sz[0][None, :]
    F = np.where(differs, np.exp(-rate_factor * gamma**2 * TAU / 2), 1.0)
    psi = model.neel_state(L)
    rho = np.outer(psi, psi.conj())
    out, n = [], 0
    for target in steps:
        while n < target:
            rho = F * (U @ rho @ U.conj().T)
            n += 1
        out.append(sz @ np.diag(rho).real)
    return np.array(out)


class TestFlips:
    def test_probability_is_the_averaged_kick(self):
        # Coherence between Sz_1 = +-1/2 picks up E[exp(-i eta gamma)] = exp(-gamma^2 tau/2) = 1 - 2p.
        x, w = np.polynomial.hermite_e.hermegauss(80)
        for gamma in (0.3, 1.0, 2.5):
            damping = np.sum(w * np.cos(gamma * np.sqrt(TAU) * x)) / np.sum(w)
            assert jump.flip_probability(gamma, TAU) == pytest.approx((1 - damping) / 2, rel=1e-12)
        assert jump.flip_probability(0.0, TAU) == 0.0

    def test_gamma_zero_draws_nothing_and_is_the_noiseless_run(self):
        rng = np.random.default_rng(1)
        before = rng.bit_generator.state
        fields = np.random.default_rng(2).uniform(-3, 3, 8)
        steps = np.array([0, 3, 40, 400])
        got = jump.jump_magnetizations(fields, steps, delta=1.0, gamma=0.0, rng=rng)
        assert rng.bit_generator.state == before
        H = model.xxz_hamiltonian(fields, delta=1.0)
        free = stepper.noiseless_magnetizations(H, model.sz_diagonals(8), model.neel_state(8), steps * TAU)
        assert np.abs(got - free).max() <= 1e-10

    def test_longer_run_extends_the_same_flips(self):
        p = jump.flip_probability(1.0, TAU)
        short = jump.flip_steps(p, 2_000, np.random.default_rng(7))
        long = jump.flip_steps(p, 20_000, np.random.default_rng(7))
        np.testing.assert_array_equal(long[: short.size], short)
        assert long.size > short.size and long[short.size] > 2_000

    def test_flip_count_is_binomial(self):
        p, n_steps, n_runs = jump.flip_probability(2.0, TAU), 400, 3000
        rng = np.random.default_rng(8)
        counts = np.array([jump.flip_steps(p, n_steps, rng).size for _ in range(n_runs)])
        se = np.sqrt(n_steps * p * (1 - p) / n_runs)
        assert abs(counts.mean() - n_steps * p) <= 4.5 * se
        assert counts.var() == pytest.approx(n_steps * p * (1 - p), rel=0.1)

    def test_rng_must_be_a_generator(self):
        with pytest.raises(TypeError, match="Generator"):
            jump.jump_magnetizations(np.zeros(4), [0, 1], delta=1.0, gamma=1.0, rng=3)


class TestAgainstExactMean:
    @pytest.mark.slow
    def test_average_matches_stepper_mean_L6(self):
        L, gamma, delta, n_traj = 6, 2.0, 1.0, 4000
        fields = np.random.default_rng(60).uniform(-2.0, 2.0, L)
        steps = np.array([0, 1, 10, 40, 100, 200, 300])
        sz = model.sz_diagonals(L)
        H = model.xxz_hamiltonian(fields, delta=delta)
        prop = chebyshev.ChebyshevPropagator(H, sz[0] > 0)
        p = jump.flip_probability(gamma, TAU)
        psi0 = model.neel_state(L)
        seeds = np.random.SeedSequence(61).spawn(n_traj)  # one stream per trajectory, batched below
        total = np.zeros((steps.size, L))
        total_sq = np.zeros((steps.size, L))
        for batch in np.array_split(np.arange(n_traj), 8):
            for r in batch:
                rng = np.random.default_rng(seeds[r])
                m, _ = jump.jump_from_operator(prop, sz, psi0, steps, p=p, tau=TAU, rng=rng)
                total += m
                total_sq += m * m
        mean = total / n_traj
        se = np.sqrt(np.maximum(total_sq / n_traj - mean**2, 0.0) / (n_traj - 1))
        exact = _exact_stepper_mean(fields, steps, delta=delta, gamma=gamma)
        # Steps 0 and 1 are noiseless (a flip after step 1 does not change Sz at step 1).
        np.testing.assert_allclose(mean[:2], exact[:2], atol=1e-10)
        assert se[:2].max() <= 1e-7  # round-off of the one-pass variance
        z = (mean[2:] - exact[2:]) / se[2:]
        assert np.sqrt(np.mean(z**2)) == pytest.approx(1.0, abs=0.45)
        assert np.abs(z).max() <= 4.5
        # The same sample rejects the paper's Eq. (2) coefficient (gamma^2 instead of gamma^2/2).
        wrong = _exact_stepper_mean(fields, steps, delta=delta, gamma=gamma, rate_factor=2.0)
        assert np.sqrt(np.mean(((mean[2:] - wrong[2:]) / se[2:]) ** 2)) > 5.0


class TestErrorBudget:
    """Intervals of m steps get m * tol: the stepper's budget per tau step, fewer matvecs."""

    def _setup(self, L=8, seed=70):
        fields = np.random.default_rng(seed).uniform(-5.0, 5.0, L)
        sz = model.sz_diagonals(L)
        H = model.xxz_hamiltonian(fields, delta=1.0)
        return H, sz, model.neel_state(L)

    def test_one_trajectory_matches_dense_with_the_same_flips(self):
        H, sz, psi0 = self._setup()
        prop = chebyshev.ChebyshevPropagator(H, sz[0] > 0)
        steps = np.array([0, 7, 150, 900, 2000])
        p = jump.flip_probability(1.5, TAU)
        got, n_flips = jump.jump_from_operator(prop, sz, psi0, steps, p=p, tau=TAU, rng=np.random.default_rng(3))
        flips = jump.flip_steps(p, int(steps[-1]), np.random.default_rng(3))
        assert n_flips == flips.size > 20
        energies, V = la.eigh(H.toarray())
        z1 = np.where(sz[0] > 0, 1.0, -1.0)
        psi, now, ref = psi0.astype(np.complex128), 0, []
        for n in np.union1d(flips, steps):
            psi = V @ (np.exp(-1j * energies * (n - now) * TAU) * (V.conj().T @ psi))
            now = n
            if n in flips:
                psi = z1 * psi
            if n in steps:
                ref.append(sz @ np.abs(psi) ** 2)
        # The stepper's budget, tol per step (2-norm), bounds the error; a wrong flip gives ~1e-2.
        assert np.abs(got - np.array(ref)).max() <= 2 * chebyshev.STEP_TOLERANCE * steps[-1]

    def test_interval_orders_follow_the_per_step_budget(self):
        H, sz, psi0 = self._setup()
        tol = chebyshev.STEP_TOLERANCE
        prop = chebyshev.ChebyshevPropagator(H, sz[0] > 0, tol=tol)
        steps = np.array([0, 3000])
        p = jump.flip_probability(1.0, TAU)
        jump.jump_from_operator(prop, sz, psi0, steps, p=p, tau=TAU, rng=np.random.default_rng(5))
        flips = jump.flip_steps(p, 3000, np.random.default_rng(5))
        waits = np.diff(np.union1d(np.concatenate([[0], flips]), steps))
        per_step = sum(prop.order(m * TAU, min(m * tol, 1e-9)) for m in waits)
        per_interval = sum(prop.order(m * TAU, tol) for m in waits)
        assert prop.matvecs == per_step < per_interval

    def test_evolve_rejects_a_bad_tolerance(self):
        H, sz, psi0 = self._setup(L=4)
        prop = chebyshev.ChebyshevPropagator(H, sz[0] > 0)
        with pytest.raises(ValueError, match="tol"):
            prop.evolve(psi0.astype(np.complex128), 1.0, tol=0.0)
