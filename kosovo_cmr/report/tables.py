"""The Mine Action Review tables of a year: contamination, release, clearance, indicators.

From the ``hazards`` and ``releases`` layers and the boundaries (numbers as in the Mine
Action Review Kosovo chapter; every function is exported by :mod:`kosovo_cmr.report`):

* Table 1 — contamination open on 31 December by KMAC region and kind
  (:func:`~kosovo_cmr.report.contamination_by_region`);
* Table 4 — release by method and submunitions destroyed
  (:func:`~kosovo_cmr.report.release_by_method`);
* Tables 5 and 6 — cancellation by NTS and reduction by TS by reporting unit and operator
  (:func:`~kosovo_cmr.report.releases_by_district`);
* Table 7 — clearance by reporting unit and operator with the items destroyed
  (:func:`~kosovo_cmr.report.clearance_by_district`);
* Table 8 — area cleared in which no CMR was found, by operator
  (:func:`~kosovo_cmr.report.cleared_without_cmr`);
* Table 9 — clearance in each of the last five years
  (:func:`~kosovo_cmr.report.clearance_by_year`);
* indicators — area cleared per submunition, share cleared with no CMR found, release
  per operator and per team where the capacity is known
  (:func:`~kosovo_cmr.report.indicators`, with :func:`kosovo_cmr.programme.read_capacity`).

Tables 5-7 group the releases by their ``district`` label, the reporting unit the
operator or KMAC gave (a municipality or a region, as the report mixes them). The release
tables take the releases with their geodesic ``area_m2`` and ``year``
(:func:`~kosovo_cmr.report.release_areas`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr.analysis.overlay import contamination_by_unit, hazards_open_on
from kosovo_cmr.boundaries import regions_from_municipalities
from kosovo_cmr.crs import geodesic_area, require_crs

__all__ = [
    "METHODS",
    "release_areas",
    "contamination_by_region",
    "release_by_method",
    "releases_by_district",
    "clearance_by_district",
    "cleared_without_cmr",
    "clearance_by_year",
    "indicators",
]

#: Release methods, in the report's order.
METHODS: tuple[str, ...] = ("clearance", "reduction_ts", "cancellation_nts")


# --- inputs -------------------------------------------------------------------------------


def release_areas(releases: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the releases with ``area_m2`` (geodesic) and ``year`` columns added.

    Parameters
    ----------
    releases : GeoDataFrame
        The ``releases`` layer.

    Returns
    -------
    GeoDataFrame
        A copy; empty geometries measure 0.
    """
    require_crs(releases, name="releases")
    out = releases.copy()
    out["area_m2"] = geodesic_area(out) if len(out) else np.zeros(0)
    out["year"] = pd.to_datetime(out["date"]).dt.year if len(out) else pd.Series([], dtype=int)
    return out


def _year(releases: gpd.GeoDataFrame, year: int, method: str | None = None) -> pd.DataFrame:
    sel = releases[releases["year"] == year]
    if method is not None:
        sel = sel[sel["method"] == method]
    return sel


# --- the tables ---------------------------------------------------------------------------


def contamination_by_region(
    hazards: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame, *, year: int
) -> pd.DataFrame:
    """Table 1: contamination open on 31 December of ``year`` by KMAC region and kind.

    Parameters
    ----------
    hazards : GeoDataFrame
        The ``hazards`` layer, open and closed.
    municipalities : GeoDataFrame
        The ``boundaries`` layer (municipalities with ``region``).
    year : int

    Returns
    -------
    pandas.DataFrame
        One row per region (:func:`kosovo_cmr.analysis.overlay.contamination_by_unit`):
        ``region``, ``cha_count``, ``cha_area_m2``, ``sha_count``, ``sha_area_m2``,
        ``total_count``, ``total_area_m2``.
    """
    regions = regions_from_municipalities(municipalities)
    open_end = hazards_open_on(hazards, pd.Timestamp(year, 12, 31))
    return contamination_by_unit(open_end, regions, name_column="region")


