"""``kcmr fieldmap``: printable field sheets (PDF) of hazardous areas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from kosovo_cmr.cli._options import fail, output_option

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _context(ctx, param, values):
    """Parse ``FILE[:LAYER]`` values into (path, layer or None), checking the file exists."""
    out = []
    for value in values:
        path, layer = Path(value), None
        if not path.is_file() and ":" in value:
            head, _, tail = value.rpartition(":")
            path, layer = Path(head), tail or None
        if not path.is_file():
            raise click.BadParameter(f"{value}: no such file", ctx=ctx, param=param)
        out.append((path, layer))
    return tuple(out)


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@click.command("fieldmap")
@click.argument("hazard_id", required=False)
@click.option("--all", "all_", is_flag=True, help="An atlas of every open hazard, one PDF.")
@click.option(
    "--include-closed",
    is_flag=True,
    help="With --all: add the closed (released, removed) hazards, each titled CLOSED.",
)
@output_option(required=True, help="The PDF file to write.")
@click.option("--paper", type=click.Choice(["A4", "A3"]), default="A4", show_default=True)
@click.option(
    "--grid",
    type=click.Choice(["utm", "national"]),
    default="utm",
    show_default=True,
    help="Map grid: UTM zone 34N or KOSOVAREF01 / Balkans zone 7 (EPSG:9141).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "sq", "sr", "sr-Cyrl"]),
    default="en",
    show_default=True,
    help="Language of the sheet: English, Albanian, Serbian (Latin or Cyrillic).",
)
@click.option("--dem", type=_FILE, help="A DEM GeoTIFF: hillshade and contours under the map.")
@click.option(
    "--basemap", type=_FILE, help="A GeoTIFF or MBTiles image (orthophoto) under the map."
)
@click.option(
    "--context",
    "context",
    multiple=True,
    callback=_context,
    metavar="FILE[:LAYER]",
    help="GeoPackage layers (roads, buildings, rivers) under the map; every layer of the "
    "file without :LAYER. Repeatable.",
)
@click.option(
    "--date",
    "on",
    callback=_date,
    metavar="YYYY-MM-DD",
    help="The sheet's date, printed and used for the magnetic declination [default: today].",
)
@click.pass_obj
def command(
    state,
    hazard_id,
    all_,
    include_closed,
    output,
    overwrite,
    paper,
    grid,
    lang,
    dem,
    basemap,
    context,
    on,
):
    """Write the field sheet of HAZARD_ID (or, with --all, the atlas) as PDF.

    Each sheet has the hazard, its evidence, turning points (labelled without overlap)
    and benchmark on a labelled grid at a true printed scale, with scale bar, north
    arrow (grid, true and magnetic north), legend, and the ground context given
    (--dem, --basemap, --context, each credited); the turning-point table (UTM,
    national grid, MGRS, true and magnetic bearing, distance) continues on further
    pages when long. The magnetic declination comes from the World Magnetic Model for
    the sheet's date. Closed hazards are left out of --all unless --include-closed.
    """
    from kosovo_cmr._files import check_outputs
    from kosovo_cmr.workflows.fieldsheets import field_sheets_from_store

    if bool(hazard_id) == bool(all_):
        fail("give either a HAZARD_ID or --all")
    if include_closed and not all_:
        fail("--include-closed goes with --all (a closed hazard's own sheet is always drawn)")
    store = state.store(create=False)
    sources = [dem, basemap, *(path for path, _ in context)]
    check_outputs({"--output": output}, overwrite=overwrite, store=store.uri, sources=sources)

    def progress(done: int, total: int, hid: str) -> None:
        if state.verbosity >= 0:
            click.echo(f"sheet {done + 1}/{total}: {hid}", err=True)

    path = field_sheets_from_store(
        store,
        output,
        hazard_id=None if all_ else hazard_id,
        include_closed=include_closed,
        overwrite=overwrite,
        dem=dem,
        basemap=basemap,
        context=context,
        paper=paper,
        grid=grid,
        lang=lang,
        today=on,
        progress=progress,
    )
    click.echo(str(path))
