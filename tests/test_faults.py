"""Faults during a command-line run or combine: interrupts, killed workers, killed writers, full disks.

Each scenario ends with one line on stderr (no traceback), the right exit status, no partial or
temporary file, and every finished batch kept with the command that resumes the run.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import dask
import psutil
import pytest
import xarray as xr

from ensemble.cli import main

TINY = """
[model]
delta = 1.0
gamma = 1.0

[grid]
L = [4]
W = [1.0, 8.0]
n_realizations = 4
t_final = 20.0
n_times = 12

[run]
seed = 3
workers = 1
batch_size = 2
"""
#: A run whose batches take ~1 s each (L = 10), so that a fault lands mid-run.
SLOW = ["--set", "grid.t_final=500.0", "--set", "grid.L=[10]", "--set", "grid.n_realizations=12",
        "--set", "run.batch_size=1"]


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture
def in_process():
    with dask.config.set(scheduler="synchronous"):
        yield


def _one_line_error(err, *fragments):
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("mbl-avalanche: error: ")]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], err
    return lines[0]


def _patch_output_write(monkeypatch, action):
    """Make ``to_netcdf`` of the output (not of checkpoint parts) write a partial file, then ``action()``."""
    write = xr.Dataset.to_netcdf

    def patched(self, path, *args, **kwargs):
        if "part-" in str(path) or "run.json" in str(path):
            return write(self, path, *args, **kwargs)
        with open(path, "wb") as fh:
            fh.write(b"partial")
        action(path)

    monkeypatch.setattr(xr.Dataset, "to_netcdf", patched)


def _main(argv):
    """``main(argv)``, with a KeyboardInterrupt that escapes it turned into a test failure."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped the command (a traceback for the user)")


def _leftovers(directory):
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith((".tmp", ".probe")))


class TestFinalWrite:
    def test_ctrl_c_during_the_write_leaves_no_file_and_prints_the_resume_line(
            self, config, tmp_path, capsys, monkeypatch, in_process):
        def interrupt(path):
            raise KeyboardInterrupt

        _patch_output_write(monkeypatch, interrupt)
        out = tmp_path / "o.nc"
        assert _main(["run", str(config), "-o", str(out), "--quiet"]) == 130
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.count("resume with: mbl-avalanche") == 1, err
        assert "2 finished batches are saved" not in err and "4 finished batches are saved" in err, err
        assert not out.exists() and _leftovers(tmp_path) == []
        monkeypatch.undo()
        with dask.config.set(scheduler="synchronous"):
            assert main(["run", str(config), "-o", str(out), "--quiet"]) == 0  # the resume only writes
        assert not (tmp_path / "o.nc.checkpoint").exists()

    def test_the_lock_is_held_until_the_output_is_written(self, config, tmp_path, monkeypatch, in_process):
        lock = tmp_path / "o.nc.checkpoint" / "lock"
        seen = []

        def look(path):
            seen.append(lock.exists() and str(os.getpid()) in lock.read_text())
            raise OSError(28, "No space left on device")

        _patch_output_write(monkeypatch, look)
        assert main(["run", str(config), "-o", str(tmp_path / "o.nc"), "--quiet"]) == 2
        assert seen == [True], "another run could take the checkpoint while the output was written"
        assert not lock.exists()

    def test_a_killed_writer_leaves_a_temporary_that_the_rerun_removes(self, config, tmp_path, in_process):
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        stale = tmp_path / f".o.nc.{socket.gethostname()}-{dead.pid}-0123abcd.tmp"
        stale.write_bytes(b"half a netCDF file")
        assert main(["run", str(config), "-o", str(tmp_path / "o.nc"), "--quiet"]) == 0
        assert not stale.exists() and _leftovers(tmp_path) == []


def _workers(pid):
    return [p for p in psutil.Process(pid).children(recursive=True)
            if any("spawn_main" in part for part in p.cmdline())]


