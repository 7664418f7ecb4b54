"""Analysis engines: the same fade-out and overlay results, on one core or many.

``engine="local"`` runs :mod:`kosovo_cmr.fadeout` and :mod:`kosovo_cmr.overlay` in this
process. ``engine="dask"`` partitions the data in space with dask-geopandas and runs the
very same functions on each partition, in parallel, with the data spread over the
workers' memory, on the cores of this machine or, unchanged, on a dask distributed
cluster (``scheduler="tcp://host:8786"``). The results equal the local engine's: areas
to within floating point (far inside 0.01 %), counts exactly.

How the evidence is partitioned
-------------------------------
The fade-out area of a point depends on every point whose disk touches its own, so a
partition may only be measured alone if it holds *whole clusters*. The dask engine

1. sorts the points along a Z-order (Morton) curve of the national grid into spatially
   compact partitions (a dask shuffle; cheaper to compute than dask-geopandas' Hilbert
   distance, and as good for partitions of this size);
2. gives each partition a *halo*: the points of the other partitions in the squares of
   a grid, as wide as twice the largest fade-out distance (the farthest two disks can
   be and still touch), next to or under one of its own points, a strip along its
   points rather than its bounding box (a Z-order partition's box can hold more points
   of other partitions than of its own);
3. finds the connected clusters of each partition with its halo (points closer than
   twice the largest distance, read off the Delaunay triangulation, so O(n log n);
   such clusters may join more disks than touch, never fewer), and joins clusters
   that share a halo point across partitions (a union-find over a small table of
   links, the only data gathered on the client);
4. moves the points of the few clusters that cross a partition boundary into one
   partition, so that every partition holds whole clusters;
5. runs :func:`kosovo_cmr.fadeout.delineate` or :func:`~kosovo_cmr.fadeout.buffer_impact`
   on each partition and adds the results up.

The fade-out areas of different clusters do not overlap, so areas add up exactly: by
hazard, municipality, region or in total. For a rule change the clusters are found
with the larger of the two distances of each point, so they are whole under both rules.

Hazard overlays (:func:`contamination_by_unit`) partition the hazards the same way;
each hazard is measured in one partition against all the boundaries, so the tables add
up exactly too.

Memory
------
A worker holds its share of the partitions (kept between the steps, not read twice)
and works on one partition, with its halo, at a time. The size of a partition sets
that working memory: :func:`points_per_partition` chooses it from a worker memory
budget (:data:`kosovo_cmr.settings.dask_worker_memory`, ``KCMR_DASK_WORKER_MEMORY``),
and a local cluster gives its workers that budget as their memory limit, past which
dask spills the partitions they hold to disk (a soft limit: workers are never paused
or restarted for it, and a single worker holding all the points can exceed it).
Without a budget, partitions have 250,000 points and a worker holds its share of all
the points in memory, so its memory is not bounded by the partition size.

Where it runs
-------------
``scheduler=None`` (or ``"threads"``) uses dask's threads in this process;
``"processes"`` and ``"synchronous"`` its other local schedulers; ``"local"`` starts a
:class:`distributed.LocalCluster` with ``workers`` processes; any other value is the
address of a running dask scheduler (``tcp://10.0.0.5:8786``) to which a
:class:`distributed.Client` connects. The default comes from
:data:`kosovo_cmr.settings.dask_scheduler` (``KCMR_DASK_SCHEDULER``).
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
        ``saved_pct``: as :class:`kosovo_cmr.fadeout.ImpactResult.table`.
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
        # with a budget, workers spill held partitions to disk past 60-70 % of it, and
        # never pause or restart (a task bigger than the budget still runs)
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


def _as_dask(evidence, npartitions: int | None):
    dgpd = require("dask_geopandas", "scale")
    if isinstance(evidence, dgpd.GeoDataFrame):
        require_crs(evidence, name="evidence")
        return evidence if npartitions is None else evidence.repartition(npartitions=npartitions)
    require_crs(evidence, name="evidence")
    n = npartitions or max(1, -(-len(evidence) // points_per_partition()))
    return dgpd.from_geopandas(evidence.reset_index(drop=True), npartitions=n)


def _annotate(part: gpd.GeoDataFrame, radius, partition_info=None) -> gpd.GeoDataFrame:
    """Add a global point id, metric x, y and the clustering radius."""
    from kosovo_cmr.fadeout import _metric_points

    base = (partition_info or {}).get("number", 0) << 40
    out = part.copy()
    if len(part):
        x, y = _metric_points(part)
        r = radius(part)
    else:
        x = y = r = np.zeros(0)
    out["_pid"] = np.arange(len(part), dtype=np.int64) + base
    out["_x"] = np.asarray(x, float)
    out["_y"] = np.asarray(y, float)
    out["_r"] = np.asarray(r, float)
    out["_key"] = _morton(out["_x"].to_numpy(), out["_y"].to_numpy())
    return out


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


def _touching_components(xy: np.ndarray, reach: float) -> tuple[int, np.ndarray]:
    """Label the connected components of the points joined when closer than ``reach``.

    Two points are in one component exactly when a path of Delaunay edges no longer
    than ``reach`` joins them (the Euclidean minimum spanning tree lies in the Delaunay
    triangulation), so the threshold graph never has to be built: O(n log n) however
    dense the evidence. Coincident points are joined to the vertex they coincide with;
    degenerate inputs (fewer than three points, all collinear) fall back to a k-d tree.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import Delaunay, QhullError, cKDTree

    n = len(xy)
    if n == 0:
        return 0, np.zeros(0, np.int64)
    try:
        if n < 3:
            raise QhullError("too few points")
        tri = Delaunay(xy - xy.mean(axis=0))
        t = tri.simplices
        edges = [t[:, [0, 1]], t[:, [1, 2]], t[:, [0, 2]]]
        if len(tri.coplanar):  # coincident points are left out: join them to their twin
            edges.append(tri.coplanar[:, [0, 2]])
        edges = np.concatenate(edges)
    except QhullError:
        edges = cKDTree(xy).query_pairs(reach, output_type="ndarray")
    if len(edges):
        d = np.hypot(*(xy[edges[:, 0]] - xy[edges[:, 1]]).T)
        edges = edges[d <= reach]
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    k, labels = connected_components(graph, directed=False)
    return int(k), labels


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


