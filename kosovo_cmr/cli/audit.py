"""``kcmr audit``: the evidence behind every hazard."""

from __future__ import annotations

from pathlib import Path

import click

from kosovo_cmr.cli._options import format_option


@click.command("audit")
@click.option(
    "--rule", default=None, metavar="NAME|PATH", help="Fade-out rule. [default: kosovo-nmas-2024]"
)
@click.option(
    "--footprints",
    type=click.Choice(["both", "recorded", "inferred", "none"]),
    default="both",
    show_default=True,
    help="Strike footprints (plus fade-out) that count as support.",
)
@click.option(
    "--as-of",
    default=None,
    metavar="DATE",
    help="The day the audit speaks for (default today), for the age of the evidence.",
)
@click.option(
    "--old-years",
    type=float,
    default=10.0,
    show_default=True,
    help="Evidence older than this is flagged (an assumption: no standard sets it).",
)
@click.option(
    "--poor-accuracy",
    "poor_accuracy_m",
    type=float,
    default=10.0,
    show_default=True,
    help="A recorded accuracy worse than this many metres is flagged.",
)
@click.option(
    "--use-accuracy",
    is_flag=True,
    help="Add each point's recorded accuracy_m to its fade-out distance.",
)
@click.option("--all-hazards", is_flag=True, help="Audit closed hazards too.")
@format_option(["table", "json"], "table")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the unsupported parts of the hazards to this .gpkg or .geojson file.",
)
@click.option("--overwrite", is_flag=True, help="Replace the output file if it exists.")
@click.pass_obj
def command(
    state,
    rule,
    footprints,
    as_of,
    old_years,
    poor_accuracy_m,
    use_accuracy,
    all_hazards,
    fmt,
    output,
    overwrite,
):
    """Per active hazard, the area evidence supports and the area none does.

    Supported: within the fade-out of an evidence point, or within a strike footprint
    (recorded or inferred) plus fade-out. Unsupported: the rest, a candidate for
    reduction by technical survey. Also: evidence outside every CHA (a new or extended
    hazard?), old evidence, poor or unknown accuracy, hazards with no evidence. Areas are
    geodesic m2; supported_m2 + unsupported_m2 = area_m2 (closure_m2 is the gap).
    """
    from kosovo_cmr._text import render_table
    from kosovo_cmr.cli._options import check_output
    from kosovo_cmr.cli.strikes import write_layer
    from kosovo_cmr.workflows.audit import audit_from_store

    check_output(output, overwrite)  # the one guard: never the store, a source, or twice
    store = state.store(create=False)
    result = audit_from_store(
        store,
        all_hazards=all_hazards,
        rule=rule,
        footprints=footprints,
        as_of=as_of,
        old_after_years=old_years,
        poor_accuracy_m=poor_accuracy_m,
        use_accuracy=use_accuracy,
    )
    if output is not None:
        write_layer(result.unsupported, output, overwrite=overwrite, layer="unsupported_land")
        click.echo(f"wrote {output} ({len(result.unsupported)} unsupported parts)", err=True)
    if fmt == "json":
        click.echo(result.to_json())
        return
    cols = [
        "hazard_id",
        "kind",
        "area_m2",
        "supported_m2",
        "unsupported_m2",
        "unsupported_pct",
        "evidence",
        "evidence_outside",
        "flags",
    ]
    shown = result.hazards[cols].copy()
    for col in ("area_m2", "supported_m2", "unsupported_m2"):
        shown[col] = shown[col].map(lambda a: f"{a:,.0f}")
    shown["unsupported_pct"] = shown["unsupported_pct"].map(lambda p: f"{p:.1f}")
    click.echo(render_table(shown))
    s = result.summary
    click.echo(
        f"{s['hazards']} hazards, {s['area_m2']:,.0f} m2: {s['unsupported_m2']:,.0f} m2 "
        f"({s['unsupported_pct']:.1f} %) supported by no evidence; "
        f"{s['hazards_without_evidence']} hazard(s) without evidence; "
        f"{s['evidence_outside']} evidence point(s) outside every hazard and release"
    )
