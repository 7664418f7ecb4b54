"""The evidence audit of the hazards: how much of each hazard the evidence supports.

The Mine Action Review recommends that Kosovo "review the basis on which CHAs are
established": in 2024, 198,252 m2 were cleared with no CMR found (its Table 8).
:func:`evidence_audit` answers, per hazard, the question an analyst asks before sending
a team: which part of it does evidence support, and which part does none?

A point of a hazard is *supported* when it lies within the fade-out distance of an
evidence point (the union of the fade-out disks, :mod:`kosovo_cmr.analysis.fadeout`), or
within a strike footprint (recorded, :func:`~kosovo_cmr.analysis.strikes.strike_footprints`,
or inferred from the evidence, :func:`~kosovo_cmr.analysis.strikes.infer_strikes`) plus
the fade-out distance of its submunitions. The rest is *unsupported*: land a technical
survey could reduce. The audit also lists the evidence outside every CHA (a candidate
for a new or extended hazard), evidence older than a threshold or with poor or unknown
accuracy, and hazards with no evidence at all.

Accuracy
--------
``area_m2`` is the geodesic area of the hazard polygon. ``supported_m2`` and
``unsupported_m2`` are the geodesic areas of the hazard's intersection with, and
difference from, one drawn support polygon (built in EPSG:9141): they partition the
hazard, so their sum equals ``area_m2`` to floating point (``closure_m2`` reports the
gap, which the tests hold under 1 m2). The drawn disks are polygons whose chords lie
within ``tolerance_m`` (1 cm) of the true circles, so ``supported_m2`` is short of the
area the true circles support by at most about ``2/3 * tolerance_m`` per metre of circle
boundary inside the hazard (0.05 % of a 25 m disk); footprint ovals are drawn with 256
vertices (0.01 % of their area).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr import settings
from kosovo_cmr._json import dumps, plain
from kosovo_cmr.analysis._disks import cluster_polygons
from kosovo_cmr.analysis._union import geodesic_union, metric_points
from kosovo_cmr.analysis.rules import load_rule
from kosovo_cmr.analysis.strikes import infer_strikes, strike_footprints
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError

__all__ = [
    "FOOTPRINT_CHOICES",
    "SPENT_ITEMS",
    "AUDIT_COLUMNS",
    "EVIDENCE_STATUS",
    "AuditResult",
    "evidence_audit",
]

#: Which strike footprints count as support.
FOOTPRINT_CHOICES = ("both", "recorded", "inferred", "none")

#: Items left by submunitions that functioned (the Review's Table 8 note on HALO's areas
#: cleared with no CMR: "fragmentation from exploded submunitions and ... craters").
SPENT_ITEMS = ("fragments", "crater")

#: The submunition of each munition, for a footprint's fade-out distance.
_ORDNANCE_OF = {"CBU-87": "BLU-97", "RBL755": "BL755", "other": "other"}

#: Columns of :attr:`AuditResult.hazards`.
AUDIT_COLUMNS = (
    "hazard_id",
    "kind",
    "municipality",
    "area_m2",
    "supported_m2",
    "unsupported_m2",
    "unsupported_pct",
    "supported_by_evidence_m2",
    "closure_m2",
    "evidence",
    "evidence_outside",
    "evidence_old",
    "evidence_poor_accuracy",
    "evidence_unknown_accuracy",
    "spent_share",
    "evidence_per_ha",
    "newest_evidence",
    "years_since_evidence",
    "footprints",
    "flags",
)

#: Status of each evidence point (:attr:`AuditResult.evidence`).
EVIDENCE_STATUS = {
    "in_cha": "inside an audited CHA",
    "in_sha": "inside an audited SHA only",
    "released": "inside land released on or after the day it was found",
    "outside": "outside every audited hazard and every release: a new or extended hazard?",
}


@dataclass
class AuditResult:
    """The evidence audit (:func:`evidence_audit`).

    Attributes
    ----------
    hazards : pandas.DataFrame
        One row per hazard, columns :data:`AUDIT_COLUMNS`.
    unsupported : GeoDataFrame
        The unsupported part of each hazard that has one: ``hazard_id``, ``kind``,
        ``unsupported_m2``, ``synthetic`` and the polygon, in the hazards' CRS.
    evidence : GeoDataFrame
        Every evidence point with ``evidence_id``, ``hazard_id``, ``status`` (see
        :data:`EVIDENCE_STATUS`), ``old`` and ``poor_accuracy``, in its CRS.
    parameters : dict
        Rule, footprints, as-of date, thresholds and tolerance.
    """

    hazards: pd.DataFrame
    unsupported: gpd.GeoDataFrame
    evidence: gpd.GeoDataFrame
    parameters: dict

    @property
    def summary(self) -> dict:
        """Totals: hazards, areas, shares and counts of what the audit flags."""
        h, ev = self.hazards, self.evidence
        area = float(h["area_m2"].sum())
        unsupported = float(h["unsupported_m2"].sum())
        return {
            "hazards": len(h),
            "area_m2": area,
            "supported_m2": float(h["supported_m2"].sum()),
            "unsupported_m2": unsupported,
            "unsupported_pct": 100.0 * unsupported / area if area else 0.0,
            "hazards_without_evidence": int((h["evidence"] == 0).sum()),
            "chas_without_evidence": int(((h["evidence"] == 0) & (h["kind"] == "CHA")).sum()),
            "evidence": len(ev),
            **{f"evidence_{k}": int((ev["status"] == k).sum()) for k in EVIDENCE_STATUS},
            "evidence_old": int(ev["old"].sum()),
            "evidence_poor_accuracy": int(ev["poor_accuracy"].sum()),
        }

    def to_dict(self) -> dict:
        """Return ``parameters``, ``summary``, ``hazards`` rows and ``evidence_outside``."""
        ev = self.evidence[self.evidence["status"] == "outside"].to_crs(4326)
        outside = pd.DataFrame(
            {
                "evidence_id": ev["evidence_id"],
                "hazard_id": ev["hazard_id"],
                "lon": ev.geometry.x,
                "lat": ev.geometry.y,
            }
        )
        return plain(
            {
                "parameters": self.parameters,
                "summary": self.summary,
                "hazards": self.hazards.to_dict(orient="records"),
                "evidence_outside": outside.to_dict(orient="records"),
            }
        )

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return :meth:`to_dict` as strict JSON."""
        return dumps(self.to_dict(), indent=indent)


