"""Import, step "places": canonical municipality and region names, filled where missing.

For every layer whose schema has a ``municipality`` or ``region`` column (issue 19):

- a name the source gives is written the one way the region table spells it, whatever
  the spelling or language of the file: Albanian, Serbian Latin with or without
  diacritics, Serbian Cyrillic, or a Serbian name that differs entirely ("Uroševac" ->
  "Ferizaj", "Kosovska Mitrovica" -> "Mitrovicë"), through :func:`kosovo_cmr.places.locate`
  and the alias table ``layers/place_names.csv``. A name that matches nothing is kept as
  written, with a notice: it is never guessed;
- a missing ``municipality`` is taken from the geometry: the municipality holding the
  largest share of a polygon's area (or holding a point), measured in the metric CRS
  against the store's ``boundaries`` layer, or the municipal boundaries of 2018 when the
  store has none (:func:`kosovo_cmr.boundaries.read_municipalities`);
- a missing ``region`` is the region table's region of the municipality. A region the
  source gives is kept (in its canonical spelling), and a notice says where it differs
  from the table's (KMAC's grouping is not published: the table is an assumption).

The ``district`` of releases (the reporting unit the operator gave, a municipality or
a region, which the report's Tables 5-7 keep as published) is not touched. Every change
is counted in a notice.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr import settings
from kosovo_cmr.errors import InputError
from kosovo_cmr.import_values import is_null
from kosovo_cmr.places import ENCLAVES, locate, locate_region, match_key
from kosovo_cmr.schema import LayerSchema

__all__ = ["canonical_names", "municipalities_at", "fill_regions", "check_places"]

_PARTS = {match_key(part) for part in ENCLAVES}


def _examples(pairs: list, limit: int = 3) -> str:
    shown = list(dict.fromkeys(pairs))[:limit]
    return ", ".join(f"{a!r} -> {b!r}" if b is not None else repr(a) for a, b in shown)


def canonical_names(
    values: list, *, kind: str, notices: list[str], keep_parts: bool = False
) -> list:
    """Write municipality or region names the region table's way (see the module notes).

    Parameters
    ----------
    values : list
        The names as read (missing values stay missing).
    kind : {"municipality", "region"}
    notices : list of str
        Extended with what was rewritten and what matched nothing.
    keep_parts : bool, default False
        Keep the names of enclave parts (the boundaries layer stores them as parts).

    Returns
    -------
    list
        The names, canonical where they matched.

    Examples
    --------
    >>> notes = []
    >>> canonical_names(["Uroševac", "Prishtina", "Atlantis", None], kind="municipality",
    ...                 notices=notes)
    ['Ferizaj', 'Prishtinë', 'Atlantis', None]
    >>> len(notes)
    2
    """
    out, changed, unknown = [], [], []
    for v in values:
        if is_null(v):
            out.append(v)
            continue
        text = str(v).strip()
        if kind == "region":
            found = locate_region(text)
        elif keep_parts and match_key(text) in _PARTS:
            found = text
        else:
            place = locate(text)
            found = place.municipality if place else None
        if found is None:
            unknown.append((text, None))
            out.append(text)
            continue
        if found != text:
            changed.append((text, found))
        out.append(found)
    if changed:
        notices.append(
            f"{kind}: {len(changed)} name(s) written as the region table spells them "
            f"({_examples(changed)})"
        )
    if unknown:
        notices.append(
            f"{kind}: {len(unknown)} name(s) match no {kind} and were kept as written "
            f"({_examples(unknown)}); add an alias to layers/place_names.csv if they are one"
        )
    return out


def municipalities_at(geometries: list, boundaries: gpd.GeoDataFrame) -> list:
    """Name the municipality holding each geometry: the largest share of its area.

    A point is in the municipality that contains it. Shares are measured in
    :data:`kosovo_cmr.settings.metric_crs`.

    Parameters
    ----------
    geometries : list
        Shapely geometries in :data:`kosovo_cmr.settings.storage_crs` (``None`` allowed).
    boundaries : GeoDataFrame
        Polygons with a ``municipality`` column.

    Returns
    -------
    list
        One name per geometry (``None`` where no municipality holds it).
    """
    out: list = [None] * len(geometries)
    idx = [i for i, g in enumerate(geometries) if g is not None and not g.is_empty]
    if not idx or boundaries is None or not len(boundaries):
        return out
    metric = gpd.GeoSeries([geometries[i] for i in idx], crs=settings.storage_crs).to_crs(
        settings.metric_crs
    )
    areas = boundaries.to_crs(settings.metric_crs)
    polys = np.asarray(areas.geometry.values)
    geoms = shapely.make_valid(np.asarray(metric.values))  # stored geometries are valid
    found = np.full(len(geoms), -1)
    share = np.zeros(len(geoms))
    for j, poly in enumerate(polys):  # prepared: point-in-polygon tests are cheap
        shapely.prepare(poly)
        inside = (found < 0) & shapely.contains(poly, geoms)
        found[inside], share[inside] = j, np.inf  # most hazards lie in one municipality
    rest = np.flatnonzero(found < 0)
    for j, poly in enumerate(polys):  # the others: the largest share of area
        near = rest[shapely.intersects(poly, geoms[rest])]
        if near.size:
            area = shapely.area(shapely.intersection(geoms[near], poly))
            better = area > share[near]
            found[near[better]], share[near[better]] = j, area[better]
    names = list(areas["municipality"])
    for k in np.flatnonzero(found >= 0):
        place = locate(names[found[k]])
        out[idx[k]] = place.municipality if place else names[found[k]]
    return out


def _boundaries(store) -> tuple[gpd.GeoDataFrame | None, str]:
    """Return the boundaries to place features in: the store's, else the 2018 ones."""
    if store is not None and store.has_layer("boundaries"):
        return store.read("boundaries"), "the store's boundaries layer"
    try:
        path = settings.resolve_boundaries_path()
        return _shipped(str(path), path.stat().st_mtime_ns), "the municipal boundaries of 2018"
    except (InputError, OSError) as exc:
        return None, str(exc)


