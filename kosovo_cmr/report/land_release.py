"""The land release report of a year: every table, the ledger and the checks in one dict.

:func:`land_release_report` computes, from the ``hazards`` and ``releases`` layers and
the boundaries, the report of one year: the Mine Action Review tables 1 and 4-9 and the
indicators (:mod:`kosovo_cmr.report.tables`), the reconciliation ledger and the district
label check (:mod:`kosovo_cmr.report.ledger`) and, when asked for, the check of a
publication's printed figures (:mod:`kosovo_cmr.report.published`) and a completion
forecast. The report is a plain, JSON-ready dict of lists and numbers, areas geodesic in
m2; :mod:`kosovo_cmr.report.render` writes it as Markdown, HTML, JSON, CSV or XLSX.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd

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


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(v):
    """Return a JSON-friendly Python value (no numpy scalars, NaN as None)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if v is None:
        return None
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if v != v else float(v)
    if isinstance(v, pd.Timestamp):
        return str(v.date())
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _totals(frame: pd.DataFrame, keys) -> dict:
    return {k: _plain(frame[k].sum()) if len(frame) else 0 for k in keys}


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
    table1 = contamination_by_region(hazards, municipalities, year=year)
    table4 = release_by_method(rel, year=year)
    table4["previous_year"] = release_by_method(rel, year=year - 1)
    table5 = releases_by_district(rel, year=year, method="cancellation_nts")
    table6 = releases_by_district(rel, year=year, method="reduction_ts")
    table7 = clearance_by_district(rel, year=year)
    table8 = cleared_without_cmr(rel, year=year)
    table9 = clearance_by_year(rel, year=year)
    labels = check_district_labels(rel[rel["year"] == year], municipalities)
    synthetic = bool(
        (len(hazards) and hazards.get("synthetic", pd.Series(False)).fillna(False).any())
        or (len(rel) and rel.get("synthetic", pd.Series(False)).fillna(False).any())
    )
    out = _plain(
        {
            "title": f"Land release report {year}",
            "year": year,
            "synthetic": synthetic,
            "generated_by": f"kosovo_cmr {__version__}",
            "area_unit": "m2 (geodesic, WGS 84 ellipsoid)",
            "contamination_by_region": _records(table1),
            "release_by_method": table4,
            "nts_by_municipality": _records(table5),
            "ts_by_municipality": _records(table6),
            "clearance_by_district": _records(table7),
            "cleared_without_cmr": _records(table8),
            "clearance_by_year": _records(table9),
            "indicators": indicators(rel, year=year, capacity=capacity),
            "reconciliation": reconcile(hazards, rel, year=year, municipalities=municipalities),
            "label_check": _records(labels),
            "totals": {
                "contamination_by_region": _totals(
                    table1,
                    [
                        "cha_count",
                        "cha_area_m2",
                        "sha_count",
                        "sha_area_m2",
                        "total_count",
                        "total_area_m2",
                    ],
                ),
                "nts_by_municipality": _totals(table5, ["records", "area_m2"]),
                "ts_by_municipality": _totals(table6, ["records", "area_m2"]),
                "clearance_by_district": _totals(
                    table7, ["areas_cleared", "area_m2", "submunitions", "ap_mines", "other_uxo"]
                ),
                "cleared_without_cmr": _totals(table8, ["areas", "area_m2", "other_uxo"]),
                "clearance_by_year": _totals(table9, ["area_m2", "areas", "submunitions"]),
            },
        }
    )
    if forecast is not None:
        out["forecast"] = forecast
    if published is not None:
        out["published_check"] = _plain(check(out, published))
    return out