def _links(comp_i, comp_j, i: int, j: int) -> np.ndarray:
    """Rows (i, label in i, j, label in j) for the points of j seen in i's halo."""
    pos = pd.Index(comp_j["pid"]).get_indexer(comp_i["halo_pid"])
    mine = pos >= 0
    if not mine.any():
        return np.zeros((0, 4), np.int64)
    rows = np.column_stack(
        [
            np.full(mine.sum(), i),
            comp_i["halo_label"][mine],
            np.full(mine.sum(), j),
            comp_j["own"][pos[mine]],
        ]
    )
    return np.unique(rows, axis=0)


def _take(part, comp, moving: np.ndarray) -> gpd.GeoDataFrame:
    """Return the points of a partition whose cluster label is in ``moving``."""
    return part[np.isin(comp["own"], moving)]


def _assemble(part, comp, staying: np.ndarray, incoming) -> gpd.GeoDataFrame:
    keep = part[np.isin(comp["own"], staying)] if len(part) else part
    frames = [keep, *[p for p in incoming if len(p)]]
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else keep
    out = gpd.GeoDataFrame(out, geometry=part.geometry.name, crs=part.crs)
    return out.drop(columns=[c for c in (*_COLS, "_key") if c in out.columns]).reset_index(
        drop=True
    )


def _persist(things, how) -> list:
    import dask

    if not isinstance(how.get("scheduler"), str | None):
        return list(how["scheduler"].persist(list(things)))  # on the cluster's workers
    return list(dask.persist(*things, **{k: v for k, v in how.items() if v is not None}))


