"""Geometry checks and repairs for imported features, each problem with a reason code.

Every problem found in a feature is an :class:`Issue`: a reason code from
:data:`REASONS`, a human detail and, where there is one, the location (x, y in the
source CRS, or a vertex). Each code has a severity:

``reject``
    the feature cannot be stored as it is; it goes to the rejects file.
``repair``
    the feature was changed to be stored (only with ``repair=True``; with
    ``repair=False`` the same problem rejects the feature).
``note``
    the feature is stored unchanged in shape (Z/M dropped, spikes and slivers flagged).

The codes are the contract documented in the "Importing data" guide.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
import shapely

from kosovo_cmr import settings

__all__ = [
    "Issue",
    "REASONS",
    "CheckResult",
    "parse_wkb",
    "parse_wkt_geometry",
    "check_geometry",
    "shape_notes",
]

#: Reason code -> (severity, description). Severity is "reject", "repair" or "note".
REASONS: dict[str, tuple[str, str]] = {
    # reading
    "unparseable_geometry": ("reject", "the geometry could not be parsed (WKT, WKB, MGRS, X/Y)"),
    "mgrs_too_coarse": ("reject", "an MGRS square coarser than settings.mgrs_max_accuracy_m"),
    "malformed_row": ("reject", "a table row has more or fewer cells than the header"),
    # geometry
    "null_geometry": ("reject", "the feature has no geometry"),
    "empty_geometry": ("reject", "the geometry is empty (kept as a note where the layer allows)"),
    "non_finite_coordinates": ("reject", "a coordinate is NaN or infinite"),
    "wrong_geometry_type": ("reject", "the geometry type does not fit the layer (or is mixed)"),
    "too_few_points": ("reject", "a ring has fewer than 4 points (3 distinct)"),
    "ring_not_closed": ("repair", "a ring does not end where it starts; closed"),
    "self_intersection": ("repair", "a ring crosses itself (e.g. a bow-tie)"),
    "nested_rings": ("repair", "rings nested wrongly (shell in shell, hole outside shell)"),
    "crossing_rings": ("repair", "rings cross each other or a hole splits the polygon"),
    "invalid_geometry": ("repair", "another GEOS validity problem"),
    "unrepairable": ("reject", "make_valid left no polygon"),
    "not_repaired": ("reject", "a repairable problem, refused because of --no-repair"),
    "duplicate_vertices": ("note", "consecutive repeated vertices, removed (shape unchanged)"),
    "z_dropped": ("note", "Z values were dropped (stored geometries are 2D)"),
    "m_dropped": ("note", "M values were dropped"),
    "spike": ("note", "a vertex angle under settings.spike_max_angle_deg"),
    "sliver": ("note", "a polygon part thinner than settings.sliver_max_thinness"),
    "area_not_measured": ("note", "the area change of a repair could not be measured"),
    # position
    "axis_swapped": ("reject", "outside Kosovo, but inside once X and Y are swapped"),
    "outside_kosovo": ("reject", "outside Kosovo's extent (with settings.kosovo_margin_deg)"),
    # traverses
    "traverse_misclosure": ("reject", "the traverse misses its start by more than the tolerance"),
    "traverse_bad_point": ("reject", "a turning point has neither usable coordinates nor a leg"),
    # attributes and identity
    "missing_value": ("reject", "a required attribute is empty"),
    "bad_value": ("reject", "an attribute value cannot be read as its type"),
    "value_not_allowed": ("reject", "an attribute value is not in the allowed list"),
    "out_of_range": ("reject", "an attribute value is outside its range"),
    "missing_id": ("reject", "the feature has no id"),
    "id_normalised": ("note", "the id held invisible or look-alike characters; normalised"),
    "lookalike_id": ("reject", "the id looks like another id (of the source or the store)"),
    "duplicate_id": ("reject", "another feature of the source has the same id"),
    "id_in_store": ("reject", "the id is already in the store (--on-conflict skip)"),
    "replaced_in_store": ("note", "the stored feature with this id was replaced"),
}


@dataclass(frozen=True)
class Issue:
    """One problem found in one feature."""

    code: str
    detail: str = ""
    location: tuple[float, float] | None = None

    def __post_init__(self):
        if self.code not in REASONS:
            raise ValueError(f"unknown reason code {self.code!r}")

    @property
    def severity(self) -> str:
        """``reject``, ``repair`` or ``note``."""
        return REASONS[self.code][0]

    def __str__(self) -> str:
        where = ""
        if self.location is not None:
            where = f" at ({self.location[0]:.6g} {self.location[1]:.6g})"
        return f"{self.code}{where}{': ' + self.detail if self.detail else ''}"


@dataclass
class CheckResult:
    """What :func:`check_geometry` made of one geometry."""

    geometry: object
    issues: list[Issue]
    repaired: bool = False

    @property
    def rejected(self) -> bool:
        """Whether any issue rejects the feature."""
        return any(i.severity == "reject" for i in self.issues)


def _parse_error_issue(message: str) -> Issue:
    low = message.lower()
    if "closed linestring" in low or "not closed" in low:
        return Issue("ring_not_closed", "ring closed on reading")
    if "number of points" in low:
        return Issue("too_few_points", message.split(":")[-1].strip())
    return Issue("unparseable_geometry", message[:200])


def parse_wkb(data) -> tuple[object, list[Issue]]:
    """Parse one WKB geometry, recording (and where possible fixing) structural problems.

    Parameters
    ----------
    data : bytes or None

    Returns
    -------
    geometry : shapely geometry or None
    issues : list of Issue
        ``ring_not_closed`` (the ring is closed), ``too_few_points`` or
        ``unparseable_geometry``.
    """
    if data is None:
        return None, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN coordinates: checked later
        try:
            return shapely.from_wkb(data), []
        except Exception as exc:  # GEOSException or a decoding error
            issue = _parse_error_issue(str(exc))
        if issue.code == "unparseable_geometry":
            return None, [issue]
        try:
            return shapely.from_wkb(data, on_invalid="fix"), [issue]
        except Exception:
            return None, [issue]


_SRID = re.compile(r"^\s*SRID\s*=\s*(\d+)\s*;", re.IGNORECASE)


def parse_wkt_geometry(text) -> tuple[object, int | None, list[Issue]]:
    """Parse WKT or EWKT (``SRID=4326;POINT (...)``) without ever raising.

    Parameters
    ----------
    text : str or None

    Returns
    -------
    geometry : shapely geometry or None
    srid : int or None
        The EWKT SRID when there is one.
    issues : list of Issue

    Examples
    --------
    >>> g, srid, issues = parse_wkt_geometry("SRID=4326;POINT (21 42.5)")
    >>> g.wkt, srid, issues
    ('POINT (21 42.5)', 4326, [])
    >>> parse_wkt_geometry("POLYGON ((0 0, 1 0, 1 1))")[2][0].code
    'ring_not_closed'
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None, None, []
    text = str(text).strip()
    if not text:
        return None, None, []
    srid = None
    match = _SRID.match(text)
    if match:
        try:
            srid = int(match.group(1))
        except ValueError:
            srid = None
        text = text[match.end() :]
    try:
        geom = shapely.from_wkt(text)
    except Exception as exc:
        issue = _parse_error_issue(str(exc))
        if issue.code == "unparseable_geometry":
            return None, srid, [issue]
        try:
            return shapely.from_wkt(text, on_invalid="fix"), srid, [issue]
        except Exception:
            return None, srid, [issue]
    return geom, srid, []


