"""Layer stores: a GeoPackage file by default, behind one interface.

>>> from kosovo_cmr.store import open_store
>>> store = open_store("kcmr.gpkg")          # doctest: +SKIP
>>> store.write(hazards, "hazards", source="operator-2024.shp")  # doctest: +SKIP

Every store keeps the five layers of :mod:`kosovo_cmr.schema` in the storage CRS,
replaces a layer atomically, and records the provenance of every write.
"""

from __future__ import annotations

import os

from kosovo_cmr import settings
from kosovo_cmr.errors import StoreError
from kosovo_cmr.store.base import PROVENANCE_TABLE, Store
from kosovo_cmr.store.gpkg import GeoPackageStore

__all__ = ["Store", "GeoPackageStore", "open_store", "PROVENANCE_TABLE"]


def open_store(uri: str | os.PathLike | None = None, *, create: bool = True) -> Store:
    """Open the store at ``uri``.

    Parameters
    ----------
    uri : str or path-like, optional
        A GeoPackage path (``*.gpkg``) or a ``postgresql://`` URL. Defaults to
        :data:`kosovo_cmr.settings.store_path`.
    create : bool, default True
        Whether a GeoPackage that does not exist yet may be created by the first write.
        With ``False`` a missing file is an error.

    Returns
    -------
    Store

    Raises
    ------
    kosovo_cmr.errors.StoreError
        If the store cannot be opened.
    """
    uri = os.fspath(uri if uri is not None else settings.store_path)
    if uri.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from kosovo_cmr.store.postgis import PostGISStore  # needs the 'postgis' extra

        return PostGISStore(uri, create=create)
    if not uri.lower().endswith(".gpkg"):
        raise StoreError(f"store must be a .gpkg path or a postgresql:// URL, got {uri!r}")
    return GeoPackageStore(uri, create=create)
