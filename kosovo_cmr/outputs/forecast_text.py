"""The forecast as text: terminal tables, CSV and JSON of the plan and the scenarios.

Takes what the forecast computed (a per-hazard plan from
:func:`kosovo_cmr.analysis.schedule.schedule`, a scenario table from
:func:`kosovo_cmr.analysis.forecast.scenarios`) and formats it; it never recomputes.
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
    "display_plan",
    "display_scenarios",
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
)

#: Columns of the scenario table shown in the terminal.
SCENARIO_COLUMNS = (
    "scenario",
    "capacity",
    "area_to_clear_m2",
    "team_days",
    "area_per_year_m2",
    "high",
    "medium",
    "low",
    "all",
)


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
        if col in ("area_to_clear_m2", "team_days", "working_days"):
            out[col] = [f"{x:,.1f}" if col != "area_to_clear_m2" else f"{x:,.0f}" for x in v]
        elif col in ("slope_p90_deg",):
            out[col] = ["" if pd.isna(x) else f"{x:.1f}" for x in v]
        elif col == "dense_veg_share":
            out[col] = ["" if pd.isna(x) else f"{x:.2f}" for x in v]
        elif col == "rate_m2_per_team_day":
            out[col] = [f"{x:g}" for x in v]
        elif col == "teams":
            out[col] = ["" if pd.isna(x) else f"{x:g}" for x in v]
        elif col == "finish_year":
            out[col] = [_year_text(x) for x in v]
        else:
            out[col] = v.astype(str)
    out = out.replace({"nan": "", "None": "", "<NA>": ""})
    return out


def display_scenarios(table: pd.DataFrame) -> pd.DataFrame:
    """Return the scenario table as text columns for a terminal table (notes left out).

    Parameters
    ----------
    table : DataFrame
        A :func:`kosovo_cmr.analysis.forecast.scenarios` table.

    Returns
    -------
    pandas.DataFrame
        :data:`SCENARIO_COLUMNS` and the ``remaining_end_*`` column as text; a scenario
        that was not computed has empty cells.
    """
    deadline_cols = [c for c in table.columns if c.startswith("remaining_end_")]
    out = pd.DataFrame(index=table.index)
    for col in (*SCENARIO_COLUMNS, *deadline_cols):
        v = table[col]
        if col in PRIORITIES or col == "all":
            out[col] = [
                _year_text(x) if pd.notna(table.at[i, "team_days"]) else ""
                for i, x in zip(table.index, v, strict=True)
            ]
        elif col.endswith("_m2") or col == "team_days":
            out[col] = ["" if pd.isna(x) else f"{x:,.0f}" for x in v]
        else:
            out[col] = v.astype(str)
    return out


def _records(frame: pd.DataFrame) -> list:
    return json.loads(frame.to_json(orient="records"))


def forecast_text(
    plan: pd.DataFrame | None,
    table: pd.DataFrame | None,
    *,
    fmt: str = "table",
    assumptions: dict | None = None,
) -> str:
    """Write the per-hazard plan and/or the scenario table as text, CSV or JSON.

    Parameters
    ----------
    plan : DataFrame or None
        The per-hazard plan (a :func:`kosovo_cmr.analysis.schedule.schedule` table), or
        None to leave it out.
    table : DataFrame or None
        The :func:`kosovo_cmr.analysis.forecast.scenarios` table, or None to leave it out.
    fmt : {"table", "csv", "json"}, optional
        Terminal tables (the scenarios' notes below them), CSV (one table: pass the
        other as None) or JSON (``hazards``, ``scenarios`` and ``assumptions``).
    assumptions : dict, optional
        What the forecast assumed (working days, season, teams, rates, effort file):
        the JSON's ``assumptions``; its ``working_days_per_season`` heads the text plan.

    Returns
    -------
    str
        The text, ending with a newline (CSV as pandas writes it).

    Raises
    ------
    ValueError
        For CSV with both tables or neither, or an unknown format.
    """
    assumptions = assumptions or {}
    if fmt == "json":
        doc = {}
        if plan is not None:
            doc["hazards"] = _records(plan)
        if table is not None:
            doc["scenarios"] = _records(table)
        doc["assumptions"] = assumptions
        return dumps(doc) + "\n"
    if fmt == "csv":
        if (plan is None) == (table is None):
            raise ValueError("CSV holds one table: pass the plan or the scenarios")
        return (plan if plan is not None else table).to_csv(index=False)
    if fmt != "table":
        raise ValueError(f"fmt must be 'table', 'csv' or 'json', got {fmt!r}")
    parts = []
    if plan is not None:
        parts.append(
            f"Per hazard ({assumptions.get('working_days_per_season', '?')} working days a "
            "season, team_days = area_to_clear_m2 / rate, working_days = team_days / teams):"
        )
        parts.append(render_table(display_plan(plan)))
    if table is not None:
        parts.append("Scenarios (year each priority class completes):")
        parts.append(render_table(display_scenarios(table)))
        parts += [f"note: {r.scenario}: {r.note}" for r in table.itertuples() if r.note]
    return "\n".join(parts) + "\n"


def plan_summary(plan: pd.DataFrame, table: pd.DataFrame, *, working_days: int) -> list[str]:
    """Summary lines of a plan and its scenarios, as ``kcmr demo`` prints them.

    Parameters
    ----------
    plan : DataFrame
        The per-hazard plan at current capacity (a
        :func:`kosovo_cmr.analysis.schedule.schedule` table), in working order.
    table : DataFrame
        The :func:`kosovo_cmr.analysis.forecast.scenarios` table.
    working_days : int
        Working days a season (for the text).

    Returns
    -------
    list of str
        The hazards, area, methods and team-days; one hazard worked by hand; the
        scenario table and its notes.
    """
    methods = plan["method"].value_counts().to_dict()
    lines = [
        f"planning: {len(plan)} active hazards, {plan['area_to_clear_m2'].sum():,.0f} m2, "
        f"methods {methods}, {plan['team_days'].sum():,.0f} team-days "
        f"({working_days} working days a season, Apr-Nov)"
    ]
    first = plan.iloc[0]
    lines.append(
        f"  e.g. {first['hazard_id']}: {first['area_to_clear_m2']:,.0f} m2 / "
        f"{first['rate_m2_per_team_day']:g} m2 per team-day ({first['method']}) = "
        f"{first['team_days']:,.1f} team-days; {first['operator']} {first['teams']:.0f} teams "
        f"-> {first['working_days']:,.1f} working days"
    )
    lines.append("  completion forecast (year each priority class completes):")
    lines += ["    " + line for line in render_table(display_scenarios(table)).splitlines()]
    lines += [f"    note: {r.scenario}: {r.note}" for r in table.itertuples(index=False) if r.note]
    return lines
