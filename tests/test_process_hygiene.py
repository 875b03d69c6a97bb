"""Importing the package leaves the user's process alone; the package's own runs scope what they change.

- ``import ensemble`` (and its submodules, and ``analysis``) changes no environment variable, no
  logging setting and no signal handler (checked in a fresh interpreter, as a Jupyter kernel has it);
- an in-process run limits the thread pools for the run only and restores them;
- the Ctrl-C path quietens Dask's loggers only, and restores their levels;
- library status messages go through ``logging``; the command line shows them on stderr.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import json, logging, os, signal
env = dict(os.environ)
handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
root = (logging.root.level, len(logging.root.handlers), logging.root.manager.disable)
import ensemble, analysis
import ensemble.run.grid, ensemble.io.combine, ensemble.cli, ensemble.engines.manybody
# KMP_*: set by the OpenMP runtime's own library constructor when numba or QuSpin loads it
changed = sorted(k for k in set(env) | set(os.environ) if env.get(k) != os.environ.get(k) and not k.startswith("KMP_"))
print(json.dumps({
    "env": changed,
    "signals": [str(s) for s, h in handlers.items() if signal.getsignal(s) != h],
    "logging": root != (logging.root.level, len(logging.root.handlers), logging.root.manager.disable),
}))
"""


def test_import_leaves_the_environment_logging_and_signals_alone():
    env = {k: v for k, v in __import__("os").environ.items() if not k.endswith("_NUM_THREADS")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, cwd=ROOT,
                         check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"env": [], "signals": [], "logging": False}


def test_an_in_process_run_limits_the_thread_pools_for_the_run_only(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    import ensemble
    from ensemble.run import grid

    seen = []
    real = grid.run_batch

    def spy(*args, **kwargs):
        seen.append({lib["internal_api"]: lib["num_threads"] for lib in threadpool_info()})
        return real(*args, **kwargs)

    monkeypatch.setattr(grid, "run_batch", spy)
    with threadpool_limits(limits=2):
        before = [lib["num_threads"] for lib in threadpool_info()]
        ensemble.run_grid(L=[4], W=[1.0], n_realizations=1, delta=1.0, gamma=1.0, t_final=1.0, n_times=3, seed=1,
                          client="synchronous", progress=False)
        after = [lib["num_threads"] for lib in threadpool_info()]
    assert seen and all(n == 1 for n in seen[0].values())
    assert after == before


def test_the_interrupt_path_quietens_only_dask_loggers_and_restores_them():
    from ensemble.run.grid import _quiet_dask_loggers

    user = logging.getLogger("my.analysis")
    user.setLevel(logging.DEBUG)
    worker = logging.getLogger("distributed.worker")
    worker.setLevel(logging.INFO)
    levels = (logging.getLogger("distributed").level, worker.level, logging.root.manager.disable)
    with _quiet_dask_loggers():
        assert not worker.isEnabledFor(logging.WARNING)
        assert not logging.getLogger("distributed.nanny.new").isEnabledFor(logging.ERROR)
        assert user.isEnabledFor(logging.DEBUG) and logging.root.manager.disable == levels[2]
    assert (logging.getLogger("distributed").level, worker.level, logging.root.manager.disable) == levels
    assert user.level == logging.DEBUG


def test_library_status_messages_are_log_records_and_the_cli_shows_them(tmp_path, caplog, capsys):
    from ensemble.cli import _status_to_stderr
    from ensemble.run import checkpoint as ckpt

    directory = tmp_path / "ck"
    directory.mkdir()
    bad = directory / "part-x.nc"
    bad.write_text("x")
    with caplog.at_level(logging.WARNING, logger="ensemble"):
        ckpt._reject(directory, bad, "is unreadable")
    assert "is unreadable" in caplog.text and capsys.readouterr().err == ""
    bad.write_text("x")
    with _status_to_stderr():
        ckpt._reject(directory, bad, "is unreadable")
    assert "part-x.nc is unreadable; moved to" in capsys.readouterr().err
    assert logging.getLogger("ensemble").level == logging.NOTSET and not logging.getLogger("ensemble").handlers


@pytest.mark.parametrize("module", ["analysis", "ensemble"])
def test_a_users_module_that_shadows_a_package_is_named(tmp_path, module):
    (tmp_path / "analysis.py").write_text("x = 1\n")
    code = f"import {module}\nimport ensemble.io.combine"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env={**__import__("os").environ, "PYTHONPATH": f"{tmp_path}:{ROOT}"})
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert str(tmp_path / "analysis.py") in last and "shadows" in last and "rename" in last
