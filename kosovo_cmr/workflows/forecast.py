"""The forecast workflow: read the store, run the forecast, hand it to the renderers.

``kcmr forecast``, ``kcmr report --forecast``, the map's tolerable-risk layer and the
demo's planning step call these functions: they read the active hazards, the evidence,
the releases, the incidents and the boundaries from a store, the terrain from a DEM and
land cover, and run :mod:`kosovo_cmr.analysis.forecast` (the money and capacity
scenarios) and :mod:`kosovo_cmr.analysis.tolerable_risk`; the text and the charts come
from :mod:`kosovo_cmr.outputs.forecast_text` and :mod:`kosovo_cmr.outputs.charts`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from kosovo_cmr.analysis.effort import read_effort
from kosovo_cmr.analysis.forecast import (
    burndown_curves,
    lead_plan,
    scenario_section,
    scenarios,
)
from kosovo_cmr.analysis.tolerable_risk import risk_layer, risk_section, tolerable_risk
from kosovo_cmr.errors import InputError, KcmrError
from kosovo_cmr.outputs.charts import plot_burndown_curves
from kosovo_cmr.programme import read_capacity, read_costs, read_scenarios, teams_by_operator

log = logging.getLogger(__name__)

__all__ = [
    "ForecastSettings",
    "Forecast",
    "forecast_settings",
    "forecast_inputs",
    "forecast_from_store",
    "plan_from_store",
    "tolerable_risk_from_store",
    "tolerable_risk_layer",
    "burndown_chart",
]


@dataclass
class ForecastSettings:
    """The data files of a forecast, with a user's overrides applied.

    Attributes
    ----------
    effort : dict
        :func:`kosovo_cmr.analysis.effort.read_effort` (methods, rates, season, target).
    capacity : DataFrame
        :func:`kosovo_cmr.programme.read_capacity`, the latest year's teams overridden.
    plan : dict
        :func:`kosovo_cmr.programme.read_scenarios` (money and capacity scenarios).
    costs : DataFrame
        :func:`kosovo_cmr.programme.read_costs`.
    """

    effort: dict
    capacity: pd.DataFrame
    plan: dict
    costs: pd.DataFrame

    @property
    def teams(self) -> dict:
        """The teams of the capacity table's latest year (April 2025 when shipped)."""
        return teams_by_operator(self.capacity)

    def __iter__(self):
        """Unpack as the 0.2 ``effort, teams`` pair (deprecated: use the attributes)."""
        from kosovo_cmr import _deprecated

        _deprecated.warn(
            "unpacking forecast_settings() as (effort, teams) is deprecated: it returns a "
            "ForecastSettings; use its .effort and .teams"
        )
        return iter((self.effort, self.teams))

    def start(self) -> pd.Timestamp:
        """Return the forecast's first day: the first season's first day (1 April 2025)."""
        season = self.effort["season"]
        return pd.Timestamp(int(season["start_year"]), int(season["first_month"]), 1)


