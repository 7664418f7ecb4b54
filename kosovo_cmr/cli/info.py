"""``kcmr info``: what the store holds."""

from __future__ import annotations

import click

from kosovo_cmr.cli._as_of import as_of_option
from kosovo_cmr.cli._options import format_option


@click.command("info")
@format_option(["table", "json"], "table")
@as_of_option
@click.pass_obj
def command(state, fmt):
    """List the store's layers with feature count, CRS, geodesic area and provenance."""
    from kosovo_cmr._json import dumps
    from kosovo_cmr._text import render_table

    store = state.store(create=False)
    table = store.info()
    if fmt == "json":
        # strict JSON: a point layer's area is NaN in the table, null here (never NaN)
        records = table.to_dict(orient="records")
        click.echo(
            dumps(
                {
                    "store": store.uri,
                    "schema_version": store.schema_version,  # issue 15
                    "as_of": getattr(store, "label", None),
                    "layers": records,
                }
            )
        )
        return
    click.echo(f"store: {store.uri}")
    click.echo(f"schema version: {store.schema_version}")  # issue 15
    if store.at is not None:
        click.echo(f"as of: the end of {store.label} (UTC)")
    if table.empty:
        click.echo("(no layers)")
        return
    table = table.assign(
        area_m2=table["area_m2"].map(lambda a: "" if a is None or a != a else f"{a:,.0f}")
    )
    click.echo(render_table(table))
