"""SYNTHETIC strike footprints of known shape, and the evidence items found in them.

To measure how well :func:`kosovo_cmr.analysis.strikes.infer_strikes` recovers a strike
from its evidence, the truth must be known: this module draws ovals of known centre,
azimuth and size (the range ``../shared/DOMAIN.md`` gives from public sources, about
37 x 61 m to 123 x 244 m), spreads items evenly over each at a known rate (items per
hectare), and scatters noise items over the extent. Used by the tests and by
``benchmarks/strikes.py``; never by the demo's layers, never as real data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

__all__ = ["oval_items", "known_footprints", "footprint_evidence"]

#: Footprint lengths (m) and length/width proportions spanning DOMAIN.md's range.
LENGTH_RANGE_M: tuple[float, float] = (61.0, 244.0)
PROPORTION_RANGE: tuple[float, float] = (1.65, 2.0)


def oval_items(rng, cx, cy, length, width, azimuth, *, per_ha: float):
    """Items spread evenly over an oval at ``per_ha`` items per hectare (at least one).

    ``azimuth`` is the long axis, degrees clockwise from grid north; the coordinates are
    metric (EPSG:9141). Returns the items' x and y.

    Examples
    --------
    >>> x, y = oval_items(np.random.default_rng(0), 0.0, 0.0, 200.0, 100.0, 0.0, per_ha=50)
    >>> len(x), bool(abs(y).max() <= 100 and abs(x).max() <= 50)
    (79, True)
    """
    area = np.pi * length * width / 4
    n = max(1, int(round(per_ha * area / 10_000)))
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.sqrt(rng.uniform(0, 1, n))
    u, v = length / 2 * r * np.cos(t), width / 2 * r * np.sin(t)  # u along the long axis
    a = np.radians(azimuth)
    return cx + u * np.sin(a) + v * np.cos(a), cy + u * np.cos(a) - v * np.sin(a)


def known_footprints(rng, n: int, *, x0: float, y0: float, spacing_m: float = 600.0) -> list:
    """``n`` ovals of random size and azimuth, far apart on a grid of five columns.

    Returns
    -------
    list of tuple
        ``(cx, cy, length_m, width_m, azimuth_deg)`` per oval.
    """
    out = []
    for k in range(n):
        length = rng.uniform(*LENGTH_RANGE_M)
        width = length / rng.uniform(*PROPORTION_RANGE)
        cx = x0 - 2 * spacing_m + spacing_m * (k % 5)
        cy = y0 - 2 * spacing_m + spacing_m * (k // 5)
        out.append((cx, cy, length, width, rng.uniform(0, 180)))
    return out


def footprint_evidence(
    seed: int,
    truths,
    *,
    per_ha: float = 60.0,
    noise: int = 15,
    ordnance: str = "BLU-97",
    centre=(7_480_000.0, 4_700_000.0),
    extent_m: float = 3000.0,
) -> gpd.GeoDataFrame:
    """SYNTHETIC evidence of known footprints plus ``noise`` scattered items (EPSG:9141).

    The column ``truth`` holds the index of the footprint an item was drawn in (-1 for
    noise); ``synthetic`` is true on every item.
    """
    rng = np.random.default_rng(seed)
    xs, ys, tags = [], [], []
    for k, (cx, cy, length, width, az) in enumerate(truths):
        x, y = oval_items(rng, cx, cy, length, width, az, per_ha=per_ha)
        xs.append(x)
        ys.append(y)
        tags += [k] * len(x)
    x0, y0 = centre
    xs.append(rng.uniform(x0 - extent_m / 2, x0 + extent_m / 2, noise))
    ys.append(rng.uniform(y0 - extent_m / 2, y0 + extent_m / 2, noise))
    tags += [-1] * noise
    x, y = np.concatenate(xs), np.concatenate(ys)
    return gpd.GeoDataFrame(
        {
            "evidence_id": [f"SYN-E{i}" for i in range(len(x))],
            "ordnance": ordnance,
            "item": "component",
            "truth": tags,
            "synthetic": True,
        },
        geometry=[Point(a, b) for a, b in zip(x, y, strict=True)],
        crs=9141,
    )
