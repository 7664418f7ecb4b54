"""The priority workflow: read the store's hazards and the context layers, score them.

``kcmr prioritise`` and the demo call :func:`priorities_from_store`: it reads the active
hazards of a store, reads each context layer the model names with the package's readers
(vector files through :func:`kosovo_cmr.sources.read_source`: GeoPackage, Shapefile,
GeoJSON, KML, ...; rasters by path, read window by window), and runs
:func:`kosovo_cmr.analysis.priority.priority_scores`.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd

from kosovo_cmr.analysis.priority import PriorityResult, priority_scores, read_model
from kosovo_cmr.errors import InputError

__all__ = ["RASTER_SUFFIXES", "parse_layer_spec", "read_context", "priorities_from_store"]

#: Context files read as rasters (zonal statistics); every other file is a vector layer.
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img")


def parse_layer_spec(text: str) -> tuple[str, Path, str | None]:
    """Parse ``NAME=PATH`` or ``NAME=PATH:LAYER`` (a layer of a multi-layer file).

    Examples
    --------
    >>> parse_layer_spec("roads=/no/such/ctx.gpkg:roads")
    ('roads', PosixPath('/no/such/ctx.gpkg'), 'roads')
    >>> parse_layer_spec("population=pop.tif")
    ('population', PosixPath('pop.tif'), None)
    """
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise InputError(f"--layer expects NAME=PATH or NAME=PATH:LAYER, got {text!r}")
    path, layer = Path(rest), None
    if not path.exists() and ":" in rest:
        head, _, tail = rest.rpartition(":")
        path, layer = Path(head), tail or None
    return name.strip(), path, layer


def read_context(path: str | os.PathLike, layer: str | None = None):
    """Read one context layer: a GeoDataFrame for a vector file, the path for a raster.

    Parameters
    ----------
    path : path
        A vector file the package reads (:data:`kosovo_cmr.sources.VECTOR_SUFFIXES`, or a
        CSV with coordinates), or a raster (:data:`RASTER_SUFFIXES`).
    layer : str, optional
        The layer of a multi-layer vector file.

    Returns
    -------
    GeoDataFrame or pathlib.Path

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file is missing or unreadable, or a vector layer has no CRS.
    """
    from kosovo_cmr.sources import read_source

    path = Path(path)
    if not path.exists():
        raise InputError(f"context layer {path} does not exist")
    if path.suffix.lower() in RASTER_SUFFIXES:
        return path
    source = read_source(path, src_layer=layer)
    if source.crs is None:
        raise InputError(f"context layer {path} has no CRS")
    return gpd.GeoDataFrame(source.frame, geometry=source.geometry, crs=source.crs)


def priorities_from_store(
    store,
    layers: dict,
    *,
    model=None,
    step: float = 0.2,
) -> PriorityResult:
    """Score the store's active hazards under a priority model.

    Parameters
    ----------
    store : kosovo_cmr.store.base.Store
        Holds ``hazards``.
    layers : dict
        Context layer name -> a GeoDataFrame, a raster path, a path, or a (path, layer)
        pair, for each layer the model names.
    model : dict, str or path, optional
        See :func:`kosovo_cmr.analysis.priority.priority_scores` (default ``kmac-2025``).
    step : float, optional
        The sensitivity analysis's weight change (0.2).

    Returns
    -------
    kosovo_cmr.analysis.priority.PriorityResult

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the store has no active hazard, or a context layer is missing or unreadable.
    """
    model = model if isinstance(model, dict) else read_model(model)
    missing = [name for name in model["layers"] if name not in layers]
    if missing:
        raise InputError(
            f"the priority model {model['name']} needs context layer(s) {', '.join(missing)}: "
            "pass each as --layer NAME=FILE"
        )
    read = {}
    for name in model["layers"]:
        given = layers[name]
        if isinstance(given, gpd.GeoDataFrame):
            read[name] = given
        elif isinstance(given, tuple):
            read[name] = read_context(*given)
        else:
            read[name] = read_context(given)
    hazards = store.read("hazards")
    active = hazards[hazards["status"] == "active"].reset_index(drop=True)
    if active.empty:
        raise InputError("the store has no active hazard to prioritise")
    return priority_scores(active, read, model=model, step=step)
