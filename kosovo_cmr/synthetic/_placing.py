"""Shapes of an exact geodesic area, placed without overlap inside a municipality.

The generator draws smooth random blobs in the metric CRS (:class:`Placer`), then scales
each about its centre until its geodesic area, measured in lon/lat after the coordinates
are rounded as they are written (:data:`PRECISION`), equals the target to 0.005 m2
(:func:`exact`); :func:`split_exact` cuts a piece of a given area off a shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, Polygon

from kosovo_cmr import settings
from kosovo_cmr.crs import geodesic_area

#: Decimal places of the written coordinates (1e-10 degree, about 0.01 mm).
PRECISION = 10
TO_LONLAT = Transformer.from_crs(settings.metric_crs, "EPSG:4326", always_xy=True)
TO_METRIC = Transformer.from_crs("EPSG:4326", settings.metric_crs, always_xy=True)


def reproject(geom, transformer: Transformer):
    """Return ``geom`` with its coordinates transformed."""

    def move(xy):
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, move)


def round_coordinates(geom):
    """Round coordinates to :data:`PRECISION` decimals, as the layers are written."""
    return shapely.transform(geom, lambda xy: np.round(xy, PRECISION))


def lonlat(geom_m):
    """Return a metric geometry in lon/lat, rounded as it is written."""
    return round_coordinates(reproject(geom_m, TO_LONLAT))


def to_metric(geom_ll):
    """Return a lon/lat geometry in the metric CRS."""
    return reproject(geom_ll, TO_METRIC)


def geodesic_area_ll(geom_ll) -> float:
    """Return the geodesic area (m2) of a lon/lat geometry."""
    return float(geodesic_area([geom_ll], crs="EPSG:4326")[0])


@dataclass
class Placer:
    """Places non-overlapping shapes inside municipalities, in the metric CRS."""

    rng: np.random.Generator
    municipalities: dict  # name -> Polygon/MultiPolygon in metric CRS
    placed: list

    def _blob(
        self, center: Point, radius: float, elongation: float, bearing: float, n: int = 56
    ) -> Polygon:
        angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
        angles = angles + self.rng.uniform(-0.3, 0.3, n) * (2 * np.pi / n)
        wobble = np.ones(n)
        for k in (2, 3, 5):
            wobble += self.rng.uniform(0.02, 0.09) * np.sin(k * angles + self.rng.uniform(0, 6.3))
        rx, ry = radius * elongation, radius / elongation
        xs = rx * np.cos(angles) * wobble
        ys = ry * np.sin(angles) * wobble
        theta = math.radians(90 - bearing)
        x = center.x + xs * math.cos(theta) - ys * math.sin(theta)
        y = center.y + xs * math.sin(theta) + ys * math.cos(theta)
        return Polygon(np.column_stack([x, y]))

    def shape(
        self,
        municipality: str,
        area_m2: float,
        *,
        gap_m: float = 80.0,
        elongation: tuple[float, float] = (1.0, 1.8),
    ) -> tuple[Polygon, Point]:
        """Return a metric polygon of about ``area_m2`` inside ``municipality``."""
        muni = self.municipalities[municipality]
        radius = math.sqrt(max(area_m2, 1.0) / math.pi)
        for _attempt in range(400):
            el = self.rng.uniform(*elongation)
            reach = radius * el * 1.3 + gap_m
            inner = muni.buffer(-reach)
            if inner.is_empty:
                raise ValueError(f"{municipality} is too small for {area_m2:.0f} m2")
            minx, miny, maxx, maxy = inner.bounds
            center = Point(self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy))
            if not inner.contains(center):
                continue
            poly = self._blob(center, radius, el, self.rng.uniform(0, 180))
            if not poly.is_valid or not muni.contains(poly.buffer(gap_m / 2)):
                continue
            if any(poly.buffer(gap_m).intersects(other) for other in self.placed):
                continue
            self.placed.append(poly)
            return poly, center
        raise RuntimeError(f"could not place {area_m2:.0f} m2 in {municipality}")


def exact(poly_m: Polygon, center: Point, target_m2: float) -> Polygon:
    """Scale a metric polygon about ``center`` to an exact geodesic area.

    The lon/lat twin, rounded as it is written, ends within 0.005 m2 of the target.
    """
    current = poly_m
    for _ in range(12):
        ll = lonlat(current)
        got = geodesic_area_ll(ll)
        if abs(got - target_m2) < 0.005:
            return ll
        factor = math.sqrt(target_m2 / got)
        current = affinity.scale(current, factor, factor, origin=center)
    raise RuntimeError(f"area did not converge to {target_m2} m2 (last {got})")


def split_exact(
    poly_m: Polygon, center: Point, total_m2: float, part_m2: float, bearing: float
) -> tuple[Polygon, Polygon]:
    """Scale a polygon to ``total_m2`` and cut off a piece of ``part_m2``.

    The cut is a straight line across ``bearing``; returns (rest, piece) in lon/lat.
    """
    whole = exact(poly_m, center, total_m2)
    whole_m = to_metric(whole)
    theta = math.radians(90 - bearing)
    ux, uy = math.cos(theta), math.sin(theta)
    big = 1e5

    def cut(offset):
        px, py = center.x + ux * offset, center.y + uy * offset
        # half-plane beyond the line through (px, py) perpendicular to (ux, uy)
        half = Polygon(
            [
                (px - uy * big, py + ux * big),
                (px + uy * big, py - ux * big),
                (px + uy * big + ux * big, py - ux * big + uy * big),
                (px - uy * big + ux * big, py + ux * big + uy * big),
            ]
        )
        return whole_m.intersection(half), whole_m.difference(half)

    lo, hi = -2000.0, 2000.0
    for _ in range(80):
        mid = (lo + hi) / 2
        piece, _ = cut(mid)
        got = geodesic_area_ll(lonlat(piece)) if not piece.is_empty else 0.0
        if abs(got - part_m2) < 0.01:
            break
        if got > part_m2:
            lo = mid
        else:
            hi = mid
    piece, rest = cut(mid)
    return lonlat(rest), lonlat(piece)


def multi(geom) -> MultiPolygon:
    """Return the polygons of ``geom`` as one MultiPolygon."""
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type == "Polygon"]
    return MultiPolygon(parts)
