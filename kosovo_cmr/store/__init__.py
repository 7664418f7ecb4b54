"""Layer stores: a GeoPackage file by default, behind one interface.

>>> from kosovo_cmr.store import open_store
>>> store = open_store("kcmr.gpkg")          # doctest: +SKIP
>>> store.write(hazards, "hazards", source="operator-2024.shp")  # doctest: +SKIP
>>> open_store("kcmr.gpkg", as_of="2023-12-31").read("hazards")  # doctest: +SKIP

Every store keeps the five layers of :mod:`kosovo_cmr.schema` in the storage CRS,
replaces a layer atomically, keeps every version of every feature
(:mod:`kosovo_cmr.store.versions`), records the import that made each
(:data:`PROVENANCE_TABLE`), and knows its schema version
(:mod:`kosovo_cmr.store.migrate`, which brings an older store up to date in place).
"""

from __future__ import annotations

import os

from kosovo_cmr import settings
from kosovo_cmr.errors import StoreError
from kosovo_cmr.store.base import PROVENANCE_TABLE, AsOfStore, Store
from kosovo_cmr.store.gpkg import GeoPackageStore

__all__ = ["Store", "AsOfStore", "GeoPackageStore", "open_store", "PROVENANCE_TABLE"]


def open_store(uri: str | os.PathLike | None = None, *, create: bool = True, as_of=None) -> Store:
    """Open the store at ``uri``.

    Parameters
    ----------
    uri : str or path-like, optional
        A GeoPackage path (``*.gpkg``) or a ``postgresql://`` URL. Defaults to
        :data:`kosovo_cmr.settings.store_path`.
    create : bool, default True
        Whether a GeoPackage that does not exist yet may be created by the first write.
        With ``False`` a missing file is an error.
    as_of : date, time or str, optional
        Open a read-only view of the store as it was at the end of this day (UTC), or
        at this exact time (:meth:`Store.as_of`).

    Returns
    -------
    Store
        An older store is migrated in place first (with a notice on the log).

    Raises
    ------
    kosovo_cmr.errors.StoreError
        If the store cannot be opened.
    """
    uri = os.fspath(uri if uri is not None else settings.store_path)
    if uri.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from kosovo_cmr.store.postgis import PostGISStore  # needs the 'postgis' extra

        store = PostGISStore(uri, create=create)
    elif not uri.lower().endswith(".gpkg"):
        raise StoreError(f"store must be a .gpkg path or a postgresql:// URL, got {uri!r}")
    else:
        store = GeoPackageStore(uri, create=create)
    return store if as_of is None else store.as_of(as_of)
