"""GeoTIFF outputs: hazards rasterised, a contamination-density grid, and the demo terrain.

Every GeoTIFF written here is tiled, DEFLATE-compressed, carries its CRS, transform and
nodata value, and opens in GDAL, QGIS and tablet GIS apps as it is.

* :func:`rasterize_hazards` burns each hazard's number (1, 2, ... in row order) into a
  grid in the metric CRS; the numbers map to ``hazard_id`` in the ``HAZARD_<n>`` tags.
  Each hazard is burnt into its own window only, so a 10 m grid over all of Kosovo
  costs the hazards' cells, not the country's.
* :func:`density_grid` counts evidence points per cell, as items per hectare.
* :func:`synthetic_terrain` writes the SYNTHETIC demo DEM and land-cover rasters
  (tag ``SYNTHETIC=yes``): fractal relief shaped like Kosovo's two plains and its
  mountain rims. It stands in for a real DEM (SRTM, Copernicus) that is not at hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np

from kosovo_cmr import settings
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError

__all__ = ["rasterize_hazards", "density_grid", "synthetic_terrain", "COVER_CLASSES"]

#: Land-cover codes used by the synthetic cover (those of ESA WorldCover).
COVER_CLASSES: dict[int, str] = {
    10: "tree cover",
    20: "shrubland",
    30: "grassland",
    40: "cropland",
    50: "built-up",
    60: "bare / sparse vegetation",
    80: "permanent water",
}

#: Largest grid (cells) a single output may have; above it the caller must coarsen.
MAX_CELLS = 400_000_000

_PROFILE = {
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
    from rasterio.windows import Window

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
    profile = dict(_PROFILE, count=1, dtype="uint16", nodata=0, width=width, height=height)
    path = Path(path)
    full = Window(0, 0, width, height)
    with rasterio.open(path, "w+", crs=crs, transform=transform, sparse_ok=True, **profile) as dst:
        dst.update_tags(**tags, SOURCE="kosovo_cmr.analysis.rasters.rasterize_hazards")
        for n, geom in enumerate(geoms, start=1):
            if geom is None or geom.is_empty:
                continue
            minx, miny, maxx, maxy = geom.bounds
            col0 = math.floor((minx - transform.c) / transform.a)
            row0 = math.floor((maxy - transform.f) / transform.e)
            col1 = math.ceil((maxx - transform.c) / transform.a)
            row1 = math.ceil((miny - transform.f) / transform.e)
            window = Window(col0, row0, max(col1 - col0, 1), max(row1 - row0, 1))
            window = window.intersection(full)
            block = dst.read(1, window=window)
            wt = rasterio.windows.transform(window, transform)
            rasterize(
                [(geom, n)],
                out=block,
                transform=wt,
                all_touched=all_touched,
                merge_alg=rasterio.enums.MergeAlg.replace,
            )
            dst.write(block, 1, window=window)
    return path


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
    import rasterio

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
    profile = dict(_PROFILE, count=1, dtype="float32", nodata=-9999.0, width=width, height=height)
    path = Path(path)
    with rasterio.open(path, "w", crs=crs, transform=transform, **profile) as dst:
        dst.write(per_ha, 1)
        dst.update_tags(UNITS="evidence points per hectare", CELL_SIZE_M=str(cell_size_m))
        dst.set_band_description(1, "evidence points per hectare")
    return path


# --- synthetic demo terrain --------------------------------------------------------------

#: Broad relief of Kosovo as Gaussian bumps (lon, lat, sigma_lon, sigma_lat, height m):
#: negative for the two plains, positive for the mountain rims. Approximate, for the
#: synthetic demo only.
_RELIEF = (
    (20.50, 42.45, 0.20, 0.25, -420.0),  # Dukagjini plain (Pejë-Gjakovë-Prizren)
    (21.08, 42.62, 0.15, 0.35, -300.0),  # Kosovo plain (Prishtinë-Mitrovicë-Ferizaj)
    (20.08, 42.60, 0.09, 0.25, 1400.0),  # Accursed Mountains (Bjeshkët e Nemuna)
    (20.90, 42.04, 0.25, 0.07, 1300.0),  # Sharr mountains
    (20.75, 43.15, 0.20, 0.12, 700.0),  # Kopaonik / Rogozna (north)
    (20.80, 42.62, 0.08, 0.16, 200.0),  # Drenica hills between the plains
    (21.55, 42.55, 0.15, 0.25, 350.0),  # Karadak / Gollak hills (east)
)


def _fractal(shape, rng, *, octaves: int = 6, persistence: float = 0.5) -> np.ndarray:
    """Sum of smoothed random fields at doubling frequencies, scaled to unit std."""
    from scipy.ndimage import zoom

    out = np.zeros(shape)
    amp = 1.0
    for k in range(octaves):
        n = 4 * 2**k
        coarse = rng.standard_normal((n, n))
        fine = zoom(coarse, (shape[0] / n, shape[1] / n), order=3)[: shape[0], : shape[1]]
        pad = ((0, shape[0] - fine.shape[0]), (0, shape[1] - fine.shape[1]))
        out += amp * np.pad(fine, pad, mode="edge")
        amp *= persistence
    return out / out.std()


def synthetic_terrain(
    out_dir: str | Path,
    *,
    seed: int | None = None,
    bounds=None,
    arcsec: float = 3.0,
    cover_cell_m: float = 100.0,
) -> tuple[Path, Path]:
    """Write a SYNTHETIC DEM and land-cover raster for the demo.

    The DEM is laid out like an SRTM 3 arc-second tile (EPSG:4326, ~90 x 70 m cells in
    Kosovo); the cover is on a 100 m grid in UTM 34N, a different CRS on purpose, as
    real cover and DEM rasters seldom share a grid. Relief is fractal noise over the
    broad shape of the Dukagjini and Kosovo plains (400-600 m) and the Accursed and
    Sharr mountain rims (above 2,000 m); cover follows elevation and slope (crops on
    the plains, forest and shrub on the hills, grass above the tree line, towns).

    Parameters
    ----------
    out_dir : path
        Folder for ``dem-synthetic.tif`` and ``cover-synthetic.tif`` (replaced).
    seed : int, optional
        Random seed (default :data:`kosovo_cmr.settings.demo_seed`): same seed, same
        rasters.
    bounds : tuple, optional
        ``(lon_min, lat_min, lon_max, lat_max)``; default
        :data:`kosovo_cmr.settings.kosovo_bounds`.
    arcsec : float, optional
        DEM cell size in arc-seconds.
    cover_cell_m : float, optional
        Cover cell size in metres.

    Returns
    -------
    dem_path, cover_path : pathlib.Path
        Both tagged ``SYNTHETIC=yes``.
    """
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.warp import Resampling, reproject, transform_bounds

    from kosovo_cmr.analysis.terrain import cell_spacing_m, slope_deg

    seed = settings.demo_seed if seed is None else seed
    rng = np.random.default_rng(seed)
    lon0, lat0, lon1, lat1 = bounds or settings.kosovo_bounds
    res = arcsec / 3600
    width = math.ceil((lon1 - lon0) / res)
    height = math.ceil((lat1 - lat0) / res)
    transform = from_origin(lon0, lat1, res, res)
    lon = lon0 + (np.arange(width) + 0.5) * res
    lat = lat1 - (np.arange(height) + 0.5) * res
    lon2, lat2 = np.meshgrid(lon, lat)
    z = np.full((height, width), 820.0)
    for cx, cy, sx, sy, h in _RELIEF:
        z += h * np.exp(-(((lon2 - cx) / sx) ** 2 + ((lat2 - cy) / sy) ** 2) / 2)
    rough = 0.15 + 0.85 * np.clip((z - 500) / 800, 0, 1)  # plains smoother than hills
    z += 220 * rough * _fractal(z.shape, rng, octaves=9, persistence=0.75)
    z = np.round(np.clip(z, 260, 2650)).astype("int16")  # whole metres, as SRTM
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dem_path = out / "dem-synthetic.tif"
    tags = {
        "SYNTHETIC": "yes",
        "SOURCE": f"kosovo_cmr.analysis.rasters.synthetic_terrain(seed={seed}); not real terrain",
    }
    profile = dict(_PROFILE, count=1, width=width, height=height, transform=transform)
    with rasterio.open(
        dem_path, "w", crs="EPSG:4326", dtype="int16", nodata=-32768, predictor=2, **profile
    ) as dst:
        dst.write(z, 1)
        dst.update_tags(**tags, UNITS="metres above sea level (synthetic)")
        dst.set_band_unit(1, "metre")
        dst.set_band_description(1, "SYNTHETIC elevation")

    # Cover from elevation, slope and a second noise field, then warped to UTM 34N.
    dx, dy = cell_spacing_m(transform, "EPSG:4326", np.arange(height))
    slope = np.nan_to_num(slope_deg(z, dx_m=dx, dy_m=dy))
    noise = _fractal(z.shape, rng, octaves=8, persistence=0.7)
    cover = np.full(z.shape, 40, dtype="uint8")  # cropland
    cover[(z > 950 + 100 * noise) | (slope > 7 + 3 * noise)] = 30  # grassland
    cover[(slope > 9 + 3 * noise) | ((z > 1000) & (noise > 0.3))] = 20  # shrubland
    cover[(slope > 12 + 4 * noise) | ((z > 1100) & (noise > -0.2))] = 10  # tree cover
    cover[z > 1900 + 150 * noise] = 30  # above the tree line
    cover[z > 2350] = 60
    for cx, cy, r in (
        (21.166, 42.663, 0.05),
        (20.74, 42.215, 0.03),
        (20.29, 42.66, 0.025),
        (20.43, 42.385, 0.025),
        (20.87, 42.89, 0.025),
        (21.47, 42.465, 0.02),
        (21.155, 42.37, 0.02),
    ):
        town = ((lon2 - cx) / 1.35) ** 2 + (lat2 - cy) ** 2 < (r * (1 + 0.3 * noise)) ** 2
        cover[town] = 50
    left, bottom, right, top = transform_bounds("EPSG:4326", "EPSG:32634", lon0, lat0, lon1, lat1)
    ctransform = from_origin(
        math.floor(left / cover_cell_m) * cover_cell_m,
        math.ceil(top / cover_cell_m) * cover_cell_m,
        cover_cell_m,
        cover_cell_m,
    )
    cw = math.ceil((right - left) / cover_cell_m) + 1
    ch = math.ceil((top - bottom) / cover_cell_m) + 1
    warped = np.zeros((ch, cw), dtype="uint8")
    reproject(
        cover,
        warped,
        src_transform=transform,
        src_crs="EPSG:4326",
        dst_transform=ctransform,
        dst_crs="EPSG:32634",
        src_nodata=0,
        dst_nodata=0,
        resampling=Resampling.mode,
    )
    cover_path = out / "cover-synthetic.tif"
    cprofile = dict(_PROFILE, count=1, width=cw, height=ch, transform=ctransform)
    with rasterio.open(
        cover_path, "w", crs="EPSG:32634", dtype="uint8", nodata=0, **cprofile
    ) as dst:
        dst.write(warped, 1)
        dst.update_tags(
            **tags,
            CLASSES="; ".join(f"{k}={v}" for k, v in COVER_CLASSES.items()),
        )
        dst.set_band_description(1, "SYNTHETIC land cover (ESA WorldCover codes)")
    return dem_path, cover_path
