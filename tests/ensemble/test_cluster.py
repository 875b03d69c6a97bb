"""Where a run executes: thread hygiene of local workers (docs/design.md, Threads), TLS, the
[cluster] table, batch jobs.

The tests that need a real batch system are in ``test_slurm.py``; here dask-jobqueue runs without
one (job scripts, and its ``LocalCluster``, whose "jobs" are local processes).
"""

import os
import signal
import sys
import time
import tomllib

import dask
import pytest

import ensemble
from ensemble.run import cluster
from ensemble import config
from ensemble.run import jobqueue
from ensemble import threads
from ensemble.cli import main

TINY = dict(L=[4], W=[2.0], delta=1.0, t_final=5.0, n_times=4, n_realizations=2, seed=5, batch_size=1)

TOML = """
[model]
delta = 1.0
[grid]
L = [4]
W = [2.0]
n_realizations = 2
t_final = 5.0
n_times = 4
[run]
seed = 5
"""


def _worker_threads():
    return {var: os.environ.get(var) for var in threads.THREAD_VARIABLES}


def _bitwise_equal(a, b) -> bool:
    return all(a[name].values.tobytes() == b[name].values.tobytes() for name in ("sz", "field"))


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


class TestTLS:
    """On a shared host a local scheduler with TLS refuses every client without its credentials."""

    def test_clients_without_the_credentials_cannot_connect(self):
        pytest.importorskip("cryptography")
        from distributed import Client
        from distributed.security import Security

        tls = jobqueue.ClusterConfig(kind="local", tls=True)
        with cluster.connect(tls, n_workers=1, dashboard=False, verbose=False) as client:
            address = client.scheduler.address
            assert address.startswith("tls://127.0.0.1:")
            assert client.submit(int.__add__, 1, 2).result() == 3
            with pytest.raises(OSError):  # other credentials: the scheduler rejects the certificate
                Client(address, security=Security.temporary(), timeout="5s")
            with pytest.raises(OSError):  # no TLS at all
                Client(address.replace("tls://", "tcp://"), timeout="5s")

    def test_the_default_local_cluster_is_secured_and_opting_out_is_plain(self):
        from distributed import Client

        with cluster.connect(None, n_workers=1, dashboard=False, verbose=False) as client:
            address = client.scheduler.address
            assert address.startswith("tls://127.0.0.1:")
            with pytest.raises(OSError):  # another local user, without the credentials
                Client(address.replace("tls://", "tcp://"), timeout="5s")
        plain = jobqueue.ClusterConfig(kind="local", tls=False)
        with cluster.connect(plain, n_workers=1, dashboard=False, verbose=False) as client:
            assert client.scheduler.address.startswith("tcp://127.0.0.1:")

    def test_the_command_line_opts_out_with_no_tls(self, tmp_path, capsys):
        (tmp_path / "run.toml").write_text(TOML)
        assert main(["run", str(tmp_path / "run.toml"), "-o", str(tmp_path / "o.nc"), "--dry-run", "--no-tls"]) == 0
        assert "[cluster]\nkind = \"local\"\naddress = \"\"\ntls = false\n" in capsys.readouterr().out
        assert jobqueue.from_config({"cluster": {"tls": False}}) == jobqueue.ClusterConfig(kind="local", tls=False)
        assert jobqueue.from_config({"cluster": {}}) is None  # the default: a secured local cluster

    def test_a_tls_run_gives_the_synchronous_numbers(self):
        pytest.importorskip("cryptography")
        ds = ensemble.run_grid(**TINY, client=jobqueue.ClusterConfig(kind="local", tls=True), n_workers=1,
                               progress=False)
        assert _bitwise_equal(ds, ensemble.run_grid(**TINY, client="synchronous", progress=False))

    def test_missing_cryptography_is_one_clear_error(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "cryptography", None)
        with pytest.raises(ImportError, match=r"needs the cryptography package: pip install .*--no-tls"):
            with cluster.connect(jobqueue.ClusterConfig(kind="local", tls=True), n_workers=1, verbose=False):
                pass


