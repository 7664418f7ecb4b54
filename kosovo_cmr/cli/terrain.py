"""``kcmr terrain`` (slope and land cover per hazard) and ``kcmr rasterize`` (GeoTIFFs)."""

from __future__ import annotations

import click

from kosovo_cmr.cli._options import check_output, format_option, output_option


def _active(store, include_closed: bool):
    hazards = store.read("hazards")
    if not include_closed:
        hazards = hazards[hazards["status"] == "active"]
    return hazards.reset_index(drop=True)


def write_frame(table, *, fmt: str, output, display=None) -> None:
    """Write a DataFrame as a text table, CSV or JSON to ``output`` or stdout."""
    import json

    from kosovo_cmr._text import render_table

    if fmt == "csv":
        text = table.to_csv(index=False)
    elif fmt == "json":
        text = json.dumps(json.loads(table.to_json(orient="records")), indent=2) + "\n"
    else:
        text = render_table(display if display is not None else table) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


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
def command(state, dem, cover, steep_deg, dense_classes, include_closed, fmt, output, overwrite):
    """Slope (mean, p90, steep share) and dense-vegetation share per active hazard.

    Reads only the raster windows the hazards touch. A hazard outside the DEM gets
    empty values and a warning on stderr, never a made-up number.
    """
    from kosovo_cmr.analysis.terrain import DENSE_COVER_CLASSES, format_terrain, terrain_stats

    check_output(output, overwrite)
    hazards = _active(state.store(), include_closed)
    table = terrain_stats(
        hazards,
        dem=dem,
        cover=cover,
        steep_deg=steep_deg,
        dense_classes=dense_classes or DENSE_COVER_CLASSES,
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
    from kosovo_cmr.outputs.rasters import density_grid, rasterize_hazards

    check_output(output, overwrite)
    store = state.store()
    if what == "hazards":
        hazards = store.read("hazards")
        if not include_closed:
            hazards = hazards[hazards["status"] == "active"].reset_index(drop=True)
        path = rasterize_hazards(
            hazards, output, cell_size_m=cell_size_m or 10.0, all_touched=all_touched
        )
        click.echo(f"{len(hazards)} hazards rasterised to {path}", err=True)
    else:
        evidence = store.read("evidence")
        path = density_grid(evidence, output, cell_size_m=cell_size_m or 100.0)
        click.echo(f"{len(evidence)} evidence points gridded to {path}", err=True)
