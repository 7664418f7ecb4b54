"""Placing turning-point labels on a printed map so that no two overlap.

Labels are placed greedily, in paper millimetres, by priority: TP1 first (where the
team starts), then the last point, then "round" numbers (every 1000th, 500th, 100th,
50th, 10th, 5th, 2nd point, spread evenly around the outline within each level), then
the rest. Each label tries positions around its point, nearest first, outward from the
hazard first: right beside the point, then further out with a leader line. A position
is taken only if its box stays inside the map, overlaps no label placed before, no
obstacle (legend, scale bar, north arrow) and no other point's marker, and its leader
line crosses no placed label. A label with no free position is left out: the table is
the key to every point, and the sheet says how many are labelled.

The boxes returned are those the renderer draws (its text extent plus a margin), so a
test can check that no two overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["Placement", "label_order", "place_labels", "boxes_overlap"]

#: Label centre distances from the point tried, in mm (the first needs no leader line).
DISTANCES_MM: tuple[float, ...] = (2.2, 4.0, 6.5, 9.5, 13.0, 17.0)

#: Angles tried around the outward direction, in degrees.
ANGLES_DEG: tuple[float, ...] = (0, 30, -30, 60, -60, 90, -90, 120, -120, 150, -150, 180)

#: Labels tried at most: beyond this the map is full anyway; the table keeps them all.
MAX_TRIES = 600

#: Gap kept between boxes, mm.
GAP_MM = 0.4


@dataclass(frozen=True)
class Placement:
    """Where a label goes: its point's index, its centre and box (mm), a leader line."""

    index: int
    x: float
    y: float
    box: tuple[float, float, float, float]
    leader: bool


def _van_der_corput(n: int) -> np.ndarray:
    """0, 1/2, 1/4, 3/4, ...: an order that spreads ``n`` items evenly at every prefix."""
    out = np.zeros(n)
    for i in range(n):
        k, denom, v = i, 1.0, 0.0
        while k:
            denom *= 2
            v += (k % 2) / denom
            k //= 2
        out[i] = v
    return out


def label_order(n: int) -> np.ndarray:
    """Return the indices of ``n`` points in labelling priority.

    Examples
    --------
    >>> label_order(12).tolist()[:4]  # TP1, TP12 (last), TP10, TP5
    [0, 11, 9, 4]
    """
    if n == 0:
        return np.zeros(0, dtype=int)
    number = np.arange(1, n + 1)
    level = np.full(n, 9)
    for k, step in enumerate((1000, 500, 100, 50, 10, 5, 2), start=2):
        level = np.where((number % step == 0) & (level == 9), k, level)
    level[-1], level[0] = 1, 0
    spread = np.zeros(n)
    for lv in np.unique(level):
        members = np.flatnonzero(level == lv)
        spread[members] = _van_der_corput(len(members))[np.argsort(np.argsort(members))]
    return np.lexsort((spread, level))


