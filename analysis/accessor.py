"""``ds.avalanche``: thin methods over the pure functions of :mod:`analysis`.

Importing :mod:`analysis` registers the accessor. It keeps no state besides the Dataset
(xarray re-creates accessors freely).
"""
from __future__ import annotations

from typing import Any

import xarray as xr

from .fits import fit_threshold_scaling
from .front import fit_front, front, suggest_window
from .imbalance import collapse, imbalance, relative_imbalance, threshold_time
from .linearity import linearity, local_slope, w_star_by_window
from .report import Report, report
from .resample import bootstrap


@xr.register_dataset_accessor("avalanche")
class AvalancheAccessor:
    """Analysis of an avalanche Dataset (schema: README, "Data"): ``ds.avalanche.front()`` etc."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def imbalance(self) -> xr.DataArray:
        """See :func:`analysis.imbalance`."""
        return imbalance(self._ds)

    def relative_imbalance(self, **kw: Any) -> xr.Dataset:
        """See :func:`analysis.relative_imbalance`."""
        return relative_imbalance(self._ds, **kw)

    def threshold_time(self, r_th: float = 0.17, **kw: Any) -> xr.Dataset:
        """See :func:`analysis.threshold_time`."""
        return threshold_time(self._ds, r_th=r_th, **kw)

    def fit_threshold_scaling(self, r_th: float = 0.17, *, weighted: bool = False, **kw: Any) -> xr.Dataset:
        """:func:`analysis.threshold_time` then :func:`analysis.fit_threshold_scaling`."""
        return fit_threshold_scaling(threshold_time(self._ds, r_th=r_th, **kw), weighted=weighted)

    def front(self, **kw: Any) -> xr.Dataset:
        """See :func:`analysis.front`."""
        return front(self._ds, **kw)

    def suggest_window(self, **kw: Any) -> tuple[float, float]:
        """:func:`analysis.suggest_window` on h of the default :func:`analysis.front`."""
        return suggest_window(front(self._ds), **kw)

    def fit_front(self, t_min: float, t_max: float, *, order: str = "abs-then-mean", **kw: Any) -> xr.Dataset:
        """:func:`analysis.front` then :func:`analysis.fit_front` on [t_min, t_max]."""
        return fit_front(front(self._ds, order=order), t_min, t_max, **kw)  # type: ignore[arg-type]

    def collapse(self, **kw: Any) -> xr.Dataset:
        """See :func:`analysis.collapse`."""
        return collapse(self._ds, **kw)

    def bootstrap(self, **kw: Any) -> xr.Dataset:
        """See :func:`analysis.bootstrap`."""
        return bootstrap(self._ds, **kw)

    def local_slope(self, *, half_width: float = 0.5, **kw: Any) -> xr.Dataset:
        """:func:`analysis.bootstrap` (keywords ``kw``) then :func:`analysis.local_slope`."""
        return local_slope(bootstrap(self._ds, **kw), half_width=half_width)

    def linearity(self, *, early: tuple[float, float] | None = None, late: tuple[float, float] | None = None,
                  **kw: Any) -> xr.Dataset:
        """:func:`analysis.bootstrap` (keywords ``kw``) then :func:`analysis.linearity`."""
        return linearity(bootstrap(self._ds, **kw), early=early, late=late)

    def w_star_by_window(self, starts: list[float] | None = None, *, w: float = 7.0, **kw: Any) -> xr.Dataset:
        """:func:`analysis.bootstrap` (keywords ``kw``) then :func:`analysis.w_star_by_window`."""
        return w_star_by_window(bootstrap(self._ds, **kw), starts, w=w)

    def report(self, **kw: Any) -> Report:
        """See :func:`analysis.report`."""
        return report(self._ds, **kw)
