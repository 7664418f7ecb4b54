"""The union of fade-out disks on the ellipsoid: exact geodesic areas, zones and rings.

Private plumbing of :mod:`kosovo_cmr.analysis.fadeout` and
:mod:`kosovo_cmr.analysis.cha_check`. Evidence points are taken to the metric CRS
(:data:`kosovo_cmr.settings.metric_crs`, EPSG:9141), where :mod:`._disks` computes the
exact planar union of the circles; each cluster's planar area is then brought onto the
ellipsoid by dividing by the projection's areal scale factor at the cluster's centre
(at most about 0.03 % across Kosovo; its change across one cluster is a few parts per
million). Polygons are only drawn where a split needs them: by zones, the polygons decide
the *fractions* of each cluster in each zone, applied to the exact area, so the parts
always sum to the exact total.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Proj, Transformer

from kosovo_cmr import settings
from kosovo_cmr.analysis._disks import DiskUnion, cluster_polygons, union_of_disks
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError


def metric_points(evidence, *, name: str = "evidence"):
    """Metric x, y of evidence points, refusing missing CRS and non-point geometries."""
    require_crs(evidence, name=name)
    geoms = evidence.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        rows = list(evidence.index[missing][:5])
        raise InputError(
            f"{name}: {int(missing.sum())} point(s) without geometry (rows {rows}); drop them "
            "or give them a position"
        )
    kinds = shapely.get_type_id(geoms)
    if np.any(kinds != 0):
        rows = list(evidence.index[kinds != 0][:5])
        raise InputError(f"{name}: fade-out needs Point geometries; rows {rows} are not points")
    metric = evidence.geometry.to_crs(settings.metric_crs)
    return shapely.get_x(metric.values), shapely.get_y(metric.values)


@lru_cache(maxsize=2)
def _projection(crs: str):
    return Proj(CRS.from_user_input(crs)), Transformer.from_crs(crs, 4326, always_xy=True)


def _areal_scale(x, y) -> np.ndarray:
    """Areal scale factor (projected area / ellipsoidal area) of the metric CRS at x, y."""
    proj, to_lonlat = _projection(settings.metric_crs)
    lon, lat = to_lonlat.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(proj.get_factors(lon, lat).areal_scale, dtype=float)


@dataclass
class GeodesicUnion:
    """A disk union with its exact geodesic cluster areas."""

    du: DiskUnion
    area_m2: np.ndarray  # geodesic, per cluster

    @property
    def total_m2(self) -> float:
        """Geodesic area of the whole union, m2."""
        return float(self.area_m2.sum())


def geodesic_union(x, y, r) -> GeodesicUnion:
    """Union of the disks (metric x, y, radius r) with each cluster's geodesic area."""
    du = union_of_disks(x, y, r)
    if du.n_clusters == 0:
        return GeodesicUnion(du, np.zeros(0))
    w = r * r
    sw = np.bincount(du.labels, weights=w, minlength=du.n_clusters)
    cx = np.bincount(du.labels, weights=w * x, minlength=du.n_clusters) / sw
    cy = np.bincount(du.labels, weights=w * y, minlength=du.n_clusters) / sw
    return GeodesicUnion(du, du.area / _areal_scale(cx, cy))


def _cluster_boxes(du: DiskUnion) -> np.ndarray:
    k = du.n_clusters
    lo_x = np.full(k, np.inf)
    lo_y = np.full(k, np.inf)
    hi_x = np.full(k, -np.inf)
    hi_y = np.full(k, -np.inf)
    np.minimum.at(lo_x, du.labels, du.x - du.r)
    np.minimum.at(lo_y, du.labels, du.y - du.r)
    np.maximum.at(hi_x, du.labels, du.x + du.r)
    np.maximum.at(hi_y, du.labels, du.y + du.r)
    return shapely.box(lo_x, lo_y, hi_x, hi_y)


