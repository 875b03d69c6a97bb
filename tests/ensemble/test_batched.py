"""The batched engine (NumPy backend): realization by realization the serial engines' numbers."""

from pathlib import Path

import numpy as np
import pytest
from dense_reference import dense_trajectory

import ensemble
from ensemble.engines import Task, select
from ensemble.engines import batched
from ensemble.engines.batched import BatchedEngine, BatchedJumpEngine, run_batched
from ensemble.engines.batched_kernels import gpu_unavailable_reason
from ensemble.models.baths.dephasing import DephasingBath
from ensemble.models.initial_states.neel import Neel
from ensemble.models.xxz import XXZChain
from ensemble.run import seeds

CHAIN, BATH = XXZChain(delta=1.0), DephasingBath(gamma=1.0, tau=0.05)
KICK_STEPS = np.array([0, 1, 4, 17, 60, 100])  # t <= 5
JUMP_STEPS = np.array([0, 3, 40, 200, 1000])  # t <= 50


def _tasks(L, steps, n=4, Ws=(3.0, 8.0)):
    keys = [(L, Ws[r % len(Ws)], r) for r in range(n)]
    tasks = [Task(fields=seeds.draw_fields(11, L, W, r), up_sites=Neel().up_sites(L), steps=steps, chain=CHAIN,
                  bath=BATH) for L, W, r in keys]
    return tasks, keys


def _rngs(keys):
    return [seeds.noise_rng(11, L, W, r) for L, W, r in keys]


def _serial(unraveling, tasks, keys):
    engine = select("manybody", unraveling, "trajectory", CHAIN, BATH)
    return np.array([engine.run(t, g)["sz"] for t, g in zip(tasks, _rngs(keys))])


def _batched(unraveling, tasks, keys, **kw):
    outs, counters = run_batched(tasks, _rngs(keys), unraveling=unraveling, **kw)
    return np.array([o["sz"] for o in outs]), counters


class TestAgreementWithTheSerialEngines:
    @pytest.mark.parametrize("L", [8, 10, 12])
    @pytest.mark.parametrize("unraveling,steps", [("kick", KICK_STEPS), ("jump", JUMP_STEPS)])
    def test_every_realization_and_both_runs(self, L, unraveling, steps):
        """Same seeds: the reference (index 0) and the bath run (index 1) of each realization."""
        tasks, keys = _tasks(L, steps)
        serial = _serial(unraveling, tasks, keys)
        got, counters = _batched(unraveling, tasks, keys, max_columns=5)  # 8 jobs through 5 columns: refills
        np.testing.assert_allclose(got, serial, rtol=0, atol=1e-10)
        assert counters["column_passes"] >= counters["passes"] > 0

    def test_kicks_against_dense_exact_evolution(self):
        """An independent reference: dense exp(-i tau H0) and the kick, same etas."""
        tasks, keys = _tasks(8, KICK_STEPS, n=2)
        got, _ = _batched("kick", tasks, keys)
        for task, (L, W, r), sz in zip(tasks, keys, got):
            etas = seeds.draw_etas(11, L, W, r, int(KICK_STEPS[-1]), 0.05)
            kicked = dense_trajectory(task.fields, etas, KICK_STEPS, delta=1.0, gamma=1.0, tau=0.05)
            noiseless = dense_trajectory(task.fields, np.zeros(int(KICK_STEPS[-1])), KICK_STEPS, delta=1.0,
                                         gamma=0.0, tau=0.05)
            np.testing.assert_allclose(sz[1], kicked, rtol=0, atol=1e-10)
            np.testing.assert_allclose(sz[0], noiseless, rtol=0, atol=1e-10)

    def test_long_intervals_in_chunks(self, monkeypatch):
        """Intervals longer than the chunk argument are split, each chunk tol / n, as in the serial engine."""
        tasks, keys = _tasks(8, JUMP_STEPS, n=2)
        serial = _serial("jump", tasks, keys)
        monkeypatch.setattr(batched, "CHUNK_ARGUMENT", 20.0)
        got, _ = _batched("jump", tasks, keys)
        np.testing.assert_allclose(got[:, 0], serial[:, 0], rtol=0, atol=1e-10)  # reference: tol per interval
        # jumps: each interval of m steps has the 2-norm budget min(m tol, 1e-9), split over its chunks
        np.testing.assert_allclose(got[:, 1], serial[:, 1], rtol=0, atol=1e-9)


    def test_unconverged_lanczos_falls_back_to_gershgorin(self, monkeypatch):
        """Three Lanczos steps cannot bound the spectrum at L = 12: the rigorous Gershgorin interval is used."""
        tasks, keys = _tasks(12, KICK_STEPS[:4], n=2)
        serial = _serial("kick", tasks, keys)
        _, tight = _batched("kick", tasks, keys)
        monkeypatch.setattr(batched, "LANCZOS_STEPS", 3)
        got, wide = _batched("kick", tasks, keys)
        np.testing.assert_allclose(got, serial, rtol=0, atol=1e-10)
        assert wide["column_passes"] > tight["column_passes"]  # a wider interval, a higher order


