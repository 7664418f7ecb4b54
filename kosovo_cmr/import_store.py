"""Import, step "store": the accepted features, written to the store in one atomic write.

``mode="replace"`` replaces the layer with the accepted features; ``mode="append"``
adds them, and when stored features are replaced by id (``on_conflict="replace"``) the
layer is rewritten once with the kept and the new features together.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr.errors import StoreError
from kosovo_cmr.schema import conform

__all__ = ["MODES", "open_for_import", "read_existing", "accepted_features", "write_layer"]

#: Add to the layer, or replace the whole layer.
MODES = ("append", "replace")


def open_for_import(store, *, dry_run: bool):
    """Open the store an import writes to (or, for a dry run, reads ids from).

    Parameters
    ----------
    store : Store, str, path-like or None
        A store, its path or URI; ``None`` for :data:`kosovo_cmr.settings.store_path`.
    dry_run : bool
        A dry run never creates a GeoPackage: a missing one gives ``None``.

    Returns
    -------
    Store or None
    """
    from kosovo_cmr.store import Store, open_store

    if isinstance(store, Store):
        return store
    uri = os.fspath(store if store is not None else settings.store_path)
    if dry_run and not uri.startswith("postgres"):
        if not Path(uri).exists():
            return None
        return open_store(uri, create=False)
    return open_store(uri, create=True)


def read_existing(store_obj, schema, *, mode: str):
    """Read the stored layer whose ids an append checks against (``None`` if none)."""
    if store_obj is not None and mode == "append" and store_obj.has_layer(schema.name):
        return store_obj.read(schema.name)
    return None


def accepted_features(attrs: pd.DataFrame, stored: list, alive: np.ndarray) -> gpd.GeoDataFrame:
    """Return the features to store: converted attributes, storage-CRS geometries."""
    return gpd.GeoDataFrame(
        attrs[alive].reset_index(drop=True),
        geometry=gpd.GeoSeries(
            [stored[i] for i in np.flatnonzero(alive)], crs=settings.storage_crs
        ),
        crs=settings.storage_crs,
    )


def write_layer(store_obj, accepted, schema, existing, replaced_ids, *, mode, source) -> None:
    """One atomic write of the layer.

    Raises
    ------
    kosovo_cmr.errors.StoreError
        If there is no store, or it cannot be written (it is left as it was).
    """
    if store_obj is None:
        raise StoreError("no store to write to")
    if mode == "replace":
        store_obj.write(accepted, schema.name, mode="replace", source=str(source))
        return
    if replaced_ids and existing is not None:
        keep = existing[~existing[schema.id_column].astype(str).isin(replaced_ids)]
        merged = pd.concat([keep, conform(accepted, schema)], ignore_index=True)
        merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=settings.storage_crs)
        store_obj.write(merged, schema.name, mode="replace", source=str(source))
        return
    store_obj.write(accepted, schema.name, mode="append", source=str(source))
