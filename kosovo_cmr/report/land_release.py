"""The land release report of a year: every table, the ledger and the checks in one dict.

:func:`~kosovo_cmr.report.land_release_report` computes, from the ``hazards`` and
``releases`` layers and the boundaries, the report of one year: the Mine Action Review
tables 1 and 4-9 and the indicators (:mod:`kosovo_cmr.report.tables`), the
reconciliation ledger and the district label check (:mod:`kosovo_cmr.report.ledger`)
and, when asked for, the check of a publication's printed figures
(:mod:`kosovo_cmr.report.published`) and a completion forecast. The report is a plain,
JSON-ready dict of lists and numbers, areas geodesic in m2; :mod:`kosovo_cmr.report.render`
writes it as Markdown, HTML, JSON, CSV or XLSX.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr._json import plain
from kosovo_cmr._version import __version__
from kosovo_cmr.analysis.productivity import productivity, release_indicators
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import read_capacity, read_staff
from kosovo_cmr.report.ledger import check_district_labels, reconcile
from kosovo_cmr.report.published import check
from kosovo_cmr.report.staffing import capacity_by_operator, staff_by_operator, staff_totals
from kosovo_cmr.report.tables import (
    clearance_by_district,
    clearance_by_year,
    cleared_without_cmr,
    contamination_by_region,
    indicators,
    release_areas,
    release_by_method,
    releases_by_district,
)
from kosovo_cmr.report.verification import (
    counted,
    ledger_by_verification,
    split_tables,
    split_totals,
    verification_summary,
)

__all__ = ["land_release_report"]


#: Columns of each table that the report sums into its ``totals``.
TOTALS: dict[str, tuple[str, ...]] = {
    "contamination_by_region": (
        "cha_count",
        "cha_area_m2",
        "sha_count",
        "sha_area_m2",
        "total_count",
        "total_area_m2",
    ),
    "nts_by_municipality": ("records", "area_m2"),
    "ts_by_municipality": ("records", "area_m2"),
    "clearance_by_district": ("areas_cleared", "area_m2", "submunitions", "ap_mines", "other_uxo"),
    "cleared_without_cmr": ("areas", "area_m2", "other_uxo"),
    "clearance_by_year": ("area_m2", "areas", "submunitions"),
}


def land_release_report(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
    *,
    year: int,
    capacity: pd.DataFrame | None = None,
    forecast: dict | None = None,
    published: dict | str | os.PathLike | None = None,
    verified_only: bool = False,
    staff: pd.DataFrame | None = None,
    activities: pd.DataFrame | None = None,
    devices: pd.DataFrame | None = None,
    later_changes: pd.DataFrame | None = None,
) -> dict:
    """Compute the land release report of a year from the layers.

    Parameters
    ----------
    hazards : GeoDataFrame
        The ``hazards`` layer, open and closed.
    releases : GeoDataFrame
        The ``releases`` layer, every year.
    municipalities : GeoDataFrame
        The ``boundaries`` layer (municipalities with ``district`` and ``region``).
    year : int
        The report year.
    capacity : DataFrame, optional
        Teams and personnel (:func:`kosovo_cmr.programme.read_capacity`; default: the
        shipped ``layers/capacity.csv``).
    forecast : dict, optional
        A completion forecast (:func:`kosovo_cmr.analysis.forecast.forecast_section`) to include
        as ``forecast``: the HTML page then shows its burn-down chart and scenario table.
    published : dict, path or name, optional
        Published figures to check (:mod:`kosovo_cmr.report.published`; ``"mar-2025-kosovo"``
        is the shipped transcription of the Mine Action Review): adds
        ``published_check``, the publication's own arithmetic and every printed figure
        against the one computed here.
    verified_only : bool, default False
        Count only the releases the national authority verified (the release tables,
        Table 4 and the ledger); by default verified and pending ones count, each table
        saying how much is which. Rejected records never count. Records are taken in
        the order of their ids (the rows of Tables 5-7 in the order each first appears).
    staff : DataFrame, optional
        Staff by operator, sex and role (:func:`kosovo_cmr.programme.read_staff`;
        default: the shipped ``layers/staff.csv``), for Table 2.
    activities, devices : DataFrame, optional
        The ``activities`` and ``devices`` layers, for the productivity indicators.
    later_changes : DataFrame, optional
        The changes made to the year's records after it ended
        (:func:`kosovo_cmr.workflows.records.later_changes`), shown with the ledger.

    Returns
    -------
    dict
        JSON-ready: ``year``, ``synthetic``, ``contamination_by_region`` (Table 1 rows),
        ``release_by_method`` (Table 4, with ``previous_year``), ``nts_by_municipality``
        (Table 5), ``ts_by_municipality`` (Table 6), ``clearance_by_district``
        (Table 7), ``cleared_without_cmr`` (Table 8), ``clearance_by_year`` (Table 9),
        ``indicators``, ``reconciliation`` (:func:`reconcile`), ``label_check``
        (:func:`check_district_labels`), ``totals`` (per table) and, when asked for,
        ``forecast`` and ``published_check``. Issue 15 adds ``verified_only``, the
        verified and pending area in every release table
        (:mod:`kosovo_cmr.report.verification`), ``verification`` (records by state,
        the pending and the rejected ones), ``reconciliation.verification`` and
        ``reconciliation.later_changes``, ``staff_by_operator`` (Table 2),
        ``capacity_by_operator`` (Table 3) and ``productivity``.
    """
    if not isinstance(year, int | np.integer) or not 1990 <= int(year) <= 2100:
        raise InputError(f"year must be a year such as 2024, got {year!r}")
    year = int(year)
    require_crs(hazards, name="hazards")
    # issue 15: records in the order of their ids, so that a verification (which rewrites
    # a record) or a view as of another date keeps the rows of every table in place
    every_release = release_areas(_by_id(releases, "release_id"))
    every_hazard = hazards = _by_id(hazards, "hazard_id")  # rejected: listed, never counted
    hazards = counted(hazards)
    rel = counted(every_release, verified_only=verified_only)
    capacity = read_capacity() if capacity is None else capacity
    tables = _tables(hazards, rel, municipalities, year=year)
    verified = _tables(counted(hazards, verified_only=True), counted(rel, verified_only=True),
                       municipalities, year=year)  # fmt: skip
    tables = split_tables(tables, verified)
    labels = check_district_labels(rel[rel["year"] == year], municipalities)
    out = plain(
        {
            "title": f"Land release report {year}",
            "year": year,
            "synthetic": _is_synthetic(hazards, rel),
            "generated_by": f"kosovo_cmr {__version__}",
            "area_unit": "m2 (geodesic, WGS 84 ellipsoid)",
            **{
                key: t.to_dict(orient="records") if isinstance(t, pd.DataFrame) else t
                for key, t in tables.items()
            },
            "indicators": indicators(rel, year=year, capacity=capacity),
            "reconciliation": reconcile(hazards, rel, year=year, municipalities=municipalities),
            "label_check": labels.to_dict(orient="records"),
            "totals": split_totals(_totals(tables), tables),
        }
    )
    _add_records(
        out, every_hazard, every_release, rel, year=year, verified_only=verified_only,
        staff=staff, capacity=capacity, activities=activities, devices=devices,
        later=later_changes,
    )  # fmt: skip
    if forecast is not None:
        out["forecast"] = forecast
    if published is not None:
        out["published_check"] = plain(check(out, published))
    return out


def _is_synthetic(hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame) -> bool:
    """Return whether any hazard or release is synthetic (``synthetic`` true)."""
    return bool(
        (len(hazards) and hazards.get("synthetic", pd.Series(False)).fillna(False).any())
        or (len(releases) and releases.get("synthetic", pd.Series(False)).fillna(False).any())
    )


def _tables(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
    *,
    year: int,
) -> dict:
    """Return Tables 1 and 4-9 by report key, in the report's order (Table 4 a dict)."""
    return {
        "contamination_by_region": contamination_by_region(hazards, municipalities, year=year),
        "release_by_method": {
            **release_by_method(releases, year=year),
            "previous_year": release_by_method(releases, year=year - 1),
        },
        "nts_by_municipality": releases_by_district(releases, year=year, method="cancellation_nts"),
        "ts_by_municipality": releases_by_district(releases, year=year, method="reduction_ts"),
        "clearance_by_district": clearance_by_district(releases, year=year),
        "cleared_without_cmr": cleared_without_cmr(releases, year=year),
        "clearance_by_year": clearance_by_year(releases, year=year),
    }


