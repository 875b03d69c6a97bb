"""Command line: ``mbl-avalanche run`` / ``combine`` / ``report`` (also ``python -m ensemble``).

Errors are one line on stderr and exit status 2; an interrupted run exits with 130 after saying
how to resume it.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import shutil
import sys
from pathlib import Path

from .jobqueue import KINDS
from .threads import pin_threads

EXAMPLES = """\
examples:
  mbl-avalanche run examples/quickstart.toml -o quickstart.nc
  mbl-avalanche run examples/quickstart.toml -o q.nc --set grid.L=[8,10,12] --set run.seed=7 --workers 2
  mbl-avalanche run examples/mbl_threshold.toml -o mbl.nc --scheduler tcp://headnode:8786
  mbl-avalanche run examples/quickstart.toml -o q.nc --dry-run
  mbl-avalanche combine part1.nc part2.nc -o all.nc
  mbl-avalanche run examples/mbl_threshold.toml -o mbl.nc --cluster slurm --jobs 10 --set 'cluster.walltime="02:00:00"'
  mbl-avalanche report quickstart.nc --figures figures/
"""


#: The columns `report` prints by default (``--all-columns`` prints every one).
REPORT_COLUMNS = ("L", "W", "n_realizations", "t_tilde", "t_tilde_lower", "t_tilde_upper", "kappa", "kappa_err",
                  "kappa_robust", "alpha", "alpha_err", "W_tilde", "inv_A", "inv_A_err", "t_star", "front_robust",
                  "t_min", "t_max")


class CLIError(Exception):
    """A user error, reported as one line."""


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
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("config", help="TOML config file (see examples/quickstart.toml)")
    run.add_argument("-o", "--output", required=True, help="netCDF file to write")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="TABLE.KEY=VALUE",
                     help="override a config value (a TOML literal), e.g. --set grid.L=[8,10]")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler")
    where.add_argument("--workers", type=int, metavar="N", help="worker processes of the local cluster")
    run.add_argument("--cluster", choices=KINDS,
                     help="cluster.kind: where the workers come from (batch settings: --set cluster.KEY=...)")
    run.add_argument("--jobs", type=int, metavar="N", help="cluster.jobs: batch jobs to keep running")
    run.add_argument("--tls", action="store_true", help="cluster.tls: TLS with temporary credentials (local cluster)")
    run.add_argument("--checkpoint", metavar="DIR",
                     help="keep per-batch part files here (default: OUTPUT.checkpoint, removed on success)")
    run.add_argument("--dry-run", action="store_true", help="print the resolved config and cost estimate")
    run.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    run.add_argument("--quiet", action="store_true", help="no progress line")

    comb = sub.add_parser("combine", help="merge runs of one ensemble (sub-runs, allocations) into one file")
    comb.add_argument("sources", nargs="+", help="netCDF files written by `mbl-avalanche run` (or combine)")
    comb.add_argument("-o", "--output", required=True, help="netCDF file to write")
    comb.add_argument("--overwrite", action="store_true", help="replace an existing output file")

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
            raise CLIError(f"--workers must be >= 1; got {args.workers}")
        cfg["run"]["workers"] = args.workers
    for key, value in (("kind", args.cluster), ("jobs", args.jobs), ("tls", args.tls or None)):
        if value is not None:
            cfg["cluster"][key] = value
    return cfg


def _dry_run(cfg: dict, kwargs: dict) -> None:
    from . import config, cost, grid

    print(config.dumps(cfg))
    Ls, Ws, counts = grid.validate_grid(kwargs["L"], kwargs["W"], kwargs["n_realizations"])
    steps = grid.resolve_steps(kwargs.get("t_final"), kwargs["tau"], kwargs.get("n_times"), kwargs.get("times"))
    n_steps, n_times = int(steps[-1]), len(steps)
    engine, delta = kwargs["engine"], kwargs["delta"]
    extra = (kwargs["unraveling"], kwargs["noise"])
    print("# plan")
    total_tasks = total_seconds = 0
    for L in Ls:
        size = kwargs.get("batch_size") or grid.auto_batch_size(L, delta, n_steps, engine, *extra)
        tasks = len(Ws) * math.ceil(counts[L] / size)
        seconds = cost.seconds_per_realization(L, delta, n_steps, engine, *extra)
        memory = cost.bytes_per_realization(L, delta, n_times, engine)
        total_tasks += tasks
        total_seconds += seconds * counts[L] * len(Ws)
        print(f"L = {L:3d}: {counts[L]} realizations x {len(Ws)} W, {tasks} tasks of <= {size}; "
              f"~{seconds:.3g} s and ~{memory / 2**20:.3g} MiB per realization "
              f"({cost.resolved_engine(engine, delta)} engine, {n_steps} steps)")
    print(f"total: {total_tasks} tasks, ~{total_seconds / 3600:.3g} core-hours")


def _run(args) -> int:
    from . import config, jobqueue, run_grid

    cfg = _resolved_config(args)
    kwargs = config.to_run_grid_kwargs(cfg)
    cluster = jobqueue.from_config(cfg)
    if args.dry_run:
        _dry_run(cfg, kwargs)
        if cluster is not None and cluster.is_batch:
            print(f"# job script ({cluster.jobs} jobs, nothing submitted)")
            print(jobqueue.job_script(cluster, kwargs["omp_threads"]))
        return 0
    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise CLIError(f"output file {out} exists (use --overwrite to replace it)")
    if not out.parent.is_dir():
        raise CLIError(f"output directory {out.parent} does not exist")
    if cluster is not None:
        kwargs["client"] = cluster
        if cluster.kind != "local":
            kwargs.pop("n_workers", None)
    ckpt = Path(args.checkpoint) if args.checkpoint else out.with_name(out.name + ".checkpoint")
    try:
        ds = run_grid(checkpoint=ckpt, progress=not args.quiet, **kwargs)
    except KeyboardInterrupt:
        again = " ".join(shlex.quote(a) for a in sys.argv[1:])
        if not args.checkpoint:
            again += f" --checkpoint {shlex.quote(str(ckpt))}"
        print(f"resume with: mbl-avalanche {again}", file=sys.stderr)
        return 130
    ds.attrs["command"] = "mbl-avalanche " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    ds.attrs["config"] = config.dumps(cfg)
    tmp = out.with_name(out.name + ".tmp")
    ds.to_netcdf(tmp)
    os.replace(tmp, out)
    if not args.checkpoint:
        shutil.rmtree(ckpt, ignore_errors=True)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _combine(args) -> int:
    from . import combine

    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise CLIError(f"output file {out} exists (use --overwrite to replace it)")
    if not out.parent.is_dir():
        raise CLIError(f"output directory {out.parent} does not exist")
    ds = combine(args.sources)
    ds.attrs["command"] = "mbl-avalanche " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    tmp = out.with_name(out.name + ".tmp")
    ds.to_netcdf(tmp)
    os.replace(tmp, out)
    counts = ", ".join(f"L={L}: {n}" for L, n in zip(ds.L.values, ds.n_realizations.values))
    print(f"wrote {out} ({len(args.sources)} sources; W = {ds.W.values.tolist()}; realizations {counts})",
          file=sys.stderr)
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
        if args.command == "combine":
            return _combine(args)
        return _report(args)
    except (CLIError, ValueError, ConnectionError, FileNotFoundError, OSError, ImportError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"mbl-avalanche: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
