"""The area to clear around the evidence, and what a change of fade-out rule does to it.

Clearance continues a *fade-out distance* beyond the last evidence (the rules are in
:mod:`kosovo_cmr.analysis.rules`): the area to clear is the union of disks around the
evidence points. :func:`delineate` draws it, one row per cluster; Kosovo's 2024 national
standard cut that distance around BLU-97 and BL755 evidence from 50 m to 25 m, and
:func:`buffer_impact` measures what such a change does, by hazard, municipality or
region.

Accuracy
--------
Disks are built in the metric CRS (:data:`kosovo_cmr.settings.metric_crs`, EPSG:9141).
Reported areas are *not* measured on polygons approximating the disks: the area of the
union of the true circles is computed analytically by Green's theorem over the boundary
arcs (:mod:`kosovo_cmr.analysis._disks`), then brought onto the ellipsoid by dividing by the
projection's areal scale factor at the centre of each cluster (at most about 0.03 %
across Kosovo; its change across one cluster is a few parts per million). The result is
the geodesic area of the true union of circles to well within 0.01 %. Polygons (for maps
and overlays) are drawn with chords at most ``tolerance_m`` (1 cm) from the circles;
where a split needs polygons (by municipality or region), the polygons only decide the
*fractions* of each cluster that fall in each zone, and those fractions are applied to
the exact area, so the parts always sum to the exact total.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr import settings
from kosovo_cmr.analysis._disks import cluster_polygons
from kosovo_cmr.analysis._union import (
    GeodesicUnion,
    geodesic_union,
    metric_points,
    ring_layer,
    split_by_zones,
)
from kosovo_cmr.analysis.rules import FadeoutRule, load_rule, values_or_unknown
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError

__all__ = [
    "ImpactResult",
    "delineate",
    "union_area_m2",
    "buffer_impact",
]

#: Group label for area or evidence outside every boundary polygon.
OUTSIDE = "(outside boundaries)"
#: Group label for evidence without a hazard id.
NO_HAZARD = "(no hazard)"

BY_CHOICES = ("none", "hazard", "municipality", "region")


def union_area_m2(evidence, rule=None, *, use_accuracy: bool = False) -> float:
    """Geodesic area in m2 of the whole union of the fade-out disks.

    Parameters
    ----------
    evidence : GeoDataFrame
        Evidence points with a CRS.
    rule : str, path or FadeoutRule, optional
        See :func:`kosovo_cmr.analysis.rules.load_rule`.
    use_accuracy : bool, optional
        Add each point's ``accuracy_m`` to its distance.

    Returns
    -------
    float
    """
    rule = load_rule(rule)
    x, y = metric_points(evidence)
    return geodesic_union(x, y, rule.distances_m(evidence, use_accuracy=use_accuracy)).total_m2


def _mix(labels, values, n: int, *, sep: str = ", ", counts: bool = True) -> list[str]:
    frame = pd.DataFrame({"c": labels, "v": pd.Series(values, dtype=object)}).dropna()
    if frame.empty:
        return [""] * n
    sizes = frame.groupby(["c", "v"], sort=True).size()
    out = [""] * n
    for c, group in sizes.groupby(level=0):
        items = group.droplevel(0)
        if counts:
            items = items.sort_values(ascending=False, kind="stable")
            out[c] = sep.join(f"{k}:{v}" for k, v in items.items())
        else:
            out[c] = sep.join(map(str, items.index))
    return out


def delineate(
    evidence, rule=None, *, use_accuracy: bool = False, tolerance_m: float = 0.01
) -> gpd.GeoDataFrame:
    """Delineate the area to clear: the union of the fade-out disks, one row per cluster.

    Disks are built in the metric CRS (EPSG:9141); ``area_m2`` is the exact geodesic
    area of the union of the true circles (see the module notes), not the area of the
    polygons drawn.

    Parameters
    ----------
    evidence : GeoDataFrame
        Evidence points with a CRS (columns ``ordnance``, ``item``, ``hazard_id`` used
        when present).
    rule : str, path or FadeoutRule, optional
        See :func:`kosovo_cmr.analysis.rules.load_rule`.
    use_accuracy : bool, optional
        Add each point's ``accuracy_m`` to its distance.
    tolerance_m : float, optional
        Largest distance between the drawn chords and the true circles (default 1 cm).

    Returns
    -------
    GeoDataFrame
        Columns ``cluster_id``, ``evidence`` (count), ``ordnance`` (mix, e.g.
        ``BLU-97:12, BL755:3``), ``hazard_ids`` (comma-separated), ``distance_m`` (range),
        ``area_m2`` and the polygon, in the input's CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> ev = gpd.GeoDataFrame({"ordnance": ["BLU-97"], "item": ["component"]},
    ...                       geometry=[Point(21.0, 42.6)], crs=4326)
    >>> out = delineate(ev, "kosovo-nmas-2024")
    >>> round(float(out.area_m2[0]))  # pi * 25 ** 2 / 0.9999 ** 2 (grid scale at lon 21)
    1964
    """
    rule = load_rule(rule)
    crs = require_crs(evidence, name="evidence")
    x, y = metric_points(evidence)
    r = rule.distances_m(evidence, use_accuracy=use_accuracy)
    un = geodesic_union(x, y, r)
    du = un.du
    k = du.n_clusters
    polys = cluster_polygons(du, tolerance_m=tolerance_m)
    n_ev = np.bincount(du.labels, minlength=k)
    rmin = np.full(k, np.inf)
    rmax = np.zeros(k)
    np.minimum.at(rmin, du.labels, r)
    np.maximum.at(rmax, du.labels, r)
    ordnance = _mix(du.labels, values_or_unknown(evidence, "ordnance", len(evidence)), k)
    if "hazard_id" in evidence.columns:
        hazards = _mix(du.labels, evidence["hazard_id"].to_numpy(object), k, counts=False)
    else:
        hazards = [""] * k
    out = gpd.GeoDataFrame(
        {
            "cluster_id": np.arange(1, k + 1, dtype=np.int64),
            "evidence": n_ev.astype(np.int64),
            "ordnance": pd.Series(ordnance, dtype="str"),
            "hazard_ids": pd.Series(hazards, dtype="str"),
            "distance_m": [
                f"{a:g}" if a == b else f"{a:g}-{b:g}" for a, b in zip(rmin, rmax, strict=True)
            ],
            "area_m2": un.area_m2,
        },
        geometry=gpd.GeoSeries(polys, crs=settings.metric_crs).to_crs(crs).values,
        crs=crs,
    )
    return out


# --------------------------------------------------------------------------- impact


def _zones(by: str, boundaries) -> tuple[np.ndarray, list[str]]:
    from kosovo_cmr.boundaries import regions_from_municipalities

    if boundaries is None:
        raise InputError(f"by={by!r} needs the boundaries layer (boundaries=...)")
    require_crs(boundaries, name="boundaries")
    if by not in boundaries.columns:
        raise InputError(f"boundaries have no {by!r} column")
    layer = regions_from_municipalities(boundaries) if by == "region" else boundaries
    metric = layer.to_crs(settings.metric_crs)
    geoms = shapely.make_valid(metric.geometry.values)
    return geoms, [str(v) for v in metric[by]]


def _split(un: GeodesicUnion, zones, names, *, tolerance_m: float) -> pd.Series:
    """Exact cluster areas by zone, and :data:`OUTSIDE` (see :func:`._union.split_by_zones`)."""
    shares, outside = split_by_zones(un, zones, tolerance_m=tolerance_m)
    result = pd.Series(0.0, index=pd.Index(list(names) + [OUTSIDE], dtype="str"))
    result.iloc[: len(zones)] += shares
    result[OUTSIDE] += outside
    return result


@dataclass
class ImpactResult:
    """What changing the fade-out rule does to the area to clear.

    Attributes
    ----------
    from_rule, to_rule : FadeoutRule
    by : str
        ``none``, ``hazard``, ``municipality`` or ``region``.
    table : pandas.DataFrame
        One row per group: ``group``, ``evidence``, ``area_from_m2``, ``area_to_m2``,
        ``saved_m2``, ``saved_pct``.
    total : dict
        The same keys for the whole union under each rule (``group = "total"``).
    """

    from_rule: FadeoutRule
    to_rule: FadeoutRule
    by: str
    table: pd.DataFrame
    total: dict
    _evidence: gpd.GeoDataFrame = field(repr=False)
    _from: GeodesicUnion = field(repr=False)
    _to: GeodesicUnion = field(repr=False)
    _tolerance_m: float = field(default=0.01, repr=False)

    @cached_property
    def rings(self) -> gpd.GeoDataFrame:
        """The land inside the old rule's area but outside the new one's, for maps.

        One row per cluster of the old rule: ``cluster_id``, ``evidence``, ``area_m2``
        (exact when every distance of the new rule is at most the old one's, else
        measured on the drawn ring) and the polygon, in the evidence's CRS.
        """
        return ring_layer(self._from, self._to, self._evidence.crs, tolerance_m=self._tolerance_m)

    def to_dict(self) -> dict:
        """Return the result as one JSON-ready object: from, to, by, rows, total."""
        rows = []
        for rec in self.table.to_dict(orient="records"):
            rows.append({k: _plain(v) for k, v in rec.items()})
        return {
            "from": self.from_rule.name,
            "to": self.to_rule.name,
            "by": self.by,
            "rows": rows,
            "total": {k: _plain(v) for k, v in self.total.items()},
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return the result as JSON text (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _plain(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _row(group, evidence, a_from, a_to) -> dict:
    saved = a_from - a_to
    return {
        "group": group,
        "evidence": int(evidence),
        "area_from_m2": float(a_from),
        "area_to_m2": float(a_to),
        "saved_m2": float(saved),
        "saved_pct": float(100.0 * saved / a_from) if a_from > 0 else 0.0,
    }


def buffer_impact(
    evidence,
    from_rule,
    to_rule,
    *,
    by: str = "none",
    boundaries=None,
    use_accuracy: bool = False,
    tolerance_m: float = 0.01,
) -> ImpactResult:
    """Area to clear under two fade-out rules, and the difference, by group.

    Parameters
    ----------
    evidence : GeoDataFrame
        Evidence points with a CRS.
    from_rule, to_rule : str, path or FadeoutRule
        The old and the new rule (see :func:`load_rule`).
    by : {"none", "hazard", "municipality", "region"}
        ``hazard``: each hazard's evidence is unioned on its own (hazard areas may
        overlap, so rows can sum to more than the total). ``municipality`` /
        ``region``: the union is split by overlay with the boundaries; the rows sum to
        the total (area outside every boundary is the row ``(outside boundaries)``).
        Evidence counts are of points in each group.
    boundaries : GeoDataFrame, optional
        The ``boundaries`` layer (:func:`kosovo_cmr.boundaries.read_municipalities`),
        needed for ``municipality`` and ``region``.
    use_accuracy : bool, optional
        Add each point's ``accuracy_m`` to its distance under both rules.
    tolerance_m : float, optional
        Chord tolerance of the polygons used for overlays and rings.

    Returns
    -------
    ImpactResult
        ``total`` is always the whole union under each rule.

    Raises
    ------
    kosovo_cmr.errors.InputError
        On a bad rule, ``by``, or missing boundaries.
    """
    if by not in BY_CHOICES:
        raise InputError(f"by must be one of {', '.join(BY_CHOICES)}, got {by!r}")
    r_from = load_rule(from_rule)
    r_to = load_rule(to_rule)
    x, y = metric_points(evidence)
    d_from = r_from.distances_m(evidence, use_accuracy=use_accuracy)
    d_to = r_to.distances_m(evidence, use_accuracy=use_accuracy)
    u_from = geodesic_union(x, y, d_from)
    u_to = geodesic_union(x, y, d_to)
    n = len(evidence)
    total = _row("total", n, u_from.total_m2, u_to.total_m2)
    rows = []
    if by == "none":
        rows.append(_row("all", n, u_from.total_m2, u_to.total_m2))
    elif by == "hazard":
        if "hazard_id" in evidence.columns:
            ids = evidence["hazard_id"].astype(object).where(evidence["hazard_id"].notna(), None)
        else:
            ids = pd.Series([None] * n, index=evidence.index, dtype=object)
        keys = ids.fillna(NO_HAZARD).to_numpy(object)
        for key in sorted(set(keys), key=lambda k: (k == NO_HAZARD, str(k))):
            m = keys == key
            a = geodesic_union(x[m], y[m], d_from[m]).total_m2
            b = geodesic_union(x[m], y[m], d_to[m]).total_m2
            rows.append(_row(str(key), int(m.sum()), a, b))
    else:
        zones, names = _zones(by, boundaries)
        s_from = _split(u_from, zones, names, tolerance_m=tolerance_m)
        s_to = _split(u_to, zones, names, tolerance_m=tolerance_m)
        pj, zi = shapely.STRtree(zones).query(shapely.points(x, y), predicate="within")
        zone_of = np.full(n, -1, dtype=np.int64)
        zone_of[pj] = zi
        counts = np.bincount(zone_of[zone_of >= 0], minlength=len(zones))
        outside_n = int((zone_of < 0).sum())
        for i, name in enumerate(names):
            if counts[i] or s_from.iloc[i] > 0 or s_to.iloc[i] > 0:
                rows.append(_row(name, counts[i], s_from.iloc[i], s_to.iloc[i]))
        if outside_n or s_from[OUTSIDE] > 0 or s_to[OUTSIDE] > 0:
            rows.append(_row(OUTSIDE, outside_n, s_from[OUTSIDE], s_to[OUTSIDE]))
    table = pd.DataFrame(
        rows,
        columns=["group", "evidence", "area_from_m2", "area_to_m2", "saved_m2", "saved_pct"],
    )
    table["group"] = table["group"].astype("str")
    table["evidence"] = table["evidence"].astype("int64")
    return ImpactResult(
        from_rule=r_from,
        to_rule=r_to,
        by=by,
        table=table,
        total=total,
        _evidence=evidence,
        _from=u_from,
        _to=u_to,
        _tolerance_m=tolerance_m,
    )
