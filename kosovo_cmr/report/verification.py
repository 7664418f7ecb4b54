"""Verified, pending and rejected records in the report of a year.

Every release table of the report (Tables 1 and 4-9) gives, beside its total, how much
of it the national authority has verified and how much awaits verification
(:func:`split_tables`); the reconciliation separates the two for each release method
(:func:`ledger_by_verification`), and lists the records verified or changed after the
year ended. Rejected records are counted nowhere, and listed (:func:`verification_summary`).

The states are those of :func:`kosovo_cmr.analysis.verification.verification_state`:
``verified``, ``pending`` (reported, or no state recorded) and ``rejected``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr.analysis.verification import verification_state
from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.report.tables import METHODS

__all__ = [
    "SPLIT_KEYS",
    "counted",
    "split_tables",
    "split_totals",
    "ledger_by_verification",
    "verification_summary",
]

#: Tables split into verified and pending: report key -> (row keys, the area split).
SPLIT_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "contamination_by_region": (("region",), "total_area_m2"),
    "nts_by_municipality": (("district", "operator"), "area_m2"),
    "ts_by_municipality": (("district", "operator"), "area_m2"),
    "clearance_by_district": (("district", "operator"), "area_m2"),
    "cleared_without_cmr": (("operator",), "area_m2"),
    "clearance_by_year": (("year",), "area_m2"),
}


def counted(frame: gpd.GeoDataFrame, *, verified_only: bool = False) -> gpd.GeoDataFrame:
    """Return the records a report counts: all but the rejected (or only the verified).

    Examples
    --------
    >>> frame = pd.DataFrame({"verification": ["verified", "reported", "rejected"]})
    >>> len(counted(frame)), len(counted(frame, verified_only=True))
    (2, 1)
    """
    state = verification_state(frame)
    keep = state == "verified" if verified_only else state != "rejected"
    return frame[keep.to_numpy()]


def _names(area_field: str) -> tuple[str, str]:
    base = area_field[: -len("_m2")] if area_field.endswith("_m2") else area_field
    if base == "area":
        return "verified_m2", "pending_m2"
    return f"verified_{base.removeprefix('total_')}_m2", f"pending_{base.removeprefix('total_')}_m2"


def _split_rows(every: pd.DataFrame, verified: pd.DataFrame, keys, field) -> pd.DataFrame:
    v_name, p_name = _names(field)
    out = every.copy()
    if not len(out):
        return out.assign(**{v_name: pd.Series(dtype=float), p_name: pd.Series(dtype=float)})
    lookup = {}
    if len(verified):
        rows = verified[list(keys)].itertuples(index=False)
        lookup = dict(zip(rows, verified[field], strict=True))
    done = [float(lookup.get(k, 0.0)) for k in out[list(keys)].itertuples(index=False)]
    out[v_name] = done
    out[p_name] = out[field].astype(float) - out[v_name]
    return out


def split_tables(tables: dict, verified: dict) -> dict:
    """Add the verified and pending area to every row of the release tables.

    Parameters
    ----------
    tables : dict
        The report's tables (key -> DataFrame, ``release_by_method`` a dict) computed
        from every counted record.
    verified : dict
        The same tables computed from the verified records only.

    Returns
    -------
    dict
        ``tables`` with, in each table of :data:`SPLIT_KEYS`, the columns
        ``verified_m2`` and ``pending_m2`` (Table 1: ``verified_area_m2`` and
        ``pending_area_m2``), and in Table 4 ``<method>_verified_m2`` and
        ``<method>_pending_m2`` for each method and the total, this year and the last.
    """
    out = dict(tables)
    for key, (keys, field) in SPLIT_KEYS.items():
        out[key] = _split_rows(tables[key], verified[key], keys, field)
    out["release_by_method"] = _split_method(tables["release_by_method"], verified)
    return out


def _split_method(row: dict, verified: dict) -> dict:
    done = verified["release_by_method"]
    out = dict(row)
    for key, other in (("", done), ("previous_year", done.get("previous_year") or {})):
        mine = out if not key else dict(out.get(key) or {})
        for m in (*METHODS, "total"):
            total, ok = mine.get(f"{m}_m2", 0.0), other.get(f"{m}_m2", 0.0)
            mine[f"{m}_verified_m2"] = float(ok)
            mine[f"{m}_pending_m2"] = float(total) - float(ok)
        if key:
            out[key] = mine
    return out


def split_totals(totals: dict, tables: dict) -> dict:
    """Add the sums of the verified and pending columns to the report's ``totals``."""
    out = {k: dict(v) for k, v in totals.items()}
    for key, (_, field) in SPLIT_KEYS.items():
        frame = tables[key]
        for name in _names(field):
            out.setdefault(key, {})[name] = float(frame[name].sum()) if len(frame) else 0.0
    return out


