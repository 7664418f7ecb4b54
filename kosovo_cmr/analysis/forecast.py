"""The completion forecast to 2030: scenarios of capacity, calibration and fade-out.

The model, end to end (every number comes from ``layers/effort.toml``, which says which
figures are the report's and which are assumptions; the teams from
``layers/capacity.csv``, :mod:`kosovo_cmr.programme`):

1. **Area to clear**, **method** and **team-days** per hazard:
   :mod:`kosovo_cmr.analysis.effort` (:func:`~kosovo_cmr.analysis.effort.clearance_effort`).
2. **Schedule**, **completion** and **burn-down**: :mod:`kosovo_cmr.analysis.schedule`.
3. **Scenarios** (:func:`scenarios`, here): current capacity, NPA at 5 teams, the 1.8 km2
   target, the rates calibrated to the observed year's clearance, and the fade-out
   rules; :func:`forecast_section` keeps what a report shows, as JSON-ready values.

The calibrated scenario scales every rate by the observed year's clearance over the
model's annual output. The observed clearance is read from the releases themselves
(:func:`observed_clearance`: the geodesic area of the ``clearance`` releases dated in
the year ``[calibration] observed_year`` of the effort file names, by default the latest
year before the forecast starts that has clearance releases). Only when the releases
hold no clearance for that year does the effort file's ``observed_clearance_m2`` apply,
and the scenario's note says so; the note always says where the figure came from.
"""

from __future__ import annotations

import json
import warnings
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr.analysis.effort import ForecastWarning, clearance_effort, read_effort
from kosovo_cmr.analysis.schedule import (
    PRIORITIES,
    burndown,
    completion,
    remaining_at_end,
    schedule,
)
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError, KcmrError
from kosovo_cmr.programme import read_teams

__all__ = [
    "observed_clearance",
    "scenarios",
    "burndown_curves",
    "forecast_section",
    "scenario_section",
]


# --- calibration: the observed year's clearance ------------------------------------------


def observed_clearance(releases: gpd.GeoDataFrame, *, year: int) -> float:
    """Area cleared in ``year``: geodesic m2 of the ``clearance`` releases dated in it.

    Parameters
    ----------
    releases : GeoDataFrame
        The ``releases`` layer (``method``, ``date``), any CRS.
    year : int
        Calendar year of the releases' ``date``.

    Returns
    -------
    float
        The sum of the releases' geodesic areas, m2 (0.0 without clearance that year).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the layer has no ``method`` or ``date`` column.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> releases = gpd.GeoDataFrame(
    ...     {"method": ["clearance", "reduction_ts"], "date": ["2024-05-02", "2024-06-01"]},
    ...     geometry=[box(21, 42, 21.01, 42.01)] * 2,
    ...     crs=4326,
    ... )
    >>> round(observed_clearance(releases, year=2024))
    920179
    """
    return float(geodesic_area(_clearance(releases, year=year)).sum())


def _clearance(releases: gpd.GeoDataFrame, *, year: int | None = None) -> gpd.GeoDataFrame:
    """Select the clearance releases (of ``year`` when given)."""
    require_crs(releases, name="releases")
    missing = {"method", "date"} - set(releases.columns)
    if missing:
        raise InputError(f"releases lack column(s) {', '.join(sorted(missing))}")
    sel = releases[releases["method"] == "clearance"]
    years = pd.to_datetime(sel["date"]).dt.year
    return sel if year is None else sel[(years == year).to_numpy()]


def _observed_year(releases: gpd.GeoDataFrame | None, effort: dict) -> int | None:
    """Return the effort file's ``observed_year``, else the latest full year of clearance."""
    year = effort.get("calibration", {}).get("observed_year")
    if year is not None:
        return int(year)
    if releases is None:
        return None
    start = int(effort["season"]["start_year"])
    years = pd.to_datetime(_clearance(releases)["date"]).dt.year
    years = years[years < start]
    return int(years.max()) if len(years) else None