def _ignores_sigint(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            mask = next(line for line in fh if line.startswith("SigIgn:"))
    except (OSError, StopIteration):
        return False
    return bool(int(mask.split()[1], 16) & (1 << (signal.SIGINT - 1)))


class TestLocalCluster:
    def test_workers_that_keep_dying_are_one_line_with_the_cause_and_the_resume_command(self, config, tmp_path):
        out = tmp_path / "o.nc"
        env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
        proc = subprocess.Popen([sys.executable, "-m", "ensemble", "run", str(config), "-o", str(out), "--quiet",
                                 *SLOW], stderr=subprocess.PIPE, text=True, env=env)
        ckpt = tmp_path / "o.nc.checkpoint"
        deadline = time.monotonic() + 120
        while not list(ckpt.glob("part-*.nc")) and time.monotonic() < deadline:
            time.sleep(0.05)
        for worker in _workers(proc.pid):  # what the OOM killer does
            worker.kill()
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        line = _one_line_error(err, "workers kept dying", "memory", "finished batches are kept in",
                               "resume with: mbl-avalanche run")
        assert "KilledWorker" not in err and line == err.strip().splitlines()[-1]
        assert list(ckpt.glob("part-*.nc")) and not out.exists()

    @pytest.mark.parametrize("entry", ["module", "script"])
    def test_ctrl_c_during_start_up_is_one_line_and_says_nothing_was_saved(self, config, tmp_path, entry):
        out = tmp_path / "o.nc"
        if entry == "script":  # the console script re-run by multiprocessing in each worker
            script = os.path.join(os.path.dirname(sys.executable), "mbl-avalanche")
            if not os.path.isfile(script):
                pytest.skip("the mbl-avalanche console script is not installed")
            command = [sys.executable, script]
        else:
            command = [sys.executable, "-m", "ensemble"]
        proc = subprocess.Popen([*command, "run", str(config), "-o", str(out), "--quiet"],
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + 60
        while not _workers(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        soon = time.monotonic() + 0.3  # the worker is importing distributed then
        while time.monotonic() < soon and not all(_ignores_sigint(w.pid) for w in _workers(proc.pid)):
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        assert len(err.strip().splitlines()) <= 2, err
        assert "nothing was saved" in err and "are saved" not in err, err
        assert not out.exists() and not (tmp_path / "o.nc.checkpoint").exists()


@pytest.fixture
def sources(tmp_path_factory):
    """Two disjoint sub-runs of one ensemble (W = 1 and W = 8)."""
    import ensemble

    directory = tmp_path_factory.mktemp("sources")
    paths = []
    for W in (1.0, 8.0):
        ds = ensemble.run_grid(L=[4, 6], W=W, delta=1.0, t_final=20.0, n_times=8, n_realizations=3, seed=5,
                               client="synchronous", progress=False)
        paths.append(directory / f"W{W:g}.nc")
        ds.to_netcdf(paths[-1])
    return paths


class TestCombineWrite:
    def test_two_combines_to_one_output_leave_a_whole_file(self, sources, tmp_path):
        out = tmp_path / "c.nc"
        command = [sys.executable, "-m", "ensemble", "combine", *map(str, sources), "-o", str(out), "--overwrite"]
        procs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], results
        with xr.open_dataset(out) as ds:
            assert ds.sizes["W"] == 2 and int(ds.n_realizations.min()) == 3 and ds.sz.notnull().any()
        assert _leftovers(tmp_path) == []

    def test_the_temporary_file_is_hidden_and_names_its_writer(self, sources, tmp_path, monkeypatch):
        used = []
        write = xr.Dataset.to_netcdf

        def record(self, path, *args, **kwargs):
            used.append(os.path.basename(path))
            return write(self, path, *args, **kwargs)

        monkeypatch.setattr(xr.Dataset, "to_netcdf", record)
        assert main(["combine", *map(str, sources), "-o", str(tmp_path / "c.nc")]) == 0
        (name,) = used
        assert name.startswith(".c.nc.") and f"{socket.gethostname()}-{os.getpid()}-" in name, name

    def test_full_disk_is_one_line_and_leaves_nothing(self, sources, small_disk, capsys):
        (small_disk / "filler").write_bytes(b"x" * 56 * 1024)  # 8 KiB left: less than any combined file
        out = small_disk / "c.nc"
        assert main(["combine", *map(str, sources), "-o", str(out)]) == 2
        _one_line_error(capsys.readouterr().err, f"could not write {out}", "MiB free on")
        assert [p.name for p in small_disk.iterdir()] == ["filler"]

    def test_ctrl_c_during_the_write_leaves_nothing(self, sources, tmp_path, capsys, monkeypatch):
        def interrupt(path):
            raise KeyboardInterrupt

        _patch_output_write(monkeypatch, interrupt)
        assert _main(["combine", *map(str, sources), "-o", str(tmp_path / "c.nc")]) == 130
        assert "Traceback" not in capsys.readouterr().err
        assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_read_only_checkpoint_names_the_path(config, tmp_path, capsys, in_process):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mount)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        assert main(["run", str(config), "-o", str(tmp_path / "o.nc"), "--checkpoint", str(mount / "ck"),
                     "--quiet"]) == 2
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)
    _one_line_error(capsys.readouterr().err, str(mount / "ck"), "Read-only file system")