def release_by_method(releases: gpd.GeoDataFrame, *, year: int) -> dict:
    """Table 4: area released by each method and submunitions destroyed in a year.

    Parameters
    ----------
    releases : GeoDataFrame
        Releases with ``area_m2`` and ``year`` (:func:`release_areas`).
    year : int

    Returns
    -------
    dict
        ``year``, ``clearance_m2``, ``reduction_ts_m2``, ``cancellation_nts_m2``,
        ``total_m2``, ``submunitions`` (destroyed in releases of every method).
    """
    sel = _year(releases, year)
    row = {"year": int(year)}
    for method in METHODS:
        row[f"{method}_m2"] = float(sel.loc[sel["method"] == method, "area_m2"].sum())
    row["total_m2"] = sum(row[f"{m}_m2"] for m in METHODS)
    row["submunitions"] = int(sel["submunitions"].sum())
    return row


def releases_by_district(releases: gpd.GeoDataFrame, *, year: int, method: str) -> pd.DataFrame:
    """Tables 5 and 6: area released by one method, by district label and operator.

    Rows keep the order in which each (district, operator) first appears in the layer.
    A record with an empty geometry still gives its row (0 m2).

    Parameters
    ----------
    releases : GeoDataFrame
        Releases with ``area_m2`` and ``year`` (:func:`release_areas`).
    year : int
    method : {"cancellation_nts", "reduction_ts", "clearance"}

    Returns
    -------
    pandas.DataFrame
        Columns ``district``, ``operator``, ``records``, ``area_m2``.
    """
    sel = _year(releases, year, method)
    cols = ["district", "operator", "records", "area_m2"]
    if not len(sel):
        return pd.DataFrame(columns=cols)
    sel = sel.assign(district=sel["district"].fillna("(none)"))
    out = (
        sel.groupby(["district", "operator"], sort=False)
        .agg(records=("release_id", "size"), area_m2=("area_m2", "sum"))
        .reset_index()
    )
    return out[cols]


def clearance_by_district(releases: gpd.GeoDataFrame, *, year: int) -> pd.DataFrame:
    """Table 7: clearance by district label and operator, with the items destroyed.

    Parameters
    ----------
    releases : GeoDataFrame
        Releases with ``area_m2`` and ``year`` (:func:`release_areas`).
    year : int

    Returns
    -------
    pandas.DataFrame
        Columns ``district``, ``operator``, ``areas_cleared`` (number of clearance
        records), ``area_m2``, ``submunitions``, ``ap_mines``, ``other_uxo``.
    """
    sel = _year(releases, year, "clearance")
    cols = [
        "district",
        "operator",
        "areas_cleared",
        "area_m2",
        "submunitions",
        "ap_mines",
        "other_uxo",
    ]
    if not len(sel):
        return pd.DataFrame(columns=cols)
    sel = sel.assign(district=sel["district"].fillna("(none)"))
    out = (
        sel.groupby(["district", "operator"], sort=False)
        .agg(
            areas_cleared=("release_id", "size"),
            area_m2=("area_m2", "sum"),
            submunitions=("submunitions", "sum"),
            ap_mines=("ap_mines", "sum"),
            other_uxo=("other_uxo", "sum"),
        )
        .reset_index()
    )
    return out[cols]


def cleared_without_cmr(releases: gpd.GeoDataFrame, *, year: int) -> pd.DataFrame:
    """Table 8: area cleared in which no CMR was found (``cmr_found`` false), by operator.

    Parameters
    ----------
    releases : GeoDataFrame
        Releases with ``area_m2`` and ``year`` (:func:`release_areas`).
    year : int

    Returns
    -------
    pandas.DataFrame
        Columns ``operator``, ``areas``, ``area_m2``, ``other_uxo``, ``comment`` (the
        other items found there, if any).
    """
    sel = _year(releases, year, "clearance")
    sel = sel[~sel["cmr_found"].astype(bool)]
    cols = ["operator", "areas", "area_m2", "other_uxo", "comment"]
    if not len(sel):
        return pd.DataFrame(columns=cols)
    out = (
        sel.groupby("operator", sort=False)
        .agg(
            areas=("release_id", "size"),
            area_m2=("area_m2", "sum"),
            other_uxo=("other_uxo", "sum"),
            ap_mines=("ap_mines", "sum"),
        )
        .reset_index()
    )

    def comment(row):
        found = []
        if row.other_uxo:
            found.append(f"{row.other_uxo} other item(s) of UXO")
        if row.ap_mines:
            found.append(f"{row.ap_mines} AP mine(s)")
        return " and ".join(found) + " found and destroyed" if found else ""

    out["comment"] = [comment(r) for r in out.itertuples()]
    return out[cols]