def _totals(tables: dict) -> dict:
    """Return the sums of :data:`TOTALS` of each table (0 for a table without rows)."""
    return {
        key: {c: tables[key][c].sum() if len(tables[key]) else 0 for c in columns}
        for key, columns in TOTALS.items()
    }


# --- issue 17: the evidence audit section ----------------------------------------------


def add_evidence_audit(report: dict, section: dict | None) -> dict:
    """Add the evidence audit section to a report, under the key ``evidence_audit``.

    Parameters
    ----------
    report : dict
        From :func:`land_release_report`.
    section : dict or None
        From :func:`kosovo_cmr.workflows.audit.audit_section`: per active hazard the
        supported and unsupported area, the chance that clearing it finds nothing with its
        one-sentence explanation, the model and its validation by leaving years out.
        ``None`` leaves the report as it is.

    Returns
    -------
    dict
        The same report.
    """
    if section is not None:
        report["evidence_audit"] = plain(section)
    return report


# --- issue 15: the programme's records ------------------------------------------------


def _by_id(frame: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """Return the records sorted by id (stable; records without one keep their place last)."""
    if column not in frame.columns or not len(frame):
        return frame
    return frame.sort_values(column, kind="stable", na_position="last").reset_index(drop=True)


def _add_records(
    out: dict,
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    counted_releases: gpd.GeoDataFrame,
    *,
    year: int,
    verified_only: bool,
    staff: pd.DataFrame | None,
    capacity: pd.DataFrame,
    activities: pd.DataFrame | None,
    devices: pd.DataFrame | None,
    later: pd.DataFrame | None,
) -> None:
    """Add verification, Tables 2 and 3 and productivity to a report (in place)."""
    out["verified_only"] = bool(verified_only)
    out["verification"] = plain(verification_summary(hazards, releases, year=year))
    led = out["reconciliation"]
    led["verification"] = plain(ledger_by_verification(counted_releases, led["causes"], year=year))
    later = later if later is not None else pd.DataFrame(columns=list(_LATER))
    led["later_changes"] = plain(later.to_dict(orient="records"))
    led["history_begins"] = later.attrs.get("history_begins")
    staff = read_staff() if staff is None else staff
    table2 = staff_by_operator(staff, year=year)
    out["staff_by_operator"] = plain(table2.to_dict(orient="records"))
    cap = capacity_by_operator(capacity, year=year)
    out["capacity_by_operator"] = plain(cap.to_dict(orient="records"))
    out["totals"]["staff_by_operator"] = plain(staff_totals(table2))
    out["totals"]["capacity_by_operator"] = plain(
        {"teams": float(cap["teams"].sum()), "personnel": int(cap["personnel"].dropna().sum())}
    )
    by_method = [] if activities is None else productivity(activities, counted_releases, year=year)
    out["productivity"] = plain(
        {
            "by_method": by_method if isinstance(by_method, list) else by_method.to_dict("records"),
            "indicators": release_indicators(counted_releases, devices, year=year),
        }
    )


#: The columns of the later changes (kosovo_cmr.workflows.records.LATER_COLUMNS).
_LATER = (
    "layer", "id", "change", "changed_columns", "area_delta_m2", "verification",
    "verified_on", "verified_by", "when", "source",
)  # fmt: skip
