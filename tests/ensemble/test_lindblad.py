"""Exact noise-averaged references (ensemble.lindblad) and the trajectories they validate.

Independent references written here: a dense Liouvillian on the full 2^L space built from kron
products (double commutator spelled out, no basis masks), a dense stepper mean whose kick channel is
a Gauss-Hermite quadrature over eta (so exp(-gamma^2 tau / 2) is checked, not assumed), and batched
noise trajectories in the dense basis of ``dense_reference`` (opposite bit order from QuSpin's).
"""

import numpy as np
import pytest
import scipy.linalg as la
from dense_reference import dense_exact, dense_hamiltonian, neel, sector_states

from ensemble.references import lindblad
from ensemble.models import xxz as model
from ensemble.engines.trajectory import magnetization_trajectory

TAU = 0.05


def _fields(L: int, W: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-W, W, L)


# ----------------------------------------------------------------- dense full-space reference

_SX = np.array([[0, 0.5], [0.5, 0]], dtype=complex)
_SY = np.array([[0, -0.5j], [0.5j, 0]], dtype=complex)
_SZ = np.diag([0.5, -0.5]).astype(complex)


def _site_op(L: int, j: int, op: np.ndarray) -> np.ndarray:
    """``op`` on paper site j (1-based) of the full 2^L space: kron factor j - 1."""
    return np.kron(np.kron(np.eye(2 ** (j - 1)), op), np.eye(2 ** (L - j)))


def _full_space(fields, delta, J):
    """H0 (paper Eq. 1), the S^z_j, and the Néel density matrix (site 1 up) on 2^L states."""
    L = len(fields)
    S = {
        (a, j): _site_op(L, j, op)
        for a, op in (("x", _SX), ("y", _SY), ("z", _SZ))
        for j in range(1, L + 1)
    }
    H = sum(fields[j - 1] * S["z", j] for j in range(1, L + 1))
    H = H + J * sum(
        S["x", j] @ S["x", j + 1] + S["y", j] @ S["y", j + 1] + delta * S["z", j] @ S["z", j + 1]
        for j in range(1, L)
    )
    up, down = np.array([1, 0], dtype=complex), np.array([0, 1], dtype=complex)
    psi = np.array([1.0 + 0j])
    for j in range(1, L + 1):
        psi = np.kron(psi, up if j % 2 else down)
    return H, S, np.outer(psi, psi.conj())


def _dense_lindblad(fields, times, *, delta, kappa, J=1.0, observables=None):
    """Expectations under d rho/dt = -i[H, rho] - kappa [Sz1, [Sz1, rho]], dense superoperator."""
    H, S, rho0 = _full_space(np.asarray(fields, float), delta, J)
    L = len(fields)
    obs = observables or [S["z", j] for j in range(1, L + 1)]
    eye = np.eye(H.shape[0])
    s1 = S["z", 1]
    # Row-major vec: vec(A X B) = kron(A, B^T) vec(X).
    comm = lambda A: np.kron(A, eye) - np.kron(eye, A.T)  # noqa: E731
    generator = -1j * comm(H) - kappa * comm(s1) @ comm(s1)
    out = []
    for t in times:
        rho = (la.expm(generator * t) @ rho0.ravel()).reshape(rho0.shape)
        out.append([np.trace(O @ rho).real for O in obs])
    return np.array(out)


