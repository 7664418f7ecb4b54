"""GPS files: GPX 1.1 for handheld units.

(KML and KMZ for Google Earth are in :mod:`kosovo_cmr.outputs.kml`, re-exported here.)

A GPX file carries what a unit shows in the standard elements, and every attribute for
GIS in ``<extensions>``, one element per attribute:

============  ==========================================================================
element       what it holds
============  ==========================================================================
``name``      the feature's id, shortened to :data:`NAME_LENGTH` characters (see
              :func:`short_names`): what a unit shows beside the symbol
``cmt``       the full id and what the team needs at the point (for a turning point:
              bearing and distance to the next one): the comment units show
``desc``      kind, status, ordnance, operator ...; "SYNTHETIC - NOT FOR FIELD USE"
              first for demo data
``sym``       a Garmin symbol name (:data:`SYMBOLS`): skull and crossbones for
              evidence, a red flag for turning points
``type``      the kind (CHA, SHA), release method, evidence item or "turning point"
extensions    ``<kcmr:hazard_id>``, ``<kcmr:found>`` ...: one element per attribute,
              namespace :data:`GPX_NS`; GDAL (and so QGIS) reads each as its own
              field, named ``kcmr_hazard_id``, ``kcmr_found`` ...
============  ==========================================================================

Points become waypoints; polygon outlines become tracks (one ``<trkseg>`` per ring) and
their turning points waypoints named ``<id>-TP<n>``. Nothing is dropped silently: a
feature with an empty geometry is counted and logged (:class:`GpxSummary`), and what a
unit cannot hold is thinned or left out with a notice: an outline of more than
:data:`MAX_TRACK_POINTS` points is thinned within a stated distance, and a polygon with
more than :data:`MAX_TURNING_POINT_WAYPOINTS` turning points keeps its outline but not
its turning-point waypoints. The file is written as it is made (never held whole in
memory) to a temporary file renamed into place.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr._files import atomic_output
from kosovo_cmr._version import __version__
from kosovo_cmr.analysis.turning_points import turning_points as tp_table
from kosovo_cmr.outputs._files import wgs84
from kosovo_cmr.outputs._thin import simplify_bounded
from kosovo_cmr.outputs.gps_names import (
    NAME_LENGTH,
    attribute_text,
    element_names,
    short_names,
)
from kosovo_cmr.outputs.kml import KML_COLOURS, to_kml, to_kmz

log = logging.getLogger(__name__)

__all__ = [
    "GPX_NS",
    "NAME_LENGTH",
    "MAX_TRACK_POINTS",
    "MAX_TURNING_POINT_WAYPOINTS",
    "SYMBOLS",
    "KML_COLOURS",
    "GpxSummary",
    "short_names",
    "write_gpx",
    "to_gpx",
    "to_kml",
    "to_kmz",
]

#: Namespace of the attribute elements in GPX ``<extensions>`` (prefix ``kcmr``).
GPX_NS = "https://kosovo-cmr.readthedocs.io/ns/gpx/1"
_GPX = "http://www.topografix.com/GPX/1/1"

#: Most points written for one track. Garmin handhelds keep 10,000 points in a track log
#: (e.g. the eTrex Legend Cx: "up to 10000 trackpoints"); a longer outline is thinned
#: for the unit (Douglas-Peucker, with the distance it may stray in the notice).
MAX_TRACK_POINTS: int = 10_000

#: Most turning points written as waypoints for one polygon: the whole waypoint memory of
#: older Garmin handhelds (500 on the eTrex Legend Cx). A polygon with more (a digitised
#: or derived outline rather than marked turning points) keeps its outline as a track; its
#: turning points are left out of the waypoints with a notice (the field sheet lists them).
MAX_TURNING_POINT_WAYPOINTS: int = 500

#: Garmin symbol names (``<sym>``) by what a waypoint marks.
SYMBOLS: dict[str, str] = {
    "evidence": "Skull and Crossbones",
    "turning point": "Flag, Red",
    "strikes": "Danger Area",
    "hazards": "Danger Area",
    "default": "Waypoint",
}

_SYNTHETIC = "SYNTHETIC - NOT FOR FIELD USE"
# characters XML 1.0 cannot carry
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class GpxSummary:
    """What :func:`write_gpx` wrote, and what it could not."""

    path: Path
    features: int = 0
    waypoints: int = 0
    tracks: int = 0
    track_points: int = 0
    #: Ids (or row numbers) of the features with no geometry: counted, not written.
    empty: list[str] = field(default_factory=list)
    shortened_names: int = 0
    #: One line per change made for the units (thinned outlines, left-out turning
    #: points, renamed columns, replaced characters).
    notices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Return the summary as plain JSON-ready values."""
        return {
            "path": str(self.path),
            "features": self.features,
            "waypoints": self.waypoints,
            "tracks": self.tracks,
            "track_points": self.track_points,
            "empty_geometries": len(self.empty),
            "empty_ids": list(self.empty),
            "shortened_names": self.shortened_names,
            "notices": list(self.notices),
        }

    def line(self) -> str:
        """One line for a person: what was written, and the empty geometries."""
        text = (
            f"{self.path}: {self.waypoints:,} waypoints, {self.tracks:,} tracks "
            f"({self.track_points:,} track points) from {self.features:,} features"
        )
        if self.empty:
            shown = ", ".join(self.empty[:5]) + (" ..." if len(self.empty) > 5 else "")
            text += f"; {len(self.empty)} with an empty geometry not written ({shown})"
        return text


