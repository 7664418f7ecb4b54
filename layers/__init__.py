"""Data shipped with kosovo_cmr, installed as the ``kosovo_cmr.layers`` package.

This folder sits at the top of the repository (the design brief fixes the layout) and
is mapped onto ``kosovo_cmr.layers`` by ``package_dir`` in ``setup.cfg``, so that both an
editable and a plain install find it with :func:`importlib.resources.files`. See
``README.md`` in this folder for what each file is and where it came from.
"""
