"""``kcmr report``: the land release report of a year (Mine Action Review tables)."""

from __future__ import annotations

import click

from kosovo_cmr.cli._as_of import as_of_option
from kosovo_cmr.cli._options import (
    boundaries_option,
    check_output,
    format_follows_output,
    format_option,
    output_option,
)

#: The report's format named by the suffix of ``-o`` when --format is not given.
REPORT_SUFFIXES = {
    ".md": "md",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".csv": "csv",
    ".xlsx": "xlsx",
}


@click.command("report")
@click.option("--year", type=int, required=True, help="The report year, e.g. 2024.")
@format_option(["md", "html", "json", "csv", "xlsx"], "md")
@output_option(help="Write the report to this file (required for xlsx).")
@click.option(
    "--capacity",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Teams and personnel per operator and year, CSV (default: layers/capacity.csv).",
)
@click.option(
    "--forecast/--no-forecast",
    default=False,
    help="Add the completion forecast: scenario table and burn-down chart to 2030.",
)
@click.option(
    "--dem",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="DEM GeoTIFF for the forecast's methods (slope); needs --forecast.",
)
@click.option(
    "--cover",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Land-cover GeoTIFF for the forecast's methods; needs --forecast and --dem.",
)
@click.option(
    "--published",
    is_flag=False,
    flag_value="mar-2025-kosovo",
    default=None,
    metavar="[NAME|FILE]",
    help="Check published figures (a TOML file, or the name of a shipped one; alone: "
    "mar-2025-kosovo, the Mine Action Review 2025): their own arithmetic, and each "
    "printed figure against the layers.",
)
@boundaries_option
@as_of_option
@click.option(  # issue 17
    "--audit/--no-audit",
    default=False,
    help="Add the evidence audit: supported and unsupported area per active hazard, the "
    "chance that clearing it finds nothing (explained), the model and its validation.",
)
@click.option(  # issue 15
    "--verified-only",
    is_flag=True,
    help="Count only the releases the national authority verified (kcmr verify); by "
    "default verified and pending ones count, each table saying how much is which.",
)
@click.pass_obj
@format_follows_output(REPORT_SUFFIXES)
def command(
    state,
    year,
    fmt,
    output,
    overwrite,
    capacity,
    forecast,
    dem,
    cover,
    published,
    boundaries,
    audit=False,
    verified_only=False,
):
    """Tables 1 and 4-9, indicators and the reconciliation ledger of a year.

    Computed from the store's hazards and releases; areas are geodesic m2. Without -o
    the report goes to stdout (not for xlsx); with -o and no --format the file's suffix
    chooses the format (.md, .html, .json, .csv, .xlsx). HTML is one self-contained page with its
    charts. A report on synthetic data says so in a banner. With --forecast the report
    also holds the completion forecast (as `kcmr forecast` computes it) and the HTML page
    its burn-down chart. With --published the report checks the figures a publication
    printed: against each other, and against the layers. A year outside the span of the
    store's releases is an error listing the years present. Text from the layers is
    spreadsheet-safe in CSV and XLSX (a leading ' before =, +, - or @).

    Every release table says how much of it the national authority verified and how
    much awaits verification; rejected records count nowhere. With --as-of DATE the
    report is the store as it was at the end of DATE, and it lists the year's records
    verified or changed after the year ended, up to DATE.
    """
    from kosovo_cmr.errors import InputError
    from kosovo_cmr.report.render import write_report
    from kosovo_cmr.workflows.report import report_from_store

    if fmt == "xlsx" and output is None:
        raise InputError("the xlsx format needs an output file: pass -o PATH")
    check_output(output, overwrite, sources=[published] if published else ())
    report = report_from_store(
        state.store(create=False),
        year=year,
        boundaries=boundaries,
        capacity=capacity,
        forecast=forecast,
        dem=dem,
        cover=cover,
        published=published,
        audit=audit,
        verified_only=verified_only,
    )
    text = write_report(report, output, fmt=fmt)
    if text is not None:
        click.echo(text.rstrip("\n"))
    else:
        click.echo(f"wrote {output}", err=True)
