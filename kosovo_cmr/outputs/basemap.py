"""Ground context for printed and web maps: basemap imagery, relief and vector layers.

Three readers, each for a map's extent in the map's CRS, each returning what it read
with the credit to print beside it:

- :func:`read_basemap`: a GeoTIFF or an MBTiles file (an orthophoto, a scanned
  topographic map, tiles a team made with QGIS or GDAL), warped onto a grid over the
  extent as an RGBA image;
- :func:`read_relief`: a DEM GeoTIFF warped onto the same kind of grid (cubic), with its
  hillshade, for relief shading and contours;
- :func:`read_context`: vector layers of a GeoPackage (roads, buildings, rivers) within
  the extent.

Files are recognised by their content, not their name (a TIFF or SQLite header, and for
SQLite the MBTiles or GeoPackage tables), and only local files are read: no URL, no
``/vsi`` path, no VRT, so that a map never reaches the network or another file on its
own. Credits come from the file: a GeoTIFF's ``TIFFTAG_COPYRIGHT`` /
``TIFFTAG_IMAGEDESCRIPTION`` tags, an MBTiles ``attribution``, a GeoPackage layer's
``description``; the file name always.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from kosovo_cmr.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "RasterImage",
    "Relief",
    "ContextLayer",
    "sniff",
    "read_basemap",
    "raster_extent",
    "WEB_MERCATOR",
    "read_relief",
    "read_context",
    "hillshade",
]

#: The CRS of an interactive map's basemap grid (Leaflet's own): see ``read_basemap``.
WEB_MERCATOR = "EPSG:3857"

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class RasterImage:
    """A basemap warped onto a grid over a map's extent.

    Attributes
    ----------
    rgba : numpy.ndarray
        ``(rows, cols, 4)`` uint8, north up; alpha 0 where the file has no data.
    bounds : tuple of float
        ``(left, bottom, right, top)`` of the grid in ``crs``.
    crs : str
        The map's CRS.
    name : str
        The file's name.
    credit : str
        The credit the file carries (copyright, attribution), or "".
    """

    rgba: np.ndarray
    bounds: tuple[float, float, float, float]
    crs: str
    name: str
    credit: str

    @property
    def coverage(self) -> float:
        """Share of the extent the file covers (0 to 1)."""
        return float((self.rgba[..., 3] > 0).mean()) if self.rgba.size else 0.0


@dataclass(frozen=True)
class Relief:
    """A DEM warped onto a grid over a map's extent, and its hillshade.

    Attributes
    ----------
    elevation : numpy.ndarray
        ``(rows, cols)`` float metres, north up; NaN where the DEM has no data.
    shade : numpy.ndarray
        Hillshade in [0, 1] (:func:`hillshade`), NaN where the DEM has no data.
    bounds : tuple of float
        ``(left, bottom, right, top)`` in ``crs``.
    crs : str
        The map's CRS.
    name : str
        The DEM file's name.
    credit : str
        The credit the file carries, or "".
    synthetic : bool
        Whether the DEM is tagged ``SYNTHETIC=yes`` (the demo's).
    """

    elevation: np.ndarray
    shade: np.ndarray
    bounds: tuple[float, float, float, float]
    crs: str
    name: str
    credit: str
    synthetic: bool

    @property
    def coverage(self) -> float:
        """Share of the extent the DEM covers (0 to 1)."""
        return float(np.isfinite(self.elevation).mean()) if self.elevation.size else 0.0


@dataclass(frozen=True)
class ContextLayer:
    """One vector layer of a GeoPackage, within a map's extent and in its CRS."""

    name: str
    frame: gpd.GeoDataFrame
    file: str
    credit: str


def _local(path) -> Path:
    text = os.fspath(path)
    if "://" in text or text.startswith("/vsi"):
        raise InputError(f"{text}: only local files are read (no URL or /vsi path)")
    local = Path(text)
    if not local.is_file():
        raise InputError(f"{text} is not a file")
    return local


def _sqlite_tables(path: Path) -> set[str]:
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: not a readable SQLite file ({exc})") from None
    finally:
        con.close()


def sniff(path: str | os.PathLike) -> str:
    """Return the format of a ground-context file from its content.

    Returns
    -------
    str
        ``"GTiff"``, ``"MBTiles"`` or ``"GPKG"`` (the GDAL driver to open it with).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file is not local, or none of those (whatever its name says).
    """
    local = _local(path)
    with open(local, "rb") as fh:
        head = fh.read(16)
    if head[:4] in _TIFF_MAGIC:
        return "GTiff"
    if head == _SQLITE_MAGIC:
        tables = _sqlite_tables(local)
        if {"tiles", "metadata"} <= tables or {"map", "images", "metadata"} <= tables:
            return "MBTiles"
        if "gpkg_contents" in tables:
            return "GPKG"
    raise InputError(f"{local}: not a GeoTIFF, MBTiles or GeoPackage file (judged by its content)")


def _grid(bounds, resolution_m: float, max_pixels: int):
    """Return a north-up grid over ``bounds`` at ``resolution_m`` (coarser if over max_pixels)."""
    from rasterio.transform import from_origin

    left, bottom, right, top = bounds
    width, height = right - left, top - bottom
    if width <= 0 or height <= 0 or resolution_m <= 0:
        raise InputError(f"empty extent {bounds} or resolution {resolution_m}")
    res = max(resolution_m, math.sqrt(width * height / max_pixels))
    cols, rows = max(1, math.ceil(width / res)), max(1, math.ceil(height / res))
    return from_origin(left, top, res, res), rows, cols, res


def _open(path: Path, driver: str):
    import rasterio

    return rasterio.open(path, driver=driver)  # only that driver: no VRT, no other


@contextmanager
def _open_basemap(path):
    """Open a local GeoTIFF or MBTiles file that has a CRS: ``(dataset, path, driver)``."""
    local = _local(path)
    driver = sniff(local)
    if driver not in ("GTiff", "MBTiles"):
        raise InputError(f"{local}: a basemap is a GeoTIFF or MBTiles file, not {driver}")
    with _open(local, driver) as ds:
        if ds.crs is None:
            raise InputError(f"{local}: the basemap has no CRS")
        yield ds, local, driver


def _credit_of(ds, path: Path, driver: str) -> str:
    if driver == "MBTiles":
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = dict(con.execute("SELECT name, value FROM metadata").fetchall())
        finally:
            con.close()
        return str(rows.get("attribution") or rows.get("description") or "").strip()
    tags = ds.tags()
    for key in ("TIFFTAG_COPYRIGHT", "TIFFTAG_IMAGEDESCRIPTION", "TIFFTAG_ARTIST"):
        if tags.get(key, "").strip():
            return tags[key].strip()
    return "SYNTHETIC" if tags.get("SYNTHETIC", "").lower() == "yes" else ""


def _warp_band(ds, index: int, transform, rows, cols, crs, resampling):
    """Warp one band onto the grid; GDAL reads only the source windows it needs."""
    import rasterio
    from rasterio.warp import reproject

    out = np.full((rows, cols), np.nan, dtype="float32")
    reproject(
        source=rasterio.band(ds, index),
        destination=out,
        src_transform=ds.transform,
        src_crs=ds.crs,
        src_nodata=ds.nodata,
        dst_transform=transform,
        dst_crs=crs,
        dst_nodata=np.nan,
        resampling=resampling,
    )
    return out


def _to_rgba(ds, bands: list[np.ndarray], valid: np.ndarray) -> np.ndarray:
    """Combine warped bands (float) into RGBA uint8, by the file's band layout."""
    rows, cols = valid.shape
    rgba = np.zeros((rows, cols, 4), dtype="uint8")
    if len(bands) == 1 and ds.colorinterp[0].name == "palette":
        cmap = ds.colormap(1)
        lut = np.zeros((256, 4), dtype="uint8")
        for k, colour in cmap.items():
            if 0 <= k < 256:
                lut[k] = colour
        rgba[:] = lut[np.clip(np.nan_to_num(bands[0]), 0, 255).astype("uint8")]
        rgba[..., 3] = np.where(valid, 255, 0)
        return rgba
    scaled = [_scaled(b, ds.dtypes[0]) for b in bands]
    colours = scaled[:3] if len(scaled) >= 3 else [scaled[0]] * 3
    for k in range(3):
        rgba[..., k] = colours[k]
    alpha = scaled[3] if len(scaled) == 4 else (scaled[1] if len(scaled) == 2 else 255)
    rgba[..., 3] = np.where(valid, alpha, 0)
    return rgba


def _scaled(band: np.ndarray, dtype: str) -> np.ndarray:
    finite = np.nan_to_num(band)
    if dtype == "uint8":
        return np.clip(finite, 0, 255).astype("uint8")
    lo, hi = np.nanpercentile(band, [2, 98]) if np.isfinite(band).any() else (0.0, 1.0)
    log.info("basemap of type %s stretched from %.1f-%.1f to 0-255", dtype, lo, hi)
    return np.clip((finite - lo) / max(hi - lo, 1e-9) * 255, 0, 255).astype("uint8")


def read_basemap(
    path: str | os.PathLike,
    *,
    bounds: tuple[float, float, float, float],
    crs,
    resolution_m: float,
    max_pixels: int = 4_000_000,
) -> RasterImage:
    """Read a GeoTIFF or MBTiles basemap over an extent, warped to the map's CRS.

    Parameters
    ----------
    path : path
        A local GeoTIFF or MBTiles file (recognised by content).
    bounds : (left, bottom, right, top)
        The extent in ``crs``.
    crs : anything rasterio accepts
        The map's (projected) CRS.
    resolution_m : float
        Cell size of the grid in CRS units (e.g. 0.2 mm at the printed scale).
    max_pixels : int, default 4,000,000
        Cap on the grid's cells: the resolution is coarsened to stay under it.

    Returns
    -------
    RasterImage
        Bilinear resampling (nearest for a paletted map); cells the file does not cover
        are transparent.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file is not a local GeoTIFF or MBTiles file, or has no CRS.
    """
    from rasterio.warp import Resampling

    transform, rows, cols, _ = _grid(bounds, resolution_m, max_pixels)
    with _open_basemap(path) as (ds, local, driver):
        paletted = ds.count == 1 and ds.colorinterp[0].name == "palette"
        how = Resampling.nearest if paletted else Resampling.bilinear
        n = min(ds.count, 4)
        bands = [_warp_band(ds, i, transform, rows, cols, crs, how) for i in range(1, n + 1)]
        valid = np.isfinite(bands[0])
        rgba = _to_rgba(ds, bands, valid)
        credit = _credit_of(ds, local, driver)
    return RasterImage(rgba, tuple(map(float, bounds)), str(crs), local.name, credit)


def raster_extent(path: str | os.PathLike, *, crs) -> tuple[tuple[float, ...], float]:
    """Return a GeoTIFF's or MBTiles file's extent in ``crs`` and its cell size there.

    What a map needs to ask :func:`read_basemap` for the part of the file it shows, at
    the file's own resolution.

    Parameters
    ----------
    path : path
        A local GeoTIFF or MBTiles file (recognised by content).
    crs : anything rasterio accepts
        The map's CRS.

    Returns
    -------
    tuple
        ``((left, bottom, right, top), cell size)`` in ``crs`` units.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file is not a local GeoTIFF or MBTiles file, or has no CRS.
    """
    from rasterio.warp import calculate_default_transform

    with _open_basemap(path) as (ds, _, _):
        transform, cols, rows = calculate_default_transform(
            ds.crs, crs, ds.width, ds.height, *ds.bounds
        )
    left, top = transform.c, transform.f
    right, bottom = left + cols * transform.a, top + rows * transform.e
    return (left, bottom, right, top), float(transform.a)


def hillshade(
    elevation: np.ndarray, *, cell_m: float, azimuth_deg: float = 315.0, altitude_deg: float = 45.0
) -> np.ndarray:
    """Return the hillshade of a north-up elevation grid, in [0, 1] (NaN stays NaN).

    The usual illumination model (light from the north-west, 45° up): the cosine of
    the angle between the surface normal and the light.

    Examples
    --------
    >>> flat = np.zeros((3, 3))
    >>> round(float(hillshade(flat, cell_m=10)[1, 1]), 3)  # sin(45°)
    0.707
    """
    dz_dy, dz_dx = np.gradient(elevation.astype(float), cell_m)
    dz_dy = -dz_dy  # rows run southward
    slope = np.arctan(np.hypot(dz_dx, dz_dy))
    aspect = np.arctan2(-dz_dx, -dz_dy)  # direction the slope faces, from north clockwise
    az, alt = np.radians(azimuth_deg), np.radians(altitude_deg)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0)


