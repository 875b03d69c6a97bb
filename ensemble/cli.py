"""Command line: ``mbl-avalanche run`` / ``report`` (also ``python -m ensemble``).

Errors are one line on stderr and exit status 2; an interrupted run exits with 130 after saying
how to resume it.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from .threads import pin_threads

EXAMPLES = """\
examples:
  mbl-avalanche run examples/quickstart.toml -o quickstart.nc
  mbl-avalanche run examples/quickstart.toml -o q.nc --set grid.L=[8,10,12] --set run.seed=7 --workers 2
  mbl-avalanche run examples/mbl_threshold.toml -o mbl.nc --scheduler tcp://headnode:8786
  mbl-avalanche run examples/quickstart.toml -o q.nc --dry-run
  mbl-avalanche report quickstart.nc --figures figures/
"""


#: The columns `report` prints by default (``--all-columns`` prints every one).
REPORT_COLUMNS = ("L", "W", "n_realizations", "t_tilde", "t_tilde_lower", "t_tilde_upper", "kappa", "kappa_err",
                  "kappa_robust", "alpha", "alpha_err", "W_tilde", "inv_A", "inv_A_err", "t_star", "front_robust",
                  "t_min", "t_max")


class CLIError(Exception):
    """A user error, reported as one line."""


RUN_DESCRIPTION = """\
Run the ensemble a TOML config describes and write one netCDF file (checks: docs/reliability.md).

