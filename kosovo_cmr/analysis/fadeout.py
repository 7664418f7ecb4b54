"""The area to clear around the evidence, and what a change of fade-out rule does to it.

Clearance continues a *fade-out distance* beyond the last evidence (the rules are in
:mod:`kosovo_cmr.analysis.rules`): the area to clear is the union of disks around the
evidence points. :func:`delineate` draws it, one row per cluster; Kosovo's 2024 national
standard cut that distance around BLU-97 and BL755 evidence from 50 m to 25 m, and
:func:`buffer_impact` measures what such a change does, by hazard, municipality or
region. Both run on one core (``engine="local"``) or on spatial partitions with dask
(``engine="dask"``, :mod:`kosovo_cmr.analysis.engine`), with the same results.

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

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr import settings
from kosovo_cmr._json import dumps, plain
from kosovo_cmr.analysis._disks import cluster_polygons
from kosovo_cmr.analysis._union import (
    GeodesicUnion,
    geodesic_union,
    metric_points,
    ring_layer,
    split_by_zones,
)
from kosovo_cmr.analysis.engine import check_engine, collect, map_clusters
from kosovo_cmr.analysis.rules import FadeoutRule, load_rule, values_or_unknown
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError

__all__ = [
    "OUTSIDE",
    "NO_HAZARD",
    "BY_CHOICES",
    "ImpactResult",
    "delineate",
    "union_area_m2",
    "buffer_impact",
]

#: Group label for area or evidence outside every boundary polygon.
OUTSIDE = "(outside boundaries)"
#: Group label for evidence without a hazard id.
NO_HAZARD = "(no hazard)"

#: The groupings of :func:`buffer_impact`.
BY_CHOICES = ("none", "hazard", "municipality", "region")

#: Columns of :attr:`ImpactResult.table`.
IMPACT_COLUMNS = ("group", "evidence", "area_from_m2", "area_to_m2", "saved_m2", "saved_pct")


class _Distances:
    """A picklable radius function: the largest distance of the given rules."""

    def __init__(self, rules, use_accuracy):
        self.rules = rules
        self.use_accuracy = use_accuracy

    def __call__(self, part):
        return np.max(
            [r.distances_m(part, use_accuracy=self.use_accuracy) for r in self.rules], axis=0
        )


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


# --------------------------------------------------------------------------- delineation


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
    evidence,
    rule=None,
    *,
    engine: str = "local",
    use_accuracy: bool = False,
    tolerance_m: float = 0.01,
    npartitions: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> gpd.GeoDataFrame:
    """Delineate the area to clear: the union of the fade-out disks, one row per cluster.

    Disks are built in the metric CRS (EPSG:9141); ``area_m2`` is the exact geodesic
    area of the union of the true circles (see the module notes), not the area of the
    polygons drawn.

    Parameters
    ----------
    evidence : GeoDataFrame, dask_geopandas.GeoDataFrame or iterable of GeoDataFrame
        Evidence points with a CRS (columns ``ordnance``, ``item``, ``hazard_id`` used
        when present): in memory; a dask-geopandas frame (e.g. from
        ``dask_geopandas.read_parquet``), which the dask workers read; or chunks, such as
        :meth:`kosovo_cmr.store.base.Store.read_chunks` yields, which the dask engine
        writes out one at a time (the local engine joins them).
    rule : str, path or FadeoutRule, optional
        See :func:`kosovo_cmr.analysis.rules.load_rule`.
    engine : {"local", "dask"}
        Where to run (:mod:`kosovo_cmr.analysis.engine`). The dask engine finds the same
        clusters, numbered in its partitions' order.
    use_accuracy : bool, optional
        Add each point's ``accuracy_m`` to its distance.
    tolerance_m : float, optional
        Largest distance between the drawn chords and the true circles (default 1 cm).
    npartitions, scheduler, workers
        For the dask engine: see :func:`kosovo_cmr.analysis.engine.map_clusters`.

    Returns
    -------
    GeoDataFrame
        Columns ``cluster_id``, ``evidence`` (count), ``ordnance`` (mix, e.g.
        ``BLU-97:12, BL755:3``), ``hazard_ids`` (comma-separated), ``distance_m`` (range),
        ``area_m2`` and the polygon, in the input's CRS.

    Raises
    ------
    kosovo_cmr.errors.InputError
        On a bad engine or rule, or evidence that is not points.

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
    engine = check_engine(engine)
    rule = load_rule(rule)
    if engine == "dask":
        results, meta = map_clusters(
            evidence,
            _Distances([rule], use_accuracy),
            _delineate_part,
            rule,
            use_accuracy,
            tolerance_m,
            npartitions=npartitions,
            scheduler=scheduler,
            workers=workers,
        )
        return _join_clusters(results, meta, rule)
    return _delineate_local(
        collect(evidence), rule, use_accuracy=use_accuracy, tolerance_m=tolerance_m
    )


