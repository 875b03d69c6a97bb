"""Command line: ``mbl-avalanche run`` / ``combine`` / ``report`` (also ``python -m ensemble``).

Errors are one line on stderr and exit status 2; a run interrupted by Ctrl-C exits with 130, one
ended by SIGTERM (a batch system's wall-time limit) with 143, both after saying how to resume it.
"""

from __future__ import annotations

import signal
import sys

if getattr(sys.modules.get("__mp_main__"), "__name__", None) == "__mp_main__":
    # A local Dask worker this command started: multiprocessing spawns it by re-running the command's
    # main script under the name __mp_main__, which imports this module first. A terminal's Ctrl-C
    # reaches the whole process group; the command, not each worker, stops the run, so a worker
    # ignores it from here on, even while it is still importing (no traceback from each worker).
    signal.signal(signal.SIGINT, signal.SIG_IGN)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import inspect  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

from ensemble.run.jobqueue import KINDS  # noqa: E402
from ensemble.threads import pin_threads  # noqa: E402

EXAMPLES = """\
examples:
  mbl-avalanche run examples/quickstart.toml -o quickstart.nc
  mbl-avalanche run examples/quickstart.toml -o q.nc --set 'grid.L=[8,10,12]' --set run.seed=7 --workers 2
  mbl-avalanche run examples/mbl_threshold.toml -o mbl.nc --scheduler tcp://headnode:8786
  mbl-avalanche run examples/quickstart.toml -o q.nc --dry-run
  mbl-avalanche combine part1.nc part2.nc -o all.nc
  mbl-avalanche run examples/mbl_threshold.toml -o mbl.nc --cluster slurm --jobs 10 --set 'cluster.walltime="02:00:00"'
  mbl-avalanche report quickstart.nc --figures figures/
  mbl-avalanche report quickstart.nc --format json --n-resamples 2000 --confidence 0.9
"""


class CLIError(Exception):
    """A user error, reported as one line."""


RUN_DESCRIPTION = """\
Run the ensemble a TOML config describes and write one netCDF file (checks: docs/reliability.md).

Sample times: grid.n_times log-spaced times from t = 0 to grid.t_final are rounded to the step
grid t = n tau, and times that round to the same step merge, so a run may have fewer samples than
n_times (n_times = 40, t_final = 200, tau = 0.05 gives 37); --dry-run prints the actual number.
--workers N needs N >= 1; run.workers = 0 (the default) means one worker per CPU core.
Every error is one line on stderr with exit status 2; Ctrl-C exits 130 and SIGTERM 143, both with
the resume command.
"""