def forecast_settings(
    effort: str | os.PathLike | None = None,
    *,
    capacity: str | os.PathLike | None = None,
    teams: dict | None = None,
    working_days: int | None = None,
    start_year: int | None = None,
    scenarios: str | os.PathLike | None = None,
    costs: str | os.PathLike | None = None,
) -> ForecastSettings:
    """Read the effort model, capacity, scenarios and costs, with a user's overrides.

    Parameters
    ----------
    effort : path, optional
        Effort file (default the shipped ``layers/effort.toml``).
    capacity : path, optional
        Capacity CSV (default the shipped ``layers/capacity.csv``).
    teams : dict, optional
        Operator -> teams replacing those of the capacity table's latest year, e.g.
        ``{"NPA": 8}``.
    working_days, start_year : int, optional
        Replace the effort file's working days per season and first season.
    scenarios : path, optional
        Scenario file (default ``layers/scenarios.toml``).
    costs : path, optional
        Cost table (default ``layers/costs.csv``).

    Returns
    -------
    ForecastSettings
    """
    model = read_effort(effort)
    if working_days is not None:
        model["season"]["working_days"] = int(working_days)
    if start_year is not None:
        model["season"]["start_year"] = int(start_year)
    table = read_capacity(capacity)
    if teams:
        latest = table["year"].dropna()
        year = int(latest.max()) if len(latest) else None
        current = {**teams_by_operator(table, year=year), **teams}
        keep = table[table["year"] != year] if year is not None else table.iloc[0:0]
        rows = [{"year": year, "operator": op, "teams": float(n)} for op, n in current.items()]
        table = pd.concat([keep, pd.DataFrame(rows)], ignore_index=True)
        table["year"] = table["year"].astype("Int64")
    return ForecastSettings(model, table, read_scenarios(scenarios), read_costs(costs))


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
        Per hazard, in working order, under the lead scenario (the April 2025 capacity on
        calibrated rates; on a fade-out rule's area when asked):
        :func:`kosovo_cmr.analysis.forecast.lead_plan`.
    settings : ForecastSettings
        The data files used.
    table : DataFrame or None
        The :func:`kosovo_cmr.analysis.forecast.scenarios` table (None when not asked).
    schedules : dict
        Scenario -> schedule table.
    risk : DataFrame or None
        :func:`kosovo_cmr.analysis.tolerable_risk.tolerable_risk` on the lead scenario
        (None without scenarios or boundaries).
    boundaries : GeoDataFrame or None
        The store's municipalities (for :meth:`risk_layer`).
    """

    hazards: gpd.GeoDataFrame
    terrain: pd.DataFrame | None
    plan: pd.DataFrame
    settings: ForecastSettings
    table: pd.DataFrame | None = None
    schedules: dict = field(default_factory=dict)
    risk: pd.DataFrame | None = None
    boundaries: gpd.GeoDataFrame | None = None

    @property
    def effort(self) -> dict:
        """The effort model used."""
        return self.settings.effort

    @property
    def teams(self) -> dict:
        """The lead scenario's teams at the start."""
        return self.settings.teams

    @property
    def synthetic(self) -> bool:
        """Whether any hazard is synthetic (demo data): charts then say so."""
        h = self.hazards
        return "synthetic" in h and bool(h["synthetic"].astype(bool).any())

    @property
    def assumptions(self) -> dict:
        """Working days, season, start year, teams, rates, calibration and the data files."""
        season = self.effort["season"]
        calibration = {} if self.table is None else self.table.attrs.get("calibration", {})
        return {
            "working_days_per_season": season["working_days"],
            "season_months": [season["first_month"], season["last_month"]],
            "start_year": season["start_year"],
            "teams": self.teams,
            "rates_m2_per_team_day": {
                k: m["rate_m2_per_team_day"] for k, m in self.effort["methods"].items()
            },
            "rate_factor": calibration.get("factor"),
            "effort_file": self.effort["path"],
            "scenario_file": self.settings.plan["path"],
        }

    def risk_layer(self) -> gpd.GeoDataFrame | None:
        """Return the map's tolerable-risk layer of this forecast (None without the table)."""
        if self.risk is None or self.boundaries is None:
            return None
        lead = self.table["scenario"].iloc[0]
        terrain = "methods from slope and cover" if self.terrain is not None else "no terrain"
        return risk_layer(
            self.risk, self.boundaries, synthetic=self.synthetic, basis=f"{lead}; {terrain}"
        )

    def section(self, *, until: int = 2035) -> dict:
        """Return the report section: the scenarios and the tolerable risk by municipality."""
        if self.table is None:
            raise InputError("the forecast was computed without its scenarios")
        out = scenario_section(
            self.table,
            self.schedules,
            effort=self.effort,
            teams=self.teams,
            terrain=self.terrain is not None,
            until=until,
        )
        out["tolerable_risk"] = None if self.risk is None else risk_section(self.risk)
        return out


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


def _layer(store, name: str) -> gpd.GeoDataFrame | None:
    """Read a layer of the store, or None when it has none."""
    return store.read(name) if store.has_layer(name) else None


def _settings(settings, effort, teams) -> ForecastSettings:
    if settings is not None:
        return settings
    out = forecast_settings(teams=teams)
    if effort is not None:
        out.effort = effort
    return out


def plan_from_store(
    store,
    *,
    dem=None,
    cover=None,
    settings: ForecastSettings | None = None,
    effort: dict | None = None,
    teams: dict | None = None,
    fadeout_rule=None,
    fadeout_basis: str = "union",
    with_scenarios: bool = True,
    count: str = "all",
) -> Forecast:
    """Plan the clearance of a store's active hazards, run the scenarios and the risk table.

    Parameters
    ----------
    store : kosovo_cmr.store.base.Store
        Holds ``hazards``, and optionally ``evidence`` (fade-out), ``releases`` (the
        calibration), ``boundaries`` and ``incidents`` (the tolerable risk).
    dem, cover : path, optional
        See :func:`forecast_inputs`.
    settings : ForecastSettings, optional
        The data files (default :func:`forecast_settings` with the shipped files).
    effort, teams : dict, optional
        Shortcuts: an effort model, or teams replacing the latest capacity year's, used
        when ``settings`` is not given.
    fadeout_rule : optional
        A fade-out rule for the per-hazard plan's area to clear
        (:func:`kosovo_cmr.analysis.effort.area_to_clear`); None: the recorded area.
    fadeout_basis : {"union", "redrawn"}, optional
        See :func:`kosovo_cmr.analysis.effort.area_to_clear`.
    with_scenarios : bool, optional
        Also run :func:`kosovo_cmr.analysis.forecast.scenarios` and the tolerable risk.
    count : {"all", "accidents"}, optional
        Which incidents count for the tolerable risk
        (:func:`kosovo_cmr.analysis.tolerable_risk.tolerable_risk`).

    Returns
    -------
    Forecast
    """
    settings = _settings(settings, effort, teams)
    hazards, evidence, terrain = forecast_inputs(
        store, dem=dem, cover=cover, effort=settings.effort
    )
    releases = _layer(store, "releases")
    files = dict(
        effort=settings.effort, capacity=settings.capacity, plan=settings.plan, costs=settings.costs
    )
    out = Forecast(hazards, terrain, pd.DataFrame(), settings)
    if with_scenarios:
        out.table, out.schedules = scenarios(
            hazards, terrain=terrain, evidence=evidence, releases=releases, **files
        )
    if with_scenarios and fadeout_rule is None:
        out.plan = out.schedules[out.table["scenario"].iloc[0]]
    else:
        out.plan = lead_plan(
            hazards,
            terrain=terrain,
            evidence=evidence,
            releases=releases,
            fadeout_rule=fadeout_rule,
            fadeout_basis=fadeout_basis,
            **files,
        )
    boundaries = out.boundaries = _layer(store, "boundaries")
    if with_scenarios and boundaries is not None:
        out.risk = tolerable_risk(
            hazards,
            out.schedules[out.table["scenario"].iloc[0]],
            boundaries,
            incidents=_layer(store, "incidents"),
            as_of=settings.start(),
            deadline=int(settings.effort.get("target", {}).get("deadline_year", 2030)),
            count=count,
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
    and its releases (the calibration); the tolerable risk by municipality on its
    boundaries and incidents.

    Parameters
    ----------
    store : kosovo_cmr.store.base.Store
        The store.
    dem, cover : path, optional
        See :func:`forecast_inputs`.
    effort, teams : dict, optional
        See :func:`plan_from_store` (default the shipped files).
    until : int, optional
        Last year of the burn-down curves.

    Returns
    -------
    dict
        See :func:`kosovo_cmr.analysis.forecast.scenario_section`, with
        ``tolerable_risk`` (:func:`kosovo_cmr.analysis.tolerable_risk.risk_section`, or
        None without boundaries).
    """
    result = plan_from_store(store, dem=dem, cover=cover, effort=effort, teams=teams)
    return result.section(until=until)


def tolerable_risk_from_store(store, *, dem=None, cover=None, count: str = "all"):
    """Compute the tolerable risk by municipality of a store (lead scenario, shipped files).

    Returns
    -------
    DataFrame or None
        :func:`kosovo_cmr.analysis.tolerable_risk.tolerable_risk`; None without hazards
        or boundaries.
    """
    if not (store.has_layer("hazards") and store.has_layer("boundaries")):
        return None
    return plan_from_store(store, dem=dem, cover=cover, count=count).risk


def tolerable_risk_layer(layers: dict) -> gpd.GeoDataFrame | None:
    """Return the map's tolerable-risk layer: municipalities with their status.

    Runs the forecast's lead scenario on the layers (without terrain: every hazard gets
    the effort file's ``unknown_terrain_method``) and joins
    :func:`kosovo_cmr.analysis.tolerable_risk.tolerable_risk` to the municipal polygons.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        The store's layers: ``hazards`` and ``boundaries`` are needed; ``evidence``,
        ``releases`` and ``incidents`` are used when present.

    Returns
    -------
    GeoDataFrame or None
        :func:`kosovo_cmr.analysis.tolerable_risk.risk_layer` (``synthetic`` when the
        hazards are); None without hazards or boundaries.
    """
    hazards, boundaries = layers.get("hazards"), layers.get("boundaries")
    if hazards is None or boundaries is None or not len(boundaries):
        return None
    try:
        return _risk_layer(hazards, boundaries, layers)
    except (KcmrError, KeyError) as exc:  # the map is drawn without it; say why
        log.warning("tolerable-risk layer left out of the map: %s", exc)
        return None


def _risk_layer(hazards, boundaries, layers: dict) -> gpd.GeoDataFrame:
    settings = forecast_settings()
    active = hazards[hazards["status"] == "active"].reset_index(drop=True)
    files = dict(
        effort=settings.effort, capacity=settings.capacity, plan=settings.plan, costs=settings.costs
    )
    plan = lead_plan(active, releases=layers.get("releases"), **files)
    table = tolerable_risk(
        active,
        plan,
        boundaries,
        incidents=layers.get("incidents"),
        as_of=settings.start(),
        deadline=int(settings.effort.get("target", {}).get("deadline_year", 2030)),
    )
    synthetic = "synthetic" in hazards and bool(hazards["synthetic"].fillna(False).any())
    lead = settings.plan["scenarios"][0]["name"]
    basis = f"{lead}; no terrain (kcmr forecast --dem for methods by slope and cover)"
    return risk_layer(table, boundaries, synthetic=synthetic, basis=basis)


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
