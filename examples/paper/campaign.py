"""Driver of the paper-scale campaign described in ``examples/paper/campaign.toml``.

    python examples/paper/campaign.py plan                 # status and core-hours of every sub-run
    python examples/paper/campaign.py next --workers 2     # run or resume the next missing sub-run
    python examples/paper/campaign.py next --only NAME     # a given sub-run
    python examples/paper/campaign.py reduce NAME          # (re)make the shipped file of a finished run

A sub-run is an ordinary ``mbl-avalanche run`` of the kind's config with the sub-run's ``--set``
overrides, writing ``RESULTS/NAME.nc`` with its checkpoint in ``RESULTS/NAME.checkpoint`` (so an
interrupted or lost allocation resumes where it stopped: rerun the same command). When it finishes,
the output is reduced to what the analysis needs and written to ``SHIPPED/NAME.nc``; each
invocation is appended to ``SHIPPED/campaign_log.csv`` (start, wall seconds, workers), from which
``plan`` reports the core-hours actually spent. Nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = Path(__file__).with_name("campaign.toml")
LOG_FIELDS = ("name", "started", "wall_seconds", "workers", "outcome")


def load(path: Path = CAMPAIGN) -> dict:
    """The campaign table, with every sub-run's kind resolved and names checked unique."""
    with open(path, "rb") as f:
        campaign = tomllib.load(f)
    names = [s["name"] for s in campaign["subrun"]]
    if len(set(names)) != len(names):
        raise SystemExit(f"campaign: duplicate sub-run names in {path}")
    for sub in campaign["subrun"]:
        if sub["kind"] not in campaign["kinds"]:
            raise SystemExit(f"campaign: sub-run {sub['name']} has unknown kind {sub['kind']!r}")
    return campaign


def _paths(campaign: dict, name: str) -> tuple[Path, Path, Path]:
    results = ROOT / campaign["campaign"]["results"]
    shipped = ROOT / campaign["campaign"]["shipped"]
    return results / f"{name}.nc", results / f"{name}.checkpoint", shipped / f"{name}.nc"


def _estimate(campaign: dict, sub: dict) -> tuple[float, str]:
    """Estimated core-hours (the plan ``--dry-run`` prints, from the package's cost model) and a grid summary."""
    import inspect

    from ensemble import config
    from ensemble.run.grid import plan_grid

    raw = config.load_config(ROOT / campaign["kinds"][sub["kind"]]["config"])
    for assignment in sub["set"]:
        config.apply_override(raw, assignment)
    kw = config.to_run_grid_kwargs(config.resolve(raw))
    planned = inspect.signature(plan_grid).parameters
    plan = plan_grid(**{k: v for k, v in kw.items() if k in planned})
    seconds = sum(plan.verdicts[L].seconds * plan.counts[L] * len(plan.Ws) for L in plan.Ls)
    summary = (f"L={plan.Ls} W={plan.Ws} n={[plan.counts[L] for L in plan.Ls]} "
               f"t<={plan.steps[-1] * kw['tau']:g}")
    return seconds / 3600, summary


def _log_path(campaign: dict) -> Path:
    return ROOT / campaign["campaign"]["shipped"] / "campaign_log.csv"


def _spent(campaign: dict) -> dict[str, float]:
    """Core-hours per sub-run from the log (wall time x workers, summed over invocations)."""
    path = _log_path(campaign)
    out: dict[str, float] = {}
    if path.is_file():
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                out[row["name"]] = out.get(row["name"], 0.0) + float(row["wall_seconds"]) * int(row["workers"]) / 3600
    return out


def plan(campaign: dict) -> None:
    """Print every sub-run with its status, estimated and spent core-hours."""
    spent = _spent(campaign)
    total_left = 0.0
    for sub in campaign["subrun"]:
        full, ckpt, shipped = _paths(campaign, sub["name"])
        estimate, summary = _estimate(campaign, sub)
        if shipped.is_file():
            status = "shipped"
        elif full.is_file():
            status = "finished, not reduced"
        elif ckpt.is_dir():
            status = f"partial ({len(list(ckpt.glob('part-*.nc')))} parts)"
        else:
            status = "missing"
        if status != "shipped":
            total_left += estimate
        used = f", spent {spent[sub['name']]:.2f}" if sub["name"] in spent else ""
        print(f"{sub['name']:<22} {status:<22} ~{estimate:5.2f} core-h{used}  [{sub['kind']}: {summary}]")
    print(f"remaining: ~{total_left:.1f} core-hours (cost model of ensemble/run/cost.py; 'spent' is measured)")


