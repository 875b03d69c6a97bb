"""The two-point relaxation rate (ensemble.references.two_point_relaxation) against independent references.

References: a brute-force complex Liouvillian of the many-body chain at Delta = 0 on the Sz_tot = 0
sector of the plain numpy chain of ``dense_reference`` (spins, no Jordan-Wigner, no hopping matrix);
the exact many-body gap of :func:`ensemble.references.relaxation.exact_relaxation_rate`; the time
integrator of :mod:`ensemble.references.lindblad` and ``scipy.linalg.expm`` of the generator; and the
dense method against the secular one.
"""

import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg as la
from dense_reference import dense_hamiltonian

from ensemble.models.free_fermion import hopping_matrix
from ensemble.references import lindblad
from ensemble.references.relaxation import exact_relaxation_rate
from ensemble.references.two_point_relaxation import TwoPointRate, two_point_generator, two_point_relaxation_rate


def _fields(L: int, W: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-W, W, L)


def _manybody_liouvillian(fields, *, gamma, bath_site, J=1.0):
    """Complex Ns^2 x Ns^2 matrix of rho -> -i[H, rho] - (gamma^2/2)[A, [A, rho]] at Delta = 0, row-major vec."""
    H, sz = dense_hamiltonian(np.asarray(fields, float), 0.0, J)
    A = np.diag(sz[bath_site - 1]).astype(complex)
    eye = np.eye(H.shape[0])
    A2 = A @ A
    return (-1j * (np.kron(H, eye) - np.kron(eye, H.T))
            - 0.5 * gamma**2 * (np.kron(A2, eye) + np.kron(eye, A2.T) - 2 * np.kron(A, A.T)))


@pytest.mark.parametrize("L, W, gamma, bath_site, seed", [
    (4, 2.0, 1.0, 1, 0), (4, 1.0, 0.7, 3, 1), (6, 2.0, 1.0, 1, 2), (6, 3.0, 1.3, 4, 3), (6, 0.5, 1.0, 6, 4),
])
def test_every_two_point_eigenvalue_is_a_manybody_eigenvalue(L, W, gamma, bath_site, seed):
    fields = _fields(L, W, seed)
    two_point = la.eigvals(two_point_generator(fields, gamma=gamma, bath_site=bath_site))
    manybody = la.eigvals(_manybody_liouvillian(fields, gamma=gamma, bath_site=bath_site))
    distance = np.abs(two_point[:, None] - manybody[None, :]).min(axis=1)
    assert two_point.size == L * L
    assert distance.max() < 1e-10, distance.max()


@pytest.mark.parametrize("bath_site", [1, 3])
def test_the_zero_eigenvalue_is_simple_and_the_identity_is_the_steady_state(bath_site):
    fields = _fields(6, 2.0, 7)
    K = two_point_generator(fields, gamma=1.0, bath_site=bath_site)
    eigenvalues = la.eigvals(K)
    assert np.sum(np.abs(eigenvalues) < 1e-10) == 1
    assert np.sort(np.abs(eigenvalues))[1] > 1e-6
    assert np.abs(K @ np.eye(6).ravel()).max() < 1e-14
    assert eigenvalues.real.max() < 1e-12


def test_a_dark_orbital_gives_a_second_zero_eigenvalue_and_a_zero_rate():
    """Mirror-symmetric fields with the bath in the middle: the odd orbital (1, 0, -1) never sees it."""
    fields = np.array([0.3, -0.2, 0.3])
    K = two_point_generator(fields, gamma=1.0, bath_site=2)
    assert np.sum(np.abs(la.eigvals(K)) < 1e-10) == 2
    for method in ("dense", "secular"):
        result = two_point_relaxation_rate(fields, gamma=1.0, bath_site=2, method=method)
        assert abs(result.rate) <= 10 * result.resolution, (method, result)


@pytest.mark.parametrize("L, W, bath_site, seed", [
    (4, 1.0, 1, 0), (4, 2.0, 1, 1), (6, 1.0, 1, 2), (6, 2.0, 4, 3), (8, 1.0, 1, 4), (8, 2.0, 1, 5),
])
def test_the_two_point_rate_bounds_and_here_equals_the_manybody_gap(L, W, bath_site, seed):
    """Gamma_2 >= Gamma: the two-point modes span an invariant subspace of the many-body Lindbladian.

    In every case here (L = 4, 6, 8; W = 1, 2; bath at an end and inside) the two coincide to within
    the rounding resolution (relative differences 1e-13 to 5e-11): the slowest many-body mode at
    Delta = 0 is a one-body mode for these fields. The equality is asserted as that observation, the
    inequality as the theorem.
    """
    fields = _fields(L, W, seed)
    exact = exact_relaxation_rate(fields, delta=0.0, gamma=1.0, bath_site=bath_site)
    two_point = two_point_relaxation_rate(fields, gamma=1.0, bath_site=bath_site)
    tolerance = 10 * max(exact.resolution, two_point.resolution)
    assert two_point.rate >= exact.rate - tolerance
    assert abs(two_point.rate - exact.rate) <= tolerance + 1e-10 * exact.rate


