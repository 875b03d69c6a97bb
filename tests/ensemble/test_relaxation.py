"""The relaxation rate Gamma (ensemble.references.relaxation) against independent references.

References written here: a brute-force complex Liouvillian on the Sz_tot = 0 sector of the plain
numpy chain of ``dense_reference`` (opposite bit order from QuSpin's), with the double commutator
spelled out as Kronecker products of general matrices (no masks, no Hermitian coordinates); the
population block of that dissipator in the eigenbasis of H0 (so the Pauli prefactor gamma^2 is
checked, not assumed); and the late-time decay of the noise-averaged evolution of
``ensemble.references.lindblad``.
"""

import numpy as np
import pytest
import scipy.linalg as la
from dense_reference import dense_hamiltonian
from scipy.optimize import linear_sum_assignment

from ensemble.references import lindblad
from ensemble.references import relaxation as rx


def _fields(L: int, W: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-W, W, L)


def _brute_force_liouvillian(fields, *, delta, gamma, bath_site, J=1.0):
    """Complex Ns^2 x Ns^2 matrix of rho -> -i[H, rho] - (gamma^2/2)[A, [A, rho]], A = S^z_b, row-major vec."""
    H, sz = dense_hamiltonian(np.asarray(fields, float), delta, J)
    A = np.diag(sz[bath_site - 1]).astype(complex)
    eye = np.eye(H.shape[0])
    kappa = gamma**2 / 2
    A2 = A @ A
    # vec(X Y Z) = (X kron Z^T) vec(Y) for row-major vec
    return (-1j * (np.kron(H, eye) - np.kron(eye, H.T))
            - kappa * (np.kron(A2, eye) + np.kron(eye, A2.T) - 2 * np.kron(A, A.T)))


def _gap(eigenvalues: np.ndarray) -> float:
    """-max Re over all eigenvalues but the one nearest 0 (the steady state)."""
    rest = np.delete(eigenvalues, np.argmin(np.abs(eigenvalues)))
    return -float(rest.real.max())


CASES = [  # (L, W, delta, gamma, bath_site, seed)
    (4, 2.0, 1.0, 1.0, 1, 0),
    (4, 3.0, 0.5, 0.7, 3, 1),
    (6, 2.0, 1.0, 1.0, 1, 2),
    (6, 4.0, 1.0, 0.5, 4, 3),
    (6, 1.0, 0.0, 1.3, 6, 4),
]


@pytest.mark.parametrize("L, W, delta, gamma, bath_site, seed", CASES)
def test_whole_spectrum_matches_the_brute_force_liouvillian(L, W, delta, gamma, bath_site, seed):
    from ensemble.models import xxz

    fields = _fields(L, W, seed)
    reference = la.eigvals(_brute_force_liouvillian(fields, delta=delta, gamma=gamma, bath_site=bath_site))
    H = xxz.xxz_hamiltonian(fields, delta=delta)
    R = rx.hermitian_liouvillian(H, xxz.sz_diagonals(L)[bath_site - 1], gamma**2 / 2)
    assert R.dtype == np.float64
    ours = la.eigvals(R.toarray())
    assert ours.size == reference.size
    rows, cols = linear_sum_assignment(np.abs(ours[:, None] - reference[None, :]))
    assert np.abs(ours[rows] - reference[cols]).max() < 1e-10


@pytest.mark.parametrize("L, W, delta, gamma, bath_site, seed", CASES)
@pytest.mark.parametrize("method", ["dense", "sparse-lu"])
def test_gap_matches_the_brute_force_liouvillian(L, W, delta, gamma, bath_site, seed, method):
    fields = _fields(L, W, seed)
    reference = _gap(la.eigvals(_brute_force_liouvillian(fields, delta=delta, gamma=gamma, bath_site=bath_site)))
    result = rx.exact_relaxation_rate(fields, delta=delta, gamma=gamma, bath_site=bath_site, method=method)
    assert result.method == method
    assert result.rate > 0
    assert result.rate == pytest.approx(reference, rel=1e-9, abs=1e-12)
    assert result.resolution < 1e-12


def test_auto_method_is_dense_for_small_blocks():
    assert rx.exact_relaxation_rate(_fields(6, 2.0, 0), delta=1.0, gamma=1.0).method == "dense"


