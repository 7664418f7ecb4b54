"""``kcmr export``: one layer to GPX, KML/KMZ, GeoJSON, GeoPackage, Shapefile or CSV."""

from __future__ import annotations

import click

from kosovo_cmr.cli._as_of import as_of_option
from kosovo_cmr.cli._options import check_output, fail, output_option
from kosovo_cmr.outputs.export import FORMATS
from kosovo_cmr.schema import LAYERS


@click.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(list(FORMATS)), default=None,
    help="Output format (default: from the file suffix).",
)  # fmt: skip
@click.option("--layer", type=click.Choice(list(LAYERS)), required=True, help="The layer.")
@click.option(
    "--status",
    default=None,
    help="Only hazards with this status (e.g. active).",
)
@output_option(required=True, help="The file to write.")
@as_of_option
@click.pass_obj
def command(state, fmt, layer, status, output, overwrite):
    """Write one layer of the store for GPS units or other GIS.

    GPX 1.1 (turning points and points as waypoints, outlines as tracks), KML/KMZ
    (styled), GeoJSON (RFC 7946), GeoPackage, Shapefile (explicit 10-character field
    map, refused on collisions) or CSV with WKT.
    """
    from kosovo_cmr.outputs.export import export_layer

    check_output(output, overwrite)
    store = state.store(create=False)
    gdf = store.read(layer)
    if status is not None:
        if "status" not in gdf.columns:
            fail(f"layer {layer!r} has no status column")
        gdf = gdf[gdf["status"] == status]
    path = export_layer(gdf, output, fmt=fmt, name=layer, overwrite=overwrite)
    click.echo(str(path))