# --------------------------------------------------------------------------- support


def _footprint_support(strikes, inferred, rule) -> np.ndarray:
    """Footprint ovals (metric) buffered by their submunitions' fade-out distance."""
    out = []
    for layer in (strikes, inferred):
        if layer is None or not len(layer):
            continue
        if layer is strikes:  # recorded strikes are points: draw their ovals
            present = layer[~layer.geometry.isna() & ~layer.geometry.is_empty]
            layer = strike_footprints(present)
        metric = layer.to_crs(settings.metric_crs)
        metric = metric[~metric.geometry.isna() & ~metric.geometry.is_empty]
        munition = metric.get("munition", pd.Series("unknown", index=metric.index))
        items = pd.DataFrame(
            {
                "ordnance": [_ORDNANCE_OF.get(m, "unknown") for m in munition],
                "item": "submunition",
            }
        )
        reach = rule.distances_m(items)
        out += list(shapely.buffer(metric.geometry.values, reach, quad_segs=16))
    return np.array(out, dtype=object)


def _support(evidence, strikes, inferred, rule, *, use_accuracy, tolerance_m):
    """Return the pieces of support (metric polygons) and which of them are evidence disks."""
    disks = np.empty(0, dtype=object)
    if len(evidence):
        x, y = metric_points(evidence)
        un = geodesic_union(x, y, rule.distances_m(evidence, use_accuracy=use_accuracy))
        disks = cluster_polygons(un.du, tolerance_m=tolerance_m)
    ovals = _footprint_support(strikes, inferred, rule)
    pieces = np.concatenate([disks, ovals]) if len(ovals) else disks
    return pieces, np.arange(len(pieces)) < len(disks)


