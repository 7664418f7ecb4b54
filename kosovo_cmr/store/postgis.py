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
the other, whichever machine they run on; then, for an append, it reads the current
layer and refuses duplicate ids (:func:`~kosovo_cmr.store.base.merge_append`); it
loads the new content into a staging table with ``COPY``, drops the old table, renames
the staging table in its place, adds the primary key and the GiST index, and records
the provenance row; then it commits. A failure at any point rolls everything back:
readers see the old layer until the commit and the new one after it, never a mix.
A writer that waits longer than ``lock_timeout_s`` for the lock gives up with a
:class:`~kosovo_cmr.errors.StoreError` and changes nothing.

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
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr import settings
from kosovo_cmr.errors import StoreError, require
from kosovo_cmr.schema import LAYERS, conform, get_schema
from kosovo_cmr.store.base import (
    PROVENANCE_TABLE,
    Provenance,
    Store,
    check_rows,
    make_provenance,
    merge_append,
    prepare_layer,
)

sa = require("sqlalchemy", "postgis")
psycopg = require("psycopg", "postgis")
geoalchemy2 = require("geoalchemy2", "postgis")

from psycopg import sql as pgsql  # noqa: E402  (after the dependency check)

__all__ = ["PostGISStore", "URL_PREFIXES", "is_postgis_url"]

log = logging.getLogger(__name__)

#: URL prefixes that name a PostGIS store.
URL_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")

#: Seconds a writer waits for another writer's lock before it gives up.
LOCK_TIMEOUT_S = 120.0

