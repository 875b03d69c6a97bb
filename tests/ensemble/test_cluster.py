"""Thread hygiene: one numeric thread per process unless asked (docs/design.md, Threads)."""

import os

from ensemble import cluster, threads


def _worker_threads():
    return {var: os.environ.get(var) for var in threads.THREAD_VARIABLES}


def test_local_workers_get_the_requested_numeric_threads():
    for omp_threads in (1, 3):
        with cluster.connect(None, n_workers=1, omp_threads=omp_threads, dashboard=False, verbose=False) as client:
            (env,) = client.run(_worker_threads).values()
        assert env == {var: str(omp_threads) for var in threads.THREAD_VARIABLES}


def test_pin_threads_respects_the_users_choice(monkeypatch):
    for var in threads.THREAD_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    pinned = threads.pin_threads()
    assert pinned["OMP_NUM_THREADS"] == "8"
    assert all(pinned[var] == "1" for var in threads.THREAD_VARIABLES if var != "OMP_NUM_THREADS")