class TestClusterConfig:
    @pytest.mark.parametrize("kwargs, message", [
        (dict(kind="lsf"), "cluster.kind must be one of"),
        (dict(kind="slurm", jobs=0), "cluster.jobs must be an integer >= 1; got 0"),
        (dict(kind="slurm", jobs=True), "cluster.jobs must be an integer >= 1; got True"),
        (dict(kind="slurm", cores=2.5), "cluster.cores must be an integer >= 1"),
        (dict(kind="slurm", job_script_prologue="module load x"), "cluster.job_script_prologue must be a list"),
        (dict(kind="slurm", memory=4), "cluster.memory must be a string"),
        (dict(kind="slurm", death_timeout=float("nan")), "cluster.death_timeout must be a number"),
        (dict(kind="slurm", scheduler_options=["host"]), "cluster.scheduler_options must be a table"),
        (dict(kind="address"), "cluster.address is required"),
        (dict(kind="slurm", address="tcp://127.0.0.1:1"), "cluster.address applies to"),
        (dict(kind="slurm", tls=True), "cluster.tls applies to"),
        (dict(kind="local", walltime="01:00:00"), "cluster.walltime applies to the batch kinds"),
        (dict(kind="local", jobs=4), "cluster.jobs applies to the batch kinds"),
    ])
    def test_bad_values_are_one_line_naming_the_key(self, kwargs, message):
        with pytest.raises(ValueError, match=message) as err:
            jobqueue.ClusterConfig(**kwargs)
        assert "\n" not in str(err.value)

    def test_from_config(self):
        cfg = config.resolve(tomllib.loads(TOML))
        assert jobqueue.from_config(cfg) is None  # the plain local cluster
        cfg["run"]["scheduler"] = "tcp://127.0.0.1:8786"
        assert jobqueue.from_config(cfg) == jobqueue.ClusterConfig(kind="address", address="tcp://127.0.0.1:8786")
        cfg["cluster"]["kind"] = "slurm"
        with pytest.raises(ValueError, match="run.scheduler = 'tcp://127.0.0.1:8786' contradicts cluster.kind"):
            jobqueue.from_config(cfg)
        cfg["run"]["scheduler"], cfg["cluster"]["jobs"] = "", 3
        assert jobqueue.from_config(cfg) == jobqueue.ClusterConfig(kind="slurm", jobs=3)

    def test_job_settings_processes_default_to_cores_and_threads_are_exported_first(self):
        kwargs = jobqueue.ClusterConfig(kind="slurm", cores=4, memory="8GB",
                                        job_script_prologue=["source env/bin/activate"]).job_kwargs(omp_threads=2)
        assert kwargs["processes"] == 4
        assert kwargs["job_script_prologue"] == [f"export {var}=2" for var in threads.THREAD_VARIABLES] + [
            "source env/bin/activate"]
        assert "walltime" not in kwargs and "queue" not in kwargs  # left to dask's configuration
        with pytest.raises(ValueError, match="cluster.memory is required for kind = 'slurm' "
                           r"\(or set jobqueue.slurm.memory in dask's configuration\)"):
            jobqueue.ClusterConfig(kind="slurm", cores=4).job_kwargs()
        with dask.config.set({"jobqueue.slurm.memory": "8GB"}):
            assert "memory" not in jobqueue.ClusterConfig(kind="slurm", cores=4).job_kwargs()


