"""run_grid on real Dask deployments: reproducibility, faults, resume, netCDF, bad input."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import xarray as xr
from distributed import Client, LocalCluster

import ensemble
from ensemble.run import seeds
from ensemble.run.realization import RunSpec, run_realization

SMALL = dict(W=[1.0, 6.0], delta=1.0, gamma=1.0, t_final=10.0, n_times=8, seed=1234)


def _cluster(n_workers: int) -> tuple[LocalCluster, Client]:
    cluster = LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    return cluster, Client(cluster)


@pytest.fixture(scope="module")
def two_workers():
    cluster, client = _cluster(2)
    yield client
    client.close()
    cluster.close()


def _same(a: xr.Dataset, b: xr.Dataset) -> None:
    """Bitwise equality of the physics (NaN in the same places)."""
    np.testing.assert_array_equal(a.sz.values, b.sz.values)
    np.testing.assert_array_equal(a.field.values, b.field.values)


class TestReproducibility:
    def test_one_vs_two_workers_and_synchronous(self, two_workers):
        kw = dict(L=[4, 6], n_realizations=5, progress=False, **SMALL)
        cluster, one_worker = _cluster(1)
        try:
            a = ensemble.run_grid(client=one_worker, **kw)
        finally:
            one_worker.close()
            cluster.close()
        b = ensemble.run_grid(client=two_workers, **kw)
        c = ensemble.run_grid(client="synchronous", **kw)
        _same(a, b)
        _same(a, c)

    def test_batch_size_does_not_matter(self, two_workers):
        kw = dict(L=6, n_realizations=8, progress=False, client=two_workers, **SMALL)
        _same(ensemble.run_grid(batch_size=1, **kw), ensemble.run_grid(batch_size=7, **kw))

    def test_grid_point_alone_equals_inside_larger_grid(self, two_workers):
        kw = dict(delta=1.0, gamma=1.0, t_final=10.0, n_times=8, seed=99, progress=False, client=two_workers)
        alone = ensemble.run_grid(L=6, W=6.0, n_realizations=3, **kw)
        grid = ensemble.run_grid(L=[4, 6, 8], W=[1.0, 6.0, 9.0], n_realizations={4: 2, 6: 4, 8: 1}, **kw)
        inside = grid.sel(L=6, W=6.0).isel(realization=slice(0, 3), site=slice(0, 6))
        np.testing.assert_array_equal(alone.sz.isel(L=0, W=0).values, inside.sz.values)
        # Smaller L is NaN-padded beyond its sites, and beyond its realizations.
        assert np.isnan(grid.sz.sel(L=4).isel(site=slice(4, None))).all()
        assert np.isnan(grid.sz.sel(L=8).isel(realization=slice(1, None))).all()
        assert not np.isnan(grid.sz.sel(L=8).isel(realization=0)).any()

    def test_extension_five_to_ten_equals_fresh_ten(self, two_workers, tmp_path):
        kw = dict(L=4, progress=False, client=two_workers, checkpoint=tmp_path, batch_size=2, **SMALL)
        ensemble.run_grid(n_realizations=5, **kw)
        first = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("part-*.nc")}
        extended = ensemble.run_grid(n_realizations=10, **kw)
        after = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("part-*.nc")}
        assert all(after[name] == t for name, t in first.items()), "existing parts were rewritten"
        assert len(after) > len(first)
        fresh = ensemble.run_grid(L=4, n_realizations=10, progress=False, client=two_workers, **SMALL)
        _same(extended, fresh)

    def test_random_streams_depend_only_on_the_realization(self):
        steps = (0, 5, 40)
        spec = RunSpec.build(entropy=7, steps=steps, delta=1.0, gamma=1.0)
        f1, _ = run_realization(spec, 6, 3.0, 2)
        f2, _ = run_realization(RunSpec.build(entropy=7, steps=(0, 80), delta=0.5, gamma=2.0, tau=0.01), 6, 3.0, 2)
        np.testing.assert_array_equal(f1, f2)  # fields do not depend on gamma, tau, t_final, delta
        assert np.all(np.abs(f1) <= 3.0)
        short = seeds.draw_etas(7, 6, 3.0, 2, 100, 0.05)
        long = seeds.draw_etas(7, 6, 3.0, 2, 1000, 0.05)
        np.testing.assert_array_equal(short, long[:100])  # a longer run extends the same noise
        assert 0.8 < long.var() / 0.05 < 1.2  # variance tau
        assert not np.array_equal(seeds.draw_fields(7, 6, 3.0, 2), seeds.draw_fields(7, 6, 3.0, 3))

    def test_realization_pairs_gamma_zero_with_gamma(self):
        spec = RunSpec.build(entropy=3, steps=(0, 10, 200), delta=1.0, gamma=1.0)
        fields, out = run_realization(spec, 6, 4.0, 0)
        assert set(out) == {"sz"}
        sz = out["sz"]
        etas = seeds.draw_etas(3, 6, 4.0, 0, 200, 0.05)
        np.testing.assert_array_equal(sz[0], ensemble.magnetization_trajectory(fields, etas, [0, 10, 200], delta=1.0, gamma=0.0))
        np.testing.assert_array_equal(sz[1], ensemble.magnetization_trajectory(fields, etas, [0, 10, 200], delta=1.0, gamma=1.0))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestDeployments:
    def test_scheduler_and_workers_by_hand(self, two_workers):
        port = _free_port()
        address = f"tcp://127.0.0.1:{port}"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
        procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        try:
            worker = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                      "--no-dashboard", "--host", "127.0.0.1"]
            procs += [subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(2)]
            deadline = time.monotonic() + 60
            while True:
                try:
                    with Client(address, timeout="5s") as probe:
                        probe.wait_for_workers(2, timeout=60)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            kw = dict(L=[4, 6], n_realizations=3, progress=False, **SMALL)
            remote = ensemble.run_grid(client=address, **kw)
            _same(remote, ensemble.run_grid(client=two_workers, **kw))
        finally:
            for p in procs[::-1]:
                p.terminate()
            for p in procs[::-1]:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def test_worker_killed_mid_run_changes_nothing(self, tmp_path):
        cluster, client = _cluster(2)
        try:
            kw = dict(L=8, W=5.0, delta=1.0, gamma=1.0, t_final=100.0, n_times=10, seed=5,
                      n_realizations=24, batch_size=1, progress=False)
            pids = list(client.run(os.getpid).values())
            killed = {}

            def kill_after_first_part():
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    parts = list(tmp_path.glob("part-*.nc"))
                    if parts:
                        killed["parts_at_kill"] = len(parts)
                        os.kill(pids[0], signal.SIGKILL)
                        return
                    time.sleep(0.01)

            killer = threading.Thread(target=kill_after_first_part)
            killer.start()
            disturbed = ensemble.run_grid(client=client, checkpoint=tmp_path, **kw)
            killer.join()
            assert 0 < killed["parts_at_kill"] < 24, "the kill did not happen mid-run"
            undisturbed = ensemble.run_grid(client="synchronous", **kw)
            _same(disturbed, undisturbed)
        finally:
            client.close()
            cluster.close()

    def test_unreachable_scheduler(self):
        with pytest.raises(ConnectionError, match="cannot reach"):
            ensemble.run_grid(L=4, n_realizations=1, client=f"tcp://127.0.0.1:{_free_port()}", progress=False, **SMALL)


RESUME_SCRIPT = """
import sys, ensemble
ensemble.run_grid(L=10, W=[2.0, 7.0], delta=1.0, gamma=1.0, t_final=500.0, n_times=10, seed=11,
                  n_realizations=12, batch_size=1, client="synchronous", checkpoint=sys.argv[1])
