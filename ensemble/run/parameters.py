"""Every parameter of a run, declared once: its keyword, TOML key, types, defaults and meaning.

The physics parameters are declared on their parameter objects (:mod:`ensemble.models`: the chain's
delta and J, the bath's gamma, tau and site, the laws' own) and reach the TOML tables, the run
fingerprint and the Dataset attributes from there (:mod:`ensemble.run.spec`). This module declares
the rest: the grid, the engine flags, the observables, the parts' selectors and how the run executes.
:data:`RUN_PARAMETERS` generates the ``[grid]`` and ``[run]`` tables of a configuration
(:data:`ensemble.config.SCHEMA`), and ``tests/test_parameters.py`` checks that the keywords of
:func:`ensemble.run_grid` and :func:`ensemble.plan_grid`, the TOML schema, the Dataset attributes
and ``docs/config.md`` hold exactly the declared parameters with the declared defaults, so a
parameter added in one place only fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RunParameter", "RUN_PARAMETERS", "REQUIRED", "toml_tables"]

#: The default of a parameter that must be given.
REQUIRED = object()
_NUMBER = (int, float)


@dataclass(frozen=True)
class RunParameter:
    """One keyword of :func:`ensemble.run_grid` that is not a physics field of a parameter object.

    Attributes
    ----------
    name : str
        The keyword of ``run_grid`` (and of ``plan_grid`` unless ``plan`` is False).
    default : object
        Its default (:data:`REQUIRED`: none).
    doc : str
        One line: what it is, with units.
    toml : tuple of (table, key), optional
        Where a configuration sets it (None: the Python API and command-line options only).
    types : tuple of type
        The TOML types accepted.
    toml_default : object
        The TOML default where it differs from the keyword's (``0`` for "automatic" where the
        keyword default is None); otherwise ``default``.
    plan : bool
        Whether :func:`ensemble.plan_grid` takes it too (``progress`` only shows the run's progress).
    attr : str, optional
        The Dataset attribute that records it, where one does under another name or at all.
    """

    name: str
    default: Any
    doc: str
    toml: tuple[str, str] | None = None
    types: tuple[type, ...] = ()
    toml_default: Any = REQUIRED
    plan: bool = True
    attr: str | None = None

    @property
    def toml_value(self) -> Any:
        """The default a configuration file starts from."""
        return self.default if self.toml_default is REQUIRED else self.toml_default


RUN_PARAMETERS: tuple[RunParameter, ...] = (
    RunParameter("L", REQUIRED, "chain length(s), even, >= 2", ("grid", "L"), (int, list)),
    RunParameter("W", REQUIRED, "disorder strength(s) W in units of J", ("grid", "W"), (*_NUMBER, list)),
    RunParameter("n_realizations", REQUIRED, "realizations per (L, W), or a table L -> count",
                 ("grid", "n_realizations"), (int, dict)),
    RunParameter("t_final", None, "last sample time, units of 1/J", ("grid", "t_final"), _NUMBER, attr="t_final"),
    RunParameter("n_times", 60, "at most this many log-spaced sample times, t = 0 included",
                 ("grid", "n_times"), (int,)),
    RunParameter("times", None, "explicit sample times (units of 1/J), instead of t_final and n_times",
                 ("grid", "times"), (list,)),
    RunParameter("seed", None, "root entropy of the keyed random streams (None: fresh, recorded)",
                 ("run", "seed"), (int,), attr="seed_entropy"),
    RunParameter("engine", "auto", "engine family or name", ("run", "engine"), (str,), attr="engine"),
    RunParameter("device", "cpu", '"cpu" or "gpu" (the batched engine on CuPy)', ("run", "device"), (str,)),
    RunParameter("unraveling", "kick", '"kick" (Gaussian kicks) or "jump" (Z flips, linear means only)',
                 ("run", "unraveling"), (str,), attr="unraveling"),
    RunParameter("noise", "trajectory", '"trajectory" or "averaged" (exact noise mean, Delta = 0)',
                 ("run", "noise"), (str,), attr="noise"),
    RunParameter("entanglement", False, "also store the half-chain entanglement entropy",
                 ("run", "entanglement"), (bool,), attr="entanglement"),
    RunParameter("observables", None, "stored quantities beyond sz", ("run", "observables"), (list,),
                 attr="observables"),
    RunParameter("n_workers", None, "worker processes of the local cluster (None: one per core)",
                 ("run", "workers"), (int,), toml_default=0),
    RunParameter("client", None, "where to run: None (local cluster), a Dask client, an address or "
                 '"synchronous"', ("run", "scheduler"), (str,), toml_default=""),
    RunParameter("omp_threads", 1, "numeric threads per worker process", ("run", "omp_threads"), (int,)),
    RunParameter("batch_size", None, "realizations per Dask task (None: sized to ~seconds of work)",
                 ("run", "batch_size"), (int,), toml_default=0),
    RunParameter("max_memory", None, "GiB one realization may use (None: the memory available)",
                 ("run", "max_memory"), _NUMBER, toml_default=0.0),
    RunParameter("checkpoint", None, "directory of per-batch part files (resume by running again)"),
    RunParameter("progress", True, "show a progress line", plan=False),
    RunParameter("disorder", "uniform", "the disorder law, by name or object ([disorder] law)",
                 attr="disorder_law"),
    RunParameter("initial_state", "neel", "the product start, by name or object ([initial] state)",
                 attr="initial_state"),
    RunParameter("bath", "dephasing", "the bath, by kind or object ([bath] kind)", attr="bath_kind"),
    RunParameter("bath_site", 1, "the bath site b ([bath] site)", attr="bath_site"),
)


def toml_tables() -> dict[str, dict[str, tuple[tuple[type, ...], Any]]]:
    """``table -> key -> (TOML types, default or REQUIRED)`` of the ``[grid]`` and ``[run]`` tables."""
    out: dict[str, dict[str, tuple[tuple[type, ...], Any]]] = {}
    for p in RUN_PARAMETERS:
        if p.toml is not None:
            table, key = p.toml
            out.setdefault(table, {})[key] = (p.types, p.toml_value)
    return out
