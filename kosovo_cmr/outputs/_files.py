"""Writing output files: the overwrite check, and WGS 84 for the formats that require it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError


def check_target(path: Path, overwrite: bool, *, suffixes: tuple[str, ...] = ()) -> None:
    """Refuse an existing ``path`` (or sidecar ``suffixes``) unless ``overwrite``; clear them.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a target exists and ``overwrite`` is false, or the folder does not exist.
    """
    targets = [path] + [path.with_suffix(s) for s in suffixes]
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        raise InputError(f"{existing[0]} exists; pass overwrite=True (--overwrite) to replace it")
    if not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist")
    for p in existing:
        p.unlink()


def wgs84(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Return the layer in EPSG:4326, refusing one without a CRS (named ``name``)."""
    require_crs(gdf, name=name)
    return gdf.to_crs(4326)
