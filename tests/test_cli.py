"""The mbl-avalanche command line, end to end and on bad input."""

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time

import dask
import pytest
import xarray as xr

from ensemble.cli import main

TINY = """
[model]
delta = 1.0
gamma = 1.0

[grid]
L = [4, 6]
W = [1.0, 8.0]
n_realizations = 4
t_final = 20.0
n_times = 12

[run]
seed = 3
workers = 1
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def _cli(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "ensemble", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


class TestEndToEnd:
    def test_run_then_report(self, config, tmp_path):
        out = tmp_path / "tiny.nc"
        run = _cli("run", config, "-o", out, "--set", "grid.n_realizations=3")
        assert run.returncode == 0, run.stderr
        assert "Dask dashboard: http://127.0.0.1:" in run.stderr
        assert "3/3 realizations" in run.stderr or "12/12 realizations" in run.stderr
        assert not (tmp_path / "tiny.nc.checkpoint").exists(), "default checkpoint left behind"
        ds = xr.load_dataset(out)
        assert ds.sizes["realization"] == 3 and list(ds.L.values) == [4, 6]
        assert "grid.n_realizations=3" in ds.attrs["command"]
        assert "n_realizations = 3" in ds.attrs["config"]

        figures = tmp_path / "figs"
        report = _cli("report", out, "--figures", figures)
        assert report.returncode == 0, report.stderr
        header = next(line for line in report.stdout.splitlines() if line.startswith("|"))
        for column in ("L", "W [J]", "t~ paper [1/J]", "t~ crossing [1/J]", "1/A [1/site]", "1/A > 2 ln 4"):
            assert f" {column}" in header
        assert "| quantity" in report.stdout and "α (ln t~ = c + α L W)" in report.stdout
        pngs = sorted(p.name for p in figures.glob("*.png"))
        paper = {"fig2_imbalance.png", "fig3_threshold.png", "fig4_front.png", "fig5_collapse.png"}
        assert paper <= set(pngs) and set(pngs) - paper <= {"fig4_local_slope.png", "w_star_window.png"}
        assert all(p.stat().st_size > 0 for p in figures.glob("*.png"))

        again = _cli("run", config, "-o", out)
        assert again.returncode == 2 and "exists" in again.stderr and "--overwrite" in again.stderr

    def test_ctrl_c_prints_one_hint_and_the_hint_resumes_a_seedless_run(self, config, tmp_path):
        config.write_text(TINY.replace("seed = 3\n", ""))
        proc, args, out, ckpt = _slow_run(config, tmp_path, parts=2)
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group, workers included
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        assert err.count("resume with: ") == 1 and "interrupted: " not in err, err
        assert "WARNING" not in err and "Traceback" not in err, err
        hint = next(line for line in err.splitlines() if "resume with: " in line)
        entropy = json.loads((ckpt / "run.json").read_text())["seed_entropy"]
        assert f"fresh seed entropy {entropy}" in hint
        assert not out.exists()
        assert 2 <= len(list(ckpt.glob("part-*.nc"))) < 24

        command = shlex.split(hint.split("resume with: ", 1)[1])
        assert command[0] == "mbl-avalanche" and command[1:] == args
        again = _cli(*command[1:], "--quiet")
        assert again.returncode == 0, again.stderr
        assert not ckpt.exists(), "a resumed run that succeeded left its checkpoint"
        ds = xr.load_dataset(out)
        assert ds.attrs["seed_entropy"] == entropy and not ds.sz.isel(site=slice(0, 10)).isnull().any()
    def test_sigterm_keeps_the_batches_and_prints_the_resume_line(self, config, tmp_path):
        proc, _, out, ckpt = _slow_run(config, tmp_path, parts=1)
        proc.send_signal(signal.SIGTERM)  # a batch system's wall-time limit: the main process only
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 143, err
        assert err.count("resume with: ") == 1 and "terminated (SIGTERM)" in err and "Traceback" not in err, err
        assert list(ckpt.glob("part-*.nc")) and not out.exists()


def _slow_run(config, tmp_path, parts: int):
    """A 24-batch run in its own process group, once ``parts`` batches are saved: (process, args, output, checkpoint)."""
    out = tmp_path / "slow.nc"
    args = ["run", str(config), "-o", str(out), "--set", "grid.t_final=500.0", "--set", "grid.L=[10]",
            "--set", "grid.n_realizations=12", "--set", "run.batch_size=1"]
    proc = subprocess.Popen([sys.executable, "-m", "ensemble", *args], stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    ckpt = tmp_path / "slow.nc.checkpoint"
    deadline = time.monotonic() + 120
    while len(list(ckpt.glob("part-*.nc"))) < parts and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc, args, out, ckpt


class TestInProcess:
    def test_scheduler_synchronous_runs_in_process_with_the_api_numbers(self, config, tmp_path):
        import ensemble

        out = tmp_path / "sync.nc"
        assert main(["run", str(config), "-o", str(out), "--scheduler", "synchronous", "--quiet",
                     "--set", "grid.L=[4]", "--set", "grid.n_realizations=2"]) == 0
        with xr.open_dataset(out) as ds:
            got = ds.sz.values
        ref = ensemble.run_grid(L=[4], W=[1.0, 8.0], delta=1.0, gamma=1.0, t_final=20.0, n_times=12, n_realizations=2,
                                seed=3, client="synchronous", progress=False)
        assert (got == ref.sz.values).all()

    def test_dry_run_prints_config_and_plan(self, config, capsys):
        assert main(["run", str(config), "-o", "unused.nc", "--dry-run", "--set", "grid.W=[2.0]"]) == 0
        out = capsys.readouterr().out
        assert "[grid]" in out and "W = [2.0]" in out
        assert "tasks" in out and "MiB per realization" in out and "core-hours" in out

    def test_version_and_help(self, capsys):
        with pytest.raises(SystemExit) as stop:
            main(["--version"])
        assert stop.value.code == 0
        assert "mbl-avalanche 0.1.0" in capsys.readouterr().out
        with pytest.raises(SystemExit):
            main(["--help"])
        assert "examples:" in capsys.readouterr().out

    @pytest.mark.parametrize(
        "content, extra, message",
        [
            (TINY + "\n[bogus]\nx = 1\n", [], "unknown config table [bogus]"),
            (TINY.replace("seed = 3", "seed = 3\nsed = 4"), [], "unknown config key run.sed"),
            (TINY.replace("[model]\ndelta = 1.0", "[model]"), [], "model.delta is required"),
            (TINY.replace("L = [4, 6]", "L = [5, 6]"), [], "L must be even"),
            (TINY.replace("W = [1.0, 8.0]", "W = [-1.0]"), [], "W must be"),
            (TINY.replace("t_final = 20.0", 't_final = "long"'), [], "wrong type"),
            ("[model\ndelta = 1", [], "not valid TOML"),
            (TINY, ["--set", "grid.L"], "table.key=value"),
            (TINY, ["--set", "grid.L=[4,"], "not a TOML literal"),
            (TINY, ["--set", "grid.nope=1"], "unknown config key grid.nope"),
            (TINY, ["--workers", "0"], "--workers"),
        ],
    )
    def test_bad_config_is_one_line_and_exit_2(self, tmp_path, capsys, content, extra, message):
        path = tmp_path / "bad.toml"
        path.write_text(content)
        assert main(["run", str(path), "-o", str(tmp_path / "o.nc"), *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mbl-avalanche: error: ") and message in err
        assert err.count("\n") == 1

    def test_missing_files(self, tmp_path, capsys):
        assert main(["run", str(tmp_path / "none.toml"), "-o", "x.nc"]) == 2
        assert "not found" in capsys.readouterr().err
        assert main(["report", str(tmp_path / "none.nc")]) == 2
        assert "not found" in capsys.readouterr().err

    def test_unreachable_scheduler(self, config, tmp_path, capsys):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        assert main(["run", str(config), "-o", str(tmp_path / "o.nc"), "--scheduler", f"tcp://127.0.0.1:{port}",
                     "--quiet"]) == 2
        assert "cannot reach the Dask scheduler" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def in_process():
    """Run in-process (``client=None`` follows Dask's ``scheduler`` setting, see ensemble.run.cluster)."""
    with dask.config.set(scheduler="synchronous"):
        yield


def _one_line_error(capsys, *fragments):
    err = capsys.readouterr().err
    assert err.startswith("mbl-avalanche: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


class TestDryRunParity:
    """--dry-run refuses exactly what the run refuses, before anything is computed."""

    @pytest.mark.parametrize(
        "overrides, message",
        [
            (["run.engine=\"gaussian\""], "engine='gaussian' needs delta == 0"),
            (["run.unraveling=\"jumps\""], "unraveling must be one of"),
            (["run.noise=\"averaged\""], "noise='averaged' needs delta == 0"),
            (["run.entanglement=true", "run.unraveling=\"jump\""], "nonlinear in the state"),
            (["bath.site=99"], "bath_site=99 lies outside the shortest chain"),
            (["disorder.law=\"gaussian\""], "unknown disorder law 'gaussian'"),
            (["model.gamma=-1"], "gamma must be > 0"),
            (["model.tau=-0.05"], "tau must be > 0"),
            (["grid.L=[30]"], "one realization at L=30"),
            (["grid.L=[40]"], "one realization at L=40"),
            (["grid.times=[]"], "times must not be empty"),
            (["grid.W=[1e8]"], "Chebyshev order per step"),
            (["grid.W=[1e12]"], "Chebyshev order per step"),
            (["model.tau=1e15", "grid.t_final=1e15"], "Chebyshev order per step"),
            (["grid.W=[2.0, 2.0000001]"], "share the seed key"),
            (["grid.L=[4.5]"], "L must be an integer; got 4.5"),
            (["grid.W=[true]"], "W must be a real number; got True"),
            (["grid.W=\"2.0\""], "wrong type"),
            (["run.workers=-3"], "run.workers must be >= 0"),
            (["run.max_memory=-1"], "run.max_memory must be >= 0"),
        ],
    )
    @pytest.mark.parametrize("dry", [True, False], ids=["dry-run", "run"])
    def test_refused_by_both(self, config, tmp_path, capsys, overrides, message, dry):
        out = tmp_path / "o.nc"
        sets = [x for o in overrides for x in ("--set", o)]
        assert main(["run", str(config), "-o", str(out), "--quiet", *sets,
                     *(["--dry-run"] if dry else [])]) == 2
        _one_line_error(capsys, message)
        assert not out.exists() and not (tmp_path / "o.nc.checkpoint").exists()

    def test_existing_output_is_refused_by_the_dry_run(self, config, tmp_path, capsys):
        out = tmp_path / "o.nc"
        out.write_text("x")
        assert main(["run", str(config), "-o", str(out), "--dry-run"]) == 2
        _one_line_error(capsys, "exists", "--overwrite")

    def test_dry_run_prints_the_verdict_and_the_number_of_samples(self, config, capsys):
        assert main(["run", str(config), "-o", "unused.nc", "--dry-run", "--set", "grid.t_final=200.0",
                     "--set", "grid.n_times=40", "--set", "grid.L=[8]"]) == 0
        out = capsys.readouterr().out
        assert "37 sample times" in out and "H0 applications" in out and "checks: passed" in out


class TestOutputPath:
    def test_directory(self, config, tmp_path, capsys):
        assert main(["run", str(config), "-o", str(tmp_path), "--overwrite"]) == 2
        _one_line_error(capsys, f"output {tmp_path} is a directory")

    def test_missing_directory(self, config, tmp_path, capsys):
        assert main(["run", str(config), "-o", str(tmp_path / "nope" / "o.nc")]) == 2
        _one_line_error(capsys, "output directory", "does not exist")

    def test_unwritable_directory(self, config, tmp_path, capsys, monkeypatch):
        import tempfile

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
        assert main(["run", str(config), "-o", str(tmp_path / "o.nc"), "--dry-run"]) == 2
        _one_line_error(capsys, f"cannot write to the output directory {tmp_path}: Permission denied")

    def test_disk_full_while_writing(self, config, tmp_path, capsys, monkeypatch):
        import errno

        import xarray

        write = xarray.Dataset.to_netcdf

        def full(self, path, *args, **kwargs):
            if "part-" in str(path):
                return write(self, path, *args, **kwargs)
            with open(path, "wb") as fh:
                fh.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(xarray.Dataset, "to_netcdf", full)
        out = tmp_path / "o.nc"
        assert main(["run", str(config), "-o", str(out), "--quiet"]) == 2
        err = _one_line_error(capsys, f"could not write {out}", "No space left on device", "MiB free on",
                              "finished batches are kept in", "resume with: mbl-avalanche")
        assert "o.nc.checkpoint" in err
        assert sorted(p.name for p in tmp_path.iterdir()) == ["o.nc.checkpoint", "tiny.toml"]  # no partial file

    def test_disk_full_while_writing_a_checkpoint_part(self, config, tmp_path, capsys, monkeypatch):
        import xarray

        def hdf(self, path, *args, **kwargs):
            raise RuntimeError("NetCDF: HDF error")

        monkeypatch.setattr(xarray.Dataset, "to_netcdf", hdf)
        assert main(["run", str(config), "-o", str(tmp_path / "o.nc"), "--quiet"]) == 2
        _one_line_error(capsys, "OSError during the run: cannot write the checkpoint part", "NetCDF: HDF error",
                        "MiB free on")
        assert not list(tmp_path.rglob("*.tmp"))

    def test_hdf_error_while_writing(self, config, tmp_path, capsys, monkeypatch):
        import xarray

        write = xarray.Dataset.to_netcdf

        def hdf(self, path, *args, **kwargs):
            if "part-" in str(path):
                return write(self, path, *args, **kwargs)
            raise RuntimeError("NetCDF: HDF error")

        monkeypatch.setattr(xarray.Dataset, "to_netcdf", hdf)
        assert main(["run", str(config), "-o", str(tmp_path / "o.nc"), "--quiet"]) == 2
        _one_line_error(capsys, "could not write", "NetCDF: HDF error")


class TestFailuresDuringTheRun:
    @pytest.mark.parametrize("error", [FloatingPointError("the state norm drifted"), MemoryError()])
    def test_one_line_naming_the_error_and_the_checkpoint(self, config, tmp_path, capsys, monkeypatch, error):
        from ensemble.engines import Engine

        real = Engine.run
        calls = []

        def flaky(self, task, rng):
            calls.append(task)
            if len(calls) > 2:
                raise error
            return real(self, task, rng)

        monkeypatch.setattr(Engine, "run", flaky)
        out = tmp_path / "o.nc"
        assert main(["run", str(config), "-o", str(out), "--quiet",
                     "--set", "run.batch_size=1"]) == 2
        _one_line_error(capsys, f"{type(error).__name__} during the run", "2 finished batches are kept in")
        assert not out.exists()

    def test_garbage_config_names_the_file(self, tmp_path, capsys):
        path = tmp_path / "garbage.toml"
        path.write_bytes(bytes(range(128, 256)))
        assert main(["run", str(path), "-o", str(tmp_path / "o.nc")]) == 2
        _one_line_error(capsys, f"config file {path} is not UTF-8 text")


def test_a_real_full_disk_is_one_line_with_the_free_space(config, tmp_path, small_disk, capsys):
    out = small_disk / "o.nc"
    ckpt = tmp_path / "ckpt"
    assert main(["run", str(config), "-o", str(out), "--checkpoint", str(ckpt), "--quiet", "--set", "grid.L=[2]",
                 "--set", "grid.W=[1.0]", "--set", "grid.n_realizations=400", "--set", "grid.n_times=60",
                 "--set", "model.delta=0.0"]) == 2
    _one_line_error(capsys, f"could not write {out}", "MiB free on", f"finished batches are kept in {ckpt}")
    assert list(small_disk.iterdir()) == []  # no partial output