def read_relief(
    dem: str | os.PathLike,
    *,
    bounds: tuple[float, float, float, float],
    crs,
    resolution_m: float,
    max_pixels: int = 1_000_000,
) -> Relief:
    """Read a DEM GeoTIFF over an extent, warped to the map's CRS (cubic), with hillshade.

    Parameters
    ----------
    dem : path
        A local GeoTIFF of elevations in metres (SRTM, Copernicus, a national DEM).
    bounds, crs, resolution_m, max_pixels
        As for :func:`read_basemap`; ``crs`` must be in metres.

    Returns
    -------
    Relief

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file is not a local GeoTIFF, or has no CRS.
    """
    from rasterio.warp import Resampling

    local = _local(dem)
    if sniff(local) != "GTiff":
        raise InputError(f"{local}: a DEM is a GeoTIFF file")
    transform, rows, cols, res = _grid(bounds, resolution_m, max_pixels)
    with _open(local, "GTiff") as ds:
        if ds.crs is None:
            raise InputError(f"{local}: the DEM has no CRS")
        elevation = _warp_band(ds, 1, transform, rows, cols, crs, Resampling.cubic)
        credit = _credit_of(ds, local, "GTiff")
        synthetic = ds.tags().get("SYNTHETIC", "").lower() == "yes"
    shade = np.where(np.isfinite(elevation), hillshade(elevation, cell_m=res), np.nan)
    return Relief(
        elevation, shade, tuple(map(float, bounds)), str(crs), local.name, credit, synthetic
    )


