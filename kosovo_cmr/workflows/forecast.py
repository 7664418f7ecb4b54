"""The forecast workflow: read the store, run the forecast, hand it to the renderers.

``kcmr forecast``, ``kcmr report --forecast`` and the demo's planning step call these
functions: they read the active hazards, the evidence and the releases from a store,
the terrain from a DEM and land cover, and run :mod:`kosovo_cmr.analysis.forecast`
(:mod:`~kosovo_cmr.analysis.effort`, :mod:`~kosovo_cmr.analysis.schedule`); the text
and the chart come from :mod:`kosovo_cmr.outputs.forecast_text` and
:mod:`kosovo_cmr.outputs.charts`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from kosovo_cmr.analysis.effort import clearance_effort, read_effort
from kosovo_cmr.analysis.forecast import burndown_curves, scenario_section, scenarios
from kosovo_cmr.analysis.schedule import schedule
from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs.charts import plot_burndown_curves
from kosovo_cmr.programme import read_teams

__all__ = [
    "Forecast",
    "forecast_settings",
    "forecast_inputs",
    "forecast_from_store",
    "plan_from_store",
    "burndown_chart",
]


@dataclass
class Forecast:
    """What the forecast workflow computed on a store: the renderers' input.

    Attributes
    ----------
    hazards : GeoDataFrame
        The active hazards the forecast worked on.
    terrain : DataFrame or None
        Their terrain statistics, when a DEM was given.
    plan : DataFrame
        Per hazard, in working order, at the given capacity and fade-out rule: a
        :func:`kosovo_cmr.analysis.schedule.schedule` table.
    effort, teams : dict
        The effort model and the teams per operator used.
    table : DataFrame or None
        The :func:`kosovo_cmr.analysis.forecast.scenarios` table (None when not asked).
    schedules : dict
        Scenario -> schedule table.
    """

    hazards: gpd.GeoDataFrame
    terrain: pd.DataFrame | None
    plan: pd.DataFrame
    effort: dict
    teams: dict
    table: pd.DataFrame | None = None
    schedules: dict = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """Whether any hazard is synthetic (demo data): charts then say so."""
        h = self.hazards
        return "synthetic" in h and bool(h["synthetic"].astype(bool).any())

    @property
    def assumptions(self) -> dict:
        """Working days, season months, start year, teams, rates and the effort file."""
        season = self.effort["season"]
        return {
            "working_days_per_season": season["working_days"],
            "season_months": [season["first_month"], season["last_month"]],
            "start_year": season["start_year"],
            "teams": self.teams,
            "rates_m2_per_team_day": {
                k: m["rate_m2_per_team_day"] for k, m in self.effort["methods"].items()
            },
            "effort_file": self.effort["path"],
        }

    def section(self, *, until: int = 2035) -> dict:
        """Return the report section (:func:`kosovo_cmr.analysis.forecast.forecast_section`)."""
        if self.table is None:
            raise InputError("the forecast was computed without its scenarios")
        return scenario_section(
            self.table,
            self.schedules,
            effort=self.effort,
            teams=self.teams,
            terrain=self.terrain is not None,
            until=until,
        )


def forecast_settings(
    effort: str | os.PathLike | None = None,
    *,
    capacity: str | os.PathLike | None = None,
    teams: dict | None = None,
    working_days: int | None = None,
    start_year: int | None = None,
) -> tuple[dict, dict]:
    """Read the effort model and the teams, with a user's overrides.

    Parameters
    ----------
    effort : path, optional
        Effort file (default the shipped ``layers/effort.toml``).
    capacity : path, optional
        Capacity CSV (default the shipped ``layers/capacity.csv``): the latest year's
        teams per operator (:func:`kosovo_cmr.programme.read_teams`).
    teams : dict, optional
        Operator -> teams replacing the table's, e.g. ``{"NPA": 5}``.
    working_days, start_year : int, optional
        Replace the effort file's working days per season and first season.

    Returns
    -------
    effort : dict
        The :func:`~kosovo_cmr.analysis.effort.read_effort` result, overrides applied.
    teams : dict
        Operator -> teams.
    """
    model = read_effort(effort)
    if working_days is not None:
        model["season"]["working_days"] = working_days
    if start_year is not None:
        model["season"]["start_year"] = start_year
    current = read_teams(capacity)
    current.update(teams or {})
    return model, current


def forecast_inputs(
    store, *, dem=None, cover=None, effort: dict | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """Read what the forecast works on: active hazards, evidence and their terrain.

    Parameters
    ----------
    store : kosovo_cmr.store.base.Store
        Holds ``hazards`` and, for the fade-out scenarios, ``evidence``.
    dem, cover : path, optional
        A DEM (and land cover) GeoTIFF: slope and vegetation then choose each hazard's
        method (:func:`kosovo_cmr.analysis.terrain.terrain_stats`).
    effort : dict, optional
        A :func:`~kosovo_cmr.analysis.effort.read_effort` result (its steep-slope
        threshold).

    Returns
    -------
    hazards : GeoDataFrame
        The hazards with status ``active``.
    evidence : GeoDataFrame or None
        The evidence layer, when the store has one.
    terrain : DataFrame or None
        The terrain statistics, when a DEM is given.

    Raises
    ------
    kosovo_cmr.errors.InputError
        For a land cover without a DEM.
    """
    if cover is not None and dem is None:
        raise InputError("a land cover raster needs a DEM too (--dem)")
    effort = effort if effort is not None else read_effort()
    hazards = store.read("hazards")
    active = hazards[hazards["status"] == "active"].reset_index(drop=True)
    evidence = store.read("evidence") if store.has_layer("evidence") else None
    terrain = None
    if dem is not None:
        from kosovo_cmr.analysis.terrain import terrain_stats

        terrain = terrain_stats(
            active, dem=dem, cover=cover, steep_deg=effort["terrain"].get("steep_slope_deg", 15.0)
        )
    return active, evidence, terrain


def _releases(store) -> gpd.GeoDataFrame | None:
    """Read the store's releases (for the calibrated scenario), if it has them."""
    return store.read("releases") if store.has_layer("releases") else None


