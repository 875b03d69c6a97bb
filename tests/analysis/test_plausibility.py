"""The physical rules every stored run satisfies (analysis.plausibility), each one failing on its own."""

import math

import numpy as np
import pytest

from analysis.plausibility import entanglement_problem, imbalance_problem, sz_problem

NEEL = np.array([0.5, -0.5, 0.5, -0.5])


def _run(values_t1):
    """sz (realization=1, gamma=2, time=2, site=4): the Néel start, then ``values_t1``."""
    sz = np.empty((1, 2, 2, 4))
    sz[:, :, 0] = NEEL
    sz[:, :, 1] = values_t1
    return sz


def test_a_genuine_looking_trajectory_passes():
    assert sz_problem(_run([0.2, -0.1, 0.1, -0.2]), starts_at_zero=True, neel=True) is None


@pytest.mark.parametrize("t1, fragment", [
    ([0.2, -0.1, 0.1, np.nan], "non-finite"),
    ([0.7, -0.7, 0.1, -0.1], "|Sz_j| = 0.7 > 1/2"),
    ([0.2, -0.1, 0.1, -0.1], "Sz_tot"),
])
def test_each_rule_at_later_times(t1, fragment):
    assert fragment in sz_problem(_run(t1), starts_at_zero=True, neel=True)


def test_the_start():
    sz = _run([0.2, -0.1, 0.1, -0.2])
    sz[0, :, 0] = [-0.5, 0.5, 0.5, -0.5]  # a product start of the sector, not Néel
    assert sz_problem(sz, starts_at_zero=True, neel=False) is None
    assert "Néel" in sz_problem(sz, starts_at_zero=True, neel=True)
    sz[0, 1, 0] = [0.5, -0.5, -0.5, 0.5]
    assert "differ between gamma" in sz_problem(sz, starts_at_zero=True, neel=False)
    sz[0, :, 0] = [0.25, -0.25, 0.25, -0.25]
    assert "not a product start" in sz_problem(sz, starts_at_zero=True, neel=False)
    assert sz_problem(sz, starts_at_zero=False, neel=True) is None  # no t = 0 sample: nothing to check


def test_imbalance_and_entanglement_bounds():
    assert imbalance_problem(np.array([[1.0, 0.3, -0.2]]), starts_at_zero=True) is None
    assert "|I|" in imbalance_problem(np.array([[1.0, 1.5]]), starts_at_zero=True)
    assert "not 1 at t = 0" in imbalance_problem(np.array([[0.9, 0.5]]), starts_at_zero=True)
    bound = 2 * math.log(2.0)  # L = 4
    assert entanglement_problem(np.array([[0.0, bound]]), 4, starts_at_zero=True) is None
    assert "outside" in entanglement_problem(np.array([[0.0, bound + 1e-3]]), 4, starts_at_zero=True)
    assert "outside" in entanglement_problem(np.array([[0.0, -1e-3]]), 4, starts_at_zero=True)
    assert "not 0 at t = 0" in entanglement_problem(np.array([[0.1, 0.2]]), 4, starts_at_zero=True)


def test_an_exact_gap_may_round_below_zero_within_its_resolution_only():
    from analysis.plausibility import rate_floor, rate_problem

    arrays = {"relaxation_rate_exact": np.array([-1e-20, 3e-5]), "relaxation_resolution_exact": np.array([1e-15, 1e-15])}
    floor = rate_floor("relaxation_rate_exact", arrays, arrays.get)
    assert rate_problem(arrays["relaxation_rate_exact"], gamma=1.0, floor=floor) is None
    assert "at or below" in rate_problem(np.array([-1.2e-7, 3e-5]), gamma=1.0, floor=floor)
    assert "at or below" in rate_problem(np.array([-1e-20]), gamma=1.0)  # weak-coupling rates: > 0
    assert "> gamma^2/2" in rate_problem(np.array([0.6]), gamma=1.0)