_GEOM = "geom"
_FID = "kcmr_fid"
_STAGING = "{}__kcmr_new"
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SRID = 4326


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
                has_store = self._table_exists(conn, PROVENANCE_TABLE)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot connect to PostGIS store {self.uri}: {_reason(exc)}") from exc
        if version is None:
            raise StoreError(
                f"database of {self.uri} has no postgis extension; a superuser must run "
                "CREATE EXTENSION postgis in it"
            )
        if not create and not has_store:
            raise StoreError(f"store not found: {self.uri} holds no kcmr layers yet")

    def __repr__(self) -> str:
        return f"PostGISStore({self.uri!r})"

    def close(self) -> None:
        """Close the pooled connections to the store's server (they reopen when needed)."""
        self._engine.dispose()

    # -- names ----------------------------------------------------------------------------

    def _q(self, name: str) -> str:
        """Return ``"schema"."name"``, quoted by the dialect (identifiers only)."""
        prep = self._engine.dialect.identifier_preparer
        return f"{prep.quote_schema(self.schema)}.{prep.quote(name)}"

    def _table_exists(self, conn, name: str) -> bool:
        found = conn.execute(
            sa.text(
                "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = :schema "
                "AND tablename = :table"
            ),
            {"schema": self.schema, "table": name},
        ).scalar()
        return found is not None

    def _tables(self, conn) -> set[str]:
        rows = conn.execute(
            sa.text("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = :schema"),
            {"schema": self.schema},
        )
        return {str(r[0]) for r in rows}

    # -- reading --------------------------------------------------------------------------

    def layers(self) -> list[str]:
        """Return the data layers present, in the schema's order."""
        with self._connect() as conn:
            present = self._tables(conn)
        return [name for name in LAYERS if name in present]

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """Read one layer (see :meth:`Store.read`)."""
        schema = get_schema(layer)
        with self._connect() as conn:
            if not self._table_exists(conn, schema.name):
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
            if not self._table_exists(conn, schema.name):
                raise StoreError(f"layer {schema.name!r} is not in store {self.uri}")
            try:
                chunks = gpd.read_postgis(
                    self._query(schema.name),
                    conn,
                    geom_col=_GEOM,
                    crs=settings.storage_crs,
                    chunksize=rows,
                )
                first = True
                for gdf in chunks:
                    first = False
                    yield self._finish(gdf, schema.name)
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
            .order_by(sa.literal_column(_FID))
        )

    def _read(self, conn, layer: str) -> gpd.GeoDataFrame:
        try:
            gdf = gpd.read_postgis(
                self._query(layer), conn, geom_col=_GEOM, crs=settings.storage_crs
            )
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"cannot read layer {layer!r} from {self.uri}: {_reason(exc)}"
            ) from exc
        return self._finish(gdf, layer)

    def _finish(self, gdf, layer: str) -> gpd.GeoDataFrame:
        schema = get_schema(layer)
        gdf = gdf.drop(columns=[_FID]).rename_geometry("geometry")
        for col in gdf.columns:
            if col != "geometry" and pd.api.types.is_datetime64_any_dtype(gdf[col].dtype):
                if getattr(gdf[col].dtype, "tz", None) is None:
                    gdf[col] = gdf[col].astype("datetime64[ms]")
        # empty tables come back with object columns; give them the schema's dtypes
        return conform(gdf, schema)

    def provenance(self, layer: str | None = None) -> pd.DataFrame:
        """Return the provenance records, oldest first, optionally of one layer."""
        columns = list(Provenance.__dataclass_fields__)
        with self._connect() as conn:
            if not self._table_exists(conn, PROVENANCE_TABLE):
                return pd.DataFrame(columns=columns)
            table = _provenance_table(self.schema)
            query = sa.select(*[table.c[c] for c in columns]).order_by(table.c.id)
            if layer is not None:
                query = query.where(table.c.layer == layer)
            frame = pd.read_sql(query, conn)
        frame["feature_count"] = frame["feature_count"].astype("int64")
        return frame.reset_index(drop=True)

    # -- writing --------------------------------------------------------------------------

    def write(
        self, gdf: gpd.GeoDataFrame, layer: str, *, mode: str = "replace", source: str | None = None
    ) -> Provenance:
        """Write a layer in one transaction (see :meth:`Store.write` and the module notes)."""
        if mode not in ("replace", "append"):
            raise StoreError(f"mode must be 'replace' or 'append', got {mode!r}")
        schema = get_schema(layer)
        ready = prepare_layer(gdf, schema.name)
        (record,) = self._transaction([(gdf, ready, schema.name, mode)], source=source)
        log.info("wrote %d feature(s) to %s:%s", record.feature_count, self.uri, schema.name)
        return record

    def write_many(
        self, layers: dict[str, gpd.GeoDataFrame], *, source: str | None = None
    ) -> list[Provenance]:
        """Replace several layers in one transaction: all land, or none does."""
        items = []
        for name, gdf in layers.items():
            schema = get_schema(name)
            items.append((gdf, prepare_layer(gdf, schema.name), schema.name, "replace"))
        return self._transaction(items, source=source)

    def _transaction(self, items, *, source) -> list[Provenance]:
        for _, ready, layer, _ in items:
            _check_columns(ready, layer)
        records = []
        try:
            with self._engine.begin() as conn:
                self._lock(conn)
                self._ensure_store(conn)
                for gdf, ready, layer, mode in items:
                    if mode == "append" and self._table_exists(conn, layer):
                        ready = merge_append(self._read(conn, layer), ready, layer)
                    record = make_provenance(gdf, ready, layer=layer, mode=mode, source=source)
                    self._replace_table(conn, ready, layer)
                    conn.execute(
                        sa.insert(_provenance_table(self.schema)).values(**record.as_record())
                    )
                    records.append(record)
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
            raise StoreError(f"cannot write to store {self.uri}: {exc}") from exc
        return records

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

    def _ensure_store(self, conn) -> None:
        conn.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
        _provenance_table(self.schema).create(conn, checkfirst=True)

    def _replace_table(self, conn, gdf: gpd.GeoDataFrame, layer: str) -> None:
        schema = get_schema(layer)
        staging = _STAGING.format(layer)
        attrs = [c for c in gdf.columns if c != gdf.geometry.name]
        table = sa.Table(
            staging,
            sa.MetaData(),
            sa.Column(_FID, sa.BigInteger, nullable=False),
            *[sa.Column(c, _sql_type(gdf[c])) for c in attrs],
            sa.Column(
                _GEOM,
                geoalchemy2.Geometry(
                    geometry_type=schema.geometry_type.upper(), srid=_SRID, spatial_index=False
                ),
                nullable=False,
            ),
            schema=self.schema,
        )
        table.drop(conn, checkfirst=True)  # left by nothing: a failed write rolls back
        table.create(conn)
        _copy_rows(conn, self.schema, staging, gdf, attrs)
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {self._q(layer)}"))
        prep = self._engine.dialect.identifier_preparer
        conn.execute(sa.text(f"ALTER TABLE {self._q(staging)} RENAME TO {prep.quote(layer)}"))
        conn.execute(
            sa.text(
                f"ALTER TABLE {self._q(layer)} ADD CONSTRAINT {prep.quote(layer + '_pkey')} "
                f"PRIMARY KEY ({prep.quote(_FID)})"
            )
        )
        conn.execute(
            sa.text(
                f"CREATE INDEX {prep.quote(layer + '_geom_gist')} ON {self._q(layer)} "
                f"USING gist ({prep.quote(_GEOM)})"
            )
        )
        conn.execute(sa.text(f"ANALYZE {self._q(layer)}"))

    def _connect(self):
        try:
            return self._engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot connect to PostGIS store {self.uri}: {_reason(exc)}") from exc


