"""Self-verifying checkpoints: bad parts are named, moved aside and recomputed; one live run per directory."""

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

import ensemble
from ensemble.io.atomic import temporary_name
from ensemble.run import checkpoint as ckpt

KW = dict(L=4, W=[1.0, 6.0], delta=1.0, gamma=1.0, t_final=10.0, n_times=8, seed=1234, n_realizations=4,
          batch_size=2, client="synchronous", progress=False)


@pytest.fixture(scope="module")
def fresh():
    return ensemble.run_grid(**KW)


@pytest.fixture
def filled(tmp_path):
    """A checkpoint directory holding the four parts of ``KW``."""
    directory = tmp_path / "ckpt"
    ensemble.run_grid(checkpoint=directory, **KW)
    assert len(list(directory.glob(ckpt.PART_GLOB))) == 4
    return directory


def _same(a, b):
    np.testing.assert_array_equal(a.sz.values, b.sz.values)
    np.testing.assert_array_equal(a.field.values, b.field.values)


def _first_part(directory):
    return sorted(directory.glob(ckpt.PART_GLOB))[0]


def _rewrite(path, change, *, fix_checksum=False):
    """Rewrite a part with ``change(part)`` applied, keeping (or recomputing) its checksum."""
    part = xr.load_dataset(path)
    change(part)
    if fix_checksum:
        arrays = {n: part[n].values for n in ("sz", "field", "entanglement") if n in part}
        part.attrs["checksum"] = ckpt.checksum(part.realization.values, arrays)
    path.unlink()
    part.to_netcdf(path)