def _dense_stepper_mean(fields, steps, *, delta, gamma, tau, J=1.0, observables=None, strang=False):
    """Noise mean of the kicked stepper, kick channel from Gauss-Hermite quadrature over eta.

    ``strang=True`` applies the symmetric splitting sqrt(K) U sqrt(K) instead of K U.
    """
    H, S, rho = _full_space(np.asarray(fields, float), delta, J)
    L = len(fields)
    obs = observables or [S["z", j] for j in range(1, L + 1)]
    U = la.expm(-1j * tau * H)
    s1 = np.diag(S["z", 1]).real
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)  # weight exp(-x^2/2)
    weights = weights / weights.sum()

    def channel(scale):  # E[K rho K^dagger], K = exp(-i eta gamma Sz1), eta ~ N(0, scale * tau)
        k = np.exp(-1j * gamma * np.sqrt(scale * tau) * nodes[:, None] * s1[None, :])
        return np.einsum("q,qa,qb->ab", weights, k, k.conj())

    K, K_half = channel(1.0), channel(0.5)
    out, step = [], 0
    for target in steps:
        while step < target:
            rho = U @ (K_half * rho) @ U.conj().T * K_half if strang else K * (U @ rho @ U.conj().T)
            step += 1
        out.append([np.trace(O @ rho).real for O in obs])
    return np.array(out)


# --------------------------------------------------------------------------- tests


class TestAgainstDenseLiouvillian:
    @pytest.mark.parametrize("delta", [0.0, 0.7])
    def test_continuous_matches_full_space_liouvillian(self, delta):
        fields, times = _fields(4, 2.0, seed=1), np.array([0.0, 0.3, 2.0, 7.5, 20.0])
        got = lindblad.magnetization(fields, times, delta=delta, gamma=1.3, J=0.9)
        ref = _dense_lindblad(fields, times, delta=delta, kappa=1.3**2 / 2, J=0.9)
        assert got.shape == (len(times), 4)
        np.testing.assert_allclose(got, ref, atol=1e-10, rtol=0)

    def test_literal_coefficient_is_sqrt2_gamma(self):
        """Coefficient gamma^2 (paper Eq. 2 as printed) = this equation at sqrt(2) gamma."""
        fields, times = _fields(4, 2.0, seed=2), np.array([0.0, 1.0, 5.0])
        got = lindblad.magnetization(fields, times, delta=1.0, gamma=np.sqrt(2.0))
        ref = _dense_lindblad(fields, times, delta=1.0, kappa=1.0)
        np.testing.assert_allclose(got, ref, atol=1e-10)

    @pytest.mark.parametrize("delta", [0.0, 1.0])
    def test_stepper_mean_matches_quadrature_channel(self, delta):
        """The exp(-gamma^2 tau / 2) damping is checked against an explicit average over eta."""
        fields, steps = _fields(4, 2.0, seed=3), np.array([0, 1, 2, 17, 100, 400])
        got = lindblad.stepper_mean(fields, steps, delta=delta, gamma=1.1, tau=TAU, J=1.2)
        ref = _dense_stepper_mean(fields, steps, delta=delta, gamma=1.1, tau=TAU, J=1.2)
        np.testing.assert_allclose(got, ref, atol=1e-10, rtol=0)

    @pytest.mark.parametrize("delta", [0.0, 1.0])
    def test_gamma_zero_is_unitary_evolution(self, delta):
        fields = _fields(6, 3.0, seed=4)
        steps = np.array([0, 3, 40, 400])
        exact = dense_exact(fields, steps * TAU, delta=delta)
        np.testing.assert_allclose(
            lindblad.magnetization(fields, steps * TAU, delta=delta, gamma=0.0), exact, atol=1e-10
        )
        np.testing.assert_allclose(
            lindblad.stepper_mean(fields, steps, delta=delta, gamma=0.0), exact, atol=1e-10
        )

    @pytest.mark.parametrize("delta", [0.0, 1.0])
    def test_infinite_temperature_steady_state(self, delta):
        """The identity is the only steady state in the sector: every <Sz_j> -> 0, sum stays 0."""
        fields = _fields(4, 1.0, seed=5)
        mags = lindblad.magnetization(fields, [0.0, 10.0, 3000.0], delta=delta, gamma=1.0)
        np.testing.assert_array_equal(mags[0], [0.5, -0.5, 0.5, -0.5])
        np.testing.assert_allclose(mags.sum(axis=1), 0.0, atol=1e-12)
        assert np.abs(mags[1]).max() > 1e-2
        np.testing.assert_allclose(mags[-1], 0.0, atol=1e-6)