# --------------------------------------------------------------------------- evidence


def _dates(frame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column], errors="coerce")


def _evidence_status(ev_m, hz_geoms, kinds, releases) -> np.ndarray:
    """Status of each evidence point (metric frame): in a CHA, an SHA, released, outside."""
    pts = ev_m.geometry.values
    status = np.full(len(pts), "outside", dtype=object)
    if releases is not None and len(releases):
        rel = releases.to_crs(settings.metric_crs)
        rel = rel[~rel.geometry.isna() & ~rel.geometry.is_empty]
        geoms = shapely.make_valid(rel.geometry.values)
        pi, ri = shapely.STRtree(geoms).query(pts, predicate="within")
        found = _dates(ev_m, "found").to_numpy()[pi]
        when = _dates(rel, "date").to_numpy()[ri]
        ok = np.isnat(found) | np.isnat(when) | (when >= found)
        status[pi[ok]] = "released"
    for kind, label in (("SHA", "in_sha"), ("CHA", "in_cha")):
        sel = np.flatnonzero(kinds == kind)
        if len(sel):
            pi, _ = shapely.STRtree(hz_geoms[sel]).query(pts, predicate="within")
            status[pi] = label
    return status


# --------------------------------------------------------------------------- per hazard


def _hazard_row(h, geom, area_m2, ev_idx, own_idx, ev, pieces, is_disk, tree, p) -> tuple:
    """One hazard's row, and its unsupported part (metric)."""
    hits = tree.query(geom, predicate="intersects") if not geom.is_empty else np.empty(0, int)
    support = shapely.union_all(pieces[hits]) if len(hits) else shapely.Polygon()
    disks = shapely.union_all(pieces[hits[is_disk[hits]]]) if len(hits) else shapely.Polygon()
    parts = [
        shapely.intersection(geom, support),
        shapely.difference(geom, support),
        shapely.intersection(geom, disks),
    ]
    s_m2, u_m2, d_m2 = geodesic_area(parts, crs=settings.metric_crs)
    mine = np.union1d(ev_idx, own_idx)
    found = ev["_found"].to_numpy()[mine]
    newest = pd.Series(found).max() if len(mine) else pd.NaT
    acc = ev["_accuracy"].to_numpy()[mine]
    items = ev["_item"].to_numpy()[mine]
    n = len(mine)
    outside = len(np.setdiff1d(own_idx, ev_idx))
    old = int(np.sum(found < p["old_before"]))
    poor = int(np.sum(acc > p["poor_accuracy_m"]))
    unknown_acc = int(np.sum(np.isnan(acc)))
    years = (p["as_of"] - newest).days / 365.25 if pd.notna(newest) else float("nan")
    flags = [
        text
        for cond, text in (
            (n == 0, "no evidence"),
            (outside > 0, "evidence outside its polygon"),
            (old > 0, "old evidence"),
            (poor + unknown_acc > 0, "poor or unknown accuracy"),
        )
        if cond
    ]
    row = {
        "hazard_id": h.hazard_id,
        "kind": h.kind,
        "municipality": h.municipality,
        "area_m2": float(area_m2),
        "supported_m2": float(s_m2),
        "unsupported_m2": float(u_m2),
        "unsupported_pct": float(100.0 * u_m2 / area_m2) if area_m2 > 0 else 0.0,
        "supported_by_evidence_m2": float(d_m2),
        "closure_m2": float(area_m2 - s_m2 - u_m2),
        "evidence": n,
        "evidence_outside": outside,
        "evidence_old": old,
        "evidence_poor_accuracy": poor,
        "evidence_unknown_accuracy": unknown_acc,
        "spent_share": float(np.isin(items, SPENT_ITEMS).mean()) if n else float("nan"),
        "evidence_per_ha": float(n / (area_m2 / 1e4)) if area_m2 > 0 else float("nan"),
        "newest_evidence": newest,
        "years_since_evidence": years,
        "footprints": int(np.sum(~is_disk[hits])),
        "flags": "; ".join(flags),
    }
    return row, parts[1]


