"""run_grid on a real SLURM cluster through dask-jobqueue (marker ``slurm``).

CI starts a one-node SLURM on 127.0.0.1 with ``ci/slurm-up.sh`` (see ``.ci/run``); where ``sinfo``
is missing or no controller answers, these tests are skipped. Every address is loopback: the
scheduler runs in the test process on 127.0.0.1 and the workers bind 127.0.0.1. The grid is tiny
(L = 4, 6; seconds of work) so that the whole module costs well under a minute.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import dask
import pytest
import xarray as xr

import ensemble
from ensemble.run import jobqueue


def _why_no_slurm() -> str | None:
    if shutil.which("sinfo") is None:
        return "sinfo not found: no SLURM here (ci/slurm-up.sh starts a one-node cluster, as root on Debian)"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "sinfo timed out: no SLURM controller answers"
    states = out.stdout.split()
    if out.returncode or not any(state in ("idle", "mixed", "allocated") for state in states):
        return f"no usable SLURM node (sinfo: {(out.stderr or out.stdout).strip()[:120] or 'no nodes'})"
    return None


_REASON = _why_no_slurm()
pytestmark = [pytest.mark.slurm, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]

pytest.importorskip("dask_jobqueue", reason="the [cluster] extra (dask-jobqueue) is not installed")

#: The grid of every test here: 12 batches of a few tenths of a second each.
GRID = dict(L=[4, 6], W=[2.0, 5.0], delta=1.0, gamma=1.0, t_final=2000.0, n_times=8, n_realizations=12,
            seed=18, batch_size=4)
N_BATCHES = len(GRID["L"]) * len(GRID["W"]) * GRID["n_realizations"] // GRID["batch_size"]
JOBS = 2
LOOPBACK = "127.0.0.1"


def _pythonpath() -> str:
    """The jobs import the same ``ensemble`` as this test process, whatever installed it."""
    here = str(Path(ensemble.__file__).resolve().parents[1])
    return os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])


def _cluster_settings(log_directory: Path) -> dict:
    """The ``[cluster]`` settings of these tests: one core per job, everything on loopback."""
    return dict(
        kind="slurm", jobs=JOBS, cores=1, memory="1GB", walltime="00:10:00", death_timeout=10,
        log_directory=str(log_directory),
        job_script_prologue=[f"export PYTHONPATH={_pythonpath()}"],
        worker_extra_args=["--host", LOOPBACK, "--dashboard-address", f"{LOOPBACK}:0"],
        scheduler_options={"host": LOOPBACK, "dashboard_address": f"{LOOPBACK}:0"},
    )


def _slurm_job_id() -> str | None:
    return os.environ.get("SLURM_JOB_ID")


def _squeue() -> str:
    return subprocess.run(["squeue", "-o", "%.8i %.9P %.12j %.8u %.2t %.10M %R"], capture_output=True,
                          text=True, check=True).stdout


def _job_ids() -> set[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def _wait_for(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{_squeue()}")
        time.sleep(0.2)


def _assert_bitwise(ds: xr.Dataset, ref: xr.Dataset) -> None:
    for name in ("sz", "field"):
        assert ds[name].dims == ref[name].dims and ds[name].shape == ref[name].shape
        assert ds[name].values.tobytes() == ref[name].values.tobytes(), f"{name} differs from the synchronous run"
    for name in ref.coords:
        assert ds[name].values.tobytes() == ref[name].values.tobytes(), f"coordinate {name} differs"


@pytest.fixture(scope="module")
def reference() -> xr.Dataset:
    return ensemble.run_grid(**GRID, client="synchronous", progress=False)


@pytest.fixture(scope="class")
def slurm(tmp_path_factory):
    """A SLURMCluster of two one-core jobs whose lost jobs are resubmitted, and its client."""
    from distributed import Client

    config = jobqueue.ClusterConfig(**_cluster_settings(tmp_path_factory.mktemp("slurm-logs")))
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "1s"}):
        with jobqueue.open_cluster(config, resubmit_interval=1.0) as cluster:
            with Client(cluster) as client:
                client.wait_for_workers(JOBS, timeout=120)
                yield cluster, client


class TestSlurmCluster:
    def test_runs_on_the_batch_jobs_bitwise_like_synchronous(self, slurm, reference, capsys):
        cluster, client = slurm
        assert client.scheduler.address.startswith(f"tcp://{LOOPBACK}:")
        workers = client.scheduler_info()["workers"]
        assert len(workers) == JOBS and all(address.startswith(f"tcp://{LOOPBACK}:") for address in workers)
        job_ids = client.run(_slurm_job_id)
        assert sorted(job_ids.values()) == sorted(job.job_id for job in cluster.workers.values())
        with capsys.disabled():
            print("\n" + _squeue(), end="")
        ds = ensemble.run_grid(**GRID, client=client, progress=False)
        _assert_bitwise(ds, reference)

    def test_a_cancelled_job_costs_nothing_and_is_replaced(self, slurm, reference, tmp_path, capsys):
        cluster, client = slurm
        checkpoint = tmp_path / "parts"
        killed: list[str] = []
        errors: list[BaseException] = []

        def cancel_a_busy_job() -> None:
            try:
                _wait_for(lambda: any(checkpoint.glob("part-*.nc")), 120, "the first finished batch")
                while len(list(checkpoint.glob("part-*.nc"))) < N_BATCHES:
                    busy = [address for address, keys in client.processing().items() if keys]
                    if busy:
                        name = client.scheduler_info()["workers"][busy[0]]["name"]
                        killed.append(cluster.workers[name].job_id)
                        subprocess.run(["scancel", killed[0]], check=True)
                        return
                    time.sleep(0.05)
            except BaseException as exc:  # reported by the assertion below, not lost with the thread
                errors.append(exc)

        killer = threading.Thread(target=cancel_a_busy_job, daemon=True)
        killer.start()
        ds = ensemble.run_grid(**GRID, client=client, checkpoint=checkpoint, progress=False)
        killer.join(timeout=60)
        why = f"the cancelling thread failed: {errors[0]!r}" if errors else "the run finished between two polls"
        assert killed, f"no job was cancelled while the run was going ({why})"
        assert len(list(checkpoint.glob("part-*.nc"))) == N_BATCHES
        _assert_bitwise(ds, reference)

        def restored() -> bool:
            ids = {job.job_id for job in cluster.workers.values()}
            return killed[0] not in ids and len(client.scheduler_info()["workers"]) == JOBS

        _wait_for(restored, 120, f"a job replacing the cancelled job {killed[0]}")
        assert len(_job_ids() & {job.job_id for job in cluster.workers.values()}) == JOBS
        with capsys.disabled():
            print(f"\ncancelled job {killed[0]}; after resubmission:\n" + _squeue(), end="")


def test_killed_client_resumes_with_only_the_missing_batches(tmp_path, reference):
    """The whole allocation ends (client SIGKILLed, its jobs cancelled); the same command resumes."""
    settings = _cluster_settings(tmp_path / "logs")
    (tmp_path / "logs").mkdir()
    lines = [
        "[model]", f"delta = {GRID['delta']}", f"gamma = {GRID['gamma']}",
        "[grid]", f"L = {GRID['L']}", f"W = {GRID['W']}", f"n_realizations = {GRID['n_realizations']}",
        f"t_final = {GRID['t_final']}", f"n_times = {GRID['n_times']}",
        "[run]", f"seed = {GRID['seed']}", f"batch_size = {GRID['batch_size']}",
        "[cluster]",
    ]
    for key, value in settings.items():
        if isinstance(value, dict):
            lines.append(f"{key} = {{ " + ", ".join(f'{k} = "{v}"' for k, v in value.items()) + " }")
        elif isinstance(value, list):
            lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in value) + "]")
        else:
            lines.append(f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value}")
    config = tmp_path / "run.toml"
    config.write_text("\n".join(lines) + "\n")
    out, checkpoint = tmp_path / "out.nc", tmp_path / "parts"
    command = [sys.executable, "-m", "ensemble", "run", str(config), "-o", str(out), "--checkpoint", str(checkpoint)]
    env = dict(os.environ, PYTHONPATH=_pythonpath())

    before = _job_ids()
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: any(checkpoint.glob("part-*.nc")), 120, "the first finished batch")
    finally:
        first.kill()
        first.wait()
    orphans = _job_ids() - before
    assert orphans, "the killed client had no batch jobs"
    # the allocation ends with the client (its workers also quit by themselves, seconds later)
    subprocess.run(["scancel", *orphans], capture_output=True)
    _wait_for(lambda: not (_job_ids() & orphans), 60, f"the cancelled jobs {sorted(orphans)} to leave")
    kept = {path.name: path.stat().st_mtime_ns for path in checkpoint.glob("part-*.nc")}
    assert 0 < len(kept) < N_BATCHES

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stderr
    done, planned = map(int, re.findall(r"(\d+)/(\d+) batches", again.stderr)[-1])
    assert done == planned == N_BATCHES - len(kept)
    assert {name: (checkpoint / name).stat().st_mtime_ns for name in kept} == kept
    with xr.open_dataset(out) as ds:
        _assert_bitwise(ds.load(), reference)
