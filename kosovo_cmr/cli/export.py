"""``kcmr export``: one layer to GPX, KML/KMZ, GeoJSON, GeoPackage, Shapefile or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from kosovo_cmr.cli._as_of import as_of_option
from kosovo_cmr.cli._options import check_filter_value, check_output, fail, output_option
from kosovo_cmr.outputs.export import FORMATS
from kosovo_cmr.outputs.gps import NAME_LENGTH
from kosovo_cmr.schema import LAYERS


def _format_of(output, fmt: str | None) -> str | None:
    if fmt is not None:
        return fmt
    suffix = output.suffix.lower()
    return next((f for f, s in FORMATS.items() if s == suffix), None)


def _select_status(gdf, status: str | None, *, layer: str):
    """Return the features whose ``status`` is ``status`` (all without a filter).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the layer has no status column, or no feature has that status: the message
        lists the values present (the rule of every filter option,
        :func:`kosovo_cmr.cli._options.check_filter_value`), so that a typo (``Active``)
        never writes an empty file.
    """
    if status is None:
        return gdf
    if "status" not in gdf.columns:
        fail(f"--status: layer {layer!r} has no status column")
    check_filter_value("--status", status, gdf["status"].dropna(), what=f"{layer!r} feature")
    return gdf[gdf["status"] == status]


@click.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(list(FORMATS)), default=None,
    help="Output format (default: from the file suffix).",
)  # fmt: skip
@click.option("--layer", type=click.Choice(list(LAYERS)), required=True, help="The layer.")
@click.option(
    "--status",
    default=None,
    help="Only features with this status (e.g. active); a value no feature has is an "
    "error that lists the values present.",
)
@click.option(
    "--name-length",
    type=click.IntRange(min=0),
    default=None,
    help=f"GPX only: longest waypoint and track name (default {NAME_LENGTH}, what Garmin "
    "units show; 0 keeps full names). Shortened names stay unique; the full id is in "
    "the comment and the extensions.",
)
@click.option(  # issue 16
    "--mapping",
    default=None,
    metavar="NAME|FILE",
    help="Write the columns under another system's field names, from a mapping file or a "
    "shipped one (imsma_core); `kcmr import --mapping` reads them back.",
)
@output_option(required=True, help="The file to write (a .gdb folder for --format gdb).")
@as_of_option
@click.pass_obj
def command(state, fmt, layer, status, name_length, output, overwrite, mapping=None):
    """Write one layer of the store for GPS units or other GIS.

    GPX 1.1 (turning points and points as waypoints, outlines as tracks, every
    attribute as its own extension element), KML/KMZ (styled, descriptions
    HTML-escaped), GeoJSON (RFC 7946), GeoPackage, Shapefile (explicit 10-character
    field map, refused on collisions) or CSV with WKT. Features with an empty
    geometry are counted on stderr. A File Geodatabase (.gdb, for ArcGIS Pro and IMSMA
    Core) gets a coded-value domain for each column with a fixed list of values.
    """
    from kosovo_cmr.outputs.export import export_layer
    from kosovo_cmr.outputs.gps import write_gpx

    kind = _format_of(output, fmt)
    if name_length is not None and kind != "gpx":
        fail("--name-length applies to GPX only")
    if output.is_dir() and kind != "gdb":  # issue 16: only a .gdb output is a folder
        fail(f"--output {output} is a folder; give a file name")
    check_output(output, overwrite)  # the one guard: never the store, a source, or twice
    store = state.store(create=False)
    gdf = _select_status(store.read(layer), status, layer=layer)
    if len(gdf) == 0:
        fail(f"layer {layer!r} holds no feature: nothing to export")
    typed = "entered_points" in gdf.columns and gdf["entered_points"].notna().any()
    if kind == "turning-points" and not typed:  # issue 16
        fail(f"no {layer} feature has turning points as typed (entered_points): only "
             "polygons imported from a turning-point table have them")  # fmt: skip
    if mapping is not None:  # issue 16: a .gdb keeps each renamed column's domain
        from kosovo_cmr.workflows.exchange import with_mapping

        gdf = with_mapping(gdf, layer, mapping)
    if kind == "gpx":
        length = NAME_LENGTH if name_length is None else name_length
        summary = write_gpx(gdf, output, name=layer, name_length=length, overwrite=overwrite)
        click.echo(summary.line(), err=True)
        click.echo(str(summary.path))
        return
    path = export_layer(gdf, output, fmt=fmt, name=layer, overwrite=overwrite)
    click.echo(str(path))


# issue 16: a File Geodatabase is a folder, so --output may name one (an existing .gdb is
# replaced only with --overwrite, and only if it is a geodatabase: outputs.filegdb)
for _param in command.params:
    if _param.name == "output":
        _param.type = click.Path(path_type=Path)
