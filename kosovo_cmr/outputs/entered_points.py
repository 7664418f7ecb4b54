"""Turning points written back as the surveyor typed them (issue 16).

A hazard or release read from a turning-point table keeps the table's cells in
``entered_points`` (:mod:`kosovo_cmr.sources.entered`). :func:`turning_point_table`
turns them back into a table of the turning-point layout (``PolyID``, ``PointNo``,
``PointID``, ``PointType``, ``X``/``Y``, ``Lon``/``Lat``, ``MGRS``, ``Bearing``,
``Distance``, ``From``), the text exactly as typed, with the CRS and bearing reference
each polygon was typed in (``EnteredCRS``, ``BearingReference``, ``Declination``) and
the computed WGS 84 position (``ComputedLon``, ``ComputedLat``) for checking.
Re-imported with ``--crs`` set to its ``EnteredCRS`` and ``--bearing`` to its
``BearingReference``, the table gives the same polygons.

``kcmr export --format turning-points`` writes it as CSV (text that a spreadsheet would
read as a formula gets a leading quote; a typed number such as ``-12.5`` is kept as
typed); features without ``entered_points`` (drawn, not typed) are left out and
counted in a warning, and a layer with none is refused by ``kcmr export``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from kosovo_cmr._escape import spreadsheet_frame
from kosovo_cmr._files import atomic_output
from kosovo_cmr.errors import InputError
from kosovo_cmr.schema import SCHEMAS

__all__ = ["TABLE_COLUMNS", "turning_point_table", "to_turning_points"]

log = logging.getLogger(__name__)

#: The columns of the table, in order.
TABLE_COLUMNS = (
    "PolyID", "PointNo", "PointID", "PointType", "X", "Y", "Lon", "Lat", "MGRS", "Bearing",
    "Distance", "From", "EnteredCRS", "BearingReference", "Declination", "ComputedLon",
    "ComputedLat",
)  # fmt: skip


def _id_column(frame: gpd.GeoDataFrame, layer: str) -> str:
    schema = SCHEMAS.get(layer)
    if schema is not None and schema.id_column in frame.columns:
        return schema.id_column
    for name in ("hazard_id", "release_id"):
        if name in frame.columns:
            return name
    raise InputError(f"layer {layer!r} has no id column to write as PolyID")


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value))


def turning_point_table(frame: gpd.GeoDataFrame, *, layer: str = "hazards") -> pd.DataFrame:
    """Return the turning points of a layer's features as typed, one row per point.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Hazards or releases with ``entered_points`` (features without it are skipped).
    layer : str, default "hazards"
        Chooses the id column written as ``PolyID``.

    Returns
    -------
    pandas.DataFrame
        :data:`TABLE_COLUMNS`, text cells as typed (``None`` where nothing was typed),
        then the feature's other attributes repeated on each of its rows (as the layout
        carries a polygon's attributes), so that the table imports to the same features.

    Examples
    --------
    >>> pts = '[{"point_no": "1", "point_id": "SP", "point_type": "SP", "format": "mgrs",'
    >>> pts += ' "entered_mgrs": "34TEN1234567890", "lon": 21.1, "lat": 42.6}]'
    >>> f = gpd.GeoDataFrame({"hazard_id": ["H1"], "entered_points": [pts],
    ...                       "entered_crs": ["MGRS"]}, geometry=[None], crs=4326)
    >>> turning_point_table(f)[["PolyID", "PointID", "MGRS", "EnteredCRS"]].values.tolist()
    [['H1', 'SP', '34TEN1234567890', 'MGRS']]
    """
    id_column = _id_column(frame, layer)
    attributes = [c for c in frame.columns if c != frame.geometry.name
                  and c != id_column and c not in _RECOMPUTED]  # fmt: skip
    rows = []
    for record in frame.drop(columns=frame.geometry.name).to_dict("records"):
        text = record.get("entered_points")
        if not _present(text) or not str(text).strip():
            continue
        for point in json.loads(text):
            rows.append({**_row(record, point, id_column),
                         **{c: record[c] for c in attributes}})  # fmt: skip
    return pd.DataFrame(rows, columns=[*TABLE_COLUMNS, *attributes])


#: Columns a turning-point table's import computes again (not written as attributes).
_RECOMPUTED = frozenset({
    "entered_points", "entered_crs", "bearing_reference", "declination_deg",
    "misclosure_m", "misclosure_ratio", "traverse_length_m", "turning_points",
    "benchmark_id", "benchmark_lon", "benchmark_lat",
    "reference_id", "reference_lon", "reference_lat",
})  # fmt: skip


def _row(record: dict, point: dict, id_column: str) -> dict:
    lonlat = point.get("format") == "lonlat"
    x, y = point.get("entered_x"), point.get("entered_y")
    declination = record.get("declination_deg")
    return {
        "PolyID": record[id_column],
        "PointNo": point.get("point_no"),
        "PointID": point.get("point_id"),
        "PointType": point.get("point_type"),
        "X": None if lonlat else x,
        "Y": None if lonlat else y,
        "Lon": x if lonlat else None,
        "Lat": y if lonlat else None,
        "MGRS": point.get("entered_mgrs"),
        "Bearing": point.get("bearing"),
        "Distance": point.get("distance"),
        "From": point.get("from_point"),
        "EnteredCRS": record.get("entered_crs") if _present(record.get("entered_crs")) else None,
        "BearingReference": record.get("bearing_reference")
        if _present(record.get("bearing_reference"))
        else None,
        "Declination": declination if _present(declination) else None,
        "ComputedLon": point.get("lon"),
        "ComputedLat": point.get("lat"),
    }


def to_turning_points(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, name: str = "hazards", overwrite=False
) -> Path:
    """Write :func:`turning_point_table` as CSV (UTF-8), formula-like cells quoted.

    A layer without ``entered_points`` gives a table of its header only, with a
    warning (``kcmr export`` refuses it before writing).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file exists and ``overwrite`` is false.
    """
    table = turning_point_table(gdf, layer=name)
    typed = set(table["PolyID"])
    left = len(gdf) - len(typed)
    if table.empty:
        log.warning("no %s feature has turning points as typed (entered_points): the table "
                    "has its header only", name)  # fmt: skip
    elif left:
        log.warning("%d %s feature(s) without entered_points (drawn, not typed) left out",
                    left, name)  # fmt: skip
    path = Path(path)
    with atomic_output(path, overwrite=overwrite) as tmp:
        _safe(table).to_csv(tmp, index=False, encoding="utf-8")
    return path


_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def _safe(table: pd.DataFrame) -> pd.DataFrame:
    """Quote formula-like text for spreadsheets, but keep a typed number (``-12.5``) as is.

    A cell that is a plain number is no formula; quoting it would change what was typed.
    """
    out = table.copy()
    for column in out.columns:
        values = out[column]
        keep = values.map(lambda v: isinstance(v, str) and bool(_NUMBER.match(v.strip())))
        escaped = spreadsheet_frame(values.to_frame())[column]
        out[column] = values.where(keep, escaped)
    return out
