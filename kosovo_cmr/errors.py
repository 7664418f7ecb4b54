"""The package's exceptions: one root, a handful of classes, each also a built-in.

Every class carries the process exit code that the ``kcmr`` command uses when it
reaches the user, so that a script can tell the kinds of failure apart. Failures that
are not ours (an :class:`OSError` from the file system, an unexpected defect) are given
a code by :func:`describe`, the one place that decides it:

=====  ===============================================================================
code   meaning
=====  ===============================================================================
0      success
1      the input could not be read or is not valid (:class:`InputError`,
       :class:`CRSError`, :class:`SchemaError`), or an input or output file could not be
       opened (no permission, read-only file system, no such file)
2      usage error: a bad option or argument (click's own code)
3      partial success: some features were rejected (the importer)
4      the store could not be opened, read or written (:class:`StoreError`: no
       permission, read-only file system), or the disk is full (for the store or an
       output): nothing was changed
5      an optional dependency is missing (:class:`MissingDependencyError`)
70     an unexpected error: a defect to report (rerun with ``-v`` for the traceback)
130    interrupted (Ctrl-C)
=====  ===============================================================================

With ``--format json`` the ``kcmr`` command prints the failure as one JSON object on
stdout, ``{"error": {"code": ..., "class": ..., "message": ...}, "exit_code": ...}``
(:meth:`Failure.as_dict`), and the one-line message on stderr.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass

__all__ = [
    "EXIT_CODES",
    "KcmrError",
    "InputError",
    "CRSError",
    "SchemaError",
    "StoreError",
    "MissingDependencyError",
    "Failure",
    "describe",
    "one_line",
    "require",
]

#: Exit code -> what it means (the table above; the CLI help and docs show the same).
EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "bad input: an input could not be read or is not valid, or a file could not be opened",
    2: "usage error: a bad option or argument",
    3: "some features were rejected (see the rejects file)",
    4: "store error: the store could not be opened, read or written, or the disk is full",
    5: "an optional dependency is missing",
    70: "unexpected error: rerun with -v and report it",
    130: "interrupted",
}


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


# --- describing any failure: code, class and one readable line -----------------------------

#: Longest message shown on one line; a longer one is cut to its first sentence.
MAX_MESSAGE = 200

_DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DISK_FULL_TEXT = re.compile(
    r"no space left on device|database or disk is full|disk quota exceeded|disk is full",
    re.IGNORECASE,
)
_NO_ACCESS_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}


@dataclass(frozen=True)
class Failure:
    """A failure as the user sees it: exit code, error class and one line of text.

    Attributes
    ----------
    code : int
        The exit code (see :data:`EXIT_CODES`).
    kind : str
        The error class: ``InputError``, ``StoreError``, ... or, for an unexpected
        error, the name of the exception's type.
    message : str
        One line of at most :data:`MAX_MESSAGE` characters.
    detail : str or None
        The whole message when ``message`` had to be cut, else None.
    """

    code: int
    kind: str
    message: str
    detail: str | None = None

    def as_dict(self) -> dict:
        """Return the JSON form: ``{"error": {code, class, message[, detail]}, "exit_code"}``.

        Examples
        --------
        >>> Failure(4, "StoreError", "store not found: k.gpkg").as_dict()
        {'error': {'code': 4, 'class': 'StoreError', 'message': 'store not found: k.gpkg'}, 'exit_code': 4}
        """  # noqa: E501
        error = {"code": self.code, "class": self.kind, "message": self.message}
        if self.detail is not None:
            error["detail"] = self.detail
        return {"error": error, "exit_code": self.code}


def one_line(text: str, *, limit: int = MAX_MESSAGE) -> tuple[str, str | None]:
    r"""Return ``text`` as one readable line, and the whole text if it had to be cut.

    Whitespace runs (newlines included) become one space. A line longer than ``limit``
    is cut to its first sentence, and that to ``limit`` characters.

    Examples
    --------
    >>> one_line("store not found:\n  k.gpkg")
    ('store not found: k.gpkg', None)
    >>> short, whole = one_line("Disk full. " + "INSERT INTO t VALUES (1); " * 20)
    >>> short, len(whole)
    ('Disk full. (cut: the whole message with -v)', 530)
    """
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat, None
    first = re.split(r"(?<=[.;])\s|\n", flat, maxsplit=1)[0]
    if len(first) > limit - 30:
        first = first[: limit - 31].rstrip() + "…"
    return f"{first} (cut: the whole message with -v)", flat


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _disk_full(exc: BaseException) -> bool:
    return any(
        (isinstance(e, OSError) and e.errno in _DISK_FULL_ERRNOS) or _DISK_FULL_TEXT.search(str(e))
        for e in _chain(exc)
    )


def _is_store_file(filename, store) -> bool:
    """Whether ``filename`` is the store, a file of the store, or the store's folder."""
    if filename is None or store is None or "://" in os.fspath(store):
        return False
    path = os.path.realpath(os.fspath(filename))
    folder, name = os.path.split(os.path.realpath(os.fspath(store)))
    if path == folder:
        return True
    return os.path.dirname(path) == folder and name in os.path.basename(path)


