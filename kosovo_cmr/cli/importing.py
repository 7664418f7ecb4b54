"""``kcmr import`` and ``kcmr validate``: thin faces on :mod:`kosovo_cmr.importer`.

Each command passes its options to :func:`~kosovo_cmr.importer.import_layer` (or
:func:`~kosovo_cmr.importer.validate_source`) as they are, and prints the report.

Exit codes: 0 every feature imported (repairs included), 3 some features rejected (see
the rejects file), 2 usage error, 1 unreadable source or refused import (nothing
written), 4 store error (a read-only store or folder included). With ``--format json``
every failure also prints one JSON object ``{"error": ..., "exit_code": ...}``.
"""

from __future__ import annotations

import sys

import click

from kosovo_cmr._json import dumps
from kosovo_cmr.cli._options import format_option
from kosovo_cmr.schema import LAYERS

#: Exit code when some features were rejected.
EXIT_REJECTED = 3


#: The options every command that reads a source shares (import, validate).
_SOURCE_OPTIONS = [
    click.argument("src", type=click.Path()),  # issue 16: a .gdb is a folder
    click.option(
        "--layer",
        "layer",
        type=click.Choice(LAYERS),
        required=True,
        help="The store layer the features are for.",
    ),
    click.option(
        "--src-layer",
        default=None,
        help="Layer of a GeoPackage/KML/GPX/zip, or sheet of a workbook.",
    ),
    click.option(
        "--crs",
        default=None,
        help="CRS of a source without one (CSV X/Y or WKT), e.g. EPSG:4326; "
        "overrides a file's own with a notice.",
    ),
    click.option(
        "--encoding",
        default=None,
        help="Text encoding (overrides .cpg and detection by content).",
    ),
    click.option(
        "--map-fields",
        "map_fields",
        default=None,
        metavar="SRC=DST,...",
        help="Rename source columns to layer columns; unmapped columns are kept.",
    ),
    click.option(
        "--repair/--no-repair",
        default=True,
        show_default=True,
        help="Mend invalid polygons (make_valid structure) or reject them.",
    ),
    click.option(
        "--on-conflict",
        type=click.Choice(["error", "skip", "replace"]),
        default="error",
        show_default=True,
        help="Ids repeated in the source or already in the store.",
    ),
    click.option(
        "--bearing",
        type=click.Choice(["grid", "true", "magnetic"]),
        default="true",
        show_default=True,
        help="Reference of turning-point bearings.",
    ),
    click.option(
        "--declination",
        "declination_deg",
        type=float,
        default=None,
        help="Magnetic declination in degrees, east positive (with --bearing magnetic).",
    ),
    click.option(
        "--max-misclosure",
        "max_misclosure_m",
        type=float,
        default=None,
        help="Traverse misclosure tolerance, metres (default: settings).",
    ),
    format_option(["text", "json"], "text"),
    click.option(  # issue 15
        "--set",
        "set_items",
        multiple=True,
        metavar="FIELD=VALUE",
        help="Give every feature this value of a layer column the source lacks (e.g. "
        "--set recorded=2024-12-31), or fill its empty cells; repeatable; reported in "
        "the summary.",
    ),
]


_SOURCE_OPTIONS.append(  # issue 16
    click.option(
        "--mapping",
        default=None,
        metavar="NAME|FILE",
        help="A field mapping file (TOML), or a shipped one: imsma_core, survey123, "
        "kobotoolbox; --map-fields wins over it.",
    )
)


def _source_options(func):
    """Decorate ``func`` with :data:`_SOURCE_OPTIONS`."""
    for option in reversed(_SOURCE_OPTIONS):
        func = option(func)
    return func


def _report(fmt: str, make_report, make_qa=None) -> None:
    """Print the report of ``make_report()`` (and the QA of ``make_qa()``); exit 3 on rejects.

    A failure propagates: the ``kcmr`` group prints it (as JSON with ``--format json``).
    """
    report = make_report()
    result = make_qa() if make_qa is not None else None  # issue 16
    if fmt == "json":
        extra = {"qa": result.to_dict()} if result is not None else {}
        click.echo(dumps({**report.as_dict(), **extra}, indent=None))
    else:
        click.echo(report.summary())
        if result is not None:
            click.echo(result.summary())
    if report.rejected:
        sys.exit(EXIT_REJECTED)


@click.command("import")
@_source_options
@click.option(
    "--mode",
    type=click.Choice(["append", "replace"]),
    default="append",
    show_default=True,
    help="Add to the layer, or replace the whole layer.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False),
    default=None,
    help="Rejects file (.gpkg, or .geojson plus .csv); default SRC.rejects-TIME.gpkg "
    "beside the store, written only if a feature is rejected or repaired; never the "
    "store or the source.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing --rejects file.")
