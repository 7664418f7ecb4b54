"""KML 2.2 and KMZ for Google Earth (WGS 84): one styled Placemark per feature.

CHA, SHA and each release method have their own colour (:data:`KML_COLOURS`); every
attribute is kept in ``<ExtendedData>``. KML clients render a placemark's
``<description>`` as HTML in its balloon, so the description is HTML-escaped text
(:func:`kosovo_cmr._escape.html_text`): an ``<img onerror=...>`` in an operator's name
shows as text and runs nothing. Each style's ``<BalloonStyle>`` shows that description
alone, so no other text (the name, the ExtendedData table Google Earth would otherwise
draw) reaches the balloon as markup.

The files are written through a temporary file beside the target and renamed into place
(:func:`kosovo_cmr._files.atomic_output`).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import shapely

from kosovo_cmr._escape import html_text
from kosovo_cmr._files import atomic_output
from kosovo_cmr.outputs._files import wgs84
from kosovo_cmr.outputs.gps_names import attribute_text

__all__ = ["KML_COLOURS", "kml_attributes", "to_kml", "to_kmz"]

_KML = "http://www.opengis.net/kml/2.2"

#: KML colours (rrggbb; written as aabbggrr) by kind or release method; others use
#: ``default``.
KML_COLOURS = {
    "CHA": "d7191c",
    "SHA": "fd8d3c",
    "clearance": "1a9641",
    "reduction_ts": "2c7fb8",
    "cancellation_nts": "984ea3",
    "default": "636363",
}

_SYNTHETIC = "SYNTHETIC DEMO DATA - not real hazards - NOT FOR FIELD USE"


def kml_attributes(gdf: gpd.GeoDataFrame) -> list[dict[str, str]]:
    """Return each feature's attributes as the text written to ``<ExtendedData>``.

    Dates as ``YYYY-MM-DD``, booleans as ``true``/``false``, missing values as "".
    """
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    return [
        {str(c): attribute_text(v) for c, v in zip(columns, row, strict=True)}
        for row in gdf[columns].itertuples(index=False)
    ]


def _id_column(gdf: gpd.GeoDataFrame) -> str | None:
    for column in gdf.columns:
        if str(column).endswith("_id"):
            return column
    return None


def _description(label: str, attrs: dict[str, str]) -> str:
    """Return the balloon text, HTML-escaped: the id, then kind, status ...."""
    keys = ("kind", "status", "item", "ordnance", "method", "munition", "operator")
    parts = [f"{k}={attrs[k]}" for k in keys if attrs.get(k)]
    if attrs.get("synthetic") == "true":
        parts.insert(0, "SYNTHETIC - NOT FOR FIELD USE")
    return html_text(f"{label}: " + "; ".join(parts) if parts else label)


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


def _styles(doc: ET.Element) -> None:
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
        balloon = ET.SubElement(style, f"{{{_KML}}}BalloonStyle")
        ET.SubElement(balloon, f"{{{_KML}}}text").text = "$[description]"


def _kml_document(gdf: gpd.GeoDataFrame, name: str) -> ET.Element:
    data = wgs84(gdf, name)
    ET.register_namespace("", _KML)
    root = ET.Element(f"{{{_KML}}}kml")
    doc = ET.SubElement(root, f"{{{_KML}}}Document")
    ET.SubElement(doc, f"{{{_KML}}}name").text = name
    attrs = kml_attributes(data)
    if any(a.get("synthetic") == "true" for a in attrs):
        ET.SubElement(doc, f"{{{_KML}}}description").text = html_text(_SYNTHETIC)
    _styles(doc)
    id_col = _id_column(data)
    for i, geom in enumerate(data.geometry.values):
        a = attrs[i]
        label = (a.get(id_col) or str(i + 1)) if id_col else str(i + 1)
        placemark = ET.SubElement(doc, f"{{{_KML}}}Placemark")
        ET.SubElement(placemark, f"{{{_KML}}}name").text = label
        ET.SubElement(placemark, f"{{{_KML}}}description").text = _description(label, a)
        key = a.get("kind") or a.get("method") or "default"
        key = key if key in KML_COLOURS else "default"
        ET.SubElement(placemark, f"{{{_KML}}}styleUrl").text = f"#kcmr-{key}"
        extended = ET.SubElement(placemark, f"{{{_KML}}}ExtendedData")
        for column, value in a.items():
            data_el = ET.SubElement(extended, f"{{{_KML}}}Data", {"name": column})
            ET.SubElement(data_el, f"{{{_KML}}}value").text = value
        if geom is not None and not geom.is_empty:
            _kml_geometry(placemark, geom)
    ET.indent(root)
    return root


def to_kml(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer as KML 2.2 (WGS 84) with styled placemarks.

    Each feature is a Placemark named by its id, styled by ``kind`` (CHA, SHA) or
    ``method`` (release), with every attribute in ``<ExtendedData>`` and an
    HTML-escaped ``<description>`` (see the module). Polygons are written
    counter-clockwise, as KML asks.

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
    root = _kml_document(gdf, name)
    with atomic_output(path, overwrite=overwrite) as tmp:
        ET.ElementTree(root).write(tmp, encoding="UTF-8", xml_declaration=True)
    return Path(path)


def to_kmz(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer as KMZ: :func:`to_kml` zipped as ``doc.kml``."""
    text = ET.tostring(_kml_document(gdf, name), encoding="UTF-8", xml_declaration=True)
    with atomic_output(path, overwrite=overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("doc.kml", text)
    return Path(path)
