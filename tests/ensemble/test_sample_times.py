"""Sample-time rules at their edges: the last sample is always t_final, t = 0 always first."""

import numpy as np
import pytest

from ensemble.run.grid import plan_grid, resolve_steps, sample_steps


@pytest.mark.parametrize("n_times", [2, 3, 4, 5, 10])
@pytest.mark.parametrize("n_final", [1, 2, 3, 7, 4000])
def test_every_small_n_times_ends_at_t_final(n_times, n_final):
    tau = 0.05
    steps = sample_steps(n_final * tau, tau, n_times)
    assert steps[0] == 0 and steps[-1] == n_final
    assert np.all(np.diff(steps) > 0)
    assert 2 <= steps.size <= n_times


def test_two_sample_times_are_t0_and_t_final():
    np.testing.assert_array_equal(sample_steps(200.0, 0.05, 2), [0, 4000])


def test_plan_of_two_sample_times_runs_to_t_final():
    plan = plan_grid(L=6, W=2.0, delta=1.0, t_final=200.0, n_times=2, n_realizations=2, seed=1,
                     max_memory=1.0)
    assert plan.steps.tolist() == [0, 4000]


@pytest.mark.parametrize("times", [[0.05], [0.0, 0.05], [0.05, 0.1], [1.0, 200.0]])
def test_explicit_times_keep_their_last_time(times):
    steps = resolve_steps(None, 0.05, None, times)
    assert steps[0] == 0 and steps[-1] * 0.05 == pytest.approx(times[-1])
