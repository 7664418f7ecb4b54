"""How one scenario of the forecast is built and worked out (used by :mod:`.forecast`).

A :class:`Run` is one row of the scenario table: what it assumes in words, its capacity,
its work table (:func:`kosovo_cmr.analysis.effort.clearance_effort`) and how to schedule
it. :func:`named_runs` builds the scenario file's runs, :func:`target_run` the
strategy's area rate, :func:`fadeout_runs` the fade-out rules; :func:`scenario_row`
works one out (year by year with its money, :func:`kosovo_cmr.analysis.funding.run_programme`,
or at a constant area rate, :func:`kosovo_cmr.analysis.schedule.schedule`) and sums it
up as a row.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from kosovo_cmr.analysis.effort import ForecastWarning, clearance_effort
from kosovo_cmr.analysis.funding import capacity_plan, run_programme, year_ranges
from kosovo_cmr.analysis.schedule import PRIORITIES, completion, remaining_at_end, schedule
from kosovo_cmr.errors import KcmrError
from kosovo_cmr.programme import read_capacity, teams_by_operator

__all__ = [
    "HORIZON_YEARS",
    "Run",
    "capacity_table",
    "named_runs",
    "target_run",
    "fadeout_runs",
    "scenario_row",
    "scenario_columns",
    "scenario_table",
    "work_out",
    "deadline_year",
]

#: How far ahead a scenario is worked before its open hazards count as never done.
HORIZON_YEARS = 100


class Run(NamedTuple):
    """One scenario to work out: what it assumes, its work table and how to run it."""

    label: str
    assumes: str
    capacity: str
    table: pd.DataFrame | None
    options: dict
    note: str


def teams_text(teams: dict, changes=()) -> str:
    text = ", ".join(f"{k} {v:g}" for k, v in teams.items())
    for op, since, n in changes:
        text += f"; {op} {n:g} from {since}"
    return text


def deadline_year(effort: dict) -> int:
    return int(effort.get("target", {}).get("deadline_year", 2030))


def capacity_table(capacity: pd.DataFrame | None, teams: dict | None) -> pd.DataFrame:
    """Return the capacity table, the latest year's teams replaced by ``teams`` if given."""
    table = read_capacity() if capacity is None else capacity.copy()
    if not teams:
        return table
    years = table["year"].dropna()
    latest = int(years.max()) if len(years) else None
    keep = table[table["year"] != latest] if latest is not None else table.iloc[0:0]
    base = teams_by_operator(table, year=latest)
    rows = [
        {"year": latest, "operator": op, "teams": float(n)} for op, n in {**base, **teams}.items()
    ]
    return pd.concat([keep, pd.DataFrame(rows)], ignore_index=True)


def funding_pots(plan: dict, mode: str | None) -> list[dict]:
    """Return the pots that cap a scenario's spending (``needed``, ``confirmed`` or none)."""
    share = plan["funding"]["cmr_share"]
    if mode == "needed":
        eur = plan["funding"]["needed_eur_per_year"] * share
        return [
            dict(name="needed", operators=["*"], eur_per_year=eur, first_year=0, last_year=None)
        ]
    if mode == "confirmed":
        return confirmed_pots(plan)
    return []


def confirmed_pots(plan: dict) -> list[dict]:
    share = plan["funding"]["cmr_share"]
    return [
        {**pot, "eur_per_year": pot["eur_per_year"] * (share if pot["programme_wide"] else 1)}
        for pot in plan["confirmed"]
    ]


def named_runs(base, calibrated, *, plan, capacity, cal) -> list[Run]:
    """Build a run per scenario of the scenario file."""
    years = set(capacity["year"].dropna().astype(int))
    runs = []
    for n, spec in enumerate(plan["scenarios"]):
        year, instead = spec["capacity_year"], ""
        if year is not None and year not in years:
            # a capacity table without that year (or without years): its latest, said so
            instead = f"; the capacity table has no {year}: its {max(years) if years else 'rows'}"
            instead += " taken instead"
            year = None
        teams = teams_by_operator(capacity, year=year)
        table = calibrated if spec["calibrated"] else base
        note = (
            "rates as in the effort file (per team)"
            if not spec["calibrated"]
            else cal["note"]
            if n == 0
            else f"rates x{cal['factor']:.2f}, as the first row"
        ) + instead
        options = dict(
            teams=teams,
            changes=spec["changes"],
            handover=spec["handover"],
            pots=funding_pots(plan, spec["funding"]),
        )
        capacity_text = teams_text(teams, spec["changes"])
        runs.append(Run(spec["name"], spec["assumes"], capacity_text, table, options, note))
    return runs


def target_run(base: pd.DataFrame, *, effort: dict) -> Run:
    target = float(effort.get("target", {}).get("annual_clearance_m2", 1_800_000))
    return Run(
        f"target {target / 1e6:g} km2/year",
        f"the strategy's battle area clearance target: {target / 1e6:g} km2 cleared every "
        "year on one national list in priority order, whatever the terrain and the teams",
        f"{target:,.0f} m2/year national",
        base,
        {"annual_m2": target},
        "area rate: methods, teams and costs not used",
    )


