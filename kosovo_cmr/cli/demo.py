"""``kcmr demo``: build a demo store from the synthetic layers and run every demo step."""

from __future__ import annotations

from pathlib import Path

import click

from kosovo_cmr.cli._options import boundaries_option


def refuse_real_store(uri: str) -> None:
    """Refuse to run the demo on a store that holds real (non-synthetic) features.

    The demo replaces its layers with SYNTHETIC ones (and a fresh default store replaces
    the file): a store holding one feature whose ``synthetic`` is not true is someone's
    data, and a fake hazard written over a real one endangers people.

    Raises
    ------
    kosovo_cmr.errors.InputError
        Naming the layer and how many real features it holds.
    """
    from kosovo_cmr.errors import InputError
    from kosovo_cmr.store import open_store

    if "://" not in uri and not Path(uri).exists():
        return
    store = open_store(uri, create=True)  # a server store with no layer yet holds nothing
    for layer in store.layers():
        gdf = store.read(layer)
        if "synthetic" not in gdf.columns:
            continue
        real = int((~gdf["synthetic"].fillna(False).astype(bool)).sum())
        if real:
            raise InputError(
                f"store {uri} holds {real} real (non-synthetic) feature(s) in {layer!r}: "
                "the demo would replace them with SYNTHETIC data; choose another --out or "
                "--store"
            )


def _writable_folder(out: Path, *, holds_store: bool) -> None:
    """Create the demo folder, or say why it cannot be written (4 when it holds the store)."""
    import os

    from kosovo_cmr.errors import InputError, StoreError

    error = StoreError if holds_store else InputError
    what = "the demo folder (it holds the demo store)" if holds_store else "the demo folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise error(f"cannot create {what} {out}: {(exc.strerror or str(exc)).lower()}") from exc
    if not os.access(out, os.W_OK):
        raise error(f"{what} {out} cannot be written (read-only file system or no permission)")


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
    features are synthetic (ids DEMO-...): never use them in the field. A store that
    holds real (non-synthetic) features is refused, never replaced.
    """
    from kosovo_cmr import settings
    from kosovo_cmr.demo import run_demo

    out = Path(out_dir if out_dir is not None else settings.demo_dir)
    refuse_real_store(state.store_uri or str(out / "kcmr.gpkg"))
    _writable_folder(out, holds_store=state.store_uri is None)

    def progress(message):
        if state.verbosity >= 0:
            click.echo(f"... {message}", err=True)

    ctx = run_demo(out, boundaries=boundaries, store=state.store_uri, progress=progress)
    click.echo("SYNTHETIC DEMO DATA - not real hazards, not for field use")
    click.echo(f"store: {ctx.store.uri}")
    for line in ctx.summary:
        click.echo(f"  {line}")
    if ctx.outputs:
        click.echo("outputs:")
        for description, path in ctx.outputs:
            click.echo(f"  {description}: {path}")
