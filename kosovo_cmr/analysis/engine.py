"""Analysis engines: the same fade-out and overlay results, on one core or many.

``engine="local"`` runs :mod:`~kosovo_cmr.analysis.fadeout` and
:mod:`~kosovo_cmr.analysis.overlay` in this process. ``engine="dask"`` partitions the
data in space with dask-geopandas and runs the
very same functions on each partition, in parallel, with the data spread over the
workers' memory, on the cores of this machine or, unchanged, on a dask distributed
cluster (``scheduler="tcp://host:8786"``). The results equal the local engine's: areas
to within floating point (far inside 0.01 %), counts exactly.

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
   :func:`~kosovo_cmr.analysis.fadeout.delineate` or
   :func:`~kosovo_cmr.analysis.fadeout.buffer_impact`
   on it, in the same task, then adds the results up.

The fade-out areas of different clusters do not overlap, so areas add up exactly: by
hazard, municipality, region or in total. For a rule change the clusters are found
with the larger of the two distances of each point, so they are whole under both rules.

Hazard overlays (:func:`contamination_by_unit`) partition the hazards in space too
(dask-geopandas' Hilbert shuffle, in memory: hazards number thousands, not millions);
each hazard is measured in one partition against all the boundaries, so the tables add
up exactly too.

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

import contextlib
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError, require

__all__ = [
    "ENGINES",
    "EngineImpact",
    "delineate",
    "buffer_impact",
    "contamination_by_unit",
    "cluster_labels",
    "points_per_partition",
]

log = logging.getLogger(__name__)

#: The engines every function of this module accepts.
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

#: Seconds to wait for a remote dask scheduler to answer.
CONNECT_TIMEOUT_S = 20

_COLS = ["_pid", "_x", "_y", "_r"]


@dataclass
class EngineImpact:
    """The result of :func:`buffer_impact`: the same table and total as the local engine.

    Attributes
    ----------
    table : pandas.DataFrame
        ``group``, ``evidence``, ``area_from_m2``, ``area_to_m2``, ``saved_m2``,
        ``saved_pct``: as :class:`kosovo_cmr.analysis.fadeout.ImpactResult.table`.
    total : dict
        The same keys for the whole union.
    rings : GeoDataFrame or None
        The land inside the old area but outside the new one, one row per old-rule
        cluster, when ``rings=True`` was asked.
    engine : str
        The engine that computed it.
    """

    table: pd.DataFrame
    total: dict
    rings: gpd.GeoDataFrame | None
    engine: str
    from_rule: object = None
    to_rule: object = None
    by: str = "none"

    def to_dict(self) -> dict:
        """Return the result as one JSON-ready object, as the local engine's ``to_dict``."""

        def plain(value):
            return value.item() if isinstance(value, np.generic) else value

        return {
            "from": getattr(self.from_rule, "name", None),
            "to": getattr(self.to_rule, "name", None),
            "by": self.by,
            "rows": [
                {k: plain(v) for k, v in rec.items()}
                for rec in self.table.to_dict(orient="records")
            ],
            "total": {k: plain(v) for k, v in self.total.items()},
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return the result as JSON text (see :meth:`to_dict`)."""
        import json

        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


# --------------------------------------------------------------------------- scheduling


@contextlib.contextmanager
def _scheduler(scheduler: str | None, workers: int | None):
    """Yield the ``scheduler=`` argument for ``dask.compute`` (or a Client)."""
    scheduler = scheduler if scheduler is not None else settings.dask_scheduler
    if scheduler in (None, "", "threads", "processes", "synchronous"):
        yield {"scheduler": scheduler or "threads", "num_workers": workers}
        return
    distributed = require("distributed", "scale")
    if scheduler == "local":
        import dask

        budget = _memory_bytes(settings.dask_worker_memory)
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
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield {"scheduler": client}
        return
    try:
        client = distributed.Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the dask scheduler at {scheduler}: {exc}") from exc
    with client:
        yield {"scheduler": client}


def _compute(*things, how):
    dask = require("dask", "scale")
    kwargs = {k: v for k, v in how.items() if v is not None}
    return dask.compute(*things, **kwargs)


# --------------------------------------------------------------------------- partitions


def _memory_bytes(memory) -> int | None:
    if memory is None or memory == "":
        return None
    if isinstance(memory, int | float):
        return int(memory)
    from dask.utils import parse_bytes

    try:
        return int(parse_bytes(str(memory)))
    except ValueError as exc:
        raise InputError(f"dask worker memory must be like '2GB', got {memory!r}") from exc


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
    budget = _memory_bytes(memory if memory is not None else settings.dask_worker_memory)
    if budget is None:
        return POINTS_PER_PARTITION
    room = max(0, budget - WORKER_BASE_BYTES) // 4 // BYTES_PER_POINT
    return int(min(POINTS_PER_PARTITION, max(MIN_POINTS_PER_PARTITION, room)))


def _is_remote(scheduler: str | None) -> bool:
    scheduler = scheduler if scheduler is not None else settings.dask_scheduler
    return scheduler not in (None, "", "threads", "processes", "synchronous", "local")


@contextlib.contextmanager
def _workdir(scheduler: str | None):
    """Yield a fresh working folder for the spill files, removed afterwards."""
    import os
    import shutil
    import tempfile
    import time

    base = settings.dask_spill_dir or None
    if base is None and _is_remote(scheduler):
        raise InputError(
            "the dask engine on a cluster needs a folder that the workers all read and "
            "write (a shared file system): set KCMR_DASK_SPILL_DIR (or "
            "kosovo_cmr.settings.dask_spill_dir) to it"
        )
    try:
        root = tempfile.mkdtemp(prefix="kcmr-dask-", dir=base)
        for sub in ("in", "a", "p", "l"):
            os.mkdir(os.path.join(root, sub))
    except OSError as exc:
        raise InputError(f"cannot make the dask engine's working folder in {base}: {exc}") from exc
    try:
        yield root
    finally:
        # after a failed task others may still be running: they cannot make the folder
        # again (see _dump), but one may be writing a last file while it is removed
        for _ in range(100):
            shutil.rmtree(root, ignore_errors=True)
            if not os.path.exists(root):
                break
            time.sleep(0.1)


# --------------------------------------------------------------------------- spill files
#
# The dask engine keeps no points in the workers' memory between its steps: the points
# are written once, in pieces, to a working folder, and every task reads only what it
# needs (one partition, the halo strips of its neighbours) and returns small results.
# The folder (all pickles, written and read only by this module's tasks):
#
#   meta.pkl                an empty frame with the evidence's columns and CRS
#   in/00012.pkl            input chunk 12 (rows of an in-memory GeoDataFrame)
#   a/00012.pkl             chunk 12 with id, metric x, y, radius and Z-order key
#   p/00003/00012.rows.pkl  the rows of chunk 12 that fall in partition 3
#   p/00003/00012.pts.pkl   their id, x, y and radius (all the clustering reads)
#   l/00003.pkl             the cluster label of each point of partition 3


def _dump(obj, path: str) -> None:
    """Write ``obj`` to ``path`` atomically (a retried task rewrites the same file).

    Only the file's own folder is made, never the working folder: once that is removed
    (the run failed) a task still running fails instead of leaving files behind.
    """
    import os
    import pickle
    import uuid

    with contextlib.suppress(FileExistsError):
        os.mkdir(os.path.dirname(path))
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=5)
    os.replace(tmp, path)


def _load(path: str):
    import pickle

    with open(path, "rb") as f:
        return pickle.load(f)


def _file(root: str, *parts: str) -> str:
    import os

    return os.path.join(root, *parts)


def _pieces(root: str, b: int, kind: str) -> list[str]:
    import os

    folder = _file(root, "p", f"{b:05d}")
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(f".{kind}.pkl"))
    except FileNotFoundError:
        return []
    return [_file(folder, n) for n in names]


def _points(root: str, b: int) -> pd.DataFrame:
    """Return the id, metric x, y and radius of the points of partition ``b``."""
    frames = [_load(f) for f in _pieces(root, b, "pts")]
    if not frames:
        return pd.DataFrame({c: np.zeros(0, np.int64 if c == "_pid" else float) for c in _COLS})
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _rows(root: str, b: int) -> gpd.GeoDataFrame:
    """Return the evidence rows of partition ``b``, in the order of :func:`_points`."""
    frames = [_load(f) for f in _pieces(root, b, "rows")]
    if not frames:
        return _load(_file(root, "meta.pkl"))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


#: One Z-order key in this many is sent back to choose the partitions' key ranges.
KEY_SAMPLE_EVERY = 64


def _annotate(source, radius, number: int, root: str) -> tuple[int, float, np.ndarray]:
    """Step 1, one input chunk: write it with id, metric x, y, radius and Z-order key.

    Returns the number of points, their largest radius and a sample of their keys.
    """
    import os

    from kosovo_cmr.analysis._union import metric_points

    part = _load(source) if isinstance(source, str) else source
    part = part.reset_index(drop=True)
    if len(part):
        x, y = metric_points(part)
        r = np.asarray(radius(part), float)
    else:
        x = y = r = np.zeros(0)
    x, y = np.asarray(x, float), np.asarray(y, float)
    pts = pd.DataFrame(
        {
            "_pid": np.arange(len(part), dtype=np.int64) + (np.int64(number) << np.int64(40)),
            "_x": x,
            "_y": y,
            "_r": r,
        }
    )
    key = _morton(x, y)
    _dump((part, pts, key), _file(root, "a", f"{number:05d}.pkl"))
    if isinstance(source, str):
        os.remove(source)
    return len(part), float(r.max()) if len(r) else 0.0, np.sort(key)[::KEY_SAMPLE_EVERY]


def _scatter(number: int, edges: np.ndarray, root: str) -> None:
    """Step 2, one chunk: split it into the partitions of its points' key ranges."""
    import os

    path = _file(root, "a", f"{number:05d}.pkl")
    part, pts, key = _load(path)
    bucket = np.searchsorted(edges, key, side="right")
    order = np.argsort(bucket, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(bucket, minlength=len(edges) + 1))])
    for b in np.flatnonzero(np.diff(starts)):
        take = order[starts[b] : starts[b + 1]]
        folder = _file(root, "p", f"{b:05d}")
        _dump(part.iloc[take], _file(folder, f"{number:05d}.rows.pkl"))
        _dump(pts.iloc[take].reset_index(drop=True), _file(folder, f"{number:05d}.pts.pkl"))
    os.remove(path)