class TestJobScript:
    @pytest.fixture(autouse=True)
    def _jobqueue(self):
        pytest.importorskip("dask_jobqueue")

    def test_site_defaults_come_from_dasks_configuration(self):
        site = {"jobqueue.slurm.queue": "short", "jobqueue.slurm.walltime": "00:45:00",
                "jobqueue.slurm.job-script-prologue": ["module load python"]}
        with dask.config.set(site):
            script = jobqueue.job_script(jobqueue.ClusterConfig(kind="slurm", cores=2, memory="4GB"))
        assert "#SBATCH -p short" in script and "#SBATCH -t 00:45:00" in script
        assert "#SBATCH --cpus-per-task=2" in script and "--nworkers 2" in script and "--nthreads 1" in script
        assert script.index("export OMP_NUM_THREADS=1") < script.index("module load python") < script.index(
            "distributed.cli.dask_worker")

    @pytest.mark.parametrize("kind, directive", [("slurm", "#SBATCH -A mbl"), ("pbs", "#PBS -A mbl"),
                                                 ("sge", "#$ -P mbl")])
    def test_every_batch_kind_takes_every_key(self, kind, directive, tmp_path):
        settings = dict(cores=2, processes=2, memory="2GB", walltime="01:00:00", queue="q", account="mbl",
                        job_script_prologue=["true"], job_extra_directives=[], worker_extra_args=[],
                        death_timeout=30, local_directory="/tmp", log_directory=str(tmp_path), python=sys.executable)
        assert set(settings) == set(jobqueue.JOB_KEYS)
        script = jobqueue.job_script(jobqueue.ClusterConfig(kind=kind, **settings))
        assert directive in script and "--death-timeout 30" in script and "--local-directory /tmp" in script

    def test_the_printed_script_is_the_clusters_own(self):
        from dask_jobqueue import SLURMCluster

        config = jobqueue.ClusterConfig(kind="slurm", cores=2, memory="2GB", queue="q",
                                        scheduler_options={"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"})
        with SLURMCluster(**config.job_kwargs()) as batch:  # starts a scheduler, submits nothing
            real = batch.job_script().replace(batch.scheduler.address, "tcp://<insert-scheduler-address-here>:8786")
        assert jobqueue.job_script(config) == real

    def test_dry_run_prints_the_job_script_and_submits_nothing(self, tmp_path, monkeypatch, capsys):
        (tmp_path / "run.toml").write_text(TOML)
        fake = tmp_path / "bin"
        fake.mkdir()
        for command in ("sbatch", "qsub"):
            (fake / command).write_text(f"#!/bin/sh\ntouch {tmp_path}/submitted\n")
            (fake / command).chmod(0o755)
        monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
        argv = ["run", str(tmp_path / "run.toml"), "-o", str(tmp_path / "o.nc"), "--dry-run", "--cluster", "slurm",
                "--jobs", "3", "--set", 'cluster.walltime="02:00:00"', "--set", "cluster.account=mbl",
                "--set", "cluster.cores=2", "--set", 'cluster.memory="4GB"']
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert 'kind = "slurm"' in out and "jobs = 3" in out
        assert "# job script (3 jobs, nothing submitted)" in out
        assert "#SBATCH -t 02:00:00" in out and "#SBATCH -A mbl" in out and "export OMP_NUM_THREADS=1" in out
        assert not (tmp_path / "submitted").exists() and not (tmp_path / "o.nc").exists()

    def test_missing_dask_jobqueue_is_one_line_and_exit_2(self, tmp_path, monkeypatch, capsys):
        monkeypatch.setitem(sys.modules, "dask_jobqueue", None)
        (tmp_path / "run.toml").write_text(TOML)
        assert main(["run", str(tmp_path / "run.toml"), "-o", str(tmp_path / "o.nc"), "--dry-run",
                     "--cluster", "pbs"]) == 2
        err = capsys.readouterr().err.strip()
        assert err == ("mbl-avalanche: error: cluster.kind = \"pbs\" needs dask-jobqueue: "
                       "pip install 'mbl-avalanche[cluster]'")

    def test_cluster_flags_land_in_the_config(self, tmp_path, capsys):
        (tmp_path / "run.toml").write_text(TOML)
        assert main(["run", str(tmp_path / "run.toml"), "-o", str(tmp_path / "o.nc"), "--dry-run", "--tls"]) == 0
        assert "[cluster]\nkind = \"local\"\naddress = \"\"\ntls = true\n" in capsys.readouterr().out
        assert main(["run", str(tmp_path / "run.toml"), "-o", str(tmp_path / "o.nc"), "--dry-run", "--cluster",
                     "slurm", "--jobs", "0"]) == 2
        assert capsys.readouterr().err == "mbl-avalanche: error: cluster.jobs must be an integer >= 1; got 0\n"

    def test_unknown_cluster_key_is_refused(self, tmp_path, capsys):
        (tmp_path / "run.toml").write_text(TOML + '[cluster]\nkind = "slurm"\ncpus = 4\n')
        assert main(["run", str(tmp_path / "run.toml"), "-o", str(tmp_path / "o.nc"), "--dry-run"]) == 2
        assert "unknown config key cluster.cpus" in capsys.readouterr().err


def test_a_lost_job_is_resubmitted(caplog):
    """dask-jobqueue's LocalCluster runs each "job" as a local process: SIGKILL one, get a new one."""
    local = pytest.importorskip("dask_jobqueue.local")
    from distributed import Client

    with dask.config.set({"distributed.deploy.lost-worker-timeout": "0.5s"}):
        loopback = dict(worker_extra_args=["--host", "127.0.0.1"],
                        scheduler_options={"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"})
        with local.LocalCluster(cores=1, processes=1, memory="1GB", death_timeout=10, **loopback) as batch, \
                Client(batch) as client, jobqueue.keep_jobs(batch, 1, interval=0.5):
            batch.scale(jobs=1)
            client.wait_for_workers(1, timeout=60)
            (lost,) = [job.job_id for job in batch.workers.values()]
            os.kill(int(lost), signal.SIGKILL)
            end = time.monotonic() + 60
            while time.monotonic() < end:
                ids = [job.job_id for job in batch.workers.values()]
                if ids and lost not in ids and len(client.scheduler_info()["workers"]) == 1:
                    break
                time.sleep(0.2)
            assert ids and lost not in ids, "the lost job was not replaced"
            assert client.submit(int.__add__, 1, 2).result() == 3
    assert f"batch job {lost} (" in caplog.text
