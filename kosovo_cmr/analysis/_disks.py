"""The exact union of many planar disks: connected clusters, area and boundary.

Private plumbing of :mod:`kosovo_cmr.analysis.fadeout`. Everything here is planar (the caller
passes coordinates in a metric CRS) and vectorised with numpy.

Area by Green's theorem
-----------------------
The boundary of a union of disks is made of circular arcs: the parts of each circle that
no other disk covers. For each circle the arcs covered by each overlapping disk are
angular intervals; their complement are the *uncovered arcs*, and the area of the union
is ``0.5 * sum(x dy - y dx)`` over them, which for an arc of the circle ``(cx, cy, r)``
from angle ``a`` to ``b`` is exactly::

    0.5 * (r**2 * (b - a) + r * cx * (sin b - sin a) - r * cy * (cos b - cos a))

No polygon approximates a circle anywhere: the area is exact up to floating point.

Neighbours
----------
Only disks whose *power cells* touch can shape each other's uncovered arcs (the union
of disks is the union of each disk clipped to its power cell, and the uncovered part of a
circle is the circle clipped to its power cell). The power-cell neighbours are the edges
of the regular (weighted Delaunay) triangulation, the lower convex hull of the points
lifted to ``(x, y, x**2 + y**2 - r**2)``: about ``3 n`` edges, however dense the
evidence, instead of the ``O(n k)`` pairs of overlapping disks. Points that are not
vertices of the lower hull have empty power cells: their disk is covered by the others.
A brute-force mode (every overlapping pair, from a k-d tree) is kept for tiny or
degenerate inputs and to cross-check the triangulation in the tests.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError, cKDTree

TWO_PI = 2.0 * np.pi
#: Angular gaps narrower than this (radians) are closed: floating-point noise.
_MIN_GAP = 1e-10
#: Circles per block of the segmented running maximum (see _uncovered_arcs).
_BLOCK = 1024
#: Points per triangulation chunk (see _pairs_chunked).
_CHUNK = 2048
#: Threads triangulating chunks at once.
_WORKERS = min(4, os.cpu_count() or 1)
#: Arc ends closer than this (metres) are the same boundary vertex.
_LINK_TOL_M = 1e-4


@dataclass
class DiskUnion:
    """The union of a set of disks, as computed by :func:`union_of_disks`.

    Attributes
    ----------
    x, y, r : ndarray
        The input disks (centres and radii), in input order.
    labels : ndarray of int
        Cluster (connected component of the union) of each input disk, ``0..n_clusters-1``.
    n_clusters : int
    area : ndarray
        Planar area of each cluster.
    origin : ndarray, shape (n_clusters, 2)
        A point of each cluster, the origin of its Green integrals (for precision).
    arc_circle, arc_a, arc_b : ndarray
        The uncovered boundary arcs: input index of the circle, start and end angle
        (radians, ``arc_a < arc_b``, counter-clockwise).
    """

    x: np.ndarray
    y: np.ndarray
    r: np.ndarray
    labels: np.ndarray
    n_clusters: int
    area: np.ndarray
    origin: np.ndarray
    arc_circle: np.ndarray
    arc_a: np.ndarray
    arc_b: np.ndarray

    @property
    def total_area(self) -> float:
        """Planar area of the whole union."""
        return float(self.area.sum())


def _dedupe(x, y, r):
    """Return the indices of distinct disks and the map input -> distinct."""
    order = np.lexsort((r, y, x))
    xs, ys, rs = x[order], y[order], r[order]
    new = np.ones(len(x), dtype=bool)
    new[1:] = (np.diff(xs) != 0) | (np.diff(ys) != 0) | (np.diff(rs) != 0)
    group = np.cumsum(new) - 1
    keep = order[new]
    inverse = np.empty(len(x), dtype=np.int64)
    inverse[order] = group
    return keep, inverse


def _spatial_order(x, y, keep, inverse, cell_m: float = 1000.0):
    """Reorder the distinct disks by grid cell, so that neighbours are near in memory."""
    kx, ky = x[keep], y[keep]
    cx = np.floor((kx - kx.min()) / cell_m).astype(np.int64)
    cy = np.floor((ky - ky.min()) / cell_m).astype(np.int64)
    perm = np.argsort(cx * (int(cy.max()) + 1) + cy, kind="stable")
    rank = np.empty(len(perm), dtype=np.int64)
    rank[perm] = np.arange(len(perm))
    return keep[perm], rank[inverse]


def _pairs_bruteforce(x, y, r):
    """Every pair of overlapping disks, from a k-d tree."""
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(2.0 * float(r.max()), output_type="ndarray")
    return pairs.astype(np.int64).reshape(-1, 2), np.zeros(len(x), dtype=bool)


def _pairs_regular(x, y, r):
    """Edges of the regular triangulation and the hidden (covered) disks.

    Four far corner points frame the data so that every real disk lies inside the 2D
    convex hull: a real point that is a vertex of the lifted hull is then a vertex of
    its lower hull, and a real point that is no vertex at all has an empty power cell.
    """
    n = len(x)
    cx, cy = x.mean(), y.mean()
    lx, ly = x - cx, y - cy
    span = max(float(np.ptp(lx)), float(np.ptp(ly)), float(r.max())) + 4.0 * float(r.max())
    frame = 2.0 * span
    fx = np.array([-frame, frame, frame, -frame])
    fy = np.array([-frame, -frame, frame, frame])
    px = np.concatenate([lx, fx])
    py = np.concatenate([ly, fy])
    pw = np.concatenate([r, np.zeros(4)])
    lifted = np.column_stack([px, py, px * px + py * py - pw * pw])
    hull = ConvexHull(lifted, qhull_options="Qt Qbb Qc")
    simp = hull.simplices
    edges = np.concatenate([simp[:, [0, 1]], simp[:, [1, 2]], simp[:, [0, 2]]])
    edges = edges[(edges < n).all(axis=1)]
    edges.sort(axis=1)
    codes = np.unique(edges[:, 0].astype(np.int64) * n + edges[:, 1])
    pairs = np.column_stack([codes // n, codes % n])
    vertex = np.zeros(n + 4, dtype=bool)
    vertex[hull.vertices] = True
    return pairs, ~vertex[:n]


def _superclusters(x, y, reach: float) -> np.ndarray:
    """Label groups of points that no disk links across (components of grid cells).

    Cells are ``reach`` (the largest centre distance at which two disks can overlap)
    wide, so overlapping disks lie in the same or adjacent cells.
    """
    cx = np.floor((x - x.min()) / reach).astype(np.int64)
    cy = np.floor((y - y.min()) / reach).astype(np.int64) + 1
    m = int(cy.max()) + 2
    keys, inverse = np.unique(cx * m + cy, return_inverse=True)
    edges = []
    for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
        target = keys + dx * m + dy
        pos = np.minimum(np.searchsorted(keys, target), len(keys) - 1)
        hit = keys[pos] == target
        edges.append(np.column_stack([np.flatnonzero(hit), pos[hit]]))
    labels = _components(len(keys), np.concatenate(edges))
    return labels[inverse]


def chunk_groups(x, y, reach: float, chunk: int = _CHUNK) -> list[np.ndarray]:
    """Split points into spatial chunks of about ``chunk`` points that nothing links across.

    Groups of points that no two points closer than ``reach`` join (see
    :func:`_superclusters`) stay whole; groups are packed into chunks of about ``chunk``
    points, each small enough to triangulate with qhull in cache.

    Returns
    -------
    list of numpy.ndarray
        The indices of the points of each chunk.
    """
    sc = _superclusters(x, y, reach)
    sizes = np.bincount(sc)
    chunk_of = ((np.cumsum(sizes) - sizes) // chunk)[sc]
    order = np.argsort(chunk_of, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(chunk_of[order])) + 1)


def _pairs_chunked(x, y, r, chunk: int = _CHUNK):
    """Regular-triangulation edges computed on spatial chunks of a few thousand points.

    Points are grouped into superclusters that cannot interact, and superclusters into
    chunks of about ``chunk`` points; each chunk is triangulated on its own, which keeps
    qhull in cache (several times faster per point than one national triangulation).
    """
    n = len(x)
    hidden = np.zeros(n, dtype=bool)

    def one(idx):
        p = h = None
        if len(idx) > 16:
            try:
                p, h = _pairs_regular(x[idx], y[idx], r[idx])
            except QhullError:
                pass
        if p is None:
            p, h = _pairs_bruteforce(x[idx], y[idx], r[idx])
        return idx, p, h

    chunks = [idx for idx in chunk_groups(x, y, 2.0 * float(r.max()), chunk) if len(idx) >= 2]
    if _WORKERS > 1 and len(chunks) > 1:
        # qhull releases the GIL: chunks triangulate in parallel threads
        with ThreadPoolExecutor(_WORKERS) as pool:
            results = list(pool.map(one, chunks))
    else:
        results = [one(idx) for idx in chunks]
    pairs = []
    for idx, p, h in results:
        pairs.append(idx[p])
        hidden[idx] = h
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64), hidden
    return np.concatenate(pairs), hidden


def _components(n, pairs):
    if len(pairs):
        graph = coo_matrix(
            (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
        )
    else:
        graph = coo_matrix((n, n), dtype=np.int8)
    _, labels = connected_components(graph, directed=False)
    return labels


def _label_hidden(x, y, r, labels, hidden):
    """Give each hidden disk the cluster of a visible disk containing its centre."""
    vis = np.flatnonzero(~hidden)
    hid = np.flatnonzero(hidden)
    if not len(hid):
        return labels
    tree = cKDTree(np.column_stack([x[vis], y[vis]]))
    todo = hid
    for k in (4, 16):  # most hidden disks lie in one of their nearest visible neighbours
        if not len(todo):
            break
        k = min(k, len(vis))
        dist, idx = tree.query(np.column_stack([x[todo], y[todo]]), k=k)
        dist = dist.reshape(len(todo), k)
        idx = idx.reshape(len(todo), k)
        power = dist**2 - r[vis][idx] ** 2
        best = np.argmin(power, axis=1)
        ok = power[np.arange(len(todo)), best] < 0
        labels[todo[ok]] = labels[vis[idx[np.arange(len(todo)), best]][ok]]
        todo = todo[~ok]
    for h in todo:  # rare: the covering disk is not among the 16 nearest centres
        near = tree.query_ball_point([x[h], y[h]], float(r.max()))
        near = np.asarray(near, dtype=np.int64)
        pw = (x[vis][near] - x[h]) ** 2 + (y[vis][near] - y[h]) ** 2 - r[vis][near] ** 2
        labels[h] = labels[vis[near[np.argmin(pw)]]]
    return labels


def _covered_intervals(x, y, r, pairs):
    """Angular intervals of each circle covered by another disk, and fully covered circles.

    Returns (circle, start, end) with 0 <= start < 2 pi, start < end <= start + 2 pi, and a
    boolean mask of circles covered whole by a single disk.
    """
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    dx = x[j] - x[i]
    dy = y[j] - y[i]
    d = np.hypot(dx, dy)
    ri, rj = r[i], r[j]
    meet = d < ri + rj
    full = meet & (d + ri <= rj)
    inside = meet & (d + rj <= ri)
    part = meet & ~full & ~inside
    covered = np.zeros(len(x), dtype=bool)
    covered[i[full]] = True
    i, dx, dy, d, ri, rj = i[part], dx[part], dy[part], d[part], ri[part], rj[part]
    theta = np.arctan2(dy, dx)
    half = np.arccos(np.clip((d * d + ri * ri - rj * rj) / (2.0 * d * ri), -1.0, 1.0))
    start = np.mod(theta - half, TWO_PI)
    return i, start, start + 2.0 * half, covered


def _uncovered_arcs(n, circle, start, end, skip):
    """Complement of the covered intervals on each circle: the boundary arcs."""
    wrap = end > TWO_PI
    circle = np.concatenate([circle, circle[wrap]])
    lo = np.concatenate([start, np.zeros(int(wrap.sum()))])
    hi = np.concatenate([np.where(wrap, TWO_PI, end), end[wrap] - TWO_PI])
    keep = ~skip[circle]
    circle, lo, hi = circle[keep], lo[keep], hi[keep]
    if len(circle) and circle.max() < 2**23:
        # one integer key (circle, start quantised to 2**-37 rad) sorts faster than lexsort
        order = np.argsort((circle.astype(np.int64) << 40) | (lo * 2.0**37).astype(np.int64))
    else:
        order = np.lexsort((lo, circle))
    circle, lo, hi = circle[order], lo[order], hi[order]
    # running maximum of the ends within each circle: consecutive circles are offset by
    # 8 > 2 pi, and the offset restarts every _BLOCK circles to keep its rounding tiny
    runmax = np.empty(len(circle))
    block = circle // _BLOCK
    bounds = np.flatnonzero(np.diff(block)) + 1
    for lo_i, hi_i in zip(
        np.concatenate([[0], bounds]), np.concatenate([bounds, [len(circle)]]), strict=True
    ):
        offset = (circle[lo_i:hi_i] % _BLOCK).astype(float) * 8.0
        runmax[lo_i:hi_i] = np.maximum.accumulate(hi[lo_i:hi_i] + offset) - offset
    first = np.ones(len(circle), dtype=bool)
    first[1:] = circle[1:] != circle[:-1]
    prev = np.empty(len(circle))
    prev[1:] = runmax[:-1]
    prev[first] = 0.0
    gap = lo - prev > _MIN_GAP
    arcs_c = [circle[gap]]
    arcs_a = [prev[gap]]
    arcs_b = [lo[gap]]
    last = np.ones(len(circle), dtype=bool)
    last[:-1] = circle[1:] != circle[:-1]
    tail = last & (TWO_PI - runmax > _MIN_GAP)
    arcs_c.append(circle[tail])
    arcs_a.append(runmax[tail])
    arcs_b.append(np.full(int(tail.sum()), TWO_PI))
    # circles that nothing touches: the whole circle
    touched = np.zeros(n, dtype=bool)
    touched[circle] = True
    free = np.flatnonzero(~touched & ~skip)
    arcs_c.append(free)
    arcs_a.append(np.zeros(len(free)))
    arcs_b.append(np.full(len(free), TWO_PI))
    c = np.concatenate(arcs_c)
    a = np.concatenate(arcs_a)
    b = np.concatenate(arcs_b)
    order = np.lexsort((a, c))
    return c[order], a[order], b[order]


def _arc_terms(cx, cy, r, a, b):
    """Green's integral 0.5 * (x dy - y dx) along each arc (centre relative to an origin)."""
    return 0.5 * (
        r * r * (b - a) + r * cx * (np.sin(b) - np.sin(a)) - r * cy * (np.cos(b) - np.cos(a))
    )


