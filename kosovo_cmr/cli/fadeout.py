"""``kcmr fadeout``, ``kcmr buffer-impact`` and ``kcmr cha-check``: fade-out areas and rules.

Thin faces on the workflows :func:`kosovo_cmr.workflows.fadeout.clusters_from_store`,
:func:`~kosovo_cmr.workflows.fadeout.impact_from_store` and
:func:`~kosovo_cmr.workflows.fadeout.cha_findings_from_store`, which read the store and run
:func:`kosovo_cmr.analysis.fadeout.delineate`,
:func:`~kosovo_cmr.analysis.fadeout.buffer_impact` and
:func:`kosovo_cmr.analysis.cha_check.cha_consistency`. Layer outputs (``-o``,
``--rings``) are written by :func:`kosovo_cmr.outputs.export.export_layer`: GeoJSON per
RFC 7946, a GeoPackage table named ``clusters``, ``rings`` or ``findings``, a Shapefile
with its field map; tables by :func:`kosovo_cmr.cli._output.emit`. Every file goes via a
temporary file beside it.
"""

from __future__ import annotations

from pathlib import Path

import click

from kosovo_cmr.cli._as_of import as_of_option
from kosovo_cmr.cli._engine import engine_options
from kosovo_cmr.cli._options import (
    boundaries_option,
    format_follows_output,
    format_option,
    guard_outputs,
    output_option,
)
from kosovo_cmr.cli._output import csv_text, emit


def _rule_options(prefix: str = "", label: str = "", default: str | None = None):
    """``--rule`` (or ``--from``/``--to``) and the matching uniform-distance option."""

    def decorator(func):
        func = click.option(
            f"--{prefix}distance" if prefix else "--distance",
            f"{prefix.replace('-', '_')}distance_m",
            type=float,
            default=None,
            metavar="M",
            help=f"A uniform {label}rule: M metres around every evidence point.",
        )(func)
        name = {"from-": "--from", "to-": "--to"}.get(prefix, "--rule")
        return click.option(
            name,
            f"{prefix.replace('-', '_')}rule",
            default=None,
            metavar="NAME|PATH",
            help=f"The {label}fade-out rule: a shipped rule (kosovo-nmas-2024, "
            "kosovo-pre-2024) or a rule file (TOML)."
            + (f" [default: {default}]" if default else ""),
        )(func)

    return decorator


def _rule(name, distance_m, default):
    from kosovo_cmr.analysis.rules import load_rule

    if name is None and distance_m is None:
        name = default
    return load_rule(name, distance_m=distance_m)


#: Layer file suffixes -> export format (:func:`kosovo_cmr.outputs.export.export_layer`).
LAYER_FORMATS = {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".shp": "shp"}


def _layer_format(output: Path | None, label: str = "-o") -> str | None:
    """Return the export format of a layer output, refused before any work if unknown."""
    from kosovo_cmr.errors import InputError

    if output is None:
        return None
    fmt = LAYER_FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot write {label} {output}: use a .gpkg, .geojson or .shp file name")
    return fmt


def _write_layer(gdf, output: Path, *, fmt: str, name: str) -> None:
    """Write a result layer atomically (checked before the work by :func:`guard_outputs`)."""
    from kosovo_cmr.outputs.export import export_layer

    export_layer(gdf, output, fmt=fmt, name=name, overwrite=True)


use_accuracy_option = click.option(
    "--use-accuracy",
    is_flag=True,
    help="Add each point's recorded accuracy_m to its fade-out distance.",
)


