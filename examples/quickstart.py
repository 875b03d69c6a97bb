"""The quickstart through the Python API: run a small grid, save it, analyse it.

Run: ``python examples/quickstart.py`` (about half a minute on 2 cores). Watch the Dask dashboard at
the printed link while it runs.
"""

import logging

import analysis
import ensemble  # the Dask workers it starts run one numeric thread each

if __name__ == "__main__":  # Dask's worker processes re-import this file
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the package's status lines (dashboard link)
    ds = ensemble.run_grid(
        L=[8, 10], W=[2.0, 5.0, 8.0], delta=1.0, gamma=1.0, tau=0.05,
        t_final=200.0, n_times=40, n_realizations=24, seed=20240501, n_workers=2,
    )
    ds.to_netcdf("quickstart.nc")
    print(analysis.report(ds).to_markdown())  # two tables, resampled intervals, verdicts
