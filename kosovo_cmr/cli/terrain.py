"""``kcmr terrain`` (slope and land cover per hazard) and ``kcmr rasterize`` (GeoTIFFs).

Thin faces on :mod:`kosovo_cmr.workflows.terrain`.
"""

from __future__ import annotations

import click

from kosovo_cmr.cli._options import (
    check_output,
    format_follows_output,
    format_option,
    output_option,
)
from kosovo_cmr.cli._output import csv_text, emit


def write_frame(table, *, fmt: str, output, display=None) -> None:
    """Write a DataFrame as a text table, CSV or strict JSON to ``output`` or stdout.

    CSV values are spreadsheet-safe; a file is written via a temporary file beside it.
    """
    from kosovo_cmr._json import dumps
    from kosovo_cmr._text import render_table

    if fmt == "csv":
        text = csv_text(table)
    elif fmt == "json":
        text = dumps(table.to_dict(orient="records"))
    else:
        text = render_table(display if display is not None else table)
    emit(text, output, overwrite=True)


@click.command("terrain")
@click.option(
    "--dem",
    type=click.Path(exists=True, dir_okay=False),
    required=True,
    help="Elevation GeoTIFF (metres), any north-up CRS (SRTM, Copernicus DEM, ...).",
)
@click.option(
    "--cover",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Land-cover class raster (ESA WorldCover codes by default), any CRS.",
)
@click.option(
    "--steep-deg",
    type=float,
    default=15.0,
    show_default=True,
    help="Slope threshold for the steep share, degrees.",
)
@click.option(
    "--dense-class",
    "dense_classes",
    type=int,
    multiple=True,
    help="Cover class counted as dense vegetation (repeat; default 10 20 95).",
)
@click.option("--all", "include_closed", is_flag=True, help="Include closed hazards.")
@format_option(["table", "csv", "json"], "table")
@output_option()
@click.pass_obj
@format_follows_output()
def command(state, dem, cover, steep_deg, dense_classes, include_closed, fmt, output, overwrite):
    """Slope (mean, p90, steep share) and dense-vegetation share per active hazard.

    Reads only the raster windows the hazards touch. A hazard outside the DEM gets
    empty values and a warning on stderr, never a made-up number.
    """
    from kosovo_cmr.analysis.terrain import DENSE_COVER_CLASSES, format_terrain
    from kosovo_cmr.workflows.terrain import terrain_from_store

    check_output(output, overwrite)
    table = terrain_from_store(
        state.store(),
        dem=dem,
        cover=cover,
        steep_deg=steep_deg,
        dense_classes=dense_classes or DENSE_COVER_CLASSES,
        include_closed=include_closed,
    )
    write_frame(table, fmt=fmt, output=output, display=format_terrain(table))


@click.command("rasterize")
@click.argument("what", type=click.Choice(["hazards", "density"]))
@click.option(
    "--cell-size-m",
    type=float,
    default=None,
    help="Cell size in metres (default 10 for hazards, 100 for density).",
)
@click.option("--all", "include_closed", is_flag=True, help="Include closed hazards.")
@click.option(
    "--all-touched", is_flag=True, help="Burn every cell a hazard touches (hazards only)."
)
@output_option(required=True, help="The GeoTIFF to write.")
@click.pass_obj
def rasterize_command(state, what, cell_size_m, include_closed, all_touched, output, overwrite):
    """Write hazards or evidence density to a GeoTIFF in the metric CRS (EPSG:9141).

    hazards: active hazards, cell value = hazard number, tags HAZARD_<n> = hazard id.
    density: evidence points per hectare.
    """
    from kosovo_cmr.workflows.terrain import density_raster, hazards_raster

    check_output(output, overwrite)
    if what == "hazards":
        path, n = hazards_raster(
            state.store(),
            output,
            cell_size_m=cell_size_m or 10.0,
            all_touched=all_touched,
            include_closed=include_closed,
        )
        click.echo(f"{n} hazards rasterised to {path}", err=True)
    else:
        path, n = density_raster(state.store(), output, cell_size_m=cell_size_m or 100.0)
        click.echo(f"{n} evidence points gridded to {path}", err=True)