class TestManyBodyAgainstCorrelationMatrix:
    """Delta = 0: the Ns^2 many-body density matrix and the L x L correlation matrix agree."""

    L = 8

    def _manybody_inputs(self, fields, J):
        H = model.xxz_hamiltonian(fields, delta=0.0, J=J)
        psi = model.neel_state(self.L)
        return H, model.sz_diagonals(self.L), np.outer(psi, psi.conj())

    @pytest.mark.parametrize("gamma, J", [(1.0, 1.0), (0.6, 1.4)])
    def test_continuous(self, gamma, J):
        fields = _fields(self.L, 2.0, seed=6)
        times = np.r_[0.0, np.geomspace(0.05, 20.0, 12)]
        gauss = lindblad.magnetization(fields, times, delta=0.0, gamma=gamma, J=J)
        inputs = self._manybody_inputs(fields, J)
        many = lindblad.manybody_lindblad(*inputs, times, kappa=gamma**2 / 2)
        np.testing.assert_allclose(gauss, many, atol=1e-10, rtol=0)

    @pytest.mark.parametrize("gamma, J", [(1.0, 1.0), (0.6, 1.4)])
    def test_stepper_mean(self, gamma, J):
        fields = _fields(self.L, 2.0, seed=7)
        steps = np.array([0, 1, 2, 5, 33, 100, 400])
        gauss = lindblad.stepper_mean(fields, steps, delta=0.0, gamma=gamma, J=J)
        many = lindblad.manybody_stepper_mean(
            *self._manybody_inputs(fields, J), steps, gamma=gamma, tau=TAU
        )
        np.testing.assert_allclose(gauss, many, atol=1e-10, rtol=0)

    def test_averaged_magnetizations_is_the_delta0_stepper_mean(self):
        fields, steps = _fields(12, 2.0, seed=8), np.array([0, 10, 100])
        np.testing.assert_array_equal(
            lindblad.averaged_magnetizations(fields, steps, gamma=1.0, tau=0.02),
            lindblad.stepper_mean(fields, steps, delta=0.0, gamma=1.0, tau=0.02),
        )


class TestTrotterError:
    """Stepper mean vs continuous Lindbladian as tau halves (L = 6, Delta = 1, W = 2, t <= 20).

    (K U)^n = K^(1/2) (K^(1/2) U K^(1/2))^n K^(-1/2), and K^(+-1/2) leave the Néel state and the
    S^z_j unchanged: for <Sz_j> the stepper mean *is* the symmetric splitting, so its error is
    O(tau^2) (ratios 4), while a coherence across the bath site, <S+_1 S-_2 + h.c.>, keeps the
    generic O(tau).
    """

    TAUS = (0.05, 0.025, 0.0125)
    TIMES = np.array([2.5, 5.0, 10.0, 20.0])

    def test_sz_error_small_and_second_order(self):
        fields = _fields(6, 2.0, seed=9)
        exact = lindblad.magnetization(fields, self.TIMES, delta=1.0, gamma=1.0)
        errors = []
        for tau in self.TAUS:
            steps = np.round(self.TIMES / tau).astype(int)
            mean = lindblad.stepper_mean(fields, steps, delta=1.0, gamma=1.0, tau=tau)
            errors.append(np.abs(mean - exact).max())
        ratios = np.array(errors[:-1]) / np.array(errors[1:])
        assert errors[0] < 1e-3
        assert np.all((ratios > 3.5) & (ratios < 4.5)), (errors, ratios)

    def test_stepper_mean_equals_symmetric_splitting_for_sz(self):
        fields, steps = _fields(4, 2.0, seed=10), np.array([0, 1, 7, 200])
        symmetric = _dense_stepper_mean(fields, steps, delta=1.0, gamma=1.0, tau=TAU, strang=True)
        got = lindblad.stepper_mean(fields, steps, delta=1.0, gamma=1.0, tau=TAU)
        np.testing.assert_allclose(got, symmetric, atol=1e-12)

    def test_bath_coherence_error_is_first_order(self):
        fields = _fields(4, 2.0, seed=9)
        _, S, _ = _full_space(fields, 1.0, 1.0)
        hop = [2 * (S["x", 1] @ S["x", 2] + S["y", 1] @ S["y", 2])]  # S+_1 S-_2 + h.c.
        times = np.array([1.0, 3.0])
        exact = _dense_lindblad(fields, times, delta=1.0, kappa=0.5, observables=hop)
        errors = []
        for tau in self.TAUS:
            steps = np.round(times / tau).astype(int)
            mean = _dense_stepper_mean(
                fields, steps, delta=1.0, gamma=1.0, tau=tau, observables=hop
            )
            errors.append(np.abs(mean - exact).max())
        ratios = np.array(errors[:-1]) / np.array(errors[1:])
        assert np.all((ratios > 1.7) & (ratios < 2.3)), (errors, ratios)


