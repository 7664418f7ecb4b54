"""Analysis engines: the same fade-out and overlay results, on one core or many.

The analyses that can run on partitions take ``engine="local" | "dask"`` as a keyword:
:func:`kosovo_cmr.analysis.fadeout.delineate`,
:func:`kosovo_cmr.analysis.fadeout.buffer_impact` and
:func:`kosovo_cmr.analysis.overlay.contamination_by_unit`. Each checks it with
:func:`check_engine` and, for ``"dask"``, runs through this module's :func:`map_clusters`
or :func:`map_spatial`: the one door to the dask implementation (the private modules
``_dask``, ``_spill`` and ``_halo`` beside it).

``engine="local"`` runs the analysis in this process. ``engine="dask"`` partitions the
data in space with dask-geopandas and runs the very same local code on each partition,
in parallel, with the data spread over the workers' memory, on the cores of this
machine or, unchanged, on a dask distributed cluster (``scheduler="tcp://host:8786"``).
The results equal the local engine's: areas to within floating point (far inside
0.01 %), counts exactly.

How the evidence is partitioned
-------------------------------
The fade-out area of a point depends on every point whose disk touches its own, so a
partition may only be measured alone if it holds *whole clusters*. The dask engine

1. reads the input in chunks (an in-memory GeoDataFrame, or an iterable of chunks, is
   first written to the working folder chunk by chunk; a dask-geopandas frame, e.g.
   from ``read_parquet``, is read by the workers, partition by partition) and gives
   each point metric x, y, its distance and a Z-order (Morton) key on the national
   grid;
2. splits the points into spatially compact partitions by ranges of that key, chosen
   from a sample of the keys so that the partitions are of equal size, each chunk
   writing its points of each partition to the working folder (a shuffle on disk);
3. gives each partition a *halo*: the points of the other partitions in the squares of
   a grid, as wide as twice the largest fade-out distance (the farthest two disks can
   be and still touch), next to or under one of its own points, a strip along its
   points rather than its bounding box (a Z-order partition's box can hold more points
   of other partitions than of its own);
4. finds the connected clusters of each partition with its halo (points closer than
   twice the largest distance, read off the Delaunay triangulation, so O(n log n);
   such clusters may join more disks than touch, never fewer), and joins clusters
   that share a halo point across partitions (a union-find over a small table of
   links, the only data gathered on the client);
5. assembles each partition with the few clusters that cross into it from another
   (so that every partition holds whole clusters) and runs
   the local :func:`~kosovo_cmr.analysis.fadeout.delineate` or
   :func:`~kosovo_cmr.analysis.fadeout.buffer_impact` on it, in the same task, then adds
   the results up.

The fade-out areas of different clusters do not overlap, so areas add up exactly: by
hazard, municipality, region or in total. For a rule change the clusters are found
with the larger of the two distances of each point, so they are whole under both rules.

Hazard overlays (:func:`~kosovo_cmr.analysis.overlay.contamination_by_unit`) partition
the hazards in space too (dask-geopandas' Hilbert shuffle, in memory: hazards number
thousands, not millions); each hazard is measured in one partition against all the
boundaries, so the tables add up exactly too.

Memory
------
No step keeps points in memory for a later one: the points travel between the steps
only through the working folder (:data:`kosovo_cmr.settings.dask_spill_dir`,
``KCMR_DASK_SPILL_DIR``, by default the system's temporary folder; a fresh sub-folder
removed afterwards, which holds the evidence at most about twice over while the
engine runs), and every task reads only what it needs: one input chunk, or one
partition with its neighbours' halo strips, or one partition and, one at a time, the
partitions that send it a cluster. A worker's memory therefore follows the partition
size, not the number of points: :func:`points_per_partition` chooses it from a worker
memory budget (:data:`kosovo_cmr.settings.dask_worker_memory`,
``KCMR_DASK_WORKER_MEMORY``; 250,000 points without one), and ``npartitions=`` sets it
directly. The driving process holds no points when given a dask-geopandas frame, one
chunk at a time when given an iterable of chunks (such as
:meth:`kosovo_cmr.store.base.Store.read_chunks` yields; the ``kcmr`` commands read the
store so with ``--engine dask``), and, given an in-memory GeoDataFrame, that frame (the
caller's), which it writes out one chunk at a time.

Where it runs
-------------
``scheduler=None`` (or ``"threads"``) uses dask's threads in this process;
``"processes"`` and ``"synchronous"`` its other local schedulers; ``"local"`` starts a
:class:`distributed.LocalCluster` with ``workers`` processes; any other value is the
address of a running dask scheduler (``tcp://10.0.0.5:8786``) to which a
:class:`distributed.Client` connects, and then the working folder must be one that the
client and every worker read and write (a shared file system; there is no default). The
default scheduler comes from :data:`kosovo_cmr.settings.dask_scheduler`
(``KCMR_DASK_SCHEDULER``).
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr.analysis._dask import (
    is_dask_frame,
    iter_chunks,
    memory_bytes,
    on_partitions,
    on_spatial_partitions,
)
from kosovo_cmr.analysis._union import metric_points
from kosovo_cmr.errors import InputError

__all__ = [
    "ENGINES",
    "check_engine",
    "points_per_partition",
    "collect",
    "map_clusters",
    "map_spatial",
    "cluster_labels",
]

#: The engines every analysis with an ``engine=`` keyword accepts.
ENGINES = ("local", "dask")

#: Default (and largest) number of evidence points per dask partition.
POINTS_PER_PARTITION = 250_000

#: Fewest evidence points per dask partition, however small the memory budget.
MIN_POINTS_PER_PARTITION = 10_000

#: Memory of one partition while it is measured, in bytes per evidence point: the
#: points themselves (about 550 B with two text columns) and the fade-out's working
#: memory (about 900 B), measured with ``benchmarks/engines.py``'s evidence.
BYTES_PER_POINT = 1_500

#: Memory of a dask worker process before it holds any data (imports), in bytes.
WORKER_BASE_BYTES = 400 * 2**20


def check_engine(engine: str) -> str:
    """Return ``engine`` if it is one of :data:`ENGINES`.

    Raises
    ------
    kosovo_cmr.errors.InputError
        For any other value.

    Examples
    --------
    >>> check_engine("dask")
    'dask'
    """
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    return engine


def points_per_partition(memory=None) -> int:
    """Return the number of evidence points per dask partition for a worker memory budget.

    A partition is worked on whole by one worker, so its size, not the number of
    points, sets a worker's working memory: a partition gets a quarter of the budget
    left after the worker's own :data:`WORKER_BASE_BYTES`, at :data:`BYTES_PER_POINT`,
    between :data:`MIN_POINTS_PER_PARTITION` and :data:`POINTS_PER_PARTITION`.

    Parameters
    ----------
    memory : str or int, optional
        Budget of one worker, e.g. ``"2GB"`` (default
        :data:`kosovo_cmr.settings.dask_worker_memory`; none: the largest partitions).

    Returns
    -------
    int
    """
    budget = memory_bytes(memory if memory is not None else settings.dask_worker_memory)
    if budget is None:
        return POINTS_PER_PARTITION
    room = max(0, budget - WORKER_BASE_BYTES) // 4 // BYTES_PER_POINT
    return int(min(POINTS_PER_PARTITION, max(MIN_POINTS_PER_PARTITION, room)))


def collect(frame, *, name: str = "evidence") -> gpd.GeoDataFrame:
    """Return the input of an analysis as one GeoDataFrame, as the local engine needs it.

    Parameters
    ----------
    frame : GeoDataFrame, dask_geopandas.GeoDataFrame or iterable of GeoDataFrame
        A GeoDataFrame is returned as it is; a dask-geopandas frame is computed; chunks
        (such as :meth:`kosovo_cmr.store.base.Store.read_chunks` yields) are checked
        (a GeoDataFrame each, all in one CRS, at least one) and joined.
    name : str, optional
        What the frame holds, for messages.

    Returns
    -------
    GeoDataFrame

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``frame`` is none of these, or a chunk is not a GeoDataFrame or in another CRS.
    """
    if isinstance(frame, gpd.GeoDataFrame):
        return frame
    if is_dask_frame(frame):
        return frame.compute()
    chunks = list(iter_chunks(frame, name=name))
    out = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    return gpd.GeoDataFrame(out, geometry=chunks[0].geometry.name, crs=chunks[0].crs)


class _PointsOf:
    """A picklable function: metric x, y and fade-out radius of a chunk's points."""

    def __init__(self, radius_m: Callable):
        self.radius_m = radius_m

    def __call__(self, part) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, y = metric_points(part)
        return x, y, np.asarray(self.radius_m(part), float)