def _observed(releases: gpd.GeoDataFrame | None, effort: dict) -> tuple[int | None, float, str]:
    """Return the observed year, its clearance (m2; 0 if none) and where it came from."""
    year = _observed_year(releases, effort)
    if releases is not None and year is not None:
        cleared = _clearance(releases, year=year)
        area = float(geodesic_area(cleared).sum())
        if area > 0:
            n = len(cleared)
            what = f"{n} clearance release{'s' if n != 1 else ''} dated {year}"
            return year, area, f"figure from the releases layer: {what}"
    if releases is None:
        why = "no releases layer given"
    elif year is None:
        why = f"the releases layer has no clearance before {effort['season']['start_year']}"
    else:
        why = f"the releases layer has no clearance in {year}"
    figure = effort.get("calibration", {}).get("observed_clearance_m2")
    return year, float(figure or 0.0), f"fallback: figure from effort.toml, {why}"


# --- scenarios -----------------------------------------------------------------------------


class _Run(NamedTuple):
    """One scenario to schedule: effort table and schedule options (no table: not run)."""

    label: str
    capacity: str
    table: pd.DataFrame | None
    options: dict
    note: str


def _teams_text(teams: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in teams.items())


def _deadline(effort: dict) -> int:
    return int(effort.get("target", {}).get("deadline_year", 2030))


def _capacity_runs(base: pd.DataFrame, *, teams: dict, effort: dict) -> list[_Run]:
    """Build the runs at current capacity, NPA cut to 5 teams, the national area rate."""
    target = float(effort.get("target", {}).get("annual_clearance_m2", 1_800_000))
    npa5 = {**teams, "NPA": 5}
    return [
        _Run("current capacity", _teams_text(teams), base, {"teams": teams}, ""),
        _Run("NPA at 5 teams", _teams_text(npa5), base, {"teams": npa5}, ""),
        _Run(
            f"target {target / 1e6:g} km2/year",
            f"{target:,.0f} m2/year national",
            base,
            {"annual_m2": target},
            "area rate, methods not used",
        ),
    ]


def _calibrated_runs(
    hazards: gpd.GeoDataFrame,
    base: pd.DataFrame,
    *,
    terrain: pd.DataFrame | None,
    releases: gpd.GeoDataFrame | None,
    teams: dict,
    effort: dict,
) -> list[_Run]:
    """Build the run at current capacity, every rate scaled to the observed clearance."""
    year, observed, source = _observed(releases, effort)
    if not observed:
        return []
    mean_rate = base["area_to_clear_m2"].sum() / base["team_days"].sum()
    modelled = sum(teams.values()) * effort["season"]["working_days"] * mean_rate
    factor = observed / modelled
    table = clearance_effort(hazards, terrain=terrain, effort=effort, rate_factor=factor)
    note = (
        f"rates scaled to the {year if year is not None else 'observed'} output of "
        f"{observed:,.0f} m2 (model: {modelled:,.0f} m2/year); {source}"
    )
    return [
        _Run(f"current, rates x{factor:.2f}", _teams_text(teams), table, {"teams": teams}, note)
    ]


def _fadeout_runs(
    hazards: gpd.GeoDataFrame,
    *,
    terrain: pd.DataFrame | None,
    evidence: gpd.GeoDataFrame | None,
    rules: dict,
    teams: dict,
    effort: dict,
) -> list[_Run]:
    """Build the runs at current capacity on the area to clear of each fade-out rule."""
    runs = []
    for label, spec in rules.items():
        rule, basis = (
            (spec.get("rule"), spec.get("basis", "union"))
            if isinstance(spec, dict)
            else (spec, "union")
        )
        try:
            table = clearance_effort(
                hazards,
                terrain=terrain,
                evidence=evidence,
                fadeout_rule=rule,
                fadeout_basis=basis,
                effort=effort,
            )
        except KcmrError as exc:  # e.g. no evidence layer: say so in the table
            runs.append(_Run(label, "", None, {}, f"not computed: {exc}"))
            continue
        what = "hazard + fade-out" if basis == "union" else "CHAs redrawn from evidence"
        runs.append(
            _Run(label, _teams_text(teams), table, {"teams": teams}, f"{what}, rule {rule}")
        )
    return runs


