"""The QGIS plugin of kosovo_cmr: a Processing provider whose algorithms call the library.

This folder is a QGIS plugin as it is (``metadata.txt``, :func:`classFactory`):
``kcmr qgis install`` copies it into a QGIS profile's ``python/plugins`` folder (as
``kosovo_cmr_qgis``), ``kcmr qgis zip`` packs it for the plugin manager's "Install from
ZIP". Its algorithms are thin faces on the library, like the ``kcmr`` commands, so the
library must be importable by QGIS's python (``/usr/bin/python3 -m pip install
kosovo_cmr`` for Debian's QGIS, or the venv QGIS runs in).

Nothing here imports QGIS until QGIS loads the plugin: the package imports without it.
"""

from __future__ import annotations

from pathlib import Path

#: The folder name of the plugin inside a QGIS profile's ``python/plugins``.
PLUGIN_NAME = "kosovo_cmr_qgis"

#: The plugin's files, relative to this folder.
PLUGIN_FILES = (
    "__init__.py",
    "metadata.txt",
    "_base.py",
    "provider.py",
    "plugin.py",
    "fadeout.py",
    "importing.py",
    "outputs.py",
    "report.py",
)


def plugin_dir() -> Path:
    """Return the folder holding the plugin's files (this package)."""
    return Path(__file__).resolve().parent


def classFactory(iface):  # noqa: N802 (the name QGIS looks for)
    """Return the plugin object QGIS loads (:class:`~kosovo_cmr.qgis.plugin.KcmrPlugin`).

    Raises
    ------
    ImportError
        If QGIS's python cannot import the kosovo_cmr library; the message says how to
        install it.
    """
    import importlib

    try:
        importlib.import_module("kosovo_cmr")
    except ImportError as exc:  # the plugin was copied, but the library is not installed
        raise ImportError(
            "the kosovo_cmr plugin needs the kosovo_cmr library in QGIS's python: "
            "install it with the python QGIS runs (e.g. /usr/bin/python3 -m pip install "
            "kosovo_cmr)"
        ) from exc
    from .plugin import KcmrPlugin

    return KcmrPlugin(iface)
