"""Kosovo's coordinate reference systems and the measures taken in them.

Storage is EPSG:4326; buffers and planar work use the national grid EPSG:9141
(:data:`kosovo_cmr.settings.metric_crs`); every ``area_m2`` a user reads is geodesic,
measured on the WGS 84 ellipsoid with :class:`pyproj.Geod`, which no projection
distorts.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Geod

from kosovo_cmr import settings
from kosovo_cmr.errors import CRSError

__all__ = [
    "require_crs",
    "normalize_crs",
    "to_metric",
    "to_storage",
    "geodesic_area",
    "geodesic_length",
    "gnomonic_crs",
]


def require_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str = "layer") -> CRS:
    """Return the CRS of a layer, refusing a layer without one.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        The layer.
    name : str, optional
        How to call the layer in the error message.

    Returns
    -------
    pyproj.CRS
        The layer's CRS.

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If the layer has no CRS.
    """
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no CRS; set one with .set_crs('EPSG:4326') (or --crs on the "
            "command line) if you know which it is"
        )
    return gdf.crs


def normalize_crs(crs) -> CRS:
    """Map a CRS to the one the package uses, accepting the deprecated legacy codes.

    EPSG:3909 and EPSG:31277 (deprecated duplicates of the legacy Yugoslav grid) are
    returned as EPSG:6316.

    Parameters
    ----------
    crs : anything :meth:`pyproj.CRS.from_user_input` accepts

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If the CRS cannot be understood.

    Examples
    --------
    >>> normalize_crs("EPSG:31277").to_epsg()
    6316
    """
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises its own CRSError, not ours
        raise CRSError(f"cannot understand CRS {crs!r}: {exc}") from exc
    code = parsed.to_epsg(min_confidence=100)
    if code is not None and f"EPSG:{code}" in settings.legacy_crs_aliases:
        return CRS.from_user_input(settings.legacy_crs)
    return parsed


def to_metric(gdf, *, name: str = "layer"):
    """Reproject a layer to the metric CRS (:data:`kosovo_cmr.settings.metric_crs`).

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        A layer with a CRS.
    name : str, optional
        How to call the layer in an error message.

    Returns
    -------
    GeoDataFrame or GeoSeries
        A new object in the metric CRS; the input is not changed.
    """
    require_crs(gdf, name=name)
    return gdf.to_crs(settings.metric_crs)


def to_storage(gdf, *, name: str = "layer"):
    """Reproject a layer to the storage CRS (:data:`kosovo_cmr.settings.storage_crs`).

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        A layer with a CRS.
    name : str, optional
        How to call the layer in an error message.

    Returns
    -------
    GeoDataFrame or GeoSeries
        A new object in the storage CRS; the input is not changed.
    """
    require_crs(gdf, name=name)
    return gdf.to_crs(settings.storage_crs)


def gnomonic_crs(geoms_ll) -> CRS:
    """Return a gnomonic CRS centred on geometries given in lon/lat.

    Geodesics are straight lines in a gnomonic projection, so exact planar
    intersections there keep geodesic edges geodesic; overlays of hazards, releases and
    boundaries are cut in it and measured on the ellipsoid afterwards.

    Parameters
    ----------
    geoms_ll : array-like of shapely geometries
        In EPSG:4326 (lon, lat); missing and empty ones are ignored. With none left the
        projection is centred on Kosovo.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> from shapely.geometry import box
    >>> gnomonic_crs([box(20.0, 42.0, 21.0, 43.0)]).to_dict()["proj"]
    'gnom'
    """
    geoms = np.asarray(geoms_ll, dtype=object)
    present = geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)]
    if len(present):
        xmin, ymin, xmax, ymax = shapely.total_bounds(present)
        lon, lat = (xmin + xmax) / 2, (ymin + ymax) / 2
    else:
        lon, lat = 21.0, 42.6
    return CRS.from_proj4(f"+proj=gnom +lat_0={lat:.6f} +lon_0={lon:.6f} +ellps=WGS84 +units=m")


@lru_cache(maxsize=4)
def _geod(ellps: str) -> Geod:
    return Geod(ellps=ellps)


def _lonlat(geoms, crs) -> np.ndarray:
    """Return a geometry array in EPSG:4326 with x = longitude."""
    series = gpd.GeoSeries(geoms, crs=crs)
    require_crs(series, name="geometry")
    if not series.crs.equals(CRS.from_epsg(4326)):
        series = series.to_crs(4326)
    return np.asarray(series.values, dtype=object)


def geodesic_area(geoms, *, crs=None) -> np.ndarray:
    """Geodesic area in m2 of each geometry, on the WGS 84 ellipsoid.

    Polygons are oriented first, so holes are subtracted whatever the input ring
    order. Points, lines, empty and missing geometries measure 0.

    Parameters
    ----------
    geoms : GeoSeries, GeoDataFrame or sequence of shapely geometries
        Geometries in any CRS. A GeoSeries or GeoDataFrame brings its own CRS.
    crs : optional
        The CRS of ``geoms`` when they are plain shapely geometries.

    Returns
    -------
    numpy.ndarray of float
        Area in square metres, aligned with the input.

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If no CRS is known.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> round(float(geodesic_area([box(21, 42, 21.01, 42.01)], crs=4326)[0]))
    920179
    """
    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    if isinstance(geoms, gpd.GeoSeries):
        crs = geoms.crs if crs is None else crs
        geoms = geoms.values
    if crs is None:
        raise CRSError("geodesic_area needs a CRS: pass a GeoSeries with one, or crs=")
    arr = _lonlat(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, crs)
    geod = _geod(settings.ellipsoid)
    out = np.zeros(len(arr), dtype=float)
    types = shapely.get_type_id(arr)
    present = ~shapely.is_empty(arr) & (types >= 0)
    # Polygons and MultiPolygons: every ring from one coordinate array (fast for many)
    idx = np.flatnonzero(np.isin(types, (3, 6)) & present)
    if len(idx):
        oriented = shapely.orient_polygons(arr[idx], exterior_cw=False)
        parts, part_owner = shapely.get_parts(oriented, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        ends = np.cumsum(shapely.get_num_coordinates(rings))
        starts = np.concatenate([[0], ends[:-1]])
        xy = shapely.get_coordinates(rings)
        signed = [  # exteriors counter-clockwise (+), holes clockwise (-)
            geod.polygon_area_perimeter(xy[a:b, 0], xy[a:b, 1])[0]
            for a, b in zip(starts, ends, strict=True)
        ]
        np.add.at(out, idx[part_owner[ring_part]], signed)
    for i in np.flatnonzero((types == 7) & present):  # collections
        oriented = shapely.orient_polygons(arr[i], exterior_cw=False)
        out[i] = _area_of(geod, oriented)
    return out


def _area_of(geod: Geod, geom) -> float:
    kind = geom.geom_type
    if kind == "Polygon":
        area, _ = geod.geometry_area_perimeter(geom)
        return float(area)
    if kind in ("MultiPolygon", "GeometryCollection"):
        return float(sum(_area_of(geod, part) for part in geom.geoms))
    return 0.0


def geodesic_length(geoms, *, crs=None) -> np.ndarray:
    """Geodesic length (lines) or perimeter (polygons) in metres, on WGS 84.

    Parameters
    ----------
    geoms : GeoSeries, GeoDataFrame or sequence of shapely geometries
        Geometries in any CRS.
    crs : optional
        The CRS of ``geoms`` when they are plain shapely geometries.

    Returns
    -------
    numpy.ndarray of float
        Length in metres, aligned with the input; points and empties give 0.
    """
    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    if isinstance(geoms, gpd.GeoSeries):
        crs = geoms.crs if crs is None else crs
        geoms = geoms.values
    if crs is None:
        raise CRSError("geodesic_length needs a CRS: pass a GeoSeries with one, or crs=")
    arr = _lonlat(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, crs)
    geod = _geod(settings.ellipsoid)
    out = np.zeros(len(arr), dtype=float)
    for i, geom in enumerate(arr):
        if geom is None or geom.is_empty or geom.geom_type in ("Point", "MultiPoint"):
            continue
        out[i] = geod.geometry_length(geom)
    return out
