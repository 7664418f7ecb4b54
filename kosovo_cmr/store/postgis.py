"""The PostGIS store: the layers in a PostgreSQL database, for a team of writers.

>>> from kosovo_cmr.store import open_store
>>> store = open_store("postgresql://kcmr@db.kmac.local/kmac")   # doctest: +SKIP
>>> store.write(hazards, "hazards", source="halo-2024-q3.shp")     # doctest: +SKIP

The store behaves as the GeoPackage store does: the same five layers with the same
schemas (checked by :func:`kosovo_cmr.store.base.prepare_layer` before anything is
sent), the same provenance table (``kcmr_provenance``), and a layer read back equals
the layer written, dtypes included. Each layer is a table with a ``geom`` column
(``geometry(<type>, 4326)``) under a GiST index and a ``kcmr_fid`` primary key that
keeps the order of the features.

URL
---
``postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME]``. The optional
``schema`` query parameter puts the store in that PostgreSQL schema (default
``public``), so that one database can hold several stores; it is created by the first
write. Any other query parameter is passed to libpq (``sslmode=require``, ...). A
password may also come from ``~/.pgpass`` or ``PGPASSWORD``, as for ``psql``.

Atomic writes and concurrent writers
------------------------------------
Every write is ONE transaction. It first takes a transaction-scoped advisory lock of
the store (``pg_advisory_xact_lock``), so that writers to the same store run one after
the other, whichever machine they run on; then :func:`kosovo_cmr.store.writing.apply_writes`
reads the current layer for an append or an upsert (refusing duplicate ids on an
append), compares the incoming features with the current versions, records the import
(``kcmr_provenance``), closes and opens versions in ``kcmr_<layer>_versions``, and
loads the new content into a staging table with ``COPY``, drops the old table, renames
the staging table in its place, adds the primary key and the GiST index; then it
commits. A failure at any point rolls everything back: readers see the old layer until
the commit and the new one after it, never a mix. A writer that waits longer than
``lock_timeout_s`` for the lock gives up with a :class:`~kosovo_cmr.errors.StoreError`
and changes nothing. Two writers that start at once therefore both land, one after the
other, each with its versions (or the second fails cleanly, e.g. on a duplicate id).

Schema versions
---------------
Opening a store written by release 0.1.0 migrates it in place, in one transaction
under the same lock (:mod:`kosovo_cmr.store.migrate`).

SQL
---
Values never enter SQL text: rows travel through ``COPY ... FROM STDIN`` and bound
parameters. Identifiers are the fixed layer names, the provenance table, a schema name
checked against ``[a-z_][a-z0-9_]*``, and the attribute column names of the layer,
all quoted by the driver.
"""

from __future__ import annotations

import functools
import logging
import re

import geopandas as gpd
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr.errors import StoreError, require
from kosovo_cmr.schema import LAYERS, get_schema
from kosovo_cmr.store import _pg_session as pg
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
from kosovo_cmr.store.writing import apply_writes

sa = require("sqlalchemy", "postgis")
psycopg = require("psycopg", "postgis")

__all__ = ["PostGISStore", "URL_PREFIXES", "is_postgis_url"]

log = logging.getLogger(__name__)

#: URL prefixes that name a PostGIS store.
URL_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")

#: Seconds a writer waits for another writer's lock before it gives up.
LOCK_TIMEOUT_S = 120.0

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_postgis_url(uri: str) -> bool:
    """Return whether ``uri`` names a PostGIS store."""
    return str(uri).startswith(URL_PREFIXES)


def _parse_url(uri: str):
    url = sa.engine.make_url(uri)
    query = dict(url.query)
    schema = query.pop("schema", "public")
    if isinstance(schema, tuple):
        schema = schema[-1]
    if not _SCHEMA_RE.match(schema):
        raise StoreError(
            f"schema must be a lower-case PostgreSQL name ([a-z_][a-z0-9_]*), got {schema!r}"
        )
    url = url.set(drivername="postgresql+psycopg", query=query)
    return url, schema


