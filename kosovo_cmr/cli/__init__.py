"""The ``kcmr`` command line: a thin face on the library (see :mod:`kosovo_cmr.cli.main`)."""