def _summary(root: str, b: int, cell: float) -> tuple[tuple, np.ndarray]:
    """Step 3, one partition: its bounds and the grid squares its points occupy (halos)."""
    pts = _points(root, b)
    return _bounds(pts), _cells(pts, cell)


def _cluster(root: str, b: int, halos: list, cell: float) -> dict:
    """Step 4, one partition: its clusters, with the halo strips of its neighbours.

    The label of each of its points is written to the working folder; the halo points'
    ids and labels, all that step 5 needs, are returned.
    """
    own = _points(root, b)
    strips = [_clip(_points(root, j), shared, cell) for j, shared in halos]
    comp = _components(own, strips)
    _dump((comp["pid"], comp["own"]), _file(root, "l", f"{b:05d}.pkl"))
    return {"n": comp["n"], "halo_pid": comp["halo_pid"], "halo_label": comp["halo_label"]}


def _bounds(part) -> tuple:
    if not len(part):
        return (np.inf, np.inf, -np.inf, -np.inf, 0.0, 0)
    return (
        float(part["_x"].min()),
        float(part["_y"].min()),
        float(part["_x"].max()),
        float(part["_y"].max()),
        float(part["_r"].max()),
        len(part),
    )


#: Extent of the Z-order grid, EPSG:9141 metres (Kosovo with a margin; points outside
#: are clamped to its edge, which only makes their partitions less compact).
_GRID = (7_300_000.0, 4_550_000.0, 7_700_000.0, 4_850_000.0)


