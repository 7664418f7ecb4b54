"""The synthetic features: hazards, releases, strikes and evidence, with their attributes.

:class:`Builder` accumulates the rows of the four layers and gives each feature its
``DEMO-`` id; strikes are placed inside a polygon as footprint ovals, and evidence
points cluster in them (:func:`populate_cha` for the survey finds of an open CHA,
:func:`populate_cleared` for the submunitions destroyed by a clearance). Random splits
of totals and dates are here too: every draw comes from the one generator, in order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from shapely import affinity
from shapely.geometry import Point, Polygon

from kosovo_cmr.synthetic._placing import Placer, lonlat, multi, to_metric


def split_total(rng, total: int, n: int, *, spread: float = 2.5) -> list[int]:
    """Split an integer total into n positive integer parts (random, summing exactly)."""
    if n == 0:
        return []
    if n == 1:
        return [total]
    weights = rng.gamma(spread, size=n)
    parts = np.floor(weights / weights.sum() * total).astype(int)
    parts[-1] += total - parts.sum()
    return [int(p) for p in parts]


def split_count(rng, total: int, n: int, *, at_least_one: bool) -> list[int]:
    """Split an item count over n areas (each at least one when possible)."""
    base = [1] * n if at_least_one and total >= n else [0] * n
    for _ in range(total - sum(base)):
        base[int(rng.integers(n))] += 1
    return base


def random_date(rng, year: int, start=(4, 1), end=(11, 30)) -> pd.Timestamp:
    """Return a random day of ``year`` between ``start`` and ``end`` (month, day)."""
    first = pd.Timestamp(year, *start)
    last = pd.Timestamp(year, *end)
    return first + pd.Timedelta(days=int(rng.integers(0, (last - first).days + 1)))


class Builder:
    """Accumulates the features of the four layers."""

    def __init__(self, rng, municipalities_m, region_of):
        self.rng = rng
        self.placer = Placer(rng, municipalities_m, [])
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
                "geometry": multi(geom_ll),
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
                "geometry": multi(geom_ll),
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
                "geometry": lonlat(c),
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
                "geometry": lonlat(p_m),
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


def populate_cha(b: Builder, poly_ll, hazard_id: str, found: pd.Timestamp) -> str:
    """Place strikes and survey evidence inside a CHA; return its ordnance summary."""
    poly_m = to_metric(poly_ll)
    kinds = set()
    for _ in range(int(b.rng.integers(1, 4))):
        _, oval, ordnance = b.strike_in(poly_m)
        kinds.add(ordnance)
        pts = b.points_in(oval, poly_m, int(b.rng.integers(6, 26)))
        for p, item in zip(pts, _survey_items(b.rng, len(pts)), strict=True):
            b.evidence_point(p, hazard_id=hazard_id, item=item, ordnance=ordnance, found=found)
    return kinds.pop() if len(kinds) == 1 else "mixed"


def populate_cleared(
    b: Builder,
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
    poly_m = to_metric(poly_ll)
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