def _whole_cluster_partitions(ddf, radius, how):
    """Delayed partitions of the evidence that each hold whole clusters (see the notes)."""
    import dask
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ddf = ddf.map_partitions(_annotate, radius, meta=_annotate(ddf._meta, radius))
    if ddf.npartitions > 1:
        ddf = ddf.set_index("_key", npartitions=ddf.npartitions, sort=True, shuffle_method="tasks")
    parts = _persist(ddf.to_delayed(), how)  # kept on the workers, computed once
    bounds = _compute(*[dask.delayed(_bounds)(p) for p in parts], how=how)
    rmax = max((b[4] for b in bounds), default=0.0)
    reach = 2.0 * rmax
    p = len(parts)
    cell = max(reach * (1 + 1e-9), 1.0)
    # the squares each partition occupies (a few bytes a cluster) decide which
    # partitions are neighbours, and which squares each sends the other as halo
    cells = _compute(*[dask.delayed(_cells)(part, cell) for part in parts], how=how)
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
                near = _dilate(cells[i]) if near is None else near
                shared = np.intersect1d(near, cells[j], assume_unique=True)
                if len(shared):
                    neighbours[i].append((j, shared))
    del cells
    comps = [
        dask.delayed(_components)(
            parts[i], [dask.delayed(_clip)(parts[j], shared, cell) for j, shared in nb]
        )
        for i, nb in neighbours.items()
    ]
    comps = _persist(comps, how)
    links = [
        dask.delayed(_links)(comps[i], comps[j], i, j)
        for i, nb in neighbours.items()
        for j, _ in nb
    ]
    counts_links = _compute(*[dask.delayed(lambda c: c["n"])(c) for c in comps], *links, how=how)
    counts = np.asarray(counts_links[:p], dtype=np.int64)
    edges = [e for e in counts_links[p:] if len(e)]
    offset = np.concatenate([[0], np.cumsum(counts)])
    total = int(offset[-1])
    part_of = np.repeat(np.arange(p), counts)
    if edges:
        e = np.concatenate(edges)
        a = offset[e[:, 0]] + e[:, 1]
        b = offset[e[:, 2]] + e[:, 3]
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(total, total))
        _, glob = connected_components(graph, directed=False)
    else:
        glob = np.arange(total)
    # the target partition of each global cluster: the lowest partition that holds it
    target = np.full(glob.max() + 1 if total else 0, p, dtype=np.int64)
    np.minimum.at(target, glob, part_of)
    moves: dict[tuple[int, int], list[int]] = {}
    staying = []
    for i in range(p):
        labels = np.arange(counts[i])
        dest = target[glob[offset[i] : offset[i + 1]]]
        staying.append(labels[dest == i])
        for t in np.unique(dest[dest != i]):
            moves[(i, int(t))] = labels[dest == t]
    moved = sum(len(v) for v in moves.values())
    log.info("dask engine: %d partitions, %d cross-partition cluster moves", p, moved)
    incoming = {i: [] for i in range(p)}
    for (src, dst), labels in moves.items():
        incoming[dst].append(dask.delayed(_take)(parts[src], comps[src], labels))
    return [dask.delayed(_assemble)(parts[i], comps[i], staying[i], incoming[i]) for i in range(p)]


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
    evidence : GeoDataFrame or dask_geopandas.GeoDataFrame
        Evidence points with a CRS.
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
    with _scheduler(scheduler, workers) as how:
        ddf = _as_dask(evidence, npartitions)
        parts = _whole_cluster_partitions(ddf, radius_m, how)
        return list(_compute(*parts, how=how))


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
    from kosovo_cmr import fadeout

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

    The result has the columns of :func:`kosovo_cmr.fadeout.delineate`. With the dask
    engine the clusters are the same, numbered in their partitions' order (the local
    engine numbers them in its own order).

    Parameters
    ----------
    evidence : GeoDataFrame or dask_geopandas.GeoDataFrame
        Evidence points with a CRS.
    rule : str, path or FadeoutRule, optional
        See :func:`kosovo_cmr.fadeout.load_rule`.
    engine : {"local", "dask"}
    use_accuracy, tolerance_m
        As for :func:`kosovo_cmr.fadeout.delineate`.
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
    from kosovo_cmr import fadeout

    _check_engine(engine)
    chosen = fadeout.load_rule(rule)
    if engine == "local":
        if not isinstance(evidence, gpd.GeoDataFrame):
            evidence = evidence.compute()
        return fadeout.delineate(
            evidence, chosen, use_accuracy=use_accuracy, tolerance_m=tolerance_m
        )
    import dask

    with _scheduler(scheduler, workers) as how:
        ddf = _as_dask(evidence, npartitions)
        crs = ddf.crs
        parts = _whole_cluster_partitions(ddf, _Distances([chosen], use_accuracy), how)
        results = _compute(
            *[dask.delayed(_delineate_part)(p, chosen, use_accuracy, tolerance_m) for p in parts],
            how=how,
        )
    frames = [r for r in results if r is not None and len(r)]
    if not frames:
        return fadeout.delineate(ddf._meta, chosen)
    out = pd.concat(frames, ignore_index=True)
    out["cluster_id"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)