def reduce(campaign: dict, name: str) -> Path:
    """Write the shipped, reduced form of a finished sub-run and return its path."""
    import xarray as xr

    import analysis

    sub = next(s for s in campaign["subrun"] if s["name"] == name)
    full, _, shipped = _paths(campaign, name)
    if not full.is_file():
        raise SystemExit(f"campaign: {full} does not exist; run `campaign.py next --only {name}` first")
    with xr.open_dataset(full) as opened:
        ds = opened.load()
    how = campaign["kinds"][sub["kind"]]["reduce"]
    out = ds if how == "sz" else analysis.per_realization_imbalance(ds)
    out.attrs["campaign_subrun"] = name
    shipped.parent.mkdir(parents=True, exist_ok=True)
    tmp = shipped.with_name(shipped.name + ".tmp")
    out.to_netcdf(tmp)
    os.replace(tmp, shipped)
    shown = shipped.relative_to(ROOT) if shipped.is_relative_to(ROOT) else shipped
    print(f"wrote {shown} ({shipped.stat().st_size / 2**20:.1f} MiB)", file=sys.stderr)
    return shipped


def run_next(campaign: dict, workers: int, only: str | None) -> int:
    """Run (or resume) one sub-run: ``only``, or the first one not yet shipped."""
    todo = [s for s in campaign["subrun"] if not _paths(campaign, s["name"])[2].is_file()]
    if only is not None:
        todo = [s for s in campaign["subrun"] if s["name"] == only]
        if not todo:
            raise SystemExit(f"campaign: no sub-run named {only!r}")
    if not todo:
        print("campaign: every sub-run is shipped", file=sys.stderr)
        return 0
    sub = todo[0]
    full, ckpt, _ = _paths(campaign, sub["name"])
    full.parent.mkdir(parents=True, exist_ok=True)
    if not full.is_file():
        cmd = [sys.executable, "-m", "ensemble", "run", str(ROOT / campaign["kinds"][sub["kind"]]["config"]),
               "-o", str(full), "--checkpoint", str(ckpt), "--workers", str(workers)]
        for assignment in sub["set"]:
            cmd += ["--set", assignment]
        print(f"campaign: {sub['name']}: {' '.join(cmd[1:])}", file=sys.stderr)
        started, t0 = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), time.monotonic()
        rc = subprocess.call(cmd, cwd=ROOT)
        _append_log(campaign, sub["name"], started, time.monotonic() - t0, workers, "finished" if rc == 0 else f"rc {rc}")
        if rc != 0:
            return rc
        shutil.rmtree(ckpt, ignore_errors=True)
    reduce(campaign, sub["name"])
    return 0


def _append_log(campaign: dict, name: str, started: str, seconds: float, workers: int, outcome: str) -> None:
    path = _log_path(campaign)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.is_file()
    with open(path, "a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(LOG_FIELDS)
        writer.writerow([name, started, f"{seconds:.0f}", workers, outcome])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("plan", help="status and core-hours of every sub-run")
    nxt = sub.add_parser("next", help="run or resume the next missing sub-run")
    nxt.add_argument("--workers", type=int, default=2)
    nxt.add_argument("--only", metavar="NAME")
    red = sub.add_parser("reduce", help="(re)write the shipped file of a finished sub-run")
    red.add_argument("name")
    args = parser.parse_args(argv)
    campaign = load()
    if args.command == "plan":
        plan(campaign)
        return 0
    if args.command == "reduce":
        reduce(campaign, args.name)
        return 0
    if args.workers < 1:
        raise SystemExit(f"campaign: --workers must be >= 1; got {args.workers}")
    return run_next(campaign, args.workers, args.only)


if __name__ == "__main__":
    sys.exit(main())