def _parser() -> argparse.ArgumentParser:
    from ensemble import __version__

    parser = argparse.ArgumentParser(
        prog="mbl-avalanche",
        description="Disordered XXZ chains with a T = infinity bath on site 1: run quantum-trajectory "
        "ensembles on Dask and analyse thermalization fronts and the avalanche criterion.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run an ensemble described by a TOML config", epilog=EXAMPLES,
                         description=RUN_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("config", help="TOML config file (see examples/quickstart.toml)")
    run.add_argument("-o", "--output", required=True, help="netCDF file to write")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="TABLE.KEY=VALUE",
                     help="override a config value (a TOML literal), e.g. --set 'grid.L=[8,10]'")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler")
    where.add_argument("--workers", type=int, metavar="N", help="worker processes of the local cluster")
    run.add_argument("--cluster", choices=KINDS,
                     help="cluster.kind: where the workers come from (batch settings: --set cluster.KEY=...)")
    run.add_argument("--jobs", type=int, metavar="N", help="cluster.jobs: batch jobs to keep running")
    tls = run.add_mutually_exclusive_group()
    tls.add_argument("--tls", action="store_true", default=None,
                     help="cluster.tls = true: TLS with temporary credentials (the local cluster's default)")
    tls.add_argument("--no-tls", dest="tls", action="store_false",
                     help="cluster.tls = false: a plain local cluster, open to every user of this host")
    run.add_argument("--checkpoint", metavar="DIR",
                     help="keep per-batch part files here (default: OUTPUT.checkpoint, removed on success; "
                     "a directory given here is kept)")
    run.add_argument("--dry-run", action="store_true",
                     help="check everything the run checks, then print the resolved config, the plan and the "
                     "cost verdict; computes nothing")
    run.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    run.add_argument("--quiet", action="store_true", help="no progress line")

    comb = sub.add_parser("combine", help="merge runs of one ensemble (sub-runs, allocations) into one file")
    comb.add_argument("sources", nargs="+", help="netCDF files written by `mbl-avalanche run` (or combine)")
    comb.add_argument("-o", "--output", required=True, help="netCDF file to write")
    comb.add_argument("--overwrite", action="store_true", help="replace an existing output file")

    report = sub.add_parser("report", help="analyse a netCDF file: two tables (Markdown, CSV or JSON) and figures",
                            description="Headline numbers with resampled confidence intervals and three-valued "
                            "verdicts: a per-(L, W) table and a per-W / per-L / global table.")
    report.add_argument("dataset", help="netCDF file written by `mbl-avalanche run` or `combine`, or a reduced "
                        "file (per-realization imbalance, e.g. datasets/paper/); the front needs sz")
    report.add_argument("--format", choices=("markdown", "csv", "json"), default="markdown",
                        help="output format of the tables (default markdown); CSV is one table per file")
    report.add_argument("--table", choices=("grid", "summary"), default="grid",
                        help="CSV on stdout: which table, per (L, W) or per W / per L / global (default grid)")
    report.add_argument("--output-dir", metavar="DIR",
                        help="write the report into DIR instead of stdout: grid.csv, summary.csv and notes.txt "
                        "(csv), report.json or report.md")
    report.add_argument("--n-resamples", type=int, default=1000,
                        help="resamples of the realizations behind every interval and verdict (default 1000)")
    report.add_argument("--confidence", type=float, default=0.95,
                        help="level of the central intervals, in (0, 1) (default 0.95)")
    report.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")
    report.add_argument("--r-th", type=float, default=0.17, help="threshold of Ir for t~, in (0, 1) (default 0.17)")
    report.add_argument("--t-min", type=float, help="start of the h(t) = A ln t + B fit window (units of 1/J)")
    report.add_argument("--t-max", type=float, help="end of the fit window (units of 1/J)")
    report.add_argument("--order", choices=("abs-then-mean", "mean-then-abs"), default="abs-then-mean",
                        help="order of |.| and the realization mean in the front (default abs-then-mean; "
                        "jump-unraveling and noise-averaged data have only mean-then-abs)")
    report.add_argument("--all-columns", action="store_true",
                        help="Markdown: every column (estimates, errors and interval ends apart)")
    report.add_argument("--figures", metavar="DIR", help="write the figures into this directory")
    report.add_argument("--figure-format", choices=("png", "pdf", "svg"), default="png",
                        help="file format of the figures (default png)")
    report.add_argument("--dpi", type=int, default=150, help="resolution of raster figures (default 150)")
    return parser


def _resolved_config(args) -> dict:
    from ensemble import config

    raw = config.load_config(args.config)
    for assignment in args.overrides:
        config.apply_override(raw, assignment)
    cfg = config.resolve(raw)
    if args.scheduler:
        cfg["run"]["scheduler"] = args.scheduler
    if args.workers is not None:
        if args.workers < 1:
            raise CLIError(f"--workers must be >= 1 (omit it for one worker per CPU core); got {args.workers}")
        cfg["run"]["workers"] = args.workers
    for key, value in (("kind", args.cluster), ("jobs", args.jobs), ("tls", args.tls)):
        if value is not None:
            cfg["cluster"][key] = value
    return cfg


