"""Import, step "store": the accepted features, written to the store in one atomic write.

``mode="replace"`` replaces the layer with the accepted features; ``mode="append"``
adds them, and when stored features are replaced by id (``on_conflict="replace"``) they
are written as an upsert: the store replaces those ids and adds the new ones under its
lock, keeping every other feature, including one a concurrent writer added meanwhile.

After writing, the layer is read back and checked (:func:`verify_stored`): it must hold
exactly the features it should (the previous features plus the imported ones minus the
replaced ones for an append, the imported ones for a replace), by count and by id. A
store that lost or added a feature on the way raises :class:`~kosovo_cmr.errors.StoreError`
naming the difference. Another writer may land between this import's read and its
check (a team store): a difference that the store's history attributes to another
import (a feature that import added, or one it closed) is reported as a notice, not an
error; one the history does not explain is an error.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr.errors import StoreError
from kosovo_cmr.import_identity import feature_ids
from kosovo_cmr.schema import LayerSchema

if TYPE_CHECKING:
    from kosovo_cmr.store import Store

__all__ = [
    "MODES",
    "ExpectedLayer",
    "open_for_import",
    "check_writable",
    "read_existing",
    "accepted_features",
    "expected_layer",
    "write_layer",
    "verify_stored",
]

#: Add to the layer, or replace the whole layer.
MODES = ("append", "replace")


def open_for_import(store: Store | str | os.PathLike | None, *, dry_run: bool) -> Store | None:
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

    Raises
    ------
    kosovo_cmr.errors.StoreError
        If the store cannot be opened, or (not for a dry run) a GeoPackage store or its
        folder is read-only: refused before the source is read, nothing written.
    """
    from kosovo_cmr.store import Store, open_store

    if isinstance(store, Store):
        if not dry_run and "://" not in os.fspath(store.uri):
            check_writable(store.uri)
        return store
    uri = os.fspath(store if store is not None else settings.store_path)
    if dry_run and not uri.startswith("postgres"):
        if not Path(uri).exists():
            return None
        return open_store(uri, create=False)
    if "://" not in uri:
        check_writable(uri)
    return open_store(uri, create=True)