def boxes_overlap(a, b, *, gap: float = 0.0) -> np.ndarray:
    """Whether boxes ``a`` (m, 4) overlap boxes ``b`` (k, 4): an (m, k) boolean array."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    if a.size == 0 or b.size == 0:
        return np.zeros((len(a), len(b)), dtype=bool)
    return (
        (a[:, None, 0] < b[None, :, 2] + gap)
        & (b[None, :, 0] < a[:, None, 2] + gap)
        & (a[:, None, 1] < b[None, :, 3] + gap)
        & (b[None, :, 1] < a[:, None, 3] + gap)
    )


def _candidates(px, py, outward, width, height):
    """Candidate centres and boxes around one point, nearest and most outward first."""
    out = []
    for d in DISTANCES_MM:
        for a in ANGLES_DEG:
            ang = outward + np.radians(a)
            dx, dy = np.cos(ang), np.sin(ang)
            # push the centre so that the box edge, not its centre, is ~d from the point
            reach = d + 0.5 * (abs(dx) * width + abs(dy) * height) - min(width, height) / 2
            cx, cy = px + dx * reach, py + dy * reach
            out.append((cx, cy, d > DISTANCES_MM[0]))
    cx, cy, lead = (np.array(v) for v in zip(*out, strict=True))
    boxes = np.c_[cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2]
    return cx, cy, lead.astype(bool), boxes


def _leader_hits(px, py, cx, cy, placed: np.ndarray) -> np.ndarray:
    """Whether each leader (point -> centre) passes through a placed box (sampled)."""
    if len(placed) == 0:
        return np.zeros(len(cx), dtype=bool)
    t = np.linspace(0.15, 0.85, 8)
    xs = px + np.outer(cx - px, t)
    ys = py + np.outer(cy - py, t)
    inside = (
        (xs[..., None] > placed[None, None, :, 0])
        & (xs[..., None] < placed[None, None, :, 2])
        & (ys[..., None] > placed[None, None, :, 1])
        & (ys[..., None] < placed[None, None, :, 3])
    )
    return inside.any(axis=(1, 2))


def place_labels(
    points_mm: np.ndarray,
    sizes_mm: np.ndarray,
    *,
    area_mm: tuple[float, float, float, float],
    obstacles_mm: list[tuple[float, float, float, float]] = (),
    outline_mm: shapely.Geometry | None = None,
    marker_mm: float = 1.2,
    mark_all: bool = True,
    max_tries: int = MAX_TRIES,
) -> list[Placement]:
    """Place labels without overlap; return those placed (the rest are left out).

    Parameters
    ----------
    points_mm : (n, 2) array
        The points on the page, mm.
    sizes_mm : (n, 2) array
        Each label's box width and height, mm (its drawn extent).
    area_mm : (x0, y0, x1, y1)
        Where labels may go (the map frame).
    obstacles_mm : list of boxes
        Boxes no label may touch (legend, scale bar, north arrow).
    outline_mm : shapely geometry, optional
        The hazard on the page: labels go outside it when they can.
    marker_mm : float
        Size of a point's marker, kept clear of other labels.
    mark_all : bool, default True
        Whether every point gets a marker; if not, only labelled points do, and a
        point lying under a placed label is not labelled.
    max_tries : int
        Labels tried, in :func:`label_order`.

    Returns
    -------
    list of Placement
        In the order placed.
    """
    n = len(points_mm)
    centre = np.asarray(points_mm).mean(axis=0) if n else np.zeros(2)
    if outline_mm is not None and not outline_mm.is_empty:
        centre = np.array(outline_mm.centroid.coords[0])
        shapely.prepare(outline_mm)
    half = marker_mm / 2
    all_markers = np.c_[points_mm - half, points_mm + half] if n else np.zeros((0, 4))
    markers = all_markers if mark_all else np.zeros((0, 4))
    fixed = np.array(list(obstacles_mm), dtype=float).reshape(-1, 4)
    placed: list[Placement] = []
    boxes = np.zeros((0, 4))
    for i in label_order(n)[:max_tries]:
        px, py = points_mm[i]
        outward = np.arctan2(py - centre[1], px - centre[0])
        cx, cy, lead, cand = _candidates(px, py, outward, *sizes_mm[i])
        ok = (
            (cand[:, 0] >= area_mm[0])
            & (cand[:, 1] >= area_mm[1])
            & (cand[:, 2] <= area_mm[2])
            & (cand[:, 3] <= area_mm[3])
        )
        ok &= ~boxes_overlap(cand, boxes, gap=GAP_MM).any(axis=1)
        ok &= ~boxes_overlap(cand, fixed, gap=GAP_MM).any(axis=1)
        if mark_all:
            others = np.delete(markers, i, axis=0)
        elif boxes_overlap(all_markers[i], boxes).any():
            continue  # its marker would sit under a label
        else:
            others = markers
        ok &= ~boxes_overlap(cand, others).any(axis=1)
        ok &= ~np.where(lead, _leader_hits(px, py, cx, cy, boxes), False)
        if not ok.any():
            continue
        pick = _best(ok, cand, outline_mm)
        box = tuple(float(v) for v in cand[pick])
        placed.append(Placement(int(i), float(cx[pick]), float(cy[pick]), box, bool(lead[pick])))
        boxes = np.vstack([boxes, cand[pick]])
        if not mark_all:
            markers = np.vstack([markers, all_markers[i]])
    return placed


def _best(ok: np.ndarray, cand: np.ndarray, outline) -> int:
    """Return the first free candidate outside the hazard, else the first free one."""
    free = np.flatnonzero(ok)
    if outline is None or outline.is_empty:
        return int(free[0])
    boxes = shapely.box(cand[free, 0], cand[free, 1], cand[free, 2], cand[free, 3])
    outside = free[~shapely.intersects(outline, boxes)]
    return int(outside[0]) if len(outside) else int(free[0])