def _check_output(out: Path, overwrite: bool) -> None:
    """Refuse an output path that cannot be written, before any computation."""
    if out.is_dir():
        raise CLIError(f"output {out} is a directory; give a file name such as {out / 'run.nc'}")
    if out.exists() and not overwrite:
        raise CLIError(f"output file {out} exists (use --overwrite to replace it)")
    parent = out.parent
    if not parent.is_dir():
        raise CLIError(f"output directory {parent} does not exist")
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{out.name}.", suffix=".probe")
    except OSError as exc:
        raise CLIError(f"cannot write to the output directory {parent}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)


def _prepare(args):
    """Everything ``run`` checks before computing, shared with ``--dry-run``.

    Returns (cfg, kwargs, plan, cluster, out, ckpt).
    """
    from ensemble import config
    from ensemble.run import jobqueue
    from ensemble.run.cluster import SYNCHRONOUS
    from ensemble.run.grid import plan_grid

    cfg = _resolved_config(args)
    kwargs = config.to_run_grid_kwargs(cfg)
    in_process = cfg["run"]["scheduler"] in SYNCHRONOUS  # "synchronous": in this process, for debugging
    cluster = None if in_process else jobqueue.from_config(cfg)
    out = Path(args.output)
    _check_output(out, args.overwrite)
    if in_process:
        kwargs["client"] = "synchronous"
        kwargs.pop("n_workers", None)
    if cluster is not None:
        kwargs["client"] = cluster
        if cluster.kind != "local":
            kwargs.pop("n_workers", None)
    ckpt = Path(args.checkpoint) if args.checkpoint else out.with_name(out.name + ".checkpoint")
    planned = inspect.signature(plan_grid).parameters  # run_grid's arguments but where it runs
    plan = plan_grid(checkpoint=ckpt, **{k: v for k, v in kwargs.items() if k in planned})
    kwargs["seed"] = plan.spec.entropy  # a seedless run keeps the entropy drawn (or resumed) here
    return cfg, kwargs, plan, cluster, out, ckpt


def _dry_run(cfg: dict, plan) -> None:
    from ensemble import config

    print(config.dumps(cfg))
    n_steps, n_times = int(plan.steps[-1]), len(plan.steps)
    print("# plan")
    total_tasks = total_seconds = 0
    for L in plan.Ls:
        size, verdict = plan.batch_sizes[L], plan.verdicts[L]
        tasks = len(plan.Ws) * math.ceil(plan.counts[L] / size)
        total_tasks += tasks
        total_seconds += verdict.seconds * plan.counts[L] * len(plan.Ws)
        print(f"L = {L:3d}: {plan.counts[L]} realizations x {len(plan.Ws)} W, {tasks} tasks of <= {size}; "
              f"{verdict.summary()} ({verdict.engine} engine, "
              f"{n_steps} steps, {n_times} sample times)")
    print(f"total: {total_tasks} tasks, ~{total_seconds / 3600:.3g} core-hours")
    chosen = plan.spec.resolved_engine()
    if hasattr(chosen, "block_plan"):
        for L in plan.Ls:
            print(chosen.block_plan(L, min(plan.batch_sizes[L], plan.counts[L]), n_steps))
    seed = {"seed": "from the config", "fresh": "fresh entropy (recorded in the output and the checkpoint)",
            "checkpoint": f"resumed from {plan.checkpoint}"}[plan.entropy_source]
    print(f"checks: passed (types, ranges, engine combination, output path, checkpoint, memory and cost limits); "
          f"seed: {seed}")


def _saved_batches(ckpt: Path) -> int:
    return len(list(ckpt.glob("part-*.nc"))) if ckpt.is_dir() else 0


def _checkpoint_note(ckpt: Path) -> str:
    n = _saved_batches(ckpt)
    return f"; {n} finished batches are kept in {ckpt}; resume with: {_command_line()}" if n else ""


def _command_line() -> str:
    return "mbl-avalanche " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _interrupted(ckpt: Path, plan) -> str:
    """The line an interrupted run prints: what is saved (counted on disk) and how to resume."""
    n = _saved_batches(ckpt)
    if n:
        seed = f" (its fresh seed entropy {plan.spec.entropy} is recorded there)" if (
            plan.entropy_source == "fresh") else ""
        return f"interrupted; {n} finished batches are saved in {ckpt}{seed}; resume with: {_command_line()}"
    return f"interrupted before any batch finished; nothing was saved; start again with: {_command_line()}"


def _failure(exc: BaseException) -> str:
    """``exc`` in one line, with the file it names."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    lines = str(exc).splitlines()
    return lines[0] if lines else ""


def _write(ds, out: Path) -> None:
    """Write ``ds`` to ``out`` atomically (a failed or interrupted write leaves no file)."""
    from ensemble.io.atomic import remove_stale_temporaries, write_netcdf

    remove_stale_temporaries(out.parent, out.name)
    write_netcdf(ds, out)


@contextlib.contextmanager
def _sigterm_as_interrupt(terminated: list[int]):
    """Inside the block, SIGTERM (what a batch system sends at the wall-time limit) stops the run the
    way Ctrl-C does, so that the finished batches are kept and the resume line is printed; the
    signal is appended to ``terminated``. The previous handler is restored after."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return

    def handler(signum, frame):
        terminated.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args) -> int:
    from ensemble import config
    from ensemble.run import checkpoint, jobqueue
    from ensemble.run.grid import WorkersLost, run_grid

    cfg, kwargs, plan, cluster, out, ckpt = _prepare(args)
    if args.dry_run:
        _dry_run(cfg, plan)
        if cluster is not None and cluster.is_batch:
            print(f"# job script ({cluster.jobs} jobs, nothing submitted)")
            print(jobqueue.job_script(cluster, kwargs["omp_threads"]))
        return 0
    terminated: list[int] = []
    try:
        # the lock is held until the output is written: no other run takes the directory in between
        with _sigterm_as_interrupt(terminated), checkpoint.session(ckpt):
            ds = run_grid(checkpoint=ckpt, progress=not args.quiet, **kwargs)
            ds.attrs["command"] = _command_line()
            ds.attrs["config"] = config.dumps(cfg)
            try:
                _write(ds, out)
            except OSError as exc:
                raise CLIError(f"{exc.strerror}{_checkpoint_note(ckpt)}") from None
            if not args.checkpoint:
                shutil.rmtree(ckpt, ignore_errors=True)
    except KeyboardInterrupt:  # RunInterrupted, a second Ctrl-C while stopping, one during the write, or SIGTERM
        line = _interrupted(ckpt, plan)
        if terminated:
            line = line.replace("interrupted", "terminated (SIGTERM)", 1)
        print("\n" + line, file=sys.stderr)
        return 128 + signal.SIGTERM if terminated else 130
    except WorkersLost as exc:
        raise CLIError(f"{exc}{_checkpoint_note(ckpt)}") from None
    except (FloatingPointError, MemoryError, OverflowError, OSError, RuntimeError) as exc:
        raise CLIError(f"{type(exc).__name__} during the run: {_failure(exc)}{_checkpoint_note(ckpt)}") from None
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _combine(args) -> int:
    from ensemble.io.combine import combine

    out = Path(args.output)
    if out.is_dir():
        raise CLIError(f"output {out} is a directory; give a file name such as {out / 'combined.nc'}")
    if out.exists() and not args.overwrite:
        raise CLIError(f"output file {out} exists (use --overwrite to replace it)")
    if not out.parent.is_dir():
        raise CLIError(f"output directory {out.parent} does not exist")
    ds = combine(args.sources)
    ds.attrs["command"] = _command_line()
    try:
        _write(ds, out)
    except OSError as exc:
        raise CLIError(exc.strerror) from None
    counts = ", ".join(f"L={L}: {n}" for L, n in zip(ds.L.values, ds.n_realizations.values))
    overlap = ds.attrs["overlap"]
    if overlap == "within tolerance":
        overlap += (f" (largest difference {ds.attrs['overlap_max_abs_difference']:.3g} <= "
                    f"{ds.attrs['overlap_tolerance']:g}; the first source's values kept)")
    print(f"wrote {out} ({len(args.sources)} sources; W = {ds.W.values.tolist()}; realizations {counts}; "
          f"overlap: {overlap})", file=sys.stderr)
    return 0


