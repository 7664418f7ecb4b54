"""``kcmr forecast``: team-days per hazard, completion years and scenarios, burn-down chart."""

from __future__ import annotations

import re

import click

from kosovo_cmr.cli._options import check_output, format_option, output_option
from kosovo_cmr.errors import InputError


def _parse_teams(ctx, param, values) -> dict:
    """Click callback: ``--teams OP=N`` (repeated) -> ``{"OP": N}``, refused when malformed."""
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
    help="CSV year,operator,teams (default: layers/capacity.csv, Table 3; the latest year).",
)
@click.option(
    "--teams",
    "teams_opt",
    multiple=True,
    metavar="OP=N",
    callback=_parse_teams,
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
    5 teams, the 1.8 km2/year target, rates calibrated to the store's clearance releases
    of the observed year (2024; the effort file's figure when the store has none),
    fade-out 50 m vs 25 m.
    """
    from pathlib import Path

    from kosovo_cmr.outputs.forecast_text import forecast_text
    from kosovo_cmr.workflows.forecast import burndown_chart, forecast_settings, plan_from_store

    check_output(output, overwrite)
    if chart is not None:
        check_output(Path(chart), overwrite)
    if fmt == "csv" and what == "both":
        raise InputError("CSV holds one table: add --what hazards or --what scenarios")
    effort, teams = forecast_settings(
        effort_path,
        capacity=capacity_path,
        teams=teams_opt,
        working_days=working_days,
        start_year=start_year,
    )
    result = plan_from_store(
        state.store(),
        dem=dem,
        cover=cover,
        effort=effort,
        teams=teams,
        fadeout_rule=fadeout_rule,
        fadeout_basis=fadeout_basis,
        with_scenarios=what != "hazards" or bool(chart),
    )
    if chart:
        burndown_chart(result.schedules, chart, effort=effort, synthetic=result.synthetic)
        click.echo(f"burn-down chart: {chart}", err=True)
    text = forecast_text(
        result.plan if what in ("both", "hazards") else None,
        result.table if what in ("both", "scenarios") else None,
        fmt=fmt,
        assumptions=result.assumptions,
    )
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
