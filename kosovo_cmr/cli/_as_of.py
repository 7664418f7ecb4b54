"""``--as-of DATE``: run a reading command on the store as it was at the end of a day.

One decorator line per command, placed above ``@click.pass_obj``::

    @click.command("report")
    ...
    @as_of_option
    @click.pass_obj
    def command(state, ...):
        store = state.store(create=False)   # the view as of DATE when --as-of is given

The option is parsed (and a bad date refused, exit 2) before any work; when it is given,
the command's ``state.store()`` returns :meth:`kosovo_cmr.store.Store.as_of` of the
store, a read-only view of the layers as they were at the end of that day (UTC).
"""

from __future__ import annotations

import functools

import click

__all__ = ["as_of_option", "AsOfState"]


class AsOfState:
    """The command-line state with :meth:`store` answering as of a date."""

    def __init__(self, state, as_of: str):
        self._state = state
        self.as_of = as_of

    def __getattr__(self, name):
        return getattr(self._state, name)

    def store(self, *, create: bool = False):
        """Open the store, then its read-only view as of the date."""
        return self._state.store(create=False).as_of(self.as_of)


def _check(ctx, param, value):
    if value is None:
        return None
    from kosovo_cmr.errors import InputError
    from kosovo_cmr.store.versions import end_of_day

    try:
        end_of_day(value)
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def as_of_option(func):
    """Add ``--as-of DATE`` to a command (see the module notes)."""

    @functools.wraps(func)
    def wrapper(*args, as_of=None, **kwargs):
        if as_of is not None:
            ctx = click.get_current_context()
            ctx.obj = AsOfState(ctx.obj, as_of)
        return func(*args, **kwargs)

    return click.option(
        "--as-of",
        "as_of",
        metavar="DATE",
        default=None,
        callback=_check,
        help="Use the layers as they were at the end of DATE (YYYY-MM-DD, UTC), from the "
        "store's history.",
    )(wrapper)