def plan_from_store(
    store,
    *,
    dem=None,
    cover=None,
    effort: dict | None = None,
    teams: dict | None = None,
    fadeout_rule=None,
    fadeout_basis: str = "union",
    with_scenarios: bool = True,
) -> Forecast:
    """Plan the clearance of a store's active hazards, and run the scenarios.

    Parameters
    ----------
    store : kosovo_cmr.store.base.Store
        Holds ``hazards``, and optionally ``evidence`` (fade-out) and ``releases`` (the
        calibrated scenario's observed clearance).
    dem, cover : path, optional
        See :func:`forecast_inputs`.
    effort, teams : dict, optional
        See :func:`forecast_settings` (default the shipped files).
    fadeout_rule : optional
        A fade-out rule for the per-hazard plan's area to clear
        (:func:`kosovo_cmr.analysis.effort.area_to_clear`); None: the recorded area.
    fadeout_basis : {"union", "redrawn"}, optional
        See :func:`kosovo_cmr.analysis.effort.area_to_clear`.
    with_scenarios : bool, optional
        Also run :func:`kosovo_cmr.analysis.forecast.scenarios` (on the store's
        releases for the calibrated scenario).

    Returns
    -------
    Forecast
        The plan, and the scenario table and schedules when asked.
    """
    effort = effort if effort is not None else read_effort()
    teams = dict(teams if teams is not None else read_teams())
    hazards, evidence, terrain = forecast_inputs(store, dem=dem, cover=cover, effort=effort)
    table = clearance_effort(
        hazards,
        terrain=terrain,
        evidence=evidence,
        fadeout_rule=fadeout_rule,
        fadeout_basis=fadeout_basis,
        effort=effort,
    )
    out = Forecast(hazards, terrain, schedule(table, teams=teams, effort=effort), effort, teams)
    if with_scenarios:
        out.table, out.schedules = scenarios(
            hazards,
            terrain=terrain,
            evidence=evidence,
            releases=_releases(store),
            effort=effort,
            teams=teams,
        )
    return out


def forecast_from_store(
    store,
    *,
    dem=None,
    cover=None,
    effort: dict | None = None,
    teams: dict | None = None,
    until: int = 2035,
) -> dict:
    """Compute the completion forecast of a store as a JSON-ready report section.

    The scenarios run on the store's active hazards, its evidence (fade-out scenarios)
    and its releases (the calibrated scenario scales the rates to the observed year's
    clearance in them).

    Parameters
    ----------
    store : kosovo_cmr.store.base.Store
        The store.
    dem, cover : path, optional
        See :func:`forecast_inputs`.
    effort, teams : dict, optional
        See :func:`forecast_settings` (default the shipped files).
    until : int, optional
        Last year of the burn-down curves.

    Returns
    -------
    dict
        See :func:`kosovo_cmr.analysis.forecast.forecast_section`.
    """
    result = plan_from_store(store, dem=dem, cover=cover, effort=effort, teams=teams)
    return result.section(until=until)


def burndown_chart(
    schedules: dict,
    path: str | Path | None = None,
    *,
    effort: dict | None = None,
    until: int = 2035,
    title: str = "CMR clearance burn-down",
    synthetic: bool = False,
) -> Path | bytes:
    """Draw remaining area against time for each scenario to a PNG.

    Computes each scenario's burn-down
    (:func:`kosovo_cmr.analysis.forecast.burndown_curves`) and draws them with
    :func:`kosovo_cmr.outputs.charts.plot_burndown_curves`: the first scenario stacked by
    priority class, a line at the end of the deadline year.

    Parameters
    ----------
    schedules : dict
        Scenario label -> schedule table (as
        :func:`kosovo_cmr.analysis.forecast.scenarios` returns).
    path : path, optional
        The PNG to write; None returns the PNG bytes instead (for an HTML report).
    effort : dict, optional
        A :func:`~kosovo_cmr.analysis.effort.read_effort` result (season, start year,
        deadline).
    until : int, optional
        Last year drawn.
    title : str, optional
        Chart title.
    synthetic : bool, optional
        Say SYNTHETIC DEMO DATA in the title.

    Returns
    -------
    pathlib.Path or bytes
        The written PNG, or its bytes when ``path`` is None.
    """
    effort = effort if effort is not None else read_effort()
    return plot_burndown_curves(
        burndown_curves(schedules, effort=effort, until=until),
        path,
        start_year=int(effort["season"]["start_year"]),
        deadline=int(effort.get("target", {}).get("deadline_year", 2030)),
        title=title,
        synthetic=synthetic,
    )
