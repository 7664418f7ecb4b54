"""Exports for other systems: a layer under IMSMA Core's (or a mapping file's) field names.

Joins the importer's mapping files (:mod:`kosovo_cmr.import_mappings`, which
``kcmr import --mapping`` reads back) to the writers (:mod:`kosovo_cmr.outputs.export`);
``kcmr export --mapping`` and the demo's exchange step call it.
"""

from __future__ import annotations

import geopandas as gpd

from kosovo_cmr.import_mappings import export_renames, read_mapping
from kosovo_cmr.outputs.filegdb import FIELD_NAMES

__all__ = ["with_mapping"]


def with_mapping(gdf: gpd.GeoDataFrame, layer: str, mapping) -> gpd.GeoDataFrame:
    """Return ``gdf`` with its columns under another system's field names (issue 16).

    ``mapping`` is a mapping file or a shipped name (``imsma_core``; see
    :func:`kosovo_cmr.import_mappings.read_mapping`); ``kcmr import --mapping`` reads the
    names back. The renames are kept in ``attrs`` so that a ``.gdb`` gives each renamed
    column its domain (:data:`kosovo_cmr.outputs.filegdb.FIELD_NAMES`).
    """
    renames = export_renames(read_mapping(mapping), layer, gdf.columns)
    out = gdf.rename(columns=renames)
    out.attrs[FIELD_NAMES] = renames
    return out
