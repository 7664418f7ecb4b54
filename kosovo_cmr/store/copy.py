"""Copy layers between stores: GeoPackage to PostGIS and back.

>>> from kosovo_cmr.store.copy import copy_store
>>> copy_store("kmac.gpkg", "postgresql://kcmr@db.kmac.local/kmac")   # doctest: +SKIP

Every feature, attribute, dtype and the CRS survive the copy (the stores' reads return
equal GeoDataFrames). The layers land in the destination in one atomic step where the
destination can do that (both stores can), each with a provenance record that names
the source store.
"""

from __future__ import annotations

import logging
import os

from kosovo_cmr.errors import StoreError
from kosovo_cmr.schema import LAYERS
from kosovo_cmr.store.base import Provenance, Store

__all__ = ["copy_store"]

log = logging.getLogger(__name__)


def _as_store(store: Store | str | os.PathLike, *, create: bool) -> Store:
    if isinstance(store, Store):
        return store
    from kosovo_cmr.store import open_store

    return open_store(store, create=create)


def copy_store(
    src: Store | str | os.PathLike,
    dst: Store | str | os.PathLike,
    *,
    layers: list[str] | tuple[str, ...] | None = None,
) -> list[Provenance]:
    """Copy layers from one store into another, replacing them there.

    Parameters
    ----------
    src : Store, path or URL
        The store to read (a ``.gpkg`` path or a ``postgresql://`` URL). It must exist.
    dst : Store, path or URL
        The store to write; created if it does not exist yet. Layers not copied are
        left as they are.
    layers : list of str, optional
        The layers to copy (default: every layer ``src`` holds).

    Returns
    -------
    list of Provenance
        One record per layer written to ``dst``.

    Raises
    ------
    kosovo_cmr.errors.StoreError
        If a store cannot be opened, a requested layer is not in ``src``, or
        ``src`` and ``dst`` are the same store.
    """
    source = _as_store(src, create=False)
    target = _as_store(dst, create=True)
    if source.uri == target.uri:
        raise StoreError(f"source and destination are the same store: {source.uri}")
    present = source.layers()
    names = list(present if layers is None else layers)
    for name in names:
        if name not in LAYERS:
            raise StoreError(f"unknown layer {name!r}; expected one of {', '.join(LAYERS)}")
        if name not in present:
            raise StoreError(f"layer {name!r} is not in store {source.uri}")
    if not names:
        raise StoreError(f"store {source.uri} holds no layers to copy")
    frames = {name: source.read(name) for name in names}
    origin = f"kcmr store copy from {source.uri}"
    write_many = getattr(target, "write_many", None)
    if write_many is not None:
        records = write_many(frames, source=origin)
    else:
        records = [target.write(gdf, name, source=origin) for name, gdf in frames.items()]
    log.info("copied %s from %s to %s", ", ".join(names), source.uri, target.uri)
    return records
