"""The four measures of a priority indicator, per hazard: distance, overlap, zonal, attribute.

Each takes the hazards in the metric CRS (:data:`kosovo_cmr.settings.metric_crs`) and one
context layer, and returns the raw value per hazard (NaN where the layer cannot say, e.g.
a hazard outside a raster); :mod:`kosovo_cmr.analysis.priority` turns raw values into
0-1 scores with the thresholds of the model file.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError

__all__ = ["MEASURES", "measure", "linear_score"]

#: The measures an indicator may use.
MEASURES = ("distance", "overlap", "zonal", "attribute")

#: Raster statistics a ``zonal`` indicator may take over the cells of a hazard.
ZONAL_STATS = ("sum", "mean", "max")


def linear_score(values, *, full: float, zero: float) -> np.ndarray:
    """Score raw values linearly: 1 at ``full`` (and beyond), 0 at ``zero`` (and beyond).

    ``full`` may lie above or below ``zero``: a distance scores 1 when near (``full`` is
    the small value), a population when large (``full`` is the large value). NaN stays
    NaN.

    Examples
    --------
    >>> linear_score([0, 500, 1000, 3000], full=0, zero=1000).tolist()
    [1.0, 0.5, 0.0, 0.0]
    >>> linear_score([0, 50, 200], full=100, zero=0).tolist()
    [0.0, 0.5, 1.0]
    """
    v = np.asarray(values, dtype=float)
    if full == zero:
        raise InputError(f"an indicator's full and zero thresholds must differ, got {full}")
    return np.clip((v - zero) / (full - zero), 0.0, 1.0) + 0.0  # no -0.0


def _metric(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    require_crs(gdf, name=name)
    out = gdf.to_crs(settings.metric_crs)
    return out[~out.geometry.isna() & ~out.geometry.is_empty]


def _distance(hazards: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, spec: dict) -> np.ndarray:
    """Distance from each hazard to the nearest feature of the layer, m (inf: no feature)."""
    layer = _metric(layer, spec["layer"])
    if layer.empty:
        return np.full(len(hazards), np.inf)
    (h_idx, _), dist = layer.sindex.nearest(hazards.geometry, return_distance=True)
    out = np.full(len(hazards), np.inf)
    np.minimum.at(out, h_idx, dist)
    return out


def _overlap(hazards: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, spec: dict) -> np.ndarray:
    """Share (0-1) of each hazard's area that the layer's polygons cover."""
    layer = _metric(layer, spec["layer"])
    polygons = layer[layer.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polygons) < len(layer):
        raise InputError(f"overlap with layer {spec['layer']!r} needs polygons")
    if polygons.empty:
        return np.zeros(len(hazards))
    cover = polygons.union_all()
    area = hazards.geometry.area.to_numpy()
    inter = hazards.geometry.intersection(cover).area.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(area > 0, inter / area, 0.0)


def _attribute(hazards: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, spec: dict) -> np.ndarray:
    """Read ``column`` of the polygon holding each hazard's representative point (NaN: none)."""
    column = spec.get("column")
    if column not in layer.columns:
        raise InputError(f"layer {spec['layer']!r} has no column {column!r}")
    layer = _metric(layer, spec["layer"])
    points = gpd.GeoDataFrame(geometry=hazards.geometry.representative_point(), crs=hazards.crs)
    joined = gpd.sjoin(points, layer[[column, "geometry"]], how="left", predicate="within")
    values = pd.to_numeric(joined[column], errors="coerce")
    return values.groupby(level=0).first().reindex(range(len(hazards))).to_numpy(float)


def _zonal(hazards: gpd.GeoDataFrame, path, spec: dict) -> np.ndarray:
    """Compute a statistic of the raster cells within each hazard (buffered by ``buffer_m``)."""
    import rasterio
    from rasterio.features import geometry_mask
    from rasterio.windows import from_bounds

    stat = spec.get("stat", "sum")
    if stat not in ZONAL_STATS:
        raise InputError(f"zonal stat must be one of {', '.join(ZONAL_STATS)}, got {stat!r}")
    zones = hazards.geometry.buffer(float(spec.get("buffer_m", 0.0)))
    out = np.full(len(hazards), np.nan)
    try:
        src = rasterio.open(path)
    except (OSError, rasterio.errors.RasterioIOError) as exc:
        raise InputError(f"cannot read raster {path}: {exc}") from exc
    with src:
        if src.crs is None:
            raise InputError(f"raster {path} has no CRS")
        zones = zones.to_crs(src.crs)
        full = rasterio.windows.Window(0, 0, src.width, src.height)
        for i, geom in enumerate(zones):
            win = from_bounds(*geom.bounds, transform=src.transform).round_offsets().round_lengths()
            try:
                win = win.intersection(full)
            except rasterio.errors.WindowError:
                continue  # outside the raster: NaN
            data = src.read(1, window=win, masked=True)
            transform = src.window_transform(win)
            for touched in (False, True):  # a zone smaller than a cell takes what it touches
                inside = ~geometry_mask(
                    [geom], out_shape=data.shape, transform=transform, all_touched=touched
                )
                cells = data[inside & ~np.ma.getmaskarray(data)]
                if cells.size:
                    break
            if cells.size:
                out[i] = float(getattr(np, stat)(cells.astype(float)))
    return out


def measure(hazards: gpd.GeoDataFrame, source, spec: dict) -> np.ndarray:
    """Raw value of one indicator per hazard (hazards in the metric CRS, aligned 0..n-1).

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards in :data:`kosovo_cmr.settings.metric_crs`, index ``0..n-1``.
    source : GeoDataFrame or path
        The indicator's layer: a GeoDataFrame for ``distance``, ``overlap`` and
        ``attribute``, a raster path for ``zonal``.
    spec : dict
        The indicator of the model file (``layer``, ``measure`` and its options).

    Returns
    -------
    numpy.ndarray
        Metres (distance), share (overlap), the raster statistic (zonal) or the column's
        value (attribute); NaN where the layer has nothing to say.
    """
    kind = spec["measure"]
    if kind == "zonal":
        if isinstance(source, gpd.GeoDataFrame):
            raise InputError(f"indicator on {spec['layer']!r}: zonal needs a raster, got a vector")
        return _zonal(hazards, source, spec)
    if not isinstance(source, gpd.GeoDataFrame):
        raise InputError(f"indicator on {spec['layer']!r}: {kind} needs a vector layer")
    return {"distance": _distance, "overlap": _overlap, "attribute": _attribute}[kind](
        hazards, source, spec
    )