def check_writable(path: str | os.PathLike) -> None:
    """Refuse a GeoPackage store that cannot be written, before any work.

    A GeoPackage is written with files beside it (a temporary copy, SQLite's journal),
    so its folder must be writable too, and the file itself when it exists.

    Raises
    ------
    kosovo_cmr.errors.StoreError
        Naming what is read-only (exit code 4).
    """
    target = Path(os.path.realpath(path))
    folder = target.parent
    if not folder.is_dir():
        raise StoreError(f"the store {path} cannot be created: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(
            f"the store {path} cannot be written, its folder is read-only "
            f"({_why_not_writable(folder)}); nothing imported"
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise StoreError(
            f"the store {path} is read-only ({_why_not_writable(target)}); nothing imported"
        )


def _why_not_writable(path: Path) -> str:
    """Return the system's reason why ``path`` cannot be written ("read-only file system")."""
    try:
        if path.is_dir():
            fd, probe = tempfile.mkstemp(prefix=".kcmr-probe-", dir=path)
            os.close(fd)
            os.unlink(probe)
        else:
            os.close(os.open(path, os.O_WRONLY))
    except OSError as exc:
        return (exc.strerror or type(exc).__name__).lower()
    return "no write permission"


def read_existing(
    store_obj: Store | None, schema: LayerSchema, *, mode: str
) -> gpd.GeoDataFrame | None:
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


def write_layer(
    store_obj: Store | None,
    accepted: gpd.GeoDataFrame,
    schema: LayerSchema,
    existing: gpd.GeoDataFrame | None,
    replaced_ids: set[str],
    *,
    mode: str,
    source: str,
    valid_from=None,
):
    """One atomic write of the layer; returns the store's record of it (its provenance).

    ``valid_from`` is when the imported state became true (default now).

    Raises
    ------
    kosovo_cmr.errors.StoreError
        If there is no store, or it cannot be written (it is left as it was).
    """
    if store_obj is None:
        raise StoreError("no store to write to")
    if mode == "replace":
        how = "replace"
    elif replaced_ids and existing is not None:
        how = "upsert"  # stored features replaced by id, under the store's lock
    else:
        how = "append"
    return store_obj.write(
        accepted, schema.name, mode=how, source=str(source), valid_from=valid_from
    )


@dataclass(frozen=True)
class ExpectedLayer:
    """What a layer must hold once an import is written.

    Attributes
    ----------
    count : int
        Features: ``previous + imported - replaced`` (append) or ``imported`` (replace).
    ids : frozenset of str or None
        Their ids, when the layer has an id column.
    previous, imported, replaced : int
        The terms of ``count``, for the message.
    mode : {"append", "replace"}
    """

    count: int
    ids: frozenset[str] | None
    previous: int
    imported: int
    replaced: int
    mode: str

    def explain(self) -> str:
        """Return how :attr:`count` was reached, in words."""
        if self.mode == "replace":
            return f"the {self.imported} imported, mode replace"
        return f"{self.previous} before + {self.imported} imported - {self.replaced} replaced"


def _ids(frame, idcol) -> list[str]:
    return [v for v in feature_ids(frame, idcol) if v is not None]


def expected_layer(
    accepted: gpd.GeoDataFrame,
    schema: LayerSchema,
    existing: gpd.GeoDataFrame | None,
    replaced_ids: set[str],
    *,
    mode: str,
) -> ExpectedLayer:
    """Decide what the layer must hold after :func:`write_layer` (see the module notes).

    Parameters
    ----------
    accepted : GeoDataFrame
        The features written.
    schema : kosovo_cmr.schema.LayerSchema
    existing : GeoDataFrame or None
        The layer as read before the import (append mode), ``None`` when it was absent
        or not read (replace mode).
    replaced_ids : set of str
        Stored ids that the import replaces.
    mode : {"append", "replace"}
    """
    idcol = schema.id_column
    previous = 0 if existing is None or mode == "replace" else len(existing)
    replaced = len(replaced_ids) if mode == "append" else 0
    ids = None
    if idcol is not None and idcol in accepted.columns:
        kept = set() if previous == 0 else set(_ids(existing, idcol)) - set(replaced_ids)
        ids = frozenset(kept | set(_ids(accepted, idcol)))
    return ExpectedLayer(
        count=previous + len(accepted) - replaced,
        ids=ids,
        previous=previous,
        imported=len(accepted),
        replaced=replaced,
        mode=mode,
    )


def verify_stored(
    store_obj: Store,
    schema: LayerSchema,
    expected: ExpectedLayer,
    *,
    import_id: int | None = None,
    accepted: gpd.GeoDataFrame | None = None,
) -> list[str]:
    """Read the layer back and check it holds exactly the expected features.

    Parameters
    ----------
    store_obj : Store
    schema : kosovo_cmr.schema.LayerSchema
    expected : ExpectedLayer
        From :func:`expected_layer`.
    import_id : int, optional
        This import's id in the store's history (:attr:`Provenance.import_id`): a
        difference the history attributes to ANOTHER import (a concurrent writer) is then
        a notice, not an error.
    accepted : GeoDataFrame, optional
        The features written (issue 15): with ``import_id``, each of their ids must
        hold, by the store's history, what was imported (its current version's row
        hash is the hash of the imported feature), unless a later import changed it. An
        upsert that failed to replace a stored feature is caught here.

    Returns
    -------
    list of str
        Notices on what other writers changed meanwhile.

    Raises
    ------
    kosovo_cmr.errors.StoreError
        If the count or the ids differ in a way no other import explains; the message
        names the missing and the unexpected ids.
    """
    stored = store_obj.read(schema.name)
    missing: list[str] = []
    unexpected: list[str] = []
    if expected.ids is not None:
        found = _ids(stored, schema.id_column)
        missing = sorted(expected.ids - set(found))
        unexpected = sorted(set(found) - expected.ids)
    added, closed = _others(store_obj, schema, import_id, missing + unexpected)
    missing = [i for i in missing if i not in closed]
    unexpected = [i for i in unexpected if i not in added]
    problems = []
    count = expected.count + len(added) - len(closed)
    if len(stored) != count:
        problems.append(
            f"{len(stored)} feature(s) where {count} were expected ({expected.explain()}"
            + (
                f", {len(added)} added and {len(closed)} closed by other imports)"
                if added or closed
                else ")"
            )
        )
    if missing:
        problems.append(f"missing id(s): {_sample(missing)}")
    if unexpected:
        problems.append(f"unexpected id(s): {_sample(unexpected)}")
    stale = _stale(store_obj, schema, accepted, import_id, skip=set(missing) | set(closed))
    if stale:
        problems.append(f"id(s) not holding the imported feature: {_sample(stale)}")
    if problems:
        raise StoreError(
            f"after writing, layer {schema.name!r} of {store_obj.uri} does not hold what was "
            f"imported: {'; '.join(problems)}. Check the store (kcmr info) before using it"
        )
    notes = []
    if added or closed:
        notes.append(
            f"another writer changed layer {schema.name!r} while this import ran: "
            f"{len(added)} feature(s) added, {len(closed)} closed by other imports (kept)"
        )
    return notes


def _stale(store_obj, schema, accepted, import_id, *, skip: set) -> list[str]:
    """Ids whose current version, by the history, is not the imported feature."""
    from kosovo_cmr.store.base import prepare_layer
    from kosovo_cmr.store.versions import row_hashes

    idcol = schema.id_column
    if accepted is None or import_id is None or idcol is None or not len(accepted):
        return []
    ready = prepare_layer(accepted, schema.name)
    wanted = dict(zip(ready[idcol].astype(str), row_hashes(ready), strict=True))
    versions = store_obj.versions(schema.name, ids=list(wanted))
    if not len(versions):
        return []
    current = versions[versions["valid_to"].isna()]
    out = []
    for fid, digest, made in zip(
        current[idcol].astype(str), current["row_hash"], current["import_id"], strict=True
    ):
        later = made == made and made is not None and int(made) > int(import_id)
        if fid not in skip and digest != wanted.get(fid, digest) and not later:
            out.append(fid)
    return sorted(out)


def _others(store_obj, schema, import_id, ids) -> tuple[set[str], set[str]]:
    """Ids among ``ids`` that another import added (current) or closed, by the history."""
    if import_id is None or not ids or schema.id_column is None:
        return set(), set()
    versions = store_obj.versions(schema.name, ids=list(ids))
    if not len(versions):
        return set(), set()
    idcol = schema.id_column
    current = versions[versions["valid_to"].isna()]
    added = {
        str(i)
        for i, imp in zip(current[idcol], current["import_id"], strict=True)
        if imp != import_id
    }
    gone = versions[versions["valid_to"].notna()]
    closed = {
        str(i)
        for i, by in zip(gone[idcol], gone["closed_by"], strict=True)
        if by == by and by is not None and by != import_id
    }
    return added, closed - added


def _sample(ids: list[str], limit: int = 5) -> str:
    text = ", ".join(ids[:limit])
    return text + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