def describe(exc: BaseException, *, store=None) -> Failure:
    """Return the exit code, class and one-line message of any failure.

    - A :class:`KcmrError` keeps its class's code.
    - A full disk (``ENOSPC``, SQLite's "database or disk is full", anywhere in the
      exception's chain) is code 4, "disk full", whatever file it was writing.
    - An :class:`OSError` for lack of permission or a read-only file system is code 4
      (``StoreError``) when its file is the store, one of the store's files or its
      folder, and code 1 (``InputError``) for any other file; any other
      :class:`OSError` naming a file (no such file, a folder, ...) is code 1.
    - Ctrl-C is 130; anything else is an unexpected defect, code 70.

    Parameters
    ----------
    exc : BaseException
    store : str or path, optional
        The store the command used (a GeoPackage path; a URL names no file).

    Examples
    --------
    >>> import errno
    >>> describe(OSError(errno.EROFS, "Read-only file system", "/data/kmac.gpkg.lock"),
    ...          store="/data/kmac.gpkg")
    Failure(code=4, kind='StoreError', message='store /data/kmac.gpkg: read-only file system (cannot write kmac.gpkg.lock)', detail=None)
    >>> describe(OSError(errno.ENOSPC, "No space left on device")).message
    'disk full: no space left on device'
    """  # noqa: E501
    if isinstance(exc, KeyboardInterrupt):
        return Failure(130, "KeyboardInterrupt", "interrupted")
    if _disk_full(exc):
        if isinstance(exc, StoreError) and "disk full" in str(exc):
            return _failure(4, "StoreError", str(exc))  # the store says what it kept
        what = f"cannot write to store {store}" if isinstance(exc, StoreError) else None
        text = "disk full: no space left on device"
        return _failure(4, "StoreError", f"{what}: {text}" if what else text, str(exc))
    if isinstance(exc, KcmrError):
        return _failure(exc.exit_code, type(exc).__name__, str(exc))
    if isinstance(exc, OSError) and (exc.filename is not None or exc.errno in _NO_ACCESS_ERRNOS):
        reason = (exc.strerror or str(exc)).lower()
        verb = "cannot write" if exc.errno == errno.EROFS else "cannot open"
        if exc.errno in _NO_ACCESS_ERRNOS and _is_store_file(exc.filename, store):
            name = os.path.basename(os.fspath(exc.filename))
            return _failure(4, "StoreError", f"store {store}: {reason} ({verb} {name})")
        target = f" {exc.filename}" if exc.filename is not None else ""
        return _failure(1, "InputError", f"{reason}: {verb}{target}")
    return _failure(
        70,
        type(exc).__name__,
        f"unexpected error ({type(exc).__name__}): {exc}; rerun with -v and report it",
    )


def _failure(code: int, kind: str, text: str, whole: str | None = None) -> Failure:
    message, cut = one_line(text)
    detail = cut if cut is not None else (" ".join(whole.split()) if whole else None)
    if detail == message:
        detail = None
    return Failure(code, kind, message, detail)
