"""``kcmr fieldmap``: printable field sheets (PDF) of hazardous areas."""

from __future__ import annotations

import click

from kosovo_cmr.cli._options import check_output, fail, output_option


@click.command("fieldmap")
@click.argument("hazard_id", required=False)
@click.option("--all", "all_", is_flag=True, help="An atlas of every active hazard, one PDF.")
@output_option(required=True, help="The PDF file to write.")
@click.option("--paper", type=click.Choice(["A4", "A3"]), default="A4", show_default=True)
@click.option(
    "--grid",
    type=click.Choice(["utm", "national"]),
    default="utm",
    show_default=True,
    help="Map grid: UTM zone 34N or KOSOVAREF01 / Balkans zone 7 (EPSG:9141).",
)
@click.pass_obj
def command(state, hazard_id, all_, output, overwrite, paper, grid):
    """Write the field sheet of HAZARD_ID (or, with --all, the atlas) as PDF.

    Each sheet has the hazard, its evidence, turning points and a proposed benchmark on
    a labelled grid at a true printed scale, a turning-point table (UTM, national grid,
    MGRS, bearing and distance), scale bar, north arrow and legend.
    """
    from kosovo_cmr.workflows.maps import field_maps_from_store

    if bool(hazard_id) == bool(all_):
        fail("give either a HAZARD_ID or --all")
    check_output(output, overwrite)
    store = state.store(create=False)
    path = field_maps_from_store(
        store,
        output,
        hazard_id=None if all_ else hazard_id,
        overwrite=overwrite,
        paper=paper,
        grid=grid,
        source=store.uri,
    )
    click.echo(str(path))
