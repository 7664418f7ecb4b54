"""Tolerable risk by municipality: the strategy's condition, task by task and year by year.

Kosovo's Mine Action Strategy 2025-30, as the Mine Action Review 2025 reports it,
"declares that the risk of explosive ordnance contamination will be considered tolerable
once all high and medium-priority tasks have been completed by 2030, and provided that
there are no incidents for five years thereafter", and plans that "the 38 municipalities
that were contaminated with mines and CMR when the strategy was drafted will be declared
free from risk by 2030". :func:`tolerable_risk` measures that condition per municipality:

- the open tasks by priority class (active hazards, by the hazard's ``municipality``, or
  where its representative point lies when that is missing or unknown);
- the year the forecast's lead scenario finishes them: ``free_of_risk_year`` is the year
  the last **high or medium** task is done (the default reading: the strategy ties
  tolerable risk to those classes and calls what remains after 2030 residual) and
  ``all_tasks_done_year`` the year the last task of any class is (the other reading of
  "free from risk");
- the incidents (the point decides the municipality; the ``municipality`` column when
  the point is missing): the last one and the years since it, as of ``as_of``;
- ``condition_holds``: the high and medium tasks are done by the deadline (2030) **and**
  no incident happened in the five years before ``as_of`` (None when no incidents layer
  is given: the condition cannot be judged); ``earliest_tolerable_year`` = the later of
  the high/medium year and the last incident's year, plus five (assuming no later
  incident);
- ``status``, the map's classes: ``tolerable`` (no high or medium task left and five
  quiet years), ``on track`` (high and medium done by the deadline), ``late``
  (after it, or never at the capacity of the scenario) and ``unknown`` (nothing left to
  clear but no incidents layer to say whether it has been quiet).

Which incidents count is the second ambiguity: the report does not define an
"incident". ``count="all"`` (default) counts every recorded incident, accidents and EOD
call-outs alike, because an item found still shows contamination and the stricter reading
never declares a municipality tolerable too early; ``count="accidents"`` counts only
accidents.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr.analysis.schedule import PRIORITIES
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError

__all__ = ["COUNTS", "STATUSES", "tolerable_risk", "risk_section", "risk_layer"]

#: Which incidents count: every one, or accidents only.
COUNTS = ("all", "accidents")

#: The status classes of a municipality, as the map colours them.
STATUSES = ("tolerable", "on track", "late", "unknown")


def _where(points: gpd.GeoDataFrame, named: pd.Series, municipalities: gpd.GeoDataFrame):
    """Municipality of each feature: ``named`` when it is a known name, else the location."""
    known = set(municipalities["municipality"])
    out = pd.Series(None, index=points.index, dtype=object)
    if named is not None:
        out = named.where(named.isin(known)).astype(object)
    todo = out.isna() & ~points.geometry.isna() & ~points.geometry.is_empty
    if todo.any():
        metric = municipalities.to_crs(settings.metric_crs)[["municipality", "geometry"]]
        pts = gpd.GeoDataFrame(
            geometry=points.loc[todo].to_crs(settings.metric_crs).geometry.representative_point()
        )
        joined = gpd.sjoin(pts, metric, how="left", predicate="within")
        out.loc[todo] = joined.groupby(level=0)["municipality"].first().astype(object)
    return out


def _incident_place(incidents: gpd.GeoDataFrame, municipalities) -> pd.Series:
    """Place each incident: by its point, by its ``municipality`` when it has no point."""
    at_point = _where(incidents, None, municipalities)
    named = incidents.get("municipality", pd.Series(None, index=incidents.index))
    return at_point.fillna(named.where(named.isin(set(municipalities["municipality"]))))


def _tasks(hazards, schedule, municipalities) -> pd.DataFrame:
    """Open tasks per municipality and class, and the years the lead scenario ends them."""
    h = pd.DataFrame({"hazard_id": hazards["hazard_id"].to_numpy()})
    h["municipality"] = _where(hazards, hazards.get("municipality"), municipalities).to_numpy()
    h["priority"] = hazards["priority"].to_numpy() if "priority" in hazards else None
    years = schedule.set_index("hazard_id")["finish_year"]
    h["finish_year"] = h["hazard_id"].map(years)
    out = pd.DataFrame(index=pd.Index(municipalities["municipality"], name="municipality"))
    for p in PRIORITIES:
        counts = h[h["priority"] == p].groupby("municipality").size()
        out[f"{p}_tasks"] = counts.reindex(out.index, fill_value=0).astype(int)
    out["free_of_risk_year"] = _last_year(h[h["priority"].isin(["high", "medium"])], out.index)
    out["all_tasks_done_year"] = _last_year(h, out.index)
    lost = h["municipality"].isna().sum()
    out.attrs["unplaced_hazards"] = int(lost)
    return out


def _last_year(h: pd.DataFrame, index) -> pd.Series:
    """Return the latest finish year per municipality; NA if a hazard is never finished."""
    groups = h.groupby("municipality")["finish_year"]
    never = groups.apply(lambda s: s.isna().any())
    last = groups.max().astype("Float64")
    last[never[never].index] = pd.NA
    out = pd.Series(pd.NA, index=index, dtype="Float64")
    out.loc[last.index.intersection(index)] = last
    return out.astype("Int64")


def _incidents(incidents, municipalities, *, as_of: pd.Timestamp, quiet: int, count: str):
    out = pd.DataFrame(index=pd.Index(municipalities["municipality"], name="municipality"))
    if incidents is None:
        for col in ("incidents", f"incidents_last_{quiet}_years"):
            out[col] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["last_incident"] = pd.NaT
        out["years_since_last_incident"] = np.nan
        return out
    require_crs(incidents, name="incidents")
    inc = incidents
    if count == "accidents":
        inc = inc[inc["kind"] == "accident"]
    dates = pd.to_datetime(inc["date"])
    inc = inc[(dates <= as_of).to_numpy()]
    frame = pd.DataFrame(
        {"municipality": _incident_place(inc, municipalities), "date": pd.to_datetime(inc["date"])}
    )
    recent = frame["date"] > as_of - pd.DateOffset(years=quiet)
    out["incidents"] = frame.groupby("municipality").size().reindex(out.index, fill_value=0)
    by = frame[recent].groupby("municipality").size()
    out[f"incidents_last_{quiet}_years"] = by.reindex(out.index, fill_value=0)
    out["last_incident"] = frame.groupby("municipality")["date"].max().reindex(out.index)
    days = (as_of - out["last_incident"]).dt.days
    out["years_since_last_incident"] = (days / 365.25).round(1)
    return out


def _status(row, *, deadline: int, quiet: int, known: bool) -> str:
    left = row["high_tasks"] + row["medium_tasks"]
    year = row["free_of_risk_year"]
    if left == 0 and known and row[f"incidents_last_{quiet}_years"] == 0:
        return "tolerable"
    if left == 0 and not known:
        return "unknown"
    if left == 0 or (year is not pd.NA and year <= deadline):
        return "on track"
    return "late"


def tolerable_risk(
    hazards: gpd.GeoDataFrame,
    schedule: pd.DataFrame,
    municipalities: gpd.GeoDataFrame,
    *,
    as_of,
    incidents: gpd.GeoDataFrame | None = None,
    deadline: int = 2030,
    quiet_years: int = 5,
    count: str = "all",
) -> pd.DataFrame:
    """Per municipality: open tasks, the year free of risk, incidents, the strategy's condition.

    Parameters
    ----------
    hazards : GeoDataFrame
        The open (active) hazards, with ``hazard_id``, ``priority`` and ideally
        ``municipality``.
    schedule : DataFrame
        The lead scenario's schedule (``hazard_id``, ``finish_year``; NA: never), e.g.
        the first of :func:`kosovo_cmr.analysis.forecast.scenarios`.
    municipalities : GeoDataFrame
        The ``boundaries`` layer (``municipality``, ``region``).
    as_of : date-like
        The day the incidents are counted back from (the workflows pass the forecast's
        first day, 1 April 2025).
    incidents : GeoDataFrame, optional
        The ``incidents`` layer; None: the condition cannot be judged (``None``).
    deadline : int, optional
        The year the high and medium tasks must be done by (2030).
    quiet_years : int, optional
        Years without incidents the condition asks for (5).
    count : {"all", "accidents"}, optional
        Which incidents count (see the module notes; default every incident).

    Returns
    -------
    pandas.DataFrame
        One row per municipality, in the boundaries' order: ``municipality``, ``region``,
        ``high_tasks``, ``medium_tasks``, ``low_tasks``, ``free_of_risk_year``,
        ``all_tasks_done_year`` (NA: never at the scenario's capacity; empty: nothing to
        do), ``done_by_<deadline>``, ``incidents``, ``incidents_last_<n>_years``,
        ``last_incident``, ``years_since_last_incident``, ``condition_holds``,
        ``earliest_tolerable_year`` and ``status`` (:data:`STATUSES`).

    Raises
    ------
    kosovo_cmr.errors.InputError
        On an unknown ``count``, or layers without a CRS.
    """
    if count not in COUNTS:
        raise InputError(f"count must be one of {', '.join(COUNTS)}, got {count!r}")
    require_crs(hazards, name="hazards")
    require_crs(municipalities, name="boundaries")
    as_of = pd.Timestamp(as_of)
    out = _tasks(hazards, schedule, municipalities)
    inc = _incidents(incidents, municipalities, as_of=as_of, quiet=quiet_years, count=count)
    out = out.join(inc)
    region = municipalities.set_index("municipality").get("region")
    out.insert(0, "region", region.reindex(out.index) if region is not None else None)
    year = out["free_of_risk_year"]
    nothing = (out["high_tasks"] + out["medium_tasks"]) == 0
    done = nothing | (year.notna() & (year.fillna(deadline + 1) <= deadline))
    out[f"done_by_{deadline}"] = done.astype(bool)
    quiet = out[f"incidents_last_{quiet_years}_years"] == 0
    out["condition_holds"] = (done & quiet).astype(object) if incidents is not None else None
    out["earliest_tolerable_year"] = _earliest(out, as_of=as_of, quiet=quiet_years)
    known = incidents is not None
    out["status"] = [
        _status(r, deadline=deadline, quiet=quiet_years, known=known) for _, r in out.iterrows()
    ]
    out.attrs.update(
        as_of=str(as_of.date()), count=count, deadline=deadline, quiet_years=quiet_years
    )
    return out.reset_index()


def _earliest(out: pd.DataFrame, *, as_of: pd.Timestamp, quiet: int) -> pd.Series:
    """Return the later of the high/medium year and the last incident's, plus ``quiet``."""
    done = out["free_of_risk_year"].astype("Float64")
    nothing = (out["high_tasks"] + out["medium_tasks"]) == 0
    done = done.mask(nothing, as_of.year - quiet)  # nothing left: only the incidents count
    last = out["last_incident"].dt.year.astype("Float64")
    both = pd.concat([done, last], axis=1).max(axis=1, skipna=True).astype("Float64")
    never = ~nothing & out["free_of_risk_year"].isna()
    result = (both + quiet).mask(never)
    return result.round().astype("Int64")


