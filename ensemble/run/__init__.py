"""One realization, planning and cost guards, execution on Dask, checkpoints and clusters.

The only layer that imports Dask.
"""