class PostGISStore(Store):
    """Layers in a PostgreSQL/PostGIS database (see the module notes).

    Parameters
    ----------
    uri : str
        ``postgresql://user[:password]@host[:port]/database[?schema=name]``.
    create : bool, default True
        With ``False`` a store that holds nothing yet (no provenance table in its
        schema) is an error, as a missing GeoPackage file is.
    lock_timeout_s : float, optional
        How long a write waits for another writer (default :data:`LOCK_TIMEOUT_S`).

    Raises
    ------
    kosovo_cmr.errors.StoreError
        If the server does not answer, refuses the login, or the database has no
        ``postgis`` extension.
    """

    def __init__(self, uri: str, *, create: bool = True, lock_timeout_s: float | None = None):
        url, self.schema = _parse_url(uri)
        self.uri = url.set(drivername="postgresql").render_as_string(hide_password=True)
        if self.schema != "public":
            self.uri += (
                f"?schema={self.schema}" if "?" not in self.uri else f"&schema={self.schema}"
            )
        self.lock_timeout_s = LOCK_TIMEOUT_S if lock_timeout_s is None else float(lock_timeout_s)
        self._engine = _engine_for(url.render_as_string(hide_password=False))
        try:
            with self._engine.connect() as conn:
                version = conn.execute(
                    sa.text("SELECT extversion FROM pg_extension WHERE extname = :name"),
                    {"name": "postgis"},
                ).scalar()
                has_store = PROVENANCE_TABLE in pg.table_names(conn, self.schema)
                layout = pg.schema_version_in(conn, self.schema)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot connect to PostGIS store {self.uri}: {_reason(exc)}") from exc
        if version is None:
            raise StoreError(
                f"database of {self.uri} has no postgis extension; a superuser must run "
                "CREATE EXTENSION postgis in it"
            )
        if not create and not has_store:
            raise StoreError(f"store not found: {self.uri} holds no kcmr layers yet")
        if 0 < layout < SCHEMA_VERSION:
            self._run(lambda session: None)  # the transaction migrates the store first
        elif layout > SCHEMA_VERSION:
            log.warning(
                "store %s has schema version %d, newer than this kcmr knows (%d): it can be "
                "read but not written; upgrade kosovo_cmr",
                self.uri,
                layout,
                SCHEMA_VERSION,
            )

    def __repr__(self) -> str:
        return f"PostGISStore({self.uri!r})"

    def close(self) -> None:
        """Close the pooled connections to the store's server (they reopen when needed)."""
        self._engine.dispose()

    @property
    def schema_version(self) -> int:
        """The store's layout version (:data:`kosovo_cmr.store.migrate.SCHEMA_VERSION`)."""
        with self._connect() as conn:
            found = pg.schema_version_in(conn, self.schema)
        return found or SCHEMA_VERSION

    # -- reading --------------------------------------------------------------------------

    def _tables(self, conn) -> set[str]:
        return pg.table_names(conn, self.schema)

    def layers(self) -> list[str]:
        """Return the data layers present, in the schema's order."""
        with self._connect() as conn:
            present = self._tables(conn)
        return [name for name in LAYERS if name in present]

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """Read one layer (see :meth:`Store.read`)."""
        schema = get_schema(layer)
        with self._connect() as conn:
            if schema.name not in self._tables(conn):
                raise StoreError(f"layer {schema.name!r} is not in store {self.uri}")
            return self._read(conn, schema.name)

    def read_chunks(self, layer: str, rows: int):
        """Read one layer in chunks of ``rows`` features (see :meth:`Store.read_chunks`).

        One ``REPEATABLE READ`` transaction with a server-side cursor: the chunks are one
        consistent snapshot of the layer. A writer replacing the layer meanwhile waits
        until the last chunk has been read (or the generator is closed), at most the
        store's ``lock_timeout_s``, and then gives up as when another writer holds it.
        """
        check_rows(rows)
        schema = get_schema(layer)
        with self._connect() as conn:
            conn.execution_options(stream_results=True, isolation_level="REPEATABLE READ")
            if schema.name not in self._tables(conn):
                raise StoreError(f"layer {schema.name!r} is not in store {self.uri}")
            try:
                chunks = gpd.read_postgis(
                    self._query(schema.name),
                    conn,
                    geom_col=pg.GEOM,
                    crs=settings.storage_crs,
                    chunksize=rows,
                )
                first = True
                for gdf in chunks:
                    first = False
                    yield pg.finish(gdf, schema.name)
            except sa.exc.SQLAlchemyError as exc:
                raise StoreError(
                    f"cannot read layer {layer!r} from {self.uri}: {_reason(exc)}"
                ) from exc
            if first:  # an empty layer: one empty chunk with the schema's columns
                yield self._read(conn, schema.name)

    def _query(self, layer: str):
        return (
            sa.select(sa.literal_column("*"))
            .select_from(sa.table(layer, schema=self.schema))
            .order_by(sa.literal_column(pg.FID))
        )

    def _read(self, conn, layer: str) -> gpd.GeoDataFrame:
        try:
            gdf = gpd.read_postgis(
                self._query(layer), conn, geom_col=pg.GEOM, crs=settings.storage_crs
            )
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"cannot read layer {layer!r} from {self.uri}: {_reason(exc)}"
            ) from exc
        return pg.finish(gdf, layer)

    def provenance(self, layer: str | None = None) -> pd.DataFrame:
        """Return the imports (provenance records), oldest first, optionally of one layer."""
        columns = list(PROVENANCE_COLUMNS)
        with self._connect() as conn:
            if PROVENANCE_TABLE not in self._tables(conn):
                return provenance_frame(pd.DataFrame(columns=columns))
            table = pg.provenance_table(self.schema)
            query = sa.select(*[table.c[c] for c in columns]).order_by(table.c.id)
            if layer is not None:
                query = query.where(table.c.layer == layer)
            frame = pd.read_sql(query, conn)
        return provenance_frame(frame)

    def versions(self, layer: str, *, ids=None, at=None) -> gpd.GeoDataFrame:
        """Return the versions of a layer's features (see :meth:`Store.versions`)."""
        schema = get_schema(layer)
        if ids is not None:
            ids = list(ids)
        with self._connect() as conn:
            try:
                frame = pg.read_versions(conn, self.schema, schema.name, ids=ids, at=at)
            except sa.exc.SQLAlchemyError as exc:
                raise StoreError(
                    f"cannot read the versions of {layer!r} from {self.uri}: {_reason(exc)}"
                ) from exc
        return empty_versions(schema.name) if frame is None else frame

    # -- writing --------------------------------------------------------------------------

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
        (record,) = self._transaction([(gdf, ready, schema.name, mode)], source, valid_from)
        log.info("wrote %d feature(s) to %s:%s", record.feature_count, self.uri, schema.name)
        return record

    def write_many(
        self, layers: dict[str, gpd.GeoDataFrame], *, source: str | None = None, valid_from=None
    ) -> list[Provenance]:
        """Replace several layers in one transaction: all land, or none does."""
        items = []
        for name, gdf in layers.items():
            schema = get_schema(name)
            items.append((gdf, prepare_layer(gdf, schema.name), schema.name, "replace"))
        return self._transaction(items, source, valid_from)

    def _transaction(self, items, source, valid_from) -> list[Provenance]:
        for _, ready, layer, _ in items:
            check_reserved(ready, layer)
            pg.check_columns(ready, layer)
        return self._run(
            lambda session: apply_writes(session, items, source=source, valid_from=valid_from)
        )

    def _run(self, work):
        """Run ``work(session)`` in one transaction under the store's lock, migrating first."""
        try:
            with self._engine.begin() as conn:
                self._lock(conn)
                session = pg.PgSession(conn, self.schema, self._engine.dialect)
                layout = pg.schema_version_in(conn, self.schema)
                if layout > SCHEMA_VERSION:
                    raise StoreError(
                        f"store {self.uri} has schema version {layout}, newer than this kcmr "
                        f"writes ({SCHEMA_VERSION}); upgrade kosovo_cmr to write to it"
                    )
                if 0 < layout < SCHEMA_VERSION:
                    migrate(session, from_version=layout, uri=self.uri)
                result = work(session)
                if META_TABLE not in pg.table_names(conn, self.schema):
                    session.set_meta(meta_rows())
                return result
        except sa.exc.OperationalError as exc:
            if isinstance(exc.orig, psycopg.errors.LockNotAvailable):
                raise StoreError(
                    f"store {self.uri} is busy: another writer (or a chunked read of the "
                    f"layer) held it for more than {self.lock_timeout_s:g} s; nothing was "
                    "written, try again"
                ) from exc
            raise StoreError(f"cannot write to store {self.uri}: {_reason(exc)}") from exc
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot write to store {self.uri}: {_reason(exc)}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"cannot write to store {self.uri}: {_reason(exc)}") from exc

    def _lock(self, conn) -> None:
        conn.execute(
            sa.select(
                sa.func.set_config("lock_timeout", f"{int(self.lock_timeout_s * 1000)}", True)
            )
        )
        conn.execute(
            sa.select(
                sa.func.pg_advisory_xact_lock(
                    sa.func.hashtextextended(sa.bindparam("key", f"kosovo_cmr:{self.schema}"), 0)
                )
            )
        )

    def _connect(self):
        try:
            return self._engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot connect to PostGIS store {self.uri}: {_reason(exc)}") from exc


@functools.lru_cache(maxsize=16)
def _engine_for(url: str):
    """One connection pool per server URL and process, shared by the stores opened on it."""
    return sa.create_engine(url, pool_pre_ping=True)


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
