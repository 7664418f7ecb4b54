"""``kcmr prioritise``: score each open hazard under a priority model, and its sensitivity."""

from __future__ import annotations

from pathlib import Path

import click

from kosovo_cmr.cli._options import format_follows_output, format_option, output_option
from kosovo_cmr.errors import InputError


def _parse_layers(ctx, param, values) -> dict:
    """Click callback: ``--layer NAME=PATH[:LAYER]`` (repeated) -> name -> (path, layer)."""
    from kosovo_cmr.workflows.priority import parse_layer_spec

    layers = {}
    for value in values:
        name, path, layer = parse_layer_spec(value)
        if name in layers:
            raise InputError(f"--layer {name} given twice")
        if not path.exists():
            raise InputError(f"--layer {name}: {path} does not exist")
        layers[name] = (path, layer)
    return layers


@click.command("prioritise")
@click.option(
    "--model",
    default=None,
    metavar="NAME|FILE",
    help="Priority model: a TOML file, or a shipped name (default kmac-2025; "
    "kmac-2025-climate-first reads KMAC's 'highest priority' for climate as an override).",
)
@click.option(
    "--layer",
    "layers",
    multiple=True,
    metavar="NAME=PATH[:LAYER]",
    callback=_parse_layers,
    help="A context layer the model names: a vector file (GeoPackage, Shapefile, GeoJSON, "
    "KML...; :LAYER picks a layer of a multi-layer file) or a raster (GeoTIFF). Repeat.",
)
@click.option(
    "--sensitivity",
    "sensitivity_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the sensitivity table to this CSV.",
)
@click.option(
    "--step",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
    help="How far each weight moves in the sensitivity table (0.2: -20 % and +20 %).",
)
@format_option(["table", "csv", "json"], "table")
@output_option()
@click.pass_obj
@format_follows_output()
def command(state, model, layers, sensitivity_path, step, fmt, output, overwrite):
    """Score each open hazard by KMAC's criteria: score, parts, class and sensitivity.

    The model file (layers/priority/kmac-2025.toml) names the criteria the Mine Action
    Review reports for KMAC (risk reduction, development, environment, poverty, climate),
    each computed from context layers as a distance, an overlap, a raster zonal
    statistic or an attribute per hazard, with its weight and thresholds. Per hazard:
    the score (0-100), its part from each criterion (the parts add up to the score), the
    class (high, medium, low) against the recorded priority, and the model file's
    SHA-256. The sensitivity table counts the hazards that change class when each weight
    moves by -20 % and +20 %. CSV holds the scores (the sensitivity with --sensitivity),
    JSON both.
    """
    from kosovo_cmr._files import atomic_output, check_outputs
    from kosovo_cmr.outputs.priority_text import priority_text
    from kosovo_cmr.workflows.priority import priorities_from_store

    store = state.store()
    sources = [path for path, _ in layers.values()]
    check_outputs(
        {"--output": output, "--sensitivity": sensitivity_path},
        overwrite=overwrite,
        store=store.uri,
        sources=sources,
    )
    result = priorities_from_store(store, layers, model=model, step=step)
    text = priority_text(result, fmt=fmt)
    if sensitivity_path is not None:
        with atomic_output(sensitivity_path, overwrite=overwrite) as tmp:
            tmp.write_text(priority_text(result, fmt="csv", what="sensitivity"), encoding="utf-8")
        click.echo(f"sensitivity table: {sensitivity_path}", err=True)
    changed = int(result.table["changed"].sum())
    click.echo(
        f"{len(result.table)} hazards scored with {result.model['name']} "
        f"(sha256 {result.model['sha256'][:12]}); {changed} differ from the recorded priority",
        err=True,
    )
    if output is None:
        click.echo(text, nl=False)
    else:
        with atomic_output(output, overwrite=overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8")
