"""Geocheck-grade quality checks of a layer: every problem, with where it is.

The national database's quality views (GICHD ``geocheck``, SQL views for IMSMA NG; its
README lists them) check what an import does not: invalid polygons and polygons of
fewer than 3 vertices, duplicate polygons, duplicate ids and ids that differ only by
spaces, duplicate turning points by coordinates and by local id, and consecutive
turning points farther apart than a threshold ("default is 5000 m"). :func:`check`
runs those checks, and the layer-level ones an analyst needs before an overlay (spikes
and slivers, overlaps between hazards of the same kind and between boundary units,
gaps between boundary units), on a frame as it was read, and returns each problem as a
finding with a location a GIS officer can open and fix: a point (a vertex, the
position GEOS names), a line (a long segment) or an area (an overlap, a gap) with its
geodesic ``area_m2``.

Codes (:data:`CHECKS`) and the geocheck view each follows:

======================  =================================================================
code                    what, and geocheck's view
======================  =================================================================
``invalid_polygon``     GEOS reason and point (``geocheck_obj_TYPE_invalid_polys``)
``too_few_vertices``    a ring of fewer than 3 distinct vertices (``..._few_vertices_polys``)
``duplicate_polygon``   the same polygon under another id, within
                        :data:`~kosovo_cmr.settings.qa_duplicate_tolerance_m`
                        (``geocheck_duplicate_polygons``)
``duplicate_id``        the same id on two features (``geocheck_duplicate_polygon_polyid``)
``id_space_case``       ids equal once spaces are trimmed and case folded
                        (``..._polyid_trimmed``; case is our addition: ``HZ-1`` and ``hz-1``
                        are one hazard to a reader)
``duplicate_vertex``    two turning points of one polygon at the same coordinates
                        (``geocheck_duplicate_polygon_points``)
``duplicate_point_id``  two turning points of one polygon with the same local id, trimmed
                        (``geocheck_duplicate_polygon_point_localid[_trimmed]``), from the
                        ``entered_points`` a turning-point table left
``long_segment``        consecutive vertices more than
                        :data:`~kosovo_cmr.settings.qa_max_segment_m` apart
                        (``geocheck_distance_polygon_points``)
``spike``, ``sliver``   :func:`kosovo_cmr.geometry_checks.shape_notes`
``overlap``             two hazards of the same ``kind``, or two boundary units, overlap
``gap``                 a hole between boundary units (inside their union, in none)
======================  =================================================================

Findings come back in the frame's CRS; :meth:`QAResult.to_geojson` writes them in
WGS 84 (RFC 7946).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer

from kosovo_cmr import settings
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.geometry_checks import shape_notes

__all__ = ["CHECKS", "QAResult", "check", "FINDING_COLUMNS"]

#: Finding code -> what it means.
CHECKS: dict[str, str] = {
    "invalid_polygon": "GEOS finds the polygon invalid (reason, and the point it names)",
    "too_few_vertices": "a ring has fewer than 3 distinct vertices",
    "duplicate_polygon": "the same polygon under another id (within the tolerance)",
    "duplicate_id": "another feature has the same id",
    "id_space_case": "ids that differ only by spaces or case",
    "duplicate_vertex": "two turning points of one polygon at the same coordinates",
    "duplicate_point_id": "two turning points of one polygon with the same local id",
    "long_segment": "consecutive turning points farther apart than the threshold",
    "spike": "a vertex angle under settings.spike_max_angle_deg",
    "sliver": "a polygon part thinner than settings.sliver_max_thinness",
    "overlap": "two hazards of the same kind, or two boundary units, overlap",
    "gap": "a hole between boundary units",
}

#: The columns of :attr:`QAResult.findings` (besides ``geometry``).
FINDING_COLUMNS = ("code", "feature_id", "other_id", "message", "distance_m", "area_m2")

_POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass
class QAResult:
    """The findings of :func:`check` on one layer.

    Attributes
    ----------
    layer : str
        The layer the features are for.
    features : int
        How many features were checked.
    findings : geopandas.GeoDataFrame
        One row per finding: :data:`FINDING_COLUMNS` and a point, line or polygon
        geometry in the checked frame's CRS.
    """

    layer: str
    features: int
    findings: gpd.GeoDataFrame

    def counts(self) -> dict[str, int]:
        """Return code -> number of findings, in the order of :data:`CHECKS`."""
        found = self.findings["code"].value_counts()
        return {code: int(found[code]) for code in CHECKS if code in found}

    def to_geojson(self) -> dict:
        """Return the findings as a GeoJSON FeatureCollection in WGS 84 (strict JSON)."""
        if self.findings.empty:
            return {"type": "FeatureCollection", "features": []}
        frame = self.findings.to_crs(4326)
        return json.loads(frame.to_json(na="null", drop_id=True))

    def to_dict(self) -> dict:
        """Return the layer, counts and findings (GeoJSON) as plain values."""
        return {
            "layer": self.layer,
            "features": self.features,
            "counts": self.counts(),
            "findings": self.to_geojson(),
        }

    def summary(self) -> str:
        """Return one line per finding, with its location, after a count line."""
        counts = ", ".join(f"{c} {n}" for c, n in self.counts().items()) or "none"
        lines = [f"QA of {self.features} {self.layer} feature(s): {counts}"]
        for row in self.findings.itertuples():
            lines.append(f"  {row.code} {_where(row.geometry)} {row.feature_id}: {row.message}")
        return "\n".join(lines)


def _where(geom) -> str:
    point = geom if geom.geom_type == "Point" else geom.representative_point()
    return f"at ({point.x:.6f} {point.y:.6f})"


def check(
    frame: gpd.GeoDataFrame,
    *,
    layer: str,
    id_column: str | None = None,
    max_segment_m: float | None = None,
    duplicate_tolerance_m: float | None = None,
    min_area_m2: float | None = None,
) -> QAResult:
    """Run every geocheck-grade check on a layer's features and locate each problem.

    The frame is checked as it was read (before any repair): an invalid polygon is
    reported with GEOS's reason and point. Distances and shapes are measured in
    :data:`kosovo_cmr.settings.metric_crs` (spikes, slivers, duplicate polygons) or on
    the ellipsoid (segment lengths, areas).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The features, with a CRS. Missing geometries are skipped.
    layer : str
        The store layer they are for: ``hazards`` checks overlaps between hazards of
        the same ``kind``, ``boundaries`` overlaps and gaps between all units.
    id_column : str, optional
        The column of feature ids (default: the layer's id column if the frame has it,
        else the row number, 1-based).
    max_segment_m : float, optional
        Default :data:`kosovo_cmr.settings.qa_max_segment_m` (5,000 m, as geocheck).
    duplicate_tolerance_m : float, optional
        Default :data:`kosovo_cmr.settings.qa_duplicate_tolerance_m`.
    min_area_m2 : float, optional
        Overlaps and gaps smaller than this are not reported; default
        :data:`kosovo_cmr.settings.qa_min_area_m2`.

    Returns
    -------
    QAResult

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If the frame has no CRS.

    Examples
    --------
    >>> from shapely.geometry import Polygon
    >>> bowtie = Polygon([(21, 42.5), (21.01, 42.51), (21.01, 42.5), (21, 42.51), (21, 42.5)])
    >>> frame = gpd.GeoDataFrame({"hazard_id": ["HZ-1"]}, geometry=[bowtie], crs=4326)
    >>> r = check(frame, layer="hazards")
    >>> r.counts()  # the two halves of a bow-tie cancel out: area 0, a sliver too
    {'invalid_polygon': 1, 'sliver': 1}
    >>> r.findings.geometry.iloc[0].wkt
    'POINT (21.005 42.505)'
    """
    crs = require_crs(frame, name=layer)
    ids = _ids(frame, layer=layer, id_column=id_column)
    options = {
        "max_segment_m": settings.qa_max_segment_m if max_segment_m is None else max_segment_m,
        "tolerance_m": (
            settings.qa_duplicate_tolerance_m
            if duplicate_tolerance_m is None
            else duplicate_tolerance_m
        ),
        "min_area_m2": settings.qa_min_area_m2 if min_area_m2 is None else min_area_m2,
    }
    geoms = list(frame.geometry.array)
    rows: list[dict] = []
    rows += _id_findings(ids, geoms)
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty or geom.geom_type not in _POLYGONAL:
            continue
        rows += _polygon_findings(ids[i], geom, crs=crs, max_segment_m=options["max_segment_m"])
    if "entered_points" in frame.columns:
        rows += _point_id_findings(ids, list(frame["entered_points"]), crs=crs)
    rows += _duplicate_polygons(ids, geoms, crs=crs, tolerance_m=options["tolerance_m"])
    groups = _overlap_groups(frame, layer=layer)
    for members in groups:
        rows += _overlaps(ids, geoms, members, crs=crs, min_area_m2=options["min_area_m2"])
    if layer == "boundaries":
        rows += _gaps(geoms, crs=crs, min_area_m2=options["min_area_m2"])
    return QAResult(layer=layer, features=len(frame), findings=_frame(rows, crs))


def _frame(rows: list[dict], crs) -> gpd.GeoDataFrame:
    table = pd.DataFrame(rows, columns=[*FINDING_COLUMNS, "geometry"])
    for col in ("distance_m", "area_m2"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    order = {code: k for k, code in enumerate(CHECKS)}
    table = table.assign(_order=table["code"].map(order)).sort_values("_order", kind="stable")
    table = table.drop(columns="_order").reset_index(drop=True)
    return gpd.GeoDataFrame(table, geometry="geometry", crs=crs)


def _finding(code, feature_id, message, geometry, **values) -> dict:
    return {
        "code": code,
        "feature_id": feature_id,
        "other_id": values.get("other_id"),
        "message": message,
        "distance_m": values.get("distance_m"),
        "area_m2": values.get("area_m2"),
        "geometry": geometry,
    }


def _ids(frame: gpd.GeoDataFrame, *, layer: str, id_column: str | None) -> list[str]:
    from kosovo_cmr.schema import SCHEMAS

    column = id_column
    if column is None and layer in SCHEMAS:
        column = SCHEMAS[layer].id_column
    if column is None or column not in frame.columns:
        return [f"row {k + 1}" for k in range(len(frame))]
    return ["" if _missing(v) else str(v) for v in frame[column]]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _anchor(geom):
    if geom is None or geom.is_empty:
        return None
    return geom if geom.geom_type == "Point" else geom.representative_point()


def _id_key(text: str) -> str:
    """Return an id with spaces trimmed and collapsed and its case folded."""
    return " ".join(text.split()).casefold()


def _id_findings(ids: list[str], geoms: list) -> list[dict]:
    """Return ``duplicate_id`` and ``id_space_case`` findings."""
    out = []
    first_exact: dict[str, int] = {}
    first_key: dict[str, int] = {}
    for i, fid in enumerate(ids):
        where = _anchor(geoms[i])
        if not fid or where is None:
            continue
        if fid in first_exact:
            other = ids[first_exact[fid]]
            out.append(_finding("duplicate_id", fid, f"id {fid!r} is also on row "
                                f"{first_exact[fid] + 1}", where, other_id=other))  # fmt: skip
            continue
        first_exact[fid] = i
        key = _id_key(fid)
        if key in first_key:
            other = ids[first_key[key]]
            message = f"id {fid!r} differs from {other!r} only by spaces or case"
            out.append(_finding("id_space_case", fid, message, where, other_id=other))
        else:
            first_key[key] = i
    return out


def _rings(geom):
    parts = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
    for part in parts:
        yield part.exterior
        yield from part.interiors


@dataclass(frozen=True)
class _Frames:
    """Transformers between the checked frame's CRS, the metric CRS and WGS 84."""

    to_metric: Transformer
    from_metric: Transformer
    to_ll: Transformer