def _scenario_row(run: _Run, *, effort: dict) -> tuple[dict, pd.DataFrame | None]:
    """Schedule one scenario and sum it up as a row of the scenario table."""
    row = {"scenario": run.label, "capacity": run.capacity, "note": run.note}
    if run.table is None:
        return row, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastWarning)
        sched = schedule(run.table, effort=effort, **run.options)
    done = completion(sched)
    seasons = np.nanmax(sched["finish_season"].to_numpy(float), initial=0.0)
    area = float(run.table["area_to_clear_m2"].sum())
    row.update(
        area_to_clear_m2=area,
        team_days=float(run.table["team_days"].sum()),
        area_per_year_m2=float(area / seasons) if seasons > 0 else np.nan,
        **{k: done[k] for k in (*PRIORITIES, "all")},
    )
    deadline = _deadline(effort)
    start = effort["season"]["start_year"]
    row[f"remaining_end_{deadline}_m2"] = remaining_at_end(sched, deadline, start_year=start)
    hm = [done[p] for p in ("high", "medium")]
    row[f"high_medium_by_{deadline}"] = all(
        y is None or (y is not pd.NA and y <= deadline) for y in hm
    )
    return row, sched


def _scenario_table(rows: list[dict], *, deadline: int) -> pd.DataFrame:
    """Put the rows in the table's column order, completion years as nullable ints."""
    cols = [
        "scenario",
        "capacity",
        "area_to_clear_m2",
        "team_days",
        "area_per_year_m2",
        *PRIORITIES,
        "all",
        f"remaining_end_{deadline}_m2",
        f"high_medium_by_{deadline}",
        "note",
    ]
    out = pd.DataFrame(rows).reindex(columns=cols)
    for col in (*PRIORITIES, "all"):
        out[col] = out[col].astype("Int64")
    return out