def _layer_credit(path: Path, layer: str) -> str:
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT description FROM gpkg_contents WHERE table_name = ?", (layer,)
        ).fetchone()
    finally:
        con.close()
    text = (row[0] or "").strip() if row else ""
    return "" if text == layer else text


def read_context(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    bounds: tuple[float, float, float, float],
    crs,
) -> list[ContextLayer]:
    """Read vector layers of a GeoPackage within an extent, in the map's CRS.

    Parameters
    ----------
    path : path
        A local GeoPackage (recognised by content).
    layer : str, optional
        One layer; default every layer with geometries.
    bounds : (left, bottom, right, top)
        The extent in ``crs``; features are clipped to it.
    crs : anything pyproj accepts
        The map's CRS.

    Returns
    -------
    list of ContextLayer
        One per layer, in the file's order; a layer with nothing in the extent is kept
        (empty) so that its credit is still printed.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file is not a GeoPackage, has no such layer, or a layer has no CRS.
    """
    import pyogrio
    import shapely
    from pyproj import Transformer

    local = _local(path)
    if sniff(local) != "GPKG":
        raise InputError(f"{local}: vector context is read from a GeoPackage")
    layers = [name for name, geom in pyogrio.list_layers(local) if geom]
    if layer is not None and layer not in layers:
        raise InputError(f"{local} has no layer {layer!r}; it has: {', '.join(layers)}")
    out = []
    for name in [layer] if layer else layers:
        info = pyogrio.read_info(local, layer=name)
        if not info.get("crs"):
            raise InputError(f"{local}:{name} has no CRS")
        to_layer = Transformer.from_crs(crs, info["crs"], always_xy=True)
        bbox = to_layer.transform_bounds(*bounds)
        gdf = pyogrio.read_dataframe(local, layer=name, bbox=bbox).to_crs(crs)
        clipped = shapely.clip_by_rect(gdf.geometry.values, *bounds)
        gdf = gdf.set_geometry(clipped)
        gdf = gdf[~gdf.geometry.isna() & ~gdf.geometry.is_empty]
        out.append(ContextLayer(name, gdf, local.name, _layer_credit(local, name)))
    return out