@functools.lru_cache(maxsize=16)
def _engine_for(url: str):
    """One connection pool per server URL and process, shared by the stores opened on it."""
    return sa.create_engine(url, pool_pre_ping=True)


def _provenance_table(schema: str):
    fields = Provenance.__dataclass_fields__
    return sa.Table(
        PROVENANCE_TABLE,
        sa.MetaData(),
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        *[
            sa.Column(name, sa.BigInteger if name == "feature_count" else sa.Text)
            for name in fields
        ],
        schema=schema,
    )


def _check_columns(gdf: gpd.GeoDataFrame, layer: str) -> None:
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        if col in (_FID, _GEOM):
            raise StoreError(
                f"layer {layer!r}: attribute column {col!r} is reserved by the PostGIS store; "
                "rename it"
            )
        if len(str(col).encode()) > 63:
            raise StoreError(
                f"layer {layer!r}: column name {col!r} is longer than PostgreSQL's 63 bytes; "
                "shorten it"
            )


def _sql_type(series: pd.Series):
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return sa.Boolean
    if pd.api.types.is_integer_dtype(dtype):
        return sa.BigInteger
    if pd.api.types.is_float_dtype(dtype):
        return sa.Double
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return sa.DateTime(timezone=getattr(dtype, "tz", None) is not None)
    values = series.dropna()
    if len(values) and values.map(lambda v: isinstance(v, bool | np.bool_)).all():
        return sa.Boolean
    return sa.Text


def _column_values(series: pd.Series) -> list:
    missing = series.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = [v.to_pydatetime() for v in series]
    elif pd.api.types.is_bool_dtype(series.dtype) and not missing.any():
        values = series.astype(bool).tolist()
    elif pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_float_dtype(series.dtype):
        values = series.astype(object).tolist()
        values = [v if isinstance(v, int | float) else v.item() for v in values]
    else:
        values = [
            v.item() if isinstance(v, np.generic) else v for v in series.astype(object).tolist()
        ]
        if _sql_type(series) is sa.Text:
            values = [v if isinstance(v, str) else str(v) for v in values]
    return [None if m else v for v, m in zip(values, missing, strict=True)]


def _copy_rows(conn, schema: str, table: str, gdf: gpd.GeoDataFrame, attrs: list[str]) -> None:
    geoms = shapely.set_srid(np.asarray(gdf.geometry.values, dtype=object), _SRID)
    ewkb = shapely.to_wkb(geoms, hex=True, include_srid=True)
    columns = [list(range(len(gdf)))] + [_column_values(gdf[c]) for c in attrs] + [ewkb.tolist()]
    statement = pgsql.SQL("COPY {}.{} ({}) FROM STDIN").format(
        pgsql.Identifier(schema),
        pgsql.Identifier(table),
        pgsql.SQL(", ").join(pgsql.Identifier(c) for c in [_FID, *attrs, _GEOM]),
    )
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
