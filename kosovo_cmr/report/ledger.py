"""The reconciliation of a year: the contamination ledger and the causes of its difference.

:func:`~kosovo_cmr.report.reconcile` sets the contamination at the start of the year,
minus the releases, plus the area added by survey, against the contamination at the end
(:func:`~kosovo_cmr.report.contamination_at`: the hazards open on a day, each with the
geometry it had then), and lists the causes of the difference feature by feature.
:func:`~kosovo_cmr.report.check_district_labels` checks each release's ``district``
label against where its polygon lies (a cause of its own, with no effect on the area).

All areas are geodesic, in m2 (:func:`kosovo_cmr.crs.geodesic_area`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr.analysis.overlay import assign_units, split_by_units
from kosovo_cmr.crs import geodesic_area, gnomonic_crs, require_crs
from kosovo_cmr.places import match_key
from kosovo_cmr.report.tables import METHODS

__all__ = ["TOLERANCE_M2", "CAUSES", "check_district_labels", "contamination_at", "reconcile"]

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