@click.command("fadeout")
@_rule_options(default="kosovo-nmas-2024")
@use_accuracy_option
@format_option(["table", "csv", "json"], "table")
@output_option(help="Write the cluster polygons to this file (.gpkg, .geojson, .shp).")
@engine_options
@click.pass_obj
def fadeout_command(
    state, rule, distance_m, use_accuracy, fmt, output, overwrite, engine, scheduler
):
    """Delineate the area to clear: the union of the fade-out disks, per cluster.

    Areas are the exact geodesic area of the union of the true circles (m2), not of the
    drawn polygons. The cluster table goes to stdout; -o writes the polygons.
    """
    from kosovo_cmr._json import dumps
    from kosovo_cmr._text import render_table
    from kosovo_cmr.workflows.fadeout import clusters_from_store

    guard_outputs({"--output": output}, overwrite=overwrite)
    layer_fmt = _layer_format(output)
    chosen = _rule(rule, distance_m, "kosovo-nmas-2024")
    clusters = clusters_from_store(
        state.store(create=False),
        chosen,
        use_accuracy=use_accuracy,
        engine=engine,
        scheduler=scheduler,
    )
    if output is not None:
        _write_layer(clusters, output, fmt=layer_fmt, name="clusters")
        click.echo(f"wrote {output} ({len(clusters)} clusters)", err=True)
    table = clusters.drop(columns="geometry")
    if fmt == "json":
        click.echo(
            dumps(
                {
                    "rule": chosen.name,
                    "clusters": table.to_dict(orient="records"),
                    "area_m2": float(table["area_m2"].sum()),
                }
            )
        )
    elif fmt == "csv":
        click.echo(csv_text(table).rstrip("\n"))
    else:
        shown = table.assign(area_m2=table["area_m2"].map(lambda a: f"{a:,.0f}"))
        click.echo(render_table(shown))
        click.echo(f"{chosen.describe()}; total {table['area_m2'].sum():,.0f} m2")


@click.command("buffer-impact")
@_rule_options("from-", "old ", default="kosovo-pre-2024")
@_rule_options("to-", "new ", default="kosovo-nmas-2024")
@click.option(
    "--by",
    type=click.Choice(["none", "hazard", "municipality", "region"]),
    default="none",
    show_default=True,
    help="Group the table by hazard, municipality or region.",
)
@use_accuracy_option
@format_option(["table", "csv", "json"], "table")
@output_option(help="Write the table (or JSON) to this file instead of stdout.")
@click.option(
    "--rings",
    "rings_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the ring layer (land inside the old area, outside the new) to this "
    "file (.gpkg, .geojson, .shp); --overwrite applies.",
)
@boundaries_option
@engine_options
@as_of_option
# issue 17: the sensitivity of the saving to the reading of the NMAS 2024 rule
@click.option(
    "--readings",
    is_flag=True,
    help="Instead of --to: the saving under each reading of the NMAS 2024 rule (all "
    "BLU-97/BL755 items at 25 m, the default; component parts only at 25 m).",
)
@click.pass_obj
@format_follows_output()
def impact_command(
    state,
    from_rule,
    from_distance_m,
    to_rule,
    to_distance_m,
    by,
    use_accuracy,
    fmt,
    output,
    overwrite,
    rings_path,
    boundaries,
    engine,
    scheduler,
    readings=False,
):
    """Area to clear under two fade-out rules and what the change saves.

    By municipality or region the union is split by overlay with the boundaries (the
    store's boundaries layer, else --boundaries); rows then sum to the total. By hazard
    each hazard's evidence is unioned on its own. The total is the whole union.
    """
    from kosovo_cmr._text import render_table
    from kosovo_cmr.workflows.fadeout import impact_from_store

    guard_outputs({"--output": output, "--rings": rings_path}, overwrite=overwrite)
    if readings:  # issue 17
        return _readings(
            state,
            from_rule,
            from_distance_m,
            to_rule,
            to_distance_m,
            by,
            fmt,
            output,
            rings_path,
            boundaries,
            use_accuracy,
        )
    rings_fmt = _layer_format(rings_path, "--rings")
    old = _rule(from_rule, from_distance_m, "kosovo-pre-2024")
    new = _rule(to_rule, to_distance_m, "kosovo-nmas-2024")
    result = impact_from_store(
        state.store(create=False),
        old,
        new,
        by=by,
        boundaries=boundaries,
        use_accuracy=use_accuracy,
        rings=rings_path is not None,
        engine=engine,
        scheduler=scheduler,
    )
    if fmt == "json":
        text = result.to_json()
    elif fmt == "csv":
        import pandas as pd

        text = csv_text(pd.concat([result.table, pd.DataFrame([result.total])], ignore_index=True))
    else:
        import pandas as pd

        shown = pd.concat([result.table, pd.DataFrame([result.total])], ignore_index=True)
        for col in ("area_from_m2", "area_to_m2", "saved_m2"):
            shown[col] = shown[col].map(lambda a: f"{a:,.0f}")
        shown["saved_pct"] = shown["saved_pct"].map(lambda p: f"{p:.1f}")
        text = f"from {old.describe()}\nto   {new.describe()}\n" + render_table(shown)
    if rings_path is not None:
        _write_layer(result.rings, rings_path, fmt=rings_fmt, name="rings")
        click.echo(f"wrote {rings_path} ({len(result.rings)} rings)", err=True)
    emit(text, output, overwrite=True)