Sample times: grid.n_times log-spaced times from t = 0 to grid.t_final are rounded to the step
grid t = n tau, and times that round to the same step merge, so a run may have fewer samples than
n_times (n_times = 40, t_final = 200, tau = 0.05 gives 37); --dry-run prints the actual number.
--workers N needs N >= 1; run.workers = 0 (the default) means one worker per CPU core.
Every error is one line on stderr with exit status 2; Ctrl-C exits 130 with the resume command.
"""


def _parser() -> argparse.ArgumentParser:
    from . import __version__

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
                     help="override a config value (a TOML literal), e.g. --set grid.L=[8,10]")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler")
    where.add_argument("--workers", type=int, metavar="N", help="worker processes of the local cluster")
    run.add_argument("--checkpoint", metavar="DIR",
                     help="keep per-batch part files here (default: OUTPUT.checkpoint, removed on success; "
                     "a directory given here is kept)")
    run.add_argument("--dry-run", action="store_true",
                     help="check everything the run checks, then print the resolved config, the plan and the "
                     "cost verdict; computes nothing")
    run.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    run.add_argument("--quiet", action="store_true", help="no progress line")

    report = sub.add_parser("report", help="analyse a netCDF file: Markdown table and figures")
    report.add_argument("dataset", help="netCDF file written by `mbl-avalanche run`")
    report.add_argument("--figures", metavar="DIR", help="write the figures as PNG files here")
    report.add_argument("--r-th", type=float, default=0.17, help="threshold of Ir for t~ (default 0.17)")
    report.add_argument("--t-min", type=float, help="start of the h(t) = A ln t + B fit window")
    report.add_argument("--t-max", type=float, help="end of the fit window")
    report.add_argument("--all-columns", action="store_true", help="print every column of analysis.report")
    return parser


def _resolved_config(args) -> dict:
    from . import config

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
    """Everything ``run`` checks before computing, shared with ``--dry-run``: (cfg, kwargs, plan, out, ckpt)."""
    from . import config
    from .grid import plan_grid

    cfg = _resolved_config(args)
    kwargs = config.to_run_grid_kwargs(cfg)
    out = Path(args.output)
    _check_output(out, args.overwrite)
    if cfg["run"]["scheduler"]:
        kwargs["client"] = cfg["run"]["scheduler"]
        kwargs.pop("n_workers", None)
    ckpt = Path(args.checkpoint) if args.checkpoint else out.with_name(out.name + ".checkpoint")
    planned = inspect.signature(plan_grid).parameters  # run_grid's arguments but where it runs
    plan = plan_grid(checkpoint=ckpt, **{k: v for k, v in kwargs.items() if k in planned})
    kwargs["seed"] = plan.spec.entropy  # a seedless run keeps the entropy drawn (or resumed) here
    return cfg, kwargs, plan, out, ckpt


def _dry_run(cfg: dict, plan) -> None:
    from . import config

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
    seed = {"seed": "from the config", "fresh": "fresh entropy (recorded in the output and the checkpoint)",
            "checkpoint": f"resumed from {plan.checkpoint}"}[plan.entropy_source]
    print(f"checks: passed (types, ranges, engine combination, output path, checkpoint, memory and cost limits); "
          f"seed: {seed}")


def _checkpoint_note(ckpt: Path) -> str:
    n = len(list(ckpt.glob("part-*.nc"))) if ckpt.is_dir() else 0
    return f"; {n} finished batches are kept in {ckpt}, rerun the same command to resume" if n else ""


def _write(ds, out: Path, ckpt: Path) -> None:
    """Write ``ds`` to ``out`` atomically; on failure remove the partial file and say where the data are."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        ds.to_netcdf(tmp)
        os.replace(tmp, out)
    except (OSError, RuntimeError) as exc:  # netCDF4 reports HDF errors as RuntimeError
        free = shutil.disk_usage(out.parent).free
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CLIError(f"could not write {out} ({reason}; {free / 2**20:.3g} MiB free on {out.parent})"
                       f"{_checkpoint_note(ckpt)}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _run(args) -> int:
    from . import config, run_grid

    cfg, kwargs, plan, out, ckpt = _prepare(args)
    if args.dry_run:
        _dry_run(cfg, plan)
        return 0
    try:
        ds = run_grid(checkpoint=ckpt, progress=not args.quiet, **kwargs)
    except KeyboardInterrupt:  # RunInterrupted, or a second Ctrl-C while stopping
        again = "mbl-avalanche " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        seed = f" (its fresh seed entropy {plan.spec.entropy} is recorded in {ckpt})" if (
            plan.entropy_source == "fresh") else ""
        print(f"\ninterrupted; finished batches are saved in {ckpt}{seed}; resume with: {again}", file=sys.stderr)
        return 130
    except (FloatingPointError, MemoryError, OverflowError, OSError, RuntimeError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).splitlines()
        raise CLIError(f"{type(exc).__name__} during the run: {reason[0] if reason else ''}"
                       f"{_checkpoint_note(ckpt)}") from None
    ds.attrs["command"] = "mbl-avalanche " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    ds.attrs["config"] = config.dumps(cfg)
    _write(ds, out, ckpt)
    if not args.checkpoint:
        shutil.rmtree(ckpt, ignore_errors=True)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _report(args) -> int:
    import xarray as xr

    import analysis

    path = Path(args.dataset)
    if not path.is_file():
        raise CLIError(f"dataset {path} not found")
    with xr.open_dataset(path) as opened:
        ds = opened.load()
    window = None
    if (args.t_min is None) != (args.t_max is None):
        raise CLIError("give both --t-min and --t-max, or neither (then a window is suggested per curve)")
    if args.t_min is not None:
        window = (args.t_min, args.t_max)
    table = analysis.report(ds, r_th=args.r_th, window=window)
    print(f"# {path.name}: delta = {ds.attrs.get('delta')}, gamma = {ds.attrs.get('gamma')}, "
          f"r_th = {args.r_th}, front order = {table.attrs.get('order')}\n")
    shown = table if args.all_columns else table[list(REPORT_COLUMNS)]
    print(analysis.report_markdown(shown))
    if args.figures:
        for name in _write_figures(ds, table, Path(args.figures), args.r_th):
            print(f"wrote {name}", file=sys.stderr)
    return 0


def _write_figures(ds, table, directory: Path, r_th: float) -> list[Path]:
    """The paper's Figs. 2-5 for this dataset, as PNG files in ``directory``."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    import analysis
    from analysis import plots

    directory.mkdir(parents=True, exist_ok=True)
    ri = analysis.relative_imbalance(ds)
    tt = analysis.threshold_time(ri, r_th=r_th)
    fr = analysis.front(ds)
    L_max = int(ds.L.max())
    row = table[table.L == L_max]
    window = (np.nanmin(row.t_min), np.nanmax(row.t_max)) if np.isfinite(row.t_min).any() else None
    figures = {"fig2_imbalance.png": plots.fig2_imbalance(ri), "fig5_collapse.png": plots.fig5_collapse(analysis.collapse(ri))}
    if ds.sizes["L"] >= 2:
        figures["fig3_threshold.png"] = plots.fig3_threshold(tt, analysis.fit_threshold_scaling(tt))
    if window is not None:
        figures["fig4_front.png"] = plots.fig4_front(fr, analysis.fit_front(fr, *window), L=L_max)
    written = []
    for name, fig in figures.items():
        fig.savefig(directory / name, dpi=120)
        written.append(directory / name)
    return written


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mbl-avalanche`` console script."""
    pin_threads()
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        return _report(args)
    except (CLIError, ValueError, ConnectionError, OSError, FloatingPointError, MemoryError, OverflowError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"mbl-avalanche: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
