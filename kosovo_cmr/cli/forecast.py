"""``kcmr forecast``: team-days per hazard, completion years and scenarios, burn-down chart."""

from __future__ import annotations

import re

import click

from kosovo_cmr.cli._options import check_output, format_option, output_option
from kosovo_cmr.errors import InputError


def _parse_teams(values) -> dict:
    teams = {}
    for value in values:
        m = re.fullmatch(r"\s*([^=]+?)\s*=\s*(\d+)\s*", value)
        if not m:
            raise InputError(f"--teams expects OPERATOR=N (e.g. NPA=5), got {value!r}")
        teams[m.group(1)] = int(m.group(2))
    return teams


@click.command("forecast")
@click.option(
    "--dem",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Elevation GeoTIFF; without it every hazard gets the unknown-terrain method.",
)
@click.option(
    "--cover",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Land-cover class raster (with --dem).",
)
@click.option(
    "--effort",
    "effort_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Effort file (default: the shipped layers/effort.toml).",
)
@click.option(
    "--capacity",
    "capacity_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="CSV operator,teams (default: Table 3 capacity).",
)
@click.option(
    "--teams",
    "teams_opt",
    multiple=True,
    metavar="OP=N",
    help="Override one operator's teams, e.g. --teams NPA=5 (repeat).",
)
@click.option(
    "--working-days",
    type=int,
    default=None,
    help="Working days per season (default: the effort file's, 160).",
)
@click.option("--start-year", type=int, default=None, help="First season (default 2025).")
@click.option(
    "--fadeout",
    "fadeout_rule",
    default=None,
    help="Fade-out rule (name or TOML file) for the per-hazard area to clear, e.g. "
    "kosovo-nmas-2024; default: each hazard's recorded area.",
)
@click.option(
    "--fadeout-basis",
    type=click.Choice(["union", "redrawn"]),
    default="union",
    show_default=True,
    help="With --fadeout: clear the hazard plus the fade-out area (union), or redraw "
    "hazards with evidence from it (redrawn).",
)
@click.option(
    "--what",
    type=click.Choice(["both", "hazards", "scenarios"]),
    default="both",
    show_default=True,
    help="Which table to write.",
)
@click.option(
    "--chart",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also draw the burn-down chart to this PNG.",
)
@format_option(["table", "csv", "json"], "table")
@output_option()
@click.pass_obj
def command(
    state,
    dem,
    cover,
    effort_path,
    capacity_path,
    teams_opt,
    working_days,
    start_year,
    fadeout_rule,
    fadeout_basis,
    what,
    chart,
    fmt,
    output,
    overwrite,
):
    """Forecast when each priority class and all CMR clearance completes.

    Per hazard: area to clear, method (from slope and cover), rate, team-days, the
    operator's teams and the working days it takes. Scenarios: current capacity, NPA at
    5 teams, the 1.8 km2/year target, rates calibrated to 2024, fade-out 50 m vs 25 m.
    """
    import json
    from pathlib import Path

    from kosovo_cmr._text import render_table
    from kosovo_cmr.analysis.forecast import (
        clearance_effort,
        display_plan,
        display_scenarios,
        inputs_from_store,
        plot_burndown,
        read_capacity,
        read_effort,
        scenarios,
        schedule,
    )

    check_output(output, overwrite)
    if chart is not None:
        check_output(Path(chart), overwrite)
    if fmt == "csv" and what == "both":
        raise InputError("CSV holds one table: add --what hazards or --what scenarios")
    effort = read_effort(effort_path)
    if working_days is not None:
        effort["season"]["working_days"] = working_days
    if start_year is not None:
        effort["season"]["start_year"] = start_year
    teams = read_capacity(capacity_path, effort=effort)
    teams.update(_parse_teams(teams_opt))
    hazards, evidence, terrain = inputs_from_store(
        state.store(), dem=dem, cover=cover, effort=effort
    )
    plan = schedule(
        clearance_effort(
            hazards,
            terrain=terrain,
            evidence=evidence,
            fadeout_rule=fadeout_rule,
            fadeout_basis=fadeout_basis,
            effort=effort,
        ),
        teams=teams,
        effort=effort,
    )
    table, schedules = (None, {})
    if what != "hazards" or chart:
        table, schedules = scenarios(
            hazards, terrain=terrain, evidence=evidence, effort=effort, teams=teams
        )
    if chart:
        plot_burndown(
            schedules,
            chart,
            effort=effort,
            synthetic="synthetic" in hazards and bool(hazards["synthetic"].astype(bool).any()),
        )
        click.echo(f"burn-down chart: {chart}", err=True)
    if fmt == "json":
        doc = {}
        if what in ("both", "hazards"):
            doc["hazards"] = json.loads(plan.to_json(orient="records"))
        if what in ("both", "scenarios"):
            doc["scenarios"] = json.loads(table.to_json(orient="records"))
        doc["assumptions"] = {
            "working_days_per_season": effort["season"]["working_days"],
            "season_months": [effort["season"]["first_month"], effort["season"]["last_month"]],
            "start_year": effort["season"]["start_year"],
            "teams": teams,
            "rates_m2_per_team_day": {
                k: m["rate_m2_per_team_day"] for k, m in effort["methods"].items()
            },
            "effort_file": effort["path"],
        }
        text = json.dumps(doc, indent=2) + "\n"
    elif fmt == "csv":
        text = (plan if what == "hazards" else table).to_csv(index=False)
    else:
        parts = []
        if what in ("both", "hazards"):
            parts.append(
                f"Per hazard ({effort['season']['working_days']} working days a season, "
                "team_days = area_to_clear_m2 / rate, working_days = team_days / teams):"
            )
            parts.append(render_table(display_plan(plan)))
        if what in ("both", "scenarios"):
            parts.append("Scenarios (year each priority class completes):")
            parts.append(render_table(display_scenarios(table)))
            parts += [f"note: {r.scenario}: {r.note}" for r in table.itertuples() if r.note]
        text = "\n".join(parts) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
