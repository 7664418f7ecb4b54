"""Geocheck-grade QA of a source file, as read (``kcmr validate``, issue 16).

:func:`check_source` reads a source as :func:`kosovo_cmr.importer.import_layer` does
(the same reader, the same renames of ``--map-fields`` and the field aliases) and runs
:func:`kosovo_cmr.qa.check` on the features as they are in the file, before any repair,
so that every finding has the location the surveyor or GIS officer must fix.
"""

from __future__ import annotations

import os

import geopandas as gpd
from pyproj import CRS

from kosovo_cmr.errors import CRSError
from kosovo_cmr.import_fields import map_fields
from kosovo_cmr.import_mappings import read_mapping, source_renames
from kosovo_cmr.qa import QAResult, check
from kosovo_cmr.schema import get_schema
from kosovo_cmr.sources import read_source

__all__ = ["check_source", "source_frame"]


def source_frame(
    source: str | os.PathLike,
    layer: str,
    *,
    src_layer: str | None = None,
    crs=None,
    encoding: str | None = None,
    field_map: dict[str, str] | None = None,
    bearing: str = "true",
    declination_deg: float | None = None,
    max_misclosure_m: float | None = None,
    mapping=None,
) -> gpd.GeoDataFrame:
    """Return a source's features as read, with the layer's column names, in its CRS.

    Parameters
    ----------
    source : str or path-like
    layer : str
        The store layer the features are for (chooses the renames).
    src_layer, crs, encoding, field_map, bearing, declination_deg, max_misclosure_m, mapping
        As :func:`kosovo_cmr.importer.import_layer`; ``crs`` replaces the source's own.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per feature read (a feature whose geometry could not be read has none).

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If neither the source nor ``crs`` gives a CRS.
    """
    schema = get_schema(layer)
    explicit = dict(field_map or {})
    file_map = read_mapping(mapping) if mapping is not None else None
    src = read_source(
        source, src_layer=src_layer, crs=crs, encoding=encoding, geometry_type=schema.geometry_type,
        columns={**(file_map.fields(layer) if file_map else {}), **explicit}, bearing=bearing,
        declination_deg=declination_deg, max_misclosure_m=max_misclosure_m,
    )  # fmt: skip
    chosen = src.crs
    if crs is not None and src.kind == "vector":
        chosen = CRS.from_user_input(crs)
    if chosen is None:
        raise CRSError(f"{src.path} has no CRS; pass --crs if you know it (e.g. --crs EPSG:4326)")
    frame = src.frame.copy()
    for name, values in src.extra.items():
        frame[name] = list(values)
    field_map = source_renames(file_map, schema.name, frame.columns, explicit=explicit)
    renames, _ = map_fields(list(frame.columns), schema.name, mapping=field_map)
    frame = frame.rename(columns=renames)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(src.geometry, crs=chosen).array)


def check_source(source: str | os.PathLike, layer: str, **options) -> QAResult:
    """Read a source (:func:`source_frame`) and run :func:`kosovo_cmr.qa.check` on it.

    Parameters
    ----------
    source : str or path-like
    layer : str
    **options
        The reading options of :func:`source_frame`; ``max_segment_m``,
        ``duplicate_tolerance_m`` and ``min_area_m2`` go to :func:`kosovo_cmr.qa.check`.

    Returns
    -------
    kosovo_cmr.qa.QAResult
    """
    qa_keys = ("max_segment_m", "duplicate_tolerance_m", "min_area_m2")
    qa_options = {k: options.pop(k) for k in qa_keys if k in options}
    frame = source_frame(source, layer, **options)
    return check(frame, layer=layer, **qa_options)
