"""The GeoPackage store: one embedded file, no server.

Writes: one SQLite transaction on the real file
-----------------------------------------------
A write is ONE SQLite transaction on the store file itself, under an exclusive lock
(``<store>.lock`` beside the real file, so that writers reaching the store through
different links share it): ``BEGIN IMMEDIATE``, the layer rebuilt, its versions and
import record written (:func:`kosovo_cmr.store.writing.apply_writes`), ``COMMIT``.
SQLite's rollback journal (``<store>-journal``) holds the previous content of every
page the transaction changes until the commit is on disk. Hence:

- **identity**: the file is never replaced. A store reached through a symbolic link is
  written where the link points, hard links stay linked, and the file keeps its mode,
  owner and group (the journal gets the same, as SQLite makes it);
- **kills**: a write killed at any moment before ``COMMIT`` leaves a "hot" journal; the
  next open of the store (by kcmr, GDAL, QGIS) rolls it back, and the store is as it
  was, byte for byte;
- **disk full**: SQLite stops with ``SQLITE_FULL``, the transaction rolls back, the store
  is unchanged and the error is one line (exit code 4);
- **readers** (GDAL, QGIS) see the old content until the commit and the new one after;
- **two writers**: the second waits for the lock (up to ``lock_timeout_s``, then a
  "busy" error that changes nothing), then writes on top of the first.

Reads go through GDAL (pyogrio). The tables follow GeoPackage 1.2 as GDAL writes it
(:mod:`kosovo_cmr.store._geopackage`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import sqlite3
import stat
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from kosovo_cmr._files import real_path
from kosovo_cmr.errors import StoreError
from kosovo_cmr.schema import LAYERS, conform, get_schema
from kosovo_cmr.store import _geopackage as gp
from kosovo_cmr.store._gpkg_session import (
    GpkgSession,
    read_table,
    schema_version_of,
    versions_frame,
)
from kosovo_cmr.store.base import (
    MODES,
    PROVENANCE_COLUMNS,
    PROVENANCE_TABLE,
    Provenance,
    Store,
    check_reserved,
    check_rows,
    empty_versions,
    prepare_layer,
    provenance_frame,
)
from kosovo_cmr.store.migrate import META_TABLE, SCHEMA_VERSION, meta_rows, migrate
from kosovo_cmr.store.versions import format_instant, versions_table
from kosovo_cmr.store.writing import apply_writes

log = logging.getLogger(__name__)

#: Seconds a writer waits for another writer's lock before it gives up.
LOCK_TIMEOUT_S = 120.0


class GeoPackageStore(Store):
    """Layers in one GeoPackage file.

    Parameters
    ----------
    path : str or path-like
        The ``.gpkg`` file (a symbolic link to it is followed). Its folder must exist.
    create : bool, default True
        Whether the first write may create the file.
    lock_timeout_s : float, optional
        How long a write waits for another writer (default :data:`LOCK_TIMEOUT_S`).

    Raises
    ------
    kosovo_cmr.errors.StoreError
        If the file cannot be opened, or an older store cannot be migrated.
    """

    def __init__(self, path, *, create: bool = True, lock_timeout_s: float | None = None):
        self.path = Path(path)
        self.uri = str(self.path)
        self.lock_timeout_s = LOCK_TIMEOUT_S if lock_timeout_s is None else float(lock_timeout_s)
        if not self.path.exists():
            if not create:
                raise StoreError(f"store not found: {self.path}")
            if not self.real.parent.exists():
                raise StoreError(f"folder of the store does not exist: {self.path.parent}")
        elif not self.real.is_file():
            raise StoreError(f"store path is not a file: {self.path}")
        else:
            self._open_existing()

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    @property
    def real(self) -> Path:
        """The store file itself, every symbolic link resolved."""
        return real_path(self.path)

    # -- opening: recovery and migration ---------------------------------------------------

    def _open_existing(self) -> None:
        journal = self.real.with_name(self.real.name + "-journal")
        if journal.exists() and journal.stat().st_size > 0:
            self._recover()
        version = self._version()
        if 0 < version < SCHEMA_VERSION:
            with self._locked(), self._connection() as conn, gp.transaction(conn):
                if 0 < schema_version_of(conn) < SCHEMA_VERSION:  # not done meanwhile
                    self._migrate_in(conn)
        elif version > SCHEMA_VERSION:
            log.warning(
                "store %s has schema version %d, newer than this kcmr knows (%d): it can be "
                "read but not written; upgrade kosovo_cmr",
                self.path,
                version,
                SCHEMA_VERSION,
            )

    def _recover(self) -> None:
        """Roll back what a killed writer left: SQLite does it when the file is opened to write.

        A journal that belongs to a writer still at work is not "hot" (that writer holds
        its lock) and is left alone.
        """
        try:
            conn = gp.connect(self.real, timeout_s=self.lock_timeout_s)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StoreError(
                f"store {self.path} holds an interrupted write that must be rolled back, "
                f"and cannot be opened to do it: {_reason(exc)}"
            ) from exc

    def _version(self) -> int:
        try:
            conn = sqlite3.connect(f"file:{self.real}?mode=ro", uri=True, timeout=5)
            try:
                return schema_version_of(conn)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read store {self.path}: {_reason(exc)}") from exc

    @property
    def schema_version(self) -> int:
        """The store's layout version (:data:`kosovo_cmr.store.migrate.SCHEMA_VERSION`)."""
        if not self.real.exists():
            return SCHEMA_VERSION
        return self._version()

    # -- reading ---------------------------------------------------------------------------

    def _tables(self) -> list[str]:
        if not self.real.exists():
            return []
        try:
            import pyogrio

            return [str(row[0]) for row in pyogrio.list_layers(self.real)]
        except Exception as exc:
            raise StoreError(f"cannot read store {self.path}: {_reason(exc)}") from exc

    def layers(self) -> list[str]:
        """Return the data layers present, in the schema's order."""
        present = set(self._tables())
        return [name for name in LAYERS if name in present]

    def _read(self, table: str, **kwargs) -> gpd.GeoDataFrame:
        try:
            return read_table(self.real, table, **kwargs)
        except Exception as exc:
            raise StoreError(f"cannot read {table!r} from {self.path}: {_reason(exc)}") from exc

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """Read one layer (see :meth:`Store.read`)."""
        schema = get_schema(layer)
        if schema.name not in self._tables():
            raise StoreError(f"layer {schema.name!r} is not in store {self.path}")
        return conform(self._read(schema.name), schema)

    def read_chunks(self, layer: str, rows: int):
        """Read one layer in chunks of ``rows`` features (see :meth:`Store.read_chunks`)."""
        import pyogrio

        check_rows(rows)
        schema = get_schema(layer)
        if schema.name not in self._tables():
            raise StoreError(f"layer {schema.name!r} is not in store {self.path}")
        start = 0
        while True:
            try:
                gdf = pyogrio.read_dataframe(
                    self.real, layer=schema.name, skip_features=start, max_features=rows
                )
            except Exception as exc:
                raise StoreError(
                    f"cannot read layer {schema.name!r} from {self.path}: {_reason(exc)}"
                ) from exc
            if start and not len(gdf):
                return
            for col in gdf.columns:
                if getattr(gdf[col].dtype, "tz", None) is not None:
                    gdf[col] = gdf[col].dt.tz_convert("UTC").dt.tz_localize(None)
            yield conform(gdf, schema)
            if len(gdf) < rows:
                return
            start += rows

    def provenance(self, layer: str | None = None) -> pd.DataFrame:
        """Return the imports (provenance records), oldest first, optionally of one layer."""
        if PROVENANCE_TABLE not in self._tables():
            return provenance_frame(pd.DataFrame(columns=list(PROVENANCE_COLUMNS)))
        where = None if layer is None else f"layer = '{_sql_text(layer)}'"
        table = pd.DataFrame(self._read(PROVENANCE_TABLE, where=where))
        return provenance_frame(table)

    def versions(self, layer: str, *, ids=None, at=None) -> gpd.GeoDataFrame:
        """Return the versions of a layer's features (see :meth:`Store.versions`)."""
        schema = get_schema(layer)
        table = versions_table(schema.name)
        if table not in self._tables():
            return empty_versions(schema.name)
        clauses = []
        if ids is not None:
            ids = list(ids)
            if not ids:
                return empty_versions(schema.name)
            listed = ", ".join(f"'{_sql_text(i)}'" for i in ids)
            clauses.append(f"{gp.quote(schema.id_column)} IN ({listed})")
        if at is not None:
            stamp = format_instant(at)
            clauses.append(
                f"valid_from < '{stamp}' AND (valid_to IS NULL OR valid_to >= '{stamp}')"
            )
        where = " AND ".join(clauses) or None
        frame = self._read(table, where=where, fids=True)
        return versions_frame(frame)

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self):
        real = self.real
        lock_path = real.with_name(real.name + ".lock")
        try:
            handle = open(lock_path, "a+")
        except OSError as exc:
            raise StoreError(f"cannot lock store {self.path}: {_reason(exc)}") from exc
        with handle:
            _share_like(lock_path, real)
            deadline = time.monotonic() + self.lock_timeout_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(
                            f"store {self.path} is busy: another writer held it for more than "
                            f"{self.lock_timeout_s:g} s; nothing was written, try again"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _connection(self):
        try:
            conn = gp.connect(self.real, timeout_s=self.lock_timeout_s)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {_reason(exc)}") from exc
        try:
            yield conn
        except sqlite3.Error as exc:
            raise _write_error(self.path, exc) from exc
        except OSError as exc:
            if isinstance(exc, StoreError):
                raise
            raise _write_error(self.path, exc) from exc
        finally:
            conn.close()

    def write(
        self,
        gdf: gpd.GeoDataFrame,
        layer: str,
        *,
        mode: str = "replace",
        source: str | None = None,
        valid_from=None,
    ) -> Provenance:
        """Write a layer in one transaction (see :meth:`Store.write` and the module notes)."""
        if mode not in MODES:
            raise StoreError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        schema = get_schema(layer)
        ready = prepare_layer(gdf, schema.name)
        check_reserved(ready, schema.name)
        (record,) = self._write([(gdf, ready, schema.name, mode)], source, valid_from)
        log.info("wrote %d feature(s) to %s:%s", record.feature_count, self.path, schema.name)
        return record

    def write_many(
        self, layers: dict[str, gpd.GeoDataFrame], *, source: str | None = None, valid_from=None
    ) -> list[Provenance]:
        """Replace several layers in one transaction: all land, or none does."""
        items = []
        for name, gdf in layers.items():
            schema = get_schema(name)
            ready = prepare_layer(gdf, schema.name)
            check_reserved(ready, schema.name)
            items.append((gdf, ready, schema.name, "replace"))
        return self._write(items, source, valid_from)

    def _write(self, items, source, valid_from) -> list[Provenance]:
        existed = self.real.exists()
        if existed and self._version() > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema version {self._version()}, newer than this "
                f"kcmr writes ({SCHEMA_VERSION}); upgrade kosovo_cmr to write to it"
            )
        with self._locked():
            try:
                with self._connection() as conn, gp.transaction(conn):
                    if 0 < schema_version_of(conn) < SCHEMA_VERSION:
                        self._migrate_in(conn)
                    session = GpkgSession(conn, self.real)
                    records = apply_writes(session, items, source=source, valid_from=valid_from)
                    if not gp.has_table(conn, META_TABLE):
                        session.set_meta(meta_rows())
            except BaseException:
                if not existed:  # a store this write was creating: leave no empty file
                    with contextlib.suppress(OSError):
                        self.real.unlink()
                else:  # roll back at once what SQLite left in its journal (a full disk)
                    with contextlib.suppress(StoreError):
                        self._recover()
                raise
        return records

    def _migrate_in(self, conn) -> None:
        session = GpkgSession(conn, self.real)
        migrate(session, from_version=schema_version_of(conn), uri=self.uri)
        session.conform_geopackage_version()


