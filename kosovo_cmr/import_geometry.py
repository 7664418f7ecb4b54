"""Import, step "check geometry": each feature's shape and position, and its repair.

For every feature read: the checks and repairs of
:func:`kosovo_cmr.geometry_checks.check_geometry` (in the source CRS), the reprojection
to the storage CRS and the position against Kosovo's extent (``axis_swapped``,
``outside_kosovo``), spikes and slivers measured in the metric CRS, and the geodesic
area change of each repaired polygon (``area_change_m2``; a change that cannot be
measured is recorded as ``area_not_measured`` on the feature, never dropped silently).

:func:`check_geometries` runs the step; :func:`kosovo_cmr.importer.import_layer` calls it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import ProjError
from shapely.errors import GEOSException

from kosovo_cmr import settings
from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.geometry_checks import Issue, check_geometry, shape_notes
from kosovo_cmr.import_report import alive_mask
from kosovo_cmr.schema import LayerSchema
from kosovo_cmr.sources import SourceData

#: What measuring an area can raise: GEOS on a broken ring, PROJ without a
#: transformation to WGS 84, a CRS that is missing or cannot be read.
MEASURE_ERRORS = (GEOSException, ProjError, ValueError)

__all__ = [
    "GeometryCheck",
    "check_geometries",
    "within_kosovo",
    "to_storage",
    "add_shape_notes",
    "area_change",
]


@dataclass
class GeometryCheck:
    """What the geometry step made of the features (one entry per feature read).

    Attributes
    ----------
    stored : list
        The geometry to store, in :data:`kosovo_cmr.settings.storage_crs` (``None`` for
        features rejected before reprojection).
    repaired : numpy.ndarray of bool
        Whether the geometry was mended.
    area_change : list
        Geodesic area after minus before the repair, m2 (``None`` if not repaired or
        not measured).
    """

    stored: list
    repaired: np.ndarray
    area_change: list


def check_geometries(
    src: SourceData,
    src_crs: CRS,
    schema: LayerSchema,
    issues: list[list[Issue]],
    *,
    repair: bool = True,
    progress: bool = False,
) -> GeometryCheck:
    """Run the step: check, repair, reproject and measure every feature's geometry.

    Parameters
    ----------
    src : kosovo_cmr.sources.SourceData
        The features read; their geometries are in ``src_crs``.
    src_crs : pyproj.CRS
        The source CRS as resolved by the importer.
    schema : kosovo_cmr.schema.LayerSchema
        The target layer (geometry type, whether empty geometries are allowed).
    issues : list of list of Issue
        One list per feature (the reader's findings), replaced and extended in place.
    repair : bool, default True
        Mend invalid polygons; with ``False`` they are rejected (``not_repaired``).
    progress : bool, default False
        Show a tqdm progress bar on stderr (for 200 features or more).

    Returns
    -------
    GeometryCheck
    """
    n = len(src)
    geoms: list = [None] * n
    repaired = np.zeros(n, dtype=bool)
    bar = _progress(n, progress, "checking")
    for i in range(n):
        result = check_geometry(
            src.geometry[i],
            geometry_type=schema.geometry_type,
            allow_empty=schema.allow_empty_geometry,
            repair=repair,
            issues=issues[i],
        )
        issues[i] = result.issues
        geoms[i] = result.geometry
        repaired[i] = result.repaired
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    stored = to_storage(geoms, alive_mask(issues), src_crs, issues)
    alive = alive_mask(issues)
    add_shape_notes(stored, alive, issues)
    change = area_change(src.geometry, stored, repaired & alive, src_crs, issues)
    return GeometryCheck(stored=stored, repaired=repaired, area_change=change)


def _progress(total: int, enabled: bool, desc: str):
    if not enabled or total < 200:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="feature", leave=False)


def within_kosovo(bounds: Sequence[float]) -> bool:
    """Whether ``(minx, miny, maxx, maxy)`` in degrees fall in Kosovo's extent.

    The extent is :data:`kosovo_cmr.settings.kosovo_bounds` widened by
    :data:`kosovo_cmr.settings.kosovo_margin_deg`.

    Examples
    --------
    >>> within_kosovo((21.1, 42.6, 21.2, 42.7)), within_kosovo((42.6, 21.1, 42.7, 21.2))
    (True, False)
    """
    lon0, lat0, lon1, lat1 = settings.kosovo_bounds
    m = settings.kosovo_margin_deg
    x0, y0, x1, y1 = bounds
    return bool(
        np.isfinite(bounds).all()
        and x0 >= lon0 - m
        and x1 <= lon1 + m
        and y0 >= lat0 - m
        and y1 <= lat1 + m
    )


def to_storage(geoms: list, alive: np.ndarray, src_crs: CRS, issues: list[list[Issue]]) -> list:
    """Reproject the surviving geometries and check them against Kosovo's extent.

    A geometry outside the extent is rejected: ``axis_swapped`` when it fits once X and
    Y are swapped, ``outside_kosovo`` otherwise (location in the source CRS).

    Returns
    -------
    list
        One geometry per feature in the storage CRS (``None`` for features not alive).
    """
    out: list = [None] * len(geoms)
    idx = [i for i in np.flatnonzero(alive)]
    if not idx:
        return out
    series = gpd.GeoSeries([geoms[i] for i in idx], crs=src_crs)
    with np.errstate(all="ignore"):
        stored = series.to_crs(settings.storage_crs).values
        swapped = (
            gpd.GeoSeries(
                shapely.transform([geoms[i] for i in idx], lambda xy: xy[:, ::-1]), crs=src_crs
            )
            .to_crs(settings.storage_crs)
            .values
        )
    for k, i in enumerate(idx):
        g = stored[k]
        if g is None or g.is_empty or within_kosovo(g.bounds):
            out[i] = g
            continue
        c = geoms[i].representative_point() if geoms[i].geom_type != "Point" else geoms[i]
        if swapped[k] is not None and not swapped[k].is_empty and within_kosovo(swapped[k].bounds):
            issues[i].append(
                Issue("axis_swapped", "fits Kosovo once X and Y are swapped", (c.x, c.y))
            )
        else:
            issues[i].append(Issue("outside_kosovo", f"bounds {_fmt_bounds(g.bounds)}", (c.x, c.y)))
    return out


def _fmt_bounds(bounds) -> str:
    return "(" + ", ".join(f"{v:.5g}" for v in bounds) + ")"


def add_shape_notes(stored: list, alive: np.ndarray, issues: list[list[Issue]]) -> None:
    """Add ``spike`` and ``sliver`` notes to the surviving polygons (measured in metres)."""
    idx = [i for i in np.flatnonzero(alive) if stored[i] is not None and not stored[i].is_empty]
    idx = [i for i in idx if stored[i].geom_type in ("Polygon", "MultiPolygon")]
    if not idx:
        return
    metric = gpd.GeoSeries([stored[i] for i in idx], crs=settings.storage_crs).to_crs(
        settings.metric_crs
    )
    for i, g in zip(idx, metric.values, strict=True):
        issues[i].extend(shape_notes(g))


def area_change(
    originals: list, stored: list, mask: np.ndarray, src_crs: CRS, issues: list[list[Issue]]
) -> list:
    """Geodesic area change of each repaired geometry, m2 (after minus before).

    Parameters
    ----------
    originals : list
        The geometries as read, in ``src_crs``.
    stored : list
        The geometries to store, in the storage CRS.
    mask : numpy.ndarray of bool
        The features to measure (repaired and not rejected).
    src_crs : pyproj.CRS
    issues : list of list of Issue
        A feature whose change cannot be measured (the measure raises, or is not
        finite) gets an ``area_not_measured`` note saying why.

    Returns
    -------
    list
        One value per feature: the change, or ``None`` where not measured.
    """
    out: list = [None] * len(stored)
    for i in np.flatnonzero(mask):
        try:
            before = float(geodesic_area([shapely.force_2d(originals[i])], crs=src_crs)[0])
            after = float(geodesic_area([stored[i]], crs=settings.storage_crs)[0])
        except MEASURE_ERRORS as exc:  # an original too broken to measure
            issues[i].append(Issue("area_not_measured", f"{type(exc).__name__}: {exc}"))
            continue
        if not (np.isfinite(before) and np.isfinite(after)):
            issues[i].append(Issue("area_not_measured", f"area {before} m2 before, {after} after"))
            continue
        out[i] = after - before
    return out
