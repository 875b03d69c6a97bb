"""The Dataset: schema, provenance, netCDF and combining runs by fingerprint."""