def _morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order (Morton) code of metric points on a 2**16 x 2**16 grid over Kosovo."""
    xmin, ymin, xmax, ymax = _GRID
    side = float(max(xmax - xmin, ymax - ymin))
    ix = np.clip((x - xmin) / side * 65535, 0, 65535).astype(np.uint64)
    iy = np.clip((y - ymin) / side * 65535, 0, 65535).astype(np.uint64)

    def spread(v):
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return (spread(ix) | (spread(iy) << np.uint64(1))).astype(np.int64)


def _cell_codes(x: np.ndarray, y: np.ndarray, cell: float) -> np.ndarray:
    """Integer code of the ``cell`` x ``cell`` grid square of each metric point."""
    ix = np.floor(np.asarray(x, float) / cell).astype(np.int64)
    iy = np.floor(np.asarray(y, float) / cell).astype(np.int64)
    return (ix << np.int64(32)) + (iy + np.int64(1 << 31))


def _cells(part, cell: float) -> np.ndarray:
    """Sorted codes of the grid squares that hold a point of the partition."""
    if not len(part):
        return np.zeros(0, np.int64)
    return np.unique(_cell_codes(part["_x"].to_numpy(), part["_y"].to_numpy(), cell))


def _dilate(cells: np.ndarray) -> np.ndarray:
    """Sorted codes of the grid squares ``cells`` and the eight around each of them."""
    steps = [(dx << 32) + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    return np.unique(np.concatenate([cells + np.int64(s) for s in steps]))


def _near_cells(part, cell: float) -> np.ndarray:
    """Sorted codes of the grid squares within one square of a point of the partition.

    With squares at least as wide as the reach, every point closer than the reach to a
    point of the partition lies in one of them: the halo a neighbour sends is its points
    in these squares, a strip along the partition's own points, not its bounding box
    (Z-order partitions can have boxes much larger than themselves).
    """
    return _dilate(_cells(part, cell))


def _clip(part, near: np.ndarray, cell: float) -> pd.DataFrame:
    """Return the points of a partition in the grid squares ``near`` (another's halo)."""
    if not len(part) or not len(near):
        return pd.DataFrame(part[_COLS].iloc[:0])
    codes = _cell_codes(part["_x"].to_numpy(), part["_y"].to_numpy(), cell)
    pos = np.minimum(np.searchsorted(near, codes), len(near) - 1)
    return pd.DataFrame(part.loc[near[pos] == codes, _COLS])


def _delaunay_edges(xy: np.ndarray) -> np.ndarray:
    """Edges of the Delaunay triangulation of distinct points (collinear: the chain)."""
    from scipy.spatial import Delaunay, QhullError

    try:
        if len(xy) < 3:
            raise QhullError("too few points")
        tri = Delaunay(xy - xy.mean(axis=0))
    except QhullError:  # all on one line: neighbours along it are the only candidates
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        return np.column_stack([order[:-1], order[1:]])
    t = tri.simplices
    edges = [t[:, [0, 1]], t[:, [1, 2]], t[:, [0, 2]]]
    if len(tri.coplanar):  # points too close to tell apart: join them to their vertex
        edges.append(tri.coplanar[:, [0, 2]])
    return np.concatenate(edges)


def _touching_components(xy: np.ndarray, reach: float) -> tuple[int, np.ndarray]:
    """Label the connected components of the points joined when closer than ``reach``.

    Two points are in one component exactly when a path of Delaunay edges no longer
    than ``reach`` joins them (the Euclidean minimum spanning tree lies in the Delaunay
    triangulation), so the threshold graph never has to be built: O(n log n) however
    dense the evidence. As in the local engine (:mod:`kosovo_cmr.analysis._disks`), the points
    are first split into groups that cannot touch (components of occupied grid squares
    ``reach`` wide), and groups of a few thousand points are triangulated one at a time,
    which keeps qhull in cache. Coincident points are merged first.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from kosovo_cmr.analysis._disks import chunk_groups

    if len(xy) == 0:
        return 0, np.zeros(0, np.int64)
    xy, inverse = np.unique(xy, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = len(xy)
    edges = [np.zeros((0, 2), np.int64)]
    for idx in chunk_groups(xy[:, 0], xy[:, 1], max(reach, 1.0)):  # wider squares: safe
        if len(idx) > 1:
            edges.append(idx[_delaunay_edges(xy[idx])])
    edges = np.concatenate(edges)
    d = np.hypot(*(xy[edges[:, 0]] - xy[edges[:, 1]]).T)
    edges = edges[d <= reach]
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    k, labels = connected_components(graph, directed=False)
    return int(k), labels[inverse]


def _components(part, halos) -> dict:
    """Find the connected clusters of a partition's points together with its halo points.

    Points are joined when closer than twice the largest radius: clusters formed so may
    join more than the disks' own clusters, never fewer, which is all that whole-cluster
    partitions need (areas of unions add up either way).
    """
    own = pd.DataFrame(part[_COLS])
    halos = [h for h in halos if len(h)]
    pts = pd.concat([own, *halos], ignore_index=True) if halos else own
    if len(pts) == 0:
        empty = np.zeros(0, np.int64)
        return {"own": empty, "pid": empty, "halo_pid": empty, "halo_label": empty, "n": 0}
    reach = 2.0 * float(pts["_r"].max()) * (1 + 1e-9)
    k, labels = _touching_components(pts[["_x", "_y"]].to_numpy(), reach)
    n_own = len(own)
    return {
        "own": labels[:n_own].astype(np.int64),
        "pid": own["_pid"].to_numpy(np.int64),
        "halo_pid": pts["_pid"].to_numpy(np.int64)[n_own:],
        "halo_label": labels[n_own:].astype(np.int64),
        "n": k,
    }


def _links(root: str, comp_i: dict, i: int, j: int) -> np.ndarray:
    """Step 4, joining: rows (i, label in i, j, label in j) for j's points in i's halo."""
    pid_j, own_j = _load(_file(root, "l", f"{j:05d}.pkl"))
    pos = pd.Index(pid_j).get_indexer(comp_i["halo_pid"])
    mine = pos >= 0
    if not mine.any():
        return np.zeros((0, 4), np.int64)
    rows = np.column_stack(
        [
            np.full(mine.sum(), i),
            comp_i["halo_label"][mine],
            np.full(mine.sum(), j),
            own_j[pos[mine]],
        ]
    )
    return np.unique(rows, axis=0)


def _partition(root: str, b: int, staying: np.ndarray, incoming: list) -> gpd.GeoDataFrame:
    """Step 5: the rows of partition ``b`` that stay, with the clusters moved into it."""
    rows = _rows(root, b)
    _, own = _load(_file(root, "l", f"{b:05d}.pkl"))
    frames = [rows[np.isin(own, staying)]]
    for src, labels in incoming:  # one source partition in memory at a time
        _, theirs = _load(_file(root, "l", f"{src:05d}.pkl"))
        frames.append(_rows(root, src)[np.isin(theirs, labels)])
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry=rows.geometry.name, crs=rows.crs)


def _run(func, root: str, b: int, staying, incoming, *args):
    """Assemble partition ``b`` and run ``func`` on it: nothing is kept between the two."""
    return func(_partition(root, b, staying, incoming), *args)


def _is_dask(frame) -> bool:
    return type(frame).__module__.startswith("dask_geopandas")


def _whole(evidence) -> gpd.GeoDataFrame:
    """Return the evidence as one GeoDataFrame (the local engine needs it so)."""
    if isinstance(evidence, gpd.GeoDataFrame):
        return evidence
    if _is_dask(evidence):
        return evidence.compute()
    chunks = list(_chunks(evidence))
    out = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    return gpd.GeoDataFrame(out, geometry=chunks[0].geometry.name, crs=chunks[0].crs)


def _chunks(evidence):
    """Yield the GeoDataFrames of an iterable of chunks, checking each (at least one)."""
    if isinstance(evidence, pd.DataFrame | str | bytes) or not hasattr(evidence, "__iter__"):
        raise InputError(
            "evidence must be a GeoDataFrame, a dask_geopandas.GeoDataFrame or an iterable "
            f"of GeoDataFrame chunks (such as Store.read_chunks), got {type(evidence).__name__}"
        )
    crs = None
    for k, chunk in enumerate(evidence):
        if not isinstance(chunk, gpd.GeoDataFrame):
            raise InputError(f"evidence chunk {k} is a {type(chunk).__name__}, not a GeoDataFrame")
        require_crs(chunk, name=f"evidence chunk {k}")
        if crs is None:
            crs = chunk.crs
        elif chunk.crs != crs:
            raise InputError(f"evidence chunk {k} is in {chunk.crs}, chunk 0 in {crs}")
        yield chunk
    if crs is None:
        raise InputError("evidence: the iterable of chunks gave none (an empty layer gives one)")


def _sources(evidence, npartitions: int | None, root: str) -> tuple[list, gpd.GeoDataFrame]:
    """Return the input chunks (files, or a dask frame's partitions) and an empty frame.

    An in-memory GeoDataFrame, or each chunk of an iterable of them, is written to the
    working folder one chunk at a time: the engine never holds a second copy.
    """
    if _is_dask(evidence):
        require_crs(evidence, name="evidence")
        return list(evidence.to_delayed()), evidence._meta.reset_index(drop=True)
    if isinstance(evidence, gpd.GeoDataFrame):
        require_crs(evidence, name="evidence")
        n = npartitions or max(1, -(-len(evidence) // points_per_partition()))
        size = -(-len(evidence) // n) if len(evidence) else 0
        chunks = (evidence.iloc[k * size : (k + 1) * size] for k in range(n))
    else:
        chunks = _chunks(evidence)
    paths, meta = [], None
    for k, chunk in enumerate(chunks):
        path = _file(root, "in", f"{k:05d}.pkl")
        _dump(chunk, path)
        paths.append(path)
        if meta is None:
            meta = chunk.iloc[:0].reset_index(drop=True)
    return paths, meta


def _plan(evidence, radius, how, root: str, npartitions: int | None) -> tuple[list, object]:
    """Write the evidence into partitions of whole clusters; return how to assemble each.

    Returns one ``(partition, staying labels, [(source partition, labels), ...])`` per
    partition, the arguments of :func:`_partition` (see the module notes), and an empty
    frame with the evidence's columns and CRS.
    """
    import time

    import dask
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    started = time.perf_counter()

    def step(message, *args):
        log.info("dask engine: " + message + " (%.1f s)", *args, time.perf_counter() - started)

    sources, meta = _sources(evidence, npartitions, root)
    _dump(meta, _file(root, "meta.pkl"))
    stats = _compute(
        *[dask.delayed(_annotate)(s, radius, k, root) for k, s in enumerate(sources)], how=how
    )
    total = sum(s[0] for s in stats)
    rmax = max((s[1] for s in stats), default=0.0)
    p = npartitions or max(1, -(-total // points_per_partition()))
    sample = np.sort(np.concatenate([s[2] for s in stats]))
    edges = sample[(np.arange(1, p) * len(sample)) // p] if len(sample) else np.zeros(0, np.int64)
    step("%d points read in %d chunks", total, len(sources))
    _compute(*[dask.delayed(_scatter)(k, edges, root) for k in range(len(sources))], how=how)
    step("%d points written in %d spatial partitions", total, p)
    reach = 2.0 * rmax
    cell = max(reach * (1 + 1e-9), 1.0)
    # the squares each partition occupies (a few bytes a cluster) decide which
    # partitions are neighbours, and which squares each sends the other as halo
    summaries = _compute(*[dask.delayed(_summary)(root, b, cell) for b in range(p)], how=how)
    bounds = [s[0] for s in summaries]
    neighbours = {i: [] for i in range(p)}
    for i, bi in enumerate(bounds):
        if not bi[5]:
            continue
        box = (bi[0] - reach, bi[1] - reach, bi[2] + reach, bi[3] + reach)
        near = None
        for j, bj in enumerate(bounds):
            if j == i or not bj[5]:
                continue
            if bj[0] <= box[2] and bj[2] >= box[0] and bj[1] <= box[3] and bj[3] >= box[1]:
                near = _dilate(summaries[i][1]) if near is None else near
                shared = np.intersect1d(near, summaries[j][1], assume_unique=True)
                if len(shared):
                    neighbours[i].append((j, shared))
    del summaries
    comps = _compute(
        *[dask.delayed(_cluster)(root, i, nb, cell) for i, nb in neighbours.items()], how=how
    )
    step("clusters found in each partition with its halo")
    edges_found = _compute(
        *[
            dask.delayed(_links)(root, comps[i], i, j)
            for i, nb in neighbours.items()
            for j, _ in nb
        ],
        how=how,
    )
    counts = np.asarray([c["n"] for c in comps], dtype=np.int64)
    del comps
    found = [e for e in edges_found if len(e)]
    offset = np.concatenate([[0], np.cumsum(counts)])
    n_labels = int(offset[-1])
    part_of = np.repeat(np.arange(p), counts)
    if found:
        e = np.concatenate(found)
        a = offset[e[:, 0]] + e[:, 1]
        b = offset[e[:, 2]] + e[:, 3]
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_labels, n_labels))
        _, glob = connected_components(graph, directed=False)
    else:
        glob = np.arange(n_labels)
    # the target partition of each global cluster: the lowest partition that holds it
    target = np.full(glob.max() + 1 if n_labels else 0, p, dtype=np.int64)
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
    return [(i, staying[i], incoming[i]) for i in range(p)], meta


def _on_partitions(evidence, radius, func, args, *, npartitions, scheduler, workers) -> tuple:
    """Run ``func(partition, *args)`` on each partition of whole clusters.

    Returns the list of results and an empty frame like the evidence.
    """
    import dask

    with _scheduler(scheduler, workers) as how, _workdir(scheduler) as root:
        plan, meta = _plan(evidence, radius, how, root, npartitions)
        results = _compute(
            *[dask.delayed(_run)(func, root, *spec, *args) for spec in plan], how=how
        )
        return list(results), meta


def _identity(part):
    return part


def cluster_labels(
    evidence,
    *,
    radius_m,
    npartitions: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> list[gpd.GeoDataFrame]:
    """Split the evidence into partitions that each hold whole fade-out clusters.

    The building block of the dask engine (see the module notes), exposed for checks.

    Parameters
    ----------
    evidence : GeoDataFrame, dask_geopandas.GeoDataFrame or iterable of GeoDataFrame
        Evidence points with a CRS (see :func:`delineate`).
    radius_m : callable
        Takes a partition (GeoDataFrame) and returns the distance of each of its points.
    npartitions : int, optional
        Number of spatial partitions.
    scheduler, workers
        Where to run (see the module notes).

    Returns
    -------
    list of GeoDataFrame
        The partitions; their rows are the evidence rows, each exactly once.
    """
    parts, _ = _on_partitions(
        evidence,
        radius_m,
        _identity,
        (),
        npartitions=npartitions,
        scheduler=scheduler,
        workers=workers,
    )
    return parts


# --------------------------------------------------------------------------- fade-out


class _Distances:
    """A picklable radius function: the largest distance of the given rules."""

    def __init__(self, rules, use_accuracy):
        self.rules = rules
        self.use_accuracy = use_accuracy

    def __call__(self, part):
        return np.max(
            [r.distances_m(part, use_accuracy=self.use_accuracy) for r in self.rules], axis=0
        )


def _delineate_part(part, rule, use_accuracy, tolerance_m):
    from kosovo_cmr.analysis import fadeout

    if not len(part):
        return None
    return fadeout.delineate(part, rule, use_accuracy=use_accuracy, tolerance_m=tolerance_m)


def delineate(
    evidence,
    rule=None,
    *,
    engine: str = "local",
    use_accuracy: bool = False,
    tolerance_m: float = 0.01,
    npartitions: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> gpd.GeoDataFrame:
    """Delineate the area to clear with the chosen engine.

    The result has the columns of :func:`kosovo_cmr.analysis.fadeout.delineate`. With the dask
    engine the clusters are the same, numbered in their partitions' order (the local
    engine numbers them in its own order).

    Parameters
    ----------
    evidence : GeoDataFrame, dask_geopandas.GeoDataFrame or iterable of GeoDataFrame
        Evidence points with a CRS: in memory; a dask-geopandas frame (e.g. from
        ``dask_geopandas.read_parquet``), which the workers read; or chunks, such as
        :meth:`kosovo_cmr.store.base.Store.read_chunks` yields, which the dask engine
        writes out one at a time (the local engine joins them).
    rule : str, path or FadeoutRule, optional
        See :func:`kosovo_cmr.analysis.fadeout.load_rule`.
    engine : {"local", "dask"}
    use_accuracy, tolerance_m
        As for :func:`kosovo_cmr.analysis.fadeout.delineate`.
    npartitions : int, optional
        Number of spatial partitions (dask; default one per
        :func:`points_per_partition` points, 250,000 without a memory budget).
    scheduler : str, optional
        ``threads``, ``processes``, ``synchronous``, ``local`` or a scheduler address
        such as ``tcp://10.0.0.5:8786`` (default :data:`kosovo_cmr.settings.dask_scheduler`).
    workers : int, optional
        Number of local workers (threads, processes, or LocalCluster processes).

    Returns
    -------
    GeoDataFrame
    """
    from kosovo_cmr.analysis import fadeout

    _check_engine(engine)
    chosen = fadeout.load_rule(rule)
    if engine == "local":
        return fadeout.delineate(
            _whole(evidence), chosen, use_accuracy=use_accuracy, tolerance_m=tolerance_m
        )
    results, meta = _on_partitions(
        evidence,
        _Distances([chosen], use_accuracy),
        _delineate_part,
        (chosen, use_accuracy, tolerance_m),
        npartitions=npartitions,
        scheduler=scheduler,
        workers=workers,
    )
    frames = [r for r in results if r is not None and len(r)]
    crs = meta.crs
    if not frames:
        return fadeout.delineate(meta, chosen)
    out = pd.concat(frames, ignore_index=True)
    out["cluster_id"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)


def _impact_part(part, from_rule, to_rule, by, boundaries, use_accuracy, tolerance_m, rings):
    from kosovo_cmr.analysis import fadeout

    if not len(part):
        return None
    res = fadeout.buffer_impact(
        part,
        from_rule,
        to_rule,
        by=by,
        boundaries=boundaries,
        use_accuracy=use_accuracy,
        tolerance_m=tolerance_m,
    )
    return res.table, res.total, (res.rings if rings else None)


def _group_order(by: str, boundaries, groups) -> list:
    from kosovo_cmr.analysis import fadeout

    groups = list(dict.fromkeys(groups))
    if by in ("municipality", "region"):
        from kosovo_cmr.boundaries import regions_from_municipalities

        layer = regions_from_municipalities(boundaries) if by == "region" else boundaries
        names = [str(v) for v in layer[by]]
        return [g for g in names if g in groups] + (
            [fadeout.OUTSIDE] if fadeout.OUTSIDE in groups else []
        )
    if by == "hazard":
        return sorted(groups, key=lambda k: (k == fadeout.NO_HAZARD, str(k)))
    return groups


def _row(group, evidence, a_from, a_to) -> dict:
    """One row of the impact table, exactly as the local engine writes it."""
    from kosovo_cmr.analysis.fadeout import _row as local_row

    return local_row(group, evidence, a_from, a_to)


def buffer_impact(
    evidence,
    from_rule,
    to_rule,
    *,
    by: str = "none",
    boundaries=None,
    engine: str = "local",
    use_accuracy: bool = False,
    tolerance_m: float = 0.01,
    rings: bool = False,
    npartitions: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> EngineImpact:
    """Area to clear under two fade-out rules, by group, with the chosen engine.

    Parameters are those of :func:`kosovo_cmr.analysis.fadeout.buffer_impact`, plus ``engine``,
    ``rings`` (also return the ring layer) and the dask options of :func:`delineate`.

    Returns
    -------
    EngineImpact
        ``table`` and ``total`` as the local engine's.

    Raises
    ------
    kosovo_cmr.errors.InputError
        On a bad engine, rule, ``by``, or missing boundaries.
    """
    from kosovo_cmr.analysis import fadeout

    _check_engine(engine)
    if by not in fadeout.BY_CHOICES:
        raise InputError(f"by must be one of {', '.join(fadeout.BY_CHOICES)}, got {by!r}")
    if by in ("municipality", "region") and boundaries is None:
        raise InputError(f"by={by!r} needs the boundaries layer (boundaries=...)")
    r_from, r_to = fadeout.load_rule(from_rule), fadeout.load_rule(to_rule)
    if engine == "local":
        res = fadeout.buffer_impact(
            _whole(evidence),
            r_from,
            r_to,
            by=by,
            boundaries=boundaries,
            use_accuracy=use_accuracy,
            tolerance_m=tolerance_m,
        )
        return EngineImpact(
            res.table, res.total, res.rings if rings else None, "local", r_from, r_to, by
        )
    results, meta = _on_partitions(
        evidence,
        _Distances([r_from, r_to], use_accuracy),
        _impact_part,
        (r_from, r_to, by, boundaries, use_accuracy, tolerance_m, rings),
        npartitions=npartitions,
        scheduler=scheduler,
        workers=workers,
    )
    results = [r for r in results if r is not None]
    columns = ["group", "evidence", "area_from_m2", "area_to_m2", "saved_m2", "saved_pct"]
    if not results:
        table = pd.DataFrame(columns=columns)
        return EngineImpact(table, _row("total", 0, 0.0, 0.0), None, "dask", r_from, r_to, by)
    tables = pd.concat([t for t, _, _ in results], ignore_index=True)
    sums = tables.groupby("group", sort=False)[["evidence", "area_from_m2", "area_to_m2"]].sum()
    order = _group_order(by, boundaries, tables["group"])
    rows = [_row(g, *sums.loc[g]) for g in order]
    table = pd.DataFrame(rows, columns=columns)
    table["group"] = table["group"].astype("str")
    table["evidence"] = table["evidence"].astype("int64")
    total = _row(
        "total",
        sum(t["evidence"] for _, t, _ in results),
        sum(t["area_from_m2"] for _, t, _ in results),
        sum(t["area_to_m2"] for _, t, _ in results),
    )
    ring_layer = None
    if rings:
        ring_layer = pd.concat([r for _, _, r in results if len(r)], ignore_index=True)
        ring_layer = gpd.GeoDataFrame(ring_layer, geometry="geometry", crs=meta.crs)
        ring_layer["cluster_id"] = np.arange(1, len(ring_layer) + 1, dtype=np.int64)
    return EngineImpact(table, total, ring_layer, "dask", r_from, r_to, by)


# --------------------------------------------------------------------------- overlays


def _overlay_part(part, units, name_column, unit_label):
    from kosovo_cmr.analysis import overlay

    return overlay.contamination_by_unit(
        part, units, name_column=name_column, unit_label=unit_label
    )


def contamination_by_unit(
    hazards,
    units: gpd.GeoDataFrame,
    *,
    name_column: str,
    unit_label: str | None = None,
    engine: str = "local",
    npartitions: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Count and measure CHAs and SHAs by unit (as the local overlay does).

    With the dask engine the hazards are partitioned in space (Hilbert curve); each
    partition is split by all the units, and the tables are added up: each hazard is
    counted and measured in exactly one partition, so the result is the local one.

    Parameters
    ----------
    hazards : GeoDataFrame or dask_geopandas.GeoDataFrame
    units : GeoDataFrame
    name_column, unit_label
        As for :func:`kosovo_cmr.analysis.overlay.contamination_by_unit`.
    engine : {"local", "dask"}
    npartitions, scheduler, workers
        See :func:`delineate`.

    Returns
    -------
    pandas.DataFrame
    """
    from kosovo_cmr.analysis import overlay

    _check_engine(engine)
    if engine == "local" or not len(hazards):
        if not isinstance(hazards, gpd.GeoDataFrame):
            hazards = hazards.compute()
        return overlay.contamination_by_unit(
            hazards, units, name_column=name_column, unit_label=unit_label
        )
    import dask

    dgpd = require("dask_geopandas", "scale")
    require_crs(hazards, name="hazards")
    if isinstance(hazards, gpd.GeoDataFrame):
        n = npartitions or max(1, min(len(hazards) // 500, 64))
        ddf = dgpd.from_geopandas(hazards, npartitions=n)
    else:
        ddf = hazards
    if ddf.npartitions > 1:
        ddf = ddf.spatial_shuffle(by="hilbert", npartitions=ddf.npartitions, shuffle_method="tasks")
    with _scheduler(scheduler, workers) as how:
        tables = _compute(
            *[
                dask.delayed(_overlay_part)(p, units, name_column, unit_label)
                for p in ddf.to_delayed()
            ],
            how=how,
        )
    label = unit_label or name_column
    first = tables[0]
    stacked = pd.concat(tables, ignore_index=True)
    key = stacked[label].map(lambda u: "\uffff" if u is None else u)
    summed = stacked.drop(columns=[label]).groupby(key.to_numpy(), sort=False).sum()
    units_order = [u for u in first[label]]
    extra = [u for u in dict.fromkeys(stacked[label]) if u not in units_order]
    rows = []
    for unit in units_order + extra:
        k = "\uffff" if unit is None else unit
        rows.append({label: unit, **summed.loc[k].to_dict()})
    out = pd.DataFrame(rows, columns=first.columns)
    for col in first.columns:
        if col != label:
            out[col] = out[col].astype(first[col].dtype)
    if None in extra:  # the outside row goes last, as the local engine puts it
        out = pd.concat([out[out[label].notna()], out[out[label].isna()]], ignore_index=True)
    return out
