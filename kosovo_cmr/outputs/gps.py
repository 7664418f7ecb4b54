"""Write layers for GPS units and Google Earth: GPX 1.1, KML 2.2 and KMZ (WGS 84).

* **GPX 1.1**: turning points (hazards) and points (evidence, strikes) as waypoints,
  polygon outlines as tracks (one segment per ring); every attribute in the waypoint's or
  track's ``<extensions>`` (namespace :data:`GPX_NS`), the id as ``<name>``.
* **KML / KMZ**: one styled Placemark per feature (CHA, SHA and each release method in
  its own colour), every attribute in ``<ExtendedData>``.

Like every writer of :mod:`kosovo_cmr.outputs.export`, these refuse to replace an
existing file unless ``overwrite=True``.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr.analysis.turning_points import turning_points as tp_table
from kosovo_cmr.outputs._files import check_target, wgs84

__all__ = ["GPX_NS", "KML_COLOURS", "to_gpx", "to_kml", "to_kmz"]

#: Namespace of the attribute elements in GPX ``<extensions>``.
GPX_NS = "https://kosovo-cmr.readthedocs.io/ns/gpx/1"
_GPX = "http://www.topografix.com/GPX/1/1"
_KML = "http://www.opengis.net/kml/2.2"

#: KML colours (aabbggrr) by kind or release method; others use ``default``.
KML_COLOURS = {
    "CHA": "d7191c",
    "SHA": "fd8d3c",
    "clearance": "1a9641",
    "reduction_ts": "2c7fb8",
    "cancellation_nts": "984ea3",
    "default": "636363",
}


def _attr_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.strftime("%Y-%m-%d")
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def _attributes(gdf: gpd.GeoDataFrame) -> list[dict[str, str]]:
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    return [
        {str(c): _attr_text(v) for c, v in zip(columns, row, strict=True)}
        for row in gdf[columns].itertuples(index=False)
    ]


def _id_column(gdf: gpd.GeoDataFrame) -> str | None:
    for column in gdf.columns:
        if str(column).endswith("_id"):
            return column
    return None


def _write_xml(root: ET.Element, path: Path) -> None:
    ET.indent(root)
    tmp = path.with_name(path.name + ".part")
    ET.ElementTree(root).write(tmp, encoding="UTF-8", xml_declaration=True)
    os.replace(tmp, path)


# --- GPX -------------------------------------------------------------------------------------


def _gpx_extensions(parent: ET.Element, attrs: dict[str, str]) -> None:
    ext = ET.SubElement(parent, f"{{{_GPX}}}extensions")
    for key, value in attrs.items():
        ET.SubElement(ext, f"{{{GPX_NS}}}attr", {"name": key}).text = value


def _gpx_wpt(parent, lon: float, lat: float, name: str, desc: str, attrs: dict) -> None:
    wpt = ET.SubElement(parent, f"{{{_GPX}}}wpt", {"lat": f"{lat:.8f}", "lon": f"{lon:.8f}"})
    ET.SubElement(wpt, f"{{{_GPX}}}name").text = name
    if desc:
        ET.SubElement(wpt, f"{{{_GPX}}}desc").text = desc
    _gpx_extensions(wpt, attrs)


def to_gpx(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    name: str = "layer",
    turning_points: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write a layer as GPX 1.1 (WGS 84).

    Points become waypoints. Polygons become tracks (one ``<trkseg>`` per ring, closed)
    and, with ``turning_points``, their turning points become waypoints named
    ``<id>-TP<n>`` (see :func:`kosovo_cmr.analysis.turning_points.turning_points`).
    Every attribute is kept in ``<extensions>`` (namespace :data:`GPX_NS`).

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer, with a CRS.
    path : path
        The ``.gpx`` file.
    name : str, optional
        The layer's name, written as the GPX ``<metadata><name>``.
    turning_points : bool, default True
        Also write polygons' turning points as waypoints.
    overwrite : bool, default False
        Replace ``path`` if it exists.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    check_target(path, overwrite)
    data = wgs84(gdf, name)
    data = data[~data.geometry.isna() & ~data.geometry.is_empty]
    ET.register_namespace("", _GPX)
    ET.register_namespace("kcmr", GPX_NS)
    root = ET.Element(
        f"{{{_GPX}}}gpx",
        {
            "version": "1.1",
            "creator": "kosovo_cmr",
        },
    )
    meta = ET.SubElement(root, f"{{{_GPX}}}metadata")
    ET.SubElement(meta, f"{{{_GPX}}}name").text = name
    id_col = _id_column(data)
    attrs = _attributes(data)
    types = data.geom_type.to_numpy()
    tracks = []
    for i, geom in enumerate(data.geometry.values):
        label = attrs[i].get(id_col, str(i + 1)) if id_col else str(i + 1)
        if types[i] in ("Point", "MultiPoint"):
            for point in getattr(geom, "geoms", [geom]):
                _gpx_wpt(root, point.x, point.y, label, _describe(attrs[i]), attrs[i])
        else:
            tracks.append((label, geom, attrs[i]))
    if turning_points and tracks:
        polygonal = data[np.isin(types, ("Polygon", "MultiPolygon"))]
        points = tp_table(polygonal, id_column=id_col)
        for row in points.itertuples(index=False):
            extra = {
                "feature": str(row.feature_id),
                "point": row.label,
                "bearing_deg": f"{row.bearing_deg:.1f}",
                "distance_m": f"{row.distance_m:.1f}",
            }
            _gpx_wpt(
                root,
                row.lon,
                row.lat,
                f"{row.feature_id}-{row.label}",
                f"turning point {row.label} of {row.feature_id}",
                extra,
            )
    for label, geom, attributes in tracks:
        trk = ET.SubElement(root, f"{{{_GPX}}}trk")
        ET.SubElement(trk, f"{{{_GPX}}}name").text = label
        desc = _describe(attributes)
        if desc:
            ET.SubElement(trk, f"{{{_GPX}}}desc").text = desc
        _gpx_extensions(trk, attributes)
        for ring in _rings(geom):
            seg = ET.SubElement(trk, f"{{{_GPX}}}trkseg")
            for x, y in ring:
                ET.SubElement(seg, f"{{{_GPX}}}trkpt", {"lat": f"{y:.8f}", "lon": f"{x:.8f}"})
    _write_xml(root, path)
    return path


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


def _describe(attrs: dict[str, str]) -> str:
    keys = ("kind", "status", "item", "ordnance", "method", "munition", "operator", "synthetic")
    parts = [f"{k}={attrs[k]}" for k in keys if attrs.get(k)]
    if attrs.get("synthetic") == "true":
        parts.insert(0, "SYNTHETIC - NOT FOR FIELD USE")
    return "; ".join(parts)


# --- KML / KMZ --------------------------------------------------------------------------------


def _kml_coords(coords: np.ndarray) -> str:
    return " ".join(f"{x:.8f},{y:.8f}" for x, y in coords[:, :2])


def _kml_geometry(parent: ET.Element, geom) -> None:
    kind = geom.geom_type
    if kind.startswith("Multi") or kind == "GeometryCollection":
        multi = ET.SubElement(parent, f"{{{_KML}}}MultiGeometry")
        for part in geom.geoms:
            _kml_geometry(multi, part)
    elif kind == "Point":
        point = ET.SubElement(parent, f"{{{_KML}}}Point")
        ET.SubElement(point, f"{{{_KML}}}coordinates").text = f"{geom.x:.8f},{geom.y:.8f}"
    elif kind == "LineString":
        line = ET.SubElement(parent, f"{{{_KML}}}LineString")
        ET.SubElement(line, f"{{{_KML}}}coordinates").text = _kml_coords(np.asarray(geom.coords))
    elif kind == "Polygon":
        poly = ET.SubElement(parent, f"{{{_KML}}}Polygon")
        oriented = shapely.orient_polygons(geom, exterior_cw=False)
        rings = [("outerBoundaryIs", oriented.exterior)] + [
            ("innerBoundaryIs", r) for r in oriented.interiors
        ]
        for tag, ring in rings:
            boundary = ET.SubElement(poly, f"{{{_KML}}}{tag}")
            lr = ET.SubElement(boundary, f"{{{_KML}}}LinearRing")
            ET.SubElement(lr, f"{{{_KML}}}coordinates").text = _kml_coords(np.asarray(ring.coords))


def _kml_document(gdf: gpd.GeoDataFrame, name: str) -> ET.Element:
    data = wgs84(gdf, name)
    ET.register_namespace("", _KML)
    root = ET.Element(f"{{{_KML}}}kml")
    doc = ET.SubElement(root, f"{{{_KML}}}Document")
    ET.SubElement(doc, f"{{{_KML}}}name").text = name
    attrs = _attributes(data)
    if any(a.get("synthetic") == "true" for a in attrs):
        ET.SubElement(
            doc, f"{{{_KML}}}description"
        ).text = "SYNTHETIC DEMO DATA - not real hazards - NOT FOR FIELD USE"
    for key, rgb in KML_COLOURS.items():
        style = ET.SubElement(doc, f"{{{_KML}}}Style", {"id": f"kcmr-{key}"})
        bgr = rgb[4:6] + rgb[2:4] + rgb[0:2]
        icon = ET.SubElement(style, f"{{{_KML}}}IconStyle")
        ET.SubElement(icon, f"{{{_KML}}}color").text = f"ff{bgr}"
        line = ET.SubElement(style, f"{{{_KML}}}LineStyle")
        ET.SubElement(line, f"{{{_KML}}}color").text = f"ff{bgr}"
        ET.SubElement(line, f"{{{_KML}}}width").text = "2"
        poly = ET.SubElement(style, f"{{{_KML}}}PolyStyle")
        ET.SubElement(poly, f"{{{_KML}}}color").text = f"66{bgr}"
    id_col = _id_column(data)
    for i, geom in enumerate(data.geometry.values):
        a = attrs[i]
        placemark = ET.SubElement(doc, f"{{{_KML}}}Placemark")
        ET.SubElement(placemark, f"{{{_KML}}}name").text = a.get(id_col, str(i + 1))
        desc = _describe(a)
        if desc:
            ET.SubElement(placemark, f"{{{_KML}}}description").text = desc
        key = a.get("kind") or a.get("method") or "default"
        key = key if key in KML_COLOURS else "default"
        ET.SubElement(placemark, f"{{{_KML}}}styleUrl").text = f"#kcmr-{key}"
        extended = ET.SubElement(placemark, f"{{{_KML}}}ExtendedData")
        for column, value in a.items():
            data_el = ET.SubElement(extended, f"{{{_KML}}}Data", {"name": column})
            ET.SubElement(data_el, f"{{{_KML}}}value").text = value
        if geom is not None and not geom.is_empty:
            _kml_geometry(placemark, geom)
    return root


def to_kml(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer as KML 2.2 (WGS 84) with styled placemarks.

    Each feature is a Placemark named by its id, styled by ``kind`` (CHA, SHA) or
    ``method`` (release), with every attribute in ``<ExtendedData>``. Polygons are
    written counter-clockwise, as KML asks.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer, with a CRS.
    path : path
        The ``.kml`` file.
    name : str, optional
        The document's name.
    overwrite : bool, default False
        Replace ``path`` if it exists.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    check_target(path, overwrite)
    _write_xml(_kml_document(gdf, name), path)
    return path


def to_kmz(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer as KMZ: :func:`to_kml` zipped as ``doc.kml``."""
    path = Path(path)
    check_target(path, overwrite)
    root = _kml_document(gdf, name)
    ET.indent(root)
    text = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", text)
    os.replace(tmp, path)
    return path