"""


class TestCheckpoint:
    def test_interrupted_run_resumes_computing_only_the_missing(self, tmp_path):
        ckpt = tmp_path / "ckpt"
        proc = subprocess.Popen([sys.executable, "-c", RESUME_SCRIPT, str(ckpt)], stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while len(list(ckpt.glob("part-*.nc"))) < 3 and time.monotonic() < deadline:  # ~0.3 s per part
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode != 0
        assert "run the same call again to resume" in err
        before = {p.name: p.stat().st_mtime_ns for p in ckpt.glob("part-*.nc")}
        assert 3 <= len(before) < 24
        assert not list(ckpt.glob("*.tmp")), "a partial part file was left behind"
        kw = dict(L=10, W=[2.0, 7.0], delta=1.0, gamma=1.0, t_final=500.0, n_times=10, seed=11,
                  n_realizations=12, progress=False, client="synchronous")
        resumed = ensemble.run_grid(checkpoint=ckpt, batch_size=1, **kw)
        after = {p.name: p.stat().st_mtime_ns for p in ckpt.glob("part-*.nc")}
        assert len(after) == 24
        assert all(after[name] == t for name, t in before.items()), "finished batches were recomputed"
        _same(resumed, ensemble.run_grid(**kw))

    def test_checkpoint_from_another_run_is_refused(self, tmp_path):
        kw = dict(L=4, n_realizations=2, progress=False, client="synchronous", checkpoint=tmp_path)
        ensemble.run_grid(**kw, **SMALL)
        with pytest.raises(ValueError, match="different run.*gamma"):
            ensemble.run_grid(**kw, **{**SMALL, "gamma": 2.0})
        with pytest.raises(ValueError, match="different run.*seed_entropy"):
            ensemble.run_grid(**kw, **{**SMALL, "seed": 1})


class TestDataset:
    @pytest.fixture(scope="class")
    def ds(self):
        return ensemble.run_grid(L=[4, 6], n_realizations={4: 3, 6: 2}, client="synchronous", progress=False, **SMALL)

    def test_schema_and_conventions(self, ds):
        ensemble.validate_dataset(ds)
        assert ds.sz.dims == ("L", "W", "gamma", "realization", "time", "site")
        assert ds.field.dims == ("L", "W", "realization", "site")
        np.testing.assert_array_equal(ds.gamma, [0.0, 1.0])
        np.testing.assert_array_equal(ds.site, np.arange(1, 7))
        np.testing.assert_allclose(ds.time, ds.step * 0.05, rtol=0, atol=0)
        assert ds.step[0] == 0 and ds.time[-1] == 10.0
        neel = 0.5 * (-1.0) ** np.arange(6)
        np.testing.assert_array_equal(ds.sz.sel(L=6, time=0.0).isel(realization=0).values[..., :6],
                                      np.broadcast_to(neel, (2, 2, 6)))
        for name in ("delta", "J", "tau", "gamma", "t_final", "seed_entropy", "seed_scheme", "engine",
                     "versions", "created", "call", "unraveling", "noise"):
            assert name in ds.attrs, name
        assert ds.attrs["seed_entropy"] == "1234"
        assert "run_grid(" in ds.attrs["call"]

    def test_netcdf_round_trip_is_exact(self, ds, tmp_path):
        path = tmp_path / "grid.nc"
        ds.to_netcdf(path)
        back = xr.load_dataset(path)
        assert back.identical(ds)
        for value in back.attrs.values():
            assert isinstance(value, (str, int, float, np.integer, np.floating))

    def test_fresh_entropy_is_recorded_and_reproduces(self):
        kw = dict(L=4, W=2.0, delta=1.0, t_final=5.0, n_times=4, n_realizations=2, client="synchronous", progress=False)
        a = ensemble.run_grid(**kw)
        b = ensemble.run_grid(seed=int(a.attrs["seed_entropy"]), **kw)
        _same(a, b)


class TestBadInput:
    base = dict(L=4, W=2.0, delta=1.0, t_final=5.0, n_realizations=2, client="synchronous", progress=False)

    @pytest.mark.parametrize(
        "change, match",
        [
            (dict(L=5), "L must be even"),
            (dict(L=[4, 4]), "duplicate"),
            (dict(W=-1.0), "W must be"),
            (dict(n_realizations=0), "n_realizations"),
            (dict(n_realizations={6: 3}), "no entry for L"),
            (dict(t_final=0.0), "t_final"),
            (dict(t_final=-3.0), "t_final"),
            (dict(t_final=1.01), "step grid"),
            (dict(t_final=None, times=[0.0, 0.5, 0.52]), "step grid"),
            (dict(t_final=None, times=[0.0, 1.0, 0.5]), "increasing"),
            (dict(engine="tebd"), "engine"),
            (dict(engine="gaussian"), "delta == 0"),
            (dict(gamma=0.0), "gamma"),
            (dict(tau=0.0), "tau"),
            (dict(seed=-1), "seed"),
            (dict(batch_size=0), "batch_size"),
            (dict(unraveling="quantum-jump"), "unraveling"),
        ],
    )
    def test_value_errors(self, change, match):
        with pytest.raises(ValueError, match=match):
            ensemble.run_grid(**{**self.base, **change})

    def test_checkpoint_path_that_is_a_file(self, tmp_path):
        f = tmp_path / "file"
        f.write_text("x")
        with pytest.raises(ValueError, match="directory"):
            ensemble.run_grid(checkpoint=f, **self.base)

    def test_explicit_times_on_the_grid(self):
        ds = ensemble.run_grid(**{**self.base, "t_final": None, "times": [0.5, 1.0, 2.5]})
        np.testing.assert_array_equal(ds.step, [0, 10, 20, 50])


class TestEstimators:
    kw = dict(L=6, W=3.0, t_final=10.0, n_times=6, n_realizations=2, seed=8, client="synchronous", progress=False)

    def test_noise_averaged_is_the_exact_stepper_mean_per_disorder(self):
        from ensemble.references import lindblad

        ds = ensemble.run_grid(delta=0.0, noise="averaged", **self.kw)
        assert ds.attrs["noise"] == "averaged"
        for r in range(2):
            fields = ds.field.isel(L=0, W=0, realization=r).values
            exact = lindblad.stepper_mean(fields, ds.step.values, delta=0.0, gamma=1.0)
            np.testing.assert_allclose(ds.sz.isel(L=0, W=0, gamma=1, realization=r).values, exact, atol=1e-12)

    def test_jump_unraveling_uses_the_noise_stream(self):
        from ensemble.engines import jump

        ds = ensemble.run_grid(delta=1.0, unraveling="jump", engine="manybody", **self.kw)
        assert ds.attrs["unraveling"] == "jump"
        fields = ds.field.isel(L=0, W=0, realization=1).values
        expected = jump.jump_magnetizations(fields, ds.step.values, delta=1.0, gamma=1.0,
                                            rng=seeds.noise_rng(8, 6, 3.0, 1))
        np.testing.assert_array_equal(ds.sz.isel(L=0, W=0, gamma=1, realization=1).values, expected)

    @pytest.mark.parametrize("change", [dict(delta=1.0, noise="averaged"),
                                        dict(delta=0.0, unraveling="jump", engine="gaussian")])
    def test_unsupported_combinations(self, change):
        with pytest.raises(ValueError, match="averaged|jump"):
            ensemble.run_grid(**self.kw, **change)

    def test_auto_finds_the_manybody_jump_engine_at_delta_zero(self):
        """engine="auto" is a registry lookup: the only jump engine is the many-body one, for any Delta."""
        ds = ensemble.run_grid(delta=0.0, unraveling="jump", **self.kw)
        assert ds.attrs["engine_resolved"] == "manybody" and ds.attrs["engine_name"] == "jump"


class TestEntanglement:
    def test_half_chain_entropy_is_stored_and_checkpointed(self, tmp_path):
        from ensemble.engines import gaussian

        kw = dict(L=[6, 8], W=2.0, delta=0.0, t_final=20.0, n_times=6, n_realizations=2, seed=4,
                  client="synchronous", progress=False, entanglement=True)
        ds = ensemble.run_grid(checkpoint=tmp_path, **kw)
        ensemble.validate_dataset(ds)
        S = ds.entanglement
        assert S.dims == ("L", "W", "gamma", "realization", "time")
        np.testing.assert_array_equal(S.isel(time=0), 0.0)  # the Néel state is a product state
        fields = ds.field.sel(L=8, W=2.0).isel(realization=1).values
        etas = seeds.draw_etas(4, 8, 2.0, 1, int(ds.step[-1]), 0.05)
        expected = gaussian.gaussian_entropy(fields, etas, ds.step.values, gamma=1.0)
        np.testing.assert_array_equal(S.sel(L=8, W=2.0, gamma=1.0).isel(realization=1).values, expected)
        resumed = ensemble.run_grid(checkpoint=tmp_path, **kw)  # everything comes from the parts
        np.testing.assert_array_equal(resumed.entanglement.values, S.values)
        path = tmp_path / "ds.nc"
        ds.to_netcdf(path)
        assert xr.load_dataset(path).identical(ds)

    def test_refused_where_trajectories_are_not_the_papers(self):
        with pytest.raises(ValueError, match="'entanglement' is nonlinear in the state"):
            ensemble.run_grid(L=4, W=1.0, delta=1.0, t_final=5.0, n_realizations=1, entanglement=True,
                              unraveling="jump", client="synchronous", progress=False)
