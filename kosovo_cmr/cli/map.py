"""``kcmr map``: the interactive web map of the store's layers."""

from __future__ import annotations

import click

from kosovo_cmr.cli._as_of import as_of_option
from kosovo_cmr.cli._options import check_output, output_option


@click.command("map")
@output_option(required=True, help="The HTML file to write.")
@click.option(
    "--offline",
    is_flag=True,
    help="One self-contained file: no tiles, scripts and styles inside, no network "
    "request (nothing to install: they come with the folium-offline package).",
)
@click.option(
    "--tolerance-m",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Simplification tolerance in metres (default 0.5; 0 keeps every vertex).",
)
@click.option(
    "--basemap",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="A GeoTIFF or MBTiles file (orthophoto, scanned map) drawn under the layers and "
    "embedded in the page, so an offline map shows it too (the part the layers cover, "
    "at most 4 million pixels).",
)
@as_of_option
@click.pass_obj
def command(state, output, overwrite, offline, tolerance_m, basemap):
    """Write an interactive map (HTML) of every layer in the store.

    CHAs and SHAs, released land by method, evidence (clustered when many, counted on
    a grid when very many), strike footprints, boundaries and fade-out rings, with
    layer control, legend, scale bar, measuring tool and full screen. A banner marks
    synthetic data; an online map says so on the page when it cannot load its scripts
    or tiles.
    """
    from kosovo_cmr.outputs.maps import SIMPLIFY_TOLERANCE_M, save_map
    from kosovo_cmr.workflows.maps import map_from_store

    # the one guard: never the store, a source (the basemap), or twice
    check_output(output, overwrite, sources=[basemap] if basemap else ())
    store = state.store(create=False)
    m = map_from_store(
        store,
        offline=offline,
        tolerance_m=SIMPLIFY_TOLERANCE_M if tolerance_m is None else tolerance_m,
        basemap=basemap,
    )
    path = save_map(m, output, overwrite=overwrite)
    click.echo(str(path))
