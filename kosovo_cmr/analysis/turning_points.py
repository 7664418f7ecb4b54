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

__all__ = ["turning_points"]


def _mgrs(lat: float, lon: float) -> str:
    import mgrs

    text = mgrs.MGRS().toMGRS(lat, lon, MGRSPrecision=5)
    return f"{text[:5]} {text[5:10]} {text[10:]}"


def turning_points(
    hazards: gpd.GeoDataFrame, *, id_column: str | None = "hazard_id"
) -> pd.DataFrame:
    """List the turning points of each polygon, with coordinates, bearings and distances.

    Parameters
    ----------
    hazards : GeoDataFrame
        Polygons (any CRS).
    id_column : str, optional
        Column naming each feature (default ``hazard_id``; the row number if absent).

    Returns
    -------
    pandas.DataFrame
        One row per turning point: ``feature_id``, ``part`` (1-based polygon number),
        ``label`` (``TP1``..., or ``P2-TP1`` for a second polygon), ``lon``, ``lat``,
        ``utm_e``, ``utm_n`` (EPSG:32634), ``grid_e``, ``grid_n`` (EPSG:9141), ``mgrs``
        (1 m), ``bearing_deg`` (true bearing to the next point) and ``distance_m``
        (geodesic, to the next point; the last point leads back to the first).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> sq = gpd.GeoDataFrame({"hazard_id": ["H1"]}, geometry=[box(21, 42.5, 21.001, 42.501)],
    ...                       crs=4326)
    >>> tp = turning_points(sq)
    >>> tp.label.tolist(), tp.bearing_deg.round().tolist()
    (['TP1', 'TP2', 'TP3', 'TP4'], [90.0, 180.0, 270.0, 0.0])
    """
    require_crs(hazards, name="hazards")
    data = hazards.to_crs(4326)
    geod = Geod(ellps=settings.ellipsoid)
    to_utm = Transformer.from_crs(4326, settings.utm_crs, always_xy=True)
    to_grid = Transformer.from_crs(4326, settings.metric_crs, always_xy=True)
    rows = []
    ids = data[id_column] if id_column and id_column in data.columns else None
    for i, geom in enumerate(data.geometry.values):
        if geom is None or geom.is_empty:
            continue
        fid = str(ids.iloc[i]) if ids is not None else str(i + 1)
        parts = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type == "Polygon"]
        for k, part in enumerate(parts, start=1):
            ring = shapely.orient_polygons(part, exterior_cw=True).exterior
            xy = np.asarray(ring.coords)[:-1, :2]
            start = int(np.lexsort((xy[:, 0], -xy[:, 1]))[0])  # northernmost, then west
            xy = np.roll(xy, -start, axis=0)
            nxt = np.roll(xy, -1, axis=0)
            az, _, dist = geod.inv(xy[:, 0], xy[:, 1], nxt[:, 0], nxt[:, 1])
            ue, un = to_utm.transform(xy[:, 0], xy[:, 1])
            ge, gn = to_grid.transform(xy[:, 0], xy[:, 1])
            prefix = "" if len(parts) == 1 else f"P{k}-"
            for j in range(len(xy)):
                rows.append(
                    {
                        "feature_id": fid,
                        "part": k,
                        "label": f"{prefix}TP{j + 1}",
                        "lon": float(xy[j, 0]),
                        "lat": float(xy[j, 1]),
                        "utm_e": float(ue[j]),
                        "utm_n": float(un[j]),
                        "grid_e": float(ge[j]),
                        "grid_n": float(gn[j]),
                        "mgrs": _mgrs(float(xy[j, 1]), float(xy[j, 0])),
                        "bearing_deg": float(az[j] % 360.0),
                        "distance_m": float(dist[j]),
                    }
                )
    columns = [
        "feature_id", "part", "label", "lon", "lat", "utm_e", "utm_n", "grid_e", "grid_n",
        "mgrs", "bearing_deg", "distance_m",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