# --- attributes -----------------------------------------------------------------------------


def _column_texts(gdf: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """Each attribute column as text, a column at a time."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    return {str(c): [attribute_text(v) for v in gdf[c].tolist()] for c in columns}


def _describe(attrs: dict[str, str]) -> str:
    keys = ("kind", "status", "item", "ordnance", "method", "munition", "operator")
    parts = [f"{k}={attrs[k]}" for k in keys if attrs.get(k)]
    if attrs.get("synthetic") == "true":
        parts.insert(0, _SYNTHETIC)
    return "; ".join(parts)


def _id_column(gdf: gpd.GeoDataFrame) -> str | None:
    for column in gdf.columns:
        if str(column).endswith("_id"):
            return column
    return None


# --- the features as GPX records -------------------------------------------------------------


@dataclass
class _Record:
    """One waypoint (``rings`` None) or track, before its name is shortened."""

    name: str
    cmt: str
    desc: str
    type: str
    ext: list[tuple[str, str]]
    lon: float = 0.0
    lat: float = 0.0
    sym: str = ""
    rings: list[np.ndarray] | None = None


class _Builder:
    """Turns a layer (EPSG:4326, no empty geometry) into waypoint and track records."""

    def __init__(self, data, *, layer, labels, texts, elements, summary, limits):
        self.data, self.layer, self.labels = data, layer, labels
        self.texts, self.elements, self.summary = texts, elements, summary
        self.max_track_points, self.max_tps = limits
        self.id_col = _id_column(data)

    def attrs(self, i: int) -> dict[str, str]:
        return {c: values[i] for c, values in self.texts.items()}

    def ext(self, attrs: dict[str, str]) -> list[tuple[str, str]]:
        return [(self.elements[c], v) for c, v in attrs.items()]

    def point_records(self, i: int, geom) -> Iterator[_Record]:
        a, label = self.attrs(i), self.labels[i]
        comment = label
        if self.id_col != "hazard_id" and a.get("hazard_id"):
            comment += f" (hazard {a['hazard_id']})"
        kind = a.get("kind") or a.get("method") or a.get("item") or self.layer
        sym = SYMBOLS.get(self.layer, SYMBOLS["default"])
        for point in getattr(geom, "geoms", [geom]):
            yield _Record(label, comment, _describe(a), kind, self.ext(a), point.x, point.y, sym)

    def track_record(self, i: int, geom) -> _Record:
        a, label = self.attrs(i), self.labels[i]
        rings = _rings(geom)
        n = sum(len(r) for r in rings)
        if self.max_track_points and n > self.max_track_points:
            rings = self._thin(label, geom, n)
        comment = " ".join(x for x in (label, a.get("kind"), a.get("status")) if x)
        kind = a.get("kind") or a.get("method") or self.layer
        return _Record(label, comment, _describe(a), kind, self.ext(a), rings=rings)

    def _thin(self, label: str, geom, n: int) -> list[np.ndarray]:
        metric = gpd.GeoSeries([geom], crs=4326).to_crs(settings.metric_crs).iloc[0]
        tolerance = 0.05
        while True:
            thin, _ = simplify_bounded([metric], tolerance)
            ll = gpd.GeoSeries(thin, crs=settings.metric_crs).to_crs(4326).iloc[0]
            rings = _rings(ll)
            m = sum(len(r) for r in rings)
            if m <= self.max_track_points or tolerance > 10_000:
                break
            tolerance *= 2
        self.summary.notices.append(
            f"{label}: outline thinned from {n:,} to {m:,} track points, within "
            f"{tolerance:g} m of the stored outline (a unit keeps {self.max_track_points:,} "
            "points per track)"
        )
        return rings

    def turning_point_table(self, rows: np.ndarray) -> pd.DataFrame | None:
        """Return the turning points of the polygons ``rows`` that a unit can hold."""
        keep = []
        for r in rows:
            n = _exterior_vertices(self.data.geometry.values[r])
            if self.max_tps and n > self.max_tps:
                self.summary.notices.append(
                    f"{self.labels[r]}: {n:,} turning points, more than the "
                    f"{self.max_tps:,} waypoints a unit holds for one area: its outline "
                    "is written as a track, its turning points not as waypoints (the "
                    "field sheet lists them)"
                )
            else:
                keep.append(r)
        if not keep:
            return None
        polys = self.data.iloc[keep].assign(_label=[self.labels[r] for r in keep])
        table = tp_table(polys, id_column="_label")
        synthetic = self.texts.get("synthetic")
        flags = {self.labels[r]: synthetic[r] == "true" for r in keep} if synthetic else {}
        return table.assign(synthetic=[flags.get(f, False) for f in table["feature_id"]])

    def turning_point_records(self, table: pd.DataFrame) -> Iterator[_Record]:
        id_name = self.elements.get(self.id_col, "feature") if self.id_col else "feature"
        for row in table.itertuples(index=False):
            fid, tp = row.feature_id, row.label
            ext = [(id_name, fid), ("turning_point", tp),
                   ("bearing_deg", f"{row.bearing_deg:.1f}"),
                   ("distance_m", f"{row.distance_m:.1f}")]  # fmt: skip
            desc = f"turning point {tp} of {fid}"
            if row.synthetic:
                ext.append(("synthetic", "true"))
                desc = f"{_SYNTHETIC}; {desc}"
            yield _Record(
                f"{fid}-{tp}",
                f"{fid} {tp}: {row.bearing_deg:.1f} deg true, {row.distance_m:.1f} m to next",
                desc,
                "turning point",
                ext,
                row.lon,
                row.lat,
                SYMBOLS["turning point"],
            )


def _exterior_vertices(geom) -> int:
    parts = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type == "Polygon"]
    return sum(len(p.exterior.coords) - 1 for p in parts)


def _rings(geom) -> list[np.ndarray]:
    """Every ring (exterior then interiors, polygon by polygon) or line as coordinates."""
    out = []
    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type == "Polygon":
            out.append(np.asarray(part.exterior.coords)[:, :2])
            out.extend(np.asarray(r.coords)[:, :2] for r in part.interiors)
        elif part.geom_type == "LineString":
            out.append(np.asarray(part.coords)[:, :2])
    return out


# --- writing ----------------------------------------------------------------------------------


class _Text:
    """XML text: escaped, with the characters XML cannot carry replaced (and counted)."""

    def __init__(self):
        self.replaced = 0

    def __call__(self, value: str) -> str:
        text, n = _NOT_XML.subn("\ufffd", value)
        self.replaced += n
        return escape(text)


def _extensions(ext: list[tuple[str, str]], text: _Text) -> str:
    inner = "".join(f"<kcmr:{k}>{text(v)}</kcmr:{k}>" for k, v in ext)
    return f"<extensions>{inner}</extensions>"


def _wpt_xml(rec: _Record, name: str, text: _Text) -> str:
    parts = [f'<wpt lat="{rec.lat:.8f}" lon="{rec.lon:.8f}">', f"<name>{text(name)}</name>"]
    parts += [f"<{tag}>{text(value)}</{tag}>" for tag, value in
              (("cmt", rec.cmt), ("desc", rec.desc), ("sym", rec.sym), ("type", rec.type))
              if value]  # fmt: skip
    parts += [_extensions(rec.ext, text), "</wpt>\n"]
    return "".join(parts)


def _trk_xml(rec: _Record, name: str, text: _Text) -> Iterator[str]:
    head = [f"<trk><name>{text(name)}</name>"]
    head += [f"<{tag}>{text(value)}</{tag}>" for tag, value in
             (("cmt", rec.cmt), ("desc", rec.desc), ("type", rec.type)) if value]  # fmt: skip
    yield "".join(head) + _extensions(rec.ext, text) + "\n"
    for ring in rec.rings:
        points = "".join(f'<trkpt lat="{y:.8f}" lon="{x:.8f}"/>' for x, y in ring)
        yield f"<trkseg>{points}</trkseg>\n"
    yield "</trk>\n"


def _header(name: str, synthetic: bool, text: _Text) -> str:
    creator = quoteattr(f"kosovo_cmr {__version__}")
    desc = f"<desc>{_SYNTHETIC}: synthetic demo data, not real hazards</desc>" if synthetic else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<gpx xmlns="{_GPX}" xmlns:kcmr="{GPX_NS}" version="1.1" creator={creator}>\n'
        f"<metadata><name>{text(name)}</name>{desc}</metadata>\n"
    )


def _labels(data: gpd.GeoDataFrame) -> list[str]:
    """Each feature's id (its ``*_id`` column), or its row number from 1."""
    id_col = _id_column(data)
    if id_col is None:
        return [str(i + 1) for i in range(len(data))]
    return [t or str(i + 1) for i, t in enumerate(attribute_text(v) for v in data[id_col].tolist())]


def _point_names(builder: _Builder) -> Iterator[str]:
    kinds = builder.data.geom_type.to_numpy()
    for i, geom in enumerate(builder.data.geometry.values):
        if kinds[i] == "Point":
            yield builder.labels[i]
        elif kinds[i] == "MultiPoint":
            yield from [builder.labels[i]] * len(geom.geoms)


def _track_rows(builder: _Builder) -> np.ndarray:
    return np.flatnonzero(~builder.data.geom_type.isin(["Point", "MultiPoint"]).to_numpy())


def _write(fh, builder: _Builder, tps, names: list[str], summary: GpxSummary) -> _Text:
    """Write every waypoint, then every track, record by record."""
    text = _Text()
    names = iter(names)
    kinds = builder.data.geom_type.to_numpy()
    geoms = builder.data.geometry.values
    for i in np.flatnonzero(np.isin(kinds, ("Point", "MultiPoint"))):
        for rec in builder.point_records(i, geoms[i]):
            fh.write(_wpt_xml(rec, next(names), text))
            summary.waypoints += 1
    if tps is not None:
        for rec in builder.turning_point_records(tps):
            fh.write(_wpt_xml(rec, next(names), text))
            summary.waypoints += 1
    for i in _track_rows(builder):
        rec = builder.track_record(i, geoms[i])
        for chunk in _trk_xml(rec, next(names), text):
            fh.write(chunk)
        summary.tracks += 1
        summary.track_points += sum(len(r) for r in rec.rings)
    return text


def write_gpx(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    name: str = "layer",
    turning_points: bool = True,
    name_length: int | None = NAME_LENGTH,
    max_track_points: int | None = MAX_TRACK_POINTS,
    max_turning_points: int | None = MAX_TURNING_POINT_WAYPOINTS,
    overwrite: bool = False,
) -> GpxSummary:
    """Write a layer as GPX 1.1 (WGS 84) and say what was written.

    Points become waypoints; polygon outlines tracks (one ``<trkseg>`` per ring, closed)
    and, with ``turning_points``, their turning points waypoints named ``<id>-TP<n>``
    (see :func:`kosovo_cmr.analysis.turning_points.turning_points`). What each element
    holds is in the module's table.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer, with a CRS.
    path : path
        The ``.gpx`` file (written through a temporary file beside it).
    name : str, optional
        The layer's name: the GPX ``<metadata><name>``, and what picks the symbol of
        point layers (``evidence``, ``strikes``).
    turning_points : bool, default True
        Also write polygons' turning points as waypoints.
    name_length : int or None, default :data:`NAME_LENGTH`
        Longest ``<name>`` (see :func:`short_names`); None or 0 keeps full names.
    max_track_points : int or None, default :data:`MAX_TRACK_POINTS`
        Thin an outline of more points than this (None: never).
    max_turning_points : int or None, default :data:`MAX_TURNING_POINT_WAYPOINTS`
        Leave out the turning-point waypoints of a polygon with more (None: never).
    overwrite : bool, default False
        Replace ``path`` if it exists.

    Returns
    -------
    GpxSummary
        Counts, the ids of the features with an empty geometry (nothing to write; also
        logged as a warning), and one notice per change made for the units (logged too).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``path`` exists and not ``overwrite``; :class:`~kosovo_cmr.errors.CRSError`
        if the layer has no CRS.
    """
    path = Path(path)
    data = wgs84(gdf, name)
    summary = GpxSummary(path=path, features=len(data))
    labels = _labels(data)
    empty = (data.geometry.isna() | data.geometry.is_empty).to_numpy()
    summary.empty = [labels[i] for i in np.flatnonzero(empty)]
    data = data[~empty]
    labels = [label for label, e in zip(labels, empty, strict=True) if not e]
    elements = element_names(c for c in data.columns if c != data.geometry.name)
    renamed = [f"{c!r} as <kcmr:{e}>" for c, e in elements.items() if c != e]
    if renamed:
        summary.notices.append("columns written under XML names: " + ", ".join(renamed))
    builder = _Builder(
        data, layer=name, labels=labels, texts=_column_texts(data), elements=elements,
        summary=summary, limits=(max_track_points, max_turning_points),
    )  # fmt: skip
    polygons = np.flatnonzero(data.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy())
    tps = builder.turning_point_table(polygons) if turning_points and len(polygons) else None
    full = list(_point_names(builder))
    if tps is not None:
        full += [f"{f}-{t}" for f, t in zip(tps["feature_id"], tps["label"], strict=True)]
    full += [labels[i] for i in _track_rows(builder)]
    names = short_names(full, length=name_length)
    summary.shortened_names = sum(a != b for a, b in zip(full, names, strict=True))
    synthetic = "synthetic" in builder.texts and "true" in builder.texts["synthetic"]
    with atomic_output(path, overwrite=overwrite) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            text = _Text()
            fh.write(_header(name, synthetic, text))
            replaced = _write(fh, builder, tps, names, summary).replaced + text.replaced
            fh.write("</gpx>\n")
    if replaced:
        summary.notices.append(
            f"{replaced} character(s) XML cannot carry (control characters) written as U+FFFD"
        )
    _report(summary)
    return summary


def _report(summary: GpxSummary) -> None:
    if summary.empty:
        log.warning(
            "%d feature(s) with an empty geometry not written to %s: %s",
            len(summary.empty), summary.path.name, ", ".join(summary.empty),
        )  # fmt: skip
    for notice in summary.notices:
        log.warning("%s", notice)


def to_gpx(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    name: str = "layer",
    turning_points: bool = True,
    name_length: int | None = NAME_LENGTH,
    overwrite: bool = False,
) -> Path:
    """Write a layer as GPX 1.1 (WGS 84); see :func:`write_gpx`.

    :func:`write_gpx` also returns what was written.

    Returns
    -------
    pathlib.Path
    """
    return write_gpx(
        gdf, path, name=name, turning_points=turning_points, name_length=name_length,
        overwrite=overwrite,
    ).path  # fmt: skip