def scenarios(
    hazards: gpd.GeoDataFrame,
    *,
    terrain: pd.DataFrame | None = None,
    evidence: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
    effort: dict | None = None,
    teams: dict | None = None,
    fadeout_rules: dict | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Run the scenarios: current capacity, NPA at 5 teams, the 1.8 km2 target, fade-outs.

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards to clear (active).
    terrain : DataFrame, optional
        Their :func:`kosovo_cmr.analysis.terrain.terrain_stats`.
    evidence : GeoDataFrame, optional
        Evidence points, for the fade-out scenarios.
    releases : GeoDataFrame, optional
        The ``releases`` layer: the calibrated scenario scales the rates to its
        clearance in the observed year (:func:`observed_clearance`). Without it, or
        without clearance in that year, the effort file's ``observed_clearance_m2``
        applies and the scenario's note says so.
    effort : dict, optional
        A :func:`~kosovo_cmr.analysis.effort.read_effort` result.
    teams : dict, optional
        Current capacity: operator -> teams (default
        :func:`kosovo_cmr.programme.read_teams`: the latest year of
        ``layers/capacity.csv``).
    fadeout_rules : dict, optional
        Scenario label -> fade-out rule (see
        :func:`~kosovo_cmr.analysis.effort.area_to_clear`), or a dict
        ``{"rule": ..., "basis": "union" | "redrawn"}``. Default: the
        effort file's ``[fadeout]`` table (50 m and 25 m). A scenario that cannot be
        computed (no evidence layer, unknown rule) is reported in the table's ``note``.

    Returns
    -------
    table : pandas.DataFrame
        One row per scenario: ``scenario``, ``capacity``, ``area_to_clear_m2``,
        ``team_days``, ``area_per_year_m2`` (mean while work lasts), completion years
        ``high``, ``medium``, ``low``, ``all``, ``remaining_end_<deadline>_m2``,
        ``high_medium_by_<deadline>`` and ``note``.
    schedules : dict
        Scenario -> :func:`~kosovo_cmr.analysis.schedule.schedule` table.
    """
    effort = effort if effort is not None else read_effort()
    teams = dict(teams if teams is not None else read_teams())
    if fadeout_rules is None:
        fadeout_rules = dict(effort.get("fadeout", {}))
    base = clearance_effort(hazards, terrain=terrain, effort=effort)
    runs = [
        *_capacity_runs(base, teams=teams, effort=effort),
        *_calibrated_runs(
            hazards, base, terrain=terrain, releases=releases, teams=teams, effort=effort
        ),
        *_fadeout_runs(
            hazards,
            terrain=terrain,
            evidence=evidence,
            rules=fadeout_rules,
            teams=teams,
            effort=effort,
        ),
    ]
    rows, schedules = [], {}
    for run in runs:
        row, sched = _scenario_row(run, effort=effort)
        rows.append(row)
        if sched is not None:
            schedules[run.label] = sched
    return _scenario_table(rows, deadline=_deadline(effort)), schedules


# --- what a report shows -------------------------------------------------------------------


def burndown_curves(
    schedules: dict, *, effort: dict | None = None, until: int = 2035
) -> dict[str, pd.DataFrame]:
    """Return the :func:`~kosovo_cmr.analysis.schedule.burndown` curve of each scenario.

    Parameters
    ----------
    schedules : dict
        Scenario label -> :func:`~kosovo_cmr.analysis.schedule.schedule` table (as
        :func:`scenarios` returns).
    effort : dict, optional
        A :func:`~kosovo_cmr.analysis.effort.read_effort` result (season and start year).
    until : int, optional
        Last year of the curves.

    Returns
    -------
    dict
        Scenario label -> :func:`~kosovo_cmr.analysis.schedule.burndown` table.
    """
    effort = effort if effort is not None else read_effort()
    return {label: burndown(s, effort=effort, until=until) for label, s in schedules.items()}


def forecast_section(
    hazards: gpd.GeoDataFrame,
    *,
    terrain: pd.DataFrame | None = None,
    evidence: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
    effort: dict | None = None,
    teams: dict | None = None,
    until: int = 2035,
) -> dict:
    """Compute the completion forecast as a JSON-ready section of the land release report.

    Runs :func:`scenarios` on the hazards still to clear and keeps what a report shows:
    the scenario table, the burn-down curve of each scenario (so the chart can be drawn
    again from the JSON) and the assumptions behind them.

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards to clear (active).
    terrain, evidence, releases, effort, teams
        As for :func:`scenarios`.
    until : int, optional
        Last year of the burn-down curves.

    Returns
    -------
    dict
        ``scenarios`` (rows of the :func:`scenarios` table; a completion year is null
        when the class is never completed, or has no hazard: see
        ``hazards_by_priority``), ``burndown`` (scenario ->
        ``{"year": [...], "high": [...], "medium": [...], "low": [...], "all": [...]}``,
        m2 remaining), ``deadline_year``, ``start_year``, ``terrain`` (whether slope and
        cover chose the methods) and ``assumptions`` (working days, season, teams,
        rates, effort file).
    """
    effort = effort if effort is not None else read_effort()
    teams = dict(teams if teams is not None else read_teams())
    table, schedules = scenarios(
        hazards, terrain=terrain, evidence=evidence, releases=releases, effort=effort, teams=teams
    )
    return scenario_section(
        table, schedules, effort=effort, teams=teams, terrain=terrain is not None, until=until
    )


def scenario_section(
    table: pd.DataFrame,
    schedules: dict,
    *,
    effort: dict,
    teams: dict,
    terrain: bool = False,
    until: int = 2035,
) -> dict:
    """Turn a :func:`scenarios` result into the JSON-ready :func:`forecast_section`.

    Parameters
    ----------
    table, schedules
        What :func:`scenarios` returned.
    effort : dict
        The :func:`~kosovo_cmr.analysis.effort.read_effort` result the scenarios used.
    teams : dict
        The current capacity they used.
    terrain : bool, optional
        Whether terrain statistics chose the methods.
    until : int, optional
        Last year of the burn-down curves.

    Returns
    -------
    dict
        See :func:`forecast_section`.
    """
    curves = burndown_curves(schedules, effort=effort, until=until)
    season = effort["season"]
    first = next(iter(schedules.values()), None)
    return {
        "deadline_year": _deadline(effort),
        "start_year": int(season["start_year"]),
        "hazards": 0 if first is None else int(len(first)),
        "hazards_by_priority": {
            p: 0 if first is None else int((first["priority"] == p).sum()) for p in PRIORITIES
        },
        "terrain": bool(terrain),
        "scenarios": json.loads(table.to_json(orient="records")),
        "burndown": {
            label: {col: [float(v) for v in curve[col]] for col in curve.columns}
            for label, curve in curves.items()
        },
        "assumptions": {
            "working_days_per_season": int(season["working_days"]),
            "season_months": [int(season["first_month"]), int(season["last_month"])],
            "teams": teams,
            "rates_m2_per_team_day": {
                k: float(m["rate_m2_per_team_day"]) for k, m in effort["methods"].items()
            },
            "effort_file": str(effort.get("path", "")),
        },
    }
