"""Doctest collection (``pytest --doctest-modules kosovo_cmr``) without QGIS.

The modules of the QGIS plugin (``kosovo_cmr/qgis``) import QGIS, which only QGIS's
python has: a python without it does not collect them. Their tests run in QGIS
(``tests/test_qgis_provider.py``).
"""

import importlib.util

QGIS_MODULES = ["_base", "fadeout", "importing", "outputs", "plugin", "provider", "report"]

collect_ignore = []
if importlib.util.find_spec("qgis") is None:
    collect_ignore = [f"kosovo_cmr/qgis/{name}.py" for name in QGIS_MODULES]
