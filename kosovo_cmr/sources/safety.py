"""Defences against hostile or broken source files, applied before any parsing.

- size and feature limits from :mod:`kosovo_cmr.settings` (``import_max_bytes``,
  ``import_max_features``);
- a pre-scan of ZIP archives (zipped Shapefiles, KMZ, XLSX) that refuses bombs *before*
  anything is extracted: total uncompressed size, compression ratio, entry count,
  absolute or ``..`` paths;
- XML that the package parses itself goes through :mod:`defusedxml` (no DTD entities, no
  external or network access): a KML or GPX file that declares entities is refused
  before GDAL sees it;
- a Shapefile whose ``.shp``/``.dbf`` is shorter than its header says is refused
  (GDAL would silently return null geometries for the missing part);
- text decoding: UTF-8 byte-order marks stripped, other encodings detected by content
  (:mod:`kosovo_cmr.sources.encodings`), mojibake flagged.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
from pathlib import Path
from typing import NamedTuple

from kosovo_cmr import settings
from kosovo_cmr.errors import InputError

__all__ = [
    "check_size",
    "check_feature_count",
    "prescan_zip",
    "parse_xml_safely",
    "check_shapefile",
    "DecodedText",
    "read_text",
    "decode_text",
    "looks_like_mojibake",
]


def check_size(path: str | os.PathLike, *, max_bytes: int | None = None) -> int:
    """Refuse a file larger than the limit.

    Parameters
    ----------
    path : str or path-like
        The file.
    max_bytes : int, optional
        The limit; default :data:`kosovo_cmr.settings.import_max_bytes`.

    Returns
    -------
    int
        The file's size in bytes.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file is missing, not a file, or too large.
    """
    limit = settings.import_max_bytes if max_bytes is None else max_bytes
    p = Path(path)
    if not p.exists():
        raise InputError(f"source not found: {p}")
    if not p.is_file():
        raise InputError(f"source is not a file: {p}")
    size = p.stat().st_size
    if size > limit:
        raise InputError(
            f"{p} is {size:,} bytes, over the limit of {limit:,} "
            "(raise kosovo_cmr.settings.import_max_bytes if you trust it)"
        )
    if size == 0:
        raise InputError(f"{p} is empty")
    return size


def check_feature_count(count: int, *, name: str, max_features: int | None = None) -> None:
    """Refuse a source with more features than the limit.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``count`` exceeds :data:`kosovo_cmr.settings.import_max_features`.
    """
    limit = settings.import_max_features if max_features is None else max_features
    if count > limit:
        raise InputError(
            f"{name} has {count:,} features, over the limit of {limit:,} "
            "(raise kosovo_cmr.settings.import_max_features if you trust it)"
        )


def prescan_zip(path: str | os.PathLike) -> list[zipfile.ZipInfo]:
    """Inspect a ZIP archive's directory and refuse it if it looks hostile.

    Nothing is extracted. The checks use the sizes the archive declares and the limits
    in :mod:`kosovo_cmr.settings`: entry count (``archive_max_entries``), total
    uncompressed size (``archive_max_uncompressed_bytes``), compression ratio of the
    whole and of each entry (``archive_max_ratio``), and entry names that are absolute
    or climb out with ``..``.

    Parameters
    ----------
    path : str or path-like
        The archive (``.zip``, ``.kmz``, ``.xlsx``).

    Returns
    -------
    list of zipfile.ZipInfo
        The entries, when the archive passes.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the archive is unreadable or fails a check; the message says which.
    """
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise InputError(f"{p} is not a readable ZIP archive: {exc}") from exc
    if len(entries) > settings.archive_max_entries:
        raise InputError(
            f"{p} holds {len(entries):,} entries, over the limit of "
            f"{settings.archive_max_entries:,}; refused as a possible ZIP bomb"
        )
    total = 0
    packed = 0
    for entry in entries:
        name = entry.filename.replace("\\", "/")
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in name.split("/"):
            raise InputError(f"{p} holds an entry with an unsafe path: {entry.filename!r}")
        total += entry.file_size
        packed += entry.compress_size
        if entry.file_size > 1024 * 1024 and entry.file_size > settings.archive_max_ratio * max(
            entry.compress_size, 1
        ):
            ratio = entry.file_size / max(entry.compress_size, 1)
            raise InputError(
                f"{p}: entry {entry.filename!r} expands {ratio:,.0f}"
                f" times, over the limit of {settings.archive_max_ratio:,.0f}; refused as a "
                "possible ZIP bomb"
            )
    if total > settings.archive_max_uncompressed_bytes:
        raise InputError(
            f"{p} expands to {total:,} bytes, over the limit of "
            f"{settings.archive_max_uncompressed_bytes:,}; refused as a possible ZIP bomb"
        )
    if total > 1024 * 1024 and total > settings.archive_max_ratio * max(packed, 1):
        raise InputError(
            f"{p} expands {total / max(packed, 1):,.0f} times, over the limit of "
            f"{settings.archive_max_ratio:,.0f}; refused as a possible ZIP bomb"
        )
    return entries


def read_zip_member(path: str | os.PathLike, member: str) -> bytes:
    """Read one member of an archive that :func:`prescan_zip` accepted, with a size cap.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the member is missing, corrupt, or larger than declared.
    """
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as archive, archive.open(member) as handle:
            limit = archive.getinfo(member).file_size
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError) as exc:
        raise InputError(f"cannot read {member!r} from {p}: {exc}") from exc
    if len(data) > limit:
        raise InputError(f"{p}: entry {member!r} is larger than its header says; refused")
    return data


def parse_xml_safely(data: bytes, *, name: str):
    """Parse XML with entities, DTDs and network access refused.

    Parameters
    ----------
    data : bytes
        The document.
    name : str
        How to call the document in an error message.

    Returns
    -------
    xml.etree.ElementTree.Element
        The root element.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the document declares a DTD or entities (external entities could read local
        files or reach the network), or is not well-formed XML (e.g. truncated).
    """
    import defusedxml
    from defusedxml import ElementTree as SafeET

    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise InputError(
            f"{name} declares a DTD or XML entities ({type(exc).__name__}); refused, since "
            "entities can read local files or reach the network"
        ) from exc
    except Exception as exc:  # ParseError and friends: truncated or not XML
        raise InputError(f"{name} is not well-formed XML: {exc}") from exc


def check_shapefile(path: str | os.PathLike) -> None:
    """Refuse a Shapefile whose ``.shp``, ``.shx`` or ``.dbf`` is shorter than declared.

    GDAL reads a truncated Shapefile without an error and returns null geometries for
    the missing records; the importer must instead refuse the whole file.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a part is truncated or its header is not a Shapefile header.
    """
    p = Path(path)
    for suffix in (".shp", ".shx"):
        part = _sibling(p, suffix)
        if part is None:
            if suffix == ".shp":
                raise InputError(f"{p}: the .shp file is missing")
            continue
        size = part.stat().st_size
        with open(part, "rb") as handle:
            header = handle.read(100)
        if len(header) < 100 or struct.unpack(">i", header[:4])[0] != 9994:
            raise InputError(f"{part} is not a Shapefile (bad header); truncated or corrupt")
        declared = struct.unpack(">i", header[24:28])[0] * 2
        if size < declared:
            raise InputError(
                f"{part} is truncated: {size:,} bytes, its header says {declared:,}; "
                "nothing imported"
            )
    dbf = _sibling(p, ".dbf")
    if dbf is not None:
        size = dbf.stat().st_size
        with open(dbf, "rb") as handle:
            header = handle.read(32)
        if len(header) < 32:
            raise InputError(f"{dbf} is truncated (no header); nothing imported")
        records, header_len, record_len = struct.unpack("<IHH", header[4:12])
        declared = header_len + records * record_len
        if size < declared:
            raise InputError(
                f"{dbf} is truncated: {size:,} bytes, its header says {declared:,}; "
                "nothing imported"
            )


def _sibling(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


class DecodedText(NamedTuple):
    """A text file decoded: the text, how it was decoded and why, and the notices."""

    text: str
    encoding: str
    notices: list[str]


def read_text(data: bytes, *, encoding: str | None = None, name: str) -> DecodedText:
    """Decode a text file: honour ``encoding``, else UTF-8, else detect by content.

    Without ``encoding``, text that is valid UTF-8 (a byte-order mark is stripped) is
    UTF-8; other text is decoded with the encoding its letters point to
    (:func:`kosovo_cmr.sources.encodings.detect_encoding`: cp1250, cp1252, ISO-8859-2
    or cp1251), with a notice naming it.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    encoding : str, optional
        The encoding to use.
    name : str
        How to call the file in messages.

    Returns
    -------
    DecodedText

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the bytes hold NUL characters (a binary file) or cannot be decoded as asked.

    Examples
    --------
    >>> read_text("Štrpce;Leposavić".encode("cp1250"), name="t.csv").encoding
    'cp1250 (detected from its letters)'
    """
    from kosovo_cmr.sources.encodings import detect_encoding

    notices: list[str] = []
    if b"\x00" in data[:65536]:
        raise InputError(f"{name} holds binary data (NUL bytes); not a text table")
    if encoding:
        try:
            text = data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot decode {name} as {encoding}: {exc}") from exc
        used = f"{encoding} (--encoding)"
    else:
        try:
            text, used = data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            guess = detect_encoding(data[: 4 * 1024**2])
            text = data.decode(guess.encoding, errors="replace")
            used = f"{guess.describe()} (detected from its letters)"
            notices.append(
                f"{name} is not UTF-8; read as {guess.describe()}, detected from its "
                "letters (pass --encoding to choose another)"
            )
    text = text.removeprefix("\ufeff")
    if looks_like_mojibake(text):
        notices.append(
            f"{name}: text looks like mojibake (e.g. 'Ã«' for 'ë'); check the encoding (--encoding)"
        )
    return DecodedText(text, used, notices)


def decode_text(data: bytes, *, encoding: str | None = None, name: str) -> tuple[str, list[str]]:
    """Decode a text file as :func:`read_text` does; return the text and the notices."""
    decoded = read_text(data, encoding=encoding, name=name)
    return decoded.text, decoded.notices


_MOJIBAKE = re.compile("[ÃÄÅ][\u0080-\u00bf]|â€|[\u0080-\u009f]")


def looks_like_mojibake(text: str) -> bool:
    """Return whether text shows the marks of a wrong decoding.

    UTF-8 read as Latin-1/cp1252 gives pairs such as ``Ã«`` (for ``ë``) and ``â€``;
    cp1252 read as Latin-1 leaves C1 control characters.

    Examples
    --------
    >>> looks_like_mojibake("PrishtinÃ«"), looks_like_mojibake("Prishtinë")
    (True, False)
    """
    return bool(_MOJIBAKE.search(text))