def ledger_by_verification(releases: gpd.GeoDataFrame, causes: list[dict], *, year: int) -> dict:
    """Split the ledger's releases, and the causes they explain, by verification.

    Parameters
    ----------
    releases : GeoDataFrame
        The counted releases, with ``area_m2`` and ``year``
        (:func:`kosovo_cmr.report.release_areas`).
    causes : list of dict
        The reconciliation's causes (:func:`kosovo_cmr.report.reconcile`).
    year : int

    Returns
    -------
    dict
        ``methods``: per method its ``total_m2``, ``verified_m2`` and ``pending_m2`` in
        the year; ``causes_pending_m2``: the summed effect of the causes that rest on
        releases awaiting verification, and ``causes_pending``: how many.
    """
    sel = releases[releases["year"] == year]
    state = verification_state(sel)
    methods = {}
    for m in METHODS:
        mine = (sel["method"] == m).to_numpy()
        area = sel["area_m2"].to_numpy(float)
        methods[m] = {
            "total_m2": float(area[mine].sum()),
            "verified_m2": float(area[mine & (state == "verified").to_numpy()].sum()),
            "pending_m2": float(area[mine & (state == "pending").to_numpy()].sum()),
        }
    pending_ids = set(sel.loc[(state == "pending").to_numpy(), "release_id"].astype(str))
    on_pending = [c for c in causes if c["layer"] == "releases" and str(c["id"]) in pending_ids]
    return {
        "methods": methods,
        "causes_pending": len(on_pending),
        "causes_pending_m2": float(sum(c["effect_m2"] for c in on_pending)),
    }


def verification_summary(
    hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame, *, year: int
) -> dict:
    """Count the year's records by verification, and list the pending and rejected ones.

    Parameters
    ----------
    hazards : GeoDataFrame
        Every hazard (rejected ones included).
    releases : GeoDataFrame
        Every release, with ``area_m2`` and ``year``.
    year : int

    Returns
    -------
    dict
        ``releases`` and ``hazards``: per state the number of records and their area
        (the releases dated in ``year``; the hazards open at its end or closed in it);
        ``pending`` and ``rejected``: those records, one row each (``layer``, ``id``,
        ``method`` or ``kind``, ``operator``, ``area_m2``, ``date``, ``verified_on``,
        ``verified_by``).
    """
    rel = releases[releases["year"] == year]
    hz = _hazards_of_year(hazards, year)
    hz = hz.assign(area_m2=geodesic_area(hz) if len(hz) else [])
    out: dict = {"releases": _counts(rel), "hazards": _counts(hz), "pending": [], "rejected": []}
    for layer, frame, what, when in (
        ("releases", rel, "method", "date"),
        ("hazards", hz, "kind", "recorded"),
    ):
        state = verification_state(frame)
        idcol = "release_id" if layer == "releases" else "hazard_id"
        for name in ("pending", "rejected"):
            for _, r in frame[(state == name).to_numpy()].iterrows():
                out[name].append(
                    {
                        "layer": layer,
                        "id": r[idcol],
                        "what": r[what],
                        "operator": r.get("operator"),
                        "area_m2": float(r["area_m2"]),
                        "date": _date(r[when]),
                        "verified_on": _date(r.get("verified_on")),
                        "verified_by": r.get("verified_by"),
                    }
                )
    return out


def _hazards_of_year(hazards: gpd.GeoDataFrame, year: int) -> gpd.GeoDataFrame:
    if not len(hazards):
        return hazards
    recorded = pd.to_datetime(hazards["recorded"])
    closed = pd.to_datetime(hazards["closed"])
    first, last = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    keep = (recorded <= last) & (closed.isna() | (closed >= first))
    return hazards[keep.to_numpy()]


def _counts(frame: pd.DataFrame) -> dict:
    state = verification_state(frame)
    area = frame["area_m2"].to_numpy(float) if len(frame) else np.zeros(0)
    out = {}
    for name in ("verified", "pending", "rejected"):
        mine = (state == name).to_numpy()
        out[name] = {"records": int(mine.sum()), "area_m2": float(area[mine].sum())}
    return out


def _date(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(pd.Timestamp(value).date())