def union_of_disks(x, y, r, *, method: str = "auto") -> DiskUnion:
    """Clusters, exact area and boundary arcs of the union of disks.

    Parameters
    ----------
    x, y, r : array_like
        Centres and radii (same length, planar metric coordinates, radii > 0).
    method : {"auto", "regular", "pairs"}
        Neighbours from one regular triangulation of all disks ("regular"), from every
        overlapping pair ("pairs"), or ("auto") from triangulations of spatial chunks,
        with every overlapping pair for tiny or degenerate chunks.

    Returns
    -------
    DiskUnion
    """
    x = np.ascontiguousarray(x, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    r = np.ascontiguousarray(r, dtype=float)
    n_in = len(x)
    if n_in == 0:
        empty = np.zeros(0)
        return DiskUnion(
            x,
            y,
            r,
            np.zeros(0, dtype=np.int64),
            0,
            empty,
            np.zeros((0, 2)),
            np.zeros(0, dtype=np.int64),
            empty,
            empty,
        )
    keep, inverse = _dedupe(x, y, r)
    keep, inverse = _spatial_order(x, y, keep, inverse)
    ux, uy, ur = x[keep], y[keep], r[keep]
    n = len(ux)
    if method not in ("auto", "regular", "pairs"):
        raise ValueError(f"method must be auto, regular or pairs, not {method!r}")
    pairs = hidden = None
    if method == "regular":
        pairs, hidden = _pairs_regular(ux, uy, ur)
    elif method == "auto" and n > 16:
        pairs, hidden = _pairs_chunked(ux, uy, ur)
    if pairs is None:
        pairs, hidden = _pairs_bruteforce(ux, uy, ur)
    d = np.hypot(ux[pairs[:, 1]] - ux[pairs[:, 0]], uy[pairs[:, 1]] - uy[pairs[:, 0]])
    pairs = pairs[d < ur[pairs[:, 0]] + ur[pairs[:, 1]]]
    labels = _components(n, pairs)
    if hidden.any():
        labels = _label_hidden(ux, uy, ur, labels, hidden)
    # compact the labels: clusters numbered 0..k-1 in order of first appearance
    _, first, labels = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    labels = rank[labels]
    k = len(first)
    origin = np.column_stack([ux[first[np.argsort(rank)]], uy[first[np.argsort(rank)]]])
    circle, start, end, covered = _covered_intervals(ux, uy, ur, pairs)
    skip = covered | hidden
    c, a, b = _uncovered_arcs(n, circle, start, end, skip)
    lab = labels[c]
    terms = _arc_terms(ux[c] - origin[lab, 0], uy[c] - origin[lab, 1], ur[c], a, b)
    area = np.bincount(lab, weights=terms, minlength=k)
    return DiskUnion(
        x=x,
        y=y,
        r=r,
        labels=labels[inverse],
        n_clusters=k,
        area=area,
        origin=origin,
        arc_circle=keep[c],
        arc_a=a,
        arc_b=b,
    )


def segments_for(radius, tolerance_m: float) -> np.ndarray:
    """Segments per full circle so that chords stay within ``tolerance_m`` of the arc."""
    radius = np.asarray(radius, dtype=float)
    ratio = np.clip(1.0 - tolerance_m / np.maximum(radius, tolerance_m), -1.0, 1.0)
    return np.maximum(np.ceil(np.pi / np.maximum(np.arccos(ratio), 1e-6)), 8).astype(np.int64)


def cluster_polygons(du: DiskUnion, clusters=None, *, tolerance_m: float = 0.01) -> np.ndarray:
    """Polygons of clusters of a disk union, traced from its boundary arcs.

    Each arc is drawn with chords no farther than ``tolerance_m`` from the true circle;
    the arcs are chained end to start into rings (outer ring counter-clockwise, holes
    clockwise). A cluster whose arcs do not chain cleanly (tangent or concyclic
    degenerate cases) is drawn instead as the union of its polygonised disks.

    Parameters
    ----------
    du : DiskUnion
    clusters : array_like of int, optional
        Which clusters (default: all), in the order wanted.
    tolerance_m : float
        Largest distance from a chord to its arc.

    Returns
    -------
    numpy.ndarray of shapely Polygon
        One polygon per requested cluster.
    """
    clusters = np.arange(du.n_clusters) if clusters is None else np.asarray(clusters, np.int64)
    out = np.empty(len(clusters), dtype=object)
    if not len(clusters):
        return out
    pos = np.full(du.n_clusters, -1, dtype=np.int64)
    pos[clusters] = np.arange(len(clusters))
    arc_lab = du.labels[du.arc_circle]
    sel = pos[arc_lab] >= 0
    c, a, b = du.arc_circle[sel], du.arc_a[sel], du.arc_b[sel]
    lab = arc_lab[sel]
    cx, cy, cr = du.x[c], du.y[c], du.r[c]
    sx, sy = cx + cr * np.cos(a), cy + cr * np.sin(a)
    ex, ey = cx + cr * np.cos(b), cy + cr * np.sin(b)
    bad = np.zeros(du.n_clusters, dtype=bool)
    succ = np.zeros(len(c), dtype=np.int64)
    if len(c):
        tree = cKDTree(np.column_stack([sx, sy]))
        dist, succ = tree.query(np.column_stack([ex, ey]), k=1)
        succ = np.asarray(succ, dtype=np.int64)
        wrong = (dist > _LINK_TOL_M) | (lab[succ] != lab)
        counts = np.bincount(succ, minlength=len(c))
        wrong |= counts[succ] != 1
        bad[lab[wrong]] = True
        bad[lab[counts != 1]] = True
    # trace the cycles of the successor permutation
    ok_arc = ~bad[lab]
    ring = np.full(len(c), -1, dtype=np.int64)
    order = []
    ring_lab = []
    nxt = succ.tolist()
    seen = ring  # alias: -1 = not yet placed
    for start in np.flatnonzero(ok_arc).tolist():
        if seen[start] >= 0:
            continue
        rid = len(ring_lab)
        ring_lab.append(lab[start])
        k = start
        while seen[k] < 0:
            seen[k] = rid
            order.append(k)
            k = nxt[k]
    order = np.asarray(order, dtype=np.int64)
    ring_lab = np.asarray(ring_lab, dtype=np.int64)
    if len(order):
        oc, oa, ob = c[order], a[order], b[order]
        orid = ring[order]
        olab = lab[order]
        # ring orientation from the exact Green integral: > 0 outer ring, < 0 hole
        terms = _arc_terms(
            du.x[oc] - du.origin[olab, 0], du.y[oc] - du.origin[olab, 1], du.r[oc], oa, ob
        )
        ring_area = np.bincount(orid, weights=terms, minlength=len(ring_lab))
        outer = ring_area > 0
        # a ring of almost no area comes from a near-tangency: draw that cluster by union
        bad[ring_lab[np.abs(ring_area) < 1e-6]] = True
        n_outer = np.bincount(ring_lab[outer], minlength=du.n_clusters)
        bad |= (n_outer != 1) & np.isin(np.arange(du.n_clusters), clusters)
        full_steps = segments_for(du.r[oc], tolerance_m)
        nseg = np.maximum(np.ceil((ob - oa) / TWO_PI * full_steps), 3).astype(np.int64)
        vert_arc = np.repeat(np.arange(len(order)), nseg)
        first = np.cumsum(nseg) - nseg
        step = np.arange(len(vert_arc)) - first[vert_arc]
        t = oa[vert_arc] + (ob - oa)[vert_arc] * step / nseg[vert_arc]
        vx = du.x[oc][vert_arc] + du.r[oc][vert_arc] * np.cos(t)
        vy = du.y[oc][vert_arc] + du.r[oc][vert_arc] * np.sin(t)
        rings = shapely.linearrings(np.column_stack([vx, vy]), indices=orid[vert_arc])
        good = ~bad[ring_lab]
        rids = np.flatnonzero(good)
        # outer ring first in each cluster, then its holes
        srt = np.lexsort((~outer[rids], pos[ring_lab[rids]]))
        rids = rids[srt]
        if len(rids):
            target = pos[ring_lab[rids]]
            uniq, compact = np.unique(target, return_inverse=True)
            polys = shapely.polygons(rings[rids], indices=compact)
            out[uniq] = polys
    for cl in np.flatnonzero(bad & (pos >= 0)).tolist():
        members = np.flatnonzero(du.labels == cl)
        out[pos[cl]] = fallback_union(du.x[members], du.y[members], du.r[members], tolerance_m)
    return out


def fallback_union(x, y, r, tolerance_m: float):
    """Union of polygonised disks (for degenerate clusters): slow but always right."""
    quad = max(int(segments_for(float(np.max(r)), tolerance_m)) // 4 + 1, 2)
    disks = shapely.buffer(shapely.points(x, y), r, quad_segs=quad)
    return shapely.union_all(disks)  # a MultiPolygon where disks only touch