def _check(hazards, evidence, footprints):
    require_crs(hazards, name="hazards")
    require_crs(evidence, name="evidence")
    for col in ("hazard_id", "kind"):
        if col not in hazards.columns:
            raise InputError(f"hazards need a {col!r} column")
    if footprints not in FOOTPRINT_CHOICES:
        raise InputError(
            f"footprints must be one of {', '.join(FOOTPRINT_CHOICES)}, got {footprints!r}"
        )


def _prepared_evidence(evidence, p) -> gpd.GeoDataFrame:
    """Evidence in the metric CRS with the columns the rows read, and its flags."""
    ev = evidence.to_crs(settings.metric_crs)
    ev["_found"] = _dates(ev, "found")
    acc = ev["accuracy_m"] if "accuracy_m" in ev.columns else pd.Series(np.nan, index=ev.index)
    ev["_accuracy"] = pd.to_numeric(acc, errors="coerce").astype(float)
    ev["_item"] = ev["item"].astype(object) if "item" in ev.columns else "unknown"
    return ev


def evidence_audit(
    hazards: gpd.GeoDataFrame,
    evidence: gpd.GeoDataFrame,
    *,
    strikes: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
    rule=None,
    footprints: str = "both",
    as_of=None,
    old_after_years: float = 10.0,
    poor_accuracy_m: float = 10.0,
    use_accuracy: bool = False,
    tolerance_m: float = 0.01,
) -> AuditResult:
    """Audit each hazard against its evidence: supported and unsupported area, and flags.

    Work is done in the metric CRS (EPSG:9141); areas are geodesic (see the module notes
    for how exact each is).

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards to audit (e.g. those whose status is ``active``): polygons with
        ``hazard_id`` and ``kind`` (``CHA``/``SHA``) and a CRS.
    evidence : GeoDataFrame
        Evidence points with a CRS (``ordnance``, ``item``, ``found``, ``accuracy_m``,
        ``hazard_id`` used when present). All of them support the land they reach,
        whichever hazard they were recorded for.
    strikes : GeoDataFrame, optional
        Recorded strikes (the ``strikes`` layer).
    releases : GeoDataFrame, optional
        Release polygons: evidence inside land released on or after the day it was
        found has status ``released``, not ``outside``.
    rule : str, path or FadeoutRule, optional
        The fade-out rule (default ``kosovo-nmas-2024``).
    footprints : {"both", "recorded", "inferred", "none"}
        Which strike footprints count as support (inferred ones by
        :func:`~kosovo_cmr.analysis.strikes.infer_strikes` under ``rule``).
    as_of : date, optional
        The day the audit speaks for (default today): evidence found more than
        ``old_after_years`` before it is old.
    old_after_years : float, default 10
        ASSUMPTION (no standard sets it): evidence older than this is flagged.
    poor_accuracy_m : float, default 10
        ASSUMPTION: a recorded accuracy worse than this (40 % of the 25 m fade-out) is
        flagged; a missing one is counted apart.
    use_accuracy : bool, optional
        Add each point's ``accuracy_m`` to its fade-out distance.
    tolerance_m : float, default 0.01
        Chord tolerance of the drawn disks.

    Returns
    -------
    AuditResult

    Raises
    ------
    kosovo_cmr.errors.InputError
        On missing columns, a bad ``footprints`` choice, or evidence that is not points.
    """
    _check(hazards, evidence, footprints)
    rule = load_rule(rule)
    as_of = pd.Timestamp(as_of if as_of is not None else pd.Timestamp.today()).normalize()
    p = {
        "as_of": as_of,
        "old_before": as_of - pd.DateOffset(days=round(365.25 * old_after_years)),
        "poor_accuracy_m": float(poor_accuracy_m),
    }
    recorded = strikes if footprints in ("both", "recorded") else None
    inferred = None
    if footprints in ("both", "inferred") and len(evidence):
        inferred = infer_strikes(evidence, rule, bootstrap=0).footprints
    pieces, is_disk = _support(
        evidence, recorded, inferred, rule, use_accuracy=use_accuracy, tolerance_m=tolerance_m
    )
    tree = shapely.STRtree(pieces)
    hz = hazards.to_crs(settings.metric_crs)
    geoms = shapely.make_valid(hz.geometry.values)
    areas = geodesic_area(hazards)
    ev = _prepared_evidence(evidence, p)
    inside_ev, inside_hz = shapely.STRtree(geoms).query(ev.geometry.values, predicate="within")
    own = ev["hazard_id"].astype(object).to_numpy(object) if "hazard_id" in ev else None
    rows, holes = [], []
    for i, h in enumerate(hz.assign(municipality=hz.get("municipality")).itertuples(index=False)):
        own_idx = np.flatnonzero(own == h.hazard_id) if own is not None else np.empty(0, int)
        row, hole = _hazard_row(
            h,
            geoms[i],
            areas[i],
            inside_ev[inside_hz == i],
            own_idx,
            ev,
            pieces,
            is_disk,
            tree,
            p,
        )
        rows.append(row)
        holes.append(hole)
    table = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
    status = _evidence_status(ev, geoms, hz["kind"].to_numpy(object), releases)
    return AuditResult(
        hazards=table,
        unsupported=_unsupported_layer(table, holes, hazards),
        evidence=_evidence_layer(evidence, ev, status, p),
        parameters={
            "rule": rule.name,
            "footprints": footprints,
            "as_of": as_of,
            "old_after_years": float(old_after_years),
            "poor_accuracy_m": float(poor_accuracy_m),
            "use_accuracy": bool(use_accuracy),
            "tolerance_m": float(tolerance_m),
            "metric_crs": settings.metric_crs,
            "inferred_footprints": 0 if inferred is None else len(inferred),
            "recorded_footprints": 0 if recorded is None else len(recorded),
        },
    )


