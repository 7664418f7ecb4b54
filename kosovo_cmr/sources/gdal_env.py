"""The one place where GDAL opens a source: pinned drivers, no network, plain paths.

Every vector source is opened through :class:`GdalSource`, the way rasterio opens every
dataset inside one ``Env``:

- **plain paths**: GDAL (through pyogrio) never sees the user's path. The file is linked
  (or, for a member of an archive, extracted) into a private folder under a plain name,
  so a name with ``;``, ``!``, ``?`` or a newline reads like any other (pyogrio parses
  those characters as URL syntax), and nothing starting with ``/vsi`` or a URL scheme
  ever reaches GDAL (:func:`kosovo_cmr.sources.sniff.check_path` refuses those first);
- **pinned drivers**: each content (:mod:`kosovo_cmr.sources.sniff`) is opened only by the
  drivers of :data:`DRIVERS`. GeoJSON and GeoPackage are opened with GDAL's
  ``GeoJSON:``/``GPKG:`` prefixes, which pin the driver; for every source the driver
  GDAL would pick is asked first (``GDALIdentifyDriverEx``) and anything else (the OGR
  VRT driver, the GDALG "pipeline" driver, which also reads JSON...) is refused before
  the file is opened;
- **no network**: while a source is read, every HTTP request GDAL makes through
  ``CPLHTTPFetch`` (a GeoJSON ``"crs": {"type": "link"}`` fetches its URL, GML fetches
  schemas) is answered by a refusal installed with ``CPLHTTPPushFetchCallback``, and the
  configuration of :data:`CONFIG` forbids ``/vsicurl/`` and sends anything else to a
  closed local port.

The driver check and the HTTP refusal call GDAL's C API (through :mod:`ctypes`, on the
GDAL library pyogrio is linked with). Where that library cannot be reached,
:func:`guard_status` says so; the prefixes, the content checks and :data:`CONFIG` still
apply.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pyogrio
from pyogrio.raw import read as raw_read

from kosovo_cmr.errors import InputError

__all__ = [
    "DRIVERS",
    "CONFIG",
    "GdalSource",
    "gdal_env",
    "guard_status",
    "staging_dir",
    "stage_file",
    "stage_bytes",
    "plain_name",
]

#: Content -> the GDAL drivers allowed to open it.
DRIVERS: dict[str, tuple[str, ...]] = {
    "json": ("GeoJSON",),
    "xml:kml": ("LIBKML", "KML"),
    "xml:gpx": ("GPX",),
    "sqlite": ("GPKG",),
    "shapefile": ("ESRI Shapefile",),
    "flatgeobuf": ("FlatGeobuf",),
    "filegdb": ("OpenFileGDB",),  # issue 16: a .gdb folder (sources.filegdb)
}

#: Contents opened with a GDAL connection prefix that pins the driver.
_PREFIX = {"json": "GeoJSON:", "sqlite": "GPKG:"}

#: GDAL configuration while a source is read: no /vsicurl/ (only a file that cannot
#: exist is allowed), no /vsistdin/, any other request through a closed local port.
CONFIG: dict[str, str] = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/kcmr-no-network",
    "CPL_ALLOW_VSISTDIN": "NO",
    "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO",
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTPS_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GML_SKIP_RESOLVE_ELEMS": "ALL",
    "GML_DOWNLOAD_SCHEMA": "NO",
}

_GDAL_OF_VECTOR = 0x04
_LOCK = threading.RLock()
_PLAIN = re.compile(r"^[\w./ -]+$")

_FETCH = ctypes.CFUNCTYPE(
    ctypes.c_void_p,  # CPLHTTPResult *
    ctypes.c_char_p,  # pszURL
    ctypes.c_void_p,  # papszOptions
    ctypes.c_void_p,  # pfnProgress
    ctypes.c_void_p,  # pProgressArg
    ctypes.c_void_p,  # pfnWrite
    ctypes.c_void_p,  # pWriteArg
    ctypes.c_void_p,  # pUserData
)


@lru_cache(maxsize=1)
def _gdal():
    """Return the GDAL library pyogrio uses, set up for the guard's calls (or None)."""
    spec = importlib.util.find_spec("pyogrio._io")
    if spec is None or not spec.origin:
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
        lib.GDALIdentifyDriverEx.restype = ctypes.c_void_p
        lib.GDALIdentifyDriverEx.argtypes = [
            ctypes.c_char_p, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.GDALGetDriverShortName.restype = ctypes.c_char_p
        lib.GDALGetDriverShortName.argtypes = [ctypes.c_void_p]
        lib.CPLCalloc.restype = ctypes.c_void_p
        lib.CPLCalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
        lib.CPLStrdup.restype = ctypes.c_void_p
        lib.CPLStrdup.argtypes = [ctypes.c_char_p]
        lib.CPLHTTPPushFetchCallback.restype = ctypes.c_int
        lib.CPLHTTPPushFetchCallback.argtypes = [_FETCH, ctypes.c_void_p]
        lib.CPLHTTPPopFetchCallback.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return lib


#: URLs GDAL asked for while a guarded read ran (newest last), for messages and tests.
refused_urls: list[str] = []


@_FETCH
def _refuse(url, options, progress, progress_arg, write, write_arg, user_data):
    """Answer an HTTP request of GDAL with a failure, without any network access."""
    lib = _gdal()
    refused_urls.append((url or b"").decode("utf-8", "replace"))
    del refused_urls[:-20]
    result = lib.CPLCalloc(128, 1)  # a CPLHTTPResult, zeroed (it is 64 bytes on 64-bit)
    ctypes.c_int.from_address(result).value = 1  # nStatus: failure
    message = b"network access is refused while kosovo_cmr reads a source"
    ctypes.c_void_p.from_address(result + 2 * ctypes.sizeof(ctypes.c_void_p)).value = lib.CPLStrdup(
        message
    )  # pszErrBuf, after nStatus (padded) and pszContentType
    return result


def guard_status() -> dict[str, bool]:
    """Which of the guard's defences this GDAL build allows.

    Returns
    -------
    dict
        ``driver_check`` (GDAL is asked which driver would open a file before it is
        opened) and ``http_refusal`` (GDAL's HTTP requests are answered by a refusal).
        Both are true with the pyogrio wheels.
    """
    lib = _gdal()
    return {"driver_check": lib is not None, "http_refusal": lib is not None}


@contextlib.contextmanager
def gdal_env() -> Iterator[None]:
    """Read with GDAL's network closed: :data:`CONFIG` set and HTTP requests refused.

    The previous configuration is restored on exit. Guarded reads are serialised (GDAL's
    configuration is process-wide).
    """
    with _LOCK:
        before = {key: pyogrio.get_gdal_config_option(key) for key in CONFIG}
        pyogrio.set_gdal_config_options(CONFIG)
        lib = _gdal()
        pushed = bool(lib is not None and lib.CPLHTTPPushFetchCallback(_refuse, None))
        try:
            yield
        finally:
            if pushed:
                lib.CPLHTTPPopFetchCallback()
            pyogrio.set_gdal_config_options(before)


def _identify(connection: str) -> str | None:
    lib = _gdal()
    if lib is None:
        return None
    handle = lib.GDALIdentifyDriverEx(os.fsencode(connection), _GDAL_OF_VECTOR, None, None)
    if not handle:
        return ""
    return lib.GDALGetDriverShortName(handle).decode("ascii", "replace")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


class GdalSource:
    """A staged source file, opened only by the drivers its content allows.

    Parameters
    ----------
    path : pathlib.Path
        The staged file (:func:`stage_file`, :func:`stage_bytes`): a plain path in a
        private folder.
    content : str
        What the file holds (:func:`kosovo_cmr.sources.sniff.sniff`), a key of
        :data:`DRIVERS`.
    label : str
        How to call the source in messages (the user's name for it).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the content has no allowed driver, or GDAL would open the file with another
        driver than those allowed (the message names it).
    """

    def __init__(self, path: Path, content: str, *, label: str):
        if content not in DRIVERS:
            raise InputError(f"{label}: GDAL does not read {content} sources here")
        self.label = label
        self.content = content
        self.connection = _PREFIX.get(content, "") + os.fspath(path)
        driver = _identify(self.connection)
        if driver is not None and driver not in DRIVERS[content]:
            found = f"the {driver} driver" if driver else "no driver"
            raise InputError(
                f"{label}: GDAL would read it with {found}, not "
                f"{' or '.join(DRIVERS[content])}; refused"
            )
        self.driver = driver or DRIVERS[content][0]

    def _call(self, func, *args, **kwargs):
        with gdal_env():
            try:
                return func(self.connection, *args, **kwargs)
            except InputError:
                raise
            except Exception as exc:  # pyogrio's DataSourceError and friends
                raise InputError(f"cannot read {self.label}: {_one_line(exc)}") from exc

    def list_layers(self) -> list[str]:
        """Return the names of the layers."""
        return [str(row[0]) for row in self._call(pyogrio.list_layers)]

    def read_info(self, layer: str, *, encoding: str | None = None) -> dict:
        """Return pyogrio's information on a layer."""
        return self._call(pyogrio.read_info, layer=layer, encoding=encoding)

    def read(self, layer: str, *, encoding: str | None = None):
        """Read a layer: ``(meta, fids, wkb, fields, warnings)``.

        Dates and times come as the text GDAL read (``datetime_as_string``), so that a
        time zone is kept as written. GDAL's warnings are returned, not shown.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            meta, fids, wkb, fields = self._call(
                raw_read, layer=layer, encoding=encoding, return_fids=True,
                datetime_as_string=True,
            )  # fmt: skip
        return meta, fids, wkb, fields, caught


def plain_name(name: str) -> str:
    r"""Return a file name made only of letters, digits, ``.``, ``-`` and ``_``.

    Examples
    --------
    >>> plain_name("halo;2024\nq3.shp")
    'halo_2024_q3.shp'
    """
    plain = re.sub(r"[^\w.-]", "_", name)
    return plain if plain.strip("._") else "source"


@contextlib.contextmanager
def staging_dir() -> Iterator[Path]:
    """Yield a private, plainly named folder for staged sources; remove it afterwards.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the temporary folder's own path is not plain (set ``TMPDIR``).
    """
    folder = Path(tempfile.mkdtemp(prefix="kcmr-source-"))
    try:
        if not _PLAIN.match(os.fspath(folder)):
            raise InputError(
                f"the temporary folder {folder} has characters GDAL reads as URL syntax; "
                "set TMPDIR to a plain path"
            )
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _link(real: Path, target: Path) -> None:
    try:
        target.symlink_to(real)
    except OSError:  # no symbolic links here (some Windows set-ups): copy
        shutil.copyfile(real, target)


def stage_file(real: Path, folder: Path, *, sidecars: bool = False) -> Path:
    """Link a source into the staging folder under a plain name; return the staged path.

    Parameters
    ----------
    real : pathlib.Path
        The source.
    folder : pathlib.Path
        From :func:`staging_dir`.
    sidecars : bool, default False
        Also link the files beside it that share its stem (a Shapefile's ``.dbf``,
        ``.shx``, ``.prj``, ``.cpg``...).
    """
    real = real.resolve()
    stem = plain_name(real.stem)
    staged = folder / (stem + real.suffix.lower())
    _link(real, staged)
    if sidecars:
        prefix = real.stem.lower() + "."
        for sibling in real.parent.iterdir():
            if sibling == real or not sibling.name.lower().startswith(prefix):
                continue
            rest = sibling.name[len(prefix) :]
            target = folder / f"{stem}.{plain_name(rest).lower()}"
            if not target.exists() and sibling.is_file():
                _link(sibling.resolve(), target)
    return staged


def stage_bytes(folder: Path, name: str, data: bytes) -> Path:
    """Write bytes (an archive member) into the staging folder under a plain name."""
    staged = folder / plain_name(name)
    staged.write_bytes(data)
    return staged