def _z_scores(samples, exact):
    """Deviation of the sample mean from ``exact`` in standard errors, per (time, site).

    ``samples`` has shape (n_trajectories, n_times, L). Points whose SE is below 1e-8 (sites the
    noise has not reached yet, where both sides agree to rounding) are checked with an absolute
    1e-10 instead and left out of the rms.
    """
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    deviation = np.abs(mean - exact)
    resolved = se > 1e-8
    z = deviation[resolved] / se[resolved]
    return deviation, se, z


def _assert_unraveling_statistics(samples, fields, steps, *, delta, gamma):
    """The trajectory mean matches the gamma^2/2 stepper mean and rejects the literal gamma^2."""
    right = lindblad.stepper_mean(fields, steps, delta=delta, gamma=gamma, tau=TAU)
    literal = lindblad.stepper_mean(fields, steps, delta=delta, gamma=np.sqrt(2.0) * gamma, tau=TAU)
    deviation, se, z = _z_scores(samples, right)
    rms = np.sqrt(np.mean(z**2))
    assert np.all(deviation <= 4 * se + 1e-10), np.max(deviation / np.maximum(se, 1e-300))
    assert 0.5 < rms < 1.6, rms
    assert z.size > samples.shape[2] * len(steps) // 3  # most points are resolved
    _, _, z_literal = _z_scores(samples, literal)
    assert np.max(z_literal) > 20 and np.sqrt(np.mean(z_literal**2)) > 10, (
        np.max(z_literal),
        np.sqrt(np.mean(z_literal**2)),
    )


class TestTrajectoryAverage:
    """A few thousand noise trajectories at fixed disorder against the exact stepper mean."""

    steps = np.arange(20, 401, 20)  # t = 1 .. 20

    def test_manybody_heisenberg(self):
        L, n_traj, gamma = 6, 6000, 1.0
        fields = _fields(L, 2.0, seed=2024)
        etas = np.random.default_rng(77).normal(0.0, np.sqrt(TAU), (self.steps[-1], n_traj))
        # Batched stepper in the dense basis (all trajectories share H0): psi <- K_n U psi.
        H, sz = dense_hamiltonian(fields, 1.0)
        energies, V = la.eigh(H)
        U = (V * np.exp(-1j * TAU * energies)) @ V.conj().T
        psi = np.repeat(neel(L, sector_states(L))[:, None], n_traj, axis=1)
        samples = np.empty((n_traj, len(self.steps), L))
        step = 0
        for k, target in enumerate(self.steps):
            while step < target:
                psi = U @ psi
                psi *= np.exp(-1j * gamma * np.outer(sz[0], etas[step]))
                step += 1
            samples[:, k] = (np.abs(psi) ** 2).T @ sz.T
        # The batch is the project's engine: a few trajectories through the public API (its
        # propagator promises 2-norm error <= 1e-10 per step, so 400 steps agree to ~1e-8).
        for i in range(3):
            one = magnetization_trajectory(
                fields, etas[:, i], self.steps, delta=1.0, gamma=gamma, tau=TAU, engine="manybody"
            )
            np.testing.assert_allclose(one, samples[i], atol=1e-7, rtol=0)
        _assert_unraveling_statistics(samples, fields, self.steps, delta=1.0, gamma=gamma)

    def test_gaussian_anderson(self):
        L, n_traj, gamma = 20, 4000, 1.0
        fields = _fields(L, 2.0, seed=11)
        rng = np.random.default_rng(78)
        samples = np.array(
            [
                magnetization_trajectory(
                    fields, rng.normal(0.0, np.sqrt(TAU), self.steps[-1]), self.steps,
                    delta=0.0, gamma=gamma, tau=TAU, engine="gaussian",
                )
                for _ in range(n_traj)
            ]
        )
        _assert_unraveling_statistics(samples, fields, self.steps, delta=0.0, gamma=gamma)