def _impact_part(part, from_rule, to_rule, by, boundaries, use_accuracy, tolerance_m, rings):
    from kosovo_cmr import fadeout

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
    from kosovo_cmr import fadeout

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
    from kosovo_cmr.fadeout import _row as local_row

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

    Parameters are those of :func:`kosovo_cmr.fadeout.buffer_impact`, plus ``engine``,
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
    from kosovo_cmr import fadeout

    _check_engine(engine)
    if by not in fadeout.BY_CHOICES:
        raise InputError(f"by must be one of {', '.join(fadeout.BY_CHOICES)}, got {by!r}")
    if by in ("municipality", "region") and boundaries is None:
        raise InputError(f"by={by!r} needs the boundaries layer (boundaries=...)")
    r_from, r_to = fadeout.load_rule(from_rule), fadeout.load_rule(to_rule)
    if engine == "local":
        if not isinstance(evidence, gpd.GeoDataFrame):
            evidence = evidence.compute()
        res = fadeout.buffer_impact(
            evidence,
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
    import dask

    with _scheduler(scheduler, workers) as how:
        ddf = _as_dask(evidence, npartitions)
        parts = _whole_cluster_partitions(ddf, _Distances([r_from, r_to], use_accuracy), how)
        results = _compute(
            *[
                dask.delayed(_impact_part)(
                    p, r_from, r_to, by, boundaries, use_accuracy, tolerance_m, rings
                )
                for p in parts
            ],
            how=how,
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
        ring_layer = gpd.GeoDataFrame(ring_layer, geometry="geometry", crs=ddf.crs)
        ring_layer["cluster_id"] = np.arange(1, len(ring_layer) + 1, dtype=np.int64)
    return EngineImpact(table, total, ring_layer, "dask", r_from, r_to, by)


# --------------------------------------------------------------------------- overlays


def _overlay_part(part, units, name_column, unit_label):
    from kosovo_cmr import overlay

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
    """Count and measure CHAs and SHAs by unit (:func:`kosovo_cmr.overlay.contamination_by_unit`).

    With the dask engine the hazards are partitioned in space (Hilbert curve); each
    partition is split by all the units, and the tables are added up: each hazard is
    counted and measured in exactly one partition, so the result is the local one.

    Parameters
    ----------
    hazards : GeoDataFrame or dask_geopandas.GeoDataFrame
    units : GeoDataFrame
    name_column, unit_label
        As for :func:`kosovo_cmr.overlay.contamination_by_unit`.
    engine : {"local", "dask"}
    npartitions, scheduler, workers
        See :func:`delineate`.

    Returns
    -------
    pandas.DataFrame
    """
    from kosovo_cmr import overlay

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
