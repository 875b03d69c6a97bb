"""Where a run's workers come from: the ``[cluster]`` table, batch-queue clusters, lost jobs.

:class:`ClusterConfig` describes the cluster of a run, in Python or as the ``[cluster]`` table of a
TOML config (same names):

.. code-block:: toml

    [cluster]
    kind = "slurm"            # "local" (default) | "address" | "slurm" | "pbs" | "sge"
    jobs = 10                 # batch jobs kept running; lost ones are resubmitted
    cores = 32                # per job; default: one single-threaded worker process per core
    memory = "64GB"           # per job
    walltime = "12:00:00"
    queue = "normal"
    account = "myproject"
    job_script_prologue = ["module load python", "source ~/venvs/mbl/bin/activate"]

Every batch-queue key left out comes from dask's own configuration (``jobqueue.slurm.*`` in
``~/.config/dask/jobqueue.yaml``), as dask-jobqueue users expect. ``kind = "address"`` with
``address = "tcp://host:8786"`` connects to a running scheduler; ``kind = "local"`` (the default)
is secured with temporary TLS credentials that only this process holds, so other users of a shared
login node cannot submit work to its workers; ``tls = false`` opts out.

Lost jobs. Dask reruns the tasks of a worker that dies (walltime, preemption, ``scancel``) on the
remaining workers, with identical results since tasks are pure. dask-jobqueue does not replace
the job: :func:`keep_jobs` calls ``cluster.scale(jobs=n)`` every few seconds, which resubmits a
job once ``distributed`` has declared its worker lost (``distributed.deploy.lost-worker-timeout``,
15 s by default). When the whole allocation ends (the client dies), the checkpoint directory,
written by the client process only, lets the same command resume with the missing batches.

dask-jobqueue is the optional extra ``mbl-avalanche[cluster]``; ``cryptography`` (TLS) is a dependency.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ensemble.threads import THREAD_VARIABLES

logger = logging.getLogger(__name__)

__all__ = ["ClusterConfig", "CONFIG_SCHEMA", "KINDS", "BATCH_KINDS", "from_config", "open_cluster", "keep_jobs",
           "job_script"]

#: dask-jobqueue's cluster class for each batch-queue kind.
BATCH_KINDS = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster"}
KINDS = ("local", "address", *BATCH_KINDS)

#: Seconds between two checks of the job count by :func:`keep_jobs`.
RESUBMIT_INTERVAL = 5.0

#: Batch-queue settings passed through to dask-jobqueue when given (its own defaults otherwise).
JOB_KEYS = ("cores", "processes", "memory", "walltime", "queue", "account", "job_script_prologue",
            "job_extra_directives", "worker_extra_args", "death_timeout", "local_directory",
            "log_directory", "python")

_NUMBER = (int, float)
#: key -> (accepted TOML types, default); the ``[cluster]`` table of a run config.
CONFIG_SCHEMA: dict[str, tuple[tuple[type, ...], Any]] = {
    "kind": ((str,), "local"),
    "address": ((str,), ""),
    "tls": ((bool,), None),
    "jobs": ((int,), 1),
    "cores": ((int,), None),
    "processes": ((int,), None),
    "memory": ((str,), None),
    "walltime": ((str,), None),
    "queue": ((str,), None),
    "account": ((str,), None),
    "job_script_prologue": ((list,), None),
    "job_extra_directives": ((list,), None),
    "worker_extra_args": ((list,), None),
    "death_timeout": (_NUMBER, None),
    "local_directory": ((str,), None),
    "log_directory": ((str,), None),
    "python": ((str,), None),
    "scheduler_options": ((dict,), None),
    "gpus": ((int,), 0),
}

_EXTRA = "pip install 'mbl-avalanche[cluster]'"


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"cluster.{name} must be an integer >= 1; got {value!r}")


def _strings(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"cluster.{name} must be a list of strings; got {value!r}")
    return tuple(value)


@dataclass(frozen=True, kw_only=True)
class ClusterConfig:
    """The cluster a run executes on (``run_grid(client=ClusterConfig(...))``, TOML ``[cluster]``).

    Parameters
    ----------
    kind : {"local", "address", "slurm", "pbs", "sge"}
        ``"local"``: a ``distributed.LocalCluster`` on 127.0.0.1 (``run_grid``'s ``n_workers``).
        ``"address"``: an existing scheduler at ``address``. The batch kinds start a dask-jobqueue
        cluster whose scheduler runs in this process and whose workers are batch jobs.
    address : str
        Scheduler address for ``kind="address"`` (e.g. ``"tcp://head:8786"``).
    tls : bool, optional
        ``kind="local"`` only: encrypt and authenticate every connection with temporary
        credentials (``distributed.security.Security.temporary()``) held by this process alone.
        Default (None): on for the local cluster; ``False`` opts out.
    jobs : int
        Batch jobs kept running; a lost job is resubmitted (:func:`keep_jobs`).
    cores, processes, memory, walltime, queue, account, job_script_prologue, job_extra_directives, \
worker_extra_args, death_timeout, local_directory, log_directory, python
        Passed to the dask-jobqueue cluster when given; left out, they come from dask's
        configuration (``jobqueue.<kind>.*``). ``account`` is SGE's project (``-P``).
        ``processes`` defaults to ``cores``: one single-threaded worker process per core (see
        :mod:`ensemble.threads`). The job script exports the numeric thread variables
        (``omp_threads``) before ``job_script_prologue``.
    gpus : int
        Batch kinds: GPUs per job (``--gres=gpu:N`` on SLURM, ``ngpus=N`` on PBS, ``gpu=N`` on SGE),
        with one worker process per GPU that advertises the Dask resource ``GPU = 1``; the tasks of a
        ``device = "gpu"`` run ask for that resource (docs/cluster.md). 0: no GPUs.
    scheduler_options : mapping, optional
        Options of the scheduler that runs in this process (e.g. ``{"host": "10.0.0.1",
        "dashboard_address": ":8787"}``).
    """

    kind: str = "local"
    address: str = ""
    tls: bool | None = None
    jobs: int = 1
    cores: int | None = None
    processes: int | None = None
    memory: str | None = None
    walltime: str | None = None
    queue: str | None = None
    account: str | None = None
    job_script_prologue: Sequence[str] | None = None
    job_extra_directives: Sequence[str] | None = None
    worker_extra_args: Sequence[str] | None = None
    death_timeout: float | None = None
    local_directory: str | None = None
    log_directory: str | None = None
    python: str | None = None
    scheduler_options: Mapping[str, Any] | None = None
    gpus: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"cluster.kind must be one of {', '.join(map(repr, KINDS))}; got {self.kind!r}")
        if self.tls is not None and not isinstance(self.tls, bool):
            raise ValueError(f"cluster.tls must be true or false; got {self.tls!r}")
        _positive_int("jobs", self.jobs)
        if not isinstance(self.gpus, int) or isinstance(self.gpus, bool) or self.gpus < 0:
            raise ValueError(f"cluster.gpus must be an integer >= 0; got {self.gpus!r}")
        if self.gpus and self.kind not in BATCH_KINDS:
            raise ValueError(f"cluster.gpus applies to the batch kinds ({', '.join(BATCH_KINDS)}) only; kind is "
                             f"{self.kind!r} (a local run on device = \"gpu\" uses one worker for the GPU)")
        for name in ("cores", "processes"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name))
        for name in ("job_script_prologue", "job_extra_directives", "worker_extra_args"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _strings(name, getattr(self, name)))
        if self.death_timeout is not None and not (
            isinstance(self.death_timeout, (int, float)) and not isinstance(self.death_timeout, bool)
            and math.isfinite(self.death_timeout) and self.death_timeout > 0
        ):
            raise ValueError(f"cluster.death_timeout must be a number of seconds > 0; got {self.death_timeout!r}")
        for name in ("address", "memory", "walltime", "queue", "account", "local_directory", "log_directory",
                     "python"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"cluster.{name} must be a string; got {value!r}")
        if self.scheduler_options is not None and not isinstance(self.scheduler_options, Mapping):
            raise ValueError(f"cluster.scheduler_options must be a table; got {self.scheduler_options!r}")
        if self.kind == "address" and not self.address:
            raise ValueError('cluster.address is required with cluster.kind = "address" (e.g. "tcp://head:8786")')
        if self.address and self.kind != "address":
            raise ValueError(f'cluster.address applies to cluster.kind = "address" only; kind is {self.kind!r}')
        if self.tls and self.kind != "local":
            raise ValueError(f'cluster.tls applies to cluster.kind = "local" only; kind is {self.kind!r}')
        if self.kind not in BATCH_KINDS:
            given = [name for name in (*JOB_KEYS, "scheduler_options") if getattr(self, name) is not None]
            if given or self.jobs != 1:
                name = given[0] if given else "jobs"
                raise ValueError(f"cluster.{name} applies to the batch kinds ({', '.join(BATCH_KINDS)}) only; "
                                 f"kind is {self.kind!r}")

    @property
    def is_batch(self) -> bool:
        """True for the dask-jobqueue kinds."""
        return self.kind in BATCH_KINDS

    def job_kwargs(self, omp_threads: int = 1) -> dict[str, Any]:
        """Keyword arguments of the dask-jobqueue cluster class (only the settings given here).

        Parameters
        ----------
        omp_threads : int
            Numeric threads per worker process, exported at the top of the job script.

        Raises
        ------
        ValueError
            If ``cores`` or ``memory`` is neither given nor in dask's configuration.
        """
        import dask

        kwargs = {name: getattr(self, name) for name in JOB_KEYS if getattr(self, name) is not None}
        for name in ("cores", "memory"):
            if name not in kwargs and dask.config.get(f"jobqueue.{self.kind}.{name}", None) is None:
                raise ValueError(f"cluster.{name} is required for kind = {self.kind!r} "
                                 f"(or set jobqueue.{self.kind}.{name} in dask's configuration)")
        for name in ("job_script_prologue", "job_extra_directives", "worker_extra_args"):
            if name in kwargs:
                kwargs[name] = list(kwargs[name])
        if "processes" not in kwargs:
            cores = kwargs.get("cores", dask.config.get(f"jobqueue.{self.kind}.cores", None))
            if cores and dask.config.get(f"jobqueue.{self.kind}.processes", None) is None:
                kwargs["processes"] = cores  # single-threaded workers, not dask-jobqueue's sqrt(cores)
        user = kwargs.get("job_script_prologue", dask.config.get(f"jobqueue.{self.kind}.job-script-prologue", []))
        kwargs["job_script_prologue"] = [f"export {var}={omp_threads}" for var in THREAD_VARIABLES] + list(user or [])
        if self.kind == "sge" and "account" in kwargs:
            kwargs["project"] = kwargs.pop("account")  # SGE's -P: dask-jobqueue calls it project there
        if self.scheduler_options is not None:
            kwargs["scheduler_options"] = dict(self.scheduler_options)
        if self.gpus:
            directive = {"slurm": f"--gres=gpu:{self.gpus}", "pbs": f"-l ngpus={self.gpus}",
                         "sge": f"-l gpu={self.gpus}"}[self.kind]
            kwargs["job_extra_directives"] = [*kwargs.get("job_extra_directives", []), directive]
            kwargs["worker_extra_args"] = [*kwargs.get("worker_extra_args", []), "--resources", "GPU=1"]
            kwargs["processes"] = self.gpus  # one worker process per GPU
        return kwargs


def from_config(cfg: Mapping[str, Mapping[str, Any]]) -> ClusterConfig | None:
    """The :class:`ClusterConfig` of a resolved run config, or None for the plain local cluster.

    ``run.scheduler`` (``--scheduler``) is the short form of ``kind = "address"``.

    Raises
    ------
    ValueError
        If a ``[cluster]`` value is invalid or contradicts ``run.scheduler``.
    """
    table = {k: v for k, v in cfg.get("cluster", {}).items() if v is not None}
    scheduler = cfg.get("run", {}).get("scheduler", "")
    if scheduler:
        kind, address = table.get("kind", "local"), table.get("address", "")
        if kind not in ("local", "address") or address not in ("", scheduler):
            raise ValueError(f"run.scheduler = {scheduler!r} contradicts cluster.kind = {kind!r}"
                             + (f", cluster.address = {address!r}" if address else ""))
        table.update(kind="address", address=scheduler)
    config = ClusterConfig(**table)
    if config.kind == "local" and config.tls is None:
        return None  # the default: a TLS-secured local cluster
    return config


def _cluster_class(kind: str):
    try:
        import dask_jobqueue
    except ImportError:
        raise ImportError(f'cluster.kind = "{kind}" needs dask-jobqueue: {_EXTRA}') from None
    return getattr(dask_jobqueue, BATCH_KINDS[kind])


def job_script(config: ClusterConfig, omp_threads: int = 1) -> str:
    """The batch script one job would run, as ``cluster.job_script()`` prints it; submits nothing.

    No scheduler is started, so its address appears as dask-jobqueue's placeholder.

    Parameters
    ----------
    config : ClusterConfig
        A batch kind.
    omp_threads : int
        Numeric threads per worker process.
    """
    import dask

    if not config.is_batch:
        raise ValueError(f"cluster.kind = {config.kind!r} submits no batch jobs")
    cls = _cluster_class(config.kind)
    kwargs = config.job_kwargs(omp_threads)
    kwargs.pop("scheduler_options", None)
    job = cls.job_cls(
        "tcp://<insert-scheduler-address-here>:8786", name="dummy-name", config_name=config.kind,
        interface=dask.config.get(f"jobqueue.{config.kind}.interface", None), protocol=None, security=None,
        **kwargs,
    )
    return job.job_script()


@contextmanager
def keep_jobs(cluster, jobs: int, *, interval: float = RESUBMIT_INTERVAL, verbose: bool = True) -> Iterator[None]:
    """Keep ``jobs`` batch jobs running: resubmit the ones that die, while the block runs.

    Every ``interval`` seconds this calls ``cluster.scale(jobs=jobs)`` on the cluster's event loop.
    dask-jobqueue itself never replaces a lost job (neither ``scale`` nor ``adapt`` does on its
    own), but once ``distributed`` has declared the job's worker lost
    (``distributed.deploy.lost-worker-timeout``) scaling again submits a new job under the same
    worker name.

    Parameters
    ----------
    cluster : dask_jobqueue.JobQueueCluster
        A running cluster.
    jobs : int
        The job count to keep.
    interval : float
        Seconds between two checks.
    verbose : bool
        Say on stderr which job was lost and which one replaced it.
    """
    from tornado.ioloop import PeriodicCallback

    _positive_int("jobs", jobs)
    known: dict[str, str] = {}
    stopped = False

    def check() -> None:
        if stopped:
            return
        current = {name: job.job_id for name, job in cluster.workers.items() if getattr(job, "job_id", None)}
        for name, job_id in known.items():
            if verbose and current.get(name) != job_id:
                logger.warning("batch job %s (%s) was lost; submitting a replacement", job_id, name)
        known.clear()
        known.update(current)
        cluster.scale(jobs=jobs)

    callback = PeriodicCallback(check, interval * 1000)
    cluster.loop.add_callback(callback.start)
    try:
        yield
    finally:
        stopped = True
        cluster.loop.add_callback(callback.stop)


@contextmanager
def open_cluster(config: ClusterConfig, *, omp_threads: int = 1, resubmit_interval: float = RESUBMIT_INTERVAL,
                 verbose: bool = True) -> Iterator[Any]:
    """Start the dask-jobqueue cluster of a batch ``config``, keep its jobs running, close it after.

    Parameters
    ----------
    config : ClusterConfig
        A batch kind (``"slurm"``, ``"pbs"``, ``"sge"``).
    omp_threads : int
        Numeric threads per worker process.
    resubmit_interval : float
        Seconds between two checks of the job count (:func:`keep_jobs`).
    verbose : bool
        Print the dashboard link and report lost jobs.

    Yields
    ------
    dask_jobqueue.JobQueueCluster
        The cluster, scaled to ``config.jobs`` jobs (they may still be queued).
    """
    if not config.is_batch:
        raise ValueError(f"cluster.kind = {config.kind!r} is not a batch-queue cluster")
    cls = _cluster_class(config.kind)
    cluster = cls(**config.job_kwargs(omp_threads))
    try:
        cluster.scale(jobs=config.jobs)
        if verbose:
            logger.info("%s: %s jobs submitted; dashboard: %s", cls.__name__, config.jobs, cluster.dashboard_link)
        with keep_jobs(cluster, config.jobs, interval=resubmit_interval, verbose=verbose):
            yield cluster
    finally:
        cluster.close()
