"""The memory guard counts what runs at once: every local worker holds a realization and a baseline."""

import pytest

from ensemble.cli import main
from ensemble.run import cost
from ensemble.run.grid import plan_grid

GiB = 2**30
KW = dict(W=8.0, delta=1.0, t_final=1.0, n_times=4, n_realizations=2, seed=1)


@pytest.fixture
def machine(monkeypatch):
    """A machine with ``total`` GiB of which ``available`` are free."""
    def set_memory(available, total):
        monkeypatch.setattr(cost, "available_memory", lambda: int(available * GiB))
        monkeypatch.setattr(cost, "total_memory", lambda: int(total * GiB))
    return set_memory


def test_each_local_worker_counts(machine):
    machine(available=4, total=8)
    per = cost.bytes_per_realization(20, 1.0, 4, "manybody") + cost.WORKER_BASELINE
    fits = int(4 * GiB // per)
    plan = plan_grid(L=20, n_workers=fits, **KW)
    assert plan.verdicts[20].concurrent == fits
    with pytest.raises(ValueError, match=rf"{fits + 1} realizations at once at L=20 .* use at most {fits} workers"):
        plan_grid(L=20, n_workers=fits + 1, **KW)
    assert plan_grid(L=20, n_workers=fits + 1, client="synchronous", **KW).verdicts[20].concurrent == 1


@pytest.mark.parametrize("L, workers, max_memory", [(24, 8, 4.0), (26, 2, None)])
def test_the_audited_cases_are_refused_on_a_23_gb_machine(machine, L, workers, max_memory):
    machine(available=23e9 / GiB, total=23e9 / GiB)
    with pytest.raises(ValueError, match=f"realizations at once at L={L}|one realization at L={L}"):
        plan_grid(L=L, n_workers=workers, max_memory=max_memory, **KW)


def test_the_estimate_is_calibrated_above_the_measured_peak():
    # L = 24 measured by the audit: 3.89e9 bytes peak resident memory for one realization
    assert cost.bytes_per_realization(24, 1.0, 60, "manybody") + cost.WORKER_BASELINE > 3.89e9
    assert cost.bytes_per_realization(24, 1.0, 60, "manybody", calibrated=False) < 3.89e9


def test_the_memory_limit_of_a_given_clusters_workers_counts():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, memory_limit="1GiB",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with pytest.raises(ValueError, match="per thread the scheduler's workers have"):
            plan_grid(L=22, client=client, **KW)
        assert plan_grid(L=8, client=client, **KW).verdicts[8].concurrent is None


def test_the_dry_run_prints_what_the_workers_need_together(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text("[model]\ndelta = 1.0\n[grid]\nL = [8]\nW = [1.0]\nn_realizations = 2\nt_final = 1.0\n"
                      "[run]\nseed = 1\n")
    assert main(["run", str(config), "-o", str(tmp_path / "o.nc"), "--dry-run", "--workers", "2"]) == 0
    assert "(x 2 at once with the workers: ~" in capsys.readouterr().out


def test_the_default_local_cluster_has_one_worker_per_cpu():
    from dask.system import CPU_COUNT

    assert plan_grid(L=8, **KW).verdicts[8].concurrent == CPU_COUNT


def test_the_guard_asks_the_engine_registry_which_engine_runs():
    """Delta = 0 with the jump unraveling runs the many-body jump engine (the sector's memory), not the
    free-fermion one: the guard must count what actually runs."""
    assert cost.resolved_engine("auto", 0.0, "jump") == "manybody"
    assert cost.resolved_engine("auto", 0.0, "kick") == cost.resolved_engine("auto", 0.0, "kick", "averaged") == "gaussian"
    kw = dict(L=[30], W=[2.0], delta=0.0, t_final=10.0, n_realizations=1, seed=1, max_memory=4)
    with pytest.raises(ValueError, match="many-body engine, sector dimension 155117520"):
        plan_grid(unraveling="jump", **kw)
    assert plan_grid(**kw).verdicts[30].memory < 2**20  # the free-fermion engine: a few L x L matrices
