"""``kcmr demo``: build a demo store from the synthetic layers and run every demo step."""

from __future__ import annotations

import click

from kosovo_cmr.cli._options import boundaries_option


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Output folder (default: ./kcmr-demo/).",
)
@boundaries_option
@click.pass_obj
def command(state, out_dir, boundaries):
    """Build a fresh store of SYNTHETIC demo layers and write every demo output.

    The store is OUT/kcmr.gpkg unless the global --store names another. All demo
    features are synthetic (ids DEMO-...): never use them in the field.
    """
    from kosovo_cmr.demo import run_demo

    def progress(message):
        if state.verbosity >= 0:
            click.echo(f"... {message}", err=True)

    ctx = run_demo(out_dir, boundaries=boundaries, store=state.store_uri, progress=progress)
    click.echo("SYNTHETIC DEMO DATA - not real hazards, not for field use")
    click.echo(f"store: {ctx.store.uri}")
    for line in ctx.summary:
        click.echo(f"  {line}")
    if ctx.outputs:
        click.echo("outputs:")
        for description, path in ctx.outputs:
            click.echo(f"  {description}: {path}")
