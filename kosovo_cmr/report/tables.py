"""The yearly land release report: the Mine Action Review tables, indicators, reconciliation.

:func:`land_release_report` computes, from the ``hazards`` and ``releases`` layers and
the boundaries, every table of the report for one year (numbers as in the Mine Action
Review Kosovo chapter):

* Table 1 — contamination open on 31 December by KMAC region and kind
  (:func:`kosovo_cmr.analysis.overlay.contamination_by_unit`);
* Table 4 — release by method and submunitions destroyed, with the previous year;
* Tables 5 and 6 — cancellation by NTS and reduction by TS by reporting unit and operator;
* Table 7 — clearance by reporting unit and operator with the items destroyed;
* Table 8 — area cleared in which no CMR was found, by operator;
* Table 9 — clearance in each of the last five years;
* indicators — area cleared per submunition, share cleared with no CMR found, release
  per operator and per team where the capacity is known (``layers/capacity.csv``);
* a reconciliation ledger (:func:`reconcile`): the contamination at the start of the
  year, minus the releases, plus the area added by survey, against the contamination at
  the end, and the causes of the difference listed feature by feature.

Tables 5-7 group the releases by their ``district`` label, the reporting unit the
operator or KMAC gave (a municipality or a region, as the report mixes them);
:func:`check_district_labels` checks each label against where the polygon lies.

All areas are geodesic, in m2 (:func:`kosovo_cmr.crs.geodesic_area`). The report is a
plain dict of lists and numbers; :mod:`kosovo_cmr.report.render` writes it as Markdown,
HTML, JSON, CSV or XLSX.
"""

from __future__ import annotations

import logging
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr._version import __version__
from kosovo_cmr.analysis.overlay import (
    assign_units,
    contamination_by_unit,
    hazards_open_on,
    split_by_units,
)
from kosovo_cmr.crs import geodesic_area, gnomonic_crs, require_crs
from kosovo_cmr.errors import InputError
from kosovo_cmr.places import match_key
from kosovo_cmr.programme import read_capacity

log = logging.getLogger(__name__)

__all__ = [
    "METHODS",
    "release_areas",
    "release_by_method",
    "releases_by_district",
    "clearance_by_district",
    "cleared_without_cmr",
    "clearance_by_year",
    "indicators",
    "check_district_labels",
    "contamination_at",
    "reconcile",
    "land_release_report",
]

#: Release methods, in the report's order.
METHODS: tuple[str, ...] = ("clearance", "reduction_ts", "cancellation_nts")

#: Below this many m2 a difference between two measures of the same land is noise.
TOLERANCE_M2: float = 1.0

#: Reconciliation causes, with what each means.
CAUSES: dict[str, str] = {
    "release_outside_hazards": "release (or part of one) outside every hazard open at the "
    "time, or with no hazard_id: released land that was never counted as contaminated",
    "hazard_closed_without_release": "hazard closed in the year (status removed, or no "
    "release covers it): contamination that left the database without a release",
    "hazard_not_fully_released": "hazard closed by releases that cover only part of it",
    "release_within_open_hazard": "release inside a hazard that stays open with the "
    "released part still in its geometry",
    "release_overlap": "two releases of the year cover the same hazardous land",
    "district_label_mismatch": "the release's district label does not match where its "
    "polygon lies (no effect on the area)",
}


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


# --- district labels ----------------------------------------------------------------------


