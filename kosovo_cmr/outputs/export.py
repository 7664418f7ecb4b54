"""Write layers for GPS units and other GIS: GPX, KML/KMZ, GeoJSON, GeoPackage, Shapefile, CSV.

Every writer takes a layer (a GeoDataFrame with a CRS), writes WGS 84 where the format
says so (GPX, KML, GeoJSON per RFC 7946) and refuses to replace an existing file unless
``overwrite=True``. Nothing is lost on the way:

* **GPX 1.1**: turning points (hazards) and points (evidence, strikes) as waypoints,
  polygon outlines as tracks (one segment per ring); every attribute in the waypoint's or
  track's ``<extensions>`` (namespace :data:`GPX_NS`), the id as ``<name>``.
* **KML / KMZ**: one styled Placemark per feature (CHA, SHA and each release method in
  its own colour), every attribute in ``<ExtendedData>``.
* **GeoJSON**: RFC 7946 (EPSG:4326, right-hand winding, 7 decimals: about 1 cm).
* **Shapefile**: column names cut to 10 characters through an explicit field map, written
  beside the file as ``<name>.fields.json``; a map that makes two names collide is refused.
* **CSV**: the attributes plus a ``wkt`` column (EPSG:4326).
* **GeoPackage**: the layer as is, in its CRS.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError

__all__ = [
    "FORMATS",
    "GPX_NS",
    "export_layer",
    "to_gpx",
    "to_kml",
    "to_kmz",
    "to_geojson",
    "to_gpkg",
    "to_shapefile",
    "to_csv",
    "shapefile_field_map",
]

#: Export formats and their file suffixes.
FORMATS: dict[str, str] = {
    "gpx": ".gpx",
    "kml": ".kml",
    "kmz": ".kmz",
    "geojson": ".geojson",
    "gpkg": ".gpkg",
    "shp": ".shp",
    "csv": ".csv",
}

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


def _check_target(path: Path, overwrite: bool, *, suffixes: tuple[str, ...] = ()) -> None:
    targets = [path] + [path.with_suffix(s) for s in suffixes]
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        raise InputError(f"{existing[0]} exists; pass overwrite=True (--overwrite) to replace it")
    if not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist")
    for p in existing:
        p.unlink()


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


def _wgs84(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    require_crs(gdf, name=name)
    return gdf.to_crs(4326)


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
    ``<id>-TP<n>`` (see :func:`kosovo_cmr.outputs.fieldmap.turning_points`). Every attribute is
    kept in ``<extensions>`` (namespace :data:`GPX_NS`).

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
    _check_target(path, overwrite)
    data = _wgs84(gdf, name)
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
        from kosovo_cmr.outputs.fieldmap import turning_points as tp

        polygonal = data[np.isin(types, ("Polygon", "MultiPolygon"))]
        points = tp(polygonal, id_column=id_col)
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
    data = _wgs84(gdf, name)
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
    _check_target(path, overwrite)
    _write_xml(_kml_document(gdf, name), path)
    return path


def to_kmz(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer as KMZ: :func:`to_kml` zipped as ``doc.kml``."""
    path = Path(path)
    _check_target(path, overwrite)
    root = _kml_document(gdf, name)
    ET.indent(root)
    text = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", text)
    os.replace(tmp, path)
    return path


# --- GDAL formats -------------------------------------------------------------------------------


