"""Fade-out rules, delineation of the area to clear, and the impact of a rule change.

Clearance continues a *fade-out distance* beyond the last evidence: the area to clear is
the union of disks around the evidence points. Kosovo's 2024 national standard cut that
distance around BLU-97 and BL755 evidence from 50 m to 25 m; :func:`buffer_impact`
measures what such a change does, by hazard, municipality or region.

Rules are data (:func:`load_rule`): TOML files naming a default distance and distances
per ordnance, per item kind and per (ordnance, item) pair. Two are shipped in
``layers/rules/``: ``kosovo-pre-2024`` (50 m everywhere) and ``kosovo-nmas-2024`` (25 m
for BLU-97 and BL755 evidence, 50 m otherwise).

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
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Proj, Transformer

from kosovo_cmr import settings
from kosovo_cmr._resources import layer_file, layers_dir
from kosovo_cmr.analysis._disks import DiskUnion, cluster_polygons, union_of_disks
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError
from kosovo_cmr.schema import ORDNANCE, SCHEMAS

__all__ = [
    "FadeoutRule",
    "ImpactResult",
    "shipped_rules",
    "load_rule",
    "delineate",
    "union_area_m2",
    "buffer_impact",
    "cha_consistency",
    "demo_step",
]

#: The rule used when none is named.
DEFAULT_RULE = "kosovo-nmas-2024"

#: Group label for area or evidence outside every boundary polygon.
OUTSIDE = "(outside boundaries)"
#: Group label for evidence without a hazard id.
NO_HAZARD = "(no hazard)"

BY_CHOICES = ("none", "hazard", "municipality", "region")

_ITEMS = SCHEMAS["evidence"].column("item").allowed


@dataclass(frozen=True)
class FadeoutRule:
    """A fade-out rule: the distance to clear beyond each evidence point.

    The distance of a point is, by precedence, the ``specific_m`` entry for its
    (ordnance, item) pair, else its ordnance's ``ordnance_m`` entry, else its item's
    ``item_m`` entry, else ``default_m``.

    Attributes
    ----------
    name : str
        The rule's name (``kosovo-nmas-2024``).
    default_m : float
        Distance in metres for evidence that no other entry names.
    ordnance_m : dict
        Ordnance (``BLU-97``, ``BL755``, ``other``, ``unknown``) -> distance in metres.
    item_m : dict
        Item kind (``submunition``, ``component``, ...) -> distance in metres.
    specific_m : dict
        ``(ordnance, item)`` -> distance in metres.
    title : str
        One line saying what the rule is.
    source : str or None
        The file the rule was read from.
    """

    name: str
    default_m: float
    ordnance_m: Mapping[str, float] = field(default_factory=dict, hash=False)
    item_m: Mapping[str, float] = field(default_factory=dict, hash=False)
    specific_m: Mapping[tuple[str, str], float] = field(default_factory=dict, hash=False)
    title: str = ""
    source: str | None = None

    def __post_init__(self):
        values = [self.default_m, *self.ordnance_m.values(), *self.item_m.values()]
        values += list(self.specific_m.values())
        for v in values:
            if not isinstance(v, int | float) or not np.isfinite(v) or v <= 0:
                raise InputError(
                    f"fade-out rule {self.name!r}: distances must be positive numbers of "
                    f"metres, got {v!r}"
                )
        bad = sorted(set(self.ordnance_m) - set(ORDNANCE))
        bad += [o for o, _ in self.specific_m if o not in ORDNANCE]
        if bad:
            raise InputError(
                f"fade-out rule {self.name!r}: unknown ordnance {', '.join(map(repr, bad))}; "
                f"expected one of {', '.join(ORDNANCE)}"
            )
        bad = sorted(set(self.item_m) - set(_ITEMS))
        bad += [i for _, i in self.specific_m if i not in _ITEMS]
        if bad:
            raise InputError(
                f"fade-out rule {self.name!r}: unknown item {', '.join(map(repr, bad))}; "
                f"expected one of {', '.join(_ITEMS)}"
            )

    @property
    def max_m(self) -> float:
        """The largest distance the rule can give."""
        values = [self.default_m, *self.ordnance_m.values(), *self.item_m.values()]
        return float(max(values + list(self.specific_m.values())))

    def distances_m(self, evidence, *, use_accuracy: bool = False) -> np.ndarray:
        """Fade-out distance of each evidence point, in metres.

        Parameters
        ----------
        evidence : DataFrame
            Evidence rows with ``ordnance`` and ``item`` columns (a missing column counts
            as unknown for every row).
        use_accuracy : bool, optional
            Add each point's recorded ``accuracy_m`` (missing values count 0).

        Returns
        -------
        numpy.ndarray of float
            Aligned with the rows of ``evidence``.

        Examples
        --------
        >>> import pandas as pd
        >>> rule = load_rule("kosovo-nmas-2024")
        >>> rule.distances_m(pd.DataFrame({"ordnance": ["BLU-97", "other"],
        ...                                "item": ["component", "crater"]})).tolist()
        [25.0, 50.0]
        """
        n = len(evidence)
        ordn = _column(evidence, "ordnance", n)
        item = _column(evidence, "item", n)
        out = np.full(n, float(self.default_m))
        for name, dist in self.item_m.items():
            out[item == name] = dist
        for name, dist in self.ordnance_m.items():
            out[ordn == name] = dist
        for (o, i), dist in self.specific_m.items():
            out[(ordn == o) & (item == i)] = dist
        if use_accuracy:
            if "accuracy_m" not in evidence.columns:
                raise InputError("use_accuracy needs an 'accuracy_m' column in the evidence")
            acc = pd.to_numeric(evidence["accuracy_m"], errors="coerce").to_numpy(float)
            if np.any(acc < 0):
                raise InputError("evidence accuracy_m must not be negative")
            out = out + np.nan_to_num(acc, nan=0.0)
        return out

    def describe(self) -> str:
        """One line: the rule's name and distances."""
        parts = [f"default {self.default_m:g} m"]
        parts += [f"{k} {v:g} m" for k, v in self.ordnance_m.items()]
        parts += [f"{k} {v:g} m" for k, v in self.item_m.items()]
        parts += [f"{o}/{i} {v:g} m" for (o, i), v in self.specific_m.items()]
        return f"{self.name}: " + ", ".join(parts)


