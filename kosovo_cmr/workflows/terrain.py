"""Terrain and raster workflows: the store's hazards and evidence against rasters.

The ``kcmr terrain`` and ``kcmr rasterize`` commands call these: they read the store,
run :func:`kosovo_cmr.analysis.terrain.terrain_stats`, or write the store's layers as
GeoTIFFs (:mod:`kosovo_cmr.outputs.rasters`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from kosovo_cmr.analysis.terrain import DENSE_COVER_CLASSES, STEEP_SLOPE_DEG, terrain_stats
from kosovo_cmr.outputs.rasters import density_grid, rasterize_hazards
from kosovo_cmr.store.base import Store

__all__ = ["read_hazards", "terrain_from_store", "hazards_raster", "density_raster"]

log = logging.getLogger(__name__)


def read_hazards(store: Store, *, include_closed: bool = False) -> gpd.GeoDataFrame:
    """Return the store's active hazards (all with ``include_closed``), numbered from 0.

    An empty selection logs a warning naming the statuses the layer holds.
    """
    hazards = store.read("hazards")
    if not include_closed:
        present = sorted(hazards["status"].dropna().unique())
        hazards = hazards[hazards["status"] == "active"]
        if not len(hazards):
            log.warning("no active hazard in %s (statuses present: %s); --all includes "
                        "the others", store.uri, ", ".join(present) or "none")  # fmt: skip
    elif not len(hazards):
        log.warning("the store %s holds no hazard", store.uri)
    return hazards.reset_index(drop=True)


def terrain_from_store(
    store: Store,
    *,
    dem,
    cover=None,
    steep_deg: float = STEEP_SLOPE_DEG,
    dense_classes: Iterable[int] = DENSE_COVER_CLASSES,
    include_closed: bool = False,
) -> pd.DataFrame:
    """Slope and dense-vegetation statistics of the store's hazards.

    See :func:`kosovo_cmr.analysis.terrain.terrain_stats` and :func:`read_hazards`.
    """
    hazards = read_hazards(store, include_closed=include_closed)
    return terrain_stats(
        hazards, dem=dem, cover=cover, steep_deg=steep_deg, dense_classes=dense_classes
    )


def hazards_raster(
    store: Store,
    path,
    *,
    cell_size_m: float = 10.0,
    all_touched: bool = False,
    include_closed: bool = False,
) -> tuple[Path, int]:
    """Rasterise the store's hazards to a GeoTIFF; return its path and the hazard count.

    See :func:`kosovo_cmr.outputs.rasters.rasterize_hazards` and :func:`read_hazards`.
    """
    hazards = read_hazards(store, include_closed=include_closed)
    path = rasterize_hazards(hazards, path, cell_size_m=cell_size_m, all_touched=all_touched)
    return path, len(hazards)


def density_raster(store: Store, path, *, cell_size_m: float = 100.0) -> tuple[Path, int]:
    """Write the store's evidence per hectare to a GeoTIFF; return its path and point count.

    See :func:`kosovo_cmr.outputs.rasters.density_grid`.
    """
    evidence = store.read("evidence")
    return density_grid(evidence, path, cell_size_m=cell_size_m), len(evidence)
