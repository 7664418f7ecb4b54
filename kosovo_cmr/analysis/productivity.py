"""Productivity of survey and clearance from the activities: m2 per team-day, by method.

The GICHD Minimum Data Requirements list, for every activity (NTS, TS, clearance, BAC,
EOD), the implementing organisation, the operational method, the start and end dates and
the status, and for every land release product its perimeter and the devices found
(``GICHD/mdr``, ``source/Activities.rst`` and ``source/LR.rst``): "the common data ...
collected by mine action operations during their operations [that] assist in building
key performance indicators" (``source/Common_requirements.rst``). IMAS 07.10 asks that
"the suitability, effectiveness and efficiency of the land release process" be reviewed.
From those data this module computes:

* :func:`productivity` — area per team-day by activity, method and operator: the figure
  the Mine Action Review quotes for HALO's Scorpion (168 m2 a day in 2023) and the Large
  Loop Detector (82 m2 a day);
* :func:`release_indicators` — the land release indicators of a year: the share of the
  land released by cancellation (NTS), reduction (TS) and clearance, the area cleared per
  device destroyed, and how the devices recorded agree with the counts of the release
  records.

The area of an activity is the one its operator reported (``area_m2``), else its share,
by team-days, of the geodesic area of the release it produced (what the other
activities of that release did not report); an activity with neither, or without
team-days, is counted as left out, never guessed.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr.crs import geodesic_area

__all__ = ["PRODUCTIVITY_COLUMNS", "activity_areas", "productivity", "release_indicators"]

#: Columns of :func:`productivity` after its group keys.
PRODUCTIVITY_COLUMNS = (
    "activities", "team_days", "area_m2", "m2_per_team_day", "area_reported",
    "area_from_releases", "left_out",
)  # fmt: skip

#: Device items and the release count each is checked against.
_COUNTS = {"submunition": "submunitions", "ap_mine": "ap_mines", "uxo": "other_uxo"}


def activity_areas(activities: pd.DataFrame, releases: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the activities with the area each covered and where it came from.

    Parameters
    ----------
    activities : DataFrame
        The ``activities`` layer.
    releases : GeoDataFrame
        The ``releases`` layer (its geodesic areas are measured here).

    Returns
    -------
    pandas.DataFrame
        The activities with ``covered_m2`` (NaN when not known) and ``area_from``
        (``reported``, ``release`` or ``unknown``).
    """
    out = activities.drop(columns="geometry", errors="ignore").copy()
    reported = pd.to_numeric(out.get("area_m2"), errors="coerce")
    out["covered_m2"] = reported
    out["area_from"] = np.where(reported.notna(), "reported", "unknown")
    if not len(out) or not len(releases):
        return out
    area = dict(zip(releases["release_id"], geodesic_area(releases), strict=True))
    days = pd.to_numeric(out["team_days"], errors="coerce")
    for rid, idx in out.groupby("release_id").groups.items():
        if rid not in area:
            continue
        mine = out.loc[idx]
        todo = mine.index[mine["covered_m2"].isna()]
        if not len(todo):
            continue
        left = max(area[rid] - float(mine["covered_m2"].sum()), 0.0)
        weight = days.loc[todo]
        share = weight / weight.sum() if weight.notna().all() and weight.sum() > 0 else None
        share = share if share is not None else pd.Series(1.0 / len(todo), index=todo)
        out.loc[todo, "covered_m2"] = left * share
        out.loc[todo, "area_from"] = "release"
    return out


