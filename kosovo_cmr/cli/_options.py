"""Options and checks shared by several subcommands, defined once.

Output files
------------
Every command that writes a file checks it with :func:`check_output` (or
:func:`guard_outputs` for several) before any work. The check knows, from the click
context, the store the command uses (``--store``, else the settings' default), the files
it reads (every option declared ``click.Path(exists=True)``, plus any ``sources`` given)
and its other file options, and refuses, whatever ``--overwrite`` says, an output that
resolves through symbolic or hard links to the store or one of its files, to a source,
or to another file option of the same command
(:func:`kosovo_cmr._files.check_outputs`). Files are then written with
:func:`kosovo_cmr.cli._output.emit` or :func:`kosovo_cmr._files.atomic_output`: a
temporary file beside the target, renamed over it.

Filters
-------
A filter value that matches nothing in the data (``--status Active`` when the layer
holds ``active``) is an error naming the values present (:func:`check_filter_value`),
never an empty result with exit code 0.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path

import click

from kosovo_cmr._files import check_outputs, same_file
from kosovo_cmr.errors import InputError

#: ``ctx.meta`` keys shared by the group and the commands: the ``--format`` a command
#: was given, the group's raw arguments, and the outputs already checked.
FORMAT_KEY = "kosovo_cmr.format"
ARGS_KEY = "kosovo_cmr.args"
OUTPUTS_KEY = "kosovo_cmr.outputs"

#: Most values a filter error lists.
MAX_LISTED = 12


def output_option(required: bool = False, help: str = "Write the result to this file."):
    """``-o/--output PATH`` plus ``--overwrite``; the command receives both."""

    def decorator(func):
        func = click.option(
            "--overwrite",
            is_flag=True,
            help="Replace the output file if it exists (never the store or a source).",
        )(func)
        return click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, path_type=Path),
            required=required,
            help=help,
        )(func)

    return decorator


def input_files(ctx: click.Context | None = None) -> list[str]:
    """Return the files a command reads: the values of its ``click.Path(exists=True)``."""
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return []
    files = []
    for param in ctx.command.params:
        if isinstance(param.type, click.Path) and param.type.exists:
            value = ctx.params.get(param.name)
            values = value if isinstance(value, list | tuple) else [value]
            files += [os.fspath(v) for v in values if v is not None]
    return files


def _file_options(ctx: click.Context | None) -> list[tuple[str, str]]:
    """Return (option, value) of every file option that is not an input: the outputs."""
    if ctx is None:
        return []
    found = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if isinstance(param.type, click.Path) and not param.type.exists and value is not None:
            label = max(param.opts, key=len) if param.opts else param.name
            found += [
                (label, os.fspath(v)) for v in (value if isinstance(value, tuple) else [value])
            ]
    return found


def command_store(ctx: click.Context | None = None) -> str | None:
    """Return the store the command uses: ``--store``, else the settings' default."""
    ctx = ctx or click.get_current_context(silent=True)
    state = ctx.find_root().obj if ctx is not None else None
    return getattr(state, "store_location", None)


def guard_outputs(outputs: dict, *, overwrite: bool, sources: Iterable = ()) -> None:
    """Refuse outputs that would destroy the store, a source, or another output.

    Parameters
    ----------
    outputs : dict
        Option label (``"--output"``) -> path; ``None`` paths are skipped.
    overwrite : bool
        Whether existing outputs may be replaced (never the store or a source).
    sources : iterable of path, optional
        Files the command reads besides its ``click.Path(exists=True)`` options.

    Raises
    ------
    kosovo_cmr.errors.InputError
        Naming the output and what it would destroy, or why it cannot be written.
    """
    ctx = click.get_current_context(silent=True)
    earlier = ctx.meta.setdefault(OUTPUTS_KEY, {}) if ctx is not None else {}
    wanted = {label: path for label, path in outputs.items() if path is not None}
    for label, path in wanted.items():
        holders = [name for name, value in _file_options(ctx) if same_file(path, value)]
        if len(set(holders)) > 1:
            raise InputError(f"{holders[0]} and {holders[1]} are the same file ({path})")
        for other_label, other in earlier.items():
            if other_label != label and same_file(path, other):
                raise InputError(f"{label} and {other_label} are the same file ({path})")
    check_outputs(
        wanted,
        overwrite=overwrite,
        store=command_store(ctx),
        sources=[*input_files(ctx), *(os.fspath(s) for s in sources if s is not None)],
    )
    earlier.update(wanted)


