"""The forecast as text: terminal tables, CSV and JSON of the plan, scenarios and risk.

Takes what the forecast computed (the lead scenario's per-hazard plan,
:func:`kosovo_cmr.analysis.forecast.lead_plan`; the scenario table of
:func:`kosovo_cmr.analysis.forecast.scenarios`, whose ``attrs`` hold the calibration
and the two fade-out figures; the tolerable risk by municipality of
:func:`kosovo_cmr.analysis.tolerable_risk.tolerable_risk`) and formats it; it never
recomputes.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from kosovo_cmr._json import dumps
from kosovo_cmr._text import render_table
from kosovo_cmr.schema import SCHEMAS

__all__ = [
    "PLAN_COLUMNS",
    "SCENARIO_COLUMNS",
    "RISK_COLUMNS",
    "display_plan",
    "display_scenarios",
    "display_risk",
    "forecast_text",
    "plan_summary",
]

#: Priority classes (the hazards layer's), highest first.
PRIORITIES: tuple[str, ...] = SCHEMAS["hazards"].column("priority").allowed

#: Columns of the per-hazard plan shown to users: enough to recompute team-days by hand.
PLAN_COLUMNS = (
    "hazard_id",
    "priority",
    "operator",
    "area_to_clear_m2",
    "slope_p90_deg",
    "dense_veg_share",
    "method",
    "rate_m2_per_team_day",
    "team_days",
    "teams",
    "working_days",
    "finish_year",
    "cost_eur",
)

#: Columns of the scenario table shown in the terminal (then ``remaining_end_<year>_m2``).
SCENARIO_COLUMNS = (
    "scenario",
    "capacity",
    "team_days",
    "high",
    "medium",
    "low",
    "last_high_medium_year",
    "completion_year",
    "cost_eur",
    "funding_gap_eur",
    "money_binds",
)

#: Columns of the tolerable-risk table shown in the terminal.
RISK_COLUMNS = (
    "municipality",
    "region",
    "high_tasks",
    "medium_tasks",
    "low_tasks",
    "free_of_risk_year",
    "all_tasks_done_year",
    "years_since_last_incident",
    "condition_holds",
    "earliest_tolerable_year",
    "status",
)

#: Year columns of the scenario table (NA: the class is never completed).
_YEARS = ("high", "medium", "low", "last_high_medium_year", "completion_year")


def _year_text(v) -> str:
    if v is None:
        return "-"
    if v is pd.NA or (isinstance(v, float) and v != v):
        return "never"
    return str(int(v))


def display_plan(sched: pd.DataFrame) -> pd.DataFrame:
    """Return the per-hazard plan as text columns for a terminal table.

    Parameters
    ----------
    sched : DataFrame
        A :func:`kosovo_cmr.analysis.schedule.schedule` table.

    Returns
    -------
    pandas.DataFrame
        :data:`PLAN_COLUMNS` as text: areas to the m2, days to a tenth, a year or
        "never" for a hazard no team clears.
    """
    out = pd.DataFrame(index=sched.index)
    for col in PLAN_COLUMNS:
        v = sched[col] if col in sched else pd.Series(np.nan, index=sched.index)
        if col in ("area_to_clear_m2", "team_days", "working_days", "cost_eur"):
            whole = col in ("area_to_clear_m2", "cost_eur")
            out[col] = ["" if pd.isna(x) else f"{x:,.0f}" if whole else f"{x:,.1f}" for x in v]
        elif col in ("slope_p90_deg",):
            out[col] = ["" if pd.isna(x) else f"{x:.1f}" for x in v]
        elif col == "dense_veg_share":
            out[col] = ["" if pd.isna(x) else f"{x:.2f}" for x in v]
        elif col == "rate_m2_per_team_day":
            out[col] = [f"{x:,.1f}" for x in v]
        elif col == "teams":
            out[col] = ["" if pd.isna(x) else f"{x:g}" for x in v]
        elif col == "finish_year":
            out[col] = [_year_text(x) for x in v]
        else:
            out[col] = v.astype(str)
    out = out.replace({"nan": "", "None": "", "<NA>": ""})
    return out


def display_scenarios(table: pd.DataFrame) -> pd.DataFrame:
    """Return the scenario table as text columns for a terminal table (words left out).

    Parameters
    ----------
    table : DataFrame
        A :func:`kosovo_cmr.analysis.forecast.scenarios` table.

    Returns
    -------
    pandas.DataFrame
        :data:`SCENARIO_COLUMNS` and the ``remaining_end_*`` column as text: years, or
        "never" for a class the scenario never completes ("-" when it has no hazard);
        areas, team-days and euros whole; a scenario that was not computed has empty
        cells.
    """
    deadline_cols = [c for c in table.columns if c.startswith("remaining_end_")]
    out = pd.DataFrame(index=table.index)
    for col in (*SCENARIO_COLUMNS, *deadline_cols):
        v = table[col] if col in table else pd.Series(None, index=table.index)
        if col in _YEARS:
            out[col] = [
                _year_text(x) if pd.notna(table.at[i, "team_days"]) else ""
                for i, x in zip(table.index, v, strict=True)
            ]
        elif col.endswith(("_m2", "_eur")) or col == "team_days":
            out[col] = ["" if pd.isna(x) else f"{x:,.0f}" for x in v]
        else:
            out[col] = v.fillna("").astype(str)
    return out


def display_risk(risk: pd.DataFrame) -> pd.DataFrame:
    """Return the tolerable-risk table as text columns for a terminal table.

    Parameters
    ----------
    risk : DataFrame
        :func:`kosovo_cmr.analysis.tolerable_risk.tolerable_risk`.

    Returns
    -------
    pandas.DataFrame
        :data:`RISK_COLUMNS` as text: a year, "never" (tasks the scenario never ends) or
        "-" (no task); "none" for a municipality without incidents; "?" where the
        condition cannot be judged (no incidents layer).
    """
    out = pd.DataFrame(index=risk.index)
    hm = risk["high_tasks"] + risk["medium_tasks"]
    every = hm + risk["low_tasks"]
    for col in RISK_COLUMNS:
        v = risk[col]
        if col in ("free_of_risk_year", "all_tasks_done_year"):
            n = hm if col == "free_of_risk_year" else every
            out[col] = ["-" if k == 0 else _year_text(x) for k, x in zip(n, v, strict=True)]
        elif col == "earliest_tolerable_year":
            out[col] = [_year_text(x) for x in v]
        elif col == "years_since_last_incident":
            counted = risk["incidents"]
            out[col] = [
                "?" if pd.isna(c) else "none" if c == 0 else f"{x:.1f}"
                for c, x in zip(counted, v, strict=True)
            ]
        elif col == "condition_holds":
            out[col] = ["?" if x is None or pd.isna(x) else "yes" if x else "no" for x in v]
        else:
            out[col] = v.astype(str)
    return out


def _records(frame: pd.DataFrame) -> list:
    return json.loads(frame.to_json(orient="records"))


def _json(plan, table, risk, assumptions) -> str:
    doc = {}
    if plan is not None:
        doc["hazards"] = _records(plan)
    if table is not None:
        doc["scenarios"] = _records(table)
        doc["calibration"] = json.loads(dumps(table.attrs.get("calibration")))
        doc["fadeout_explained"] = table.attrs.get("fadeout_explained")
    if risk is not None:
        rows = risk.assign(last_incident=risk["last_incident"].dt.strftime("%Y-%m-%d"))
        doc["tolerable_risk"] = {**risk.attrs, "rows": _records(rows)}
    doc["assumptions"] = assumptions
    return dumps(doc) + "\n"


def _scenario_lines(table: pd.DataFrame) -> list[str]:
    lines = ["Scenarios (year each priority class completes; cost and funding gap in EUR):"]
    lines.append(render_table(display_scenarios(table)))
    lines.append("What each row assumes:")
    lines += [f"  {r.scenario}: {r.assumes}" for r in table.itertuples() if r.assumes]
    lines += [f"note: {r.scenario}: {r.note}" for r in table.itertuples() if r.note]
    return lines


def forecast_text(
    plan: pd.DataFrame | None,
    table: pd.DataFrame | None,
    *,
    fmt: str = "table",
    assumptions: dict | None = None,
    risk: pd.DataFrame | None = None,
) -> str:
    """Write the per-hazard plan, the scenario table and the risk table as text, CSV or JSON.

    Parameters
    ----------
    plan : DataFrame or None
        The per-hazard plan (:func:`kosovo_cmr.analysis.forecast.lead_plan`), or None to
        leave it out.
    table : DataFrame or None
        The :func:`kosovo_cmr.analysis.forecast.scenarios` table, or None to leave it out.
    fmt : {"table", "csv", "json"}, optional
        Terminal tables (what each scenario assumes and the notes below them), CSV (one
        table: pass only one) or JSON (``hazards``, ``scenarios``, ``calibration``,
        ``fadeout_explained``, ``tolerable_risk`` and ``assumptions``).
    assumptions : dict, optional
        What the forecast assumed (working days, season, teams, rates, files): the
        JSON's ``assumptions``; its ``working_days_per_season`` and ``rate_factor`` head
        the text plan.
    risk : DataFrame, optional
        The tolerable risk by municipality
        (:func:`kosovo_cmr.analysis.tolerable_risk.tolerable_risk`).

    Returns
    -------
    str
        The text, ending with a newline (CSV as pandas writes it).

    Raises
    ------
    ValueError
        For CSV with more or less than one table, or an unknown format.
    """
    assumptions = assumptions or {}
    if fmt == "json":
        return _json(plan, table, risk, assumptions)
    if fmt == "csv":
        given = [t for t in (plan, table, risk) if t is not None]
        if len(given) != 1:
            raise ValueError("CSV holds one table: pass the plan, the scenarios or the risk")
        return given[0].to_csv(index=False)
    if fmt != "table":
        raise ValueError(f"fmt must be 'table', 'csv' or 'json', got {fmt!r}")
    parts = []
    if plan is not None:
        factor = assumptions.get("rate_factor")
        rates = f"rates x{factor:.2f} (calibrated), " if factor else ""
        parts.append(
            f"Per hazard, lead scenario ({rates}{assumptions.get('working_days_per_season', '?')}"
            " working days a season, team_days = area_to_clear_m2 / rate, working_days = "
            "team_days / teams):"
        )
        parts.append(render_table(display_plan(plan)))
    if table is not None:
        parts += _scenario_lines(table)
    if risk is not None:
        parts.append(
            f"Tolerable risk by municipality (as of {risk.attrs.get('as_of')}, incidents "
            f"counted: {risk.attrs.get('count')}; condition: high and medium tasks done by "
            f"{risk.attrs.get('deadline')} and no incident for {risk.attrs.get('quiet_years')}"
            " years):"
        )
        parts.append(render_table(display_risk(risk)))
    return "\n".join(parts) + "\n"


def plan_summary(plan: pd.DataFrame, table: pd.DataFrame, *, working_days: int) -> list[str]:
    """Summary lines of a plan and its scenarios, as ``kcmr demo`` prints them.

    Parameters
    ----------
    plan : DataFrame
        The lead scenario's per-hazard plan, in working order.
    table : DataFrame
        The :func:`kosovo_cmr.analysis.forecast.scenarios` table.
    working_days : int
        Working days a season (for the text).

    Returns
    -------
    list of str
        The hazards, area, methods and team-days; one hazard worked by hand; the
        scenario table, what each row assumes and the notes.
    """
    methods = plan["method"].value_counts().to_dict()
    lines = [
        f"planning: {len(plan)} active hazards, {plan['area_to_clear_m2'].sum():,.0f} m2, "
        f"methods {methods}, {plan['team_days'].sum():,.0f} team-days at calibrated rates "
        f"({working_days} working days a season, Apr-Nov)"
    ]
    first = plan.iloc[0]
    lines.append(
        f"  e.g. {first['hazard_id']}: {first['area_to_clear_m2']:,.0f} m2 / "
        f"{first['rate_m2_per_team_day']:,.1f} m2 per team-day ({first['method']}, "
        f"calibrated) = {first['team_days']:,.1f} team-days; {first['operator']} "
        f"{first['teams']:.0f} teams -> {first['working_days']:,.1f} working days, "
        f"EUR {first['cost_eur']:,.0f}"
    )
    lines.append("  completion forecast (year each priority class completes, EUR):")
    lines += ["    " + line for part in _scenario_lines(table)[1:] for line in part.splitlines()]
    return lines