class TestBookkeeping:
    @pytest.mark.parametrize("unraveling,steps", [("kick", KICK_STEPS), ("jump", JUMP_STEPS)])
    def test_no_column_waits(self, unraveling, steps):
        """Asynchronous columns: the column passes are the serial engines' matvecs, plus at most the
        half-width rounding to the grid 2^(1/64) (1.1 %), though 8 jobs share 3 columns."""
        tasks, keys = _tasks(10, steps, n=4)
        engine = select("manybody", unraveling, "trajectory", CHAIN, BATH)
        matvecs = 0
        for task, rng in zip(tasks, _rngs(keys)):
            prepared = engine.prepare(task)
            engine.reference(prepared, task, lambda k, state: None)
            engine.trajectory(prepared, task, rng, lambda k, state: None)
            matvecs += prepared.propagator.matvecs
        _, counters = _batched(unraveling, tasks, keys, max_columns=3)
        assert matvecs <= counters["column_passes"] <= 1.011 * matvecs


    def test_noise_blocks_give_the_same_etas(self, monkeypatch):
        """Kick noise drawn in blocks of 7 steps is the one-call draw of the serial engine (bitwise here)."""
        tasks, keys = _tasks(8, KICK_STEPS, n=3)
        whole, _ = _batched("kick", tasks, keys)
        monkeypatch.setattr(batched, "_ETA_BLOCK", 7)
        blocks, _ = _batched("kick", tasks, keys)
        np.testing.assert_array_equal(blocks, whole)

    @pytest.mark.parametrize("columns", [1, 2, 3, 16])
    def test_block_width_changes_nothing_but_rounding(self, columns):
        tasks, keys = _tasks(8, JUMP_STEPS, n=5)
        wide, _ = _batched("jump", tasks, keys, max_columns=10)
        got, _ = _batched("jump", tasks, keys, max_columns=columns)
        np.testing.assert_allclose(got, wide, rtol=0, atol=1e-14)

    def test_a_batch_must_share_the_sample_steps(self):
        tasks, keys = _tasks(8, KICK_STEPS, n=1)
        other = Task(fields=tasks[0].fields, up_sites=tasks[0].up_sites, steps=KICK_STEPS[:-1], chain=CHAIN, bath=BATH)
        with pytest.raises(ValueError, match="share L, the chain, the bath and the sample steps"):
            run_batched([tasks[0], other], _rngs(keys * 2))

    def test_norm_drift_raises(self, monkeypatch):
        """Spectral bounds that do not contain the spectrum make the series diverge: an error, never numbers."""
        monkeypatch.setattr(batched, "_bounds", lambda be, sector, fields: (np.full(fields.shape[1], -0.1),
                                                                           np.full(fields.shape[1], 0.1)))
        tasks, keys = _tasks(8, KICK_STEPS, n=1)
        with pytest.raises(FloatingPointError, match="norm drifted"):
            _batched("kick", tasks, keys)


