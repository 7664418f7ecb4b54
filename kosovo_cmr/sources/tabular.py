"""Tables of features: CSV (or XLSX) with a WKT column, X/Y columns or an MGRS column.

Geometry columns are found by name (case-insensitive; ``--map-fields`` may rename a
column to one of these names first):

- WKT or EWKT: ``wkt``, ``geometry``, ``geom``, ``the_geom``, ``wkt_geom``, ``shape``;
- X/Y: ``x``/``y``, ``lon``/``lat``, ``lng``/``lat``, ``long``/``lat``,
  ``longitude``/``latitude``, ``easting``/``northing``, ``point_x``/``point_y``;
- MGRS: ``mgrs``, ``mgrs_ref``, ``grid_ref``, ``gridref``. A reference stands for a
  square (:func:`mgrs_square`): the point is its centre, ``accuracy_m`` half its side,
  and a square coarser than :data:`kosovo_cmr.settings.mgrs_max_accuracy_m` is rejected
  (``mgrs_too_coarse``).

A table carries no CRS: WKT and X/Y need ``crs`` (an EWKT ``SRID=`` prefix also counts);
MGRS references are WGS 84 by definition. A cell that cannot be parsed becomes the reason
``unparseable_geometry`` on that row; a row with the wrong number of cells becomes
``malformed_row``. Nothing is dropped.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import shapely
from pyproj import CRS

from kosovo_cmr import settings
from kosovo_cmr.errors import CRSError, InputError
from kosovo_cmr.geometry_checks import Issue, parse_wkt_geometry
from kosovo_cmr.sources import SourceData, safety

__all__ = [
    "read_table",
    "parse_csv",
    "parse_number",
    "MgrsSquare",
    "mgrs_square",
    "parse_mgrs",
    "check_mgrs_precision",
    "geometry_from_table",
    "WKT_COLUMNS",
    "XY_COLUMNS",
    "MGRS_COLUMNS",
]

WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "shape")
XY_COLUMNS = (
    ("x", "y"),
    ("lon", "lat"),
    ("lng", "lat"),
    ("long", "lat"),
    ("longitude", "latitude"),
    ("easting", "northing"),
    ("point_x", "point_y"),
)
MGRS_COLUMNS = ("mgrs", "mgrs_ref", "grid_ref", "gridref")

#: Attribute set on a table read by :func:`parse_csv`: row position -> problem.
MALFORMED = "kcmr_malformed_rows"

#: Attribute set on a table read by :func:`read_table` from text: how it was decoded.
ENCODING = "kcmr_encoding"


def parse_csv(text: str, *, name: str = "table") -> pd.DataFrame:
    r"""Parse CSV text into a table of strings, keeping malformed rows.

    The delimiter is sniffed among ``,`` ``;`` tab and ``|``. Empty cells become
    ``None``; header names are stripped and made unique. Rows with more or fewer cells
    than the header are padded or cut and listed in ``frame.attrs["kcmr_malformed_rows"]``
    (row position -> description) so that the importer rejects them.

    Parameters
    ----------
    text : str
    name : str
        How to call the table in an error message.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the text has no header row or cannot be parsed as CSV at all.

    Examples
    --------
    >>> parse_csv("id;wkt\nA;POINT (21 42.5)\n").to_dict("records")
    [{'id': 'A', 'wkt': 'POINT (21 42.5)'}]
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InputError(f"{name} is empty")
    sample = text[:16384]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        csv.field_size_limit(10 * 1024 * 1024)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except (csv.Error, ValueError) as exc:
        raise InputError(f"cannot parse {name} as CSV: {exc}") from exc
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError(f"{name} has no header row")
    header = _unique([h.strip().removeprefix("\ufeff") for h in rows[0]])
    width = len(header)
    body, malformed = [], {}
    for i, row in enumerate(rows[1:]):
        if len(row) != width:
            malformed[i] = f"{len(row)} cells, header has {width}"
            row = (row + [""] * width)[:width]
        body.append([cell.strip() or None for cell in row])
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame.attrs[MALFORMED] = malformed
    return frame


def _unique(names: list[str]) -> list[str]:
    out, seen = [], {}
    for i, n in enumerate(names):
        n = n or f"column_{i + 1}"
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
        else:
            seen[n] = 1
        out.append(n)
    return out