@click.option(  # issue 15
    "--valid-from",
    "valid_from",
    metavar="DATE",
    default=None,
    help="When the imported state became true, for the store's history (default: now); "
    "load an archive oldest first. A date before the layer's latest version is refused.",
)
@click.pass_obj
def import_command(state, src, layer, map_fields, fmt, set_items=(), **options):
    """Import SRC into a layer of the store, accounting for every feature.

    Reads GeoPackage, Shapefile (also zipped), GeoJSON, KML/KMZ, GPX, FlatGeobuf, CSV
    (WKT, X/Y or MGRS columns), IMSMA turning-point tables (CSV, XLSX) and File
    Geodatabases (.gdb, also zipped). Prints read = imported + rejected, the reason
    codes, and where the rejects went, then the QA findings of the source with their
    locations (see kcmr validate). The store is written once, atomically, or not at all.
    """
    from kosovo_cmr.import_set import parse_set
    from kosovo_cmr.importer import import_layer, parse_field_map

    _report(fmt, lambda: import_layer(
        src, layer, store=state.store(create=True), field_map=parse_field_map(map_fields),
        progress=sys.stderr.isatty(), set_values=parse_set(set_items), **options,
    ), lambda: _import_qa(src, layer, parse_field_map(map_fields), options))  # fmt: skip


# --- issue 16: validate runs the geocheck-grade QA and writes its findings -----------------

#: The options of import and validate that say how to read the source (for the QA).
_READ_OPTIONS = (
    "src_layer", "crs", "encoding", "bearing", "declination_deg", "max_misclosure_m", "mapping",
)  # fmt: skip


def _import_qa(src, layer, field_map, options):
    """Return the QA of an imported source, or ``None`` (with a warning) if it cannot run.

    The import is done when this runs: a QA failure must not look like a failed import.
    """
    import logging

    from kosovo_cmr.import_qa import check_source

    try:
        read = {k: options[k] for k in _READ_OPTIONS}
        return check_source(src, layer, field_map=field_map, **read)
    except Exception as exc:  # reported; the import stands
        logging.getLogger("kosovo_cmr.qa").warning(
            "QA of %s not run (%s); kcmr validate runs it alone", src, exc
        )
        return None


def _validate_options(func):
    """:data:`_SOURCE_OPTIONS`, ``--format`` also offering ``gpkg``, and the QA options."""
    from kosovo_cmr.cli._options import output_option

    func = output_option(
        help="Write the QA findings here: a GeoPackage with --format gpkg (required), a "
        "GeoJSON file with --format json (optional)."
    )(func)
    func = click.option(
        "--max-segment",
        "max_segment_m",
        type=float,
        default=None,
        help="Report consecutive vertices farther apart than this, metres (default: "
        "settings.qa_max_segment_m, 5000 as GICHD geocheck).",
    )(func)
    func = _source_options(func)
    for param in func.__click_params__:
        if param.name == "fmt":
            param.type = click.Choice(["text", "json", "gpkg"])
            param.help = "Output format: gpkg writes the QA findings to --output."
    return func


@click.command("validate")
@_validate_options
@click.pass_obj
def validate_command(
    state, src, layer, map_fields, fmt, output, overwrite, max_segment_m, set_items=(),
    **options,
):  # fmt: skip
    """Check SRC as `kcmr import` would, and write nothing to the store (a dry run).

    Ids are checked against the store when it exists; ids already there are reported
    as id_in_store. Then every geocheck-grade check (kosovo_cmr.qa) runs on the
    features as read, and each finding is printed with its location (an invalid
    polygon's point, a spike's vertex, an overlap's area). With --format gpkg (and
    --output) the findings are written as points, lines and areas a GIS officer opens;
    --format json prints them as GeoJSON. Exit code 0 if every feature would be
    imported, 3 otherwise (QA findings alone do not change it).
    """
    from kosovo_cmr.import_qa import check_source
    from kosovo_cmr.import_set import parse_set
    from kosovo_cmr.importer import parse_field_map, validate_source
    from kosovo_cmr.outputs.qa_findings import write_findings

    if fmt == "gpkg" and output is None:
        raise click.UsageError("--format gpkg writes the findings to a file: pass --output")
    field_map = parse_field_map(map_fields)
    report = validate_source(
        src, layer, store=state.store_uri, field_map=field_map,
        progress=sys.stderr.isatty(), set_values=parse_set(set_items), **options,
    )  # fmt: skip
    read = {k: options[k] for k in _READ_OPTIONS}
    result = check_source(src, layer, field_map=field_map, max_segment_m=max_segment_m, **read)
    if output is not None:
        write_findings(result, output, overwrite=overwrite)
    if fmt == "json":
        click.echo(dumps({**report.as_dict(), "qa": result.to_dict()}, indent=None))
    else:
        click.echo(report.summary())
        click.echo(result.summary())
        if output is not None:
            click.echo(f"QA findings written to {output}")
    if report.rejected:
        sys.exit(EXIT_REJECTED)