def fadeout_runs(hazards, *, terrain, evidence, rules, effort, factor, lead) -> list[Run]:
    """Build the runs of each fade-out rule at the lead scenario's capacity and rates."""
    runs = []
    for label, spec in rules.items():
        rule, basis = (
            (spec.get("rule"), spec.get("basis", "union"))
            if isinstance(spec, dict)
            else (spec, "union")
        )
        what = (
            "area to clear = each open hazard's recorded polygon plus the fade-out area "
            f"around its own evidence under {rule}"
            if basis == "union"
            else f"hazards with evidence redrawn from it under {rule} (fade-out area alone)"
        )
        assumes = f"{what}; capacity and rates of {lead.label!r}"
        try:
            table = clearance_effort(
                hazards,
                terrain=terrain,
                evidence=evidence,
                fadeout_rule=rule,
                fadeout_basis=basis,
                effort=effort,
                rate_factor=factor,
            )
        except KcmrError as exc:  # e.g. no evidence layer: say so in the table
            runs.append(Run(label, assumes, "", None, {}, f"not computed: {exc}"))
            continue
        note = f"rates x{factor:.2f}, as the first row"
        runs.append(Run(label, assumes, lead.capacity, table, lead.options, note))
    return runs


def money_row(run, *, deadline: int) -> dict:
    money = run.money
    before = money["year"] <= deadline
    return dict(
        cost_eur=float(money["cost_eur"].sum()),
        cost_to_deadline=float(money.loc[before, "cost_eur"].sum()),
        funding_gap_eur=float(money["gap_eur"].sum()),
        gap_to_deadline=float(money.loc[before, "gap_eur"].sum()),
        money_binds=year_ranges(run.binding_years),
    )


def work_out(run: Run, *, effort: dict, costs, plan, start: int):
    """Schedule one run: year by year with money, or the constant national area rate."""
    season = effort["season"]
    days = int(season["working_days"])
    if "annual_m2" in run.options:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ForecastWarning)
            return schedule(run.table, effort=effort, annual_m2=run.options["annual_m2"]), None
    o = run.options
    capacity = capacity_plan(
        o["teams"], changes=o["changes"], first_year=start, last_year=start + HORIZON_YEARS - 1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastWarning)
        result = run_programme(
            run.table,
            capacity=capacity,
            working_days=days,
            start_year=start,
            costs=costs,
            pots=o["pots"],
            confirmed=confirmed_pots(plan),
            handover=o["handover"],
            season=season,
            horizon_years=HORIZON_YEARS,
        )
    return result.schedule, result


def scenario_row(run: Run, *, effort: dict, costs, plan) -> tuple[dict, pd.DataFrame | None]:
    """Work one scenario out and sum it up as a row of the scenario table."""
    row = {
        "scenario": run.label,
        "assumes": run.assumes,
        "capacity": run.capacity,
        "note": run.note,
    }
    if run.table is None:
        return row, None
    start, deadline = int(effort["season"]["start_year"]), deadline_year(effort)
    sched, result = work_out(run, effort=effort, costs=costs, plan=plan, start=start)
    done = completion(sched)
    seasons = np.nanmax(sched["finish_season"].to_numpy(float), initial=0.0)
    area = float(run.table["area_to_clear_m2"].sum())
    hm = [done[p] for p in ("high", "medium")]
    row.update(
        area_to_clear_m2=area,
        team_days=float(run.table["team_days"].sum()),
        area_per_year_m2=float(area / seasons) if seasons > 0 else np.nan,
        **{p: done[p] for p in PRIORITIES},
        last_high_medium_year=later_year(hm),
        completion_year=done["all"],
        **{f"remaining_end_{deadline}_m2": remaining_at_end(sched, deadline, start_year=start)},
        **{
            f"high_medium_by_{deadline}": all(
                y is None or (y is not pd.NA and y <= deadline) for y in hm
            )
        },
    )
    if result is not None:
        money = money_row(result, deadline=deadline)
        row.update(
            cost_eur=money["cost_eur"],
            funding_gap_eur=money["funding_gap_eur"],
            **{
                f"cost_to_{deadline}_eur": money["cost_to_deadline"],
                f"funding_gap_to_{deadline}_eur": money["gap_to_deadline"],
            },
            money_binds=money["money_binds"],
        )
        sched.attrs["money"] = result.money.to_dict(orient="list")
    return row, sched


def later_year(years: list):
    """Return the later of two years: NA if one is never, None if neither has hazards."""
    if any(y is pd.NA for y in years):
        return pd.NA
    known = [y for y in years if y is not None]
    return max(known) if known else None


def scenario_columns(deadline: int) -> list[str]:
    """Return the columns of the :func:`scenarios` table, in order."""
    return [
        "scenario",
        "assumes",
        "capacity",
        "area_to_clear_m2",
        "team_days",
        "area_per_year_m2",
        *PRIORITIES,
        "last_high_medium_year",
        "completion_year",
        f"remaining_end_{deadline}_m2",
        f"high_medium_by_{deadline}",
        "cost_eur",
        f"cost_to_{deadline}_eur",
        "funding_gap_eur",
        f"funding_gap_to_{deadline}_eur",
        "money_binds",
        "note",
    ]


def scenario_table(rows: list[dict], *, deadline: int) -> pd.DataFrame:
    """Put the rows in the table's column order, completion years as nullable ints."""
    out = pd.DataFrame(rows).reindex(columns=scenario_columns(deadline))
    for col in (*PRIORITIES, "last_high_medium_year", "completion_year"):
        out[col] = out[col].astype("Int64")
    out["money_binds"] = out["money_binds"].fillna("")
    return out