def _frames(crs) -> _Frames:
    return _frames_of(CRS.from_user_input(crs).to_wkt())


@lru_cache(maxsize=8)
def _frames_of(wkt: str) -> _Frames:
    crs = CRS.from_wkt(wkt)
    metric = CRS.from_user_input(settings.metric_crs)
    return _Frames(
        Transformer.from_crs(crs, metric, always_xy=True),
        Transformer.from_crs(metric, crs, always_xy=True),
        Transformer.from_crs(crs, 4326, always_xy=True),
    )


def _polygon_findings(fid: str, geom, *, crs, max_segment_m: float) -> list[dict]:
    """Return the findings of one polygon on its own."""
    frames = _frames(crs)
    out = _validity(fid, geom)
    out += _vertex_findings(fid, geom, frames=frames, max_segment_m=max_segment_m)
    metric = shapely.transform(geom, lambda xy: np.column_stack(frames.to_metric.transform(
        xy[:, 0], xy[:, 1])))  # fmt: skip
    for issue in shape_notes(metric):
        x, y = frames.from_metric.transform(*issue.location)
        out.append(_finding(issue.code, fid, issue.detail, shapely.Point(x, y)))
    return out


def _validity(fid: str, geom) -> list[dict]:
    if shapely.is_valid(geom):
        return []
    reason = shapely.is_valid_reason(geom)
    where = _reason_point(reason) or _anchor(geom)
    return [_finding("invalid_polygon", fid, reason, where)]