def test_pauli_generator_is_the_population_block_of_the_dissipator():
    """G_nm = <n| D(|m><m|) |n>, D = -(gamma^2/2)[A, [A, .]]: the prefactor gamma^2 of w_nm, numerically."""
    from ensemble.models import xxz

    L, gamma, bath_site = 6, 0.8, 2
    fields = _fields(L, 3.0, 5)
    G, energies, _ = rx.pauli_generator(xxz.xxz_hamiltonian(fields, delta=1.0), xxz.sz_diagonals(L)[bath_site - 1],
                                        gamma)
    H, sz = dense_hamiltonian(fields, 1.0)
    e_ref, V = la.eigh(H)
    A = np.diag(sz[bath_site - 1])
    kappa = gamma**2 / 2
    block = np.empty_like(G)
    for m in range(V.shape[1]):
        P = np.outer(V[:, m], V[:, m])
        D = -kappa * (A @ A @ P + P @ A @ A - 2 * A @ P @ A)
        block[:, m] = np.einsum("an,ab,bn->n", V, D, V)
    np.testing.assert_allclose(energies, e_ref, atol=1e-12)
    np.testing.assert_allclose(G, block, atol=1e-14)
    np.testing.assert_allclose(G.sum(axis=0), 0.0, atol=1e-14)
    assert np.abs(G - np.diag(np.diagonal(G))).max() > 1e-3  # off-diagonal rates are not trivially zero


def test_weak_coupling_gap_is_the_small_gamma_limit_of_the_exact_gap():
    """exact / weak -> 1 as gamma -> 0: the deviation falls at least 4x per halving of gamma (it goes as gamma^4)."""
    L, W, seed = 6, 3.0, 7
    fields = _fields(L, W, seed)
    deviations = []
    for gamma in (0.4, 0.2, 0.1, 0.05):
        exact = rx.exact_relaxation_rate(fields, delta=1.0, gamma=gamma).rate
        weak = rx.weak_coupling_relaxation_rate(fields, delta=1.0, gamma=gamma)
        assert weak.population / gamma**2 == pytest.approx(
            rx.weak_coupling_relaxation_rate(fields, delta=1.0, gamma=1.0).population, rel=1e-9)
        deviations.append(abs(exact / weak.rate - 1))
    assert all(b < 0.25 * a for a, b in zip(deviations, deviations[1:])), deviations
    assert deviations[-1] < 1e-4, deviations


def test_exact_gap_is_the_late_time_decay_of_the_noise_averaged_evolution():
    """ln |<S^z_j>(t)| falls at late times with slope -Gamma (the slowest mode is real here)."""
    L, gamma, seed = 6, 1.0, 11
    fields = _fields(L, 1.5, seed)
    result = rx.exact_relaxation_rate(fields, delta=1.0, gamma=gamma)
    assert abs(result.eigenvalue.imag) < 1e-10  # a non-oscillating slowest mode
    t_final = 14.0 / result.rate
    times = np.linspace(0.0, t_final, 29)
    sz = lindblad.magnetization(fields, times, delta=1.0, gamma=gamma)
    signal = np.abs(sz[:, 0])
    late = times > 8.0 / result.rate
    slope = np.polyfit(times[late], np.log(signal[late]), 1)[0]
    assert -slope == pytest.approx(result.rate, rel=2e-3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(gamma=0.0), "gamma must be > 0"),
    (dict(gamma=1.0, method="lanczos"), "method must be one of"),
    (dict(gamma=1.0, bath_site=7), "bath_site must be <= 6"),
    (dict(gamma=float("nan")), "gamma must be finite"),
])
def test_invalid_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rx.exact_relaxation_rate(_fields(6, 1.0, 0), delta=1.0, **kwargs)


def test_exact_gap_refuses_sizes_beyond_its_reach():
    with pytest.raises(ValueError, match="the exact gap needs L <= 8"):
        rx.exact_relaxation_rate(_fields(10, 1.0, 0), delta=1.0, gamma=1.0)


def test_weak_coupling_refuses_gamma_zero():
    with pytest.raises(ValueError, match="gamma must be > 0"):
        rx.weak_coupling_relaxation_rate(_fields(4, 1.0, 0), delta=1.0, gamma=0.0)


