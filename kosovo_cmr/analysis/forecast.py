"""The completion forecast to 2030: money and capacity scenarios named after the report.

The model, end to end (every number comes from a data file of ``layers/`` that says which
figures are the Mine Action Review's and which are assumptions):

1. **Area to clear**, **method** and **team-days** per hazard:
   :mod:`kosovo_cmr.analysis.effort` (``layers/effort.toml``).
2. **Calibration**: the report's rates, read as one team's output, give far less than the
   teams actually cleared. Every rate is scaled so that the observed year's teams
   (``layers/capacity.csv``) would have cleared what the store's ``clearance`` releases
   of that year measure (:func:`observed_clearance`); only when the releases hold no
   clearance that year does the effort file's ``observed_clearance_m2`` apply, and the
   note says so.
3. **Scenarios** (:func:`scenarios`), as ``layers/scenarios.toml`` names them: the April
   2025 capacity (NPA at 5 teams) first, HALO closing at the end of 2025, international
   operators leaving in 2030, EUR 3.5 M a year, the confirmed funding only, and the
   report's rates read per team; each worked out year by year with its money, cost and
   funding gap (:func:`kosovo_cmr.analysis.funding.run_programme`). Then the strategy's
   1.8 km2 a year as a national area rate, and the fade-out rules at the lead
   scenario's capacity, with the sentence that says why their difference is not
   ``buffer-impact``'s (:func:`fadeout_figures`).
4. :func:`forecast_section` keeps what a report shows, as JSON-ready values.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd

from kosovo_cmr._json import plain
from kosovo_cmr.analysis._scenario_runs import (
    capacity_table,
    deadline_year,
    fadeout_runs,
    named_runs,
    scenario_columns,
    scenario_row,
    scenario_table,
    target_run,
    work_out,
)
from kosovo_cmr.analysis.calibration import calibration, observed_clearance
from kosovo_cmr.analysis.effort import clearance_effort, read_effort
from kosovo_cmr.analysis.fadeout_figures import fadeout_figures
from kosovo_cmr.analysis.schedule import (
    PRIORITIES,
    burndown,
)
from kosovo_cmr.programme import read_costs, read_scenarios, teams_by_operator

__all__ = [
    "observed_clearance",
    "scenarios",
    "lead_plan",
    "scenario_columns",
    "burndown_curves",
    "forecast_section",
    "scenario_section",
]

# --- scenarios -----------------------------------------------------------------------------


def scenarios(
    hazards: gpd.GeoDataFrame,
    *,
    terrain: pd.DataFrame | None = None,
    evidence: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
    effort: dict | None = None,
    teams: dict | None = None,
    capacity: pd.DataFrame | None = None,
    plan: dict | None = None,
    costs: pd.DataFrame | None = None,
    fadeout_rules: dict | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Run the money and capacity scenarios, the 1.8 km2 target and the fade-out rules.

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards to clear (active).
    terrain : DataFrame, optional
        Their :func:`kosovo_cmr.analysis.terrain.terrain_stats`.
    evidence : GeoDataFrame, optional
        Evidence points, for the fade-out scenarios (all of them: :func:`fadeout_figures`
        compares the rows with ``buffer-impact``).
    releases : GeoDataFrame, optional
        The ``releases`` layer, for the calibration (:func:`calibration`).
    effort : dict, optional
        A :func:`~kosovo_cmr.analysis.effort.read_effort` result.
    teams : dict, optional
        Operator -> teams replacing those of the capacity table's latest year.
    capacity : DataFrame, optional
        :func:`kosovo_cmr.programme.read_capacity` (default the shipped table).
    plan : dict, optional
        :func:`kosovo_cmr.programme.read_scenarios` (default ``layers/scenarios.toml``).
    costs : DataFrame, optional
        :func:`kosovo_cmr.programme.read_costs` (default ``layers/costs.csv``).
    fadeout_rules : dict, optional
        Scenario label -> fade-out rule, or ``{"rule": ..., "basis": "union" |
        "redrawn"}`` (see :func:`~kosovo_cmr.analysis.effort.area_to_clear`). Default:
        the effort file's ``[fadeout]`` table. A scenario that cannot be computed (no
        evidence layer, unknown rule) says why in its ``note``.

    Returns
    -------
    table : pandas.DataFrame
        One row per scenario (:func:`scenario_columns`): ``scenario``, ``assumes`` (in
        words), ``capacity``, ``area_to_clear_m2``, ``team_days``, ``area_per_year_m2``,
        completion years ``high``, ``medium``, ``low``, ``last_high_medium_year`` and
        ``completion_year`` (NA: never), ``remaining_end_<deadline>_m2``,
        ``high_medium_by_<deadline>``, ``cost_eur``, ``cost_to_<deadline>_eur``,
        ``funding_gap_eur``, ``funding_gap_to_<deadline>_eur``, ``money_binds`` (the
        years money cut the capacity) and ``note``. The first row is the scenario file's
        first (the lead). ``table.attrs`` holds ``calibration`` and, when the fade-out
        rows ran, ``fadeout_explained`` (:func:`fadeout_figures`).
    schedules : dict
        Scenario -> schedule table (per hazard; a year-by-year scenario's money per year
        in its ``attrs["money"]``).
    """
    effort = effort if effort is not None else read_effort()
    capacity = capacity_table(capacity, teams)
    plan = plan if plan is not None else read_scenarios()
    costs = costs if costs is not None else read_costs()
    if fadeout_rules is None:
        fadeout_rules = dict(effort.get("fadeout", {}))
    base = clearance_effort(hazards, terrain=terrain, effort=effort)
    cal = calibration(base, releases=releases, effort=effort, capacity=capacity)
    calibrated = clearance_effort(
        hazards, terrain=terrain, effort=effort, rate_factor=cal["factor"]
    )
    named = named_runs(base, calibrated, plan=plan, capacity=capacity, cal=cal)
    runs = [
        *named,
        target_run(base, effort=effort),
        *fadeout_runs(
            hazards,
            terrain=terrain,
            evidence=evidence,
            rules=fadeout_rules,
            effort=effort,
            factor=cal["factor"],
            lead=named[0],
        ),
    ]
    rows, schedules = [], {}
    for run in runs:
        row, sched = scenario_row(run, effort=effort, costs=costs, plan=plan)
        rows.append(row)
        if sched is not None:
            schedules[run.label] = sched
    table = scenario_table(rows, deadline=deadline_year(effort))
    table.attrs["calibration"] = {k: v for k, v in cal.items()}
    explained = fadeout_figures(hazards, evidence, table, rules=fadeout_rules)
    if explained is not None:
        table.attrs["fadeout_explained"] = explained
        second = table.index[table["scenario"] == explained["rows"][1]][0]
        table.at[second, "note"] = f"{table.at[second, 'note']}. {explained['text']}"
    return table, schedules


