"""SYNTHETIC demo terrain: a DEM and a land-cover raster shaped like Kosovo's, not real.

:func:`synthetic_terrain` stands in for a real DEM (SRTM, Copernicus) and land cover
(ESA WorldCover) that are not at hand: fractal relief over the broad shape of Kosovo's
two plains and its mountain rims, and land cover that follows elevation and slope. Both
rasters carry the tag ``SYNTHETIC=yes``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from kosovo_cmr import settings
from kosovo_cmr.analysis.terrain import cell_spacing_m, slope_deg
from kosovo_cmr.outputs.rasters import GTIFF_PROFILE

__all__ = ["COVER_CLASSES", "synthetic_terrain"]

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

#: Towns as built-up ovals (lon, lat, radius in degrees of latitude).
_TOWNS = (
    (21.166, 42.663, 0.05),
    (20.74, 42.215, 0.03),
    (20.29, 42.66, 0.025),
    (20.43, 42.385, 0.025),
    (20.87, 42.89, 0.025),
    (21.47, 42.465, 0.02),
    (21.155, 42.37, 0.02),
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


def _elevation(lon2, lat2, rng) -> np.ndarray:
    """Whole metres (int16, as SRTM): the broad relief, roughened more on the hills."""
    z = np.full(lon2.shape, 820.0)
    for cx, cy, sx, sy, h in _RELIEF:
        z += h * np.exp(-(((lon2 - cx) / sx) ** 2 + ((lat2 - cy) / sy) ** 2) / 2)
    rough = 0.15 + 0.85 * np.clip((z - 500) / 800, 0, 1)  # plains smoother than hills
    z += 220 * rough * _fractal(z.shape, rng, octaves=9, persistence=0.75)
    return np.round(np.clip(z, 260, 2650)).astype("int16")


def _cover(z, transform, lon2, lat2, rng) -> np.ndarray:
    """Cover classes from elevation, slope and a second noise field, on the DEM's grid."""
    dx, dy = cell_spacing_m(transform, "EPSG:4326", np.arange(z.shape[0]))
    slope = np.nan_to_num(slope_deg(z, dx_m=dx, dy_m=dy))
    noise = _fractal(z.shape, rng, octaves=8, persistence=0.7)
    cover = np.full(z.shape, 40, dtype="uint8")  # cropland
    cover[(z > 950 + 100 * noise) | (slope > 7 + 3 * noise)] = 30  # grassland
    cover[(slope > 9 + 3 * noise) | ((z > 1000) & (noise > 0.3))] = 20  # shrubland
    cover[(slope > 12 + 4 * noise) | ((z > 1100) & (noise > -0.2))] = 10  # tree cover
    cover[z > 1900 + 150 * noise] = 30  # above the tree line
    cover[z > 2350] = 60
    for cx, cy, r in _TOWNS:
        town = ((lon2 - cx) / 1.35) ** 2 + (lat2 - cy) ** 2 < (r * (1 + 0.3 * noise)) ** 2
        cover[town] = 50
    return cover


def _to_utm(cover, transform, bounds, cell_m: float):
    """Warp the cover onto a ``cell_m`` grid in UTM 34N (mode resampling)."""
    from rasterio.transform import from_origin
    from rasterio.warp import Resampling, reproject, transform_bounds

    left, bottom, right, top = transform_bounds("EPSG:4326", "EPSG:32634", *bounds)
    ctransform = from_origin(
        math.floor(left / cell_m) * cell_m, math.ceil(top / cell_m) * cell_m, cell_m, cell_m
    )
    cw = math.ceil((right - left) / cell_m) + 1
    ch = math.ceil((top - bottom) / cell_m) + 1
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
    return warped, ctransform


def _write_dem(path: Path, z, transform, tags: dict) -> None:
    import rasterio

    height, width = z.shape
    profile = dict(GTIFF_PROFILE, count=1, width=width, height=height, transform=transform)
    with rasterio.open(
        path, "w", crs="EPSG:4326", dtype="int16", nodata=-32768, predictor=2, **profile
    ) as dst:
        dst.write(z, 1)
        dst.update_tags(**tags, UNITS="metres above sea level (synthetic)")
        dst.set_band_unit(1, "metre")
        dst.set_band_description(1, "SYNTHETIC elevation")


def _write_cover(path: Path, cover, transform, tags: dict) -> None:
    import rasterio

    height, width = cover.shape
    profile = dict(GTIFF_PROFILE, count=1, width=width, height=height, transform=transform)
    with rasterio.open(path, "w", crs="EPSG:32634", dtype="uint8", nodata=0, **profile) as dst:
        dst.write(cover, 1)
        dst.update_tags(
            **tags,
            CLASSES="; ".join(f"{k}={v}" for k, v in COVER_CLASSES.items()),
        )
        dst.set_band_description(1, "SYNTHETIC land cover (ESA WorldCover codes)")


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
    from rasterio.transform import from_origin

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
    z = _elevation(lon2, lat2, rng)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tags = {
        "SYNTHETIC": "yes",
        "SOURCE": f"kosovo_cmr.synthetic.terrain.synthetic_terrain(seed={seed}); not real terrain",
    }
    dem_path = out / "dem-synthetic.tif"
    _write_dem(dem_path, z, transform, tags)
    cover = _cover(z, transform, lon2, lat2, rng)
    warped, ctransform = _to_utm(cover, transform, (lon0, lat0, lon1, lat1), cover_cell_m)
    cover_path = out / "cover-synthetic.tif"
    _write_cover(cover_path, warped, ctransform, tags)
    return dem_path, cover_path