class TestSelection:
    def test_one_name_serves_both_unravelings(self):
        assert type(select("batched", "kick", "trajectory", CHAIN, BATH)) is BatchedEngine
        assert type(select("batched", "jump", "trajectory", CHAIN, BATH)) is BatchedJumpEngine
        assert type(select("auto", "kick", "trajectory", CHAIN, BATH)) is not BatchedEngine

    def test_refuses_other_observables(self):
        with pytest.raises(ValueError, match="records sz only"):
            select("batched", "kick", "trajectory", CHAIN, BATH, ("sz", "entanglement"))
        # a per-realization observable runs beside the engine, whichever engine it is
        assert type(select("batched", "kick", "trajectory", CHAIN, BATH, ("sz", "relaxation_rate"))) is BatchedEngine

    def test_serial_engines_run_on_the_cpu_only(self):
        """The many-body family on the GPU is the batched engine; the free-fermion one has no GPU engine."""
        assert type(select("manybody", "kick", "trajectory", CHAIN, BATH, device="gpu")) is BatchedEngine
        with pytest.raises(ValueError, match='device="gpu" needs engine="batched"'):
            select("gaussian", "kick", "trajectory", XXZChain(delta=0.0), BATH, device="gpu")

    @pytest.mark.skipif(gpu_unavailable_reason() is None, reason="a usable GPU is present")
    def test_gpu_without_cupy_or_device_is_one_clear_error_where_it_runs(self, tmp_path):
        """A local run refuses at once (nothing written); planning alone, e.g. for a batch cluster, does not."""
        kw = dict(L=[6], W=[2.0], delta=1.0, t_final=1.0, n_times=3, n_realizations=2, seed=1, engine="batched",
                  device="gpu", checkpoint=tmp_path / "ck")
        from ensemble.run.grid import plan_grid

        assert plan_grid(**kw).spec.resolved_engine().device == "gpu"
        for client in (None, "synchronous"):
            with pytest.raises(ValueError, match='device="gpu"'):
                ensemble.run_grid(client=client, progress=False, **kw)
        assert not (tmp_path / "ck").exists()

    def test_importing_the_engines_does_not_import_cupy(self):
        import subprocess
        import sys

        code = "import sys, ensemble.engines as e; e.REGISTRY.names(); assert 'cupy' not in sys.modules"
        subprocess.run([sys.executable, "-c", code], check=True)


def test_run_grid_gives_the_serial_runs_numbers():
    kw = dict(L=[8], W=[3.0], delta=1.0, t_final=5.0, n_times=6, seed=4, client="synchronous", progress=False)
    fast = ensemble.run_grid(n_realizations=3, engine="batched", **kw)
    serial = ensemble.run_grid(n_realizations=2, **kw)
    assert fast.attrs["engine_name"] == "batched" and fast.attrs["engine_resolved"] == "manybody"
    np.testing.assert_array_equal(fast.field.isel(realization=slice(0, 2)).values, serial.field.values)
    np.testing.assert_allclose(fast.sz.isel(realization=slice(0, 2)).values, serial.sz.values, rtol=0, atol=1e-10)


class TestGpuWorkers:
    def test_batch_jobs_request_gpus_and_advertise_the_resource(self):
        from ensemble.run.jobqueue import ClusterConfig

        kw = ClusterConfig(kind="slurm", cores=8, memory="32GB", gpus=2,
                           job_extra_directives=["--constraint=h200"]).job_kwargs()
        assert kw["job_extra_directives"] == ["--constraint=h200", "--gres=gpu:2"]
        assert kw["worker_extra_args"][-2:] == ["--resources", "GPU=1"]
        assert kw["processes"] == 2  # one worker per GPU

    def test_gpus_belong_to_batch_clusters(self):
        from ensemble.run.jobqueue import ClusterConfig

        with pytest.raises(ValueError, match="cluster.gpus applies to the batch kinds"):
            ClusterConfig(kind="local", gpus=1)
        with pytest.raises(ValueError, match="cluster.gpus must be an integer >= 0"):
            ClusterConfig(kind="slurm", gpus=-1)

    def test_a_scheduler_without_gpu_workers_is_refused_not_waited_on(self):
        from types import SimpleNamespace

        from ensemble.run.grid import _gpu_resources

        class Client:
            def __init__(self, resources):
                self.resources = resources

            def scheduler_info(self):
                return {"workers": {"tcp://a": {"resources": self.resources}}}

        gpu, cpu = SimpleNamespace(device="gpu"), SimpleNamespace(device="cpu")
        assert _gpu_resources(cpu, Client({}), "tcp://x:1") == {}  # a CPU run asks for nothing
        assert _gpu_resources(gpu, Client({}), None) == {}  # our own local cluster: one worker for the GPU
        assert _gpu_resources(gpu, Client({"GPU": 1}), "tcp://x:1") == {"resources": {"GPU": 1}}
        with pytest.raises(ValueError, match="no worker of the scheduler advertises the resource GPU"):
            _gpu_resources(gpu, Client({}), "tcp://x:1")


def test_the_one_trajectory_entry_point_names_the_batched_alternative():
    with pytest.raises(ValueError, match="evolves whole batches"):
        ensemble.magnetization_trajectory(np.zeros(4), np.zeros(3), [0, 1], delta=1.0, gamma=1.0, engine="batched")