def test_report_on_a_directory_says_so(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    _one_line_error(capsys.readouterr().err, f"{tmp_path} is a directory")


def test_no_dask_warnings_when_a_checkpoint_part_cannot_be_written(config, tmp_path):
    """A full disk under the checkpoint while two workers compute: one line, no CancelledError warnings."""
    script = (
        "import sys, xarray\n"
        "from ensemble.cli import main\n"
        "write, count = xarray.Dataset.to_netcdf, [0]\n"
        "def full(self, path, *a, **k):\n"
        "    count[0] += 1\n"
        "    if count[0] > 3:\n"
        "        raise OSError(28, 'No space left on device')\n"
        "    return write(self, path, *a, **k)\n"
        "xarray.Dataset.to_netcdf = full\n"
        "if __name__ == '__main__':\n"
        f"    sys.exit(main(['run', {str(config)!r}, '-o', {str(tmp_path / 'o.nc')!r}, '--quiet', '--workers', '2',"
        " '--set', 'grid.L=[8]', '--set', 'grid.t_final=200.0', '--set', 'grid.n_realizations=40',"
        " '--set', 'run.batch_size=1']))\n"
    )
    (tmp_path / "full_disk.py").write_text(script)
    proc = subprocess.run([sys.executable, str(tmp_path / "full_disk.py")], capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 2, proc.stderr
    assert "CancelledError" not in proc.stderr and "WARNING" not in proc.stderr, proc.stderr
    _one_line_error(proc.stderr, "cannot write the checkpoint part", "No space left on device",
                    "3 finished batches are kept")


class TestInterruptInsideTheWriter:
    """A real SIGINT or SIGTERM while the netCDF library writes (where xarray holds its lock: an
    interrupt there used to leave the lock held and hang the clean-up) acts once the write is done."""

    @pytest.fixture(autouse=True)
    def python_sigint(self):
        """Python's own Ctrl-C handler (importing dask_jobqueue.runner, as other tests do, replaces it)."""
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        yield
        signal.signal(signal.SIGINT, previous)

    @staticmethod
    def _interrupting_write(monkeypatch, which, signum=signal.SIGINT):
        write = xr.Dataset.to_netcdf
        sent = []

        def patched(self, path, *args, **kwargs):
            if which(str(path)) and not sent:
                sent.append(path)
                os.kill(os.getpid(), signum)  # arrives while the write below runs
            return write(self, path, *args, **kwargs)

        monkeypatch.setattr(xr.Dataset, "to_netcdf", patched)
        return sent

    def test_a_part_being_written_is_saved_then_the_run_stops(self, tmp_path, monkeypatch):
        import ensemble
        from ensemble.run.grid import RunInterrupted

        sent = self._interrupting_write(monkeypatch, lambda p: "part-" in p)
        with pytest.raises(RunInterrupted):
            ensemble.run_grid(L=4, W=1.0, delta=1.0, t_final=2.0, n_times=4, n_realizations=4, batch_size=1, seed=2,
                              client="synchronous", progress=False, checkpoint=tmp_path / "ck")
        assert len(sent) == 1 and len(list((tmp_path / "ck").glob("part-*.nc"))) == 1
        assert _leftovers(tmp_path) == []

    @pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
    def test_an_interrupted_final_write_leaves_no_output(self, config, tmp_path, capsys, monkeypatch, in_process,
                                                         signum):
        out = tmp_path / "o.nc"
        self._interrupting_write(monkeypatch, lambda p: ".o.nc." in p, signum)
        assert _main(["run", str(config), "-o", str(out), "--quiet"]) == 128 + signum
        err = capsys.readouterr().err
        assert "4 finished batches are saved" in err and ("terminated (SIGTERM)" in err) == (signum == signal.SIGTERM)
        assert not out.exists() and _leftovers(tmp_path) == []

    def test_a_sigterm_inside_a_part_write_under_a_distributed_client_saves_the_part(self, config, tmp_path,
                                                                                    capsys, monkeypatch):
        """With a distributed client active, xarray takes a scheduler-held lock for the write; an
        undeferred SIGTERM there lost the part, or left the lease taken and the clean-up waiting forever."""
        sent = self._interrupting_write(monkeypatch, lambda p: "part-" in p, signal.SIGTERM)
        ckpt = tmp_path / "ck"
        code = _main(["run", str(config), "-o", str(tmp_path / "o.nc"), "--quiet", "--checkpoint", str(ckpt),
                      "--workers", "1", "--set", "grid.L=[4]", "--set", "grid.n_realizations=2",
                      "--set", "run.batch_size=1"])
        assert code == 143 and len(sent) == 1
        assert "terminated (SIGTERM)" in capsys.readouterr().err
        assert list(ckpt.glob("part-*.nc")) and not (tmp_path / "o.nc").exists()
