"""What the surveyor typed: a turning-point table's cells, kept beside the computed polygon.

IMSMA keeps each point of a polygon as it was entered beside the WGS 84 position it
stores: GICHD ``geocheck``'s README lists ``coordrefsys`` ("Coordinate Reference System
used by user when entering original coordinates"), ``userinputformat``, ``coordformat``,
``bearing``, ``distance``, ``frompoint_guid``, ``user_entered_x``, ``user_entered_y`` and
``user_entered_mgrs`` ("x coordinate originally entered by user"...). A polygon read
from a turning-point table (:mod:`kosovo_cmr.sources.traverse`) keeps the same facts in
four columns of its layer (``hazards`` and ``releases``; store schema 4):

``entered_points``
    strict JSON, one object per row of the table in drawing order: ``point_no``,
    ``point_id``, ``point_type`` and ``format`` (``xy``, ``lonlat``, ``mgrs`` or ``leg``:
    which cells placed the point), the cells as typed (``entered_x``, ``entered_y``,
    ``entered_mgrs``, ``bearing``, ``distance``, ``from_point``; text, never re-formatted)
    and the computed position (``lon``, ``lat``, WGS 84 degrees, 8 decimals);
``entered_crs``
    the CRS the X/Y or Lon/Lat cells were typed in (``--crs``), e.g. ``EPSG:32634``;
    ``MGRS`` when only MGRS references were typed;
``bearing_reference`` and ``declination_deg``
    how the bearings were read (``grid``, ``true``, ``magnetic``; ``--bearing``) and the
    declination used with magnetic ones.

:func:`kosovo_cmr.outputs.entered_points.turning_point_table` writes them back as a
turning-point table that imports to the same polygon.
"""

from __future__ import annotations

import json

from pyproj import CRS, Transformer

__all__ = ["TYPED_ROLES", "entry_format", "entered_json", "crs_text"]

#: The cells of a turning-point row kept as typed (roles of the traverse layout).
TYPED_ROLES = (
    "pointno", "pointid", "pointtype", "x", "y", "lon", "lat", "mgrs", "bearing",
    "distance", "from",
)  # fmt: skip


def entry_format(typed: dict) -> str:
    """Return which cells placed a point: ``xy``, ``lonlat``, ``mgrs`` or ``leg``.

    The order is the reader's (:func:`kosovo_cmr.sources.traverse.compute_traverse`):
    X/Y first, then Lon/Lat, then MGRS, else the leg (bearing, distance, from).

    Examples
    --------
    >>> entry_format({"x": "7500100", "y": "4720100"}), entry_format({"bearing": "90"})
    ('xy', 'leg')
    """
    if typed.get("x") is not None or typed.get("y") is not None:
        return "xy"
    if typed.get("lon") is not None or typed.get("lat") is not None:
        return "lonlat"
    if typed.get("mgrs") is not None:
        return "mgrs"
    return "leg"


def entered_json(rows: list[dict], positions: list | None, *, work) -> str:
    """Return the ``entered_points`` JSON of one polygon.

    Parameters
    ----------
    rows : list of dict
        The typed cells of each row (:data:`TYPED_ROLES` -> text or None), drawing order.
    positions : list of (x, y) or None
        The computed position of each row in the working CRS, aligned with ``rows``;
        ``None`` when the traverse could not be computed (the positions are left out).
    work : pyproj.CRS
        The working CRS of ``positions``.

    Returns
    -------
    str
        Strict JSON (no NaN).
    """
    to_ll = Transformer.from_crs(CRS.from_user_input(work), 4326, always_xy=True)
    out = []
    for k, typed in enumerate(rows):
        fmt = entry_format(typed)
        x, y = (typed.get("lon"), typed.get("lat")) if fmt == "lonlat" else (
            typed.get("x"), typed.get("y"))  # fmt: skip
        entry = {
            "point_no": typed.get("pointno"),
            "point_id": typed.get("pointid"),
            "point_type": typed.get("pointtype"),
            "format": fmt,
            "entered_x": x,
            "entered_y": y,
            "entered_mgrs": typed.get("mgrs"),
            "bearing": typed.get("bearing"),
            "distance": typed.get("distance"),
            "from_point": typed.get("from"),
            "lon": None,
            "lat": None,
        }
        if positions is not None:
            lon, lat = to_ll.transform(*positions[k])
            entry["lon"], entry["lat"] = round(float(lon), 8), round(float(lat), 8)
        out.append(entry)
    return json.dumps(out, ensure_ascii=False, allow_nan=False)


def crs_text(crs, rows: list[dict]) -> str | None:
    """Return the CRS the coordinates were typed in: ``EPSG:n``, its name, ``MGRS`` or None.

    Examples
    --------
    >>> crs_text("EPSG:32634", [{"x": "1"}]), crs_text(None, [{"mgrs": "34TDN"}])
    ('EPSG:32634', 'MGRS')
    """
    formats = {entry_format(r) for r in rows}
    if formats & {"xy", "lonlat"} and crs is not None:
        given = CRS.from_user_input(crs)
        code = given.to_epsg()
        return f"EPSG:{code}" if code else given.name
    if "mgrs" in formats:
        return "MGRS"
    return None
