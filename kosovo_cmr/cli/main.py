"""The ``kcmr`` command: a click group that loads each subcommand lazily.

Each subcommand lives in its own module ``kosovo_cmr/cli/<name>.py`` that defines a
click command called ``command``; :data:`COMMANDS` lists them. Errors raised on purpose
(:class:`kosovo_cmr.errors.KcmrError`) reach the user as one line on stderr and the exit
code of their class; ``-v`` also shows the traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback

import click

from kosovo_cmr._version import __version__
from kosovo_cmr.errors import KcmrError

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
    # issue 18: the priority model
    "prioritise": "prioritise",
}


class CliState:
    """What the group's options set for every subcommand."""

    def __init__(self, store: str | None, verbosity: int):
        self.store_uri = store
        self.verbosity = verbosity

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

    def invoke(self, ctx):
        """Run the subcommand, turning known errors into one line and an exit code."""
        try:
            return super().invoke(ctx)
        except KcmrError as exc:
            _fail(ctx, str(exc), exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            _fail(ctx, "interrupted", 130)
        except Exception as exc:  # an unexpected failure: still one line, exit 70
            _fail(
                ctx,
                f"unexpected error ({type(exc).__name__}): {exc}; rerun with -v and report it",
                70,
            )


def _fail(ctx, message: str, code: int):
    state = ctx.find_object(CliState)
    if state is not None and state.verbosity > 0:
        traceback.print_exc(file=sys.stderr)
    click.echo(f"kcmr: error: {message}", err=True)
    ctx.exit(code)


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

    Data and JSON go to stdout, logging to stderr. Exit codes: 0 success, 1 bad input,
    2 usage error, 3 some features rejected, 4 store error, 5 missing optional
    dependency, 70 unexpected error.
    """
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
