"""The dask engine: where it runs, how it plans partitions of whole clusters, and running.

Private implementation behind :mod:`kosovo_cmr.analysis.engine`, whose notes describe
the five steps; the tasks themselves and the working folder they share are in
:mod:`kosovo_cmr.analysis._spill`. Nothing here knows an analysis: the public functions
(:func:`kosovo_cmr.analysis.fadeout.delineate`, ...) hand in a function that gives the
points of a chunk (metric x, y and radius) and a function to run on each partition.
"""

from __future__ import annotations

import contextlib
import logging
import time

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from kosovo_cmr import settings
from kosovo_cmr.analysis._halo import dilate
from kosovo_cmr.analysis._spill import (
    annotate,
    cluster,
    dump,
    links,
    run,
    scatter,
    spill_path,
    summary,
    workdir,
)
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError, require

# the dask engine logs as the public module that routes to it
log = logging.getLogger("kosovo_cmr.analysis.engine")

#: Seconds to wait for a remote dask scheduler to answer.
CONNECT_TIMEOUT_S = 20

#: Schedulers that run in this process (dask's own), as opposed to a distributed cluster.
LOCAL_SCHEDULERS = (None, "", "threads", "processes", "synchronous")

# --------------------------------------------------------------------------- scheduling


def memory_bytes(memory) -> int | None:
    """Return a worker memory budget (``"2GB"``, a number of bytes, or none) in bytes."""
    if memory is None or memory == "":
        return None
    if isinstance(memory, int | float):
        return int(memory)
    from dask.utils import parse_bytes

    try:
        return int(parse_bytes(str(memory)))
    except ValueError as exc:
        raise InputError(f"dask worker memory must be like '2GB', got {memory!r}") from exc


def is_remote(scheduler: str | None) -> bool:
    """Whether ``scheduler`` (default: the setting) is a running cluster's address."""
    scheduler = scheduler if scheduler is not None else settings.dask_scheduler
    return scheduler not in (*LOCAL_SCHEDULERS, "local")


@contextlib.contextmanager
def running_on(scheduler: str | None, workers: int | None):
    """Yield the ``scheduler=`` arguments for :func:`compute` (dask's, or a Client)."""
    scheduler = scheduler if scheduler is not None else settings.dask_scheduler
    if scheduler in LOCAL_SCHEDULERS:
        yield {"scheduler": scheduler or "threads", "num_workers": workers}
        return
    distributed = require("distributed", "scale")
    if scheduler == "local":
        import dask

        budget = memory_bytes(settings.dask_worker_memory)
        # with a budget, it is each worker's memory limit (past 60-70 % of it dask spills
        # the small results a worker holds); workers are never paused or restarted for it
        soft = {"distributed.worker.memory.pause": False} if budget else {}
        soft |= {"distributed.worker.memory.terminate": False} if budget else {}
        with (
            dask.config.set(soft),
            distributed.LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                memory_limit=budget if budget else "auto",
                dashboard_address=":0",
                silence_logs=logging.WARNING,
            ) as local_cluster,
            distributed.Client(local_cluster) as client,
        ):
            yield {"scheduler": client}
        return
    try:
        client = distributed.Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the dask scheduler at {scheduler}: {exc}") from exc
    with client:
        yield {"scheduler": client}


def compute(*things, how):
    """``dask.compute`` the delayed ``things`` where ``how`` (from :func:`running_on`) says."""
    dask = require("dask", "scale")
    kwargs = {k: v for k, v in how.items() if v is not None}
    return dask.compute(*things, **kwargs)


# --------------------------------------------------------------------------- input


def is_dask_frame(frame) -> bool:
    """Whether ``frame`` is a dask-geopandas frame."""
    return type(frame).__module__.startswith("dask_geopandas")


def iter_chunks(frame, *, name: str = "evidence"):
    """Yield the GeoDataFrames of an iterable of chunks, checking each (at least one)."""
    if isinstance(frame, pd.DataFrame | str | bytes) or not hasattr(frame, "__iter__"):
        raise InputError(
            f"{name} must be a GeoDataFrame, a dask_geopandas.GeoDataFrame or an iterable "
            f"of GeoDataFrame chunks (such as Store.read_chunks), got {type(frame).__name__}"
        )
    crs = None
    for k, chunk in enumerate(frame):
        if not isinstance(chunk, gpd.GeoDataFrame):
            raise InputError(f"{name} chunk {k} is a {type(chunk).__name__}, not a GeoDataFrame")
        require_crs(chunk, name=f"{name} chunk {k}")
        if crs is None:
            crs = chunk.crs
        elif chunk.crs != crs:
            raise InputError(f"{name} chunk {k} is in {chunk.crs}, chunk 0 in {crs}")
        yield chunk
    if crs is None:
        raise InputError(f"{name}: the iterable of chunks gave none (an empty layer gives one)")