def productivity(
    activities: pd.DataFrame,
    releases: gpd.GeoDataFrame,
    *,
    year: int | None = None,
    by: tuple[str, ...] = ("activity", "method", "operator"),
) -> pd.DataFrame:
    """Area per team-day of the completed activities, by activity, method and operator.

    Parameters
    ----------
    activities : DataFrame
        The ``activities`` layer.
    releases : GeoDataFrame
        The ``releases`` layer.
    year : int, optional
        Only the activities that ended in this year.
    by : tuple of str
        The group keys (columns of the activities).

    Returns
    -------
    pandas.DataFrame
        One row per group: the keys, then :data:`PRODUCTIVITY_COLUMNS`: how many
        completed activities, their team-days and area (m2, geodesic where it came from
        a release), ``m2_per_team_day`` (None without team-days), how many areas were
        reported and how many came from a release, and how many activities were left
        out (no team-days or no area). Groups in the order they first appear.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> releases = gpd.GeoDataFrame({"release_id": ["R1"]},
    ...     geometry=[box(21, 42.5, 21.001, 42.501)], crs=4326)
    >>> acts = pd.DataFrame({"activity": ["clearance"] * 2, "method": ["lld", "scorpion"],
    ...     "operator": ["HALO"] * 2, "release_id": ["R1", None], "status": ["completed"] * 2,
    ...     "end_date": pd.to_datetime(["2024-06-01", "2024-07-01"]),
    ...     "team_days": [20.0, 10.0], "area_m2": [None, 1680.0]})
    >>> productivity(acts, releases)[["method", "m2_per_team_day"]].round(0).values.tolist()
    [['lld', 457.0], ['scorpion', 168.0]]
    """
    acts = activity_areas(activities, releases)
    if "status" in acts.columns:
        acts = acts[acts["status"] == "completed"]
    if year is not None and len(acts):
        ended = pd.to_datetime(acts["end_date"])
        acts = acts[(ended.dt.year == year).to_numpy()]
    keys = list(by)
    if not len(acts):
        return pd.DataFrame(columns=[*keys, *PRODUCTIVITY_COLUMNS])
    acts = acts.assign(
        _days=pd.to_numeric(acts["team_days"], errors="coerce"),
        **{k: acts[k].astype(object).where(acts[k].notna(), "(none)") for k in keys},
    )
    rows = []
    for group, mine in acts.groupby(keys, sort=False):
        usable = mine[mine["_days"].notna() & mine["covered_m2"].notna()]
        days, area = float(usable["_days"].sum()), float(usable["covered_m2"].sum())
        rows.append(
            {
                **dict(zip(keys, group if isinstance(group, tuple) else (group,), strict=True)),
                "activities": len(mine),
                "team_days": days,
                "area_m2": area,
                "m2_per_team_day": area / days if days > 0 else None,
                "area_reported": int((usable["area_from"] == "reported").sum()),
                "area_from_releases": int((usable["area_from"] == "release").sum()),
                "left_out": int(len(mine) - len(usable)),
            }
        )
    return pd.DataFrame(rows, columns=[*keys, *PRODUCTIVITY_COLUMNS])


def release_indicators(
    releases: gpd.GeoDataFrame, devices: pd.DataFrame | None = None, *, year: int
) -> dict:
    """Return the land release indicators of a year, from the releases and the devices.

    Parameters
    ----------
    releases : GeoDataFrame
        The ``releases`` layer (measured here, geodesic).
    devices : DataFrame, optional
        The ``devices`` layer.
    year : int

    Returns
    -------
    dict
        ``released_m2`` and, per method (``cancellation_nts``, ``reduction_ts``,
        ``clearance``), its ``share`` of the land released in the year (the land release
        pyramid of the IMAS land release series: release by survey where possible);
        ``devices`` (per item, recorded in the year) and ``cleared_m2_per_device``;
        ``device_check``: the clearance and survey records of the year whose devices do
        not match their counts (``release_id``, ``item``, ``recorded``, ``devices``).
    """
    rel = releases[pd.to_datetime(releases["date"]).dt.year == year]
    area = geodesic_area(rel) if len(rel) else np.zeros(0)
    total = math.fsum(area)  # exact sums: the same whatever the order of the records
    methods = {}
    for m in ("cancellation_nts", "reduction_ts", "clearance"):
        mine = math.fsum(area[(rel["method"] == m).to_numpy()])
        methods[m] = {"area_m2": mine, "share": mine / total if total else None}
    out = {"year": int(year), "released_m2": total, "methods": methods}
    if devices is None or not len(devices):
        return {**out, "devices": {}, "cleared_m2_per_device": None, "device_check": []}
    dev = devices[pd.to_datetime(devices["date"]).dt.year == year]
    counts = dev["item"].value_counts().to_dict()
    cleared = methods["clearance"]["area_m2"]
    return {
        **out,
        "devices": {str(k): int(v) for k, v in counts.items()},
        "cleared_m2_per_device": cleared / len(dev) if len(dev) else None,
        "device_check": _device_check(rel, dev),
    }


def _device_check(rel: pd.DataFrame, dev: pd.DataFrame) -> list[dict]:
    """Releases whose devices do not add up to the items their record counts."""
    found = dev.groupby(["release_id", "item"]).size().to_dict() if len(dev) else {}
    out = []
    for r in rel.itertuples(index=False):
        for item, column in _COUNTS.items():
            recorded = int(getattr(r, column, 0) or 0)
            devices = int(found.get((r.release_id, item), 0))
            if devices != recorded:
                out.append(
                    {"release_id": r.release_id, "item": item, "recorded": recorded,
                     "devices": devices}
                )  # fmt: skip
    return out
