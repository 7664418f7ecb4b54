"""GeoTIFF outputs: hazards rasterised, and a contamination-density grid.

Every GeoTIFF written here is tiled, DEFLATE-compressed (:data:`GTIFF_PROFILE`), carries
its CRS, transform and nodata value, and opens in GDAL, QGIS and tablet GIS apps as it is.
Each is built in memory (GDAL's GeoTIFF driver only prints, and does not raise, the
errors of a disk that fills: it left an empty file with exit code 0), then written to a
temporary file beside the target and renamed over it
(:func:`kosovo_cmr._files.atomic_output`): a kill or a full disk leaves the previous file
and is an error. The hazards grid is sparse (only the blocks hazards touch are stored),
so memory holds the hazards' cells, not the country's.

* :func:`rasterize_hazards` burns each hazard's number (1, 2, ... in row order) into a
  grid in the metric CRS; the numbers map to ``hazard_id`` in the ``HAZARD_<n>`` tags.
  Each hazard is burnt into its own window only, so a 10 m grid over all of Kosovo
  costs the hazards' cells, not the country's.
* :func:`density_grid` counts evidence points per cell, as items per hectare.

The synthetic demo DEM and land cover are written by
:func:`kosovo_cmr.synthetic.terrain.synthetic_terrain`.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np

from kosovo_cmr import settings
from kosovo_cmr._files import atomic_output
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError

__all__ = ["GTIFF_PROFILE", "MAX_CELLS", "rasterize_hazards", "density_grid"]


#: Largest grid (cells) a single output may have; above it the caller must coarsen.
MAX_CELLS = 400_000_000

#: Creation options of the GeoTIFFs written here and of the synthetic demo rasters.
GTIFF_PROFILE = {
    "driver": "GTiff",
    "tiled": True,
    "blockxsize": 256,
    "blockysize": 256,
    "compress": "deflate",
}


def _grid(bounds, cell_size_m: float):
    from rasterio.transform import from_origin

    if not cell_size_m > 0:
        raise InputError(f"cell_size_m must be positive, got {cell_size_m!r}")
    minx, miny, maxx, maxy = bounds
    minx = math.floor(minx / cell_size_m) * cell_size_m
    maxy = math.ceil(maxy / cell_size_m) * cell_size_m
    width = max(1, math.ceil((maxx - minx) / cell_size_m))
    height = max(1, math.ceil((maxy - miny) / cell_size_m))
    if width * height > MAX_CELLS:
        raise InputError(
            f"a {cell_size_m} m grid over these features has {width * height:,} cells; "
            "use a larger cell_size_m"
        )
    return from_origin(minx, maxy, cell_size_m, cell_size_m), width, height


def rasterize_hazards(
    hazards: gpd.GeoDataFrame,
    path: str | Path,
    *,
    cell_size_m: float = 10.0,
    all_touched: bool = False,
    crs=None,
) -> Path:
    """Rasterise hazard polygons to a GeoTIFF of hazard numbers.

    Parameters
    ----------
    hazards : GeoDataFrame
        Hazard polygons (any CRS; refused without one).
    path : path
        The GeoTIFF to write (replaced if it exists).
    cell_size_m : float, optional
        Cell size in metres of the output grid.
    all_touched : bool, optional
        Burn every cell a polygon touches, not only those whose centre it covers.
    crs : optional
        Output CRS (metric); default :data:`kosovo_cmr.settings.metric_crs`.

    Returns
    -------
    pathlib.Path
        The written file: band 1 ``uint16``, value ``n`` for the n-th hazard (row
        order; where hazards overlap, the later one wins), nodata 0; tags
        ``HAZARD_<n>=<hazard_id>``.
    """
    import rasterio
    from rasterio.features import rasterize
    from rasterio.io import MemoryFile

    require_crs(hazards, name="hazards")
    if len(hazards) >= 65535:
        raise InputError("rasterize_hazards handles at most 65,534 hazards per file")
    crs = crs or settings.metric_crs
    geoms = hazards.geometry.to_crs(crs)
    keep = ~(geoms.isna() | geoms.is_empty)
    if not keep.any():
        raise InputError("no hazard geometry to rasterise")
    transform, width, height = _grid(geoms[keep].total_bounds, cell_size_m)
    ids = hazards["hazard_id"] if "hazard_id" in hazards else hazards.index.astype(str)
    tags = {f"HAZARD_{n}": str(hid) for n, hid in enumerate(ids, start=1)}
    profile = dict(GTIFF_PROFILE, count=1, dtype="uint16", nodata=0, width=width, height=height)
    path = Path(path)
    with (
        MemoryFile() as mem,
        mem.open(crs=crs, transform=transform, sparse_ok=True, **profile) as dst,
    ):
        dst.update_tags(**tags, SOURCE="kosovo_cmr.outputs.rasters.rasterize_hazards")
        for n, geom in enumerate(geoms, start=1):
            if geom is None or geom.is_empty:
                continue
            window = _window(geom.bounds, transform, width, height)
            block = dst.read(1, window=window)
            rasterize(
                [(geom, n)],
                out=block,
                transform=rasterio.windows.transform(window, transform),
                all_touched=all_touched,
                merge_alg=rasterio.enums.MergeAlg.replace,
            )
            dst.write(block, 1, window=window)
        dst.close()
        _write_bytes(mem, path)
    return path


def _write_bytes(mem, path: Path) -> None:
    """Write a finished in-memory GeoTIFF to ``path`` via a temporary file beside it."""
    with atomic_output(path, overwrite=True) as tmp, open(tmp, "wb") as fh:
        mem.seek(0)
        while chunk := mem.read(1 << 24):
            fh.write(chunk)


def _window(bounds, transform, width: int, height: int):
    """Return the grid window covering ``bounds`` (at least one cell), within the grid."""
    from rasterio.windows import Window

    minx, miny, maxx, maxy = bounds
    col0 = math.floor((minx - transform.c) / transform.a)
    row0 = math.floor((maxy - transform.f) / transform.e)
    col1 = math.ceil((maxx - transform.c) / transform.a)
    row1 = math.ceil((miny - transform.f) / transform.e)
    window = Window(col0, row0, max(col1 - col0, 1), max(row1 - row0, 1))
    return window.intersection(Window(0, 0, width, height))


def density_grid(
    evidence: gpd.GeoDataFrame,
    path: str | Path,
    *,
    cell_size_m: float = 100.0,
    bounds=None,
    crs=None,
) -> Path:
    """Write evidence points per hectare on a regular grid to a GeoTIFF.

    Parameters
    ----------
    evidence : GeoDataFrame
        Evidence points (any CRS; refused without one).
    path : path
        The GeoTIFF to write (replaced if it exists).
    cell_size_m : float, optional
        Cell size in metres.
    bounds : tuple, optional
        Grid extent ``(minx, miny, maxx, maxy)`` in the output CRS; default the
        points' extent.
    crs : optional
        Output CRS (metric); default :data:`kosovo_cmr.settings.metric_crs`.

    Returns
    -------
    pathlib.Path
        Band 1 ``float32``: points per hectare (0 where none were found); nodata
        -9999 (declared for GIS; every cell of the grid holds a count).
    """
    from rasterio.io import MemoryFile

    require_crs(evidence, name="evidence")
    crs = crs or settings.metric_crs
    pts = evidence.geometry.to_crs(crs)
    pts = pts[~(pts.isna() | pts.is_empty)]
    if bounds is None:
        if pts.empty:
            raise InputError("no evidence point to grid; give bounds= for an empty grid")
        bounds = pts.total_bounds
    transform, width, height = _grid(bounds, cell_size_m)
    counts = np.zeros((height, width), dtype="float64")
    if not pts.empty:
        cols = np.floor((pts.x.to_numpy() - transform.c) / transform.a).astype(int)
        rows = np.floor((pts.y.to_numpy() - transform.f) / transform.e).astype(int)
        ok = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
        np.add.at(counts, (rows[ok], cols[ok]), 1)
    per_ha = (counts / (cell_size_m * cell_size_m / 10_000)).astype("float32")
    profile = dict(
        GTIFF_PROFILE, count=1, dtype="float32", nodata=-9999.0, width=width, height=height
    )
    path = Path(path)
    with MemoryFile() as mem, mem.open(crs=crs, transform=transform, **profile) as dst:
        dst.write(per_ha, 1)
        dst.update_tags(UNITS="evidence points per hectare", CELL_SIZE_M=str(cell_size_m))
        dst.set_band_description(1, "evidence points per hectare")
        dst.close()
        _write_bytes(mem, path)
    return path