def split_by_zones(un: GeodesicUnion, zones, *, tolerance_m: float) -> tuple[np.ndarray, float]:
    """Exact cluster areas split over zones by the fractions of their polygons.

    A cluster whose bounding box lies within one zone goes to it whole; the others are
    drawn and intersected with the zones, and each zone receives the fraction of the
    cluster's polygon inside it times the cluster's exact area (the rest lies outside
    every zone). The parts therefore sum exactly to the total.

    Returns
    -------
    shares : numpy.ndarray
        Geodesic area in each zone, m2.
    outside : float
        Geodesic area outside every zone, m2.
    """
    du = un.du
    shares = np.zeros(len(zones))
    if du.n_clusters == 0:
        return shares, 0.0
    tree = shapely.STRtree(zones)
    ci, zi = tree.query(_cluster_boxes(du), predicate="within")
    zone_of = np.full(du.n_clusters, -1, dtype=np.int64)
    zone_of[ci] = zi
    whole = zone_of >= 0
    shares += np.bincount(zone_of[whole], weights=un.area_m2[whole], minlength=len(zones))
    rest = np.flatnonzero(~whole)
    outside = 0.0
    if len(rest):
        polys = cluster_polygons(du, rest, tolerance_m=tolerance_m)
        pa = shapely.area(polys)
        pi, zj = tree.query(polys, predicate="intersects")
        parts = shapely.area(shapely.intersection(polys[pi], zones[zj]))
        frac = parts / pa[pi]
        # overlapping zones must not count land twice: scale a cluster's fractions down
        # when they add up to more than one
        inside = np.bincount(pi, weights=frac, minlength=len(rest))
        frac = frac / np.maximum(inside, 1.0)[pi]
        inside = np.minimum(inside, 1.0)
        exact = un.area_m2[rest]
        shares += np.bincount(zj, weights=frac * exact[pi], minlength=len(zones))
        outside = float(np.sum(np.clip(1.0 - inside, 0.0, None) * exact))
    return shares, outside


def ring_layer(
    before: GeodesicUnion, after: GeodesicUnion, crs, *, tolerance_m: float
) -> gpd.GeoDataFrame:
    """Return the land inside ``before`` but outside ``after``, a row per cluster of ``before``.

    Both unions are of the same points (``after`` with other distances). Columns
    ``cluster_id``, ``evidence``, ``area_m2`` (exact when no distance of ``after`` exceeds
    the one of ``before``, else measured on the drawn ring) and the polygon, in ``crs``.
    """
    a, b = before.du, after.du
    polys_from = cluster_polygons(a, tolerance_m=tolerance_m)
    polys_to = cluster_polygons(b, tolerance_m=tolerance_m)
    k = a.n_clusters
    if k == 0:
        return gpd.GeoDataFrame(
            {"cluster_id": [], "evidence": [], "area_m2": []}, geometry=[], crs=crs
        )
    # the old-rule cluster of each new-rule cluster: that of one of its points
    first = np.full(b.n_clusters, -1, dtype=np.int64)
    first[b.labels[::-1]] = np.arange(len(b.labels))[::-1]
    owner = a.labels[first]
    nested = bool(np.all(b.r <= a.r))
    order = np.argsort(owner, kind="stable")
    owners, compact = np.unique(owner[order], return_inverse=True)
    inner = np.full(k, None, dtype=object)
    if len(order):
        inner[owners] = shapely.multipolygons(polys_to[order], indices=compact)
    for i in np.flatnonzero(np.equal(inner, None)):
        inner[i] = shapely.Polygon()
    geoms = shapely.difference(polys_from, inner)
    if nested:
        area = before.area_m2 - np.bincount(owner, weights=after.area_m2, minlength=k)
    else:
        area = geodesic_area(geoms, crs=settings.metric_crs)
    return gpd.GeoDataFrame(
        {
            "cluster_id": np.arange(1, k + 1, dtype=np.int64),
            "evidence": np.bincount(a.labels, minlength=k).astype(np.int64),
            "area_m2": np.clip(area, 0.0, None),
        },
        geometry=gpd.GeoSeries(geoms, crs=settings.metric_crs).to_crs(crs).values,
        crs=crs,
    )