# --- checks ---------------------------------------------------------------------------

_ACCEPT = {
    "MultiPolygon": ("Polygon", "MultiPolygon"),
    "Point": ("Point", "MultiPoint"),
}

_LOCATION = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\]")


def _location(reason: str) -> tuple[float, float] | None:
    match = _LOCATION.search(reason)
    if not match:
        return None
    try:
        return float(match.group(1)), float(match.group(2))
    except ValueError:
        return None


def _rings(geom):
    polygons = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
    for poly in polygons:
        yield poly.exterior
        yield from poly.interiors


def _validity_issue(geom) -> Issue:
    reason = shapely.is_valid_reason(geom)
    loc = _location(reason)
    low = reason.lower()
    if "nested" in low or "outside shell" in low:
        code = "nested_rings"
    elif "disconnected" in low:
        code = "crossing_rings"
    elif "self-intersection" in low:
        rings = list(_rings(geom))
        simple = all(shapely.is_simple(shapely.LineString(r.coords)) for r in rings)
        code = "crossing_rings" if simple and len(rings) > 1 else "self_intersection"
    elif "too few points" in low:
        code = "too_few_points"
    elif "not closed" in low:
        code = "ring_not_closed"
    elif "invalid coordinate" in low:
        code = "non_finite_coordinates"
    else:
        code = "invalid_geometry"
    return Issue(code, reason, loc)