def _readings(
    state,
    from_rule,
    from_distance_m,
    to_rule,
    to_distance_m,
    by,
    fmt,
    output,
    rings_path,
    boundaries,
    use_accuracy,
):
    """``buffer-impact --readings``: the saving under each reading (issue 17)."""
    from kosovo_cmr._json import dumps, plain
    from kosovo_cmr._text import render_table
    from kosovo_cmr.errors import InputError
    from kosovo_cmr.workflows.audit import readings_from_store

    if to_rule is not None or to_distance_m is not None or rings_path is not None:
        raise InputError("--readings compares the shipped readings: give no --to or --rings")
    old = _rule(from_rule, from_distance_m, "kosovo-pre-2024")
    table = readings_from_store(
        state.store(create=False), old, by=by, boundaries=boundaries, use_accuracy=use_accuracy
    )
    if fmt == "json":
        text = dumps({"from": old.name, "by": by, "rows": plain(table.to_dict(orient="records"))})
    elif fmt == "csv":
        text = csv_text(table)
    else:
        shown = table.copy()
        for col in ("area_from_m2", "area_to_m2", "saved_m2"):
            shown[col] = shown[col].map(lambda a: f"{a:,.0f}")
        shown["saved_pct"] = shown["saved_pct"].map(lambda p: f"{p:.1f}")
        text = f"from {old.describe()}\n" + render_table(shown.drop(columns="default"))
    emit(text, output, overwrite=True)  # guarded (and --overwrite checked) before any work


@click.command("cha-check")
@_rule_options(default="kosovo-nmas-2024")
@use_accuracy_option
@click.option(
    "--all-hazards",
    is_flag=True,
    help="Check closed hazards too (default: only status active).",
)
@format_option(["table", "csv", "json"], "table")
@output_option(help="Write the findings with their geometry (.gpkg, .geojson, .shp).")
@click.pass_obj
def cha_command(state, rule, distance_m, use_accuracy, all_hazards, fmt, output, overwrite):
    """List hazards that do not cover their evidence plus fade-out, and stray evidence.

    A hazard is listed when the fade-out disk of one of its own evidence points reaches
    outside its polygon (uncovered_m2 says how much); an evidence point is listed when it
    lies in no checked hazard. Exit code 0 even when there are findings.
    """
    from kosovo_cmr._json import dumps
    from kosovo_cmr._text import render_table
    from kosovo_cmr.workflows.fadeout import cha_findings_from_store

    guard_outputs({"--output": output}, overwrite=overwrite)
    layer_fmt = _layer_format(output)
    chosen = _rule(rule, distance_m, "kosovo-nmas-2024")
    found = cha_findings_from_store(
        state.store(create=False), chosen, all_hazards=all_hazards, use_accuracy=use_accuracy
    )
    if output is not None:
        _write_layer(found, output, fmt=layer_fmt, name="findings")
        click.echo(f"wrote {output} ({len(found)} findings)", err=True)
    table = found.drop(columns="geometry")
    if fmt == "json":
        click.echo(dumps({"rule": chosen.name, "findings": table.to_dict(orient="records")}))
    elif fmt == "csv":
        click.echo(csv_text(table).rstrip("\n"))
    else:
        counts = table["check"].value_counts()
        shown = table.assign(
            uncovered_m2=table["uncovered_m2"].map(lambda a: f"{a:,.1f}"),
            evidence_ids=table["evidence_ids"].map(lambda s: s if len(s) < 40 else s[:39] + "…"),
        )
        click.echo(render_table(shown) if len(shown) else "(no findings)")
        click.echo(
            f"{counts.get('fadeout_outside_hazard', 0)} hazard(s) not covering their "
            f"fade-out, {counts.get('evidence_outside_hazards', 0)} evidence point(s) in no "
            f"hazard ({chosen.name})"
        )
