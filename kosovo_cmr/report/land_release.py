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
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import read_capacity
from kosovo_cmr.report.ledger import check_district_labels, reconcile
from kosovo_cmr.report.published import check
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

    Returns
    -------
    dict
        JSON-ready: ``year``, ``synthetic``, ``contamination_by_region`` (Table 1 rows),
        ``release_by_method`` (Table 4, with ``previous_year``), ``nts_by_municipality``
        (Table 5), ``ts_by_municipality`` (Table 6), ``clearance_by_district``
        (Table 7), ``cleared_without_cmr`` (Table 8), ``clearance_by_year`` (Table 9),
        ``indicators``, ``reconciliation`` (:func:`reconcile`), ``label_check``
        (:func:`check_district_labels`), ``totals`` (per table) and, when asked for,
        ``forecast`` and ``published_check``.
    """
    if not isinstance(year, int | np.integer) or not 1990 <= int(year) <= 2100:
        raise InputError(f"year must be a year such as 2024, got {year!r}")
    year = int(year)
    require_crs(hazards, name="hazards")
    rel = release_areas(releases)
    capacity = read_capacity() if capacity is None else capacity
    tables = _tables(hazards, rel, municipalities, year=year)
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
            "totals": _totals(tables),
        }
    )
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
