"""``kcmr strikes infer``: strike footprints inferred from the evidence."""

from __future__ import annotations

from pathlib import Path

import click

from kosovo_cmr.cli._options import format_option

_DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}


def write_layer(gdf, path: Path, *, overwrite: bool, layer: str) -> None:
    """Write a layer named ``layer`` to a GeoPackage or GeoJSON file, atomically."""
    from kosovo_cmr._files import atomic_output
    from kosovo_cmr.errors import InputError
    from kosovo_cmr.outputs.export import to_geojson

    driver = _DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise InputError(f"cannot write {path}: use a .gpkg or .geojson file name")
    if driver == "GeoJSON":  # RFC 7946 (WGS 84, right-hand rule), as every GeoJSON we write
        to_geojson(gdf, path, name=layer, overwrite=overwrite)
        return
    with atomic_output(path, overwrite=overwrite) as tmp:
        gdf.to_file(tmp, driver=driver, layer=layer)


@click.group("strikes")
def command():
    """Cluster-bomb strikes: footprints inferred from the evidence."""


@command.command("infer")
@click.option(
    "--rule",
    default=None,
    metavar="NAME|PATH",
    help="Fade-out rule whose distances set how close two items must be to belong to one "
    "footprint. [default: kosovo-nmas-2024]",
)
@click.option(
    "--min-items",
    type=int,
    default=4,
    show_default=True,
    help="DBSCAN's min_samples: items within reach of a core item.",
)
@click.option(
    "--coverage",
    type=float,
    default=0.95,
    show_default=True,
    help="Share of a cluster's items the fitted oval holds.",
)
@click.option(
    "--bootstrap",
    type=int,
    default=200,
    show_default=True,
    help="Resamples for the standard errors.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the resampling.")
@format_option(["table", "json"], "table")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the footprints (ovals) to this .gpkg or .geojson file.",
)
@click.option("--overwrite", is_flag=True, help="Replace the output file if it exists.")
@click.pass_obj
def infer_command(state, rule, min_items, coverage, bootstrap, seed, fmt, output, overwrite):
    """Cluster the evidence (DBSCAN) and fit an oriented oval to each cluster.

    Two items belong to one footprint when they lie closer than the smaller of their
    fade-out distances under the rule (so footprints farther apart than the fade-out are
    never merged directly). Each oval holds --coverage of its cluster's items, with
    bootstrap standard errors; the likely munition follows from the items' ordnance
    (BLU-97: CBU-87, BL755: RBL755). Azimuths are degrees clockwise from grid north of
    EPSG:9141 (azimuth_true_deg: from true north). Recorded strikes are compared where
    they exist. JSON: {"rows": [...], "comparison": [...]}.
    """
    from kosovo_cmr._json import dumps, plain
    from kosovo_cmr._text import render_table
    from kosovo_cmr.cli._options import check_output
    from kosovo_cmr.workflows.audit import strikes_from_store

    check_output(output, overwrite)  # the one guard: never the store, a source, or twice
    store = state.store(create=False)
    result, comparison = strikes_from_store(
        store, rule, min_items=min_items, coverage=coverage, bootstrap=bootstrap, seed=seed
    )
    if output is not None:
        write_layer(result.footprints, output, overwrite=overwrite, layer="inferred_strikes")
        click.echo(f"wrote {output} ({len(result.footprints)} footprints)", err=True)
    if fmt == "json":
        doc = result.to_dict()
        doc["comparison"] = plain(
            [] if comparison is None else comparison.to_dict(orient="records")
        )
        click.echo(dumps(doc))
        return
    shown = result.footprints[
        [
            "cluster_id",
            "munition",
            "n_items",
            "length_m",
            "width_m",
            "azimuth_deg",
            "azimuth_se_deg",
            "area_m2",
            "hazard_ids",
        ]
    ].round(1)
    click.echo(render_table(shown) if len(shown) else "(no footprint)")
    click.echo(
        f"{len(shown)} footprint(s), {result.noise_items} item(s) in none "
        f"({result.parameters['rule']})"
    )
    if comparison is not None and len(comparison):
        matched = comparison.dropna(subset=["strike_id"])
        click.echo(
            f"{len(matched)} matched a recorded strike: median centre offset "
            f"{matched['centre_offset_m'].median():.1f} m, azimuth difference "
            f"{matched['azimuth_diff_deg'].median():.1f} deg"
            if len(matched)
            else "none matched a recorded strike"
        )