def test_combine_accepts_a_batched_and_a_serial_run_of_one_ensemble():
    """Disjoint W blocks, and overlapping realizations within the engines' truncation budget (recorded)."""
    from ensemble.io.combine import ENGINE_TOLERANCE_PER_STEP

    kw = dict(L=[8], delta=1.0, t_final=5.0, n_times=6, seed=4, client="synchronous", progress=False)
    fast = ensemble.run_grid(W=[3.0], n_realizations=3, engine="batched", **kw)
    serial = ensemble.run_grid(W=[3.0], n_realizations=2, **kw)
    other_w = ensemble.run_grid(W=[6.0], n_realizations=3, **kw)
    both = ensemble.combine([fast, other_w])
    assert both.sizes["W"] == 2 and both.attrs["overlap"] == "none"
    merged = ensemble.combine([fast, serial])
    np.testing.assert_array_equal(merged.sz.values, fast.sz.values)  # the earlier source's values stay
    assert merged.attrs["overlap"] == "within tolerance"
    assert merged.attrs["overlap_tolerance"] == max(1e-10, ENGINE_TOLERANCE_PER_STEP * 100)
    assert merged.attrs["engine_name"] == "batched,manybody"
    assert 0 < merged.attrs["overlap_max_abs_difference"] <= 1e-10
    tampered = serial.copy(deep=True)
    tampered["sz"][{"realization": 1, "time": 3}] += 1e-6
    with pytest.raises(ValueError, match="beyond the tolerance"):
        ensemble.combine([fast, tampered])


def test_checkpoints_resume_a_batched_run(tmp_path):
    kw = dict(L=[6, 8], W=[2.0, 5.0], delta=1.0, t_final=2.0, n_times=5, seed=9, engine="batched", unraveling="jump",
              client="synchronous", progress=False, checkpoint=tmp_path / "ck")
    first = ensemble.run_grid(n_realizations=3, **kw)
    assert first.attrs["engine_name"] == "batched-jump"
    parts = sorted((tmp_path / "ck").glob("part-*.nc"))
    again = ensemble.run_grid(n_realizations=3, **kw)  # every part reused
    assert sorted((tmp_path / "ck").glob("part-*.nc")) == parts
    np.testing.assert_array_equal(again.sz.values, first.sz.values)
    more = ensemble.run_grid(n_realizations=5, **kw)  # only realizations 3 and 4 computed
    np.testing.assert_array_equal(more.sz.isel(realization=slice(0, 3)).values, first.sz.values)


@pytest.mark.skipif(gpu_unavailable_reason() is None, reason="a usable GPU is present")
def test_command_line_plans_a_gpu_run_and_refuses_to_run_it_here(tmp_path, capsys):
    from ensemble.cli import main

    config = Path(__file__).resolve().parents[2] / "examples" / "quickstart.toml"
    args = ["run", str(config), "-o", str(tmp_path / "o.nc"), "--set", 'run.engine="batched"',
            "--set", 'run.device="gpu"']
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "batched engine on gpu: 24 realizations per task in blocks of 48 columns" in out
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'device="gpu" needs CuPy' in err[0]
    assert not (tmp_path / "o.nc").exists()


class TestLocalGpuCluster:
    """A local GPU run: dask-cuda's cluster where it is installed, else one worker (nothing else changes)."""

    def _clusters(self, monkeypatch, with_dask_cuda):
        import sys
        import types

        import distributed

        made = []

        class Recording(distributed.LocalCluster):
            def __init__(self, **kw):
                made.append((type(self).__name__, kw))
                super().__init__(**kw)

        class LocalCUDACluster(Recording):
            pass

        class LocalCluster(Recording):
            pass

        monkeypatch.setattr(distributed, "LocalCluster", LocalCluster)
        if with_dask_cuda:
            monkeypatch.setitem(sys.modules, "dask_cuda", types.SimpleNamespace(LocalCUDACluster=LocalCUDACluster))
        else:
            monkeypatch.setitem(sys.modules, "dask_cuda", None)  # import fails
        return made

    @pytest.mark.parametrize("with_dask_cuda, expected, workers", [(True, "LocalCUDACluster", None),
                                                                   (False, "LocalCluster", 1)])
    def test_which_cluster_and_how_many_workers(self, monkeypatch, with_dask_cuda, expected, workers):
        from ensemble.run.cluster import connect

        made = self._clusters(monkeypatch, with_dask_cuda)
        with connect(None, gpu=True, dashboard=False, verbose=False) as client:
            assert client.submit(sum, [1, 2]).result() == 3
        assert made[0][0] == expected and made[0][1]["n_workers"] == workers