def map_clusters(
    evidence,
    radius_m: Callable,
    func: Callable,
    *args,
    npartitions: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> tuple[list, gpd.GeoDataFrame]:
    """Run ``func(partition, *args)`` on partitions that each hold whole fade-out clusters.

    The dask engine's way through (see the module notes): for an analysis whose result
    on the whole evidence adds up from its results on whole clusters.

    Parameters
    ----------
    evidence : GeoDataFrame, dask_geopandas.GeoDataFrame or iterable of GeoDataFrame
        Evidence points with a CRS: in memory; a dask-geopandas frame (e.g. from
        ``dask_geopandas.read_parquet``), which the workers read; or chunks, such as
        :meth:`kosovo_cmr.store.base.Store.read_chunks` yields, written out one at a time.
    radius_m : callable
        Takes a partition (GeoDataFrame) and returns the distance of each of its points;
        points closer than twice the largest distance are kept in one partition. It and
        ``func`` must pickle (module-level functions or instances) for the ``processes``
        and distributed schedulers.
    func : callable
        Called on each partition (a GeoDataFrame of evidence rows, possibly empty).
    *args
        Passed on to ``func``.
    npartitions : int, optional
        Number of spatial partitions (default one per :func:`points_per_partition`
        points, 250,000 without a memory budget).
    scheduler : str, optional
        ``threads``, ``processes``, ``synchronous``, ``local`` or a scheduler address
        such as ``tcp://10.0.0.5:8786`` (default :data:`kosovo_cmr.settings.dask_scheduler`).
    workers : int, optional
        Number of local workers (threads, processes, or LocalCluster processes).

    Returns
    -------
    results : list
        What ``func`` returned for each partition.
    meta : GeoDataFrame
        An empty frame with the evidence's columns and CRS.
    """
    return on_partitions(
        evidence,
        _PointsOf(radius_m),
        func,
        args,
        npartitions=npartitions,
        scheduler=scheduler,
        workers=workers,
        partition_size=points_per_partition,
    )


def map_spatial(
    frame,
    func: Callable,
    *args,
    npartitions: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> list:
    """Run ``func(partition, *args)`` on spatially compact partitions of a layer (dask).

    For an analysis that measures each feature on its own (hazard overlays): the
    features are shuffled along a Hilbert curve in memory, by default into one partition
    per 500 features (at most 64); a dask-geopandas frame keeps its partition count.

    Parameters
    ----------
    frame : GeoDataFrame or dask_geopandas.GeoDataFrame
    func : callable
    *args
        Passed on to ``func``.
    npartitions, scheduler, workers
        See :func:`map_clusters`.

    Returns
    -------
    list
        What ``func`` returned for each partition.
    """
    return on_spatial_partitions(
        frame, func, args, npartitions=npartitions, scheduler=scheduler, workers=workers
    )


def _identity(part):
    return part


def cluster_labels(
    evidence,
    *,
    radius_m: Callable,
    npartitions: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> list[gpd.GeoDataFrame]:
    """Split the evidence into partitions that each hold whole fade-out clusters.

    The building block of the dask engine (see the module notes), exposed for checks.

    Parameters
    ----------
    evidence : GeoDataFrame, dask_geopandas.GeoDataFrame or iterable of GeoDataFrame
        Evidence points with a CRS (see :func:`map_clusters`).
    radius_m : callable
        Takes a partition (GeoDataFrame) and returns the distance of each of its points.
    npartitions, scheduler, workers
        See :func:`map_clusters`.

    Returns
    -------
    list of GeoDataFrame
        The partitions; their rows are the evidence rows, each exactly once.
    """
    parts, _ = map_clusters(
        evidence,
        radius_m,
        _identity,
        npartitions=npartitions,
        scheduler=scheduler,
        workers=workers,
    )
    return parts