def _column(frame, name: str, n: int) -> np.ndarray:
    if name not in frame.columns:
        return np.full(n, "unknown", dtype=object)
    return frame[name].astype(object).where(frame[name].notna(), "unknown").to_numpy(object)


def shipped_rules() -> list[str]:
    """Names of the rules shipped in ``layers/rules/``.

    Examples
    --------
    >>> shipped_rules()
    ['kosovo-nmas-2024', 'kosovo-pre-2024']
    """
    return sorted(p.stem for p in (layers_dir() / "rules").glob("*.toml"))


def _rule_from_toml(path: Path) -> FadeoutRule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read fade-out rule {path}: {exc}") from exc
    known = {"name", "title", "default_m", "ordnance", "item", "specific"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(
            f"fade-out rule {path}: unknown key(s) {', '.join(unknown)}; "
            f"expected {', '.join(sorted(known))}"
        )
    if "default_m" not in data:
        raise InputError(f"fade-out rule {path} has no default_m (the distance for the rest)")
    specific = {}
    for entry in data.get("specific", []):
        try:
            specific[(entry["ordnance"], entry["item"])] = entry["distance_m"]
        except (KeyError, TypeError) as exc:
            raise InputError(
                f"fade-out rule {path}: each [[specific]] entry needs ordnance, item and distance_m"
            ) from exc
    for key in ("ordnance", "item"):
        if not isinstance(data.get(key, {}), dict):
            raise InputError(f"fade-out rule {path}: [{key}] must be a table of distances")
    return FadeoutRule(
        name=str(data.get("name", path.stem)),
        default_m=data["default_m"],
        ordnance_m=dict(data.get("ordnance", {})),
        item_m=dict(data.get("item", {})),
        specific_m=specific,
        title=str(data.get("title", "")),
        source=str(path),
    )


def load_rule(rule=None, *, distance_m: float | None = None) -> FadeoutRule:
    """Return a fade-out rule.

    Parameters
    ----------
    rule : str, path or FadeoutRule, optional
        A shipped rule's name (see :func:`shipped_rules`), the path of a rule file
        (TOML), or a rule (returned as is). Default :data:`DEFAULT_RULE` unless
        ``distance_m`` is given.
    distance_m : float, optional
        A uniform rule: this distance around every evidence point.

    Returns
    -------
    FadeoutRule

    Raises
    ------
    kosovo_cmr.errors.InputError
        If both arguments are given, the name is neither shipped nor a file, the file is
        not a valid rule, or a distance is not positive.

    Examples
    --------
    >>> load_rule("kosovo-pre-2024").default_m
    50.0
    >>> load_rule(distance_m=30).name
    'uniform-30m'
    """
    if distance_m is not None:
        if rule is not None:
            raise InputError("give a rule or a uniform distance_m, not both")
        try:
            d = float(distance_m)
        except (TypeError, ValueError) as exc:
            raise InputError(f"distance_m must be a number of metres, got {distance_m!r}") from exc
        return FadeoutRule(name=f"uniform-{d:g}m", default_m=d, title=f"{d:g} m around all")
    if rule is None:
        rule = DEFAULT_RULE
    if isinstance(rule, FadeoutRule):
        return rule
    if not isinstance(rule, str | os.PathLike):
        raise InputError(f"rule must be a name, a path or a FadeoutRule, got {type(rule).__name__}")
    text = str(rule)
    if text in shipped_rules():
        return _rule_from_toml(layer_file("rules", f"{text}.toml"))
    path = Path(text)
    if path.is_file():
        return _rule_from_toml(path)
    raise InputError(
        f"no fade-out rule {text!r}: give a shipped rule ({', '.join(shipped_rules())}), "
        "the path of a rule file, or a uniform distance (--distance M)"
    )


# --------------------------------------------------------------------------- evidence


def _metric_points(evidence, *, name: str = "evidence"):
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
class _Union:
    """A disk union with its exact geodesic cluster areas."""

    du: DiskUnion
    area_m2: np.ndarray  # geodesic, per cluster

    @property
    def total_m2(self) -> float:
        return float(self.area_m2.sum())


def _union(x, y, r) -> _Union:
    du = union_of_disks(x, y, r)
    if du.n_clusters == 0:
        return _Union(du, np.zeros(0))
    w = r * r
    sw = np.bincount(du.labels, weights=w, minlength=du.n_clusters)
    cx = np.bincount(du.labels, weights=w * x, minlength=du.n_clusters) / sw
    cy = np.bincount(du.labels, weights=w * y, minlength=du.n_clusters) / sw
    return _Union(du, du.area / _areal_scale(cx, cy))


def union_area_m2(evidence, rule=None, *, use_accuracy: bool = False) -> float:
    """Geodesic area in m2 of the whole union of the fade-out disks.

    Parameters
    ----------
    evidence : GeoDataFrame
        Evidence points with a CRS.
    rule : str, path or FadeoutRule, optional
        See :func:`load_rule`.
    use_accuracy : bool, optional
        Add each point's ``accuracy_m`` to its distance.

    Returns
    -------
    float
    """
    rule = load_rule(rule)
    x, y = _metric_points(evidence)
    return _union(x, y, rule.distances_m(evidence, use_accuracy=use_accuracy)).total_m2


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
        See :func:`load_rule`.
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
    x, y = _metric_points(evidence)
    r = rule.distances_m(evidence, use_accuracy=use_accuracy)
    un = _union(x, y, r)
    du = un.du
    k = du.n_clusters
    polys = cluster_polygons(du, tolerance_m=tolerance_m)
    n_ev = np.bincount(du.labels, minlength=k)
    rmin = np.full(k, np.inf)
    rmax = np.zeros(k)
    np.minimum.at(rmin, du.labels, r)
    np.maximum.at(rmax, du.labels, r)
    ordnance = _mix(du.labels, _column(evidence, "ordnance", len(evidence)), k)
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


def _split_by_zones(un: _Union, zones, names, *, tolerance_m: float) -> pd.Series:
    """Exact cluster areas split over zones by the fractions of their polygons.

    A cluster whose bounding box lies within one zone goes to it whole; the others are
    drawn and intersected with the zones, and each zone receives the fraction of the
    cluster's polygon inside it times the cluster's exact area (the rest goes to
    :data:`OUTSIDE`). The parts therefore sum exactly to the total.
    """
    du = un.du
    result = pd.Series(0.0, index=pd.Index(list(names) + [OUTSIDE], dtype="str"))
    if du.n_clusters == 0:
        return result
    tree = shapely.STRtree(zones)
    boxes = _cluster_boxes(du)
    ci, zi = tree.query(boxes, predicate="within")
    zone_of = np.full(du.n_clusters, -1, dtype=np.int64)
    zone_of[ci] = zi
    whole = zone_of >= 0
    shares = np.bincount(zone_of[whole], weights=un.area_m2[whole], minlength=len(zones)).astype(
        float
    )
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
    result.iloc[: len(zones)] += shares
    result[OUTSIDE] += outside
    return result


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
    _from: _Union = field(repr=False)
    _to: _Union = field(repr=False)
    _tolerance_m: float = field(default=0.01, repr=False)

    @cached_property
    def rings(self) -> gpd.GeoDataFrame:
        """The land inside the old rule's area but outside the new one's, for maps.

        One row per cluster of the old rule: ``cluster_id``, ``evidence``, ``area_m2``
        (exact when every distance of the new rule is at most the old one's, else
        measured on the drawn ring) and the polygon, in the evidence's CRS.
        """
        crs = self._evidence.crs
        a, b = self._from.du, self._to.du
        polys_from = cluster_polygons(a, tolerance_m=self._tolerance_m)
        polys_to = cluster_polygons(b, tolerance_m=self._tolerance_m)
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
            area = self._from.area_m2 - np.bincount(owner, weights=self._to.area_m2, minlength=k)
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
    x, y = _metric_points(evidence)
    d_from = r_from.distances_m(evidence, use_accuracy=use_accuracy)
    d_to = r_to.distances_m(evidence, use_accuracy=use_accuracy)
    u_from = _union(x, y, d_from)
    u_to = _union(x, y, d_to)
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
            a = _union(x[m], y[m], d_from[m]).total_m2
            b = _union(x[m], y[m], d_to[m]).total_m2
            rows.append(_row(str(key), int(m.sum()), a, b))
    else:
        zones, names = _zones(by, boundaries)
        s_from = _split_by_zones(u_from, zones, names, tolerance_m=tolerance_m)
        s_to = _split_by_zones(u_to, zones, names, tolerance_m=tolerance_m)
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


# --------------------------------------------------------------------------- CHA check


def cha_consistency(
    hazards,
    evidence,
    rule=None,
    *,
    use_accuracy: bool = False,
    tolerance_m: float = 0.01,
    min_area_m2: float = 0.01,
) -> gpd.GeoDataFrame:
    """Hazards that do not cover their own evidence plus fade-out, and stray evidence.

    The report recommends reviewing how CHAs are established; this lists what to review.
    A hazard is reported when the fade-out disk of one or more of its evidence points
    (evidence whose ``hazard_id`` is the hazard's) reaches outside its polygon; an
    evidence point is reported when it lies in no hazard polygon. Work is done in the
    metric CRS; a disk is inside a polygon exactly when its centre is inside and its
    distance to the polygon's boundary is at least its radius.

    Parameters
    ----------
    hazards : GeoDataFrame
        Hazard polygons with ``hazard_id`` and a CRS.
    evidence : GeoDataFrame
        Evidence points with a CRS.
    rule : str, path or FadeoutRule, optional
        See :func:`load_rule`.
    use_accuracy : bool, optional
        Add each point's ``accuracy_m`` to its distance.
    tolerance_m : float, optional
        Chord tolerance of the drawn uncovered areas.
    min_area_m2 : float, optional
        Uncovered areas smaller than this are not reported (rounding at the edge).

    Returns
    -------
    GeoDataFrame
        Columns ``check`` (``fadeout_outside_hazard`` or ``evidence_outside_hazards``),
        ``hazard_id``, ``evidence`` (count of points concerned), ``evidence_ids``,
        ``uncovered_m2`` (geodesic area of the fade-out outside the hazard, measured on
        the drawn disks) and the geometry (the uncovered area, or the point), in the
        evidence's CRS.
    """
    rule = load_rule(rule)
    crs = require_crs(evidence, name="evidence")
    require_crs(hazards, name="hazards")
    if "hazard_id" not in hazards.columns:
        raise InputError("hazards need a 'hazard_id' column")
    x, y = _metric_points(evidence)
    r = rule.distances_m(evidence, use_accuracy=use_accuracy)
    pts = shapely.points(x, y)
    hz = hazards.to_crs(settings.metric_crs)
    hgeom = shapely.make_valid(hz.geometry.values)
    hid = hz["hazard_id"].astype(str).to_numpy(object)
    ev_ids = (
        evidence["evidence_id"].astype(str).to_numpy(object)
        if "evidence_id" in evidence.columns
        else np.asarray([str(i) for i in evidence.index], dtype=object)
    )
    own = (
        evidence["hazard_id"].astype(object).to_numpy(object)
        if "hazard_id" in evidence.columns
        else np.full(len(evidence), None, dtype=object)
    )
    records = []
    for h, geom in zip(hid, hgeom, strict=True):
        m = np.flatnonzero(own == h)
        if not len(m) or geom is None or geom.is_empty:
            continue
        shapely.prepare(geom)
        inside = shapely.contains(geom, pts[m]) & (
            shapely.distance(pts[m], geom.boundary) >= r[m] - 1e-9
        )
        out = m[~inside]
        if not len(out):
            continue
        un = union_of_disks(x[m], y[m], r[m])
        disks = shapely.union_all(cluster_polygons(un, tolerance_m=tolerance_m))
        uncovered = shapely.difference(disks, geom)
        area = float(geodesic_area([uncovered], crs=settings.metric_crs)[0])
        if area < min_area_m2:
            continue
        records.append(
            ("fadeout_outside_hazard", h, len(out), ", ".join(ev_ids[out]), area, uncovered)
        )
    tree = shapely.STRtree(hgeom)
    hit, _ = tree.query(pts, predicate="within")
    stray = np.ones(len(pts), dtype=bool)
    stray[hit] = False
    for i in np.flatnonzero(stray):
        h = own[i] if own[i] is not None and own[i] == own[i] else None
        records.append(("evidence_outside_hazards", h, 1, ev_ids[i], 0.0, pts[i]))
    frame = pd.DataFrame(
        records,
        columns=["check", "hazard_id", "evidence", "evidence_ids", "uncovered_m2", "geometry"],
    )
    geoms = gpd.GeoSeries(list(frame.pop("geometry")), crs=settings.metric_crs).to_crs(crs)
    out = gpd.GeoDataFrame(frame, geometry=geoms.values, crs=crs)
    for col in ("check", "hazard_id", "evidence_ids"):
        out[col] = out[col].astype("str")
    out["evidence"] = out["evidence"].astype("int64")
    out["uncovered_m2"] = out["uncovered_m2"].astype(float)
    return out


# --------------------------------------------------------------------------- demo


def demo_step(ctx) -> None:
    """Fade-out: the 50 m -> 25 m impact by region and municipality, and the ring layer."""
    evidence = ctx.store.read("evidence")
    boundaries = ctx.store.read("boundaries")
    old, new = "kosovo-pre-2024", "kosovo-nmas-2024"
    whole_from = union_area_m2(evidence, old)
    whole_to = union_area_m2(evidence, new)
    rings = None
    for by in ("region", "municipality"):
        result = buffer_impact(evidence, old, new, by=by, boundaries=boundaries)
        csv = ctx.output(f"fadeout-impact-{by}.csv")
        result.table.to_csv(csv, index=False, float_format="%.2f")
        ctx.add_output(f"fade-out impact by {by} (CSV)", csv)
        js = ctx.output(f"fadeout-impact-{by}.json")
        js.write_text(result.to_json() + "\n", encoding="utf-8")
        ctx.add_output(f"fade-out impact by {by} (JSON)", js)
        parts_from = float(result.table["area_from_m2"].sum())
        parts_to = float(result.table["area_to_m2"].sum())
        if not (
            np.isclose(parts_from, whole_from, rtol=1e-9)
            and np.isclose(parts_to, whole_to, rtol=1e-9)
        ):
            raise RuntimeError(f"fade-out split by {by} does not sum to the whole union")
        rings = result.rings
    path = ctx.output("fadeout-rings.geojson")
    if path.exists():
        path.unlink()
    rings.assign(synthetic=True).to_file(path, driver="GeoJSON")
    ctx.add_output("fade-out rings (land released by the 2024 rule)", path)
    saved = whole_from - whole_to
    ctx.summary.append(
        f"fade-out 50 m -> 25 m ({len(evidence)} evidence points): {whole_from:,.0f} m2 -> "
        f"{whole_to:,.0f} m2, {saved:,.0f} m2 less to clear "
        f"({100 * saved / whole_from if whole_from else 0:.1f} %)"
    )
