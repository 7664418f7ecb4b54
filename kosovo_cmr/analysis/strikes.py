"""Cluster-bomb strikes: the ground footprint of each recorded strike.

A strike is recorded as a point (the footprint's centre) with the footprint's size and
orientation: ``length_m`` along the long axis, ``width_m`` across it and
``bearing_deg``, the bearing of the long axis (degrees clockwise from grid north). The
footprint is the oval those three describe, built in the metric CRS
(:data:`kosovo_cmr.settings.metric_crs`).
"""

from __future__ import annotations

import geopandas as gpd
import shapely
import shapely.affinity

from kosovo_cmr import settings
from kosovo_cmr.crs import require_crs

__all__ = ["UNKNOWN_SIZE_RADIUS_M", "strike_footprints"]

#: Radius (metres) of the disc drawn for a strike whose footprint size is not recorded.
UNKNOWN_SIZE_RADIUS_M: float = 10.0


def _oval(centre, length_m: float, width_m: float, bearing_deg: float):
    """Return the oval of a footprint centred on ``centre`` (metric coordinates)."""
    circle = shapely.Point(0, 0).buffer(1.0, quad_segs=16)
    oval = shapely.affinity.scale(circle, width_m / 2.0, length_m / 2.0, origin=(0, 0))
    oval = shapely.affinity.rotate(oval, -bearing_deg, origin=(0, 0))
    return shapely.affinity.translate(oval, centre.x, centre.y)


def strike_footprints(strikes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the footprint of each strike as an oval, with the strike's attributes.

    Parameters
    ----------
    strikes : GeoDataFrame
        The ``strikes`` layer: points with ``length_m``, ``width_m`` and
        ``bearing_deg`` (a missing bearing counts as 0), with a CRS.

    Returns
    -------
    GeoDataFrame
        The same rows and columns, the geometry replaced by the footprint: an oval
        ``length_m`` long along the bearing and ``width_m`` wide, built in the metric
        CRS; a disc of :data:`UNKNOWN_SIZE_RADIUS_M` where the length or the width is
        missing or zero; an empty or missing point stays as it is. In the input's CRS.

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If the layer has no CRS.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"length_m": [200.0], "width_m": [100.0], "bearing_deg": [0.0]},
    ...                      geometry=[Point(7_500_000, 4_720_000)], crs=9141)
    >>> oval = strike_footprints(s).geometry.iloc[0]
    >>> [round(v) for v in (oval.bounds[2] - oval.bounds[0], oval.bounds[3] - oval.bounds[1])]
    [100, 200]
    """
    require_crs(strikes, name="strikes")
    metric = strikes.to_crs(settings.metric_crs)
    ovals = []
    for row in metric.itertuples(index=False):
        centre = getattr(row, metric.geometry.name)
        length = getattr(row, "length_m", None)
        width = getattr(row, "width_m", None)
        bearing = getattr(row, "bearing_deg", None)
        if centre is None or centre.is_empty:
            ovals.append(centre)
        elif not (length and width and length == length and width == width):
            ovals.append(centre.buffer(UNKNOWN_SIZE_RADIUS_M))  # size unknown: a disc
        else:
            ovals.append(_oval(centre, length, width, bearing or 0.0))
    return metric.set_geometry(ovals, crs=settings.metric_crs).to_crs(strikes.crs)