def lead_plan(
    hazards: gpd.GeoDataFrame,
    *,
    terrain: pd.DataFrame | None = None,
    evidence: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
    effort: dict | None = None,
    teams: dict | None = None,
    capacity: pd.DataFrame | None = None,
    plan: dict | None = None,
    costs: pd.DataFrame | None = None,
    fadeout_rule=None,
    fadeout_basis: str = "union",
) -> pd.DataFrame:
    """Plan each hazard under the lead scenario, on a fade-out rule's area when given.

    The lead scenario is the scenario file's first (the April 2025 capacity on calibrated
    rates); without a fade-out rule this is :func:`scenarios`' first schedule.

    Parameters
    ----------
    hazards, terrain, evidence, releases, effort, teams, capacity, plan, costs
        As for :func:`scenarios`.
    fadeout_rule, fadeout_basis : optional
        The area to clear (:func:`kosovo_cmr.analysis.effort.area_to_clear`); None: each
        hazard's recorded area.

    Returns
    -------
    pandas.DataFrame
        Per hazard in working order: the effort columns (``rate_m2_per_team_day`` is the
        calibrated rate, so ``team_days = area_to_clear_m2 / rate_m2_per_team_day``), the
        schedule columns and ``cost_eur``.
    """
    effort = effort if effort is not None else read_effort()
    capacity = capacity_table(capacity, teams)
    plan = plan if plan is not None else read_scenarios()
    costs = costs if costs is not None else read_costs()
    base = clearance_effort(hazards, terrain=terrain, effort=effort)
    cal = calibration(base, releases=releases, effort=effort, capacity=capacity)
    spec = plan["scenarios"][0]
    table = clearance_effort(
        hazards,
        terrain=terrain,
        evidence=evidence,
        fadeout_rule=fadeout_rule,
        fadeout_basis=fadeout_basis,
        effort=effort,
        rate_factor=cal["factor"] if spec["calibrated"] else 1.0,
    )
    first = {**plan, "scenarios": [spec]}
    run = named_runs(table, table, plan=first, capacity=capacity, cal=cal)[0]
    start = int(effort["season"]["start_year"])
    return work_out(run, effort=effort, costs=costs, plan=plan, start=start)[0]


