"""Quantum-trajectory simulations of a disordered XXZ chain with a T = infinity bath on site 1.

Conventions (docs/design.md): sites j = 1..L, site 1 is the bath site; S = sigma/2; J = 1 sets the
energy unit; times are ``step * tau``; the Néel start has site 1 up.

Layers, each importing only the ones above it in this list (docs/design.md, "Layers"):
:mod:`ensemble.models` (parameters -> operators), :mod:`ensemble.engines` (one trajectory),
:mod:`ensemble.references` (exact noise averages), :mod:`ensemble.run` (one realization, planning,
Dask, checkpoints), :mod:`ensemble.io` (the Dataset, netCDF, combining runs), then
:mod:`ensemble.config` and :mod:`ensemble.cli`.

The names below are re-exported lazily, so ``import ensemble.models`` or ``import ensemble.engines``
loads neither Dask nor xarray. Importing the package leaves the process alone: no environment
variable, logging setting or signal handler is changed (thread limits: :mod:`ensemble.threads`).
"""

import sys
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

from ensemble.threads import pin_threads


def _check_analysis_is_ours() -> None:
    """Refuse a module named ``analysis`` that is not this package's (a user's ``analysis.py`` next to
    a script or notebook comes first on ``sys.path``, and the analysis, the report and ``ds.avalanche``
    would then fail far from the cause)."""
    expected = Path(__file__).resolve().parent.parent / "analysis" / "__init__.py"
    loaded = sys.modules.get("analysis")
    if loaded is not None:
        origin = getattr(loaded, "__file__", None)
    else:
        spec = find_spec("analysis")
        origin = None if spec is None else spec.origin
    if origin is not None and Path(origin).resolve() != expected:
        raise ImportError(
            f"{origin} shadows mbl-avalanche's analysis package ({expected.parent}): rename that file or "
            "folder, or run from another directory"
        )


_check_analysis_is_ours()

_EXPORTS = {
    "combine": "ensemble.io.combine",
    "validate_dataset": "ensemble.io.dataset",
    "run_grid": "ensemble.run.grid",
    "plan_grid": "ensemble.run.grid",
    "magnetization_trajectory": "ensemble.engines.trajectory",
    "ClusterConfig": "ensemble.run.jobqueue",
}

__all__ = [*_EXPORTS, "pin_threads"]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "lindblad":  # the public name of ensemble.references.lindblad
        return import_module("ensemble.lindblad")
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ensemble' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
