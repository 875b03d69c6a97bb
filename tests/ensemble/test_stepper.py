"""The production Chebyshev stepper against dense exact evolution and QuSpin's reference path."""

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp
import scipy.special as special

import ensemble  # noqa: F401  (pins threads before numerics start)
from ensemble.engines import chebyshev
from ensemble.models import xxz as model
from ensemble.engines import stepper

TAU = 0.05


def _chain(L: int, W: float, seed: int, delta: float = 1.0):
    rng = np.random.default_rng(seed)
    fields = rng.uniform(-W, W, L)
    H = model.xxz_hamiltonian(fields, delta=delta)
    return rng, fields, H, model.sz_diagonals(L), model.neel_state(L)


def _dense_kicked(H, sz, psi0, etas, steps, gamma):
    """Dense exact: eigh of H once, then exp(-i tau H) and the kick exp(-i eta gamma Sz_1)."""
    energies, V = la.eigh(H.toarray())
    U = (V * np.exp(-1j * TAU * energies)) @ V.conj().T
    psi, out, n = psi0.astype(complex), [], 0
    for target in steps:
        while n < target:
            psi = np.exp(-1j * gamma * etas[n] * sz[0]) * (U @ psi)
            n += 1
        out.append(sz @ np.abs(psi) ** 2)
    return np.array(out)


class TestCompactOperator:
    def test_reproduces_csr_matvec(self):
        rng, _, H, sz, _ = _chain(10, 5.0, seed=1, delta=0.7)
        op = chebyshev.compact_operator(H, sz[0] > 0)
        assert op.hop == 0.5 and op.indices.dtype == np.uint32
        x = rng.normal(size=op.dim) + 1j * rng.normal(size=op.dim)
        gathered = np.array([x[op.indices[op.indptr[i] : op.indptr[i + 1]]].sum() for i in range(op.dim)])
        np.testing.assert_allclose(op.diag * x + op.hop * gathered, H @ x, atol=1e-13)
        np.testing.assert_array_equal(op.bath == 0, sz[0] > 0)

    def test_refuses_non_uniform_hopping(self):
        H = sp.csr_matrix(np.array([[0.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 2.0]]))
        with pytest.raises(ValueError, match="off-diagonal elements of H0 equal"):
            chebyshev.compact_operator(H, np.array([True, False, True]))

    @pytest.mark.parametrize("L", [8, 12])  # dense eigvalsh path (Ns = 70) and ARPACK (Ns = 924)
    @pytest.mark.parametrize("method", ["lanczos", "gershgorin"])
    def test_bounds_contain_spectrum(self, L, method):
        _, _, H, sz, _ = _chain(L, 8.0, seed=L)
        op = chebyshev.compact_operator(H, sz[0] > 0)
        lo, hi = chebyshev.spectral_bounds(op, method)
        ev = la.eigvalsh(H.toarray())
        assert lo <= ev[0] and ev[-1] <= hi
        assert hi - lo <= (1.3 if method == "gershgorin" else 1.01) * (ev[-1] - ev[0])


class TestKernel:
    @pytest.mark.parametrize("tol", [1e-10, 1e-12])
    def test_one_step_error_on_random_vectors(self, tol):
        rng, _, H, sz, _ = _chain(10, 8.0, seed=3)
        prop = chebyshev.ChebyshevPropagator(H, sz[0] > 0, tol=tol)
        U = la.expm(-1j * TAU * H.toarray())
        for _ in range(5):
            v = rng.normal(size=H.shape[0]) + 1j * rng.normal(size=H.shape[0])
            v /= np.linalg.norm(v)
            got = prop.run(v.copy(), TAU, np.ones((1, 2)))
            assert np.linalg.norm(got - U @ v) <= tol

    @pytest.mark.parametrize("tol", [1e-10, 1e-12])
    def test_order_meets_tolerance_and_is_minimal(self, tol):
        for a in (0.3, 1.13, 1.42, 1.8, 40.0, 1900.0):
            K = chebyshev.chebyshev_order(a, tol)
            k = np.arange(K + 1, K + 400)
            assert 2 * np.abs(special.jv(k, a)).sum() <= tol
            if K > 2:  # one order less would not meet tol
                assert 2 * np.abs(special.jv(np.arange(K, K + 400), a)).sum() > tol

    @pytest.mark.parametrize("tol", [1e-9, 1e-12])
    def test_series_from_one_bessel_table_is_bitwise_the_two_step_series(self, tol):
        for a in (0.0, 0.3, 1.42, 40.0, 377.7, 1900.0):
            shared = chebyshev.chebyshev_series(a, tol)
            separate = chebyshev.chebyshev_coefficients(a, chebyshev.chebyshev_order(a, tol))
            assert shared.dtype == separate.dtype and shared.shape == separate.shape
            assert np.array_equal(shared.view(np.uint64), separate.view(np.uint64))

    def test_long_interval_against_eigh(self):
        rng, _, H, sz, _ = _chain(10, 8.0, seed=4)
        prop = chebyshev.ChebyshevPropagator(H, sz[0] > 0)
        energies, V = la.eigh(H.toarray())
        v = rng.normal(size=H.shape[0]) + 1j * rng.normal(size=H.shape[0])
        v /= np.linalg.norm(v)
        for t in (0.7, 37.3, 480.0):  # 480 J^-1 needs several chunks
            exact = V @ (np.exp(-1j * energies * t) * (V.conj().T @ v))
            assert np.linalg.norm(prop.evolve(v.copy(), t) - exact) <= 1e-11

    def test_kick_sign_angle_and_site(self):
        """One kicked step is exp(-i eta gamma Sz_1) exp(-i tau H0): site 1, Sz = +-1/2, minus sign."""
        rng, _, H, sz, _ = _chain(8, 3.0, seed=5)
        prop = chebyshev.ChebyshevPropagator(H, sz[0] > 0)
        v = rng.normal(size=H.shape[0]) + 1j * rng.normal(size=H.shape[0])
        eta, gamma = 0.37, 1.7
        got = prop.run(v.copy(), TAU, stepper.kick_phases([eta], gamma))
        free = la.expm(-1j * TAU * H.toarray()) @ v
        np.testing.assert_allclose(got, np.exp(-1j * eta * gamma * sz[0]) * free, atol=1e-11)
        for wrong in (np.exp(+1j * eta * gamma * sz[0]), np.exp(-1j * eta * gamma * sz[1]),
                      np.exp(-2j * eta * gamma * sz[0])):
            assert np.abs(got - wrong * free).max() > 1e-2

    def test_one_compiled_signature_single_threaded(self):
        _, _, H, sz, psi0 = _chain(6, 2.0, seed=6)
        stepper.kicked_magnetizations(H, sz, psi0, np.zeros(3), np.array([0, 3]), gamma=1.0, tau=TAU)
        stepper.noiseless_magnetizations(H, sz, psi0, np.array([0.0, 3.0]))
        kernel = chebyshev._chebyshev_run
        assert len(kernel.signatures) == 1
        assert not kernel.targetoptions.get("parallel", False)
        assert kernel.targetoptions.get("nogil")