def _delineate_local(
    evidence: gpd.GeoDataFrame, rule: FadeoutRule, *, use_accuracy: bool, tolerance_m: float
) -> gpd.GeoDataFrame:
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
    return gpd.GeoDataFrame(
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


def _delineate_part(part, rule, use_accuracy, tolerance_m):
    """Delineate one partition of whole clusters (the dask engine's task)."""
    if not len(part):
        return None
    return _delineate_local(part, rule, use_accuracy=use_accuracy, tolerance_m=tolerance_m)


def _join_clusters(results: list, meta: gpd.GeoDataFrame, rule) -> gpd.GeoDataFrame:
    """Join the clusters of all partitions, numbered in the partitions' order."""
    frames = [r for r in results if r is not None and len(r)]
    if not frames:
        return _delineate_local(meta, rule, use_accuracy=False, tolerance_m=0.01)
    out = pd.concat(frames, ignore_index=True)
    out["cluster_id"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=meta.crs)


# --------------------------------------------------------------------------- impact


def _zones(by: str, boundaries) -> tuple[np.ndarray, list[str]]:
    from kosovo_cmr.boundaries import regions_from_municipalities

    require_crs(boundaries, name="boundaries")
    if by not in boundaries.columns:
        raise InputError(f"boundaries have no {by!r} column")
    layer = regions_from_municipalities(boundaries) if by == "region" else boundaries
    metric = layer.to_crs(settings.metric_crs)
    geoms = shapely.make_valid(metric.geometry.values)
    return geoms, [str(v) for v in metric[by]]


def _given(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return layer


def _rings_from_chunks_read_once() -> gpd.GeoDataFrame:
    raise InputError(
        "the ring layer of a dask run on chunks read once (such as Store.read_chunks) "
        "cannot be drawn afterwards: pass rings=True to buffer_impact"
    )


@dataclass
class ImpactResult:
    """What changing the fade-out rule does to the area to clear.

    Both engines return it (:func:`buffer_impact`), with the same table and total.

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
    engine : str
        The engine that computed it, ``local`` or ``dask``.
    """

    from_rule: FadeoutRule
    to_rule: FadeoutRule
    by: str
    table: pd.DataFrame
    total: dict
    engine: str = "local"
    _draw_rings: Callable[[], gpd.GeoDataFrame] | None = field(
        default=None, repr=False, compare=False
    )

    @cached_property
    def rings(self) -> gpd.GeoDataFrame:
        """The land inside the old rule's area but outside the new one's, for maps.

        One row per cluster of the old rule: ``cluster_id``, ``evidence``, ``area_m2``
        (exact when every distance of the new rule is at most the old one's, else
        measured on the drawn ring) and the polygon, in the evidence's CRS. Drawn when
        first asked (the dask engine runs again, unless ``rings=True`` drew them in the
        same pass).
        """
        if self._draw_rings is None:
            raise InputError("this impact result holds no ring layer")
        return self._draw_rings()

    def to_dict(self) -> dict:
        """Return the result as one JSON-ready object: from, to, by, rows, total."""
        return {
            "from": self.from_rule.name,
            "to": self.to_rule.name,
            "by": self.by,
            "rows": plain(self.table.to_dict(orient="records")),
            "total": plain(self.total),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return the result as strict JSON text (see :meth:`to_dict`)."""
        return dumps(self.to_dict(), indent=indent)


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


def _table(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(IMPACT_COLUMNS))
    table["group"] = table["group"].astype("str")
    table["evidence"] = table["evidence"].astype("int64")
    return table


def buffer_impact(
    evidence,
    from_rule,
    to_rule,
    *,
    by: str = "none",
    boundaries=None,
    engine: str = "local",
    use_accuracy: bool = False,
    tolerance_m: float = 0.01,
    rings: bool = False,
    npartitions: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> ImpactResult:
    """Area to clear under two fade-out rules, and the difference, by group.

    Parameters
    ----------
    evidence : GeoDataFrame, dask_geopandas.GeoDataFrame or iterable of GeoDataFrame
        Evidence points with a CRS (see :func:`delineate`).
    from_rule, to_rule : str, path or FadeoutRule
        The old and the new rule (see :func:`kosovo_cmr.analysis.rules.load_rule`).
    by : {"none", "hazard", "municipality", "region"}
        ``hazard``: each hazard's evidence is unioned on its own (hazard areas may
        overlap, so rows can sum to more than the total). ``municipality`` /
        ``region``: the union is split by overlay with the boundaries; the rows sum to
        the total (area outside every boundary is the row ``(outside boundaries)``).
        Evidence counts are of points in each group.
    boundaries : GeoDataFrame, optional
        The ``boundaries`` layer (:func:`kosovo_cmr.boundaries.read_municipalities`),
        needed for ``municipality`` and ``region``.
    engine : {"local", "dask"}
        Where to run (:mod:`kosovo_cmr.analysis.engine`); the table and total are the
        same.
    use_accuracy : bool, optional
        Add each point's ``accuracy_m`` to its distance under both rules.
    tolerance_m : float, optional
        Chord tolerance of the polygons used for overlays and rings.
    rings : bool, optional
        Draw the ring layer in the same pass (dask engine; the local engine draws it
        when :attr:`ImpactResult.rings` is first asked, from what it has computed).
    npartitions, scheduler, workers
        For the dask engine: see :func:`kosovo_cmr.analysis.engine.map_clusters`.

    Returns
    -------
    ImpactResult
        ``total`` is always the whole union under each rule.

    Raises
    ------
    kosovo_cmr.errors.InputError
        On a bad engine, rule, ``by``, or missing boundaries.
    """
    engine = check_engine(engine)
    if by not in BY_CHOICES:
        raise InputError(f"by must be one of {', '.join(BY_CHOICES)}, got {by!r}")
    if by in ("municipality", "region") and boundaries is None:
        raise InputError(f"by={by!r} needs the boundaries layer (boundaries=...)")
    r_from, r_to = load_rule(from_rule), load_rule(to_rule)
    if engine == "dask":
        dask_options = {"npartitions": npartitions, "scheduler": scheduler, "workers": workers}
        options = (by, boundaries, use_accuracy, tolerance_m)
        return _impact_dask(evidence, r_from, r_to, *options, rings=rings, **dask_options)
    evidence = collect(evidence)
    x, y = metric_points(evidence)
    d_from = r_from.distances_m(evidence, use_accuracy=use_accuracy)
    d_to = r_to.distances_m(evidence, use_accuracy=use_accuracy)
    u_from = geodesic_union(x, y, d_from)
    u_to = geodesic_union(x, y, d_to)
    n = len(evidence)
    if by == "none":
        rows = [_row("all", n, u_from.total_m2, u_to.total_m2)]
    elif by == "hazard":
        rows = _rows_by_hazard(evidence, x, y, d_from, d_to)
    else:
        zones, names = _zones(by, boundaries)
        rows = _rows_by_zone(zones, names, x, y, u_from, u_to, tolerance_m=tolerance_m)
    return ImpactResult(
        from_rule=r_from,
        to_rule=r_to,
        by=by,
        table=_table(rows),
        total=_row("total", n, u_from.total_m2, u_to.total_m2),
        engine="local",
        _draw_rings=partial(ring_layer, u_from, u_to, evidence.crs, tolerance_m=tolerance_m),
    )


def _rows_by_hazard(evidence, x, y, d_from, d_to) -> list[dict]:
    """Each hazard's evidence unioned on its own, under both rules."""
    if "hazard_id" in evidence.columns:
        ids = evidence["hazard_id"].astype(object).where(evidence["hazard_id"].notna(), None)
    else:
        ids = pd.Series([None] * len(evidence), index=evidence.index, dtype=object)
    keys = ids.fillna(NO_HAZARD).to_numpy(object)
    rows = []
    for key in sorted(set(keys), key=lambda k: (k == NO_HAZARD, str(k))):
        m = keys == key
        a = geodesic_union(x[m], y[m], d_from[m]).total_m2
        b = geodesic_union(x[m], y[m], d_to[m]).total_m2
        rows.append(_row(str(key), int(m.sum()), a, b))
    return rows


def _rows_by_zone(
    zones, names, x, y, u_from: GeodesicUnion, u_to: GeodesicUnion, *, tolerance_m: float
) -> list[dict]:
    """Split the two unions by zones, and count the points in each zone."""
    s_from, out_from = split_by_zones(u_from, zones, tolerance_m=tolerance_m)
    s_to, out_to = split_by_zones(u_to, zones, tolerance_m=tolerance_m)
    pj, zi = shapely.STRtree(zones).query(shapely.points(x, y), predicate="within")
    zone_of = np.full(len(x), -1, dtype=np.int64)
    zone_of[pj] = zi
    counts = np.bincount(zone_of[zone_of >= 0], minlength=len(zones))
    outside_n = int((zone_of < 0).sum())
    rows = []
    for i, name in enumerate(names):
        if counts[i] or s_from[i] > 0 or s_to[i] > 0:
            rows.append(_row(name, counts[i], s_from[i], s_to[i]))
    if outside_n or out_from > 0 or out_to > 0:
        rows.append(_row(OUTSIDE, outside_n, out_from, out_to))
    return rows


# --------------------------------------------------------------------------- impact, dask


def _impact_part(part, from_rule, to_rule, by, boundaries, use_accuracy, tolerance_m, rings):
    """Measure the impact on one partition of whole clusters (the dask engine's task)."""
    if not len(part):
        return None
    res = buffer_impact(
        part,
        from_rule,
        to_rule,
        by=by,
        boundaries=boundaries,
        use_accuracy=use_accuracy,
        tolerance_m=tolerance_m,
    )
    return res.table, res.total, (res.rings if rings else None)


def _group_order(by: str, boundaries, groups) -> list:
    """Order the groups as the local engine lists them."""
    groups = list(dict.fromkeys(groups))
    if by in ("municipality", "region"):
        from kosovo_cmr.boundaries import regions_from_municipalities

        layer = regions_from_municipalities(boundaries) if by == "region" else boundaries
        names = [str(v) for v in layer[by]]
        return [g for g in names if g in groups] + ([OUTSIDE] if OUTSIDE in groups else [])
    if by == "hazard":
        return sorted(groups, key=lambda k: (k == NO_HAZARD, str(k)))
    return groups


def _impact_dask(
    evidence, r_from, r_to, by, boundaries, use_accuracy, tolerance_m, *, rings, **dask_options
) -> ImpactResult:
    """:func:`buffer_impact` on partitions of whole clusters, the tables added up."""
    results, meta = map_clusters(
        evidence,
        _Distances([r_from, r_to], use_accuracy),
        _impact_part,
        r_from,
        r_to,
        by,
        boundaries,
        use_accuracy,
        tolerance_m,
        rings,
        **dask_options,
    )
    results = [r for r in results if r is not None]
    table, total = _add_up([(t, tot) for t, tot, _ in results], by, boundaries)
    if rings:
        draw = partial(_given, _join_rings([r for _, _, r in results], meta.crs))
    elif isinstance(evidence, Iterator):
        draw = _rings_from_chunks_read_once
    else:
        options = (by, boundaries, use_accuracy, tolerance_m)
        draw = partial(_rings_of, evidence, r_from, r_to, *options, **dask_options)
    return ImpactResult(r_from, r_to, by, table, total, "dask", _draw_rings=draw)


def _add_up(results: list, by: str, boundaries) -> tuple[pd.DataFrame, dict]:
    """Add up the impact tables and totals of the partitions into the whole one's."""
    if not results:
        return pd.DataFrame(columns=list(IMPACT_COLUMNS)), _row("total", 0, 0.0, 0.0)
    tables = pd.concat([t for t, _ in results], ignore_index=True)
    sums = tables.groupby("group", sort=False)[["evidence", "area_from_m2", "area_to_m2"]].sum()
    order = _group_order(by, boundaries, tables["group"])
    total = _row(
        "total",
        sum(t["evidence"] for _, t in results),
        sum(t["area_from_m2"] for _, t in results),
        sum(t["area_to_m2"] for _, t in results),
    )
    return _table([_row(g, *sums.loc[g]) for g in order]), total


def _rings_of(evidence, r_from, r_to, *options, **dask_options) -> gpd.GeoDataFrame:
    """Draw the ring layer of a dask run that did not: run it again, with rings."""
    return _impact_dask(evidence, r_from, r_to, *options, rings=True, **dask_options).rings


def _join_rings(layers: list, crs) -> gpd.GeoDataFrame:
    """Join the ring layers of all partitions, numbered in the partitions' order."""
    layers = [r for r in layers if len(r)]
    if not layers:
        return gpd.GeoDataFrame(
            {"cluster_id": [], "evidence": [], "area_m2": []}, geometry=[], crs=crs
        )
    out = gpd.GeoDataFrame(pd.concat(layers, ignore_index=True), geometry="geometry", crs=crs)
    out["cluster_id"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return out
