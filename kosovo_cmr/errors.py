"""The package's exceptions: one root, a handful of classes, each also a built-in.

Every class carries the process exit code that the ``kcmr`` command uses when it
reaches the user, so that a script can tell the kinds of failure apart:

=====  ===============================================================
code   meaning
=====  ===============================================================
0      success
1      the input could not be read or is not valid (:class:`InputError`,
       :class:`CRSError`, :class:`SchemaError`)
2      usage error: a bad option or argument (click's own code)
3      partial success: some features were rejected (the importer)
4      the store could not be opened, read or written (:class:`StoreError`)
5      an optional dependency is missing (:class:`MissingDependencyError`)
=====  ===============================================================
"""

from __future__ import annotations


class KcmrError(Exception):
    """Root of every error raised on purpose by kosovo_cmr."""

    exit_code = 1


class InputError(KcmrError, ValueError):
    """An input file, argument or layer cannot be used as given."""

    exit_code = 1


class CRSError(InputError):
    """A layer has no CRS, or a CRS that cannot be used for the operation."""


class SchemaError(InputError):
    """A GeoDataFrame does not match its layer schema.

    Attributes
    ----------
    violations : list of kosovo_cmr.schema.Violation
        Every violation found, not only the first.
    """

    def __init__(self, message: str, violations: list | None = None):
        super().__init__(message)
        self.violations = list(violations or [])


class StoreError(KcmrError, OSError):
    """The layer store cannot be opened, read or written."""

    exit_code = 4


class MissingDependencyError(KcmrError, ImportError):
    """An optional dependency is not installed; the message names the extra."""

    exit_code = 5


def require(module: str, extra: str):
    """Import an optional dependency or raise a helpful error.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"dask_geopandas"``.
    extra : str
        The ``kosovo_cmr`` extra that installs it, e.g. ``"scale"``.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingDependencyError
        If the module cannot be imported.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module} is needed for this; install it with: pip install 'kosovo_cmr[{extra}]'"
        ) from exc
