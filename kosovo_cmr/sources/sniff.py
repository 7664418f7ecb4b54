r"""What a source file is, decided from its bytes, and whether its name agrees.

A file is read as what its content is, and only as what its name allows: an OGR VRT
document (XML that tells GDAL to read another file or a URL) named ``.geojson`` was
opened by GDAL, which read a local file into the store and made HTTP requests
(issue 14). :func:`sniff` looks at the first bytes and names the content;
:func:`check_content` refuses a file whose content is not the format its suffix
promises (:data:`EXPECTED`), before any parser or GDAL driver sees it.

========================  ========================================================
content                   how it is recognised
========================  ========================================================
``json``                  ``{`` (or ``[`` then ``{``/``[``/``]``) after a BOM and spaces
``xml:<root>``            ``<``: the local name of the root element (``kml``, ``gpx``)
``zip``                   ``PK\x03\x04`` or ``PK\x05\x06`` (ZIP, KMZ, XLSX)
``sqlite``                ``SQLite format 3\0`` (GeoPackage)
``shapefile``             the big-endian file code 9994
``flatgeobuf``            ``fgb`` and a version byte
``text``                  anything else without NUL bytes (CSV)
``binary``                anything else
========================  ========================================================
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

from kosovo_cmr.errors import InputError

__all__ = ["EXPECTED", "CONTENT_NAMES", "sniff", "sniff_bytes", "check_content", "check_path"]

#: Suffix -> the content its file must hold.
EXPECTED: dict[str, str] = {
    ".geojson": "json",
    ".json": "json",
    ".kml": "xml:kml",
    ".gpx": "xml:gpx",
    ".kmz": "zip",
    ".zip": "zip",
    ".xlsx": "zip",
    ".gpkg": "sqlite",
    ".shp": "shapefile",
    ".fgb": "flatgeobuf",
    ".csv": "text",
    ".txt": "text",
}

#: Words for a content in messages.
CONTENT_NAMES: dict[str, str] = {
    "json": "JSON",
    "zip": "a ZIP archive",
    "sqlite": "an SQLite database",
    "shapefile": "a Shapefile",
    "flatgeobuf": "a FlatGeobuf file",
    "text": "plain text",
    "binary": "binary data",
    "xml:OGRVRTDataSource": "an OGR VRT document (which makes GDAL read other files or URLs)",
}

_HEAD = 65536
_BOMS = (b"\xef\xbb\xbf",)
_ROOT = re.compile(rb"<\s*(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def _strip(head: bytes) -> bytes:
    for bom in _BOMS:
        head = head.removeprefix(bom)
    return head.lstrip(b" \t\r\n")


def _xml_root(head: bytes) -> str:
    """Return the local name of the root element of an XML head ('' if none is found)."""
    text = head
    while True:
        text = text.lstrip(b" \t\r\n")
        if text.startswith(b"<?"):
            close = b"?>"
        elif text.startswith(b"<!--"):
            close = b"-->"
        elif text.startswith(b"<!"):  # DOCTYPE, with an internal subset [...] or not
            bracket, gt = text.find(b"["), text.find(b">")
            close = b"]>" if 0 <= bracket < gt else b">"
        else:
            break
        end = text.find(close)
        if close == b"]>" and end < 0:
            end = text.find(b"]")
            end = text.find(b">", end) - 1 if end >= 0 else -1
        if end < 0:
            return ""
        text = text[end + len(close) :]
    match = _ROOT.match(text)
    return match.group(1).decode("ascii", "replace") if match else ""


def sniff_bytes(head: bytes) -> str:
    r"""Name the content of a file from its first bytes.

    Parameters
    ----------
    head : bytes
        The start of the file (64 KiB is plenty).

    Returns
    -------
    str
        One of the contents of the module's table (``xml:<root>`` for XML).

    Examples
    --------
    >>> sniff_bytes(b'\xef\xbb\xbf {"type": "FeatureCollection"}')
    'json'
    >>> sniff_bytes(b'<?xml version="1.0"?><!-- x --><OGRVRTDataSource>')
    'xml:OGRVRTDataSource'
    >>> sniff_bytes(b'<kml:kml xmlns:kml="http://www.opengis.net/kml/2.2">')
    'xml:kml'
    >>> sniff_bytes(b"[Hazard ID];Type"), sniff_bytes(b"PK\x03\x04rest")
    ('text', 'zip')
    """
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if len(head) >= 4 and struct.unpack(">i", head[:4])[0] == 9994:
        return "shapefile"
    if head.startswith(b"fgb") and len(head) >= 4:
        return "flatgeobuf"
    body = _strip(head)
    if body.startswith(b"{") or re.match(rb"\[\s*(?:[{\[\]]|$)", body):
        return "json"
    if body.startswith(b"<"):
        return f"xml:{_xml_root(body)}"
    if b"\x00" in head:
        return "binary"
    return "text"


def sniff(path: str | os.PathLike) -> str:
    """Name the content of a file from its first 64 KiB (see :func:`sniff_bytes`).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be opened.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return sniff_bytes(head)


def _describe(content: str) -> str:
    if content in CONTENT_NAMES:
        return CONTENT_NAMES[content]
    if content.startswith("xml:"):
        root = content[4:]
        return f"XML with the root element <{root}>" if root else "XML"
    return content


def check_content(path: str | os.PathLike, *, name: str | None = None) -> str:
    """Refuse a file whose content is not what its suffix promises; return the content.

    Parameters
    ----------
    path : str or path-like
        The file; its suffix chooses the expected content (:data:`EXPECTED`).
    name : str, optional
        How to call the file in messages (default: its name).

    Returns
    -------
    str
        The content (:func:`sniff`).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the suffix is not one the package reads, or the content does not match it.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    label = name or p.name
    if suffix not in EXPECTED:
        raise InputError(
            f"cannot import {label}: unknown file type {suffix or '(none)'}; supported: "
            f"{', '.join(EXPECTED)}"
        )
    content = sniff(p)
    expected = EXPECTED[suffix]
    if content != expected:
        raise InputError(
            f"{label} is named {suffix} but holds {_describe(content)}, not "
            f"{_describe(expected)}; refused: a file is read as what its bytes are, and only "
            "as what its name says"
        )
    return content


def check_path(path: str | os.PathLike) -> Path:
    """Refuse a source named as a GDAL virtual path or a URL, before anything opens it.

    ``/vsicurl/...``, ``/vsizip/...`` and URLs make GDAL read archives or the network;
    a source must be a plain local file.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the path is a ``/vsi`` path or a URL.

    Examples
    --------
    >>> check_path("/vsicurl/http://example.org/h.geojson")
    Traceback (most recent call last):
    ...
    kosovo_cmr.errors.InputError: /vsicurl/http://example.org/h.geojson is a GDAL virtual path; a source must be a local file
    """  # noqa: E501
    text = os.fspath(path)
    if text.replace("\\", "/").lower().startswith("/vsi"):
        raise InputError(f"{text} is a GDAL virtual path; a source must be a local file")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise InputError(f"{text} is a URL; download the file and import the local copy")
    return Path(text)
