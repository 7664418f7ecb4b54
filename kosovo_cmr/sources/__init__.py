"""Readers for the files GIS officers receive, one module per family.

- :mod:`~kosovo_cmr.sources.vector`: everything GDAL reads through pyogrio
  (GeoPackage, Shapefile also zipped, GeoJSON, KML/KMZ, GPX, FlatGeobuf);
- :mod:`~kosovo_cmr.sources.tabular`: CSV (and XLSX) tables with a WKT column, X/Y
  columns or an MGRS column;
- :mod:`~kosovo_cmr.sources.traverse`: IMSMA turning-point tables (CSV, XLSX);
- :mod:`~kosovo_cmr.sources.safety`: size limits, archive pre-scans, safe XML, text;
- :mod:`~kosovo_cmr.sources.sniff`: what a file holds, from its bytes (a file is read as
  what its content is, and only as what its suffix allows);
- :mod:`~kosovo_cmr.sources.gdal_env`: the one place GDAL opens a source (pinned
  drivers, no network, plain paths);
- :mod:`~kosovo_cmr.sources.encodings`: text encodings detected by content.

Each reader returns a :class:`SourceData`: the features' original attributes, their
geometries (``None`` where none could be read), the problems met while reading each
feature, and the source's CRS. No reader drops a feature: whatever it cannot read is
kept with a reason, so that the importer can account for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pandas as pd

from kosovo_cmr.errors import InputError

__all__ = ["SourceData", "read_source", "TABLE_SUFFIXES", "VECTOR_SUFFIXES"]

VECTOR_SUFFIXES = (".gpkg", ".shp", ".zip", ".geojson", ".json", ".kml", ".kmz", ".gpx", ".fgb")
#: issue 16: File Geodatabases (folders, or zipped), read by :mod:`~kosovo_cmr.sources.filegdb`.
FOLDER_SUFFIXES = (".gdb",)
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx")


@dataclass
class SourceData:
    """What a reader got out of a source file.

    Attributes
    ----------
    frame : pandas.DataFrame
        The original attributes, one row per feature, index ``0..n-1``.
    geometry : list
        One shapely geometry (or ``None``) per row, in :attr:`crs`.
    issues : list of list of kosovo_cmr.geometry_checks.Issue
        Problems met while reading each row.
    crs : pyproj.CRS or None
        The CRS the source declares, if any.
    path : str
        The source, as given.
    kind : str
        ``vector``, ``table`` or ``traverse``.
    notices : list of str
        Decisions worth telling the user (encoding fallbacks, GDAL warnings...).
    raw_geometry : list of str or None
        The geometry as written in the source when it could not be parsed.
    extra : dict of str to pandas.Series
        Per-feature values the reader computed (e.g. ``misclosure_m``), added to the
        imported attributes.
    encoding : str or None
        How the text was decoded and why (``"cp1250 (no .cpg; detected from its
        letters)"``, ``"UTF-8 (.cpg)"``), for sources that do not fix it themselves.
    """

    frame: pd.DataFrame
    geometry: list
    issues: list
    crs: object
    path: str
    kind: str
    notices: list[str] = field(default_factory=list)
    raw_geometry: list | None = None
    extra: dict = field(default_factory=dict)
    encoding: str | None = None

    def __len__(self) -> int:
        return len(self.frame)


def read_source(
    path: str | os.PathLike,
    *,
    src_layer: str | None = None,
    crs=None,
    encoding: str | None = None,
    geometry_type: str = "MultiPolygon",
    columns: dict[str, str] | None = None,
    bearing: str = "true",
    declination_deg: float | None = None,
    max_misclosure_m: float | None = None,
) -> SourceData:
    """Read any supported source, choosing the reader by its suffix and columns.

    The path must name a local file (no ``/vsi`` path, no URL) whose content is what its
    suffix says (:func:`kosovo_cmr.sources.sniff.check_content`); anything else is
    refused before it is parsed.

    Parameters
    ----------
    path : str or path-like
        The source file.
    src_layer : str, optional
        Layer of a multi-layer source (GeoPackage, KML, GPX, zipped Shapefiles) or sheet
        of a workbook.
    crs : optional
        CRS for tables with X/Y or WKT columns (vector sources bring their own).
    encoding : str, optional
        Text encoding, overriding ``.cpg`` files and detection.
    geometry_type : {"MultiPolygon", "Point"}
        What the target layer holds (GPX tracks become polygons for polygon layers).
    columns : dict, optional
        ``{source column: target name}`` renames applied before geometry columns are
        looked for in a table (so ``--map-fields Koord=wkt`` works).
    bearing, declination_deg, max_misclosure_m
        Turning-point tables only; see :func:`kosovo_cmr.sources.traverse.read_traverse`.

    Returns
    -------
    SourceData

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be read at all (missing, unsupported, truncated, hostile, over
        a limit); the message is one line.
    """
    from kosovo_cmr.sources import safety, sniff, tabular, traverse, vector

    p = sniff.check_path(path)
    if _is_filegdb(p):  # issue 16: a .gdb folder, or a zip of one
        from kosovo_cmr.sources.filegdb import read_filegdb

        return read_filegdb(p, src_layer=src_layer)
    safety.check_size(p)
    suffix = p.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        sniff.check_content(p)
        table, notices = tabular.read_table(p, encoding=encoding, sheet=src_layer)
        if traverse.is_traverse_table(table.columns):
            data = traverse.read_traverse(
                table,
                path=str(p),
                crs=crs,
                bearing=bearing,
                declination_deg=declination_deg,
                max_misclosure_m=max_misclosure_m,
                notices=notices,
            )
        else:
            data = tabular.geometry_from_table(
                table, path=str(p), crs=crs, columns=columns, notices=notices
            )
        data.encoding = table.attrs.get(tabular.ENCODING)
        return data
    if suffix in VECTOR_SUFFIXES:
        return vector.read_vector(
            p, src_layer=src_layer, encoding=encoding, geometry_type=geometry_type
        )
    raise InputError(
        f"cannot import {p.name}: unknown file type {suffix or '(none)'}; supported: "
        f"{', '.join(VECTOR_SUFFIXES + TABLE_SUFFIXES)}"
    )


def _is_filegdb(path) -> bool:
    """Whether a source is a File Geodatabase: a ``.gdb`` folder or a ZIP holding one."""
    from kosovo_cmr.sources.filegdb import zip_holds_filegdb

    if path.suffix.lower() == ".gdb" or path.is_dir():
        return True  # read_filegdb refuses a folder that is not one, by name
    return path.suffix.lower() == ".zip" and path.is_file() and zip_holds_filegdb(path)
