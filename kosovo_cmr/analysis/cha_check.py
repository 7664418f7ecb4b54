"""The CHA consistency check: hazards that do not cover their own evidence plus fade-out.

The land release report recommends reviewing how confirmed hazardous areas (CHAs) are
established; :func:`cha_consistency` lists what to review, under any fade-out rule
(:mod:`kosovo_cmr.analysis.rules`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr import settings
from kosovo_cmr.analysis._disks import cluster_polygons, union_of_disks
from kosovo_cmr.analysis._union import metric_points
from kosovo_cmr.analysis.rules import load_rule
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError

__all__ = ["cha_consistency"]


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
        See :func:`kosovo_cmr.analysis.rules.load_rule`.
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
    x, y = metric_points(evidence)
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
