"""``--engine`` and ``--scheduler``: where the analysis commands run."""

from __future__ import annotations

import click


def engine_options(func):
    """Add ``--engine {local,dask}`` and ``--scheduler ADDRESS``; the command gets both."""
    func = click.option(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="With --engine dask: threads (default), processes, local (a local dask "
        "cluster), or a dask scheduler address such as tcp://10.0.0.5:8786, which "
        "needs KCMR_DASK_SPILL_DIR on a file system all its workers share "
        "(default: settings.dask_scheduler, KCMR_DASK_SCHEDULER).",
    )(func)
    return click.option(
        "--engine",
        type=click.Choice(["local", "dask"]),
        default="local",
        show_default=True,
        help="local: one process; dask: spatial partitions in parallel (dask-geopandas), "
        "for millions of points. Same results.",
    )(func)