def _is_synthetic(frame) -> bool:
    return "synthetic" in frame.columns and bool(
        frame["synthetic"].fillna(False).astype(bool).any()
    )


def _unsupported_layer(table, holes, hazards) -> gpd.GeoDataFrame:
    """Return the unsupported part of each hazard that has one, in the hazards' CRS."""
    keep = [i for i, g in enumerate(holes) if g is not None and not g.is_empty]
    geoms = gpd.GeoSeries([holes[i] for i in keep], crs=settings.metric_crs).to_crs(hazards.crs)
    return gpd.GeoDataFrame(
        {
            "hazard_id": table["hazard_id"].iloc[keep].astype("str").to_numpy(),
            "kind": table["kind"].iloc[keep].astype("str").to_numpy(),
            "unsupported_m2": table["unsupported_m2"].iloc[keep].to_numpy(float),
            "synthetic": _is_synthetic(hazards),
        },
        geometry=geoms.values,
        crs=hazards.crs,
    )


def _evidence_layer(evidence, ev, status, p) -> gpd.GeoDataFrame:
    """Every evidence point with its audit status and flags, in its own CRS."""
    ids = (
        evidence["evidence_id"].astype(str).to_numpy(object)
        if "evidence_id" in evidence.columns
        else np.asarray([str(i) for i in evidence.index], dtype=object)
    )
    hazard = evidence["hazard_id"] if "hazard_id" in evidence.columns else None
    return gpd.GeoDataFrame(
        {
            "evidence_id": ids,
            "hazard_id": hazard.to_numpy(object) if hazard is not None else None,
            "status": status.astype(str),
            "old": (ev["_found"] < p["old_before"]).to_numpy(bool),
            "poor_accuracy": (ev["_accuracy"] > p["poor_accuracy_m"]).to_numpy(bool),
        },
        geometry=evidence.geometry.values,
        crs=evidence.crs,
    )
