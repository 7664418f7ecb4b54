"""The evidence audit, strike inference and cleared-nothing model of a store.

Read the store's layers, run the analyses (:mod:`kosovo_cmr.analysis.audit`,
:mod:`kosovo_cmr.analysis.strikes`, :mod:`kosovo_cmr.analysis.cleared_nothing`,
:mod:`kosovo_cmr.analysis.readings`) and hand back what ``kcmr audit``, ``kcmr strikes
infer``, ``kcmr buffer-impact --readings``, the land release report and the maps show.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from kosovo_cmr.analysis.audit import AuditResult, evidence_audit
from kosovo_cmr.analysis.cleared_nothing import clearance_history, score_hazards
from kosovo_cmr.analysis.readings import readings_impact
from kosovo_cmr.analysis.strikes import StrikeInference, compare_strikes, infer_strikes
from kosovo_cmr.errors import InputError
from kosovo_cmr.store.base import Store

__all__ = [
    "strikes_from_store",
    "audit_from_store",
    "audit_section",
    "readings_from_store",
    "audit_map_layers",
]


def _active(hazards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return hazards[hazards["status"] == "active"] if "status" in hazards.columns else hazards


def strikes_from_store(
    store: Store, rule=None, **options
) -> tuple[StrikeInference, pd.DataFrame | None]:
    """Infer strike footprints from the store's evidence; compare with its strikes.

    Returns the inference (:func:`kosovo_cmr.analysis.strikes.infer_strikes`, options
    passed on) and the comparison with the recorded strikes
    (:func:`~kosovo_cmr.analysis.strikes.compare_strikes`), None when none are recorded.
    """
    evidence = store.read("evidence")
    result = infer_strikes(evidence, rule, **options)
    strikes = store.read_or_empty("strikes")
    comparison = compare_strikes(result.footprints, strikes) if len(strikes) else None
    return result, comparison


def _layers(store) -> dict:
    if isinstance(store, dict):
        return store
    return {
        name: store.read_or_empty(name) for name in ("hazards", "evidence", "strikes", "releases")
    }


def audit_from_store(store, *, all_hazards: bool = False, **options) -> AuditResult:
    """Audit the store's active hazards (every hazard with ``all_hazards``).

    ``store`` may also be a dict of layers. Options go to
    :func:`kosovo_cmr.analysis.audit.evidence_audit` (``rule``, ``footprints``,
    ``as_of``, ``old_after_years``, ``poor_accuracy_m``, ``use_accuracy``).
    """
    layers = _layers(store)
    hazards = layers["hazards"] if all_hazards else _active(layers["hazards"])
    if not len(hazards):
        raise InputError("the store has no hazards to audit")
    return evidence_audit(
        hazards,
        layers["evidence"],
        strikes=layers.get("strikes"),
        releases=layers.get("releases"),
        **options,
    )


def audit_section(store, *, year: int | None = None, rule=None, **options) -> dict:
    """Compute the evidence audit and cleared-nothing chances of a store: a report section.

    The audit speaks for the end of ``year`` (default: today); the cleared-nothing model
    is fitted on every past clearance of the store and validated by leaving years out
    (:func:`kosovo_cmr.analysis.cleared_nothing.score_hazards`). The land release report
    shows it (:func:`kosovo_cmr.report.land_release.add_evidence_audit`).

    Returns
    -------
    dict
        JSON-ready: ``parameters``, ``summary``, ``hazards`` (the audit rows, each with
        ``chance_nothing`` and its ``explanation``), ``model``, ``validation``,
        ``history`` and ``synthetic``; without past clearances, ``model`` is None and
        ``model_note`` says why.
    """
    layers = _layers(store)
    as_of = pd.Timestamp(year, 12, 31) if year is not None else None
    audit = audit_from_store(layers, rule=rule, as_of=as_of, **options)
    out = audit.to_dict()
    history = clearance_history(
        layers["hazards"],
        layers["evidence"],
        layers["releases"],
        strikes=layers["strikes"],
        rule=rule,
    )
    if len(history):
        scores = score_hazards(audit.hazards, history)
        by_id = {r["hazard_id"]: r for r in scores.pop("hazards")}
        for row in out["hazards"]:
            row["chance_nothing"] = by_id[row["hazard_id"]]["chance_nothing"]
            row["explanation"] = by_id[row["hazard_id"]]["explanation"]
        out.update(scores)
    else:
        out.update(model=None, model_note="no past clearance with a hazard to learn from")
    out["synthetic"] = any(
        "synthetic" in gdf.columns and bool(gdf["synthetic"].fillna(False).astype(bool).any())
        for gdf in layers.values()
        if gdf is not None
    )
    return out


def readings_from_store(
    store: Store,
    from_rule="kosovo-pre-2024",
    *,
    by="none",
    boundaries=None,
    use_accuracy: bool = False,
) -> pd.DataFrame:
    """Measure the saving of each reading of the NMAS 2024 rule on the store's evidence.

    See :func:`kosovo_cmr.analysis.readings.readings_impact`; by municipality or region
    the boundaries are the store's layer, or the file ``boundaries``.
    """
    from kosovo_cmr.workflows.fadeout import read_boundaries

    municipalities = (
        read_boundaries(store, boundaries) if by in ("municipality", "region") else None
    )
    return readings_impact(
        store.read("evidence"),
        from_rule,
        by=by,
        boundaries=municipalities,
        use_accuracy=use_accuracy,
    )


#: The map's audit layer considers the evidence within this distance of an active hazard
#: (metres). Farther evidence cannot support a hazard's land: a fade-out disk reaches 50 m
#: and a strike footprint a few hundred metres (DOMAIN.md: up to 123 x 244 m). It keeps
#: ``kcmr map`` bounded on millions of evidence points far from any hazard (issue 14);
#: ``kcmr audit`` reads all the evidence.
MAP_AUDIT_REACH_M = 1_000.0


def _near(evidence, hazards, reach_m: float):
    """Return the evidence points within ``reach_m`` of any of ``hazards`` (metric CRS)."""
    import numpy as np
    import shapely

    from kosovo_cmr.crs import to_metric

    points = to_metric(evidence).geometry.values
    tree = shapely.STRtree(to_metric(hazards).geometry.values)
    hits = tree.query(points, predicate="dwithin", distance=reach_m)[0]
    keep = np.zeros(len(evidence), dtype=bool)
    keep[hits] = True
    return evidence[keep]


def audit_map_layers(layers: dict) -> dict:
    """Return the audit's map layer, ``unsupported_land`` (an empty dict without hazards).

    The unsupported part of each active hazard (:attr:`AuditResult.unsupported`), as
    the audit computes it for today with the default rule and every footprint, from the
    evidence within :data:`MAP_AUDIT_REACH_M` of an active hazard.
    """
    hazards, evidence = layers.get("hazards"), layers.get("evidence")
    if hazards is None or evidence is None or not len(_active(hazards)) or not len(evidence):
        return {}
    evidence = _near(evidence, _active(hazards), MAP_AUDIT_REACH_M)
    if not len(evidence):
        return {}
    audit = audit_from_store(
        {
            "hazards": hazards,
            "evidence": evidence,
            "strikes": layers.get("strikes"),
            "releases": layers.get("releases"),
        }
    )
    return {"unsupported_land": audit.unsupported} if len(audit.unsupported) else {}
