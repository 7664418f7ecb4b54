"""GDAL's C API in the process, through the library pyogrio ships (``GDALVectorTranslate``).

pyogrio reads and writes features but does not expose everything GDAL can do: field
domains, for one, are carried only by ``ogr2ogr``. ``ogr2ogr`` is a program of GDAL's
command-line tools, which ``pip install`` does not bring; its engine, however, is a
function of GDAL's public C API, ``GDALVectorTranslate`` (``gdal_utils.h``), and the
GDAL library pyogrio's wheel bundles has it. :func:`vector_translate` calls it with
ctypes, so ``kcmr export --format gdb`` writes its coded-value domains after the
README's install alone.

The library is found beside pyogrio (``pyogrio.libs/libgdal*`` in a Linux wheel,
``pyogrio/.dylibs`` on macOS, ``pyogrio.libs/gdal*.dll`` on Windows) and, failing
that, as the system's GDAL. It is the copy pyogrio has loaded already, so no second
GDAL comes into the process. :func:`available` says whether the call can be made.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from functools import cache

__all__ = ["available", "vector_translate", "GdalError"]

#: ``GDALOpenEx`` flag: open as a vector dataset.
_GDAL_OF_VECTOR = 0x04


class GdalError(RuntimeError):
    """GDAL reported a failure (the message is GDAL's last error)."""


def _candidates() -> list[str]:
    try:
        import pyogrio
    except ImportError:  # pragma: no cover - pyogrio is a dependency
        return []
    here = os.path.dirname(pyogrio.__file__)
    patterns = [
        os.path.join(os.path.dirname(here), "pyogrio.libs", "libgdal*.so*"),
        os.path.join(here, ".dylibs", "libgdal*.dylib"),
        os.path.join(os.path.dirname(here), "pyogrio.libs", "gdal*.dll"),
    ]
    found = sorted(path for pattern in patterns for path in glob.glob(pattern))
    system = ctypes.util.find_library("gdal")
    return found + ([system] if system else [])


@cache
def _library():
    """Return GDAL with the signatures used here declared, or ``None``."""
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            _declare(lib)
        except (OSError, AttributeError):
            continue
        lib.GDALAllRegister()
        return lib
    return None


def _declare(lib) -> None:
    p, c = ctypes.c_void_p, ctypes.c_char_p
    lib.GDALOpenEx.restype = p
    lib.GDALOpenEx.argtypes = [c, ctypes.c_uint, p, p, p]
    lib.GDALVectorTranslateOptionsNew.restype = p
    lib.GDALVectorTranslateOptionsNew.argtypes = [ctypes.POINTER(c), p]
    lib.GDALVectorTranslateOptionsFree.argtypes = [p]
    lib.GDALVectorTranslate.restype = p
    lib.GDALVectorTranslate.argtypes = [
        c,
        p,
        ctypes.c_int,
        ctypes.POINTER(p),
        p,
        ctypes.POINTER(ctypes.c_int),
    ]
    lib.GDALClose.argtypes = [p]
    lib.CPLErrorReset.argtypes = []
    lib.CPLGetLastErrorMsg.restype = c


def available() -> bool:
    """Whether GDAL's ``GDALVectorTranslate`` can be called in this process."""
    return _library() is not None


def vector_translate(source: str | os.PathLike, target: str | os.PathLike, args: list[str]):
    """Do what ``ogr2ogr ARGS TARGET SOURCE`` does, in the process.

    Parameters
    ----------
    source, target : path
        The dataset read and the dataset created.
    args : list of str
        ``ogr2ogr`` options, e.g. ``["-f", "OpenFileGDB"]``.

    Raises
    ------
    GdalError
        If GDAL cannot be loaded, the source cannot be opened, or the translation fails.
    """
    lib = _library()
    if lib is None:
        raise GdalError("GDAL's C library was not found (neither pyogrio's nor the system's)")
    lib.CPLErrorReset()
    src = lib.GDALOpenEx(os.fsencode(source), _GDAL_OF_VECTOR, None, None, None)
    if not src:
        raise GdalError(f"GDAL cannot open {source}: {_last_error(lib)}")
    encoded = [a.encode() for a in args]
    argv = (ctypes.c_char_p * (len(encoded) + 1))(*encoded, None)
    options = lib.GDALVectorTranslateOptionsNew(argv, None)
    try:
        if not options:
            raise GdalError(f"GDAL refused the options {args}: {_last_error(lib)}")
        sources = (ctypes.c_void_p * 1)(src)
        usage_error = ctypes.c_int(0)
        out = lib.GDALVectorTranslate(
            os.fsencode(target), None, 1, sources, options, ctypes.byref(usage_error)
        )
        if not out:
            raise GdalError(f"GDAL could not write {target}: {_last_error(lib)}")
        lib.GDALClose(out)  # flushes and closes the new dataset
    finally:
        if options:
            lib.GDALVectorTranslateOptionsFree(options)
        lib.GDALClose(src)


def _last_error(lib) -> str:
    message = lib.CPLGetLastErrorMsg()
    return " ".join((message or b"").decode("utf-8", "replace").split()) or "no message"
