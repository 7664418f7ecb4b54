"""Options shared by several subcommands, defined once."""

from __future__ import annotations

from pathlib import Path

import click

from kosovo_cmr.errors import InputError


def output_option(required: bool = False, help: str = "Write the result to this file."):
    """``-o/--output PATH`` plus ``--overwrite``; the command receives both."""

    def decorator(func):
        func = click.option(
            "--overwrite", is_flag=True, help="Replace the output file if it exists."
        )(func)
        return click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, path_type=Path),
            required=required,
            help=help,
        )(func)

    return decorator


def check_output(path: Path | None, overwrite: bool) -> None:
    """Refuse to overwrite an existing output unless ``--overwrite`` was given.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``path`` exists and ``overwrite`` is false, or its folder does not exist.
    """
    if path is None:
        return
    if path.exists() and not overwrite:
        raise InputError(f"{path} exists; pass --overwrite to replace it")
    if not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist")


def boundaries_option(func):
    """``--boundaries PATH``: the municipal boundaries file."""
    return click.option(
        "--boundaries",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help="Municipal boundaries (default: ../shared/data/kosovo-municipalities-2018/"
        "XK_EA_2018.shp, or settings.boundaries_path).",
    )(func)


def format_option(choices, default):
    """``--format`` with the given choices."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def fail(message: str):
    """Raise the error the CLI shows as one line with exit code 1."""
    raise InputError(message)
