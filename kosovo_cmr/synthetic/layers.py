"""The synthetic demo generator: plausible layers that reproduce the report's figures.

No hazard polygons, evidence points or strike locations of Kosovo are public, so the demo
runs on layers generated here from a fixed seed (:data:`kosovo_cmr.settings.demo_seed`).
Measured with the package's own geodesic areas they reproduce the Mine Action Review 2025
Kosovo report:

* Table 1 — the 35 hazards open at the end of 2024, per KMAC region and kind, to the m2;
* Tables 5-8 — the 2024 releases by reporting district and operator, with the items
  destroyed; Table 9 — clearance per year 2020-2024; 89 submunitions destroyed in 2024 and
  196 in 2023;
* the 151,914 m2 added by survey in 2024 and an estimate of 8.78 km2 at the start of 2024,
  whose gap to the releases the report cannot explain (NTS of areas that were never in the
  database, hazards closed without a release record).

Every feature has ``synthetic = True`` and an id starting ``DEMO-``. Polygons are smooth
random shapes inside the right municipality, scaled until their geodesic area equals the
target (after the coordinates are rounded to 1e-10 degrees, as they are written). Evidence
points cluster in strike footprints (CBU-87 / BLU-97 and RBL755 / BL755 ovals); every
submunition destroyed in a clearance record is an evidence point inside it.

Regenerate the shipped layers with ``python -m kosovo_cmr.synthetic layers/demo``.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, Polygon

from kosovo_cmr import settings
from kosovo_cmr.crs import geodesic_area

__all__ = ["generate", "write_layers", "TABLE1", "RELEASES_2024", "CLEARANCE_BY_YEAR"]

#: Table 1 (end 2024): region -> (CHA count, CHA m2, SHA count, SHA m2).
TABLE1 = {
    "South": (3, 346_168, 3, 436_400),
    "North": (5, 2_062_880, 3, 1_391_903),
    "Centre": (5, 363_952, 0, 0),
    "East": (1, 320_000, 0, 0),
    "West": (8, 748_614, 7, 595_375),
}

#: Area added by survey in 2024 (NPA's NTS in the north), m2.
ADDED_2024_M2 = 151_914
#: Start-of-2024 estimate (report: 8.78 km2), m2.
START_2024_M2 = 8_780_000

#: 2024 releases: (method, district label, operator, municipality, areas, m2,
#: submunitions, AP mines, other UXO, CMR found).
RELEASES_2024 = [
    ("cancellation_nts", "Mitrovica", "NPA", "Mitrovicë", 4, 2_417_021, 0, 0, 0, False),
    ("cancellation_nts", "Gracanica", "NPA", "Graçanicë", 1, 0, 0, 0, 0, False),
    ("cancellation_nts", "Leposavic", "NPA", "Leposaviq", 3, 1_831_558, 0, 0, 0, False),
    ("cancellation_nts", "Zubin Potok", "NPA", "Zubin Potok", 2, 1_294_410, 0, 0, 0, False),
    ("reduction_ts", "Pejë", "HALO", "Pejë", 1, 47_216, 0, 0, 0, False),
    ("reduction_ts", "Prizren", "HALO", "Prizren", 1, 32_740, 0, 0, 0, False),
    ("clearance", "East", "KSF", "Kamenicë", 1, 36_400, 0, 0, 185, False),
    ("clearance", "South", "KSF", "Kaçanik", 2, 66_100, 8, 0, 0, True),
    ("clearance", "Mitrovica", "NPA", "Mitrovicë", 3, 606_700, 11, 0, 63, True),
    ("clearance", "Gracanica", "NPA", "Graçanicë", 1, 35_940, 2, 5, 328, True),
    ("clearance", "Prishtina", "NPA", "Prishtinë", 1, 33_640, 0, 0, 1, False),
    ("clearance", "Zubin Potok", "NPA", "Zubin Potok", 1, 302_815, 20, 0, 1, True),
    ("clearance", "Gjakovë", "HALO", "Gjakovë", 3, 217_186, 38, 0, 0, True),
    ("clearance", "Pejë", "HALO", "Pejë", 2, 18_522, 1, 0, 0, True),
    ("clearance", "Prishtinë", "HALO", "Prishtinë", 2, 64_572, 9, 0, 0, True),
    ("clearance", "Prizren", "HALO", "Prizren", 3, 128_212, 0, 0, 0, False),
]

#: Clearance per year before 2024: year -> (areas, m2, submunitions). The report gives
#: 0.34, 1.30, 1.32 and 1.92 km2 (and 1 submunition per 9,813 m2 in 2023): each value
#: here rounds to the report's figure.
CLEARANCE_BY_YEAR = {
    2020: (3, 340_118, 21),
    2021: (7, 1_301_734, 112),
    2022: (7, 1_318_905, 96),
    2023: (10, 1_923_348, 196),
}
#: Technical survey in 2023 (report: 0.31 km2).
TS_2023 = (2, 309_874)

#: Region -> municipalities where the demo places hazards (the report: CMR found in
#: Leposavic, Zubin Potok and Zvecan in the north, none in North Mitrovica).
HAZARD_MUNICIPALITIES = {
    "North": ["Leposaviq", "Zubin Potok", "Zveçan", "Mitrovicë", "Skënderaj", "Vushtrri"],
    "Centre": ["Prishtinë", "Podujevë", "Drenas", "Lipjan", "Graçanicë", "Obiliq"],
    "East": ["Gjilan", "Viti", "Kamenicë", "Novobërdë"],
    "West": ["Pejë", "Gjakovë", "Deçan", "Istog", "Klinë", "Rahovec", "Malishevë", "Junik"],
    "South": ["Prizren", "Suharekë", "Dragash", "Ferizaj", "Kaçanik", "Shtërpcë"],
}

OPERATOR_BY_REGION = {
    "North": "NPA",
    "Centre": "HALO",
    "East": "KSF",
    "West": "HALO",
    "South": "HALO",
}

_PRECISION = 10  # decimal places of the written coordinates (1e-10 deg, about 0.01 mm)
_TO_LONLAT = Transformer.from_crs(settings.metric_crs, "EPSG:4326", always_xy=True)
_TO_METRIC = Transformer.from_crs("EPSG:4326", settings.metric_crs, always_xy=True)


def _reproject(geom, transformer: Transformer):
    def move(xy):
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, move)


def _round(geom):
    return shapely.transform(geom, lambda xy: np.round(xy, _PRECISION))


def _lonlat(geom_m):
    return _round(_reproject(geom_m, _TO_LONLAT))


def _to_metric(geom_ll):
    return _reproject(geom_ll, _TO_METRIC)


def _area(geom_ll) -> float:
    return float(geodesic_area([geom_ll], crs="EPSG:4326")[0])


def _split_total(rng, total: int, n: int, *, spread: float = 2.5) -> list[int]:
    """Split an integer total into n positive integer parts (random, summing exactly)."""
    if n == 0:
        return []
    if n == 1:
        return [total]
    weights = rng.gamma(spread, size=n)
    parts = np.floor(weights / weights.sum() * total).astype(int)
    parts[-1] += total - parts.sum()
    return [int(p) for p in parts]


def _split_count(rng, total: int, n: int, *, at_least_one: bool) -> list[int]:
    """Split an item count over n areas (each at least one when possible)."""
    base = [1] * n if at_least_one and total >= n else [0] * n
    for _ in range(total - sum(base)):
        base[int(rng.integers(n))] += 1
    return base


@dataclass
class _Placer:
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


def _exact(poly_m: Polygon, center: Point, target_m2: float) -> Polygon:
    """Scale a metric polygon about ``center`` to an exact geodesic area.

    The lon/lat twin, rounded as it is written, ends within 0.005 m2 of the target.
    """
    current = poly_m
    for _ in range(12):
        ll = _lonlat(current)
        got = _area(ll)
        if abs(got - target_m2) < 0.005:
            return ll
        factor = math.sqrt(target_m2 / got)
        current = affinity.scale(current, factor, factor, origin=center)
    raise RuntimeError(f"area did not converge to {target_m2} m2 (last {got})")


def _split_exact(
    poly_m: Polygon, center: Point, total_m2: float, part_m2: float, bearing: float
) -> tuple[Polygon, Polygon]:
    """Scale a polygon to ``total_m2`` and cut off a piece of ``part_m2``.

    The cut is a straight line across ``bearing``; returns (rest, piece) in lon/lat.
    """
    whole = _exact(poly_m, center, total_m2)
    whole_m = _to_metric(whole)
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
        got = _area(_lonlat(piece)) if not piece.is_empty else 0.0
        if abs(got - part_m2) < 0.01:
            break
        if got > part_m2:
            lo = mid
        else:
            hi = mid
    piece, rest = cut(mid)
    return _lonlat(rest), _lonlat(piece)


def _multi(geom) -> MultiPolygon:
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type == "Polygon"]
    return MultiPolygon(parts)


def _date(rng, year: int, start=(4, 1), end=(11, 30)) -> pd.Timestamp:
    first = pd.Timestamp(year, *start)
    last = pd.Timestamp(year, *end)
    return first + pd.Timedelta(days=int(rng.integers(0, (last - first).days + 1)))


class _Builder:
    """Accumulates the features of the four layers."""

    def __init__(self, rng, municipalities_m, region_of):
        self.rng = rng
        self.placer = _Placer(rng, municipalities_m, [])
        self.region_of = region_of
        self.hazards, self.releases, self.evidence, self.strikes = [], [], [], []
        self.release_counts: dict[int, int] = {}

    # -- ids --------------------------------------------------------------------------
    def _id(self, prefix: str, rows: list, width: int) -> str:
        return f"DEMO-{prefix}-{len(rows) + 1:0{width}d}"

    def hazard(
        self,
        geom_ll,
        *,
        kind,
        status,
        municipality,
        operator,
        recorded,
        closed=None,
        priority=None,
        ordnance="unknown",
    ) -> str:
        hid = self._id("HZ", self.hazards, 4)
        if priority is None:
            priority = str(self.rng.choice(["high", "medium", "low"], p=[0.3, 0.45, 0.25]))
        self.hazards.append(
            {
                "hazard_id": hid,
                "kind": kind,
                "status": status,
                "municipality": municipality,
                "region": self.region_of[municipality],
                "priority": priority,
                "operator": operator,
                "ordnance": ordnance,
                "recorded": recorded,
                "closed": closed,
                "synthetic": True,
                "geometry": _multi(geom_ll),
            }
        )
        return hid

    def release(
        self,
        geom_ll,
        *,
        year,
        hazard_id,
        method,
        operator,
        date,
        district,
        submunitions=0,
        ap_mines=0,
        other_uxo=0,
        cmr_found=False,
    ) -> str:
        self.release_counts[year] = self.release_counts.get(year, 0) + 1
        rid = f"DEMO-RL-{year}-{self.release_counts[year]:03d}"
        self.releases.append(
            {
                "release_id": rid,
                "hazard_id": hazard_id,
                "method": method,
                "operator": operator,
                "date": date,
                "district": district,
                "submunitions": submunitions,
                "ap_mines": ap_mines,
                "other_uxo": other_uxo,
                "cmr_found": cmr_found,
                "synthetic": True,
                "geometry": _multi(geom_ll),
            }
        )
        return rid

    # -- strikes and evidence -----------------------------------------------------------
    def strike_in(self, poly_m: Polygon, *, munition=None) -> tuple[str, Polygon, str]:
        """Place a strike footprint centred inside ``poly_m``.

        Returns its id, the footprint oval (metric) and the submunition type.
        """
        rng = self.rng
        if munition is None:
            munition = "CBU-87" if rng.random() < 0.7 else "RBL755"
        length = float(rng.uniform(61, 244))
        width = float(min(rng.uniform(37, 123), length * 0.8))
        bearing = float(rng.uniform(0, 180))
        inner = poly_m.buffer(-min(width, length) / 3)
        if inner.is_empty:
            inner = poly_m
        minx, miny, maxx, maxy = inner.bounds
        for _ in range(500):
            c = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if inner.contains(c):
                break
        else:
            c = poly_m.representative_point()
        oval = affinity.rotate(
            affinity.scale(Point(c.x, c.y).buffer(1.0, 32), length / 2, width / 2),
            90 - bearing,
            origin=c,
        )
        sid = self._id("ST", self.strikes, 4)
        self.strikes.append(
            {
                "strike_id": sid,
                "date": pd.Timestamp(1999, 3, 24) + pd.Timedelta(days=int(rng.integers(0, 79))),
                "munition": munition,
                "bombs": int(rng.integers(1, 4)),
                "length_m": round(length, 1),
                "width_m": round(width, 1),
                "bearing_deg": round(bearing, 1),
                "synthetic": True,
                "geometry": _lonlat(c),
            }
        )
        return sid, oval, "BLU-97" if munition == "CBU-87" else "BL755"

    def points_in(self, oval_m: Polygon, within_m: Polygon, n: int) -> list[Point]:
        """Return n random points in the oval (denser at its centre), inside ``within_m``."""
        rng = self.rng
        area = oval_m.intersection(within_m)
        if area.is_empty:
            area = within_m
        c = area.centroid
        minx, miny, maxx, maxy = area.bounds
        pts = []
        for _ in range(200 * n):
            if len(pts) == n:
                break
            if rng.random() < 0.6:
                p = Point(rng.normal(c.x, (maxx - minx) / 5), rng.normal(c.y, (maxy - miny) / 5))
            else:
                p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if area.contains(p):
                pts.append(p)
        return pts

    def evidence_point(self, p_m: Point, *, hazard_id, item, ordnance, found) -> None:
        acc = None if self.rng.random() < 0.1 else float(round(self.rng.uniform(1.5, 10), 1))
        self.evidence.append(
            {
                "evidence_id": self._id("EV", self.evidence, 5),
                "hazard_id": hazard_id,
                "item": item,
                "ordnance": ordnance,
                "found": found,
                "accuracy_m": acc,
                "synthetic": True,
                "geometry": _lonlat(p_m),
            }
        )


def _survey_items(rng, n: int) -> list[str]:
    return list(
        rng.choice(
            ["component", "fragments", "crater", "submunition", "container"],
            size=n,
            p=[0.4, 0.3, 0.17, 0.08, 0.05],
        )
    )


def _populate_cha(b: _Builder, poly_ll, hazard_id: str, found: pd.Timestamp) -> str:
    """Place strikes and survey evidence inside a CHA; return its ordnance summary."""
    poly_m = _to_metric(poly_ll)
    kinds = set()
    for _ in range(int(b.rng.integers(1, 4))):
        _, oval, ordnance = b.strike_in(poly_m)
        kinds.add(ordnance)
        pts = b.points_in(oval, poly_m, int(b.rng.integers(6, 26)))
        for p, item in zip(pts, _survey_items(b.rng, len(pts)), strict=True):
            b.evidence_point(p, hazard_id=hazard_id, item=item, ordnance=ordnance, found=found)
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _populate_cleared(
    b: _Builder,
    poly_ll,
    hazard_id: str,
    *,
    submunitions: int,
    cmr_found: bool,
    date: pd.Timestamp,
    surveyed: pd.Timestamp,
) -> str:
    """Place the evidence of a cleared area.

    One point per submunition destroyed, plus survey finds: component parts where CMR
    were found, fragments and craters where none were.
    """
    poly_m = _to_metric(poly_ll)
    _, oval, ordnance = b.strike_in(poly_m)
    for p in b.points_in(oval, poly_m, submunitions):
        b.evidence_point(p, hazard_id=hazard_id, item="submunition", ordnance=ordnance, found=date)
    extra = int(b.rng.integers(2, 7))
    items = (
        ["component"] * extra
        if cmr_found
        else list(b.rng.choice(["fragments", "crater"], size=extra))
    )
    for p, item in zip(b.points_in(oval, poly_m, extra), items, strict=False):
        b.evidence_point(p, hazard_id=hazard_id, item=item, ordnance=ordnance, found=surveyed)
    return ordnance


def generate(
    boundaries: gpd.GeoDataFrame, *, seed: int | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """Generate the synthetic demo layers.

    Parameters
    ----------
    boundaries : GeoDataFrame
        The ``boundaries`` layer (see :func:`kosovo_cmr.boundaries.read_municipalities`).
    seed : int, optional
        Random seed; default :data:`kosovo_cmr.settings.demo_seed`. The same seed and
        boundaries give the same layers.

    Returns
    -------
    dict of str to GeoDataFrame
        ``hazards``, ``evidence``, ``strikes`` and ``releases``, in EPSG:4326, every
        feature ``synthetic = True`` with an id starting ``DEMO-``.
    """
    rng = np.random.default_rng(settings.demo_seed if seed is None else seed)
    metric = boundaries.to_crs(settings.metric_crs)
    municipalities_m = dict(zip(metric["municipality"], metric.geometry, strict=True))
    region_of = dict(zip(boundaries["municipality"], boundaries["region"], strict=True))
    b = _Builder(rng, municipalities_m, region_of)

    _active_hazards(b)
    _releases_2024(b)
    _removed_2024(b)
    _earlier_years(b)
    return _frames(b)


def _active_hazards(b: _Builder) -> None:
    """Place the 35 hazards open at the end of 2024 (Table 1), two with a TS cut off."""
    rng = b.rng
    ts_2024 = {"Pejë": 47_216, "Prizren": 32_740}
    for region, (n_cha, cha_m2, n_sha, sha_m2) in TABLE1.items():
        places = HAZARD_MUNICIPALITIES[region]
        for kind, n, total in (("CHA", n_cha, cha_m2), ("SHA", n_sha, sha_m2)):
            if n == 0:
                continue
            if region == "North" and kind == "CHA":
                # two CHAs recorded by NPA's 2024 survey: the area "added by survey"
                added = _split_total(rng, ADDED_2024_M2, 2, spread=8)
                areas = added + _split_total(rng, total - ADDED_2024_M2, n - 2)
            else:
                areas = _split_total(rng, total, n)
            for i, area in enumerate(areas):
                municipality = places[int(rng.integers(len(places)))]
                recorded_2024 = region == "North" and kind == "CHA" and i < 2
                if recorded_2024:
                    municipality = ("Leposaviq", "Zubin Potok")[i]
                ts_here = kind == "CHA" and region in ("West", "South") and i == 0
                if ts_here:
                    municipality = "Pejë" if region == "West" else "Prizren"
                operator = OPERATOR_BY_REGION[region]
                if region == "North":
                    recorded = _date(rng, 2024 if recorded_2024 else 2015)
                else:
                    recorded = _date(rng, 2022 if kind == "CHA" else 2013)
                ts_m2 = ts_2024[municipality] if ts_here else 0
                poly_m, center = b.placer.shape(municipality, area + ts_m2)
                ts_geom = None
                if ts_here:
                    geom, ts_geom = _split_exact(
                        poly_m, center, area + ts_m2, ts_m2, float(rng.uniform(0, 360))
                    )
                else:
                    geom = _exact(poly_m, center, area)
                hid = b.hazard(
                    geom,
                    kind=kind,
                    status="active",
                    municipality=municipality,
                    operator=operator,
                    recorded=recorded,
                )
                if kind == "CHA":
                    b.hazards[-1]["ordnance"] = _populate_cha(b, geom, hid, recorded)
                if ts_geom is not None:
                    b.release(
                        ts_geom,
                        year=2024,
                        hazard_id=hid,
                        method="reduction_ts",
                        operator="HALO",
                        date=_date(rng, 2024),
                        district=municipality,
                    )


def _releases_2024(b: _Builder) -> None:
    """Place the NTS cancellations (outside any recorded hazard) and the 19 clearances."""
    rng = b.rng
    for method, district, operator, municipality, n, total, subs, ap, uxo, found in RELEASES_2024:
        if method == "reduction_ts":
            continue  # cut off active hazards in _active_hazards
        if total == 0:
            b.release(
                shapely.from_wkt("MULTIPOLYGON EMPTY"),
                year=2024,
                hazard_id=None,
                method=method,
                operator=operator,
                date=_date(rng, 2024),
                district=district,
            )
            continue
        areas = _split_total(rng, total, n)
        sub_split = _split_count(rng, subs, n, at_least_one=True)
        ap_split = _split_count(rng, ap, n, at_least_one=False)
        uxo_split = _split_count(rng, uxo, n, at_least_one=False)
        for area, s, a, u in zip(areas, sub_split, ap_split, uxo_split, strict=True):
            poly_m, center = b.placer.shape(municipality, area)
            geom = _exact(poly_m, center, area)
            date = _date(rng, 2024)
            if method == "cancellation_nts":
                b.release(
                    geom,
                    year=2024,
                    hazard_id=None,
                    method=method,
                    operator=operator,
                    date=date,
                    district=district,
                )
                continue
            kind_recorded = _date(rng, 2015 if operator == "NPA" else 2022)
            hid = b.hazard(
                geom,
                kind="CHA",
                status="released",
                municipality=municipality,
                operator=operator,
                recorded=kind_recorded,
                closed=date,
            )
            b.hazards[-1]["ordnance"] = _populate_cleared(
                b, geom, hid, submunitions=s, cmr_found=found, date=date, surveyed=kind_recorded
            )
            b.release(
                geom,
                year=2024,
                hazard_id=hid,
                method=method,
                operator=operator,
                date=date,
                district=district,
                submunitions=s,
                ap_mines=a,
                other_uxo=u,
                cmr_found=found,
            )


def _removed_2024(b: _Builder) -> None:
    """Place hazards closed in 2024 with no release record (rest of the 8.78 km2)."""
    rng = b.rng
    cleared_2024 = sum(r[5] for r in RELEASES_2024 if r[0] == "clearance")
    ts_2024 = sum(r[5] for r in RELEASES_2024 if r[0] == "reduction_ts")
    open_at_start = sum(v[1] + v[3] for v in TABLE1.values()) - ADDED_2024_M2
    removed = START_2024_M2 - open_at_start - cleared_2024 - ts_2024
    for area, municipality in zip(
        _split_total(rng, removed, 3), ("Klinë", "Suharekë", "Podujevë"), strict=True
    ):
        poly_m, center = b.placer.shape(municipality, area)
        geom = _exact(poly_m, center, area)
        b.hazard(
            geom,
            kind="SHA",
            status="removed",
            municipality=municipality,
            operator=OPERATOR_BY_REGION[b.region_of[municipality]],
            recorded=_date(rng, 2013),
            closed=_date(rng, 2024),
        )


def _earlier_years(b: _Builder) -> None:
    """Place clearance 2020-2023 and technical survey 2023, each with its closed hazard."""
    rng = b.rng
    pool = [
        m
        for region in ("West", "South", "Centre", "East")
        for m in HAZARD_MUNICIPALITIES[region][:4]
    ]
    for year, (n, total, subs) in CLEARANCE_BY_YEAR.items():
        sub_split = _split_count(rng, subs, n, at_least_one=True)
        for area, s in zip(_split_total(rng, total, n), sub_split, strict=True):
            municipality = pool[int(rng.integers(len(pool)))]
            operator = str(rng.choice(["HALO", "KSF", "NPA"], p=[0.6, 0.2, 0.2]))
            poly_m, center = b.placer.shape(municipality, area)
            geom = _exact(poly_m, center, area)
            date = _date(rng, year)
            recorded = _date(rng, 2013)
            hid = b.hazard(
                geom,
                kind="CHA",
                status="released",
                municipality=municipality,
                operator=operator,
                recorded=recorded,
                closed=date,
            )
            b.hazards[-1]["ordnance"] = _populate_cleared(
                b, geom, hid, submunitions=s, cmr_found=True, date=date, surveyed=recorded
            )
            b.release(
                geom,
                year=year,
                hazard_id=hid,
                method="clearance",
                operator=operator,
                date=date,
                district=municipality,
                submunitions=s,
                cmr_found=True,
                other_uxo=int(rng.integers(0, 30)),
            )
    n, total = TS_2023
    for area in _split_total(rng, total, n):
        municipality = pool[int(rng.integers(len(pool)))]
        poly_m, center = b.placer.shape(municipality, area)
        geom = _exact(poly_m, center, area)
        date = _date(rng, 2023)
        hid = b.hazard(
            geom,
            kind="SHA",
            status="released",
            municipality=municipality,
            operator="HALO",
            recorded=_date(rng, 2013),
            closed=date,
        )
        b.release(
            geom,
            year=2023,
            hazard_id=hid,
            method="reduction_ts",
            operator="HALO",
            date=date,
            district=municipality,
        )


def _frames(b: _Builder) -> dict[str, gpd.GeoDataFrame]:
    from kosovo_cmr.schema import check, conform

    out = {}
    for name, rows in (
        ("hazards", b.hazards),
        ("evidence", b.evidence),
        ("strikes", b.strikes),
        ("releases", b.releases),
    ):
        frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs="EPSG:4326")
        out[name] = check(conform(frame, name), name)
    return out


def write_layers(
    out_dir: str | os.PathLike,
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    seed: int | None = None,
) -> dict[str, Path]:
    """Generate the demo layers and write them as GeoJSON files into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Folder for ``hazards.geojson``, ``evidence.geojson``, ``strikes.geojson`` and
        ``releases.geojson`` (existing files are replaced).
    boundaries : GeoDataFrame, optional
        Default: :func:`kosovo_cmr.boundaries.read_municipalities` on the shared data.
    seed : int, optional
        Default :data:`kosovo_cmr.settings.demo_seed`.

    Returns
    -------
    dict of str to pathlib.Path
    """
    from kosovo_cmr.boundaries import read_municipalities

    if boundaries is None:
        boundaries = read_municipalities()
    layers = generate(boundaries, seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, gdf in layers.items():
        frame = gdf.copy()
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col].dtype):
                frame[col] = (
                    frame[col]
                    .dt.strftime("%Y-%m-%d")
                    .astype(object)
                    .where(frame[col].notna(), None)
                )
        path = out / f"{name}.geojson"
        if path.exists():
            path.unlink()
        pyogrio.write_dataframe(
            frame,
            path,
            driver="GeoJSON",
            layer_options={"COORDINATE_PRECISION": _PRECISION, "WRITE_NAME": "NO"},
        )
        paths[name] = path
    return paths


def main(argv=None) -> None:
    """Command-line entry: ``python -m kosovo_cmr.synthetic OUT_DIR [--seed N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m kosovo_cmr.synthetic", description="Write the SYNTHETIC demo layers."
    )
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--boundaries", default=None)
    args = parser.parse_args(argv)
    from kosovo_cmr.boundaries import read_municipalities

    paths = write_layers(
        args.out_dir, boundaries=read_municipalities(args.boundaries), seed=args.seed
    )
    for name, path in paths.items():
        print(f"{name}: {path}")
