"""The schedule: when each hazard is cleared, when each priority class completes.

Steps 4-5 of the forecast (:mod:`kosovo_cmr.analysis.forecast` runs them all), on a
:func:`kosovo_cmr.analysis.effort.clearance_effort` table:

4. **Schedule** (:func:`schedule`): each operator's teams work its hazards one after the
   other, high priority first, then medium, then low (ties by ``hazard_id``), all teams
   on one task at a time; a hazard takes ``team_days / teams`` working days. A season
   (April-November) holds ``working_days`` days. A capacity given as m2 a year (the
   1.8 km2 target) replaces the operators by one national queue.
5. **Completion** of a priority class is the season in which its last hazard finishes
   (:func:`completion`); the burn-down (:func:`burndown`, :func:`remaining_at_end`)
   counts each hazard cleared evenly over its working days.

Time is counted in working seasons from the first day of the first season
(:func:`season_to_year` turns it into a calendar year).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from kosovo_cmr.analysis.effort import ForecastWarning, read_effort
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import read_teams

__all__ = [
    "PRIORITIES",
    "season_to_year",
    "schedule",
    "completion",
    "burndown",
    "remaining_at_end",
]

#: Priority classes in the order they are worked.
PRIORITIES: tuple[str, ...] = ("high", "medium", "low")


def _priority_rank(p) -> int:
    return PRIORITIES.index(p) if p in PRIORITIES else len(PRIORITIES)


def season_to_year(t, *, start_year: int, first_month: int = 4, last_month: int = 11):
    """Decimal calendar year at which ``t`` seasons of work are done.

    Season-time ``t`` counts working seasons from the first day of the first season
    (1 April of ``start_year`` by default): ``t = 1.5`` is mid-season of the second
    year. Work done exactly at a season's end maps to that season's last day.

    Examples
    --------
    >>> round(season_to_year(0.5, start_year=2025), 3)  # mid-season: 1 April + 4 months
    2025.583
    >>> round(season_to_year(1.0, start_year=2025), 4)  # end of the first season: 30 November
    2025.9167
    """
    t = np.asarray(t, dtype=float)
    n = np.where(t > 0, np.ceil(t) - 1, 0)
    frac = t - n
    months = last_month - first_month + 1
    out = start_year + n + (first_month - 1 + frac * months) / 12
    return float(out) if out.ndim == 0 else out


def schedule(
    effort_table: pd.DataFrame,
    *,
    teams: dict | None = None,
    annual_m2: float | None = None,
    effort: dict | None = None,
    working_days: int | None = None,
    start_year: int | None = None,
) -> pd.DataFrame:
    """When each hazard is cleared: priorities first, per operator (or national queue).

    Parameters
    ----------
    effort_table : DataFrame
        :func:`kosovo_cmr.analysis.effort.clearance_effort` output.
    teams : dict, optional
        Operator -> teams (default :func:`kosovo_cmr.programme.read_teams`: the latest
        year of ``layers/capacity.csv``). A hazard whose operator has no
        team is not scheduled (NaN finish, a
        :class:`~kosovo_cmr.analysis.effort.ForecastWarning`).
    annual_m2 : float, optional
        Clear this many m2 a year on one national queue instead (team-days unused).
    effort : dict, optional
        A :func:`~kosovo_cmr.analysis.effort.read_effort` result (default the shipped
        file): season and start year.
    working_days : int, optional
        Working days per season (default the effort file's).
    start_year : int, optional
        First season of the forecast (default the effort file's).

    Returns
    -------
    pandas.DataFrame
        ``effort_table`` in working order with ``queue``, ``teams``, ``working_days``
        (elapsed working days the hazard takes), ``start_season`` and ``finish_season``
        (seasons from the start), ``finish`` (decimal calendar year) and
        ``finish_year``.
    """
    effort = effort if effort is not None else read_effort()
    season = effort["season"]
    days = int(working_days if working_days is not None else season["working_days"])
    start = int(start_year if start_year is not None else season["start_year"])
    if days <= 0:
        raise InputError(f"working_days must be positive, got {days}")
    table = effort_table.copy()
    table["_rank"] = table["priority"].map(_priority_rank)
    table = table.sort_values(["_rank", "hazard_id"], kind="stable").drop(columns="_rank")
    if annual_m2 is not None:
        if not annual_m2 > 0:
            raise InputError(f"annual_m2 must be positive, got {annual_m2}")
        table["queue"] = "national"
        table["teams"] = np.nan
        work = table["area_to_clear_m2"].astype(float)
        capacity = pd.Series(float(annual_m2), index=table.index)
        table["working_days"] = work / annual_m2 * days
    else:
        teams = teams if teams is not None else read_teams()
        table["queue"] = table["operator"].fillna("(none)").astype(str)
        table["teams"] = table["queue"].map(lambda op: teams.get(op, 0)).astype(float)
        work = table["team_days"].astype(float)
        capacity = table["teams"] * days
        with np.errstate(divide="ignore", invalid="ignore"):
            table["working_days"] = np.where(table["teams"] > 0, work / table["teams"], np.nan)
        idle = table.loc[table["teams"] <= 0, "queue"].unique()
        if len(idle):
            warnings.warn(
                f"no team for operator(s) {', '.join(sorted(idle))}: their hazards are not "
                "scheduled",
                ForecastWarning,
                stacklevel=2,
            )
    cum = work.groupby(table["queue"], sort=False).cumsum()
    with np.errstate(divide="ignore", invalid="ignore"):
        finish = np.where(capacity > 0, cum / capacity, np.nan)
        begin = np.where(capacity > 0, (cum - work) / capacity, np.nan)
    table["start_season"] = begin
    table["finish_season"] = finish
    fm, lm = season["first_month"], season["last_month"]
    table["finish"] = season_to_year(finish, start_year=start, first_month=fm, last_month=lm)
    fy = np.where(np.isfinite(finish), start + np.ceil(np.maximum(finish, 1e-12)) - 1, np.nan)
    table["finish_year"] = pd.array(fy, dtype="Float64").astype("Int64")
    return table.reset_index(drop=True)


def completion(sched: pd.DataFrame) -> dict:
    """Year in which each priority class, and all the work, is completed.

    Returns
    -------
    dict
        ``{"high": 2027, "medium": ..., "low": ..., "all": ...}``: an int year; None
        for a class with no hazard; ``pd.NA`` if a hazard of the class is never
        scheduled (no team).
    """
    out = {}
    for name in (*PRIORITIES, "all"):
        part = sched if name == "all" else sched[sched["priority"] == name]
        if part.empty:
            out[name] = None
        elif part["finish_year"].isna().any():
            out[name] = pd.NA
        else:
            out[name] = int(part["finish_year"].max())
    return out


def burndown(
    sched: pd.DataFrame,
    *,
    effort: dict | None = None,
    until: int = 2030,
    start_year: int | None = None,
) -> pd.DataFrame:
    """Area still to clear through time, by priority class.

    Each hazard is cleared evenly over its working days; nothing is cleared between
    seasons. Unscheduled hazards stay.

    Parameters
    ----------
    sched : DataFrame
        A :func:`schedule` table.
    effort : dict, optional
        A :func:`~kosovo_cmr.analysis.effort.read_effort` result (default the shipped
        file): season and start year.
    until : int, optional
        Last year sampled.
    start_year : int, optional
        First season (default the effort file's).

    Returns
    -------
    pandas.DataFrame
        ``year`` (decimal calendar year, sampled at season starts, ends and within
        seasons), one column per priority class and ``all``: m2 remaining.
    """
    effort = effort if effort is not None else read_effort()
    season = effort["season"]
    start = int(start_year if start_year is not None else season["start_year"])
    n_seasons = max(until - start + 1, 1)
    frac = np.linspace(0, 1, 9)
    months = season["last_month"] - season["first_month"] + 1
    # each season sampled from its first to its last day: winters come out flat
    t = np.concatenate([[0.0]] + [y + frac for y in range(n_seasons)])
    years = np.concatenate(
        [[float(start)]]
        + [start + y + (season["first_month"] - 1 + frac * months) / 12 for y in range(n_seasons)]
    )
    remaining = _remaining(sched, t)
    out = pd.DataFrame({"year": years})
    for name in PRIORITIES:
        out[name] = remaining[:, (sched["priority"] == name).to_numpy()].sum(axis=1)
    out["all"] = remaining.sum(axis=1)
    return out


def remaining_at_end(sched: pd.DataFrame, year: int, *, start_year: int) -> float:
    """Area still to clear at the end of ``year``'s season, m2 (as :func:`burndown`).

    Parameters
    ----------
    sched : DataFrame
        A :func:`schedule` table.
    year : int
        The calendar year whose season end is asked (the deadline, say).
    start_year : int
        The first season of the schedule.

    Returns
    -------
    float
        Area of the hazards not yet cleared, with a hazard in progress counted pro rata;
        unscheduled hazards count whole.
    """
    return float(_remaining(sched, np.array([year - start_year + 1], dtype=float))[0].sum())


def _remaining(sched: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """Area of each hazard (columns) left at each season-time ``t`` (rows), m2."""
    s0 = sched["start_season"].to_numpy(float)
    s1 = sched["finish_season"].to_numpy(float)
    area = sched["area_to_clear_m2"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        done = np.clip((t[:, None] - s0[None, :]) / (s1 - s0)[None, :], 0, 1)
    done = np.where(np.isfinite(done), done, np.where(np.isfinite(s1)[None, :], 1.0, 0.0))
    return area[None, :] * (1 - done)
