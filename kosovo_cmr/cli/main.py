"""The ``kcmr`` command: a click group that loads each subcommand lazily.

Each subcommand lives in its own module ``kosovo_cmr/cli/<name>.py`` that defines a
click command called ``command``; :data:`COMMANDS` lists them. Errors raised on purpose
(:class:`kosovo_cmr.errors.KcmrError`) reach the user as one line on stderr and the exit
code of their class; ``-v`` also shows the traceback. Every other failure gets its code
from :func:`kosovo_cmr.errors.describe` (a store on a read-only disk: 4, a full disk: 4,
an unreadable file: 1, a defect: 70). When the command was asked for JSON
(``--format json``) the failure is also printed on stdout as one JSON object
(:meth:`kosovo_cmr.errors.Failure.as_dict`).
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback

import click

from kosovo_cmr._json import dumps
from kosovo_cmr._version import __version__
from kosovo_cmr.cli._options import ARGS_KEY, FORMAT_KEY
from kosovo_cmr.errors import Failure, describe

#: Subcommand name -> module under kosovo_cmr.cli that defines ``command`` (or
#: ``"module:attribute"`` for a module that defines several commands).
COMMANDS: dict[str, str] = {
    "info": "info",
    "demo": "demo",
    "store": "store",
    "overlay": "overlay",
    "report": "report",
    "import": "importing:import_command",
    "validate": "importing:validate_command",
    "map": "map",
    "fieldmap": "fieldmap",
    "export": "export",
    "terrain": "terrain",
    "rasterize": "terrain:rasterize_command",
    "forecast": "forecast",
    "fadeout": "fadeout:fadeout_command",
    "buffer-impact": "fadeout:impact_command",
    "cha-check": "fadeout:cha_command",
    # issue 15: the store's history (cli/history.py)
    "history": "history:history_command",
    "diff": "history:diff_command",
    # issue 17: the evidence behind every CHA
    "strikes": "strikes",
    "audit": "audit",
    # issue 18: the priority model
    "prioritise": "prioritise",
    # issue 15: the programme's records
    "verify": "verify",
    # issue 16: the QGIS plugin and styles (cli/qgis.py)
    "qgis": "qgis",
}


class CliState:
    """What the group's options set for every subcommand."""

    def __init__(self, store: str | None, verbosity: int):
        self.store_uri = store
        self.verbosity = verbosity

    @property
    def store_location(self) -> str:
        """The store's path or URL: ``--store``, else :data:`kosovo_cmr.settings.store_path`."""
        from kosovo_cmr import settings

        return self.store_uri if self.store_uri is not None else settings.store_path

    def store(self, *, create: bool = False):
        """Open the store named by ``--store`` (or the settings' default)."""
        from kosovo_cmr.store import open_store

        return open_store(self.store_uri, create=create)


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used, and errors made one line."""

    def list_commands(self, ctx):
        """Return the subcommand names, sorted."""
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        """Import and return the subcommand ``name``."""
        module = COMMANDS.get(name)
        if module is None:
            return None
        module, _, attr = module.partition(":")
        return getattr(importlib.import_module(f"kosovo_cmr.cli.{module}"), attr or "command")

    def parse_args(self, ctx, args):
        """Remember the arguments, so that a usage error can be told in JSON when asked."""
        ctx.meta[ARGS_KEY] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        """Run the subcommand, turning every failure into one line and its exit code."""
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException as exc:  # usage errors: click prints them, exit 2
            if _wants_json(ctx):
                kind = "UsageError" if isinstance(exc, click.UsageError) else "InputError"
                failure = Failure(exc.exit_code, kind, exc.format_message())
                click.echo(dumps(failure.as_dict(), indent=None))
            raise
        except click.Abort:
            raise
        except (Exception, KeyboardInterrupt) as exc:
            state = ctx.find_object(CliState)
            _fail(ctx, describe(exc, store=state.store_location if state else None))


def _wants_json(ctx) -> bool:
    """Whether the command was asked for JSON (``--format json``)."""
    if FORMAT_KEY in ctx.meta:
        return ctx.meta[FORMAT_KEY] == "json"
    args = ctx.meta.get(ARGS_KEY, [])
    pairs = zip(args, [*args[1:], None], strict=True)
    return any(a == "--format=json" or (a == "--format" and b == "json") for a, b in pairs)


def _fail(ctx, failure: Failure):
    state = ctx.find_object(CliState)
    if state is not None and state.verbosity > 0:
        traceback.print_exc(file=sys.stderr)
        if failure.detail:
            click.echo(f"kcmr: the whole message: {failure.detail}", err=True)
    if _wants_json(ctx):
        click.echo(dumps(failure.as_dict(), indent=None))
    click.echo(f"kcmr: error: {failure.message}", err=True)
    ctx.exit(failure.code)


def _versions(ctx, param, value):
    if not value or ctx.resilient_parsing:
        return
    import pyogrio
    import pyproj
    import shapely

    click.echo(f"kcmr {__version__}")
    click.echo(f"GDAL {pyogrio.__gdal_version_string__}")
    click.echo(f"GEOS {shapely.geos_version_string}")
    click.echo(f"PROJ {pyproj.proj_version_str}")
    click.echo(f"Python {sys.version.split()[0]}")
    ctx.exit(0)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_versions,
    help="Show the versions of kcmr, GDAL, GEOS and PROJ, and exit.",
)
@click.option(
    "--store",
    metavar="PATH|URL",
    default=None,
    help="The layer store: a GeoPackage path or a postgresql:// URL (default: ./kcmr.gpkg, "
    "or settings.store_path).",
)
@click.option("-v", "--verbose", count=True, help="More logging on stderr (repeat for more).")
@click.option("-q", "--quiet", count=True, help="Less logging on stderr.")
@click.pass_context
def cli(ctx, store, verbose, quiet):
    """GIS for the survey and clearance of cluster munition remnants in Kosovo.

    Data and JSON go to stdout, logging to stderr. Errors are one line on stderr (the
    traceback with -v); with --format json a failure is also one JSON object on stdout:
    {"error": {"code", "class", "message"}, "exit_code"}.

    \b
    Exit codes:
      0  success
      1  bad input: a file could not be read or is not valid, or could not be opened
      2  usage error: a bad option or argument
      3  some features were rejected (see the rejects file)
      4  store error: the store could not be opened, read or written, or the disk is full
      5  an optional dependency is missing
     70  unexpected error: rerun with -v and report it
    130  interrupted
    """  # noqa: D301 (click's \b keeps the exit code lines as they are)
    verbosity = verbose - quiet
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(
        max(-1, min(verbosity, 2)), logging.DEBUG
    )
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s", force=True
    )
    logging.captureWarnings(True)
    ctx.obj = CliState(store, verbosity)


def main(argv=None):
    """Run the ``kcmr`` command (console-script entry point)."""
    return cli.main(args=argv, prog_name="kcmr")