def _reason_point(reason: str):
    start, end = reason.find("["), reason.find("]")
    if start < 0 or end < start:
        return None
    try:
        x, y = (float(v) for v in reason[start + 1 : end].split()[:2])
    except ValueError:
        return None
    return shapely.Point(x, y)


def _vertex_findings(fid: str, geom, *, frames: _Frames, max_segment_m: float) -> list[dict]:
    """Return too few vertices, duplicate vertices and long segments of each ring."""
    out = []
    geod = Geod(ellps=settings.ellipsoid)
    for ring in _rings(geom):
        xy = np.asarray(ring.coords)[:, :2]
        body = xy[:-1] if len(xy) > 1 and np.array_equal(xy[0], xy[-1]) else xy
        distinct = {tuple(p) for p in body}
        if len(distinct) < 3:
            where = shapely.Point(xy[0]) if len(xy) else _anchor(geom)
            out.append(_finding("too_few_vertices", fid, f"ring of {len(distinct)} distinct "
                                "vertex(es)", where))  # fmt: skip
        out += _repeated(fid, body)
        if len(xy) < 2:
            continue
        lon, lat = frames.to_ll.transform(xy[:, 0], xy[:, 1])
        _, _, dist = geod.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
        for k in np.flatnonzero(np.asarray(dist) > max_segment_m):
            line = shapely.LineString([xy[k], xy[k + 1]])
            message = (
                f"vertices {k + 1} and {k + 2} are {dist[k]:,.0f} m apart (> {max_segment_m:g} m)"
            )
            out.append(_finding("long_segment", fid, message, line, distance_m=float(dist[k])))
    return out


