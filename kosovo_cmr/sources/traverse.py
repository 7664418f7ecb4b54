"""IMSMA turning-point tables: polygons drawn as points in order, absolute or by legs.

The layout (CSV or XLSX, column names matched case-insensitively, ``_`` and spaces
ignored):

``PolyID``
    the polygon each row belongs to (one polygon = one feature read);
``PointNo``
    drawing order within the polygon;
``PointID`` and ``PointType``
    the point's name, and its role: ``BM`` benchmark, ``RP`` reference point (both
    outside the hazard, not part of the ring), ``SP`` start point, ``TP`` turning
    point, ``IP`` intermediate point, ``EP`` end point;
coordinates
    ``X``/``Y`` (in ``crs``), ``Lon``/``Lat`` (in ``crs``) or ``MGRS``; or
a leg
    ``Bearing`` (degrees), ``Distance`` (metres) and ``From`` (the ``PointID`` of an
    earlier point of the same polygon, e.g. the benchmark).

The ring runs SP, TP/IP..., in ``PointNo`` order. When the table ends with an ``EP``
(which should fall on the start point) the distance between EP and SP is the
**misclosure**; it is reported in metres and as a ratio of the traverse length, and a
ring whose misclosure exceeds the tolerance
(:data:`kosovo_cmr.settings.traverse_max_misclosure_m`) is rejected as
``traverse_misclosure``. Bearings are ``grid`` (the working grid), ``true`` (geodesic,
from true north) or ``magnetic`` (true = magnetic + declination, east positive).

Geometries come out in the working CRS: ``crs`` when it is projected, else the national
grid :data:`kosovo_cmr.settings.metric_crs`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer

from kosovo_cmr import settings
from kosovo_cmr.errors import CRSError, InputError
from kosovo_cmr.geometry_checks import Issue
from kosovo_cmr.sources import SourceData
from kosovo_cmr.sources.entered import TYPED_ROLES, crs_text, entered_json, entry_format
from kosovo_cmr.sources.tabular import (
    MALFORMED,
    check_mgrs_precision,
    mgrs_square,
    parse_number,
)

__all__ = [
    "TraversePoint",
    "TraverseResult",
    "is_traverse_table",
    "compute_traverse",
    "read_traverse",
    "BEARINGS",
]

BEARINGS = ("grid", "true", "magnetic")

_ALIASES = {
    "polyid": ("polyid", "polygonid", "polyno", "polygon"),
    "pointno": ("pointno", "pointnumber", "pointnr", "seq", "sequence", "order"),
    "pointid": ("pointid", "pointname"),
    "pointtype": ("pointtype", "ptype", "type"),
    "x": ("x", "easting", "east"),
    "y": ("y", "northing", "north"),
    "lon": ("lon", "long", "longitude", "lng"),
    "lat": ("lat", "latitude"),
    "mgrs": ("mgrs", "mgrsref", "gridref"),
    "bearing": ("bearing", "bearingdeg", "azimuth", "azimuthdeg"),
    "distance": ("distance", "distancem", "dist", "distm"),
    "from": ("from", "frompoint", "frompointid", "fromid", "refpoint", "reference"),
}

_TYPES = {
    "bm": "benchmark", "benchmark": "benchmark",
    "rp": "reference", "reference": "reference", "referencepoint": "reference",
    "sp": "start", "start": "start", "startpoint": "start",
    "tp": "turning", "turning": "turning", "turningpoint": "turning",
    "ip": "intermediate", "intermediate": "intermediate", "intermediatepoint": "intermediate",
    "ep": "end", "end": "end", "endpoint": "end",
}  # fmt: skip

_OUTSIDE = ("benchmark", "reference")


def _key(name) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _columns(columns) -> dict[str, str]:
    keyed = {_key(c): c for c in columns}
    found = {}
    for role, names in _ALIASES.items():
        for n in names:
            if n in keyed:
                found[role] = keyed[n]
                break
    return found


def is_traverse_table(columns) -> bool:
    """Return whether a table has the ``PolyID`` and ``PointNo`` columns of the layout."""
    found = _columns(columns)
    return "polyid" in found and "pointno" in found


@dataclass(frozen=True)
class TraversePoint:
    """One row of a turning-point table, its coordinates already in the working CRS."""

    point_id: str
    point_type: str = "turning"
    xy: tuple[float, float] | None = None
    bearing_deg: float | None = None
    distance_m: float | None = None
    from_id: str | None = None


@dataclass
class TraverseResult:
    """A traverse computed in the working CRS."""

    points: list[tuple[float, float]]
    ring: list[tuple[float, float]]
    misclosure_m: float | None
    length_m: float
    issues: list[Issue] = field(default_factory=list)
    #: issue 15: the benchmark and reference point (outside the ring), kept: role ->
    #: (point id, position in the working CRS); the first point of each role.
    landmarks: dict = field(default_factory=dict)

    @property
    def misclosure_ratio(self) -> float | None:
        """Misclosure divided by the traverse length (``None`` if not measured)."""
        if self.misclosure_m is None or self.length_m <= 0:
            return None
        return self.misclosure_m / self.length_m


@lru_cache(maxsize=8)
def _transformers(crs_wkt: str):
    work = CRS.from_wkt(crs_wkt)
    return (
        Transformer.from_crs(work, 4326, always_xy=True),
        Transformer.from_crs(4326, work, always_xy=True),
    )


@lru_cache(maxsize=2)
def _geod(ellps: str) -> Geod:
    return Geod(ellps=ellps)


def _leg_end(origin, bearing_deg, distance_m, *, bearing, declination_deg, work):
    """Return the end of a leg from ``origin`` (working CRS), as ``bearing`` reads it."""
    if bearing == "grid":
        rad = math.radians(bearing_deg)
        return (origin[0] + distance_m * math.sin(rad), origin[1] + distance_m * math.cos(rad))
    azimuth = bearing_deg + (declination_deg if bearing == "magnetic" else 0.0)
    to_ll, from_ll = _transformers(work.to_wkt())
    lon, lat = to_ll.transform(*origin)
    lon2, lat2, _ = _geod(settings.ellipsoid).fwd(lon, lat, azimuth, distance_m)
    return from_ll.transform(lon2, lat2)


def compute_traverse(
    points: list[TraversePoint],
    *,
    bearing: str = "true",
    declination_deg: float | None = None,
    crs=None,
    max_misclosure_m: float | None = None,
) -> TraverseResult:
    """Compute the positions of a traverse and its ring, misclosure and length.

    Parameters
    ----------
    points : list of TraversePoint
        In drawing order.
    bearing : {"grid", "true", "magnetic"}
        What the bearings are measured from.
    declination_deg : float, optional
        Magnetic declination (east positive); required for ``magnetic``.
    crs : optional
        The working CRS (projected, metres); default
        :data:`kosovo_cmr.settings.metric_crs`.
    max_misclosure_m : float, optional
        Tolerance; default :data:`kosovo_cmr.settings.traverse_max_misclosure_m`.

    Returns
    -------
    TraverseResult
        Issues ``traverse_bad_point`` or ``traverse_misclosure`` when the traverse
        cannot make a ring.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``bearing`` is unknown, or ``magnetic`` comes without a declination.

    Examples
    --------
    >>> pts = [TraversePoint("SP", "start", (500000.0, 4700000.0)),
    ...        TraversePoint("TP1", "turning", None, 90, 100, "SP"),
    ...        TraversePoint("TP2", "turning", None, 0, 100, "TP1"),
    ...        TraversePoint("TP3", "turning", None, 270, 100, "TP2"),
    ...        TraversePoint("EP", "end", None, 180, 100, "TP3")]
    >>> r = compute_traverse(pts, bearing="grid")
    >>> round(r.misclosure_m, 6), r.length_m, len(r.ring)
    (0.0, 400.0, 5)
    """
    if bearing not in BEARINGS:
        raise InputError(f"bearing must be one of {', '.join(BEARINGS)}, got {bearing!r}")
    if bearing == "magnetic" and declination_deg is None:
        raise InputError("magnetic bearings need --declination DEG (east positive)")
    tolerance = settings.traverse_max_misclosure_m if max_misclosure_m is None else max_misclosure_m
    work = CRS.from_user_input(crs if crs is not None else settings.metric_crs)
    known: dict[str, tuple[float, float]] = {}
    ordered: list[tuple[TraversePoint, tuple[float, float]]] = []
    issues: list[Issue] = []
    for p in points:
        xy = p.xy
        if xy is None:
            if p.bearing_deg is None or p.distance_m is None or p.from_id is None:
                issues.append(Issue("traverse_bad_point", f"{p.point_id}: no coordinates nor leg"))
                continue
            origin = known.get(p.from_id)
            if origin is None:
                issues.append(
                    Issue("traverse_bad_point", f"{p.point_id}: from unknown point {p.from_id!r}")
                )
                continue
            b, d = p.bearing_deg, p.distance_m
            if not (math.isfinite(b) and math.isfinite(d)) or d < 0:
                issues.append(Issue("traverse_bad_point", f"{p.point_id}: bad bearing/distance"))
                continue
            xy = _leg_end(origin, b, d, bearing=bearing, declination_deg=declination_deg, work=work)
        if not all(math.isfinite(v) for v in xy):
            issues.append(Issue("traverse_bad_point", f"{p.point_id}: non-finite position"))
            continue
        xy = (float(xy[0]), float(xy[1]))
        known[p.point_id] = xy
        ordered.append((p, xy))
    ring_pts = [(p, xy) for p, xy in ordered if p.point_type not in _OUTSIDE]
    all_xy = [xy for _, xy in ordered]
    landmarks = {}
    for p, xy in ordered:
        if p.point_type in _OUTSIDE:
            landmarks.setdefault(p.point_type, (p.point_id, xy))
    if issues:
        return TraverseResult(all_xy, [], None, 0.0, issues)
    if len(ring_pts) < 3:
        issues.append(Issue("too_few_points", f"{len(ring_pts)} ring point(s)"))
        return TraverseResult(all_xy, [], None, 0.0, issues)
    coords = [xy for _, xy in ring_pts]
    length = sum(math.dist(a, b) for a, b in zip(coords[:-1], coords[1:], strict=True))
    misclosure = None
    if ring_pts[-1][0].point_type == "end" or coords[-1] == coords[0]:
        misclosure = math.dist(coords[-1], coords[0])
        coords = coords[:-1]
    else:
        length += math.dist(coords[-1], coords[0])
    result = TraverseResult(all_xy, coords + [coords[0]], misclosure, length, issues, landmarks)
    if misclosure is not None and misclosure > tolerance:
        ratio = result.misclosure_ratio
        ratio_text = f" (1:{1 / ratio:,.0f})" if ratio else ""
        issues.append(
            Issue(
                "traverse_misclosure",
                f"misclosure {misclosure:.2f} m{ratio_text} > {tolerance:g} m",
                coords[0],
            )
        )
    return result


def read_traverse(
    table: pd.DataFrame,
    *,
    path: str,
    crs=None,
    bearing: str = "true",
    declination_deg: float | None = None,
    max_misclosure_m: float | None = None,
    notices: list[str] | None = None,
) -> SourceData:
    """Build one polygon per ``PolyID`` of a turning-point table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`kosovo_cmr.sources.tabular.read_table`.
    path : str
        The source, for messages.
    crs : optional
        CRS of ``X``/``Y`` or ``Lon``/``Lat`` values (MGRS needs none).
    bearing, declination_deg, max_misclosure_m
        See :func:`compute_traverse`.
    notices : list of str, optional

    Returns
    -------
    kosovo_cmr.sources.SourceData
        One feature per polygon with the polygon-level columns of its first row and the
        computed ``misclosure_m``, ``misclosure_ratio``, ``traverse_length_m`` and
        ``turning_points``.

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If coordinates come without ``crs``.
    """
    notices = list(notices or [])
    cols = _columns(table.columns)
    work, to_work, from_wgs = _working_crs(table, cols, crs, path=path)
    point_cols = {cols[r] for r in cols if r != "polyid"}
    keep = [c for c in table.columns if c not in point_cols]
    malformed = table.attrs.get(MALFORMED, {})
    table = table.assign(_kcmr_pos=range(len(table)))
    polyids = table[cols["polyid"]].fillna("")
    options = dict(
        bearing=bearing, declination_deg=declination_deg, max_misclosure_m=max_misclosure_m
    )
    rows, geoms, issues, raw, extra = [], [], [], [], []
    varying = set()
    for pid, group in table.groupby(polyids, sort=False):
        group = _sorted(group, cols["pointno"])
        points, bad = _points(pid, group, cols, malformed, to_work, from_wgs)
        result = TraverseResult([p.xy for p in points if p.xy], [], None, 0.0, bad)
        if not bad:
            result = compute_traverse(points, crs=work, **options)
        varying |= {c for c in keep if group[c].dropna().nunique() > 1}
        rows.append({c: group.iloc[0][c] for c in keep})
        geoms.append(_geometry(result))
        issues.append(result.issues)
        raw.append(f"{len(group)} turning-point row(s)")
        extra.append(
            {
                "misclosure_m": result.misclosure_m,
                "misclosure_ratio": result.misclosure_ratio,
                "traverse_length_m": result.length_m,
                "turning_points": len(group),
                **_landmark_values(result, work),  # issue 15
                **_entered(group, cols, result, work, crs=crs, options=options),  # issue 16
            }
        )
    notices.extend(_summary(path, varying, extra, bearing=bearing))
    frame = pd.DataFrame(rows, columns=keep)
    extras = pd.DataFrame(extra, columns=list(_EXTRA))
    return SourceData(
        frame=frame.reset_index(drop=True),
        geometry=geoms,
        issues=issues,
        crs=work,
        path=path,
        kind="traverse",
        notices=notices,
        raw_geometry=raw,
        extra={c: extras[c] for c in extras.columns},
    )


#: Per-feature values a traverse adds to the imported attributes; issue 15 keeps the
#: benchmark and reference point rows (WGS 84 degrees) as the layer's columns.
_EXTRA = (
    "misclosure_m", "misclosure_ratio", "traverse_length_m", "turning_points",
    "benchmark_id", "benchmark_lon", "benchmark_lat",
    "reference_id", "reference_lon", "reference_lat",
    "entered_points", "entered_crs", "bearing_reference", "declination_deg",  # issue 16
)  # fmt: skip


def _typed(row, cols, role) -> str | None:
    """Return a cell as typed (spaces kept; a number from a workbook as its text)."""
    if role not in cols:
        return None
    v = row[cols[role]]
    if v is None or (isinstance(v, float) and math.isnan(v)) or not str(v).strip():
        return None
    return str(v)


def _entered(group, cols, result: TraverseResult, work, *, crs, options: dict) -> dict:
    """Return what the surveyor typed for one polygon (:mod:`kosovo_cmr.sources.entered`)."""
    typed = [{role: _typed(row, cols, role) for role in TYPED_ROLES}
             for row in group.to_dict("records")]  # fmt: skip
    computed = len(result.points) == len(typed) and not any(
        i.code == "traverse_bad_point" for i in result.issues
    )
    legs = any(entry_format(t) == "leg" for t in typed)
    magnetic = legs and options["bearing"] == "magnetic"
    return {
        "entered_points": entered_json(typed, result.points if computed else None, work=work),
        "entered_crs": crs_text(crs, typed),
        "bearing_reference": options["bearing"] if legs else None,
        "declination_deg": options["declination_deg"] if magnetic else None,
    }


def _landmark_values(result: TraverseResult, work) -> dict:
    """Return the benchmark and reference point of a traverse in WGS 84 (None if absent)."""
    to_ll, _ = _transformers(work.to_wkt())
    out = {}
    for role in _OUTSIDE:
        point_id, xy = result.landmarks.get(role, (None, None))
        lon, lat = to_ll.transform(*xy) if xy is not None else (None, None)
        out[f"{role}_id"] = point_id
        out[f"{role}_lon"] = None if lon is None else round(float(lon), 8)
        out[f"{role}_lat"] = None if lat is None else round(float(lat), 8)
    return out


def _working_crs(table: pd.DataFrame, cols: dict[str, str], crs, *, path: str):
    """Return the working CRS and the transformers into it from ``crs`` and from WGS 84.

    The working CRS is ``crs`` when it is projected, else the national grid.

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If X/Y or Lon/Lat values are filled in and ``crs`` is not given.
    """
    has_xy = "x" in cols and "y" in cols
    has_ll = "lon" in cols and "lat" in cols
    source_crs = CRS.from_user_input(crs) if crs is not None else None
    if (has_xy or has_ll) and source_crs is None:
        uses = table[cols["x"] if has_xy else cols["lon"]].notna().any()
        if uses:
            raise CRSError(
                f"{path}: the turning points' coordinates carry no CRS; pass --crs "
                "(e.g. EPSG:4326 for lon/lat, EPSG:32634 for UTM 34N)"
            )
    work = source_crs if source_crs is not None and source_crs.is_projected else None
    work = work or CRS.from_user_input(settings.metric_crs)
    to_work = (
        Transformer.from_crs(source_crs, work, always_xy=True) if source_crs is not None else None
    )
    from_wgs = Transformer.from_crs(4326, work, always_xy=True)
    return work, to_work, from_wgs


def _points(pid, group, cols, malformed, to_work, from_wgs):
    """Return the turning points of one polygon, and the problems that stop its traverse."""
    points, bad = [], []
    if pid == "":
        bad.append(Issue("traverse_bad_point", f"{len(group)} row(s) without a PolyID"))
    for pos, row in zip(group["_kcmr_pos"], group.to_dict("records"), strict=True):
        if pos in malformed:
            bad.append(Issue("malformed_row", f"row {pos + 2}: {malformed[pos]}"))
        try:
            points.append(_point(row, cols, to_work, from_wgs))
        except InputError as exc:
            bad.append(Issue("traverse_bad_point", str(exc)))
    return points, bad


def _geometry(result: TraverseResult):
    """Return the ring as a polygon; else the points as a line (rejected later); else None."""
    rejected = any(i.severity == "reject" for i in result.issues)
    if result.ring and not rejected:
        return shapely.Polygon(result.ring)
    if len(result.points) >= 2:
        return shapely.LineString(result.points)
    return None


def _summary(path: str, varying: set, extra: list[dict], *, bearing: str) -> list[str]:
    """Return the notices of a table: values that vary within a polygon, the misclosures."""
    out = []
    if varying:
        out.append(
            f"{path}: {', '.join(sorted(varying)[:5])} vary within a polygon; the value of its "
            "first point was kept"
        )
    measured = [e for e in extra if e["misclosure_m"] is not None]
    if measured:
        worst = max(measured, key=lambda e: e["misclosure_m"])
        ratio = worst["misclosure_ratio"]
        out.append(
            f"{path}: misclosure measured on {len(measured)} of {len(extra)} polygon(s); "
            f"largest {worst['misclosure_m']:.2f} m"
            + (f" (1:{1 / ratio:,.0f})" if ratio else "")
            + f"; bearings {bearing}"
        )
    return out


def _sorted(group: pd.DataFrame, column: str) -> pd.DataFrame:
    def order(v):
        try:
            return (0, parse_number(v), "")
        except InputError:
            return (1, 0.0, str(v))

    keys = group[column].map(order)
    return group.iloc[sorted(range(len(group)), key=lambda i: keys.iloc[i])]


def _text(row, cols, role):
    if role not in cols:
        return None
    v = row[cols[role]]
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


def _point(row, cols, to_work, from_wgs) -> TraversePoint:
    pid = _text(row, cols, "pointid") or _text(row, cols, "pointno") or "?"
    raw_type = _text(row, cols, "pointtype")
    ptype = _TYPES.get(_key(raw_type), None) if raw_type else "turning"
    if ptype is None:
        raise InputError(f"{pid}: unknown point type {raw_type!r}")
    xy = None
    if _text(row, cols, "x") is not None or _text(row, cols, "y") is not None:
        x, y = parse_number(_text(row, cols, "x")), parse_number(_text(row, cols, "y"))
        xy = to_work.transform(x, y)
    elif _text(row, cols, "lon") is not None or _text(row, cols, "lat") is not None:
        x, y = parse_number(_text(row, cols, "lon")), parse_number(_text(row, cols, "lat"))
        xy = to_work.transform(x, y)
    elif _text(row, cols, "mgrs") is not None:
        square = mgrs_square(_text(row, cols, "mgrs"))
        check_mgrs_precision(square, _text(row, cols, "mgrs"))  # a turning point is precise
        xy = from_wgs.transform(square.lon, square.lat)
    b = _text(row, cols, "bearing")
    d = _text(row, cols, "distance")
    return TraversePoint(
        point_id=pid,
        point_type=ptype,
        xy=None if xy is None else (float(xy[0]), float(xy[1])),
        bearing_deg=None if b is None else parse_number(b),
        distance_m=None if d is None else parse_number(d),
        from_id=_text(row, cols, "from"),
    )
