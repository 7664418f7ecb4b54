"""Write layers for GPS units and other GIS: GPX, KML/KMZ, GeoJSON, GeoPackage, Shapefile, CSV.

:func:`export_layer` writes any of :data:`FORMATS`, chosen by name or file suffix. Every
writer takes a layer (a GeoDataFrame with a CRS), writes WGS 84 where the format says so
(GPX, KML, GeoJSON per RFC 7946) and refuses to replace an existing file unless
``overwrite=True``. Nothing is lost on the way:

* **GPX 1.1, KML / KMZ**: for GPS units and Google Earth, see
  :mod:`kosovo_cmr.outputs.gps`.
* **GeoJSON**: RFC 7946 (EPSG:4326, right-hand winding, 7 decimals: about 1 cm).
* **Shapefile**: column names cut to 10 characters through an explicit field map, written
  beside the file as ``<name>.fields.json``; a map that makes two names collide is refused.
* **CSV**: the attributes plus a ``wkt`` column (EPSG:4326).
* **GeoPackage**: the layer as is, in its CRS.

Every file is written to a temporary file beside the target and renamed over it
(:func:`kosovo_cmr._files.atomic_output`; a Shapefile's sidecars with it), so a kill or
a full disk leaves the previous file as it was. CSV values that start like a formula
(``=``, ``+``, ``-``, ``@``) get a leading single quote
(:func:`kosovo_cmr._escape.spreadsheet_frame`), so that a spreadsheet shows them as
text.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from kosovo_cmr._escape import spreadsheet_frame
from kosovo_cmr._files import atomic_output
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs._files import wgs84
from kosovo_cmr.outputs.entered_points import to_turning_points  # issue 16
from kosovo_cmr.outputs.filegdb import to_filegdb  # issue 16
from kosovo_cmr.outputs.gps import to_gpx, to_kml, to_kmz

__all__ = [
    "FORMATS",
    "export_layer",
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
    "gdb": ".gdb",  # issue 16: Esri File Geodatabase (kosovo_cmr.outputs.filegdb)
    "turning-points": ".csv",  # issue 16: as typed (kosovo_cmr.outputs.entered_points)
}

#: Files a Shapefile is made of besides the ``.shp``, written and replaced with it.
SHAPEFILE_SIDECARS: tuple[str, ...] = (".shx", ".dbf", ".prj", ".cpg", ".fields.json")

# --- GDAL formats -------------------------------------------------------------------------------


def to_geojson(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer as GeoJSON per RFC 7946 (EPSG:4326, 7 decimals, right-hand rule)."""
    path = Path(path)
    data = wgs84(gdf, name)
    with atomic_output(path, overwrite=overwrite) as tmp:
        pyogrio.write_dataframe(
            data, tmp, driver="GeoJSON", layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"}
        )
    return path