class TestBadParts:
    def _resume_and_check(self, directory, fresh, capsys, caplog, name, reason):
        ds = ensemble.run_grid(checkpoint=directory, **KW)
        _same(ds, fresh)
        err = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
        assert name in err and reason in err and "recomputed" in err
        assert capsys.readouterr().err == ""  # a library call logs, it does not print
        assert (directory / ckpt.REJECTED / name).exists()
        assert len(list(directory.glob(ckpt.PART_GLOB))) == 4  # the rejected batch was written again

    def test_altered_values_fail_the_checksum(self, filled, fresh, capsys, caplog):
        path = _first_part(filled)
        _rewrite(path, lambda p: p["sz"].values.__setitem__((0, 1, 3, 0), 0.25))
        self._resume_and_check(filled, fresh, capsys, caplog, path.name, "fails its checksum")

    def test_nan_values_fail_the_checksum(self, filled, fresh, capsys, caplog):
        path = _first_part(filled)
        _rewrite(path, lambda p: p["sz"].values.__setitem__((1, 1, slice(None), 2), np.nan))
        self._resume_and_check(filled, fresh, capsys, caplog, path.name, "fails its checksum")

    def test_nan_values_with_a_matching_checksum(self, filled, fresh, capsys, caplog):
        path = _first_part(filled)
        _rewrite(path, lambda p: p["sz"].values.__setitem__((1, 1, 2, 2), np.nan), fix_checksum=True)
        self._resume_and_check(filled, fresh, capsys, caplog, path.name, "non-finite")

    @pytest.mark.parametrize("damage, reason", [
        (lambda p, data: p.write_bytes(data[: len(data) // 2]), "cannot be read"),
        (lambda p, data: p.write_bytes(b""), "cannot be read"),
        (lambda p, data: p.write_text("not netCDF at all"), "cannot be read"),
        (lambda p, data: xr.Dataset({"x": ("a", [1.0])}).to_netcdf(p), "is not a checkpoint part"),
    ], ids=["truncated", "empty", "text", "foreign-netcdf"])
    def test_unreadable_or_foreign_files(self, filled, fresh, capsys, caplog, damage, reason):
        path = _first_part(filled)
        data = path.read_bytes()
        path.unlink()
        damage(path, data)
        self._resume_and_check(filled, fresh, capsys, caplog, path.name, reason)

    def test_wrong_shape(self, filled, fresh, capsys, caplog):
        path = _first_part(filled)
        _rewrite(path, lambda p: p.attrs.__setitem__("L", 6))
        self._resume_and_check(filled, fresh, capsys, caplog, path.name, "wrong shape")

    def test_identical_overlap_is_fine(self, filled, fresh, caplog):
        shutil.copy(_first_part(filled), filled / "part-copy.nc")
        _same(ensemble.run_grid(checkpoint=filled, **KW), fresh)
        assert "checkpoint:" not in caplog.text
        assert not (filled / ckpt.REJECTED).exists()

    @pytest.mark.parametrize("forge, reason", [
        (lambda sz: sz.__iadd__(np.where(np.abs(sz) < 0.4, 0.01, 0.0)), "violates Sz_tot = 0"),
        (lambda sz: sz.__setitem__((0, 1, 3, 0), 5.0), "|Sz_j| = 5 > 1/2"),
        (lambda sz: sz.__setitem__((0, slice(None), 0, slice(0, 2)), [0.5, -0.5][::-1]), "not the Néel start"),
        (lambda sz: sz.__setitem__((0, 1, 0, slice(0, 2)), 0.0), "not a product start"),
    ], ids=["shifted", "five", "not-neel", "not-product"])
    def test_forged_values_with_a_matching_checksum(self, filled, fresh, capsys, caplog, forge, reason):
        path = _first_part(filled)
        _rewrite(path, lambda p: forge(p["sz"].values), fix_checksum=True)
        self._resume_and_check(filled, fresh, capsys, caplog, path.name, reason)

    def test_overlap_with_different_values_rejects_both(self, filled, fresh, caplog):
        original = _first_part(filled)
        copy = filled / "part-copy.nc"
        shutil.copy(original, copy)

        def plausible(p):  # moves 1e-4 of magnetization between two sites: every physical rule still holds
            p["sz"].values[0, 1, 3, :2] += [1e-4, -1e-4] if p["sz"].values[0, 1, 3, 0] < 0 else [-1e-4, 1e-4]

        _rewrite(copy, plausible, fix_checksum=True)
        _same(ensemble.run_grid(checkpoint=filled, **KW), fresh)
        err = caplog.text
        assert err.count("overlaps another part with different values") == 2
        assert original.name in err and copy.name in err

    def test_part_of_another_run_is_refused_naming_file_and_parameter(self, filled, tmp_path):
        other = tmp_path / "other"
        ensemble.run_grid(checkpoint=other, **{**KW, "t_final": 20.0})
        stray = _first_part(other)
        shutil.copy(stray, filled / "part-stray.nc")
        with pytest.raises(ValueError, match="part-stray.nc belongs to a different run") as err:
            ensemble.run_grid(checkpoint=filled, **KW)
        message = str(err.value)
        assert "8 sample steps up to 400 there vs 8 sample steps up to 200 now" in message
        assert "t_final, tau, n_times or times differ" in message and len(message) < 400

    def test_manifest_of_another_run_is_refused_before_computing(self, filled):
        with pytest.raises(ValueError, match="belongs to a different run .*gamma: 1.0 there vs 2.0 now"):
            ensemble.run_grid(checkpoint=filled, **{**KW, "gamma": 2.0})


class TestResume:
    def test_seedless_run_resumes_with_the_recorded_entropy(self, tmp_path):
        kw = {**KW, "seed": None, "checkpoint": tmp_path}
        first = ensemble.run_grid(**{**kw, "n_realizations": 2})
        assert json.loads((tmp_path / ckpt.MANIFEST).read_text())["seed_entropy"] == first.attrs["seed_entropy"]
        before = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob(ckpt.PART_GLOB)}
        more = ensemble.run_grid(**kw)
        assert more.attrs["seed_entropy"] == first.attrs["seed_entropy"]
        assert all(p.stat().st_mtime_ns == before[p.name] for p in tmp_path.glob(ckpt.PART_GLOB) if p.name in before)
        _same(more, ensemble.run_grid(**{**KW, "seed": int(first.attrs["seed_entropy"])}))

    def test_auto_engine_resumes_as_manybody(self, filled, fresh):
        before = {p.name: p.stat().st_mtime_ns for p in filled.glob(ckpt.PART_GLOB)}
        _same(ensemble.run_grid(checkpoint=filled, **{**KW, "engine": "manybody"}), fresh)
        assert {p.name: p.stat().st_mtime_ns for p in filled.glob(ckpt.PART_GLOB)} == before

    def test_no_empty_directory_after_an_early_failure(self, tmp_path):
        directory = tmp_path / "never"
        with pytest.raises(ValueError, match="client must be"):  # fails after the directory was made
            ensemble.run_grid(checkpoint=directory, **{**KW, "client": 42})
        assert not directory.exists()

    def test_temporary_names_are_unique_per_process(self, tmp_path):
        path = tmp_path / "part-L4-W1-r0-1.nc"
        a, b = temporary_name(path), temporary_name(path)
        assert a != b and str(os.getpid()) in a.name and a.name.startswith(".") and not a.match(ckpt.PART_GLOB)


SLOW_KW = dict(L=10, W=[2.0, 7.0], delta=1.0, gamma=1.0, t_final=500.0, n_times=10, seed=11, n_realizations=12,
               batch_size=1, client="synchronous", progress=False)
SLOW = f"import sys, ensemble; ensemble.run_grid(checkpoint=sys.argv[1], **{SLOW_KW!r})"


class TestLock:
    def test_second_live_run_is_refused(self, tmp_path):
        proc = subprocess.Popen([sys.executable, "-c", SLOW, str(tmp_path)], stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not (tmp_path / ckpt.LOCK).exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            with pytest.raises(ValueError, match=f"in use by pid {proc.pid} on host {socket.gethostname()}"):
                ensemble.run_grid(checkpoint=tmp_path, **SLOW_KW)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
        assert not (tmp_path / ckpt.LOCK).exists(), "the interrupted run left its lock"

    def test_stale_lock_is_taken_over(self, tmp_path, fresh, caplog):
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        tmp_path.joinpath(ckpt.LOCK).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
        _same(ensemble.run_grid(checkpoint=tmp_path, **KW), fresh)
        assert f"stale lock {tmp_path / ckpt.LOCK} of pid {dead.pid}" in caplog.text
        assert not (tmp_path / ckpt.LOCK).exists()

    def test_lock_from_another_host_is_respected(self, tmp_path):
        tmp_path.joinpath(ckpt.LOCK).write_text(json.dumps({"pid": 1, "host": "elsewhere", "started": "t0"}))
        with pytest.raises(ValueError, match="in use by pid 1 on host elsewhere since t0.*delete"):
            ensemble.run_grid(checkpoint=tmp_path, **KW)

    @pytest.mark.parametrize("content", ["", "garbage{", '{"pid": -1}'], ids=["empty", "garbage", "no-host"])
    def test_old_empty_or_garbage_lock_is_taken_over(self, tmp_path, fresh, caplog, content):
        lock = tmp_path / ckpt.LOCK
        lock.write_text(content)
        old = time.time() - 120
        os.utime(lock, (old, old))
        _same(ensemble.run_grid(checkpoint=tmp_path, **KW), fresh)
        assert "stale lock" in caplog.text and not lock.exists()

    def test_fresh_empty_lock_is_being_written(self, tmp_path):
        (tmp_path / ckpt.LOCK).write_text("")
        with pytest.raises(ValueError, match="being locked by another run"):
            ensemble.run_grid(checkpoint=tmp_path, **KW)

    def test_plan_refuses_a_live_lock(self, tmp_path):
        tmp_path.joinpath(ckpt.LOCK).write_text(json.dumps({"pid": 1, "host": "elsewhere", "started": "t0"}))
        with pytest.raises(ValueError, match="in use by pid 1 on host elsewhere"):
            ensemble.plan_grid(checkpoint=tmp_path, **{k: v for k, v in KW.items() if k not in ("client", "progress")})

    def test_lock_is_reentrant_within_a_process(self, tmp_path, fresh):
        directory = tmp_path / "ck"
        with ckpt.session(directory):
            _same(ensemble.run_grid(checkpoint=directory, **KW), fresh)
            assert (directory / ckpt.LOCK).exists(), "the inner run released the outer holder's lock"
        assert not (directory / ckpt.LOCK).exists()

    def test_stale_temporaries_of_dead_writers_are_removed(self, filled, fresh):
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        host = socket.gethostname()
        stale = filled / f".part-L4-W1000000-r0000000-0000001.nc.{host}-{dead.pid}-0123abcd.tmp"
        live = filled / f".part-L4-W1000000-r0000000-0000001.nc.{host}-{os.getpid()}-0123abcd.tmp"
        foreign = filled / f".part-L4-W1000000-r0000000-0000001.nc.elsewhere-{dead.pid}-0123abcd.tmp"
        for path in (stale, live, foreign):
            path.write_bytes(b"partial")
        _same(ensemble.run_grid(checkpoint=filled, **KW), fresh)
        assert not stale.exists() and live.exists() and foreign.exists()