def _laplacian(w):
    return np.diag(w.sum(axis=0)) - w


def test_laplacian_gap_is_accurate_far_below_the_dense_eigensolvers_floor():
    """Two clusters joined by rates 1e-20: the gap (~1e-20) against a 50-digit eigensolver."""
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(0)
    w = np.triu(rng.uniform(0.5, 1.0, (6, 6)), 1)
    w[:3, 3:] *= 1e-20
    w = w + w.T
    with mpmath.workdps(50):
        exact = sorted(mpmath.eigsy(mpmath.matrix(_laplacian(w).tolist()), eigvals_only=True))
        reference = float(exact[1])
    gap, mode = rx.laplacian_gap(w)
    assert gap == pytest.approx(reference, rel=1e-12)
    assert abs(la.eigvalsh(_laplacian(w))[1] - reference) > 1e3 * reference  # what the dense solver gives
    assert abs(mode.sum()) < 1e-12 and np.linalg.norm(mode) == pytest.approx(1.0)


def test_laplacian_gap_matches_the_dense_solver_when_the_gap_is_large():
    rng = np.random.default_rng(1)
    w = rng.exponential(1.0, (40, 40))
    w = w + w.T
    np.fill_diagonal(w, 0.0)
    gap, _ = rx.laplacian_gap(w)
    assert gap == pytest.approx(la.eigvalsh(_laplacian(w))[1], rel=1e-12)


def test_laplacian_gap_refuses_a_reducible_generator():
    w = np.ones((4, 4))
    w[0, :] = w[:, 0] = 0.0
    with pytest.raises(ValueError, match="reducible"):
        rx.laplacian_gap(w)


def test_weak_coupling_gap_equals_the_dense_pauli_gap_and_carries_a_resolution():
    from ensemble.models import xxz

    L, gamma = 8, 1.0
    fields = _fields(L, 3.0, 12)
    weak = rx.weak_coupling_relaxation_rate(fields, delta=1.0, gamma=gamma)
    G, _, _ = rx.pauli_generator(xxz.xxz_hamiltonian(fields, delta=1.0), xxz.sz_diagonals(L)[0], gamma)
    assert weak.population == pytest.approx(la.eigvalsh(-G)[1], rel=1e-9)
    assert 0 < weak.resolution < 1e-6 * weak.population


def test_laplacian_gap_resolves_a_cluster_of_slow_modes_wider_than_the_block():
    """Twelve leaves hang on a fast core by nearly equal weak rates: twelve slow modes within 0.1 %.
    The block iteration cannot separate them in 3 iterations; the Lanczos fallback gives the dense
    eigenvalue (well conditioned here) to 1e-10."""
    rng = np.random.default_rng(4)
    core, leaves = 20, 12
    n = core + leaves
    w = np.zeros((n, n))
    w[:core, :core] = rng.uniform(0.5, 1.0, (core, core))
    for k in range(leaves):
        w[k, core + k] = 1e-3 * (1.0 + 1e-4 * k)
    w = np.triu(w, 1) + np.triu(w, 1).T
    dense = np.linalg.eigvalsh(np.diag(w.sum(axis=0)) - w)[1]
    gap, mode = rx.laplacian_gap(w, max_iterations=3)
    assert gap == pytest.approx(dense, rel=1e-10)
    assert abs(mode.sum()) < 1e-10 and np.linalg.norm(mode) == pytest.approx(1.0)


def test_an_impossible_shift_invert_eigenvalue_is_recomputed_densely(monkeypatch):
    """A Lindbladian has no eigenvalue with Re > 0: where the shift-invert LU returns one (a near-singular
    generator, seen at L = 8, W >= 16), the dense method gives the gap instead."""
    fields = np.random.default_rng(3).uniform(-4.0, 4.0, 6)
    dense = rx.exact_relaxation_rate(fields, delta=1.0, gamma=1.0, method="dense")
    monkeypatch.setattr(rx.spla, "eigs", lambda *a, **k: np.array([1.2e-7 + 0j, -0.3 + 0j]))
    got = rx.exact_relaxation_rate(fields, delta=1.0, gamma=1.0, method="sparse-lu")
    assert got.method == "dense" and got.rate == dense.rate
