"""``kcmr history`` and ``kcmr diff``: what the store's history says.

Thin faces on :func:`kosovo_cmr.store.history.feature_history` and
:func:`kosovo_cmr.store.history.diff`.
"""

from __future__ import annotations

import click

from kosovo_cmr.cli._options import format_option
from kosovo_cmr.schema import LAYERS


def _text(frame, columns) -> str:
    from kosovo_cmr._text import render_table

    shown = frame[list(columns)].copy()
    for col in shown.columns:
        if col.endswith("_m2"):
            shown[col] = shown[col].map(lambda a: "" if a is None or a != a else f"{a:,.0f}")
        elif col in ("valid_from", "valid_to"):
            shown[col] = shown[col].map(
                lambda t: "" if t is None or t != t else f"{t:%Y-%m-%d %H:%M}"
            )
    return render_table(shown)


def _json(payload) -> str:
    from kosovo_cmr._json import dumps

    return dumps(payload, indent=2)


@click.command("history")
@click.argument("feature_id", metavar="ID")
@click.option("--layer", type=click.Choice(LAYERS), default=None, help="The layer of ID.")
@format_option(["table", "json"], "table")
@click.pass_obj
def history_command(state, feature_id, layer, fmt):
    """Show every version of feature ID, with its area change and the import that made it.

    Versions are listed oldest first: when each became current (valid_from, UTC) and
    when a later import changed or removed it (valid_to), its geodesic area and the
    change from the version before (m2), the attributes that changed, and the import
    (number, mode, source file, user).
    """
    from kosovo_cmr.store.history import feature_history

    store = state.store(create=False)
    frame = feature_history(store, feature_id, layer=layer)
    if fmt == "json":
        click.echo(
            _json({"store": store.uri, "id": feature_id, "versions": frame.to_dict("records")})
        )
        return
    click.echo(
        _text(
            frame,
            (
                "layer",
                "version_id",
                "valid_from",
                "valid_to",
                "area_m2",
                "area_change_m2",
                "changed_columns",
                "import_id",
                "mode",
                "source",
            ),
        )  # fmt: skip
    )


@click.command("diff")
@click.option("--since", metavar="DATE", default=None, help="From the end of this day (UTC).")
@click.option(
    "--until", metavar="DATE", default=None, help="To the end of this day (default: now)."
)
@click.option(
    "--from", "from_import", type=int, default=None, metavar="IMPORT",
    help="From the state after this import (a number of `kcmr info`'s imports).",
)  # fmt: skip
@click.option(
    "--to", "to_import", type=int, default=None, metavar="IMPORT",
    help="To the state after this import (default: the latest).",
)  # fmt: skip
@click.option("--layer", type=click.Choice(LAYERS), default=None, help="Only this layer.")
@format_option(["table", "json"], "table")
@click.pass_obj
def diff_command(state, since, until, from_import, to_import, layer, fmt):
    """List the features added, removed and changed between two states of the store.

    Either between the ends of two days (--since, and --until or now) or between the
    states after two imports (--from, and --to or the latest). Areas are geodesic m2;
    area_delta_m2 is after minus before.
    """
    from kosovo_cmr.store.history import diff

    store = state.store(create=False)
    frame = diff(
        store,
        since=since,
        until=until,
        from_import=from_import,
        to_import=to_import,
        layer=layer,
    )
    if fmt == "json":
        bounds = {"since": since, "until": until, "from": from_import, "to": to_import}
        click.echo(_json({"store": store.uri, **bounds, "changes": frame.to_dict("records")}))
        return
    if frame.empty:
        click.echo("no changes")
        return
    click.echo(
        _text(
            frame,
            (
                "layer",
                "id",
                "change",
                "area_before_m2",
                "area_after_m2",
                "area_delta_m2",
                "changed_columns",
            ),
        )  # fmt: skip
    )
    counts = frame["change"].value_counts()
    summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("added", "changed", "removed"))
    click.echo(f"{summary}; net area change {frame['area_delta_m2'].sum(min_count=1):,.0f} m2")