def risk_layer(
    table: pd.DataFrame,
    municipalities: gpd.GeoDataFrame,
    *,
    synthetic: bool = False,
    basis: str = "",
) -> gpd.GeoDataFrame:
    """Join a :func:`tolerable_risk` table to the municipal polygons, for the map.

    Parameters
    ----------
    table : DataFrame
        :func:`tolerable_risk`.
    municipalities : GeoDataFrame
        The ``boundaries`` layer.
    synthetic : bool, optional
        Mark every feature ``synthetic`` (the table was computed from demo data).
    basis : str, optional
        What the forecast behind the table rested on (scenario, terrain), kept in a
        ``forecast`` column so that the map's popups say it.

    Returns
    -------
    GeoDataFrame
        The municipalities with the table's columns as text-friendly values (dates as
        ISO text, years as integers or empty), in the boundaries' CRS.
    """
    cols = [c for c in table.columns if c != "region"]
    joined = municipalities[["municipality", "geometry"]].merge(
        table[cols], on="municipality", how="left"
    )
    joined["last_incident"] = joined["last_incident"].dt.strftime("%Y-%m-%d")
    joined["forecast"] = basis
    if synthetic:
        joined["synthetic"] = True
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=municipalities.crs)


def risk_section(table: pd.DataFrame) -> dict:
    """Return a :func:`tolerable_risk` table as a JSON-ready section of the report.

    Returns
    -------
    dict
        ``as_of``, ``count``, ``deadline_year``, ``quiet_years``, ``statuses`` (how many
        municipalities in each) and ``rows`` (one per municipality; dates as ISO text,
        missing values null).
    """
    import json

    rows = table.copy()
    rows["last_incident"] = rows["last_incident"].dt.strftime("%Y-%m-%d")
    counts = rows["status"].value_counts()
    return {
        "as_of": table.attrs.get("as_of"),
        "count": table.attrs.get("count"),
        "deadline_year": table.attrs.get("deadline"),
        "quiet_years": table.attrs.get("quiet_years"),
        "statuses": {s: int(counts.get(s, 0)) for s in STATUSES},
        "rows": json.loads(rows.to_json(orient="records")),
    }
