"""The planning sections of the land release report: forecast to 2030 and tolerable risk.

Laid out as titled tables of formatted cells, as :mod:`kosovo_cmr.report.render_sections`
lays out the rest (issue 18: the scenarios and what each assumes, the tolerable risk by
municipality).
"""

from __future__ import annotations

from kosovo_cmr.report.render_cells import fmt as _fmt

__all__ = [
    "FORECAST_COLUMNS",
    "RISK_COLUMNS",
    "forecast_section",
    "scenario_words_section",
    "tolerable_risk_section",
]


#: Columns of the forecast scenario table: (field, header, kind).
FORECAST_COLUMNS = (
    ("scenario", "Scenario", "text"),
    ("team_days", "Team-days", "m2"),
    ("high", "High done", "year"),
    ("medium", "Medium done", "year"),
    ("low", "Low done", "year"),
    ("last_high_medium_year", "High and medium done", "year"),
    ("completion_year", "All done", "year"),
    ("cost_eur", "Cost (EUR)", "m2"),
    ("funding_gap_eur", "Funding gap (EUR)", "m2"),
    ("money_binds", "Money binds in", "text"),
)

#: What each year column of the forecast counts hazards of (for "never" against "-").
_YEAR_CLASSES = {
    "high": ("high",),
    "medium": ("medium",),
    "low": ("low",),
    "last_high_medium_year": ("high", "medium"),
    "completion_year": ("high", "medium", "low"),
}


def forecast_section(fc: dict) -> dict:
    """Lay out the completion forecast: one row per scenario, years and money."""
    deadline = fc["deadline_year"]
    remaining = f"remaining_end_{deadline}_m2"
    cols = (*FORECAST_COLUMNS, (remaining, f"Left end {deadline} (m²)", "m2"))
    counts = fc.get("hazards_by_priority", {})

    def cell(r, f, k):
        # a null year of a computed scenario means "never" only when the class has hazards
        hazards = sum(counts.get(p, 0) for p in _YEAR_CLASSES.get(f, ()))
        if f == "completion_year":
            hazards = fc["hazards"]
        never = k == "year" and r.get(f) is None and r.get("team_days") is not None and hazards
        return "never" if never else _fmt(r.get(f), k)

    rows = [[cell(r, f, k) for f, _, k in cols] for r in fc["scenarios"]]
    a = fc["assumptions"]
    rates = ", ".join(f"{k} {v:g}" for k, v in a["rates_m2_per_team_day"].items())
    calibration = (fc.get("calibration") or {}).get("note", "")
    explained = (fc.get("fadeout_explained") or {}).get("text", "")
    notes = [
        f"{r['scenario']}: {r['note']}."
        for r in fc["scenarios"]
        if r.get("note")
        and ", as the first row" not in r["note"]
        and r["note"] != calibration
        and not (explained and explained in r["note"])
    ]
    lead = fc.get("lead") or (fc["scenarios"][0]["scenario"] if fc["scenarios"] else "")
    return {
        "title": f"Completion forecast to {deadline}: money and capacity scenarios",
        "headers": [h for _, h, _ in cols],
        "numeric": [k != "text" for _, _, k in cols],
        "rows": rows,
        "note": (
            f"{fc['hazards']} hazards still to clear; seasons from {fc['start_year']}, "
            f"{a['working_days_per_season']} working days a season (months "
            f"{a['season_months'][0]}-{a['season_months'][1]}); the effort file's rates in m² per "
            f"team-day: {rates}; the first row, {lead!r}, and every row but "
            f"the report's rates read per team and the area target, at {calibration}; methods "
            "chosen "
            + ("from slope and cover" if fc["terrain"] else "without terrain data")
            + f" (effort file {a['effort_file']}). Costs from layers/costs.csv (assumed unit "
            "costs: the report gives none); the funding gap is the cost beyond the confirmed "
            "funding (layers/scenarios.toml), year by year until the work is done. "
            + " ".join(notes)
            + (f" {explained}" if explained else "")
        ).strip(),
    }


def scenario_words_section(fc: dict) -> dict:
    """Lay out what each scenario of the forecast assumes, in words (issue 18)."""
    return {
        "title": "What each scenario assumes",
        "headers": ["Scenario", "Capacity (teams)", "Assumes"],
        "numeric": [False, False, False],
        "rows": [
            [r["scenario"], r.get("capacity") or "", r.get("assumes") or ""]
            for r in fc["scenarios"]
        ],
        "note": "Scenarios and funding from layers/scenarios.toml, teams from "
        "layers/capacity.csv (Mine Action Review 2025; assumptions marked in the files).",
    }


#: Columns of the tolerable-risk table: (field, header, kind).
RISK_COLUMNS = (
    ("municipality", "Municipality", "text"),
    ("region", "Region", "text"),
    ("high_tasks", "High tasks", "int"),
    ("medium_tasks", "Medium tasks", "int"),
    ("low_tasks", "Low tasks", "int"),
    ("free_of_risk_year", "High and medium done", "year"),
    ("all_tasks_done_year", "All tasks done", "year"),
    ("years_since_last_incident", "Years since last incident", "text"),
    ("condition_holds", "Condition holds (forecast)", "text"),
    ("earliest_tolerable_year", "Tolerable from", "year"),
    ("status", "Status", "text"),
)


def tolerable_risk_section(risk: dict) -> dict:
    """Lay out the tolerable risk by municipality (issue 18)."""

    def cell(r, f, k):
        hm = r["high_tasks"] + r["medium_tasks"]
        if f == "free_of_risk_year" and r[f] is None:
            return "never" if hm else "–"
        if f == "all_tasks_done_year" and r[f] is None:
            return "never" if hm + r["low_tasks"] else "–"
        if f == "years_since_last_incident":
            n = r["incidents"]
            return "?" if n is None else "none" if n == 0 else f"{r[f]:.1f}"
        if f == "condition_holds":
            return "?" if r[f] is None else "yes" if r[f] else "no"
        return _fmt(r.get(f), k)

    statuses = ", ".join(f"{n} {s}" for s, n in risk["statuses"].items() if n)
    return {
        "title": f"Tolerable risk by municipality (as of {risk['as_of']})",
        "headers": [h for _, h, _ in RISK_COLUMNS],
        "numeric": [k in ("int", "year") for _, _, k in RISK_COLUMNS],
        "rows": [[cell(r, f, k) for f, _, k in RISK_COLUMNS] for r in risk["rows"]],
        "note": (
            'The strategy 2025-30 (Mine Action Review 2025): risk is tolerable "once all '
            "high and medium-priority tasks have been completed by 2030, and provided that "
            f'there are no incidents for five years thereafter". Condition holds: high and '
            f"medium tasks done by {risk['deadline_year']} in the forecast's first scenario "
            f"and no incident in the {risk['quiet_years']} years before {risk['as_of']} "
            f"(incidents counted: {risk['count']}; ? = no incidents layer). Tolerable from: "
            "the later of the high/medium year and the last incident's, plus "
            f"{risk['quiet_years']}, if no incident follows. {statuses}."
        ),
    }