def test_late_time_decay_of_a_generic_correlation_matrix_is_the_rate():
    """expm of the generator on a random Hermitian G(0): ||G(t) - G_ss|| ~ exp(-Gamma_2 t) late."""
    L, gamma = 4, 1.0
    fields = _fields(L, 1.0, 0)
    result = two_point_relaxation_rate(fields, gamma=gamma, method="dense")
    assert abs(result.eigenvalue.imag) < 1e-12  # a population mode: no oscillation of the norm
    rng = np.random.default_rng(1)
    X = rng.standard_normal((L, L)) + 1j * rng.standard_normal((L, L))
    G0 = X + X.conj().T
    steady = np.trace(G0) / L * np.eye(L)
    K = two_point_generator(fields, gamma=gamma)
    t1, t2 = 1000.0, 1400.0  # the next mode (Re = -0.041) is then down by exp(-29)
    n1, n2 = (np.linalg.norm(la.expm(K * t) @ G0.ravel() - steady.ravel()) for t in (t1, t2))
    slope = -np.log(n2 / n1) / (t2 - t1)
    assert slope == pytest.approx(result.rate, rel=1e-7)


def test_late_time_decay_of_the_lindblad_integrator_is_the_rate():
    """The Taylor integrator of ensemble.references.lindblad from the Néel state: <S^z_j>(t) ~ exp(-Gamma_2 t).

    At t = 700 the next mode is down by exp(-20) relative to the slowest; the integrator's accumulated
    absolute error (~1e-12 over ~10^4 sub-steps) limits the slope to ~1e-7 relative.
    """
    L, gamma = 4, 1.0
    fields = _fields(L, 1.0, 0)
    result = two_point_relaxation_rate(fields, gamma=gamma, bath_site=1)
    times = np.array([700.0, 900.0])
    sz = lindblad.correlation_lindblad(hopping_matrix(fields), lindblad.neel_correlation(L), times,
                                       kappa=0.5 * gamma**2, bath_site=1)
    slope = -np.log(np.abs(sz[1]) / np.abs(sz[0])) / (times[1] - times[0])
    np.testing.assert_allclose(slope, result.rate, rtol=1e-6)


@pytest.mark.parametrize("L, W, bath_site, seed", [
    (10, 0.5, 1, 0), (10, 1.0, 1, 1), (10, 1.0, 4, 2), (10, 2.0, 10, 3), (20, 0.25, 1, 4), (20, 0.5, 1, 5),
    (20, 0.5, 7, 6),
])
def test_dense_and_secular_methods_agree(L, W, bath_site, seed):
    """To 1e-10 relative, up to the dense method's absolute rounding error (a few times ``resolution``)."""
    fields = _fields(L, W, seed)
    dense = two_point_relaxation_rate(fields, gamma=1.0, bath_site=bath_site, method="dense")
    secular = two_point_relaxation_rate(fields, gamma=1.0, bath_site=bath_site, method="secular")
    assert (dense.method, secular.method) == ("dense", "secular")
    assert dense.resolution == secular.resolution
    assert dense.rate > 100 * dense.resolution  # resolved: the comparison means something
    assert abs(dense.rate - secular.rate) <= 1e-10 * dense.rate + 4 * dense.resolution
    assert abs(dense.eigenvalue.imag - secular.eigenvalue.imag) <= 1e-8


def test_auto_method_and_result_type():
    small = two_point_relaxation_rate(_fields(6, 1.0, 0), gamma=1.0)
    large = two_point_relaxation_rate(_fields(24, 1.0, 0), gamma=1.0)
    assert isinstance(small, TwoPointRate) and small.method == "dense"
    assert large.method == "secular"
    with pytest.raises(AttributeError):
        small.rate = 1.0  # frozen


def test_odd_lengths_are_accepted():
    fields = _fields(5, 1.0, 3)
    dense = two_point_relaxation_rate(fields, gamma=0.8, method="dense")
    secular = two_point_relaxation_rate(fields, gamma=0.8, method="secular")
    assert abs(dense.rate - secular.rate) <= 1e-10 * dense.rate + 4 * dense.resolution


@pytest.mark.parametrize("fields, kwargs, match", [
    ([0.3], {"gamma": 1.0}, "L = len"),
    ([], {"gamma": 1.0}, "L = len"),
    ([[0.1, 0.2], [0.3, 0.4]], {"gamma": 1.0}, "1-D"),
    ([0.1, np.nan], {"gamma": 1.0}, "finite"),
    ([0.1, np.inf], {"gamma": 1.0}, "finite"),
    ([0.1, 0.2], {"gamma": 0.0}, "gamma must be > 0"),
    ([0.1, 0.2], {"gamma": -1.0}, "gamma must be > 0"),
    ([0.1, 0.2], {"gamma": np.nan}, "gamma must be finite"),
    ([0.1, 0.2], {"gamma": "1"}, "gamma must be a real number"),
    ([0.1, 0.2], {"gamma": 1.0, "J": 0.0}, "J must be nonzero"),
    ([0.1, 0.2], {"gamma": 1.0, "bath_site": 0}, "bath_site must be >= 1"),
    ([0.1, 0.2], {"gamma": 1.0, "bath_site": 3}, "bath_site must be <= 2"),
    ([0.1, 0.2], {"gamma": 1.0, "bath_site": 1.0}, "bath_site must be an integer"),
    ([0.1, 0.2], {"gamma": 1.0, "method": "sparse"}, "method must be one of"),
])
def test_invalid_arguments_are_refused(fields, kwargs, match):
    with pytest.raises(ValueError, match=match):
        two_point_relaxation_rate(fields, **kwargs)
    if "method" not in kwargs:
        with pytest.raises(ValueError, match=match):
            two_point_generator(fields, **kwargs)


def test_importing_it_loads_neither_dask_nor_xarray():
    code = ("import sys, ensemble.references.two_point_relaxation\n"
            "bad = sorted(m for m in ('dask', 'distributed', 'xarray') if m in sys.modules)\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
