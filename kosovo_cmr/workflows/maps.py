"""The maps and field sheets of a store: read the layers, compute what the maps show, draw.

:func:`map_layers` reads every layer a store holds and adds the two the interactive map
derives from them: the fade-out rings (the land the 2024 rule releases, from
:func:`kosovo_cmr.analysis.fadeout.buffer_impact`) and the strike footprints
(:func:`kosovo_cmr.analysis.strikes.strike_footprints`). :func:`map_from_store` hands
them to the renderer (:func:`kosovo_cmr.outputs.maps.interactive_map`), which draws
what it is given and computes nothing. Field sheets have their own workflow
(:mod:`kosovo_cmr.workflows.fieldsheets`).
"""

from __future__ import annotations

import logging

import geopandas as gpd

from kosovo_cmr.analysis import fadeout
from kosovo_cmr.analysis.strikes import strike_footprints
from kosovo_cmr.errors import InputError, KcmrError
from kosovo_cmr.outputs.maps import interactive_map
from kosovo_cmr.workflows.forecast import tolerable_risk_layer

log = logging.getLogger(__name__)

__all__ = [
    "FADEOUT_RULES",
    "DERIVED",
    "read_layers",
    "fadeout_rings",
    "map_layers",
    "map_from_store",
    "basemap_image",
]

#: The fade-out rules whose difference the map's rings show (old, new): 50 m -> 25 m in 2024.
FADEOUT_RULES: tuple[str, str] = ("kosovo-pre-2024", "kosovo-nmas-2024")

#: Keys :func:`map_layers` adds to the store's layers.
DERIVED = ("fadeout_rings", "strike_footprints")


def read_layers(store) -> dict[str, gpd.GeoDataFrame]:
    """Return every layer the store holds, by name."""
    return {name: store.read(name) for name in store.layers()}


def fadeout_rings(
    evidence: gpd.GeoDataFrame, *, rules: tuple[str, str] = FADEOUT_RULES
) -> gpd.GeoDataFrame | None:
    """Return the fade-out rings of the evidence: the land the new rule releases.

    Parameters
    ----------
    evidence : GeoDataFrame
        The evidence points.
    rules : (str, str), default :data:`FADEOUT_RULES`
        The old and the new fade-out rule.

    Returns
    -------
    GeoDataFrame or None
        :attr:`kosovo_cmr.analysis.fadeout.ImpactResult.rings` without empty rings,
        marked ``synthetic`` when the evidence is; None when there is no ring, or when
        the evidence cannot be measured (the reason is logged and the map is drawn
        without rings).
    """
    try:
        rings = fadeout.buffer_impact(evidence, *rules).rings
    except (KcmrError, ValueError, KeyError) as exc:
        log.info("fade-out rings left out: %s", exc)
        return None
    rings = rings[~rings.geometry.isna() & ~rings.geometry.is_empty]
    if len(rings) == 0:
        return None
    synthetic = "synthetic" in evidence.columns and bool(
        evidence["synthetic"].fillna(False).astype(bool).any()
    )
    return rings.assign(synthetic=True) if synthetic else rings


def _read(store_or_layers, *, what: str) -> dict[str, gpd.GeoDataFrame]:
    if isinstance(store_or_layers, dict):
        return dict(store_or_layers)
    if hasattr(store_or_layers, "read") and hasattr(store_or_layers, "layers"):
        return read_layers(store_or_layers)
    raise InputError(
        f"{what} needs a store or a dict of GeoDataFrames, got {type(store_or_layers).__name__}"
    )


def _rings_of(layers: dict) -> gpd.GeoDataFrame | None:
    evidence = layers.get("evidence")
    if evidence is None or not len(evidence):
        return None
    log.info("fade-out rings of %s evidence point(s)", f"{len(evidence):,}")
    return fadeout_rings(evidence)


def _footprints_of(layers: dict) -> gpd.GeoDataFrame | None:
    strikes = layers.get("strikes")
    return strike_footprints(strikes) if strikes is not None and len(strikes) else None


def _audit_layers(layers: dict) -> dict:
    """Return the evidence audit's map layer (issue 17); none if the layers cannot be audited."""
    from kosovo_cmr.workflows.audit import audit_map_layers

    try:
        return audit_map_layers(layers)
    except (KcmrError, ValueError, KeyError) as exc:
        log.info("evidence audit layer left out: %s", exc)
        return {}


