"""Where the dask engine's partitions meet: Z-order keys, grid squares, halos, clusters.

Private plumbing of :mod:`kosovo_cmr.analysis._spill` (see the notes of
:mod:`kosovo_cmr.analysis.engine`). Points travel as frames of :data:`COLUMNS`: an id,
metric x, y and the fade-out radius. Z-order (Morton) keys on the national grid order
the points into spatially compact partitions; the ``cell`` x ``cell`` grid squares (at
least as wide as the reach, twice the largest radius) that a partition occupies decide
its neighbours and the halo strip each sends it; and clusters are the connected
components of points closer than the reach, read off the Delaunay triangulation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from kosovo_cmr.analysis._disks import chunk_groups

#: The columns of a frame of points: id, metric x, y and radius.
COLUMNS = ["_pid", "_x", "_y", "_r"]


def bounds(part) -> tuple:
    """Return a partition's box, largest radius and size: ``(x0, y0, x1, y1, r, n)``."""
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
GRID = (7_300_000.0, 4_550_000.0, 7_700_000.0, 4_850_000.0)


def morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order (Morton) code of metric points on a 2**16 x 2**16 grid over Kosovo."""
    xmin, ymin, xmax, ymax = GRID
    side = float(max(xmax - xmin, ymax - ymin))
    ix = np.clip((x - xmin) / side * 65535, 0, 65535).astype(np.uint64)
    iy = np.clip((y - ymin) / side * 65535, 0, 65535).astype(np.uint64)

    def spread(v):
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return (spread(ix) | (spread(iy) << np.uint64(1))).astype(np.int64)


def cell_codes(x: np.ndarray, y: np.ndarray, cell: float) -> np.ndarray:
    """Integer code of the ``cell`` x ``cell`` grid square of each metric point."""
    ix = np.floor(np.asarray(x, float) / cell).astype(np.int64)
    iy = np.floor(np.asarray(y, float) / cell).astype(np.int64)
    return (ix << np.int64(32)) + (iy + np.int64(1 << 31))


def cells(part, cell: float) -> np.ndarray:
    """Sorted codes of the grid squares that hold a point of the partition."""
    if not len(part):
        return np.zeros(0, np.int64)
    return np.unique(cell_codes(part["_x"].to_numpy(), part["_y"].to_numpy(), cell))


def dilate(codes: np.ndarray) -> np.ndarray:
    """Sorted codes of the grid squares ``codes`` and the eight around each of them.

    Given the squares a partition occupies (:func:`cells`), with squares at least as wide
    as the reach, every point closer than the reach to a point of the partition lies in
    one of these: the halo a neighbour sends is its points in them (:func:`clip`), a
    strip along the partition's own points, not its bounding box (Z-order partitions can
    have boxes much larger than themselves).
    """
    steps = [(dx << 32) + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    return np.unique(np.concatenate([codes + np.int64(s) for s in steps]))


def clip(part, near: np.ndarray, cell: float) -> pd.DataFrame:
    """Return the points of a partition in the grid squares ``near`` (another's halo)."""
    if not len(part) or not len(near):
        return pd.DataFrame(part[COLUMNS].iloc[:0])
    codes = cell_codes(part["_x"].to_numpy(), part["_y"].to_numpy(), cell)
    pos = np.minimum(np.searchsorted(near, codes), len(near) - 1)
    return pd.DataFrame(part.loc[near[pos] == codes, COLUMNS])


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


def touching_components(xy: np.ndarray, reach: float) -> tuple[int, np.ndarray]:
    """Label the connected components of the points joined when closer than ``reach``.

    Two points are in one component exactly when a path of Delaunay edges no longer
    than ``reach`` joins them (the Euclidean minimum spanning tree lies in the Delaunay
    triangulation), so the threshold graph never has to be built: O(n log n) however
    dense the evidence. As in the local engine (:mod:`kosovo_cmr.analysis._disks`), the points
    are first split into groups that cannot touch (components of occupied grid squares
    ``reach`` wide), and groups of a few thousand points are triangulated one at a time,
    which keeps qhull in cache. Coincident points are merged first.
    """
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


def components(part, halos) -> dict:
    """Find the connected clusters of a partition's points together with its halo points.

    Points are joined when closer than twice the largest radius: clusters formed so may
    join more than the disks' own clusters, never fewer, which is all that whole-cluster
    partitions need (areas of unions add up either way).
    """
    own = pd.DataFrame(part[COLUMNS])
    halos = [h for h in halos if len(h)]
    pts = pd.concat([own, *halos], ignore_index=True) if halos else own
    if len(pts) == 0:
        empty = np.zeros(0, np.int64)
        return {"own": empty, "pid": empty, "halo_pid": empty, "halo_label": empty, "n": 0}
    reach = 2.0 * float(pts["_r"].max()) * (1 + 1e-9)
    k, labels = touching_components(pts[["_x", "_y"]].to_numpy(), reach)
    n_own = len(own)
    return {
        "own": labels[:n_own].astype(np.int64),
        "pid": own["_pid"].to_numpy(np.int64),
        "halo_pid": pts["_pid"].to_numpy(np.int64)[n_own:],
        "halo_label": labels[n_own:].astype(np.int64),
        "n": k,
    }