def _check_report_args(args) -> None:
    for name, value in (("--r-th", args.r_th), ("--confidence", args.confidence)):
        if not (math.isfinite(value) and 0.0 < value < 1.0):
            raise CLIError(f"{name} must be in (0, 1); got {value}")
    if args.n_resamples < 10:
        raise CLIError(f"--n-resamples must be >= 10; got {args.n_resamples}")
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0; got {args.seed}")
    if not 10 <= args.dpi <= 2400:
        raise CLIError(f"--dpi must be in [10, 2400]; got {args.dpi}")
    if (args.t_min is None) != (args.t_max is None):
        raise CLIError("give both --t-min and --t-max, or neither (then a window is suggested per curve)")
    for name, value in (("--t-min", args.t_min), ("--t-max", args.t_max)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise CLIError(f"{name} must be a positive time; got {value}")
    if args.t_min is not None and not args.t_min < args.t_max:
        raise CLIError(f"--t-min must be below --t-max; got {args.t_min} and {args.t_max}")
    for name, value in (("--figures", args.figures), ("--output-dir", args.output_dir)):
        if value and Path(value).exists() and not Path(value).is_dir():
            raise CLIError(f"{name} {value} is a file; it must be a directory (created if missing)")


def _open_dataset(path: Path):
    """A file this package wrote (a run, a combine or a reduced file, of any schema version), migrated."""
    import xarray as xr

    from analysis.plausibility import check_dataset
    from analysis.schema import migrate

    if path.is_dir():
        raise CLIError(f"dataset {path} is a directory; give a netCDF file written by `mbl-avalanche run`")
    if not path.is_file():
        raise CLIError(f"dataset {path} not found")
    try:
        with xr.open_dataset(path) as opened:
            ds = opened.load()
    except Exception as exc:  # xarray/netCDF raise many types for a foreign file
        raise CLIError(f"cannot read {path} as a netCDF dataset ({type(exc).__name__}); "
                       "give a file written by `mbl-avalanche run`") from None
    if "sz" not in ds.data_vars and "imbalance" not in ds.data_vars:
        raise CLIError(f"{path} has neither 'sz' nor a per-realization 'imbalance': not a dataset written by "
                       "`mbl-avalanche run`, `combine` or analysis.per_realization_imbalance")
    try:
        ds = migrate(ds)
    except ValueError as exc:
        raise CLIError(f"{path}: {exc}") from None
    check_dataset(ds, str(path))  # the schema and physically possible values; ValueError otherwise
    return ds


def _report(args) -> int:
    import analysis

    _check_report_args(args)
    path = Path(args.dataset)
    ds = _open_dataset(path)
    window = None if args.t_min is None else (args.t_min, args.t_max)
    rep = analysis.report(ds, r_th=args.r_th, window=window, n_resamples=args.n_resamples, seed=args.seed,
                          confidence=args.confidence, order=args.order)
    if args.format == "json":
        text = rep.to_json()
    elif args.format == "csv":
        text = rep.to_csv(args.table)
    else:
        text = (f"# {path.name}: delta = {ds.attrs.get('delta')}, gamma = {ds.attrs.get('gamma')}, "
                f"front order = {rep.attrs['order']}\n\n" + rep.to_markdown(args.all_columns))
    if args.output_dir:
        directory = Path(args.output_dir)
        directory.mkdir(parents=True, exist_ok=True)
        if args.format == "csv":
            written = rep.write_csv(directory)
        else:
            written = [directory / ("report.json" if args.format == "json" else "report.md")]
            written[0].write_text(text + "\n", encoding="utf-8")
        for name in written:
            print(f"wrote {name}", file=sys.stderr)
        text = None
    try:
        if text is not None:
            print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `report | head`: the reader is gone, nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    if args.figures:
        written, skipped = _write_figures(ds, rep, Path(args.figures), args.figure_format, args.dpi)
        for name in written:
            print(f"wrote {name}", file=sys.stderr)
        for line in skipped:
            print(line, file=sys.stderr)
    return 0


def _write_figures(ds, rep, directory: Path, fmt: str = "png", dpi: int = 150) -> tuple[list[Path], list[str]]:
    """The paper's Figs. 2-5 for this dataset in ``directory``, with the local slope of the front and
    W* per fit window start; also says which were skipped and why."""
    import matplotlib

    matplotlib.use("Agg")
    import analysis
    from analysis import plots

    directory.mkdir(parents=True, exist_ok=True)
    bs = rep.bootstrap
    ri = analysis.relative_imbalance(ds)
    tt = analysis.threshold_time(ri, r_th=rep.attrs["r_th"])
    figures = {"fig2_imbalance": plots.fig2_imbalance(ri, bs=bs, r_th=rep.attrs["r_th"]),
               "fig5_collapse": plots.fig5_collapse(analysis.collapse(ri), bs=bs)}
    skipped = []
    if ds.sizes["L"] >= 2:
        figures["fig3_threshold"] = plots.fig3_threshold(tt, bs=bs)
    else:
        skipped.append("skipped fig3_threshold: t~ versus L needs at least two L values")
    if bs.attrs["front"] and "A" in bs and bool(bs["A"].notnull().any()):
        fr = analysis.front(ds, order=rep.attrs["order"])
        figures["fig4_front"] = plots.fig4_front(fr, bs=bs)
        try:
            figures["fig4_local_slope"] = plots.fig4_local_slope(analysis.local_slope(bs), ff=bs)
        except ValueError as exc:
            skipped.append(f"skipped fig4_local_slope: {exc}")
        if ds.sizes["W"] >= 2:
            try:
                figures["w_star_window"] = plots.fig_w_star_window(analysis.w_star_by_window(bs))
            except ValueError as exc:
                skipped.append(f"skipped w_star_window: {exc}")
    else:
        skipped.append(f"skipped fig4_front: {bs.attrs['front_note'] or 'no fit window holds enough points'}")
    written = []
    for name, fig in figures.items():
        target = directory / f"{name}.{fmt}"
        fig.savefig(target, dpi=dpi)
        written.append(target)
    return written, skipped


@contextlib.contextmanager
def _status_to_stderr():
    """The package's status messages (logger ``ensemble``, INFO and above) as plain lines on stderr
    while the command runs; the logger's level and handlers are restored after."""
    package = logging.getLogger("ensemble")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    previous = package.level
    package.addHandler(handler)
    if previous == logging.NOTSET or previous > logging.INFO:
        package.setLevel(logging.INFO)
    try:
        yield
    finally:
        package.removeHandler(handler)
        package.setLevel(previous)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mbl-avalanche`` console script."""
    pin_threads()
    args = _parser().parse_args(argv)
    with _status_to_stderr():
        return _dispatch(args)


def _dispatch(args) -> int:
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "combine":
            return _combine(args)
        return _report(args)
    except (CLIError, ValueError, ConnectionError, OSError, ImportError, FloatingPointError, MemoryError,
            OverflowError) as exc:
        message = _failure(exc) if isinstance(exc, OSError) else str(exc).splitlines()[0] if str(exc) else ""
        print(f"mbl-avalanche: error: {message or type(exc).__name__}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside a run (combine, report): nothing to resume, nothing half-written
        print("\nmbl-avalanche: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
