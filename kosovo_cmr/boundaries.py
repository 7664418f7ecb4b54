"""Municipal boundaries, their KMAC regions, and the regions derived from them.

The real boundaries (2018, 40 polygons) are read by path from
``../shared/data/kosovo-municipalities-2018/`` (see
:func:`kosovo_cmr.settings.resolve_boundaries_path`); they are never copied into the
project. Two of the 40 polygons are enclave parts (``Enclave-Kamenicë``,
``Enclave-Prishtine``) that are merged into the municipality in their name, giving the
38 municipalities. The region of each municipality comes from the editable table
``layers/regions.csv`` (KMAC's grouping is not published; the table records the
assumption of :doc:`/concepts`), and regions are the dissolve of their municipalities.

The 2018 file draws Viti over the whole of Kllokot (23.4 km2, a municipality carved out of
Viti in 2010). Overlapping municipalities would count that land twice in every overlay, so
the overlap is cut out of the larger municipality, with a logged warning: the 38
municipalities then tile Kosovo's 10,907 km2 (10,930 km2 before the fix).
"""

from __future__ import annotations

import logging
import os

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from kosovo_cmr import settings
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError
from kosovo_cmr.places import ENCLAVES, match_key, normalize, read_region_table
from kosovo_cmr.schema import check, conform

log = logging.getLogger(__name__)

__all__ = ["read_municipalities", "regions_from_municipalities"]


def read_municipalities(
    path: str | os.PathLike | None = None,
    *,
    name_field: str | None = None,
    regions: pd.DataFrame | str | os.PathLike | None = None,
) -> gpd.GeoDataFrame:
    """Read the municipal boundaries as the ``boundaries`` layer.

    Enclave parts are merged into their municipality; each municipality gets its district
    and region from the region table.

    Parameters
    ----------
    path : str or path-like, optional
        The boundaries file (any format GDAL reads). Defaults to
        :data:`kosovo_cmr.settings.boundaries_path` or the shared data folder.
    name_field : str, optional
        The attribute holding the name; default
        :data:`kosovo_cmr.settings.boundaries_name_field` (``XK_NAME``).
    regions : DataFrame or path, optional
        The region table (see :func:`read_region_table`).

    Returns
    -------
    GeoDataFrame
        One MultiPolygon per municipality (38 for the 2018 file), columns
        ``municipality``, ``district``, ``region``, in EPSG:4326.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file cannot be read, has no CRS, lacks the name field, or holds a
        municipality that the region table does not know.
    """
    src = settings.resolve_boundaries_path(path)
    field = name_field or settings.boundaries_name_field
    try:
        raw = pyogrio.read_dataframe(src)
    except Exception as exc:
        raise InputError(f"cannot read boundaries {src}: {exc}") from exc
    require_crs(raw, name=f"boundaries {src}")
    if field not in raw.columns:
        raise InputError(
            f"boundaries {src} have no field {field!r}; "
            f"fields: {', '.join(map(str, raw.columns[:-1]))}"
        )
    names = raw[field].map(normalize)
    names = names.map(lambda s: ENCLAVES.get(s, s))
    merged = gpd.GeoDataFrame(
        {"municipality": names}, geometry=raw.geometry.values, crs=raw.crs
    ).dissolve(by="municipality", as_index=False, sort=True)
    merged["geometry"] = shapely.make_valid(merged.geometry.values, method="structure")
    merged = _resolve_overlaps(merged)
    table = regions if isinstance(regions, pd.DataFrame) else read_region_table(regions)
    lookup = {match_key(m): (m, d, r) for m, d, r in table.itertuples(index=False)}
    unknown = [m for m in merged["municipality"] if match_key(m) not in lookup]
    if unknown:
        raise InputError(
            f"municipalities not in the region table: {', '.join(unknown)}; add them to it"
        )
    merged["district"] = [lookup[match_key(m)][1] for m in merged["municipality"]]
    merged["region"] = [lookup[match_key(m)][2] for m in merged["municipality"]]
    out = conform(merged[["municipality", "district", "region", "geometry"]], "boundaries")
    out = out.to_crs(settings.storage_crs)
    return check(out, "boundaries")


def _polygon_parts(geom) -> list:
    """Return the Polygon parts of any geometry, collections included."""
    parts = shapely.get_parts(shapely.get_parts(geom))
    return [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]


def _resolve_overlaps(municipalities: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0):
    """Cut each municipality that overlaps another out of the larger one, with a warning.

    The 2018 file draws Viti over the whole of Kllokot (a municipality carved out of Viti
    in 2010): 23.4 km2 would be counted twice. Where two municipalities overlap by more
    than ``tolerance_m2``, the overlap is removed from the larger of the two.
    """
    geoms = list(municipalities.geometry.values)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        overlap = geoms[i].intersection(geoms[j])
        area = geodesic_area([overlap], crs=municipalities.crs)[0]
        if area <= tolerance_m2:
            continue
        sizes = geodesic_area([geoms[i], geoms[j]], crs=municipalities.crs)
        big, small = (i, j) if sizes[0] >= sizes[1] else (j, i)
        geoms[big] = shapely.MultiPolygon(_polygon_parts(geoms[big].difference(geoms[small])))
        log.warning(
            "boundaries: %s overlaps %s by %.0f m2; the overlap was removed from %s",
            municipalities["municipality"].iloc[big],
            municipalities["municipality"].iloc[small],
            area,
            municipalities["municipality"].iloc[big],
        )
    out = municipalities.copy()
    out["geometry"] = geoms
    return out


def regions_from_municipalities(municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve municipalities into regions.

    Parameters
    ----------
    municipalities : GeoDataFrame
        The ``boundaries`` layer (columns ``municipality``, ``region``).

    Returns
    -------
    GeoDataFrame
        One MultiPolygon per region with the column ``region`` and ``municipalities``
        (their count), in the input's CRS.
    """
    require_crs(municipalities, name="municipalities")
    if "region" not in municipalities.columns:
        raise InputError("municipalities need a 'region' column to derive regions")
    regions = municipalities[["region", "geometry"]].dissolve(
        by="region", as_index=False, sort=True
    )
    counts = municipalities.groupby("region").size()
    regions["municipalities"] = regions["region"].map(counts).astype("int64")
    geoms = shapely.make_valid(regions.geometry.values, method="structure")
    regions["geometry"] = [shapely.MultiPolygon(_polygon_parts(g)) for g in geoms]
    return regions[["region", "municipalities", "geometry"]]
