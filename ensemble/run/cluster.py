"""Where the tasks run: a local cluster by default, an existing scheduler, or none (debugging).

* ``client=None``: start a ``distributed.LocalCluster`` of single-threaded worker processes bound
  to 127.0.0.1 (scheduler and dashboard: nothing is opened to the network) and secured with TLS,
  print the dashboard link, and close it afterwards.
* ``client="tcp://host:port"``: connect to a running scheduler (``dask scheduler`` /
  ``dask worker`` by hand, or dask-jobqueue on a batch cluster); its workers are configured there.
* ``client=<distributed.Client>``: use it as it is and leave it open.
* ``client="synchronous"`` (or ``dask.config.set(scheduler="synchronous")``): no cluster, tasks run
  one after the other in this process: the same numbers, for debugging.
* ``client=ClusterConfig(...)`` (:mod:`ensemble.run.jobqueue`, the TOML ``[cluster]`` table): a local
  cluster (``tls=False`` for a plain one), a scheduler address, or a dask-jobqueue batch cluster
  (SLURM, PBS, SGE) started for the run, whose lost jobs are resubmitted, and closed afterwards.

Security: a Dask client can run arbitrary code on the scheduler and the workers, and a plain local
cluster accepts any connection to its 127.0.0.1 ports, so on a host shared with other users (a
login node) any of them could act as you. The local cluster is therefore secured by default: TLS
encrypts and authenticates every connection with credentials that exist only in this process's
memory (``distributed.security.Security.temporary()``), so a client without them cannot connect.
It costs ~0.2-0.5 s of start-up (2 workers). ``ClusterConfig(kind="local", tls=False)``
(``--no-tls``) opts out. The dashboard stays plain HTTP on 127.0.0.1: any local user can *view*
it (task names, progress, worker memory), not run code; see docs/cluster.md for an SSH tunnel.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import dask

from ensemble.io.atomic import interrupts_deferred
from ensemble.run.jobqueue import ClusterConfig, open_cluster
from ensemble.threads import THREAD_VARIABLES

logger = logging.getLogger(__name__)

__all__ = ["connect", "memory_slots", "SYNCHRONOUS"]

SYNCHRONOUS = ("synchronous", "sync", "single-threaded")


def _wants_synchronous(client) -> bool:
    if isinstance(client, str):
        return client in SYNCHRONOUS
    return client is None and dask.config.get("scheduler", None) in SYNCHRONOUS


def memory_slots(client, n_workers: int | None = None) -> tuple[int | None, float | None]:
    """What the memory guard must count for a run on ``client`` (see :func:`connect`).

    Returns
    -------
    concurrent : int or None
        Realizations that run at once on this machine: 1 in this process, one per worker of the
        local cluster (``n_workers``, default one per CPU as Dask counts them); None when the
        workers run elsewhere (a scheduler address, a batch cluster, a given ``Client``).
    worker_memory : float or None
        For a given ``distributed.Client``: the smallest ``memory_limit`` per thread of its
        workers, in bytes (None when they set no limit).
    """
    if _wants_synchronous(client):
        return 1, None
    if client is None or (isinstance(client, ClusterConfig) and client.kind == "local"):
        if n_workers is None:
            from dask.system import CPU_COUNT

            n_workers = CPU_COUNT
        return n_workers, None
    from distributed import Client

    if isinstance(client, Client):
        workers = client.scheduler_info().get("workers", {}).values()
        limits = [w["memory_limit"] / max(1, w.get("nthreads", 1)) for w in workers if w.get("memory_limit")]
        return None, (min(limits) if limits else None)
    return None, None


@contextmanager
def connect(
    client=None,
    *,
    n_workers: int | None = None,
    omp_threads: int = 1,
    dashboard: bool = True,
    verbose: bool = True,
    gpu: bool = False,
) -> Iterator["distributed.Client | None"]:  # noqa: F821
    """Yield a ``distributed.Client`` for the run (or None for synchronous execution).

    Parameters
    ----------
    client : None, str, ClusterConfig or distributed.Client
        See the module docstring.
    n_workers : int, optional
        Worker processes of the default local cluster (default: the CPU count).
    omp_threads : int
        Threads for QuSpin's OpenMP / numba inside each local worker (default 1: one numeric
        thread per process; raise it only for large L with few workers).
    dashboard : bool
        Serve the Dask dashboard of the local cluster on 127.0.0.1.
    verbose : bool
        Log the dashboard link (logger ``ensemble.run.cluster``, level INFO).
    gpu : bool
        The tasks run on a GPU (``device = "gpu"``): the local cluster is dask-cuda's
        ``LocalCUDACluster`` where dask-cuda is installed (one worker per visible GPU, each pinned to
        its device; ``n_workers`` limits them), otherwise one worker (``n_workers`` overrides it).

    Raises
    ------
    ConnectionError
        If a scheduler address cannot be reached.
    ImportError
        If a batch cluster or TLS is asked for without the ``[cluster]`` extra.
    """
    if _wants_synchronous(client):
        yield None
        return
    from distributed import Client, LocalCluster

    if omp_threads < 1:
        raise ValueError(f"omp_threads must be >= 1; got {omp_threads}")

    if isinstance(client, Client):
        yield client
        return
    tls = True  # the local cluster's default
    if isinstance(client, ClusterConfig):
        if client.is_batch:
            with open_cluster(client, omp_threads=omp_threads, verbose=verbose) as cluster, Client(cluster) as own:
                yield own
            return
        tls = client.tls is not False
        client = client.address or None
    if isinstance(client, str):
        try:
            own = Client(client, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot reach the Dask scheduler at {client!r}: {exc}") from None
        try:
            if verbose:
                logger.info("Dask scheduler %s; dashboard: %s", client, own.dashboard_link)
            yield own
        finally:
            own.close()
        return
    if client is not None:
        raise ValueError(f"client must be None, an address string, a ClusterConfig or a distributed.Client; "
                         f"got {client!r}")
    security = _temporary_security() if tls else None
    threads = str(omp_threads)
    env = {var: threads for var in THREAD_VARIABLES}
    cluster = None
    cluster_class = LocalCluster
    if gpu:
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError:
            n_workers = n_workers or 1
        else:
            cluster_class = LocalCUDACluster
    try:
        with interrupts_deferred():  # a Ctrl-C or SIGTERM during start-up acts once there is a cluster to close
            cluster = cluster_class(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0" if dashboard else None,
                env=env,
                security=security,
            )
        own = Client(cluster)
    except BaseException:
        if cluster is not None:
            logging.disable(logging.WARNING)  # closing a half-used cluster logs what tells the user nothing
            try:
                cluster.close()
            finally:
                logging.disable(logging.NOTSET)
        raise
    try:
        if verbose and dashboard:
            logger.info("Dask dashboard: %s", own.dashboard_link)
        yield own
    finally:
        own.close()
        cluster.close()


def _temporary_security():
    """TLS credentials that exist only in this process (``Security.temporary()``)."""
    from distributed.security import Security

    try:
        return Security.temporary()
    except ImportError:
        raise ImportError("the TLS-secured local cluster needs the cryptography package: pip install cryptography "
                          "(or opt out: --no-tls, cluster.tls = false)") from None