def _repeated(fid: str, body: np.ndarray) -> list[dict]:
    """Return one ``duplicate_vertex`` per coordinate a ring visits more than once."""
    out = []
    seen: dict[tuple, list[int]] = {}
    for k, p in enumerate(map(tuple, body)):
        seen.setdefault(p, []).append(k + 1)
    for p, where in seen.items():
        if len(where) > 1:
            steps = np.diff(where)
            kind = "consecutive " if (steps == 1).any() else ""
            message = f"{kind}vertices {', '.join(map(str, where))} at the same coordinates"
            out.append(_finding("duplicate_vertex", fid, message, shapely.Point(p)))
    return out


def _point_id_findings(ids: list[str], entered: list, *, crs) -> list[dict]:
    """Return ``duplicate_point_id`` from the turning points a table left (JSON)."""
    to_frame = Transformer.from_crs(4326, CRS.from_user_input(crs), always_xy=True)
    out = []
    for fid, text in zip(ids, entered, strict=True):
        if _missing(text) or not str(text).strip():
            continue
        try:
            points = json.loads(text)
        except ValueError:
            continue
        seen: dict[str, str] = {}
        for p in points:
            raw = str(p.get("point_id") or "")
            key = raw.strip()
            if not key:
                continue
            if key in seen and p.get("lon") is not None:
                where = shapely.Point(*to_frame.transform(p["lon"], p["lat"]))
                message = f"turning point id {raw!r} repeats {seen[key]!r}"
                out.append(_finding("duplicate_point_id", fid, message, where, other_id=key))
            seen.setdefault(key, raw)
    return out


def _metric_geoms(geoms: list, crs) -> list:
    series = gpd.GeoSeries(geoms, crs=crs).to_crs(settings.metric_crs)
    return list(series.array)