class TestAgainstDenseExact:
    def test_2000_steps_L12_both_methods(self):
        rng, _, H, sz, psi0 = _chain(12, 8.0, seed=12)
        etas = rng.normal(0.0, np.sqrt(TAU), 2000)
        steps = np.array([0, 1, 7, 100, 1000, 2000])
        exact = _dense_kicked(H, sz, psi0, etas, steps, gamma=1.0)
        cheb = stepper.kicked_magnetizations(H, sz, psi0, etas, steps, gamma=1.0, tau=TAU)
        assert np.abs(cheb - exact).max() <= 1e-8
        ref = stepper.kicked_magnetizations(
            H, sz, psi0, etas, steps, gamma=1.0, tau=TAU, method="expm_multiply_parallel"
        )
        assert np.abs(ref - exact).max() <= 1e-8
        assert np.abs(cheb - ref).max() <= 1e-8

    def test_noiseless_long_times_against_eigh(self):
        _, _, H, sz, psi0 = _chain(12, 8.0, seed=13)
        times = np.array([0.0, 0.05, 3.0, 50.0, 400.0, 3000.0])
        energies, V = la.eigh(H.toarray())
        c0 = V.conj().T @ psi0
        exact = np.array([sz @ np.abs(V @ (np.exp(-1j * energies * t) * c0)) ** 2 for t in times])
        got = stepper.noiseless_magnetizations(H, sz, psi0, times)
        assert np.abs(got - exact).max() <= 1e-9
        # QuSpin's Taylor path is ~10x slower over long intervals: check it on the shorter ones.
        ref = stepper.noiseless_magnetizations(H, sz, psi0, times[:5], method="expm_multiply_parallel")
        assert np.abs(ref - exact[:5]).max() <= 1e-9

    def test_gamma_zero_stepper_equals_noiseless(self):
        _, _, H, sz, psi0 = _chain(8, 4.0, seed=14)
        steps = np.array([0, 5, 60, 300])
        kicked = stepper.kicked_magnetizations(H, sz, psi0, np.ones(300), steps, gamma=0.0, tau=TAU)
        free = stepper.noiseless_magnetizations(H, sz, psi0, steps * TAU)
        assert np.abs(kicked - free).max() <= 1e-10

    def test_long_run_norm_check_allows_only_the_proven_drift(self):
        rng, _, H, sz, psi0 = _chain(8, 8.0, seed=15)
        n = 200_000  # t = 1e4: the systematic truncation drift passes 1e-8, within 2 n tol
        etas = rng.normal(0.0, np.sqrt(TAU), n)
        out = stepper.kicked_magnetizations(H, sz, psi0, etas, np.array([0, n]), gamma=1.0, tau=TAU)
        assert np.all(np.abs(out) <= 0.5 + 1e-6)
        with pytest.raises(FloatingPointError, match="norm drifted"):
            stepper._check_norm(np.full(4, np.nan + 0j), 7, allowance=1.0)

    def test_unknown_method_refused(self):
        _, _, H, sz, psi0 = _chain(4, 1.0, seed=0)
        with pytest.raises(ValueError, match="method must be one of"):
            stepper.noiseless_magnetizations(H, sz, psi0, np.array([0.0]), method="krylov")