def _polygonal(geom):
    """Keep the polygonal parts of a make_valid result as one MultiPolygon."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    parts = [p for p in getattr(geom, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.MultiPolygon()
    merged = shapely.union_all(parts)  # parts of a collection may share edges
    if merged.geom_type == "Polygon":
        return shapely.MultiPolygon([merged])
    if merged.geom_type == "MultiPolygon":
        return merged
    if merged.geom_type == "GeometryCollection":
        return _polygonal(merged)
    return shapely.MultiPolygon()


def check_geometry(
    geom,
    *,
    geometry_type: str,
    allow_empty: bool = False,
    repair: bool = True,
    issues: list[Issue] | None = None,
) -> CheckResult:
    """Check one geometry for a layer and repair it where allowed.

    The checks, in order: null and empty; NaN or infinite coordinates; Z and M (dropped,
    recorded); geometry type (Polygon and MultiPolygon for polygon layers, Point or a
    single-point MultiPoint for point layers; anything else or a mixed collection is
    rejected); rings with too few points; duplicate consecutive vertices; GEOS validity
    (self-intersection, nested or crossing rings). Invalid polygons are mended with
    ``shapely.make_valid(method="structure")`` and normalised to MultiPolygon when
    ``repair`` is true, and rejected otherwise.

    Parameters
    ----------
    geom : shapely geometry or None
        In its source CRS (checks here do not measure).
    geometry_type : {"MultiPolygon", "Point"}
        The layer's geometry type.
    allow_empty : bool, default False
        Whether an empty geometry may be stored (the ``releases`` layer).
    repair : bool, default True
        Whether to mend invalid polygons and unclosed rings.
    issues : list of Issue, optional
        Issues already found while reading (``ring_not_closed``...).

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> from shapely.geometry import Polygon
    >>> bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    >>> r = check_geometry(bowtie, geometry_type="MultiPolygon")
    >>> [i.code for i in r.issues], r.geometry.geom_type, len(r.geometry.geoms)
    (['self_intersection'], 'MultiPolygon', 2)
    """
    found = list(issues or [])

    def done(g, repaired=False):
        if not repair and any(i.severity == "repair" for i in found):
            codes = sorted({i.code for i in found if i.severity == "repair"})
            found.append(Issue("not_repaired", ", ".join(codes) + " (--no-repair)"))
            return CheckResult(geom, found, False)
        return CheckResult(g, found, repaired)

    if any(i.severity == "reject" for i in found):
        return CheckResult(geom, found)
    if geom is None:
        found.append(Issue("null_geometry"))
        return CheckResult(None, found)
    if geom.is_empty:
        if allow_empty:
            empty = shapely.MultiPolygon() if geometry_type == "MultiPolygon" else geom
            return done(empty)
        found.append(Issue("empty_geometry", geom.geom_type))
        return CheckResult(geom, found)
    problem = _non_finite(geom)
    g = None if problem else _drop_zm(geom, found)
    problem = problem or _wrong_type(g, geometry_type)
    if geometry_type == "MultiPolygon" and problem is None:
        problem = _too_few_points(g)
    if problem is not None:
        found.append(problem)
        return CheckResult(geom, found)
    if geometry_type == "Point":
        return done(g.geoms[0] if g.geom_type == "MultiPoint" else g)
    g = _drop_repeated_vertices(g, found)
    if shapely.is_valid(g):
        return done(_polygonal(g), any(i.severity == "repair" for i in found))
    found.append(_validity_issue(g))
    if not repair:
        return done(g)
    mended = _mend(g)
    if mended is None:
        found.append(Issue("unrepairable", "make_valid left no polygon"))
        return CheckResult(geom, found)
    return done(mended, True)


def _non_finite(geom) -> Issue | None:
    """Return ``non_finite_coordinates`` at the first NaN or infinite vertex, if any."""
    coords = shapely.get_coordinates(geom, include_z=False)
    finite = np.isfinite(coords).all(axis=1)
    if finite.all():
        return None
    return Issue("non_finite_coordinates", f"vertex {int(np.flatnonzero(~finite)[0])}")


def _drop_zm(geom, found: list[Issue]):
    """Return the geometry in 2D, recording the Z and M values dropped."""
    if shapely.has_z(geom):
        found.append(Issue("z_dropped"))
    if shapely.has_m(geom):
        found.append(Issue("m_dropped"))
    if shapely.has_z(geom) or shapely.has_m(geom):
        return shapely.force_2d(geom)
    return geom


def _wrong_type(g, geometry_type: str) -> Issue | None:
    """Return ``wrong_geometry_type`` when ``g`` does not fit the layer, else None."""
    kind = g.geom_type
    if kind in _ACCEPT[geometry_type] and not (kind == "MultiPoint" and len(g.geoms) != 1):
        return None
    detail = kind
    if kind == "GeometryCollection":
        detail = "mixed: " + ", ".join(sorted({p.geom_type for p in g.geoms}))
    elif kind == "MultiPoint":
        detail = f"MultiPoint of {len(g.geoms)} points"
    return Issue("wrong_geometry_type", f"{detail}; layer wants {geometry_type}")


def _too_few_points(g) -> Issue | None:
    """Return ``too_few_points`` for the first ring under 4 points (3 distinct), else None."""
    for ring in _rings(g):
        xy = np.asarray(ring.coords)
        distinct = len({tuple(p) for p in xy})
        if len(xy) < 4 or distinct < 3:
            return Issue("too_few_points", f"ring of {distinct} distinct point(s)", tuple(xy[0]))
    return None


def _drop_repeated_vertices(g, found: list[Issue]):
    """Remove consecutive repeated vertices, recording how many and where the first was."""
    deduped = shapely.remove_repeated_points(g, tolerance=0.0)
    if shapely.get_num_coordinates(deduped) < shapely.get_num_coordinates(g):
        n = int(shapely.get_num_coordinates(g) - shapely.get_num_coordinates(deduped))
        first = _first_repeat(g)
        found.append(Issue("duplicate_vertices", f"{n} repeated vertex(es) removed", first))
        return deduped
    return g


def _mend(g):
    """Return an invalid polygon mended as a valid MultiPolygon, or None if nothing is left."""
    mended = _polygonal(shapely.make_valid(g, method="structure", keep_collapsed=False))
    if not mended.is_empty and not mended.is_valid:
        mended = _polygonal(shapely.make_valid(mended, method="structure"))
    if mended.is_empty or not mended.is_valid:
        return None
    return mended


def _first_repeat(geom) -> tuple[float, float] | None:
    for ring in _rings(geom):
        xy = np.asarray(ring.coords)
        same = np.flatnonzero((np.diff(xy, axis=0) == 0).all(axis=1))
        if len(same):
            return float(xy[same[0], 0]), float(xy[same[0], 1])
    return None


def shape_notes(geom_metric) -> list[Issue]:
    """Flag spikes and slivers of a polygon measured in a metric CRS.

    Parameters
    ----------
    geom_metric : shapely geometry
        A (Multi)Polygon in metres (:data:`kosovo_cmr.settings.metric_crs`); other types
        give no notes.

    Returns
    -------
    list of Issue
        ``spike`` for each vertex sharper than
        :data:`~kosovo_cmr.settings.spike_max_angle_deg` (location in metres), ``sliver``
        for each part thinner than :data:`~kosovo_cmr.settings.sliver_max_thinness`.
    """
    if geom_metric is None or geom_metric.is_empty:
        return []
    if geom_metric.geom_type not in ("Polygon", "MultiPolygon"):
        return []
    out: list[Issue] = []
    for ring in _rings(geom_metric):
        xy = np.asarray(ring.coords)[:-1]
        if len(xy) < 3:
            continue
        prev = np.roll(xy, 1, axis=0) - xy
        nxt = np.roll(xy, -1, axis=0) - xy
        norm = np.linalg.norm(prev, axis=1) * np.linalg.norm(nxt, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = np.clip((prev * nxt).sum(axis=1) / norm, -1.0, 1.0)
        angle = np.degrees(np.arccos(cos))
        for k in np.flatnonzero(angle < settings.spike_max_angle_deg):
            where = (float(xy[k, 0]), float(xy[k, 1]))
            out.append(Issue("spike", f"vertex angle {angle[k]:.3f} deg", where))
    polygons = geom_metric.geoms if geom_metric.geom_type == "MultiPolygon" else [geom_metric]
    for poly in polygons:
        perimeter = poly.length
        if perimeter <= 0:
            continue
        thinness = 4 * math.pi * poly.area / perimeter**2
        if thinness < settings.sliver_max_thinness:
            c = poly.representative_point()
            out.append(
                Issue("sliver", f"thinness {thinness:.4f}, area {poly.area:.1f} m2", (c.x, c.y))
            )
    return out
