"""TOML run configurations: one file fully specifies a run.

.. code-block:: toml

    [model]              # paper Eq. (1) and the bath
    delta = 1.0          # anisotropy Delta (0: Anderson, free fermions)
    J = 1.0
    gamma = 1.0          # bath coupling
    tau = 0.05           # Trotter step, units of 1/J

    [disorder]           # optional: the disorder law
    law = "uniform"      # or "aubry-andre" (with beta = 0.618...)

    [initial]            # optional: the product start
    state = "neel"       # or "domain-wall", "random-product"

    [bath]               # optional
    kind = "dephasing"
    site = 1             # the bath site

    [grid]
    L = [8, 10]
    W = [2.0, 5.0, 8.0]
    n_realizations = 24  # or a table: n_realizations = { 8 = 40, 10 = 24 }
    t_final = 200.0      # or explicit times = [...]
    n_times = 40         # at most this many log-spaced sample times, t = 0 included; times that
                         # round to the same step merge (here: 37 samples)

    [run]
    seed = 2024
    engine = "auto"      # "manybody" | "gaussian" | "batched"
    device = "cpu"       # "gpu": the batched engine on CuPy (pip install -e ".[gpu]")
    unraveling = "kick"
    noise = "trajectory"
    entanglement = false # also store the half-chain entanglement entropy
    observables = ["sz"] # stored quantities (sz always; "entanglement", "relaxation_rate", ...)
    workers = 2          # local cluster size; 0 (the default): one worker per CPU core
                         # (ignored with a scheduler address)
    scheduler = ""       # address of an existing Dask scheduler, e.g. "tcp://host:8786"
    omp_threads = 1
    batch_size = 0       # 0: automatic
    max_memory = 0.0     # GiB one realization may use; 0: the memory available on this machine

    [cluster]            # optional: where the workers come from (ensemble.run.jobqueue.ClusterConfig)
    kind = "local"       # "address" | "slurm" | "pbs" | "sge"; batch settings: jobs, cores, memory, ...

The physics tables ([model], [disorder], [initial], [bath]) are generated from the parameter
objects (:func:`ensemble.run.spec.physics_schema`). Unknown tables or keys are errors naming the key. ``--set table.key=value`` overrides parse the
value as a TOML literal (never ``eval``). Types are checked here; the values themselves (ints
are ints, floats finite, list elements included) are checked by :func:`ensemble.run.grid.plan_grid`,
the one validation that ``run_grid``, ``mbl-avalanche run`` and ``--dry-run`` share (the rules
and the guards: ``docs/reliability.md``; every key: ``docs/config.md``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from ensemble.models.parameters import REQUIRED as _PARAMETER_REQUIRED
from ensemble.run.jobqueue import CONFIG_SCHEMA as _CLUSTER_SCHEMA
from ensemble.models.disorder import LAWS
from ensemble.models.initial_states import STATES
from ensemble.run.parameters import REQUIRED as _RUN_REQUIRED
from ensemble.run.parameters import toml_tables
from ensemble.run.spec import DEFAULTS, build_parts, fill_kind_defaults, physics_schema

__all__ = ["SCHEMA", "load_config", "apply_override", "resolve", "to_run_grid_kwargs", "dumps"]

#: table -> key -> (accepted types, default or REQUIRED)
REQUIRED = object()
SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], Any]]] = {
    **{table: {key: (types, REQUIRED if default is _PARAMETER_REQUIRED else default)
               for key, (types, default, _) in keys.items()}
       for table, keys in physics_schema().items()},
    **{table: {key: (types, REQUIRED if default is _RUN_REQUIRED else default)
               for key, (types, default) in keys.items()}
       for table, keys in toml_tables().items()},
    "cluster": _CLUSTER_SCHEMA,
}


_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list",
               dict: "a table"}


def load_config(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a TOML config (not yet resolved against the schema)."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"config file {path} is a directory")
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} not found")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {path} is not valid TOML: {exc}") from None
    except RecursionError:  # the parser recurses once per bracket
        raise ValueError(f"config file {path} nests arrays or tables too deeply") from None
    except UnicodeDecodeError:
        raise ValueError(f"config file {path} is not UTF-8 text (is it a TOML file?)") from None
    except OSError as exc:
        raise ValueError(f"config file {path} cannot be read: {exc.strerror or exc}") from None


def _literal(text: str) -> Any:
    try:
        parsed = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.:/-]*", text):
            return text  # a bare word such as manybody or tcp://host:8786 is taken as a string
        raise ValueError(f"--set value {_shorten(text)!r} is not a TOML literal") from None
    except RecursionError:  # the parser recurses once per bracket
        raise ValueError(f"--set value {_shorten(text)!r} nests arrays too deeply") from None
    if list(parsed) != ["value"]:  # e.g. a value that smuggles in a table or a second key
        raise ValueError(f"--set value {_shorten(text)!r} is not a single TOML literal")
    return parsed["value"]


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width] + "..."


def apply_override(config: dict, assignment: str) -> None:
    """Apply one ``table.key=value`` override in place.

    Raises
    ------
    ValueError
        Unless ``assignment`` is one line ``table.key=<one TOML literal>``.
    """
    if any(c in assignment for c in "\n\r\x00"):
        raise ValueError(f"--set takes one line table.key=value; got {_shorten(assignment)!r}")
    if "=" not in assignment:
        raise ValueError(f"--set expects table.key=value; got {_shorten(assignment)!r}")
    dotted, text = (s.strip() for s in assignment.split("=", 1))
    if dotted.count(".") != 1:
        raise ValueError(f"--set key must be table.key (e.g. grid.L); got {dotted!r}")
    table, key = dotted.split(".")
    config.setdefault(table, {})[key] = _literal(text)


def resolve(config: dict) -> dict[str, dict[str, Any]]:
    """Check every table and key against :data:`SCHEMA` and fill in defaults."""
    out: dict[str, dict[str, Any]] = {}
    for table in config:
        if table not in SCHEMA:
            raise ValueError(f"unknown config table [{table}] (known: {', '.join(SCHEMA)})")
    for table, keys in SCHEMA.items():
        given = config.get(table, {})
        if not isinstance(given, dict):
            raise ValueError(f"config [{table}] must be a table")
        for key in given:
            if key not in keys:
                raise ValueError(f"unknown config key {table}.{key} (known: {', '.join(keys)})")
        out[table] = {}
        for key, (types, default) in keys.items():
            if key in given:
                value = given[key]
                if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                    expected = " or ".join(dict.fromkeys(_TYPE_NAMES[t] for t in types))
                    raise ValueError(f"config key {table}.{key} has the wrong type: {value!r} (expected {expected})")
                out[table][key] = value
            elif default is REQUIRED:
                raise ValueError(f"config key {table}.{key} is required")
            else:
                out[table][key] = default
    fill_kind_defaults(out)
    if out["grid"]["t_final"] is None and out["grid"]["times"] is None:
        raise ValueError("config needs grid.t_final or grid.times")
    return out


def to_run_grid_kwargs(cfg: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Keyword arguments of :func:`ensemble.run_grid` for a resolved config (no client)."""
    model, grid, run = cfg["model"], cfg["grid"], cfg["run"]
    n_real = grid["n_realizations"]
    if isinstance(n_real, dict):
        try:
            n_real = {int(k): v for k, v in n_real.items()}
        except ValueError:
            raise ValueError("grid.n_realizations table keys must be chain lengths L") from None
    for key, meaning in (("workers", "one worker per CPU core"), ("batch_size", "automatic"),
                         ("max_memory", "the memory available on this machine")):
        if run[key] < 0:
            raise ValueError(f"run.{key} must be >= 0 (0: {meaning}); got {run[key]}")
    parts = build_parts(cfg)
    kwargs = dict(
        L=grid["L"], W=grid["W"], n_realizations=n_real, delta=model["delta"], gamma=model["gamma"],
        tau=model["tau"], J=model["J"], seed=run["seed"], engine=run["engine"], device=run["device"],
        unraveling=run["unraveling"], noise=run["noise"], entanglement=run["entanglement"],
        omp_threads=run["omp_threads"],
    )
    # the parts go in only where they differ from the defaults, so the recorded call stays short
    if parts["disorder"] != LAWS.get(DEFAULTS["disorder"])():
        kwargs["disorder"] = parts["disorder"]
    if parts["initial"] != STATES.get(DEFAULTS["initial"])():
        kwargs["initial_state"] = parts["initial"]
    if parts["bath"].site != 1:
        kwargs["bath_site"] = parts["bath"].site
    if parts["bath"].NAME != DEFAULTS["bath"]:
        kwargs["bath"] = parts["bath"]  # the chosen kind with all its parameters (gamma, tau, site agree)
    if run["observables"] is not None:
        kwargs["observables"] = run["observables"]
    if grid["times"] is not None:
        kwargs["times"] = grid["times"]
        if grid["t_final"] is not None:
            kwargs["t_final"] = grid["t_final"]
    else:
        kwargs.update(t_final=grid["t_final"], n_times=grid["n_times"])
    if run["batch_size"]:
        kwargs["batch_size"] = run["batch_size"]
    if run["workers"]:
        kwargs["n_workers"] = run["workers"]
    if run["max_memory"]:
        kwargs["max_memory"] = run["max_memory"]
    return kwargs


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return repr(value)


def dumps(cfg: dict[str, dict[str, Any]]) -> str:
    """The resolved config as TOML (keys whose value is None are left out)."""
    lines = []
    for table, values in cfg.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]
        lines.append("")
    return "\n".join(lines)