def _duplicate_polygons(ids, geoms, *, crs, tolerance_m: float) -> list[dict]:
    """Return pairs of polygons under different ids within ``tolerance_m`` of each other."""
    keep = [i for i, g in enumerate(geoms) if g is not None and not g.is_empty
            and g.geom_type in _POLYGONAL]  # fmt: skip
    if len(keep) < 2:
        return []
    metric = _metric_geoms([geoms[i] for i in keep], crs)
    tree = shapely.STRtree(metric)
    bounds = shapely.bounds(metric)
    out = []
    for a, b in np.asarray(tree.query(metric, predicate="dwithin", distance=tolerance_m)).T:
        i, j = keep[a], keep[b]
        if a >= b or ids[i] == ids[j]:
            continue
        if np.abs(bounds[a] - bounds[b]).max() > tolerance_m:
            continue  # outlines within the tolerance have bounds within it: cheap test first
        distance = shapely.hausdorff_distance(metric[a], metric[b])
        if distance <= tolerance_m:
            message = f"same polygon as {ids[j]!r} (outlines {distance:.3f} m apart at most)"
            out.append(_finding("duplicate_polygon", ids[i], message, _anchor(geoms[i]),
                                other_id=ids[j], distance_m=float(distance)))  # fmt: skip
    return out


def _overlap_groups(frame: gpd.GeoDataFrame, *, layer: str) -> list[list[int]]:
    """Return the rows whose overlaps are reported, in groups checked pair by pair."""
    if layer == "boundaries":
        return [list(range(len(frame)))]
    if layer != "hazards":
        return []
    if "kind" not in frame.columns:
        return [list(range(len(frame)))]
    kinds = frame["kind"].astype(str).str.strip().str.upper().to_numpy()
    return [list(np.flatnonzero(kinds == k)) for k in pd.unique(kinds)]


def _valid(geom):
    return geom if shapely.is_valid(geom) else shapely.make_valid(geom, method="structure")


def _overlaps(ids, geoms, members, *, crs, min_area_m2: float) -> list[dict]:
    """Return the overlaps of each pair of polygons of one group, with their area."""
    keep = [i for i in members if geoms[i] is not None and not geoms[i].is_empty
            and geoms[i].geom_type in _POLYGONAL]  # fmt: skip
    if len(keep) < 2:
        return []
    valid = [_valid(geoms[i]) for i in keep]
    tree = shapely.STRtree(valid)
    out = []
    for a, b in np.asarray(tree.query(valid, predicate="intersects")).T:
        if a >= b:
            continue
        shared = _polygonal(shapely.intersection(valid[a], valid[b]))
        if shared is None:
            continue
        area = float(geodesic_area([shared], crs=crs)[0])
        if area < min_area_m2:
            continue
        i, j = keep[a], keep[b]
        message = f"overlaps {ids[j]!r} by {area:,.0f} m2 ({area / 1e6:.2f} km2)"
        out.append(_finding("overlap", ids[i], message, shared, other_id=ids[j], area_m2=area))
    return out


def _polygonal(geom):
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in getattr(geom, "geoms", []) if p.geom_type in _POLYGONAL]
    return shapely.union_all(parts) if parts else None


def _gaps(geoms, *, crs, min_area_m2: float) -> list[dict]:
    """Return the holes inside the union of boundary units that no unit covers."""
    polys = [_valid(g) for g in geoms if g is not None and not g.is_empty
             and g.geom_type in _POLYGONAL]  # fmt: skip
    if not polys:
        return []
    union = _polygonal(shapely.union_all(polys))
    if union is None:
        return []
    holes = [shapely.Polygon(ring) for ring in _holes(union)]
    if not holes:
        return []
    areas = geodesic_area(holes, crs=crs)
    out = []
    for hole, area in zip(holes, areas, strict=True):
        if area >= min_area_m2:
            message = f"a gap of {area:,.0f} m2 between boundary units"
            out.append(_finding("gap", "", message, hole, area_m2=float(area)))
    return out


def _holes(union):
    parts = union.geoms if union.geom_type == "MultiPolygon" else [union]
    for part in parts:
        yield from part.interiors
