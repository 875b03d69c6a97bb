"""Parameters -> operators (numpy, scipy and QuSpin only; never Dask or xarray).

* :mod:`~ensemble.models.parameters`: how a parameter is declared, and the registries;
* :mod:`~ensemble.models.xxz`: the chain (:class:`~ensemble.models.xxz.XXZChain`) and H0 of paper
  Eq. (1) in the Sz_tot = 0 sector; :mod:`~ensemble.models.free_fermion`: its Delta = 0 form;
* :mod:`~ensemble.models.disorder`, :mod:`~ensemble.models.initial_states`,
  :mod:`~ensemble.models.baths`: the parts that come in kinds, one module per kind.
"""