def check_district_labels(
    releases: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Check each release's ``district`` label against where its polygon lies.

    The polygon is placed in the municipality holding its largest share
    (:func:`kosovo_cmr.analysis.overlay.split_by_units`). The label matches if it names that
    municipality, its district or its KMAC region, allowing for Albanian and Serbian
    Latin spellings (Mitrovica / Mitrovicë, Leposavic / Leposaviq, Gracanica /
    Graçanicë).

    Parameters
    ----------
    releases : GeoDataFrame
        The ``releases`` layer (or some of it).
    municipalities : GeoDataFrame
        The ``boundaries`` layer (``municipality``, ``district``, ``region``).

    Returns
    -------
    pandas.DataFrame
        ``release_id``, ``method``, ``operator``, ``district`` (the label),
        ``municipality``, ``region`` (where it lies) and ``matches`` (``None`` for an
        empty geometry or one outside every municipality).
    """
    cols = ["release_id", "method", "operator", "district", "municipality", "region", "matches"]
    if not len(releases):
        return pd.DataFrame(columns=cols)
    frame = releases.reset_index(drop=True)
    parts = split_by_units(frame, municipalities, name_column="municipality")
    parts = parts[parts["area_m2"] > 0]
    where = assign_units(parts)
    info = municipalities.set_index("municipality")
    rows = []
    for i, r in frame.iterrows():
        muni = where.get(i)
        if muni is None:
            region = district = None
            matches = None
        else:
            region = info.at[muni, "region"]
            district = info.at[muni, "district"] if "district" in info.columns else None
            names = {match_key(muni), match_key(district), match_key(region)} - {""}
            matches = match_key(r["district"]) in names
        rows.append(
            {
                "release_id": r["release_id"],
                "method": r["method"],
                "operator": r["operator"],
                "district": r["district"],
                "municipality": muni,
                "region": region,
                "matches": matches,
            }
        )
    return pd.DataFrame(rows, columns=cols)


# --- reconciliation -----------------------------------------------------------------------


def _day(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


class _Ledger:
    """Hazards and releases in one gnomonic frame, with each hazard's geometry over time.

    A release linked (``hazard_id``) to a hazard that stays open after it cut its area
    off the hazard: the layer keeps only the hazard's current geometry, so the geometry
    on an earlier day is the current one plus the cuts made after that day.
    """

    def __init__(self, hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame):
        self.h = hazards.reset_index(drop=True)
        self.r = releases.reset_index(drop=True)
        both = list(self.h.geometry.to_crs(4326).values) + list(self.r.geometry.to_crs(4326))
        self.crs = gnomonic_crs(np.asarray(both, dtype=object))
        self.hg = np.asarray(self.h.geometry.to_crs(self.crs).values, dtype=object)
        self.rg = np.asarray(self.r.geometry.to_crs(self.crs).values, dtype=object)
        self.h_area = geodesic_area(self.h) if len(self.h) else np.zeros(0)
        self.r_area = geodesic_area(self.r) if len(self.r) else np.zeros(0)
        self.recorded = pd.to_datetime(self.h["recorded"])
        self.closed = pd.to_datetime(self.h["closed"])
        self.active = self.h["status"] == "active"
        self.r_date = pd.to_datetime(self.r["date"])
        self.hazard_index = {hid: i for i, hid in enumerate(self.h["hazard_id"])}
        self.cuts: dict[int, list[int]] = {}
        for j, hid in enumerate(self.r["hazard_id"]):
            i = self.hazard_index.get(hid) if isinstance(hid, str) else None
            if i is None:
                continue
            closed = self.closed.iloc[i]
            stays_open = (pd.isna(closed) and self.active.iloc[i]) or (
                pd.notna(closed) and closed > self.r_date.iloc[j]
            )
            if stays_open:
                self.cuts.setdefault(i, []).append(j)
        self.h_tree = shapely.STRtree(self.hg)
        self.r_tree = shapely.STRtree(self.rg)

    def near_hazards(self, geom) -> set[int]:
        """Hazards whose geometry, on some day, may intersect ``geom`` (a prefilter)."""
        if geom is None or geom.is_empty:
            return set()
        return set(self.h_tree.query(geom).tolist()) | set(self.cuts)

    def area(self, geom) -> float:
        if geom is None or geom.is_empty:
            return 0.0
        return float(geodesic_area([geom], crs=self.crs)[0])

    def cuts_after(self, i: int, day: pd.Timestamp, *, inclusive: bool) -> list[int]:
        out = []
        for j in self.cuts.get(i, []):
            d = self.r_date.iloc[j]
            if d > day or (inclusive and d == day):
                out.append(j)
        return out

    def geom_at(self, i: int, day, *, inclusive: bool = False):
        cuts = self.cuts_after(i, day, inclusive=inclusive)
        if not cuts:
            return self.hg[i]
        return shapely.union_all([self.hg[i], *(self.rg[j] for j in cuts)])

    def area_at(self, i: int, day, *, inclusive: bool = False) -> float:
        if not self.cuts_after(i, day, inclusive=inclusive):
            return float(self.h_area[i])
        return self.area(self.geom_at(i, day, inclusive=inclusive))

    def open_on(self, day) -> np.ndarray:
        day = _day(day)
        still = (self.closed.isna() & self.active) | (self.closed > day)
        return np.flatnonzero(((self.recorded <= day) & still).to_numpy())

    def open_before(self, day) -> np.ndarray:
        """Hazards open when a release on ``day`` began (closing that day included)."""
        day = _day(day)
        still = (self.closed.isna() & self.active) | (self.closed >= day)
        return np.flatnonzero(((self.recorded <= day) & still).to_numpy())

    def open_after(self, day) -> np.ndarray:
        return self.open_on(day)


def contamination_at(hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame, date) -> float:
    """Contaminated area (m2) at the end of a day, as the layers tell it.

    The hazards open on ``date`` (:func:`kosovo_cmr.analysis.overlay.hazards_open_on`), each with
    the geometry it had then: its current geometry plus the releases linked to it and made
    after ``date`` while it stayed open (technical survey cuts the reduced part off a
    hazard; the layer keeps only the current geometry).

    Parameters
    ----------
    hazards, releases : GeoDataFrame
        The ``hazards`` and ``releases`` layers.
    date : date-like

    Returns
    -------
    float
        Geodesic area in m2.
    """
    led = _Ledger(hazards, releases)
    return float(sum(led.area_at(i, _day(date)) for i in led.open_on(date)))


def reconcile(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    *,
    year: int,
    municipalities: gpd.GeoDataFrame | None = None,
    tolerance_m2: float = TOLERANCE_M2,
) -> dict:
    """Compute the reconciliation ledger of a year and the likely causes of its difference.

    ``start`` is the contamination at the end of the previous year and ``end`` at the
    end of the year (:func:`contamination_at`). The ledger expects
    ``start - clearance - TS - NTS + added`` (``added``: hazards recorded in the year);
    ``unexplained = end - expected``. Each cause is listed feature by feature with its
    signed effect on that difference:

    * ``release_outside_hazards`` (+): the part of a release of the year outside every
      hazard open at its date, and every release without ``hazard_id``;
    * ``hazard_closed_without_release`` (-): a hazard closed in the year that no release
      of the year covers (status ``removed``, or no release);
    * ``hazard_not_fully_released`` (-): the part of a closed hazard its releases miss;
    * ``release_within_open_hazard`` (+): the part of a release still inside a hazard
      that stays open;
    * ``release_overlap`` (+): hazardous land released twice in the year;
    * ``district_label_mismatch`` (0): a label that does not match the location (needs
      ``municipalities``).

    ``residual`` is what the causes leave unexplained (0 when they account for it all).

    Parameters
    ----------
    hazards, releases : GeoDataFrame
        The ``hazards`` and ``releases`` layers.
    year : int
    municipalities : GeoDataFrame, optional
        The ``boundaries`` layer, to check the district labels.
    tolerance_m2 : float, default 1.0
        Differences below this are measurement noise and not listed.

    Returns
    -------
    dict
        ``year``, ``start_date``, ``end_date``, ``start_of_year_m2``, ``clearance_m2``,
        ``reduction_ts_m2``, ``cancellation_nts_m2``, ``added_by_survey_m2``,
        ``expected_end_m2``, ``end_of_year_m2``, ``unexplained_m2``, ``explained_m2``,
        ``residual_m2``, ``causes`` (one row per feature: ``cause``, ``layer``, ``id``,
        ``effect_m2``, ``area_m2``, ``detail``) and ``summary`` (one row per cause).
    """
    require_crs(hazards, name="hazards")
    require_crs(releases, name="releases")
    led = _Ledger(hazards, releases)
    first_day, end_day = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    ry = np.flatnonzero(((led.r_date >= first_day) & (led.r_date <= end_day)).to_numpy())
    lines = _ledger_lines(led, ry, year=year)
    causes, inside = _release_causes(led, ry, tolerance_m2=tolerance_m2)
    causes += _overlap_causes(led, ry, inside, tolerance_m2=tolerance_m2)
    causes += _closed_hazard_causes(
        led, ry, first_day=first_day, end_day=end_day, tolerance_m2=tolerance_m2
    )
    if municipalities is not None and len(ry):
        causes += _label_causes(led, ry, municipalities)
    explained = float(sum(c["effect_m2"] for c in causes))
    return {
        **lines,
        "explained_m2": explained,
        "residual_m2": lines["unexplained_m2"] - explained,
        "causes": causes,
        "summary": _summary(causes),
    }


# The steps of the reconciliation: the ledger's lines, then the causes of its difference
# (each step returns cause rows, in the order the ledger lists them).


def _ledger_lines(led: _Ledger, ry: np.ndarray, *, year: int) -> dict:
    """Return the ledger: start, releases by method, added by survey, expected, end."""
    start_day = pd.Timestamp(year - 1, 12, 31)
    end_day = pd.Timestamp(year, 12, 31)
    first_day = pd.Timestamp(year, 1, 1)
    start = sum(led.area_at(i, start_day) for i in led.open_on(start_day))
    end = sum(led.area_at(i, end_day) for i in led.open_on(end_day))
    in_year = (led.recorded >= first_day) & (led.recorded <= end_day)
    added = sum(
        led.area_at(i, led.recorded.iloc[i], inclusive=True) for i in np.flatnonzero(in_year)
    )
    by_method = {
        m: float(led.r_area[ry][(led.r["method"].iloc[ry] == m).to_numpy()].sum()) for m in METHODS
    }
    expected = start - sum(by_method.values()) + added
    return {
        "year": int(year),
        "start_date": str(first_day.date()),
        "end_date": str(end_day.date()),
        "start_of_year_m2": float(start),
        "clearance_m2": by_method["clearance"],
        "reduction_ts_m2": by_method["reduction_ts"],
        "cancellation_nts_m2": by_method["cancellation_nts"],
        "added_by_survey_m2": float(added),
        "expected_end_m2": float(expected),
        "end_of_year_m2": float(end),
        "unexplained_m2": float(end - expected),
    }


def _cause(kind: str, layer: str, ident, effect, area, detail: str) -> dict:
    """One row of the causes: what, which feature, its signed effect on the difference."""
    return {
        "cause": kind,
        "layer": layer,
        "id": ident,
        "effect_m2": float(effect),
        "area_m2": float(area),
        "detail": detail,
    }


def _release_causes(
    led: _Ledger, ry: np.ndarray, *, tolerance_m2: float
) -> tuple[list[dict], dict[int, object]]:
    """Releases of the year outside the hazards open at their date, or inside one still open.

    Returns the causes (per release: outside, then still inside an open hazard) and, per
    release, the part of it that lay in a hazard (None: none), for the overlaps.
    """
    causes: list[dict] = []
    inside: dict[int, object] = {}
    for j in ry:
        r = led.r.iloc[j]
        day = led.r_date.iloc[j]
        near = led.near_hazards(led.rg[j])
        inside[j] = _part_in_hazards(led, j, day, near)
        causes += _outside_hazards(led, j, r, day, inside[j], tolerance_m2=tolerance_m2)
        causes += _within_open_hazard(led, j, r, day, near, tolerance_m2=tolerance_m2)
    return causes, inside


def _part_in_hazards(led: _Ledger, j: int, day, near: set[int]):
    """Return the part of release ``j`` in the hazards open when it began (None: none)."""
    geom = led.rg[j]
    hazard_geoms = [led.geom_at(i, day, inclusive=True) for i in led.open_before(day) if i in near]
    hits = [g for g in hazard_geoms if g.intersects(geom)]
    return shapely.intersection(geom, shapely.union_all(hits)) if hits else None


def _outside_hazards(led: _Ledger, j: int, r, day, part, *, tolerance_m2: float) -> list[dict]:
    """``release_outside_hazards``: the part of release ``j`` outside, or no ``hazard_id``."""
    geom = led.rg[j]
    outside = float(led.r_area[j]) - led.area(part)
    linked = isinstance(r["hazard_id"], str)
    if not (outside > tolerance_m2 or not linked):
        return []
    detail = (
        f"{r['method']} by {r['operator']} ({r['district']}, {day.date()}): "
        f"{outside:,.0f} of {led.r_area[j]:,.0f} m2 outside recorded hazards"
        + ("" if linked else "; no hazard_id")
        + ("; empty geometry" if geom.is_empty else "")
    )
    return [
        _cause(
            "release_outside_hazards",
            "releases",
            r["release_id"],
            max(outside, 0.0),
            led.r_area[j],
            detail,
        )
    ]


def _within_open_hazard(
    led: _Ledger, j: int, r, day, near: set[int], *, tolerance_m2: float
) -> list[dict]:
    """``release_within_open_hazard``: the part of release ``j`` in a hazard still open."""
    geom = led.rg[j]
    still_open = [i for i in led.open_after(day) if i in near]
    hits = [led.hg[i] for i in still_open if led.hg[i].intersects(geom)]
    if not hits:
        return []
    still = shapely.intersection(geom, shapely.union_all(hits))
    own = led.hazard_index.get(r["hazard_id"]) if isinstance(r["hazard_id"], str) else None
    if own is not None:
        # land of the hazard this release closes or cuts, also in an overlapping
        # open hazard: counted twice in the contamination, so not a cause
        still = shapely.difference(still, led.geom_at(own, day, inclusive=True))
    within = led.area(still)
    if not within > tolerance_m2:
        return []
    return [
        _cause(
            "release_within_open_hazard",
            "releases",
            r["release_id"],
            within,
            led.r_area[j],
            f"{within:,.0f} m2 of {r['release_id']} still lies in a hazard open after {day.date()}",
        )
    ]


def _overlap_causes(
    led: _Ledger, ry: np.ndarray, inside: dict[int, object], *, tolerance_m2: float
) -> list[dict]:
    """``release_overlap``: hazardous land that two releases of the year both release."""
    causes = []
    in_year = set(ry.tolist())
    for ja in ry:
        for jb in sorted(set(led.r_tree.query(led.rg[ja]).tolist()) & in_year):
            if jb <= ja:
                continue
            pa, pb = inside[ja], inside[jb]
            if pa is None or pb is None or not pa.intersects(pb):
                continue
            twice = shapely.intersection(pa, pb)
            ha = led.hazard_index.get(led.r["hazard_id"].iloc[ja])
            hb = led.hazard_index.get(led.r["hazard_id"].iloc[jb])
            if ha is not None and hb is not None and ha != hb:
                # two overlapping hazards, each released: their overlap was counted twice
                # in the contamination too, so releasing it twice explains nothing
                day = led.r_date.iloc[[ja, jb]].min()
                common = shapely.intersection(
                    led.geom_at(ha, day, inclusive=True), led.geom_at(hb, day, inclusive=True)
                )
                twice = shapely.difference(twice, common)
            both = led.area(twice)
            if both > tolerance_m2:
                ida, idb = led.r["release_id"].iloc[ja], led.r["release_id"].iloc[jb]
                causes.append(
                    _cause(
                        "release_overlap",
                        "releases",
                        f"{ida}+{idb}",
                        both,
                        both,
                        f"{ida} and {idb} both release {both:,.0f} m2 of hazardous land",
                    )
                )
    return causes


def _closed_hazard_causes(
    led: _Ledger, ry: np.ndarray, *, first_day, end_day, tolerance_m2: float
) -> list[dict]:
    """Hazards closed in the year that its releases do not cover, wholly or in part."""
    causes = []
    closed_in_year = np.flatnonzero(
        ((led.closed >= first_day) & (led.closed <= end_day) & (led.recorded <= led.closed))
        .fillna(False)
        .to_numpy()
    )
    for i in closed_in_year:
        h = led.h.iloc[i]
        day = led.closed.iloc[i]
        area = float(led.h_area[i])
        near = set(led.r_tree.query(led.hg[i]).tolist())
        before = [j for j in ry if j in near and led.r_date.iloc[j] <= day]
        hits = [led.rg[j] for j in before if led.rg[j].intersects(led.hg[i])]
        covered = led.area(shapely.intersection(led.hg[i], shapely.union_all(hits))) if hits else 0
        missing = area - covered
        if covered <= tolerance_m2:
            causes.append(
                _cause(
                    "hazard_closed_without_release",
                    "hazards",
                    h["hazard_id"],
                    -area,
                    area,
                    f"{h['kind']} {h['hazard_id']} ({h.get('municipality')}) closed "
                    f"{day.date()} as {h['status']!r}, {area:,.0f} m2, with no release covering it",
                )
            )
        elif missing > tolerance_m2:
            causes.append(
                _cause(
                    "hazard_not_fully_released",
                    "hazards",
                    h["hazard_id"],
                    -missing,
                    area,
                    f"{h['kind']} {h['hazard_id']} closed {day.date()}: releases cover "
                    f"{covered:,.0f} of {area:,.0f} m2",
                )
            )
    return causes


def _label_causes(led: _Ledger, ry: np.ndarray, municipalities: gpd.GeoDataFrame) -> list[dict]:
    """``district_label_mismatch``: releases of the year labelled with another place."""
    labels = check_district_labels(led.r.iloc[ry], municipalities)
    return [
        _cause(
            "district_label_mismatch",
            "releases",
            row.release_id,
            0.0,
            float(led.r_area[ry][labels.index.get_loc(row.Index)]),
            f"label {row.district!r} but the polygon lies in {row.municipality} ({row.region})",
        )
        for row in labels[labels["matches"].map(lambda v: v is False)].itertuples()
    ]


def _summary(causes: list[dict]) -> list[dict]:
    """One row per cause found: how many features, their summed effect, what it means."""
    summary = []
    for kind in CAUSES:
        mine = [c for c in causes if c["cause"] == kind]
        if mine:
            summary.append(
                {
                    "cause": kind,
                    "features": len(mine),
                    "effect_m2": float(sum(c["effect_m2"] for c in mine)),
                    "meaning": CAUSES[kind],
                }
            )
    return summary


# --- the whole report ---------------------------------------------------------------------


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
    from kosovo_cmr.boundaries import regions_from_municipalities

    if not isinstance(year, int | np.integer) or not 1990 <= int(year) <= 2100:
        raise InputError(f"year must be a year such as 2024, got {year!r}")
    year = int(year)
    require_crs(hazards, name="hazards")
    rel = release_areas(releases)
    capacity = read_capacity() if capacity is None else capacity
    regions = regions_from_municipalities(municipalities)
    open_end = hazards_open_on(hazards, pd.Timestamp(year, 12, 31))
    table1 = contamination_by_unit(open_end, regions, name_column="region")
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
        from kosovo_cmr.report.published import check

        out["published_check"] = _plain(check(out, published))
    return out