@lru_cache(maxsize=2)
def _shipped(path: str, mtime_ns: int) -> gpd.GeoDataFrame:
    """Read the municipal boundaries once per file version (it takes seconds)."""
    from kosovo_cmr.boundaries import read_municipalities

    return read_municipalities(path)


def _fill_municipalities(values, geometries, alive, store, notices) -> list:
    missing = [i for i, v in enumerate(values) if is_null(v) and alive[i]]
    missing = [i for i in missing if geometries[i] is not None and not geometries[i].is_empty]
    if not missing:
        return values
    boundaries, where = _boundaries(store)
    if boundaries is None:
        notices.append(
            f"municipality: {len(missing)} feature(s) have none and no boundaries were found "
            f"to take it from the geometry ({where})"
        )
        return values
    found = municipalities_at([geometries[i] for i in missing], boundaries)
    out = list(values)
    for i, name in zip(missing, found, strict=True):
        out[i] = name
    filled = sum(1 for name in found if name is not None)
    notices.append(
        f"municipality: filled from the geometry for {filled} of {len(missing)} feature(s) "
        f"without one (largest share of area, in {where})"
    )
    return out


def fill_regions(regions: list, municipalities: list, notices: list[str]) -> list:
    """Fill missing regions from the municipality; report regions the table disagrees with.

    Examples
    --------
    >>> notes = []
    >>> fill_regions([None, "East", None], ["Leposaviq", "Leposaviq", "Atlantis"], notes)
    ['North', 'East', None]
    """
    out, filled, odd = list(regions), 0, []
    for i, (region, name) in enumerate(zip(regions, municipalities, strict=True)):
        place = locate(name) if not is_null(name) else None
        if place is None or place.region is None:
            continue
        if is_null(region):
            out[i] = place.region
            filled += 1
        elif region != place.region:
            odd.append((f"{place.municipality} in {region}", place.region))
    if filled:
        notices.append(f"region: filled from the region table for {filled} feature(s)")
    if odd:
        notices.append(
            f"region: {len(odd)} feature(s) give a region other than the region table's for "
            f"their municipality ({_examples(odd)}); kept as given (check layers/regions.csv)"
        )
    return out


def check_places(
    attrs: pd.DataFrame,
    schema: LayerSchema,
    geometries: list,
    alive: np.ndarray,
    *,
    store=None,
    notices: list[str],
) -> pd.DataFrame:
    """Run the step on the features of one import (see the module notes).

    Parameters
    ----------
    attrs : pandas.DataFrame
        The attributes under the layer's column names.
    schema : kosovo_cmr.schema.LayerSchema
    geometries : list
        Each feature's geometry in the storage CRS (``None`` for rejected ones).
    alive : numpy.ndarray of bool
        Features not rejected so far.
    store : Store, optional
        Whose ``boundaries`` layer places features (else the shipped boundaries).
    notices : list of str
        Extended with every change made.

    Returns
    -------
    pandas.DataFrame
        The attributes with canonical and filled ``municipality`` and ``region``.
    """
    columns = schema.column_names
    if "municipality" not in columns and "region" not in columns:
        return attrs
    out = attrs.copy()
    municipalities = list(out["municipality"]) if "municipality" in out.columns else None
    if "municipality" in columns:
        is_boundary = schema.name == "boundaries"
        values = municipalities if municipalities is not None else [None] * len(out)
        values = canonical_names(values, kind="municipality", notices=notices,
                                 keep_parts=is_boundary)  # fmt: skip
        if not is_boundary:
            values = _fill_municipalities(values, geometries, alive, store, notices)
        municipalities = values
        out["municipality"] = pd.Series(values, index=out.index, dtype=object)
    if "region" in columns:
        regions = list(out["region"]) if "region" in out.columns else [None] * len(out)
        regions = canonical_names(regions, kind="region", notices=notices)
        if municipalities is not None:
            regions = fill_regions(regions, municipalities, notices)
        out["region"] = pd.Series(regions, index=out.index, dtype=object)
    return out
