"""Free-fermion engine (ensemble.engines.gaussian) against independent references written here."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

import ensemble
from ensemble.engines import gaussian
from ensemble.models import xxz as model

TAU = 0.05
TOL = 1e-10
STEPS = np.array([0, 1, 7, 50, 123, 200])
# The many-body engine's production Chebyshev step has error <= 1e-12 (2-norm) per step, which adds
# up to ~5e-11 in <S^z> after 100 steps at W = 8: the comparison stops there to keep a margin.
MB_STEPS = np.array([0, 1, 7, 33, 64, 100])


def _disorder(L: int, W: float, n_steps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-W, W, L), rng.normal(0.0, np.sqrt(TAU), n_steps)


def dense_reference(fields, etas, steps, *, gamma, angle=1.0, kick_row=0, tau=TAU, J=1.0):
    """Plain single-particle loop: W <- K exp(-i tau Q) W with dense expm, Sz at the steps.

    ``angle`` scales the kick phase and ``kick_row`` picks its site (0-based): the defaults are
    the physical kick exp(-i eta gamma) on site 1; the other values build the buggy variants.
    """
    L = len(fields)
    Q = np.diag(fields) + 0.5 * J * (np.eye(L, k=1) + np.eye(L, k=-1))
    U = sla.expm(-1j * tau * Q)
    W = np.zeros((L, L // 2), dtype=complex)
    W[np.arange(0, L, 2), np.arange(L // 2)] = 1.0
    out, n = [], 0
    for target in steps:
        while n < target:
            W = U @ W
            W[kick_row] *= np.exp(-1j * angle * gamma * etas[n])
            n += 1
        out.append(np.sum(np.abs(W) ** 2, axis=1) - 0.5)
    return np.array(out)


class TestAgainstManyBody:
    """Delta = 0: the Gaussian and the QuSpin many-body engines agree to 1e-10."""

    CASES = [(L, g, W) for L in (6, 8, 10) for g in (0.0, 1.0, 2.5) for W in (1.0, 3.0, 8.0)]
    CASES += [(12, 0.0, 3.0), (12, 1.0, 8.0), (12, 2.5, 1.0)]

    @pytest.mark.parametrize("L, gamma, W", CASES)
    def test_magnetizations_agree(self, L, gamma, W):
        fields, etas = _disorder(L, W, MB_STEPS[-1], seed=L + int(10 * W) + int(100 * gamma))
        kw = dict(delta=0.0, gamma=gamma, tau=TAU)
        fast = ensemble.magnetization_trajectory(fields, etas, MB_STEPS, engine="gaussian", **kw)
        slow = ensemble.magnetization_trajectory(fields, etas, MB_STEPS, engine="manybody", **kw)
        np.testing.assert_allclose(fast, slow, rtol=0, atol=TOL)

    def test_noiseless_long_times(self):
        """gamma = 0 is exact propagation: agreement holds out to t = 500 (10,000 tau)."""
        fields, _ = _disorder(10, 2.0, 0, seed=3)
        steps = np.array([0, 13, 400, 2_777, 10_000])
        kw = dict(delta=0.0, gamma=0.0, tau=TAU)
        fast = ensemble.magnetization_trajectory(fields, [], steps, engine="gaussian", **kw)
        slow = ensemble.magnetization_trajectory(fields, [], steps, engine="manybody", **kw)
        np.testing.assert_allclose(fast, slow, rtol=0, atol=TOL)


class TestKick:
    """The kick is the full angle exp(-i eta gamma) on site 1 (row 0), not half, not site L."""

    L, W, gamma = 8, 1.0, 2.5

    @pytest.fixture(scope="class")
    def run(self):
        fields, etas = _disorder(self.L, self.W, STEPS[-1], seed=11)
        engine = gaussian.gaussian_magnetizations(fields, etas, STEPS, gamma=self.gamma, tau=TAU)
        return fields, etas, engine

    def test_matches_dense_reference(self, run):
        fields, etas, engine = run
        ref = dense_reference(fields, etas, STEPS, gamma=self.gamma)
        np.testing.assert_allclose(engine, ref, rtol=0, atol=TOL)

    @pytest.mark.parametrize("variant", [dict(angle=0.5), dict(kick_row=-1), dict(angle=0.0)])
    def test_wrong_kicks_are_detected(self, run, variant):
        """The buggy variants differ from the engine by far more than the tolerance."""
        fields, etas, engine = run
        wrong = dense_reference(fields, etas, STEPS, gamma=self.gamma, **variant)
        assert np.abs(engine - wrong).max() > 1e4 * TOL


class TestLargeChain:
    def test_L200_stays_orthonormal(self):
        L = 200
        fields, etas = _disorder(L, 3.0, 400, seed=5)
        steps = np.array([0, 10, 100, 400])
        for W in gaussian.evolve_orbitals(fields, etas, steps, gamma=1.0, tau=TAU):
            assert W.shape == (L, L // 2)
            assert np.abs(W.conj().T @ W - np.eye(L // 2)).max() < gaussian.ORTHONORMALITY_TOLERANCE
        sz = gaussian.gaussian_magnetizations(fields, etas, steps, gamma=1.0, tau=TAU)
        assert np.all(np.abs(sz) <= 0.5 + 1e-12)
        np.testing.assert_allclose(sz.sum(axis=1), 0.0, atol=1e-10)  # Sz_tot = 0 conserved

    def test_reorthonormalisation_changes_nothing_physical(self, monkeypatch):
        """Forcing the drift repair every 7 steps leaves <S^z> unchanged to 1e-12."""
        fields, etas = _disorder(12, 2.0, 300, seed=8)
        steps = np.array([0, 50, 300])
        plain = gaussian.gaussian_magnetizations(fields, etas, steps, gamma=1.0, tau=TAU)
        monkeypatch.setattr(gaussian, "_DRIFT_CHUNK", 7)
        monkeypatch.setattr(gaussian, "_DRIFT_THRESHOLD", 0.0)
        forced = gaussian.gaussian_magnetizations(fields, etas, steps, gamma=1.0, tau=TAU)
        np.testing.assert_allclose(forced, plain, rtol=0, atol=1e-12)

    def test_lowdin_repairs_drift_and_refuses_blowups(self):
        rng = np.random.default_rng(4)
        X = np.linalg.qr(rng.normal(size=(20, 5)) + 1j * rng.normal(size=(20, 5)))[0].T
        drifted = X * (1 + 3e-11)
        cr, ci = drifted.real.copy(), drifted.imag.copy()
        gaussian._lowdin_if_drifted(cr, ci, step=1)
        Y = cr + 1j * ci
        assert np.abs(Y.conj() @ Y.T - np.eye(5)).max() < 1e-14
        assert np.abs(Y - X).max() < 1e-13
        broken = X * (1 + 1e-6)
        with pytest.raises(FloatingPointError, match="orthonormality"):
            gaussian._lowdin_if_drifted(broken.real.copy(), broken.imag.copy(), step=1)

    def test_nan_raises(self):
        fields, etas = _disorder(10, 3.0, 20, seed=6)
        fields[3] = np.nan
        with pytest.raises((FloatingPointError, ValueError)):
            gaussian.gaussian_magnetizations(fields, etas, [0, 20], gamma=1.0, tau=TAU)


class TestApi:
    def test_auto_picks_gaussian_at_delta_zero(self, monkeypatch):
        calls = []
        real = gaussian.GaussianEngine.kicked

        def spy(self, *args, **kwargs):
            calls.append(kwargs)
            return real(self, *args, **kwargs)

        monkeypatch.setattr(gaussian.GaussianEngine, "kicked", spy)
        fields, etas = _disorder(6, 3.0, 10, seed=1)
        ensemble.magnetization_trajectory(fields, etas, [0, 10], delta=0.0, gamma=1.0)
        assert len(calls) == 1
        ensemble.magnetization_trajectory(fields, etas, [0, 10], delta=1.0, gamma=1.0)
        assert len(calls) == 1  # Delta != 0 stays many-body

    def test_gaussian_with_interactions_is_an_error(self):
        fields, etas = _disorder(6, 3.0, 10, seed=1)
        with pytest.raises(ValueError, match="delta"):
            ensemble.magnetization_trajectory(
                fields, etas, [0, 10], delta=1.0, gamma=1.0, engine="gaussian"
            )

    @pytest.mark.parametrize("gamma", [0.0, 1.0])
    def test_neel_profile_at_step_zero(self, gamma):
        L = 10
        fields, etas = _disorder(L, 3.0, 5, seed=2)
        sz = gaussian.gaussian_magnetizations(fields, etas, [0, 5], gamma=gamma, tau=TAU)
        j = np.arange(1, L + 1)
        np.testing.assert_array_equal(sz[0], (-1.0) ** (j + 1) / 2)

    def test_shapes(self):
        fields, etas = _disorder(8, 3.0, 30, seed=2)
        steps = [0, 3, 30]
        out = gaussian.gaussian_trajectory(fields, etas, steps, gamma=1.0, cuts=[2, 4])
        assert out.sz.shape == (3, 8) and out.entropy.shape == (3, 2)
        assert gaussian.gaussian_entropy(fields, etas, steps, gamma=1.0).shape == (3,)
        assert gaussian.gaussian_entropy(fields, etas, steps, gamma=1.0, cut=[1, 4]).shape == (3, 2)


def _schmidt_entropies(psi_sector: np.ndarray, L: int) -> np.ndarray:
    """Entropy of sites 1..c for c = 0..L from the SVD of the many-body state.

    The sector amplitudes are scattered into the full 2^L vector by the state integers; QuSpin
    puts site 1 in the most significant bit, so a row-major reshape to (2^c, 2^(L-c)) splits
    sites 1..c from c+1..L.
    """
    full = np.zeros(2**L, dtype=complex)
    full[model.sector_basis(L).states.astype(np.int64)] = psi_sector
    out = []
    for c in range(L + 1):
        s = np.linalg.svd(full.reshape(2**c, 2 ** (L - c)), compute_uv=False)
        p = s[s > 1e-15] ** 2
        out.append(-np.sum(p * np.log(p)))
    return np.array(out)


class TestEntropy:
    def test_product_state_has_zero_entropy(self):
        W = gaussian.neel_orbitals(12)
        assert all(gaussian.entanglement_entropy(W, c) == 0.0 for c in range(13))

    def test_single_bond_singlet(self):
        """One particle spread equally over sites 1 and 2: S(cut = 1) = ln 2."""
        W = np.zeros((2, 1), dtype=complex)
        W[:, 0] = [1, 1j]
        W /= np.sqrt(2)
        assert gaussian.entanglement_entropy(W, 1) == pytest.approx(np.log(2), abs=1e-14)

    @pytest.mark.parametrize("gamma", [0.0, 1.0])
    def test_against_many_body_schmidt(self, gamma):
        """Correlation-matrix entropy = Schmidt entropy of a dense many-body run (L = 8)."""
        L, n_steps = 8, 120
        fields, etas = _disorder(L, 2.0, n_steps, seed=9)
        steps = np.array([0, 40, n_steps])
        # Independent dense many-body evolution in the Sz_tot = 0 sector, Delta = 0.
        H = model.xxz_hamiltonian(fields, delta=0.0).toarray()
        U = sla.expm(-1j * TAU * H)
        sz1 = model.sz_diagonals(L)[0]
        psi = model.neel_state(L)
        ref, n = [], 0
        for target in steps:
            while n < target:
                psi = U @ psi
                psi = psi * np.exp(-1j * etas[n] * gamma * sz1)
                n += 1
            ref.append(_schmidt_entropies(psi, L))
        ref = np.array(ref)
        got = gaussian.gaussian_entropy(
            fields, etas, steps, gamma=gamma, tau=TAU, cut=list(range(L + 1))
        )
        assert ref[-1, L // 2] > 0.1  # the test state is really entangled
        np.testing.assert_allclose(got, ref, rtol=0, atol=TOL)