def to_geojson(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer as GeoJSON per RFC 7946 (EPSG:4326, 7 decimals, right-hand rule)."""
    path = Path(path)
    _check_target(path, overwrite)
    data = _wgs84(gdf, name)
    pyogrio.write_dataframe(
        data, path, driver="GeoJSON", layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"}
    )
    return path


def to_gpkg(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer to a new GeoPackage (its CRS kept), as the table ``name``."""
    path = Path(path)
    _check_target(path, overwrite)
    require_crs(gdf, name=name)
    pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG")
    return path


def shapefile_field_map(columns, field_map: dict[str, str] | None = None) -> dict[str, str]:
    """Return the column -> Shapefile field name map (10 characters at most).

    Names are cut to their first 10 characters unless ``field_map`` says otherwise.

    Parameters
    ----------
    columns : sequence of str
        The layer's attribute columns.
    field_map : dict, optional
        Explicit names for some columns.

    Returns
    -------
    dict

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a given name is longer than 10 characters, or two columns would get the
        same field name (compared without case, as dBASE does).

    Examples
    --------
    >>> shapefile_field_map(["hazard_id", "submunitions"])
    {'hazard_id': 'hazard_id', 'submunitions': 'submunitio'}
    >>> shapefile_field_map(["accuracy_m1", "accuracy_m2"])
    Traceback (most recent call last):
    ...
    kosovo_cmr.errors.InputError: Shapefile field names collide: 'accuracy_m1', 'accuracy_m2' -> 'accuracy_m'; give field_map={column: name}
    """  # noqa: E501
    field_map = dict(field_map or {})
    out = {}
    for column in columns:
        name = field_map.get(column, str(column)[:10])
        if len(name) > 10 or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise InputError(
                f"Shapefile field name {name!r} (for {column!r}) must be 1-10 letters, "
                "digits or underscores"
            )
        out[column] = name
    seen: dict[str, list[str]] = {}
    for column, name in out.items():
        seen.setdefault(name.lower(), []).append(column)
    for cols in seen.values():
        if len(cols) > 1:
            raise InputError(
                "Shapefile field names collide: "
                + ", ".join(repr(c) for c in cols)
                + f" -> {out[cols[0]]!r}; give field_map={{column: name}}"
            )
    return out


def to_shapefile(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    name: str = "layer",
    field_map: dict[str, str] | None = None,
    overwrite=False,
) -> Path:
    """Write a layer as a Shapefile, with an explicit 10-character field map.

    The map (:func:`shapefile_field_map`) is written beside the file as
    ``<name>.fields.json`` ({field: column}) so that the long names can be restored.
    Booleans are written as integers 0/1 and dates as ``YYYY-MM-DD`` text (GDAL writes
    no dBASE boolean, nor a date field from a datetime column).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If two columns would share a field name, or the file exists and not ``overwrite``.
    """
    path = Path(path)
    if path.suffix.lower() != ".shp":
        raise InputError(f"a Shapefile path must end in .shp, got {path.name}")
    sidecars = (".shx", ".dbf", ".prj", ".cpg")
    fields_json = path.with_suffix(".fields.json")
    _check_target(path, overwrite, suffixes=sidecars)
    if fields_json.exists():
        if not overwrite:
            raise InputError(f"{fields_json} exists; pass --overwrite to replace it")
        fields_json.unlink()
    require_crs(gdf, name=name)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    mapping = shapefile_field_map(columns, field_map)
    out = gdf.rename(columns=mapping)
    for column in out.columns:
        if column == out.geometry.name:
            continue
        if pd.api.types.is_bool_dtype(out[column].dtype):
            out[column] = out[column].astype("int32")
        elif pd.api.types.is_datetime64_any_dtype(out[column].dtype):
            text = out[column].dt.strftime("%Y-%m-%d")
            out[column] = text.where(out[column].notna(), None)
    pyogrio.write_dataframe(out, path, driver="ESRI Shapefile", encoding="UTF-8")
    fields_json.write_text(json.dumps({v: k for k, v in mapping.items()}, indent=1))
    return path


def to_csv(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer as CSV: the attributes plus a ``wkt`` column in EPSG:4326."""
    path = Path(path)
    _check_target(path, overwrite)
    data = _wgs84(gdf, name)
    frame = pd.DataFrame(data.drop(columns=data.geometry.name))
    frame["wkt"] = shapely.to_wkt(data.geometry.values, rounding_precision=9, trim=True)
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column].dtype):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    tmp = path.with_name(path.name + ".part")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


_WRITERS = {
    "gpx": to_gpx,
    "kml": to_kml,
    "kmz": to_kmz,
    "geojson": to_geojson,
    "gpkg": to_gpkg,
    "shp": to_shapefile,
    "csv": to_csv,
}


def export_layer(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    name: str = "layer",
    overwrite: bool = False,
) -> Path:
    """Write a layer in one of :data:`FORMATS` (from ``fmt`` or the file suffix).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the format is unknown, or the file exists and ``overwrite`` is false.
    """
    path = Path(path)
    if fmt is None:
        suffix = path.suffix.lower()
        fmt = next((f for f, s in FORMATS.items() if s == suffix), None)
        if fmt is None:
            raise InputError(f"cannot tell the format of {path.name}; give --format")
    if fmt not in _WRITERS:
        raise InputError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return _WRITERS[fmt](gdf, path, name=name, overwrite=overwrite)
