"""``kcmr overlay``: hazards against boundaries, in the shape of the report's Table 1."""

from __future__ import annotations

import click

from kosovo_cmr.cli._as_of import as_of_option
from kosovo_cmr.cli._engine import engine_options
from kosovo_cmr.cli._options import (
    boundaries_option,
    check_output,
    format_follows_output,
    format_option,
    output_option,
)
from kosovo_cmr.cli._output import csv_text, emit


@click.command("overlay")
@click.option(
    "--by",
    type=click.Choice(["region", "municipality"]),
    default="region",
    show_default=True,
    help="The units: KMAC regions or municipalities.",
)
@click.option(
    "--date",
    "on_date",
    metavar="YYYY-MM-DD",
    default=None,
    help="Count the hazards open on this day (default: those with status active).",
)
@format_option(["table", "json", "csv"], "table")
@output_option()
@boundaries_option
@engine_options
@as_of_option
@click.pass_obj
@format_follows_output()
def command(state, by, on_date, fmt, output, overwrite, boundaries, engine, scheduler):
    """Count and measure the CHAs and SHAs per region or municipality.

    Areas are geodesic (m2). A hazard straddling a boundary has its area split exactly
    between the units; its count goes to the unit holding its largest share. Boundaries
    come from the store's boundaries layer, else from --boundaries.
    """
    import pandas as pd

    from kosovo_cmr._json import dumps
    from kosovo_cmr._text import render_table
    from kosovo_cmr.errors import InputError
    from kosovo_cmr.workflows.fadeout import contamination_from_store

    check_output(output, overwrite)
    if on_date is not None:
        try:
            day = pd.Timestamp(on_date)
        except ValueError:
            raise InputError(f"--date must be YYYY-MM-DD, got {on_date!r}") from None
    else:
        day = None
    table = contamination_from_store(
        state.store(create=False),
        by=by,
        date=day,
        boundaries=boundaries,
        engine=engine,
        scheduler=scheduler,
    )
    name = table.columns[0]
    if fmt == "json":
        text = dumps({"by": by, "date": on_date, "rows": table.to_dict(orient="records")})
    elif fmt == "csv":
        text = csv_text(table)
    else:
        shown = table.copy()
        total = {c: shown[c].sum() for c in shown.columns if c != name}
        shown = pd.concat([shown, pd.DataFrame([{name: "Totals", **total}])], ignore_index=True)
        for col in shown.columns:
            if col.endswith("_m2"):
                shown[col] = shown[col].map(lambda a: f"{a:,.0f}")
        text = render_table(shown)
    emit(text, output, overwrite=True)
