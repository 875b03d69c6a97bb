"""Analysis of avalanche Datasets (schema: README, "Data"): imbalance statistics, threshold times,
the thermalization front, fits, resampled uncertainties and the three-valued avalanche verdicts. Never imports :mod:`ensemble`.

Importing this package registers the ``ds.avalanche`` accessor. Figures live in
:mod:`analysis.plots` (imported on demand: it needs matplotlib).

Note: the functions ``imbalance``, ``front`` and ``report`` share their names with their modules;
``analysis.front`` is the function. Import module contents with ``from analysis.front import ...``.
"""
from .fits import fit_threshold_scaling, linear_fit
from .front import fit_front, front, suggest_window
from .imbalance import collapse, imbalance, relative_imbalance, threshold_time
from .linearity import linearity, local_slope, w_star_by_window
from .reduced import per_realization_imbalance
from .report import Report, report, report_markdown
from .resample import bootstrap, refit_sizes, verdicts
from .accessor import AvalancheAccessor  # noqa: E402  (registers ds.avalanche)

__all__ = [
    "AvalancheAccessor",
    "Report",
    "bootstrap",
    "collapse",
    "fit_front",
    "fit_threshold_scaling",
    "front",
    "imbalance",
    "linear_fit",
    "linearity",
    "local_slope",
    "per_realization_imbalance",
    "refit_sizes",
    "relative_imbalance",
    "report",
    "report_markdown",
    "suggest_window",
    "threshold_time",
    "verdicts",
    "w_star_by_window",
]