def check_output(
    path: str | os.PathLike | None,
    overwrite: bool,
    *,
    label: str = "--output",
    sources: Iterable = (),
) -> None:
    """Check one output file before any work (see :func:`guard_outputs`).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``path`` is the store (or one of its files), a source or another output of
        the command, whatever ``overwrite`` says; if it exists and ``overwrite`` is
        false; or if its folder does not exist or cannot be written.
    """
    guard_outputs({label: path}, overwrite=overwrite, sources=sources)


def check_filter_value(option: str, value, present: Iterable, *, what: str = "feature") -> None:
    """Refuse a filter value that matches nothing in the data, listing the values present.

    Values are compared exactly, as the filter compares them.

    Raises
    ------
    kosovo_cmr.errors.InputError
        ``--status Active: no hazard has this value; the layer holds: active, closed``.

    Examples
    --------
    >>> check_filter_value("--status", "active", ["active", "closed", "active"])
    >>> check_filter_value("--status", "Active", ["active", "closed"], what="hazard")
    Traceback (most recent call last):
    ...
    kosovo_cmr.errors.InputError: --status Active: no hazard has this value; the layer holds: active, closed
    """  # noqa: E501
    values = sorted({str(v) for v in present if v is not None and v == v})
    if str(value) in values:
        return
    shown = ", ".join(values[:MAX_LISTED]) if values else "no value at all"
    if len(values) > MAX_LISTED:
        shown += f" and {len(values) - MAX_LISTED} more"
    raise InputError(f"{option} {value}: no {what} has this value; the layer holds: {shown}")


def boundaries_option(func):
    """``--boundaries PATH``: the municipal boundaries file."""
    return click.option(
        "--boundaries",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help="Municipal boundaries (default: ../shared/data/kosovo-municipalities-2018/"
        "XK_EA_2018.shp, or settings.boundaries_path).",
    )(func)


def _remember_format(ctx, param, value):
    ctx.meta[FORMAT_KEY] = value
    return value


def format_option(choices, default):
    """``--format`` with the given choices (a failure is printed as JSON under ``json``)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        callback=_remember_format,
        is_eager=True,
        help="Output format.",
    )


def format_for_output(fmt: str, output, suffixes: dict[str, str]) -> str:
    """Return the format to write: ``--format`` if given, else the one ``-o`` names.

    ``report -o r.json`` writes JSON, not the default Markdown into a file named .json;
    an explicit ``--format`` always wins.
    """
    ctx = click.get_current_context()
    given = ctx.get_parameter_source("fmt") not in (
        click.core.ParameterSource.DEFAULT,
        click.core.ParameterSource.DEFAULT_MAP,
    )
    if given or output is None:
        return fmt
    inferred = suffixes.get(Path(output).suffix.lower())
    if inferred is not None:
        ctx.meta[FORMAT_KEY] = inferred
    return inferred or fmt


#: Table outputs: the format a ``-o`` suffix names when ``--format`` is not given.
TABLE_SUFFIXES = {".csv": "csv", ".json": "json"}


def format_follows_output(suffixes: dict[str, str] = TABLE_SUFFIXES):
    """Decorate a command so that ``-o FILE.json`` without ``--format`` writes JSON.

    Put it right above the command function (below ``@click.pass_obj``); the command
    takes ``fmt`` and ``output`` keywords. See :func:`format_for_output`.
    """

    def decorate(func):
        @functools.wraps(func)
        def command(*args, **kwargs):
            kwargs["fmt"] = format_for_output(kwargs["fmt"], kwargs.get("output"), suffixes)
            return func(*args, **kwargs)

        return command

    return decorate


def fail(message: str):
    """Raise the error the CLI shows as one line with exit code 1."""
    raise InputError(message)