def _share_like(path: Path, like: Path) -> None:
    """Give a file the mode, owner and group of ``like`` (a team's lock file)."""
    with contextlib.suppress(OSError):
        st, mine = like.stat(), path.stat()
        if stat.S_IMODE(mine.st_mode) != st.st_mode & 0o666:
            os.chmod(path, st.st_mode & 0o666)
        if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
            os.chown(path, st.st_uid, st.st_gid)


def _sql_text(value) -> str:
    return str(value).replace("'", "''")


def _reason(exc: BaseException) -> str:
    """Return the first line of an error's message, at most 200 characters.

    An :class:`OSError` gives its reason alone ("read-only file system"), the path being
    in the message already.
    """
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _write_error(path: Path, exc: BaseException) -> StoreError:
    text = str(exc)
    full = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or (
        "disk is full" in text or getattr(exc, "errno", None) == errno.ENOSPC
    )
    if full:
        return StoreError(
            f"cannot write to store {path}: disk full, nothing was written (the store is as "
            "it was); free some space and try again"
        )
    if "database is locked" in text:
        return StoreError(
            f"store {path} is busy: another program holds a lock on it; nothing was "
            "written, try again"
        )
    if "readonly" in text.replace(" ", "").lower() or getattr(exc, "errno", None) in (
        errno.EACCES,
        errno.EROFS,
        errno.EPERM,
    ):
        return StoreError(f"cannot write to store {path}: it is read-only ({_reason(exc)})")
    return StoreError(f"cannot write to store {path}: {_reason(exc)}")