def to_gpkg(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer to a new GeoPackage (its CRS kept), as the table ``name``."""
    path = Path(path)
    require_crs(gdf, name=name)
    with atomic_output(path, overwrite=overwrite) as tmp:
        pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG")
    return path


def shapefile_field_map(columns, field_map: dict[str, str] | None = None) -> dict[str, str]:
    """Return the column -> Shapefile field name map (10 characters at most).

    Names are cut to their first 10 characters unless ``field_map`` says otherwise.
    Cut names that would collide (compared without case, as dBASE does) are numbered
    instead: ``benchmark_id``, ``benchmark_lon`` become ``benchmar_1``, ``benchmar_2``;
    the map written beside the file (``.fields.json``) restores every long name.
    Characters a dBASE field cannot hold become ``_``.

    Parameters
    ----------
    columns : sequence of str
        The layer's attribute columns.
    field_map : dict, optional
        Explicit names for some columns; they are kept as given.

    Returns
    -------
    dict

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a given name is not 1-10 letters, digits or underscores, or two given names
        are the same.

    Examples
    --------
    >>> shapefile_field_map(["hazard_id", "submunitions"])
    {'hazard_id': 'hazard_id', 'submunitions': 'submunitio'}
    >>> shapefile_field_map(["accuracy_m1", "accuracy_m2", "Općina"])
    {'accuracy_m1': 'accuracy_1', 'accuracy_m2': 'accuracy_2', 'Općina': 'Op_ina'}
    """
    field_map = dict(field_map or {})
    given = {c: field_map[c] for c in columns if c in field_map}
    for column, name in given.items():
        if len(name) > 10 or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise InputError(
                f"Shapefile field name {name!r} (for {column!r}) must be 1-10 letters, "
                "digits or underscores"
            )
    seen: dict[str, list[str]] = {}
    for column, name in given.items():
        seen.setdefault(name.lower(), []).append(column)
    for cols in seen.values():
        if len(cols) > 1:
            raise InputError(
                "Shapefile field names collide: "
                + ", ".join(repr(c) for c in cols)
                + f" -> {given[cols[0]]!r}; give each its own name in field_map"
            )
    return _cut_names(columns, given)


def _cut_names(columns, given: dict[str, str]) -> dict[str, str]:
    """Cut the names ``given`` does not hold to 10 characters, numbering collisions."""
    taken = {name.lower() for name in given.values()}
    cut = {}
    for column in columns:
        if column not in given:
            name = re.sub(r"[^A-Za-z0-9_]", "_", str(column)) or "field"
            cut[column] = (name if re.match(r"[A-Za-z_]", name) else f"f_{name}")[:10]
    counts: dict[str, int] = {}
    for name in cut.values():
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    out = {}
    for column in columns:
        if column in given:
            out[column] = given[column]
            continue
        name = cut[column]
        if counts[name.lower()] > 1 or name.lower() in taken:
            n = 1
            while True:
                numbered = f"{name[: 9 - len(str(n))]}_{n}"
                if numbered.lower() not in taken and numbered.lower() not in counts:
                    break
                n += 1
            name = numbered
        taken.add(name.lower())
        out[column] = name
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
        If two names given in ``field_map`` are the same, or the file exists and not
        ``overwrite``.
    """
    path = Path(path)
    if path.suffix.lower() != ".shp":
        raise InputError(f"a Shapefile path must end in .shp, got {path.name}")
    stray = [p for p in (path.with_suffix(s) for s in SHAPEFILE_SIDECARS) if p.exists()]
    if stray and not overwrite:
        raise InputError(f"{stray[0]} exists; pass --overwrite to replace it")
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
    fields = json.dumps({v: k for k, v in mapping.items()}, indent=1)
    with atomic_output(path, overwrite=overwrite, sidecars=SHAPEFILE_SIDECARS) as tmp:
        pyogrio.write_dataframe(out, tmp, driver="ESRI Shapefile", encoding="UTF-8")
        tmp.with_suffix(".fields.json").write_text(fields, encoding="utf-8")
    return path


def to_csv(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "layer", overwrite=False
) -> Path:
    """Write a layer as CSV: the attributes plus a ``wkt`` column in EPSG:4326.

    Text values and column names that start like a formula get a leading single quote
    (:func:`kosovo_cmr._escape.spreadsheet_frame`); numbers are written as numbers.
    """
    path = Path(path)
    data = wgs84(gdf, name)
    frame = pd.DataFrame(data.drop(columns=data.geometry.name))
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column].dtype):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    frame = spreadsheet_frame(frame)
    frame["wkt"] = shapely.to_wkt(data.geometry.values, rounding_precision=9, trim=True)
    with atomic_output(path, overwrite=overwrite) as tmp:
        frame.to_csv(tmp, index=False)
    return path


_WRITERS = {
    "gpx": to_gpx,
    "kml": to_kml,
    "kmz": to_kmz,
    "geojson": to_geojson,
    "gpkg": to_gpkg,
    "shp": to_shapefile,
    "csv": to_csv,
    "gdb": to_filegdb,  # issue 16
    "turning-points": to_turning_points,  # issue 16
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