def read_table(
    path: Path, *, encoding: str | None = None, sheet: str | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV or XLSX file as a table of strings.

    Parameters
    ----------
    path : pathlib.Path
        ``.csv``/``.txt`` (UTF-8 with or without BOM, else detected by content unless
        ``encoding``: :func:`kosovo_cmr.sources.safety.read_text`),
        or ``.xlsx`` (pre-scanned as a ZIP archive; openpyxl parses its XML with
        defusedxml when that is installed).
    encoding : str, optional
    sheet : str, optional
        Worksheet of a workbook; default the first.

    Returns
    -------
    frame : pandas.DataFrame
    notices : list of str

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be read.
    """
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path, sheet=sheet), []
    decoded = safety.read_text(path.read_bytes(), encoding=encoding, name=path.name)
    frame = parse_csv(decoded.text, name=path.name)
    frame.attrs[ENCODING] = decoded.encoding
    return frame, decoded.notices


def _read_xlsx(path: Path, *, sheet: str | None) -> pd.DataFrame:
    entries = {e.filename for e in safety.prescan_zip(path)}
    if "xl/workbook.xml" not in entries:
        raise InputError(
            f"{path.name} is named .xlsx but holds a ZIP archive that is no Excel workbook "
            "(no xl/workbook.xml); refused"
        )
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(f"cannot read workbook {path}: {' '.join(str(exc).split())}") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InputError(f"{path} has no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"cannot read workbook {path}: {' '.join(str(exc).split())}") from exc
    finally:
        book.close()
    rows = [r for r in rows if any(v not in (None, "") for v in r)]
    if not rows:
        raise InputError(f"{path} has no header row")
    header = _unique([("" if h is None else str(h)).strip() for h in rows[0]])
    body = [[_cell(v) for v in (r + [None] * len(header))[: len(header)]] for r in rows[1:]]
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame.attrs[MALFORMED] = {}
    return frame


def _cell(value):
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def parse_number(text) -> float:
    """Parse a coordinate or a measure written as text; a decimal comma is accepted.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the text is not a finite number.

    Examples
    --------
    >>> parse_number("21,125"), parse_number(" 42.5 ")
    (21.125, 42.5)
    """
    if text is None:
        raise InputError("empty number")
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        s = str(text).strip()
        if not _NUMBER.match(s):
            raise InputError(f"not a number: {s[:40]!r}")
        value = float(s.replace(",", "."))
    if not math.isfinite(value):
        raise InputError(f"not a finite number: {text!r}")
    return value


_MGRS = re.compile(r"^(\d{1,2})([C-HJ-NP-X])([A-HJ-NP-Z]{2})(\d{0,10})$")


class MgrsSquare(NamedTuple):
    """The square an MGRS reference stands for: its centre and its side.

    Attributes
    ----------
    lon, lat : float
        The centre of the square, WGS 84 degrees.
    size_m : float
        The side of the square: 100 km with no digits, 10 km with one digit per axis,
        down to 1 m with five (``10 ** (5 - digits)``).
    """

    lon: float
    lat: float
    size_m: float

    @property
    def accuracy_m(self) -> float:
        """Half the square's side: how far the point may be from the truth along an axis."""
        return self.size_m / 2


def mgrs_square(text) -> MgrsSquare:
    """Read an MGRS reference as the square it stands for.

    The reference is checked against the MGRS grammar before the ``mgrs`` library sees
    it (zone 1-60, latitude band, 100 km square, an even number of up to 10 digits);
    spaces are ignored. Its precision is its number of digits: ``34TDN`` is a 100 km
    square, ``34TDN9020`` a 1 km square, ``34TEN0820316401`` a 1 m square.

    Returns
    -------
    MgrsSquare

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the text is not a valid MGRS reference.

    Examples
    --------
    >>> sq = mgrs_square("34T DN 90 20")
    >>> round(sq.lon, 4), round(sq.lat, 4), sq.size_m, sq.accuracy_m
    (20.8841, 42.6369, 1000.0, 500.0)
    """
    if text is None:
        raise InputError("empty MGRS reference")
    s = re.sub(r"\s+", "", str(text)).upper()
    match = _MGRS.match(s)
    if not match or len(match.group(4)) % 2 or not 1 <= int(match.group(1)) <= 60:
        raise InputError(f"not an MGRS reference: {str(text)[:40]!r}")
    import mgrs

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lat, lon = mgrs.MGRS().toLatLon(s)  # the centre of the square
    except Exception as exc:  # the library raises several kinds
        raise InputError(f"not a valid MGRS reference: {s!r} ({exc})") from exc
    if caught:  # e.g. "Latitude Warning": the square is outside its latitude band
        raise InputError(f"not a valid MGRS reference: {s!r} ({caught[0].message})")
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        raise InputError(f"MGRS reference {s!r} gives no position")
    return MgrsSquare(float(lon), float(lat), 10.0 ** (5 - len(match.group(4)) // 2))


def parse_mgrs(text) -> tuple[float, float]:
    """Convert an MGRS reference to the WGS 84 longitude and latitude of its square's centre.

    See :func:`mgrs_square`, which also gives the square's size.

    Returns
    -------
    tuple of float
        ``(lon, lat)``.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the text is not a valid MGRS reference.

    Examples
    --------
    >>> lon, lat = parse_mgrs("34T EN 08203 16401")
    >>> round(lon, 4), round(lat, 4)
    (21.1, 42.6)
    """
    square = mgrs_square(text)
    return square.lon, square.lat


def check_mgrs_precision(square: MgrsSquare, text) -> None:
    """Refuse a square coarser than :data:`kosovo_cmr.settings.mgrs_max_accuracy_m`.

    Raises
    ------
    kosovo_cmr.errors.InputError
        Saying the square's size and the limit.
    """
    limit = settings.mgrs_max_accuracy_m
    if square.accuracy_m > limit:
        raise InputError(
            f"MGRS {str(text).strip()!r} is a {_size(square.size_m)} square: accuracy "
            f"{_size(square.accuracy_m)}, coarser than {_size(limit)} "
            "(settings.mgrs_max_accuracy_m)"
        )


def _size(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def _find(columns, wanted) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    for name in wanted:
        if name in lowered:
            return lowered[name]
    return None


def _geometry_columns(columns) -> tuple[str | None, str | None, tuple[str, str] | None]:
    """Return the WKT column, the MGRS column and the X/Y pair of columns found, if any."""
    xy = None
    for xname, yname in XY_COLUMNS:
        x, y = _find(columns, (xname,)), _find(columns, (yname,))
        if x is not None and y is not None:
            xy = (x, y)
            break
    return _find(columns, WKT_COLUMNS), _find(columns, MGRS_COLUMNS), xy


def _from_wkt(values, source_crs, *, path: str, column: str):
    """Parse a WKT/EWKT column; the CRS is ``source_crs`` or the one EWKT ``SRID=``."""
    geoms, issues, raw, srids = [], [], [], set()
    for text in values:
        g, srid, iss = parse_wkt_geometry(text)
        geoms.append(g)
        issues.append(iss)
        raw.append(text)
        if srid is not None:
            srids.add(srid)
    if source_crs is None:
        if len(srids) != 1:
            raise CRSError(
                f"{path}: the WKT column {column!r} carries no CRS; pass --crs "
                "(e.g. --crs EPSG:4326)"
            )
        source_crs = CRS.from_epsg(srids.pop())
    return geoms, issues, raw, source_crs


def _from_mgrs(values, source_crs, *, path: str, notices: list[str]):
    """Convert an MGRS column to WGS 84 points (``--crs`` other than WGS 84 is ignored).

    Each point is the centre of its square, with ``accuracy_m`` half the square's side;
    a square coarser than the setting is rejected (``mgrs_too_coarse``).
    """
    geoms, issues, raw, accuracy = [], [], [], []
    sizes: dict[float, int] = {}
    for text in values:
        raw.append(text)
        geoms.append(None)
        issues.append([])
        accuracy.append(None)
        if text is None:
            continue
        try:
            square = mgrs_square(text)
        except InputError as exc:
            issues[-1] = [Issue("unparseable_geometry", str(exc))]
            continue
        geoms[-1] = shapely.Point(square.lon, square.lat)
        accuracy[-1] = square.accuracy_m
        sizes[square.size_m] = sizes.get(square.size_m, 0) + 1
        try:
            check_mgrs_precision(square, text)
        except InputError as exc:
            issues[-1] = [Issue("mgrs_too_coarse", str(exc))]
    if sizes:
        counts = ", ".join(f"{n} of a {_size(size)} square" for size, n in sorted(sizes.items()))
        notices.append(
            f"{path}: MGRS references ({counts}) stored as the centre of their square with "
            f"accuracy_m half its side; squares coarser than {settings.mgrs_max_accuracy_m:g} m"
            " accuracy are rejected"
        )
    if source_crs is not None and source_crs.to_epsg() != 4326:
        notices.append(f"{path}: MGRS references are WGS 84; --crs ignored")
    return geoms, issues, raw, CRS.from_epsg(4326), accuracy


def _from_xy(xs, ys, source_crs, *, path: str, columns: tuple[str, str]):
    """Build points from X/Y columns, which need ``source_crs``."""
    if source_crs is None:
        raise CRSError(
            f"{path}: the coordinates in {columns[0]!r}/{columns[1]!r} carry no CRS; pass --crs "
            "(e.g. --crs EPSG:4326 for degrees, EPSG:9141 for KOSOVAREF01)"
        )
    geoms, issues, raw = [], [], []
    for xv, yv in zip(xs, ys, strict=True):
        raw.append(None if xv is None and yv is None else f"{xv} {yv}")
        geoms.append(None)
        issues.append([])
        if xv is None and yv is None:
            continue
        try:
            geoms[-1] = shapely.Point(parse_number(xv), parse_number(yv))
        except InputError as exc:
            issues[-1] = [Issue("unparseable_geometry", str(exc))]
    return geoms, issues, raw, source_crs


def geometry_from_table(
    table: pd.DataFrame,
    *,
    path: str,
    crs=None,
    columns: dict[str, str] | None = None,
    notices: list[str] | None = None,
) -> SourceData:
    """Build the features of a table from its WKT, MGRS or X/Y columns.

    The first kind found is used, in that order. A WKT column is consumed (it becomes
    the geometry); MGRS and X/Y columns are kept as attributes too.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`read_table`.
    path : str
        The source, for messages.
    crs : optional
        CRS of WKT or X/Y values.
    columns : dict, optional
        Renames (``--map-fields``) consulted when looking for the geometry columns.
    notices : list of str, optional
        Notices so far, extended.

    Returns
    -------
    kosovo_cmr.sources.SourceData

    Raises
    ------
    kosovo_cmr.errors.InputError
        If no geometry column is found.
    kosovo_cmr.errors.CRSError
        If WKT or X/Y values come without a CRS.
    """
    notices = list(notices or [])
    renamed = {c: (columns or {}).get(c, c) for c in table.columns}
    view = pd.DataFrame(
        {renamed[c]: table[c] for c in table.columns}, index=table.index, dtype=object
    )
    source_crs = CRS.from_user_input(crs) if crs is not None else None
    wkt_col, mgrs_col, xy = _geometry_columns(view.columns)
    consumed: list[str] = []
    if wkt_col is not None:
        parsed = _from_wkt(view[wkt_col], source_crs, path=path, column=wkt_col)
        consumed.append({v: k for k, v in renamed.items()}[wkt_col])
    elif mgrs_col is not None:
        parsed = _from_mgrs(view[mgrs_col], source_crs, path=path, notices=notices)
    elif xy is not None:
        parsed = _from_xy(view[xy[0]], view[xy[1]], source_crs, path=path, columns=xy)
    else:
        raise InputError(
            f"{path}: no geometry column found; expected a WKT column ({', '.join(WKT_COLUMNS)}),"
            f" X/Y columns (e.g. x/y, lon/lat, easting/northing) or an MGRS column "
            f"({', '.join(MGRS_COLUMNS)}); rename yours with --map-fields SRC=wkt"
        )
    geoms, issues, raw, source_crs = parsed[:4]
    extra = {}
    if len(parsed) > 4:  # MGRS: the accuracy of each position
        extra["accuracy_m"] = pd.Series(parsed[4], dtype=object)
    for i, problem in table.attrs.get(MALFORMED, {}).items():
        issues[i] = [Issue("malformed_row", problem), *issues[i]]
    frame = table.drop(columns=consumed).reset_index(drop=True)
    safety.check_feature_count(len(frame), name=path)
    return SourceData(
        frame=frame,
        geometry=geoms,
        issues=issues,
        crs=source_crs,
        path=path,
        kind="table",
        notices=notices,
        raw_geometry=raw,
        extra=extra,
    )
