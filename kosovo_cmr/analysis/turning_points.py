"""Turning points: the vertices a survey team walks and marks around a hazardous area.

Turning points are the vertices of each polygon's outer ring, clockwise, starting at the
northernmost vertex (``TP1``). Each comes with its coordinates in UTM zone 34N
(EPSG:32634, the operators' GPS), the national grid (KOSOVAREF01 / Balkans zone 7,
EPSG:9141) and MGRS, and the true bearing (geodesic forward azimuth, degrees clockwise
from true north) and geodesic distance (metres on WGS 84) to the next point. Field
sheets print them as a table and GPS exports write them as waypoints.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer

from kosovo_cmr import settings
from kosovo_cmr.crs import require_crs

__all__ = ["COLUMNS", "turning_points", "leg"]

#: Columns of :func:`turning_points` (``magnetic_bearing_deg`` only with a declination).
COLUMNS = (
    "feature_id", "part", "label", "lon", "lat", "utm_e", "utm_n", "grid_e", "grid_n",
    "mgrs", "bearing_deg", "distance_m",
)  # fmt: skip


def _mgrs(lats: np.ndarray, lons: np.ndarray) -> list[str]:
    import mgrs

    convert = mgrs.MGRS().toMGRS
    out = []
    for lat, lon in zip(lats.tolist(), lons.tolist(), strict=True):
        text = convert(lat, lon, MGRSPrecision=5)
        out.append(f"{text[:5]} {text[5:10]} {text[10:]}")
    return out


def leg(lon1: float, lat1: float, lon2: float, lat2: float) -> tuple[float, float]:
    """Return the true bearing (degrees, [0, 360)) and geodesic distance (m) from 1 to 2.

    Examples
    --------
    >>> bearing, distance = leg(21.0, 42.5, 21.0, 42.501)
    >>> round(bearing), round(distance, 1)
    (0, 111.1)
    """
    az, _, dist = Geod(ellps=settings.ellipsoid).inv(lon1, lat1, lon2, lat2)
    return float(az % 360.0), float(dist)


def _ring_points(part, geod: Geod) -> dict[str, np.ndarray]:
    """Return the outer ring of one polygon, clockwise from its northernmost vertex."""
    ring = shapely.orient_polygons(part, exterior_cw=True).exterior
    xy = shapely.get_coordinates(ring)[:-1]
    start = int(np.lexsort((xy[:, 0], -xy[:, 1]))[0])  # northernmost, then west
    xy = np.roll(xy, -start, axis=0)
    nxt = np.roll(xy, -1, axis=0)
    az, _, dist = geod.inv(xy[:, 0], xy[:, 1], nxt[:, 0], nxt[:, 1])
    return {"lon": xy[:, 0], "lat": xy[:, 1], "bearing_deg": np.mod(az, 360.0), "distance_m": dist}


def turning_points(
    hazards: gpd.GeoDataFrame,
    *,
    id_column: str | None = "hazard_id",
    declination_deg: float | None = None,
) -> pd.DataFrame:
    """List the turning points of each polygon, with coordinates, bearings and distances.

    Parameters
    ----------
    hazards : GeoDataFrame
        Polygons (any CRS).
    id_column : str, optional
        Column naming each feature (default ``hazard_id``; the row number if absent).
    declination_deg : float, optional
        The magnetic declination (degrees, positive east; see
        :func:`kosovo_cmr.analysis.declination.magnetic_declination`): adds
        ``magnetic_bearing_deg`` = ``bearing_deg`` - declination, in [0, 360).

    Returns
    -------
    pandas.DataFrame
        One row per turning point: ``feature_id``, ``part`` (1-based polygon number),
        ``label`` (``TP1``..., or ``P2-TP1`` for a second polygon), ``lon``, ``lat``,
        ``utm_e``, ``utm_n`` (EPSG:32634), ``grid_e``, ``grid_n`` (EPSG:9141), ``mgrs``
        (1 m), ``bearing_deg`` (true bearing to the next point) and ``distance_m``
        (geodesic, to the next point; the last point leads back to the first); and
        ``magnetic_bearing_deg`` when a declination is given.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> sq = gpd.GeoDataFrame({"hazard_id": ["H1"]}, geometry=[box(21, 42.5, 21.001, 42.501)],
    ...                       crs=4326)
    >>> tp = turning_points(sq)
    >>> tp.label.tolist(), tp.bearing_deg.round().tolist()
    (['TP1', 'TP2', 'TP3', 'TP4'], [90.0, 180.0, 270.0, 0.0])
    >>> turning_points(sq, declination_deg=5.0).magnetic_bearing_deg.round().tolist()
    [85.0, 175.0, 265.0, 355.0]
    """
    require_crs(hazards, name="hazards")
    data = hazards.to_crs(4326)
    geod = Geod(ellps=settings.ellipsoid)
    ids = data[id_column] if id_column and id_column in data.columns else None
    frames = []
    for i, geom in enumerate(data.geometry.values):
        if geom is None or geom.is_empty:
            continue
        fid = str(ids.iloc[i]) if ids is not None else str(i + 1)
        parts = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type == "Polygon"]
        for k, part in enumerate(parts, start=1):
            cols = _ring_points(part, geod)
            prefix = "" if len(parts) == 1 else f"P{k}-"
            n = len(cols["lon"])
            frames.append(
                pd.DataFrame(
                    {
                        "feature_id": fid,
                        "part": k,
                        "label": [f"{prefix}TP{j}" for j in range(1, n + 1)],
                        **cols,
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return _coordinates(out, declination_deg=declination_deg)


def _coordinates(tp: pd.DataFrame, *, declination_deg: float | None) -> pd.DataFrame:
    """Add the UTM, national-grid and MGRS coordinates (and magnetic bearings) in order."""
    lon, lat = tp["lon"].to_numpy(dtype=float), tp["lat"].to_numpy(dtype=float)
    ue, un = Transformer.from_crs(4326, settings.utm_crs, always_xy=True).transform(lon, lat)
    ge, gn = Transformer.from_crs(4326, settings.metric_crs, always_xy=True).transform(lon, lat)
    tp = tp.assign(utm_e=ue, utm_n=un, grid_e=ge, grid_n=gn, mgrs=_mgrs(lat, lon))
    tp = tp.astype({"part": int, "lon": float, "lat": float, "bearing_deg": float,
                    "distance_m": float})  # fmt: skip
    tp = tp[list(COLUMNS)]
    if declination_deg is not None:
        tp = tp.assign(magnetic_bearing_deg=np.mod(tp["bearing_deg"] - declination_deg, 360.0))
    return tp
