"""``kcmr store``: manage layer stores (copy between GeoPackage and PostGIS)."""

from __future__ import annotations

import click


@click.group("store")
def command():
    """Manage layer stores: GeoPackage files and PostGIS databases."""


@command.command("copy")
@click.argument("src", metavar="SRC")
@click.argument("dst", metavar="DST")
@click.option(
    "--layer",
    "layers",
    multiple=True,
    help="Copy only this layer (repeat for several; default: every layer of SRC).",
)
def copy(src, dst, layers):
    """Copy the layers of store SRC into store DST, replacing them there.

    SRC and DST are GeoPackage paths (ending .gpkg) or postgresql:// URLs. Every
    feature, attribute, dtype and the CRS are kept; the copy lands in DST in one atomic
    step with a provenance record naming SRC. For example, to publish a GeoPackage to
    the team's server: kcmr store copy kmac.gpkg postgresql://kcmr@db.kmac.local/kmac
    """
    from kosovo_cmr.store.copy import copy_store

    records = copy_store(src, dst, layers=list(layers) or None)
    for record in records:
        click.echo(f"{record.layer}: {record.feature_count} features")
