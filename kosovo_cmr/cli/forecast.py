"""``kcmr forecast``: the plan per hazard, money and capacity scenarios, tolerable risk."""

from __future__ import annotations

import re

import click

from kosovo_cmr.cli._options import format_follows_output, format_option, output_option
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
    help="CSV year,operator,teams (default: layers/capacity.csv: Table 3 for 2024, April "
    "2025 for 2025).",
)
@click.option(
    "--teams",
    "teams_opt",
    multiple=True,
    metavar="OP=N",
    callback=_parse_teams,
    help="Override one operator's teams in the capacity table's latest year, e.g. --teams "
    "NPA=8 (repeat).",
)
@click.option(
    "--scenarios",
    "scenarios_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Money and capacity scenarios, TOML (default: layers/scenarios.toml).",
)
@click.option(
    "--costs",
    "costs_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Unit costs, CSV operator,method,eur_per_team_day (default: layers/costs.csv).",
)
@click.option(
    "--incidents",
    "count",
    type=click.Choice(["all", "accidents"]),
    default="all",
    show_default=True,
    help="Which incidents break the five quiet years of the tolerable-risk condition.",
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
    type=click.Choice(["both", "hazards", "scenarios", "risk"]),
    default="both",
    show_default=True,
    help="Which table to write: both (hazards and scenarios), or one of them, or the "
    "tolerable risk by municipality.",
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
@format_follows_output()
def command(
    state,
    dem,
    cover,
    effort_path,
    capacity_path,
    teams_opt,
    scenarios_path,
    costs_path,
    count,
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
    """Forecast when each priority class completes, what it costs, and the funding gap.

    Per hazard, under the lead scenario (April 2025 capacity: KSF 4, HALO 9, NPA 5 teams;
    rates calibrated on the store's 2024 clearance releases, or the effort file's figure
    when the store has none): area to clear, method (from slope and cover), rate,
    team-days, the operator's teams, the working days it takes, its finish year and cost.

    Scenarios, each with the year its high, medium and low tasks and all the work are
    done, cost and funding gap, and what it assumes in words: April 2025 capacity, HALO
    closing at the end of 2025, international operators leaving in 2030, EUR 3.5 M a
    year, the confirmed funding only, the report's rates read per team, the 1.8 km2/year
    target and the fade-out rules (with why their difference is not buffer-impact's).
    --what risk: per municipality, the open tasks, the year free of risk, the years since
    the last incident and whether the strategy's tolerable-risk condition holds.
    """
    from kosovo_cmr._files import atomic_output, check_outputs
    from kosovo_cmr.outputs.forecast_text import forecast_text
    from kosovo_cmr.workflows.forecast import burndown_chart, forecast_settings, plan_from_store

    store = state.store()
    sources = [dem, cover, effort_path, capacity_path, scenarios_path, costs_path]
    check_outputs(
        {"--output": output, "--chart": chart},
        overwrite=overwrite,
        store=store.uri,
        sources=[s for s in sources if s is not None],
    )
    if fmt == "csv" and what == "both":
        raise InputError("CSV holds one table: add --what hazards, scenarios or risk")
    settings = forecast_settings(
        effort_path,
        capacity=capacity_path,
        teams=teams_opt,
        working_days=working_days,
        start_year=start_year,
        scenarios=scenarios_path,
        costs=costs_path,
    )
    result = plan_from_store(
        store,
        dem=dem,
        cover=cover,
        settings=settings,
        fadeout_rule=fadeout_rule,
        fadeout_basis=fadeout_basis,
        with_scenarios=what != "hazards" or bool(chart),
        count=count,
    )
    if what == "risk" and result.risk is None:
        raise InputError("the tolerable risk needs a boundaries layer in the store")
    if chart:
        with atomic_output(chart, overwrite=overwrite) as tmp:
            burndown_chart(
                result.schedules, tmp, effort=settings.effort, synthetic=result.synthetic
            )
        click.echo(f"burn-down chart: {chart}", err=True)
    text = forecast_text(
        result.plan if what in ("both", "hazards") else None,
        result.table if what in ("both", "scenarios") else None,
        fmt=fmt,
        assumptions=result.assumptions,
        risk=result.risk if what == "risk" else None,
    )
    if output is None:
        click.echo(text, nl=False)
    else:
        with atomic_output(output, overwrite=overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8")