def map_layers(store_or_layers) -> dict[str, gpd.GeoDataFrame]:
    """Return the layers the interactive map shows: the store's and those derived from them.

    Parameters
    ----------
    store_or_layers : Store or dict of str to GeoDataFrame
        A store (every layer it holds is read) or layers by name.

    Returns
    -------
    dict of str to GeoDataFrame
        The layers, plus (keys :data:`DERIVED`) ``fadeout_rings`` (from the evidence,
        see :func:`fadeout_rings`) and ``strike_footprints`` (from the strikes) when
        there are any. Pop those two and pass them by keyword to
        :func:`kosovo_cmr.outputs.maps.interactive_map`.
    """
    layers = _read(store_or_layers, what="map_layers")
    derived = {"fadeout_rings": _rings_of(layers), "strike_footprints": _footprints_of(layers)}
    derived["tolerable_risk"] = tolerable_risk_layer(layers)  # issue 18: the choropleth
    layers.update({key: gdf for key, gdf in derived.items() if gdf is not None})
    layers.update(_audit_layers(layers))  # issue 17: the land no evidence supports
    return layers


def map_from_store(
    store_or_layers,
    *,
    fadeout_rings: gpd.GeoDataFrame | None = None,
    strike_footprints: gpd.GeoDataFrame | None = None,
    basemap=None,
    **options,
):
    """Draw the interactive map of a store, with its fade-out rings and strike footprints.

    Parameters
    ----------
    store_or_layers : Store or dict of str to GeoDataFrame
        A store (every layer it holds is read) or layers by name.
    fadeout_rings, strike_footprints : GeoDataFrame, optional
        Drawn instead of those computed from the layers (see :func:`map_layers`).
    basemap : path, optional
        A GeoTIFF or MBTiles file (an orthophoto, a scanned map) drawn under the layers
        and embedded in the page (:func:`basemap_image`).
    **options
        ``offline``, ``title``, ``tolerance_m``, ``cluster_threshold``,
        ``grid_threshold`` (see :func:`kosovo_cmr.outputs.maps.interactive_map`).

    Returns
    -------
    folium.Map
    """
    layers = _read(store_or_layers, what="map_from_store")
    layers.update(_audit_layers(layers))  # issue 17: the land no evidence supports
    log.info("map of %s", ", ".join(f"{k} ({len(v):,})" for k, v in layers.items()))
    return interactive_map(
        layers,
        fadeout_rings=_rings_of(layers) if fadeout_rings is None else fadeout_rings,
        strike_footprints=_footprints_of(layers)
        if strike_footprints is None
        else strike_footprints,
        basemap=None if basemap is None else basemap_image(layers, basemap),
        **options,
    )


def basemap_image(layers: dict, path, *, max_pixels: int = 4_000_000):
    """Read the part of a basemap the map's layers cover, on the map's Web Mercator grid.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        The layers the map shows; their extent (padded by 5 %) bounds what is read.
    path : path
        A local GeoTIFF or MBTiles file.
    max_pixels : int, default 4,000,000
        Cap on the image's cells (the page carries it as a PNG): the file's own
        resolution when that fits, coarser otherwise.

    Returns
    -------
    kosovo_cmr.outputs.basemap.RasterImage

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file is not a local GeoTIFF or MBTiles file, has no CRS, or lies outside
        the layers.
    """
    import numpy as np

    from kosovo_cmr.outputs.basemap import WEB_MERCATOR, raster_extent, read_basemap

    frames = [g for g in layers.values() if g is not None and len(g) and g.crs is not None]
    boxes = [g.to_crs(WEB_MERCATOR).total_bounds for g in frames]
    boxes = np.array([b for b in boxes if np.isfinite(b).all()])
    (fl, fb, fr, ft), res = raster_extent(path, crs=WEB_MERCATOR)
    if not len(boxes):
        raise InputError(f"basemap {path}: the map has no layer to place it by")
    left, bottom = boxes[:, 0].min(), boxes[:, 1].min()
    right, top = boxes[:, 2].max(), boxes[:, 3].max()
    pad = 0.05 * max(right - left, top - bottom, 1000.0)
    bounds = (max(left - pad, fl), max(bottom - pad, fb), min(right + pad, fr), min(top + pad, ft))
    if bounds[0] >= bounds[2] or bounds[1] >= bounds[3]:
        raise InputError(f"basemap {path} lies outside the map's layers: nothing of it would show")
    image = read_basemap(
        path, bounds=bounds, crs=WEB_MERCATOR, resolution_m=res, max_pixels=max_pixels
    )
    log.info(
        "basemap %s: %d x %d pixels, %.0f %% of its grid covered",
        image.name, image.rgba.shape[1], image.rgba.shape[0], 100 * image.coverage,
    )  # fmt: skip
    return image
