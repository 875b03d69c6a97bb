"""Atomic file writes: a uniquely named hidden temporary file, then a rename.

A reader never sees a partial file, two writers of one path never share a temporary file (the last
rename wins, and both files are whole), and a failed or interrupted write leaves nothing behind
(a Ctrl-C takes effect when the netCDF library has finished writing).
Only ``SIGKILL`` (or a power cut) can leave a temporary file; its name records the host and pid of
its writer, and :func:`remove_stale_temporaries` removes those whose writer is gone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "temporary_name", "write_netcdf", "remove_stale_temporaries", "pid_alive", "interrupts_deferred", "STOP_SIGNALS",
]

_TAG = re.compile(r"^\.(?P<name>.+)\.(?P<host>[^/]+)-(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")


def temporary_name(path: Path) -> Path:
    """``.NAME.<host>-<pid>-<random>.tmp`` next to ``path``: a name no other process uses."""
    return path.with_name(f".{path.name}.{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (pids <= 0 name no single process: False)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(directory: Path, name: str | None = None) -> list[Path]:
    """Remove the temporary files in ``directory`` (of ``name`` only, if given) whose writer on this
    host is gone; return them."""
    host, removed = socket.gethostname(), []
    for path in directory.glob(f".{name or '*'}.*.tmp"):
        match = _TAG.match(path.name)
        if match is None or match["host"] != host or pid_alive(int(match["pid"])):
            continue
        if name is not None and match["name"] != name:
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed


#: The signals that stop a run: Ctrl-C, and what a batch system sends at its wall-time limit.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Record a Ctrl-C (SIGINT) or a SIGTERM during the block and deliver it when the block is over.

    An interrupt inside xarray's netCDF writer can leave its lock held (a Dask-distributed lock
    while a client is active), and the writer's own clean-up then waits for that lock forever; one
    inside ``LocalCluster(...)`` leaves a cluster nobody can close. Deferred, each signal is handed
    to the handler that was in place before the block (the command line turns SIGTERM into the
    same stop as Ctrl-C; the default SIGTERM action ends the process), in the order received. Only
    the main thread receives signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: caught.append(signum))
                for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for signum in dict.fromkeys(caught):
        handler = previous[signum]
        if callable(handler):
            handler(signum, None)  # Python's SIGINT handler raises KeyboardInterrupt
        elif handler == signal.SIG_DFL:
            signal.raise_signal(signum)


def write_netcdf(ds, path: Path) -> None:
    """Write the Dataset ``ds`` to ``path`` atomically; on any failure or interrupt nothing is left.

    Raises
    ------
    OSError
        If the write fails (a full disk, an HDF error), with the reason and the free space.
    """
    path = Path(path)
    tmp = temporary_name(path)
    try:
        with interrupts_deferred():  # a Ctrl-C or SIGTERM during the write discards it once it is done
            ds.to_netcdf(tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # netCDF4 reports HDF errors (e.g. a full disk) as RuntimeError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        free = shutil.disk_usage(path.parent).free / 2**20
        raise OSError(getattr(exc, "errno", None) or errno.EIO,
                      f"could not write {path} ({reason}; {free:.3g} MiB free on {path.parent})") from None
    finally:
        tmp.unlink(missing_ok=True)