class TestBadInput:
    fields = np.array([0.1, -0.2, 0.3, 0.4])

    @pytest.mark.parametrize(
        "times, match",
        [
            ([], "non-empty"),
            ([[0.0, 1.0]], "1-D"),
            ([0.0, np.nan], "finite"),
            ([0.0, np.inf], "finite"),
            ([-1.0, 1.0], "non-negative"),
            ([0.0, 2.0, 1.0], "increasing"),
            ([0.0, 1.0, 1.0], "increasing"),
        ],
    )
    def test_times(self, times, match):
        for delta in (0.0, 1.0):
            with pytest.raises(ValueError, match=match):
                lindblad.magnetization(self.fields, times, delta=delta, gamma=1.0)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            (dict(fields=np.ones(5)), "L = len"),
            (dict(fields=[0.0, np.nan]), "fields must be finite"),
            (dict(tau=0.0), "tau"),
            (dict(tau=np.nan), "tau"),
            (dict(gamma=np.inf), "gamma"),
            (dict(delta=np.nan), "delta"),
            (dict(J=np.nan), "J"),
            (dict(sample_steps=[0, 2.5]), "integers"),
            (dict(sample_steps=[3, 1]), "increasing"),
            (dict(sample_steps=[-1, 1]), "non-negative"),
        ],
    )
    def test_stepper_mean_arguments(self, kwargs, match):
        args = dict(fields=self.fields, sample_steps=[0, 5], delta=1.0, gamma=1.0, tau=TAU, J=1.0)
        args.update(kwargs)
        with pytest.raises(ValueError, match=match):
            lindblad.stepper_mean(args.pop("fields"), args.pop("sample_steps"), **args)


class TestProgress:
    """A long continuous solve reports how far it is and how long it has left, on stderr."""

    def test_progress_lines_count_the_applications_up_to_the_total(self, monkeypatch, capsys):
        from ensemble.references import lindblad as module

        monkeypatch.setattr(module, "PROGRESS_INTERVAL", 0.0)  # report at every sub-step
        fields = np.array([0.3, -0.2, 0.5, -0.1])
        out = lindblad.magnetization(fields, [0.0, 2.0, 5.0], delta=1.0, gamma=1.0)
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) >= 3 and lines[-1].startswith("lindblad: done in")
        first, last = lines[0], lines[-2]
        assert first.startswith("lindblad: t = ") and "of 5, " in first and "s left" in first
        done, total = (float(x) for x in last.split(", ")[1].replace("~", "").split(" generator")[0].split(" of "))
        assert done == total  # the estimate up front is the exact count
        np.testing.assert_array_equal(out, lindblad.magnetization(fields, [0.0, 2.0, 5.0], delta=1.0, gamma=1.0))

    def test_a_short_solve_is_silent(self, capsys):
        lindblad.magnetization(np.array([0.3, -0.2, 0.5, -0.1]), [0.0, 5.0], delta=1.0, gamma=1.0)
        assert capsys.readouterr().err == ""
