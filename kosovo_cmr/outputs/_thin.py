"""Thinning for display with a bound known by construction, not measured afterwards.

Douglas-Peucker drops a vertex only when it lies within the tolerance of the segment
that replaces it, so each simplified ring or line lies within the tolerance of the
original (Hausdorff distance), and the original within the tolerance of it: on a
segment between two kept vertices every point is the projection of a point of the
original chain between them, which is no farther from the segment than the tolerance.
The bound holds ring by ring as long as nothing repairs the result afterwards, so the
rings are simplified as lines (GEOS repairs simplified polygons with ``buffer(0)``,
which can move or drop a part) and the polygons rebuilt. A polygon whose rebuilt form is
invalid, or lost a ring, is simplified again at half the tolerance (up to
:data:`RETRIES` times: a smaller tolerance keeps the bound), and kept as stored if it
never comes out valid. (GEOS's topology-preserving simplifier is no fallback: it can
stray past its tolerance, by 0.16 m at 0.5 m on a benchmark polygon.) Checking costs a
validity test of the small result, where measuring a Hausdorff distance against a
million-vertex original took minutes.
"""

from __future__ import annotations

import numpy as np
import shapely

_POLYGONAL = ("Polygon", "MultiPolygon")

#: Vertices simplified in one pass (bounds the memory of the copies made on the way).
CHUNK_VERTICES = 2_000_000

#: Times a polygon whose simplified form is invalid is simplified again at half the
#: tolerance before it is kept as stored.
RETRIES = 4


def _ring_structure(geoms: np.ndarray):
    """Parts per geometry, rings per part, the rings, and the geometry of each ring."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    parts_per_geom = np.bincount(owner, minlength=len(geoms))
    rings, ring_owner = shapely.get_rings(parts, return_index=True)
    rings_per_part = np.bincount(ring_owner, minlength=len(parts))
    return parts_per_geom, rings_per_part, rings, owner[ring_owner]


def _rebuild(parts_per_geom, rings_per_part, rings: np.ndarray) -> np.ndarray:
    """(Multi)polygons from rings, in the order :func:`_ring_structure` gave them."""
    out = np.empty(len(parts_per_geom), dtype=object)
    r = p = 0
    for i, n_parts in enumerate(parts_per_geom):
        polys = []
        for _ in range(n_parts):
            n_rings = rings_per_part[p]
            polys.append(shapely.Polygon(rings[r], list(rings[r + 1 : r + n_rings])))
            r, p = r + n_rings, p + 1
        out[i] = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return out


def _index(geoms: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(geoms)), shapely.get_num_coordinates(geoms))


def _douglas_peucker_polygons(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Simplify each ring as a line (nothing repaired) and rebuild the polygons.

    A polygon one of whose rings collapsed below a triangle is None.
    """
    parts_per_geom, rings_per_part, rings, geom_of_ring = _ring_structure(geoms)
    lines = shapely.linestrings(shapely.get_coordinates(rings), indices=_index(rings))
    thin = shapely.simplify(lines, tolerance, preserve_topology=False)
    collapsed = shapely.get_num_coordinates(thin) < 4
    thin_rings = rings.copy()
    kept = thin[~collapsed]
    thin_rings[~collapsed] = shapely.linearrings(
        shapely.get_coordinates(kept), indices=_index(kept)
    )
    out = _rebuild(parts_per_geom, rings_per_part, thin_rings)
    out[np.bincount(geom_of_ring, weights=collapsed, minlength=len(geoms)) > 0] = None
    return out


def _same_structure(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each pair has the same numbers of parts and of rings in each part."""
    out = np.zeros(len(a), dtype=bool)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x is None or y is None or y.geom_type not in _POLYGONAL:
            continue
        px, py = getattr(x, "geoms", [x]), getattr(y, "geoms", [y])
        out[i] = len(px) == len(py) and all(
            len(p.interiors) == len(q.interiors) for p, q in zip(px, py, strict=True)
        )
    return out


def simplify_bounded(geoms, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Simplify geometries so that each stays within ``tolerance`` of its original.

    Points are kept; lines are simplified by Douglas-Peucker; polygons as the module
    says (rings as lines, rebuilt; again at half the tolerance where that is invalid;
    kept where it never is valid). Work in a metric CRS: ``tolerance`` is in its units.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        The geometries (None and empty ones are kept as they are).
    tolerance : float
        The largest distance a simplified ring or line may stray from its original.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The simplified geometries, and for each whether it was kept unsimplified
        because no simplification gave a valid shape with the same rings.

    Examples
    --------
    >>> import shapely
    >>> disc = shapely.Point(0, 0).buffer(100, quad_segs=64)
    >>> thin, kept = simplify_bounded([disc], 0.5)
    >>> n = shapely.get_num_coordinates([disc, thin[0]])
    >>> int(n[0]), int(n[1]), bool(kept[0])
    (257, 33, False)
    >>> bool(shapely.hausdorff_distance(thin[0].exterior, disc.exterior) <= 0.5)
    True
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    kept = np.zeros(len(geoms), dtype=bool)
    if tolerance <= 0 or len(geoms) == 0:
        return geoms, kept
    # a few million vertices at a time: the rings are copied as lines on the way
    sizes = shapely.get_num_coordinates(geoms)
    chunk = np.cumsum(sizes) // CHUNK_VERTICES
    for c in np.unique(chunk):
        at = np.flatnonzero(chunk == c)
        geoms[at], kept[at] = _simplify_chunk(geoms[at], tolerance)
    return geoms, kept


def _simplify_chunk(geoms: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    kept = np.zeros(len(geoms), dtype=bool)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    kinds = np.array([g.geom_type if ok else "" for g, ok in zip(geoms, present, strict=True)])
    lines = present & np.isin(kinds, ("LineString", "MultiLineString"))
    geoms[lines] = shapely.simplify(geoms[lines], tolerance, preserve_topology=False)
    polys = np.flatnonzero(present & np.isin(kinds, _POLYGONAL))
    if len(polys) == 0:
        return geoms, kept
    original = geoms[polys]
    thin = original.copy()
    todo = np.arange(len(original))
    for step in range(RETRIES + 1):
        attempt = _douglas_peucker_polygons(original[todo], tolerance / 2**step)
        ok = _same_structure(original[todo], attempt)
        ok[ok] = shapely.is_valid(attempt[ok])
        thin[todo[ok]] = attempt[ok]
        todo = todo[~ok]
        if len(todo) == 0:
            break
    kept[polys[todo]] = True  # never valid: drawn as stored
    geoms[polys] = thin
    return geoms, kept
