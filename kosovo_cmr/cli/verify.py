"""``kcmr verify``: record the national authority's verification of hazards and releases.

A thin face on :func:`kosovo_cmr.workflows.records.verify`.
"""

from __future__ import annotations

import click

from kosovo_cmr.cli._options import format_option


def _check_day(ctx, param, value):
    if value is None:
        return None
    import pandas as pd

    try:
        return pd.Timestamp(value).date().isoformat()
    except (TypeError, ValueError):
        raise click.BadParameter(f"a date YYYY-MM-DD, got {value!r}") from None


@click.command("verify")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option(
    "--rejected",
    is_flag=True,
    help="Record that the national authority rejected the records (not counted in reports).",
)
@click.option(
    "--pending",
    is_flag=True,
    help="Withdraw a verification: the records are reported again, awaiting verification.",
)
@click.option("--by", "by", metavar="NAME", default=None, help="Who verified, e.g. 'KMAC QA'.")
@click.option(
    "--on",
    "on",
    metavar="DATE",
    default=None,
    callback=_check_day,
    help="The date of the verification (default: today, UTC).",
)
@click.option(
    "--layer",
    type=click.Choice(["hazards", "releases"]),
    default=None,
    help="Where the ids are (default: hazards or releases, wherever each is).",
)
@format_option(["text", "json"], "text")
@click.pass_obj
def command(state, ids, rejected, pending, by, on, layer, fmt):
    """Record that the national authority verified (or rejected) hazards or releases ID...

    The records keep their history: the store keeps each one as it was, and reports
    count a record as verified, pending (reported, awaiting verification) or rejected
    (--rejected; not counted). Each layer is written once, replacing only these records
    (a concurrent writer's features are kept). An id found nowhere is an error and
    nothing is written.
    """
    from kosovo_cmr._json import dumps
    from kosovo_cmr.errors import InputError
    from kosovo_cmr.workflows.records import verify

    if rejected and pending:
        raise InputError("--rejected and --pending exclude each other")
    what = "rejected" if rejected else "reported" if pending else "verified"
    store = state.store(create=False)
    done = verify(store, ids, layer=layer, state=what, on=on, by=by)
    if fmt == "json":
        click.echo(dumps({"store": store.uri, "written": [d.as_dict() for d in done]}, indent=2))
        return
    for d in done:
        click.echo(
            f"{d.layer}: {len(d.ids)} record(s) {what if what != 'reported' else 'pending'}"
            f" ({d.changed} changed, import {d.import_id}): {', '.join(d.ids)}"
        )