def clearance_by_year(releases: gpd.GeoDataFrame, *, year: int, years: int = 5) -> pd.DataFrame:
    """Table 9: clearance in each of the ``years`` years up to ``year``, latest first.

    Parameters
    ----------
    releases : GeoDataFrame
        Releases with ``area_m2`` and ``year`` (:func:`release_areas`).
    year : int
    years : int, default 5

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``area_m2``, ``areas`` (records), ``submunitions``.
    """
    rows = []
    for y in range(year, year - years, -1):
        sel = _year(releases, y, "clearance")
        rows.append(
            {
                "year": y,
                "area_m2": float(sel["area_m2"].sum()),
                "areas": len(sel),
                "submunitions": int(sel["submunitions"].sum()),
            }
        )
    return pd.DataFrame(rows, columns=["year", "area_m2", "areas", "submunitions"])


def indicators(
    releases: gpd.GeoDataFrame, *, year: int, capacity: pd.DataFrame | None = None
) -> dict:
    """Compute the indicators: yield of clearance, clearance without CMR, output per team.

    Parameters
    ----------
    releases : GeoDataFrame
        Releases with ``area_m2`` and ``year`` (:func:`release_areas`).
    year : int
    capacity : DataFrame, optional
        Teams and personnel per year and operator
        (:func:`kosovo_cmr.programme.read_capacity`); operators without a row for the
        year get nulls per team (a table without years applies to every year).

    Returns
    -------
    dict
        ``area_cleared_per_submunition_m2`` (for the year and the year before: clearance
        area over submunitions destroyed in clearance; null without submunitions),
        ``share_cleared_without_cmr`` (0-1, null without clearance),
        ``release_by_operator`` (rows: ``operator``, the area per method, ``total_m2``,
        ``teams``, ``personnel``, ``clearance_m2_per_team``, ``release_m2_per_team``,
        ``clearance_m2_per_person``).
    """
    per_sub = {}
    for y in (year, year - 1):
        sel = _year(releases, y, "clearance")
        n = int(sel["submunitions"].sum())
        per_sub[str(y)] = float(sel["area_m2"].sum()) / n if n else None
    cleared = _year(releases, year, "clearance")
    total = float(cleared["area_m2"].sum())
    without = float(cleared.loc[~cleared["cmr_found"].astype(bool), "area_m2"].sum())
    sel = _year(releases, year)
    cap = _capacity_of_year(capacity, year)
    rows = []
    for operator in pd.unique(sel["operator"]):
        mine = sel[sel["operator"] == operator]
        row = {"operator": operator}
        for method in METHODS:
            row[f"{method}_m2"] = float(mine.loc[mine["method"] == method, "area_m2"].sum())
        row["total_m2"] = sum(row[f"{m}_m2"] for m in METHODS)
        known = cap[cap["operator"] == operator] if cap is not None else None
        if known is not None and len(known):
            staff = known["personnel"].dropna()
            teams, people = int(known["teams"].sum()), int(staff.sum()) if len(staff) else None
            row.update(
                teams=teams,
                personnel=people,
                clearance_m2_per_team=row["clearance_m2"] / teams if teams else None,
                release_m2_per_team=row["total_m2"] / teams if teams else None,
                clearance_m2_per_person=row["clearance_m2"] / people if people else None,
            )
        else:
            row.update(
                teams=None,
                personnel=None,
                clearance_m2_per_team=None,
                release_m2_per_team=None,
                clearance_m2_per_person=None,
            )
        rows.append(row)
    return {
        "area_cleared_per_submunition_m2": per_sub,
        "share_cleared_without_cmr": without / total if total else None,
        "release_by_operator": rows,
    }


def _capacity_of_year(capacity: pd.DataFrame | None, year: int) -> pd.DataFrame | None:
    """Return the capacity rows of ``year`` (every row when the table gives no year)."""
    if capacity is None:
        return None
    years = capacity["year"]
    if years.isna().all():
        return capacity
    return capacity[(years == year).fillna(False).astype(bool)]