def _sources(evidence, npartitions, root: str, partition_size) -> tuple[list, gpd.GeoDataFrame]:
    """Return the input chunks (files, or a dask frame's partitions) and an empty frame.

    An in-memory GeoDataFrame, or each chunk of an iterable of them, is written to the
    working folder one chunk at a time: the engine never holds a second copy.
    """
    if is_dask_frame(evidence):
        require_crs(evidence, name="evidence")
        return list(evidence.to_delayed()), evidence._meta.reset_index(drop=True)
    if isinstance(evidence, gpd.GeoDataFrame):
        require_crs(evidence, name="evidence")
        n = npartitions or max(1, -(-len(evidence) // partition_size()))
        size = -(-len(evidence) // n) if len(evidence) else 0
        chunks = (evidence.iloc[k * size : (k + 1) * size] for k in range(n))
    else:
        chunks = iter_chunks(evidence)
    paths, meta = [], None
    for k, chunk in enumerate(chunks):
        path = spill_path(root, "in", f"{k:05d}.pkl")
        dump(chunk, path)
        paths.append(path)
        if meta is None:
            meta = chunk.iloc[:0].reset_index(drop=True)
    return paths, meta


# --------------------------------------------------------------------------- planning


def _neighbours(summaries: list, reach: float) -> dict[int, list]:
    """Step 3: each partition's neighbours, with the grid squares of its halo from each.

    The squares each partition occupies (a few bytes a cluster) decide which partitions
    are neighbours, and which squares each sends the other as halo.
    """
    bounds = [s[0] for s in summaries]
    neighbours = {i: [] for i in range(len(summaries))}
    for i, bi in enumerate(bounds):
        if not bi[5]:
            continue
        box = (bi[0] - reach, bi[1] - reach, bi[2] + reach, bi[3] + reach)
        near = None
        for j, bj in enumerate(bounds):
            if j == i or not bj[5]:
                continue
            if bj[0] <= box[2] and bj[2] >= box[0] and bj[1] <= box[3] and bj[3] >= box[1]:
                near = dilate(summaries[i][1]) if near is None else near
                shared = np.intersect1d(near, summaries[j][1], assume_unique=True)
                if len(shared):
                    neighbours[i].append((j, shared))
    return neighbours


def _global_clusters(counts: np.ndarray, found: list) -> np.ndarray:
    """Step 4, joining: the global cluster of each partition's cluster (a union-find).

    ``found`` holds rows (i, label in i, j, label in j) of clusters that share a point.
    """
    offset = np.concatenate([[0], np.cumsum(counts)])
    n_labels = int(offset[-1])
    if not found:
        return np.arange(n_labels)
    e = np.concatenate(found)
    a = offset[e[:, 0]] + e[:, 1]
    b = offset[e[:, 2]] + e[:, 3]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_labels, n_labels))
    _, glob = connected_components(graph, directed=False)
    return glob


def _moves(counts: np.ndarray, glob: np.ndarray) -> list:
    """Step 5's plan: the clusters each partition keeps and those it receives.

    A global cluster goes to the lowest partition that holds part of it. Returns one
    ``(partition, staying labels, [(source partition, labels), ...])`` per partition.
    """
    p = len(counts)
    offset = np.concatenate([[0], np.cumsum(counts)])
    part_of = np.repeat(np.arange(p), counts)
    target = np.full(glob.max() + 1 if len(glob) else 0, p, dtype=np.int64)
    np.minimum.at(target, glob, part_of)
    staying, incoming = [], {i: [] for i in range(p)}
    moved = 0
    for i in range(p):
        labels = np.arange(counts[i])
        dest = target[glob[offset[i] : offset[i + 1]]]
        staying.append(labels[dest == i])
        for t in np.unique(dest[dest != i]):
            incoming[int(t)].append((i, labels[dest == t]))
            moved += int((dest == t).sum())
    log.info("dask engine: %d partitions, %d cross-partition cluster moves", p, moved)
    return [(i, staying[i], incoming[i]) for i in range(p)]


def plan(evidence, points_of, how, root: str, npartitions, partition_size) -> tuple[list, object]:
    """Write the evidence into partitions of whole clusters; return how to assemble each.

    Returns one ``(partition, staying labels, [(source partition, labels), ...])`` per
    partition, the arguments of :func:`kosovo_cmr.analysis._spill.partition` (see the
    notes of :mod:`kosovo_cmr.analysis.engine`), and an empty frame with the evidence's
    columns and CRS. ``partition_size()`` gives the points per partition when
    ``npartitions`` is not given.
    """
    dask = require("dask", "scale")
    started = time.perf_counter()

    def step(message, *args):
        log.info("dask engine: " + message + " (%.1f s)", *args, time.perf_counter() - started)

    sources, meta = _sources(evidence, npartitions, root, partition_size)
    dump(meta, spill_path(root, "meta.pkl"))
    stats = compute(
        *[dask.delayed(annotate)(s, points_of, k, root) for k, s in enumerate(sources)], how=how
    )
    total = sum(s[0] for s in stats)
    rmax = max((s[1] for s in stats), default=0.0)
    p = npartitions or max(1, -(-total // partition_size()))
    sample = np.sort(np.concatenate([s[2] for s in stats]))
    edges = sample[(np.arange(1, p) * len(sample)) // p] if len(sample) else np.zeros(0, np.int64)
    step("%d points read in %d chunks", total, len(sources))
    compute(*[dask.delayed(scatter)(k, edges, root) for k in range(len(sources))], how=how)
    step("%d points written in %d spatial partitions", total, p)
    reach = 2.0 * rmax
    cell = max(reach * (1 + 1e-9), 1.0)
    summaries = compute(*[dask.delayed(summary)(root, b, cell) for b in range(p)], how=how)
    neighbours = _neighbours(summaries, reach)
    del summaries
    comps = compute(
        *[dask.delayed(cluster)(root, i, nb, cell) for i, nb in neighbours.items()], how=how
    )
    step("clusters found in each partition with its halo")
    edges_found = compute(
        *[dask.delayed(links)(root, comps[i], i, j) for i, nb in neighbours.items() for j, _ in nb],
        how=how,
    )
    counts = np.asarray([c["n"] for c in comps], dtype=np.int64)
    del comps
    glob = _global_clusters(counts, [e for e in edges_found if len(e)])
    return _moves(counts, glob), meta


# --------------------------------------------------------------------------- running


def on_partitions(
    evidence, points_of, func, args, *, npartitions, scheduler, workers, partition_size
) -> tuple[list, object]:
    """Run ``func(partition, *args)`` on each partition of whole clusters.

    Returns the list of results and an empty frame like the evidence.
    """
    dask = require("dask", "scale")
    with running_on(scheduler, workers) as how, workdir(remote=is_remote(scheduler)) as root:
        specs, meta = plan(evidence, points_of, how, root, npartitions, partition_size)
        results = compute(*[dask.delayed(run)(func, root, *s, *args) for s in specs], how=how)
        return list(results), meta


def on_spatial_partitions(frame, func, args, *, npartitions, scheduler, workers) -> list:
    """Run ``func(partition, *args)`` on spatially compact partitions of ``frame``.

    The partitions are dask-geopandas' Hilbert shuffle, in memory (for hazards, which
    number thousands, not millions): by default one per 500 features, at most 64, or
    those of a dask-geopandas frame.
    """
    dask = require("dask", "scale")
    dgpd = require("dask_geopandas", "scale")
    if isinstance(frame, gpd.GeoDataFrame):
        n = npartitions or max(1, min(len(frame) // 500, 64))
        ddf = dgpd.from_geopandas(frame, npartitions=n)
    else:
        ddf = frame
    if ddf.npartitions > 1:
        ddf = ddf.spatial_shuffle(by="hilbert", npartitions=ddf.npartitions, shuffle_method="tasks")
    with running_on(scheduler, workers) as how:
        return list(compute(*[dask.delayed(func)(p, *args) for p in ddf.to_delayed()], how=how))