# --- what a report shows -------------------------------------------------------------------


def burndown_curves(
    schedules: dict, *, effort: dict | None = None, until: int = 2035
) -> dict[str, pd.DataFrame]:
    """Return the :func:`~kosovo_cmr.analysis.schedule.burndown` curve of each scenario.

    Parameters
    ----------
    schedules : dict
        Scenario label -> schedule table (as :func:`scenarios` returns).
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
    again from the JSON), the money per year, and the assumptions behind them.

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards to clear (active).
    terrain, evidence, releases, effort, teams
        As for :func:`scenarios` (shipped capacity, scenario and cost files).
    until : int, optional
        Last year of the burn-down curves.

    Returns
    -------
    dict
        See :func:`scenario_section`.
    """
    effort = effort if effort is not None else read_effort()
    table, schedules = scenarios(
        hazards, terrain=terrain, evidence=evidence, releases=releases, effort=effort, teams=teams
    )
    lead = teams_by_operator(capacity_table(None, teams))
    return scenario_section(
        table, schedules, effort=effort, teams=lead, terrain=terrain is not None, until=until
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
        The lead scenario's teams at the start.
    terrain : bool, optional
        Whether terrain statistics chose the methods.
    until : int, optional
        Last year of the burn-down curves.

    Returns
    -------
    dict
        ``scenarios`` (rows of the :func:`scenarios` table; a completion year is null
        when the class is never completed, or has no hazard: see
        ``hazards_by_priority``), ``lead`` (the first scenario's label), ``burndown``
        (scenario -> ``{"year": [...], "high": [...], "medium": [...], "low": [...],
        "all": [...]}``, m2 remaining), ``money`` (scenario -> per year ``year``,
        ``cost_eur``, ``confirmed_eur``, ``gap_eur``, ``binds``), ``calibration``,
        ``fadeout_explained`` (or null), ``deadline_year``, ``start_year``, ``terrain``
        and ``assumptions`` (working days, season, teams, rates, effort file).
    """
    curves = burndown_curves(schedules, effort=effort, until=until)
    season = effort["season"]
    first = next(iter(schedules.values()), None)
    return {
        "deadline_year": deadline_year(effort),
        "start_year": int(season["start_year"]),
        "hazards": 0 if first is None else int(len(first)),
        "hazards_by_priority": {
            p: 0 if first is None else int((first["priority"] == p).sum()) for p in PRIORITIES
        },
        "terrain": bool(terrain),
        "lead": str(table["scenario"].iloc[0]) if len(table) else None,
        "scenarios": json.loads(table.to_json(orient="records")),
        "burndown": {
            label: {col: [float(v) for v in curve[col]] for col in curve.columns}
            for label, curve in curves.items()
        },
        "money": {
            label: plain(s.attrs["money"]) for label, s in schedules.items() if "money" in s.attrs
        },
        "calibration": json.loads(pd.Series(table.attrs.get("calibration", {})).to_json()),
        "fadeout_explained": table.attrs.get("fadeout_explained"),
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
