"""One transaction on a PostGIS store: the :class:`~kosovo_cmr.store.writing.Session`.

Tables, rows and SQL types of the PostGIS store (:mod:`kosovo_cmr.store.postgis`). Values
never enter SQL text: rows travel through ``COPY ... FROM STDIN`` and bound parameters;
identifiers are the fixed table names, a checked schema name and the layer's column
names, all quoted by the driver.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr import settings
from kosovo_cmr.errors import StoreError, require
from kosovo_cmr.schema import LAYERS, Column, conform, get_schema
from kosovo_cmr.store.base import (
    PROVENANCE_COLUMNS,
    PROVENANCE_INTEGERS,
    PROVENANCE_TABLE,
    Provenance,
)
from kosovo_cmr.store.migrate import META_TABLE
from kosovo_cmr.store.versions import VERSION_COLUMNS, version_hashes, versions_table

sa = require("sqlalchemy", "postgis")
psycopg = require("psycopg", "postgis")
geoalchemy2 = require("geoalchemy2", "postgis")

from psycopg import sql as pgsql  # noqa: E402  (after the dependency check)

__all__ = [
    "GEOM",
    "FID",
    "SRID",
    "PgSession",
    "provenance_table",
    "finish",
    "read_versions",
    "schema_version_in",
    "table_names",
]

GEOM = "geom"
FID = "kcmr_fid"
SRID = 4326
_STAGING = "{}__kcmr_new"
_KIND_SQL = {
    "text": sa.Text,
    "int": sa.BigInteger,
    "float": sa.Double,
    "bool": sa.Boolean,
    "date": sa.DateTime,
}


def provenance_table(schema: str) -> sa.Table:
    """Return the imports table ``kcmr_provenance`` (an identity ``id`` is the import's id)."""
    return sa.Table(
        PROVENANCE_TABLE,
        sa.MetaData(),
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        *[
            sa.Column(name, sa.BigInteger if name in PROVENANCE_INTEGERS else sa.Text)
            for name in PROVENANCE_COLUMNS
        ],
        schema=schema,
    )


def _meta_table(schema: str) -> sa.Table:
    return sa.Table(
        META_TABLE,
        sa.MetaData(),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text),
        schema=schema,
    )


def table_names(conn, schema: str) -> set[str]:
    """Return the tables of the store's PostgreSQL schema."""
    rows = conn.execute(
        sa.text("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = :schema"),
        {"schema": schema},
    )
    return {str(r[0]) for r in rows}


def schema_version_in(conn, schema: str) -> int:
    """Return the schema version: ``kcmr_meta``, else 1 for a 0.1.0 store, 0 when empty."""
    tables = table_names(conn, schema)
    if META_TABLE in tables:
        meta = _meta_table(schema)
        value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        if value is not None:
            return int(value)
    return 1 if tables & {PROVENANCE_TABLE, *LAYERS} else 0


def sql_type(series: pd.Series):
    """Return the SQL type of a pandas column."""
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
        if sql_type(series) is sa.Text:
            values = [v if isinstance(v, str) else str(v) for v in values]
    return [None if m else v for v, m in zip(values, missing, strict=True)]


def _ewkb(geoms) -> list:
    geoms = shapely.set_srid(np.asarray(geoms, dtype=object), SRID)
    return shapely.to_wkb(geoms, hex=True, include_srid=True).tolist()


def _copy(conn, schema: str, table: str, columns: dict[str, list]) -> None:
    statement = pgsql.SQL("COPY {}.{} ({}) FROM STDIN").format(
        pgsql.Identifier(schema),
        pgsql.Identifier(table),
        pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns),
    )
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in zip(*columns.values(), strict=True):
            copy.write_row(row)


def finish(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Make a layer table read by geopandas into what :meth:`Store.read` returns."""
    gdf = gdf.drop(columns=[FID], errors="ignore").rename_geometry("geometry")
    for col in gdf.columns:
        if col != "geometry" and pd.api.types.is_datetime64_any_dtype(gdf[col].dtype):
            if getattr(gdf[col].dtype, "tz", None) is None:
                gdf[col] = gdf[col].astype("datetime64[ms]")
    # empty tables come back with object columns; give them the schema's dtypes
    return conform(gdf, get_schema(layer))


def read_versions(conn, schema: str, layer: str, *, ids=None, at=None) -> gpd.GeoDataFrame:
    """Read the versions of a layer (see :meth:`Store.versions`); ``None`` with no table."""
    table = versions_table(layer)
    if table not in table_names(conn, schema):
        return None
    query = sa.select(sa.literal_column("*")).select_from(sa.table(table, schema=schema))
    if ids is not None:
        query = query.where(
            sa.column(get_schema(layer).id_column).in_(sa.bindparam("ids", expanding=True))
        )
    if at is not None:
        stamp = pd.Timestamp(at).to_pydatetime()
        query = query.where(
            sa.column("valid_from") < stamp,
            sa.or_(sa.column("valid_to").is_(None), sa.column("valid_to") >= stamp),
        )
    query = query.order_by(sa.column("version_id"))
    params = {"ids": [str(i) for i in ids]} if ids is not None else None
    frame = gpd.read_postgis(
        query, conn, geom_col=GEOM, crs=settings.storage_crs, params=params
    ).rename_geometry("geometry")
    for col in frame.columns:
        dtype = frame[col].dtype
        if col in ("valid_from", "valid_to"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        elif pd.api.types.is_datetime64_any_dtype(dtype) and getattr(dtype, "tz", None) is None:
            frame[col] = frame[col].astype("datetime64[ms]")
    for col in ("import_id", "closed_by"):
        frame[col] = frame[col].astype("Int64")
    attrs = [c for c in frame.columns if c not in ("version_id", "geometry", *VERSION_COLUMNS)]
    return frame[[*attrs, "version_id", *VERSION_COLUMNS, "geometry"]]


class PgSession:
    """The store's open transaction, under its advisory lock (see the module notes)."""

    def __init__(self, conn, schema: str, dialect):
        self.conn = conn
        self.schema = schema
        self._prep = dialect.identifier_preparer
        conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))

    def _q(self, name: str) -> str:
        return f"{self._prep.quote_schema(self.schema)}.{self._prep.quote(name)}"

    def _exec(self, statement: str, params: dict | None = None):
        return self.conn.execute(sa.text(statement), params or {})

    # -- reading ---------------------------------------------------------------------------

    def layer_names(self) -> set[str]:
        """Return the data layers present."""
        return set(LAYERS) & table_names(self.conn, self.schema)

    def read_layer(self, layer: str) -> gpd.GeoDataFrame:
        """Read the layer's current features, in the store's order."""
        query = (
            sa.select(sa.literal_column("*"))
            .select_from(sa.table(layer, schema=self.schema))
            .order_by(sa.literal_column(FID))
        )
        gdf = gpd.read_postgis(query, self.conn, geom_col=GEOM, crs=settings.storage_crs)
        return finish(gdf, layer)

    def current_versions(self, layer: str) -> dict:
        """``{feature id: (version_id, row_hash)}`` of the open versions."""
        if versions_table(layer) not in table_names(self.conn, self.schema):
            return {}
        idcol = self._prep.quote(get_schema(layer).id_column)
        rows = self._exec(
            f"SELECT {idcol}, version_id, row_hash FROM {self._q(versions_table(layer))} "
            "WHERE valid_to IS NULL"
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def latest_valid_from(self, layer: str) -> pd.Timestamp | None:
        """Latest ``valid_from`` of the layer's imports."""
        return self.last_written(layer)

    def last_written(self, layer: str) -> pd.Timestamp | None:
        """Latest ``valid_from`` of the layer's provenance rows (UTC), or ``None``."""
        if PROVENANCE_TABLE not in table_names(self.conn, self.schema):
            return None
        columns = self._columns(PROVENANCE_TABLE)
        if "valid_from" not in columns:
            return None
        value = self._exec(
            f"SELECT max(valid_from) FROM {self._q(PROVENANCE_TABLE)} WHERE layer = :layer",
            {"layer": layer},
        ).scalar()
        return None if value is None else pd.Timestamp(value).tz_convert("UTC")

    def _columns(self, table: str) -> list[str]:
        rows = self._exec(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = :s "
            "AND table_name = :t ORDER BY ordinal_position",
            {"s": self.schema, "t": table},
        )
        return [str(r[0]) for r in rows]

    # -- writing ---------------------------------------------------------------------------

    def insert_import(self, record: Provenance) -> int:
        """Add a row to ``kcmr_provenance``; its ``id`` is the ``import_id``."""
        table = provenance_table(self.schema)
        table.create(self.conn, checkfirst=True)
        values = record.as_record()
        values.pop("import_id")
        new_id = self.conn.execute(sa.insert(table).values(**values).returning(table.c.id)).scalar()
        self.conn.execute(sa.update(table).where(table.c.id == new_id).values(import_id=new_id))
        return int(new_id)

    def close_versions(self, layer: str, version_ids: list, *, at: str, import_id: int) -> None:
        """Set ``valid_to`` and ``closed_by`` of these versions."""
        if not version_ids:
            return
        self._exec(
            f"UPDATE {self._q(versions_table(layer))} SET valid_to = :at, closed_by = :imp "
            "WHERE version_id = ANY(:ids)",
            {
                "at": pd.Timestamp(at).to_pydatetime(),
                "imp": int(import_id),
                "ids": [int(v) for v in version_ids],
            },
        )

    def _ensure_versions(self, layer: str, attrs: pd.DataFrame) -> None:
        table = versions_table(layer)
        if table not in table_names(self.conn, self.schema):
            sa.Table(
                table,
                sa.MetaData(),
                sa.Column("version_id", sa.BigInteger, sa.Identity(), primary_key=True),
                sa.Column(
                    GEOM,
                    geoalchemy2.Geometry(
                        geometry_type=get_schema(layer).geometry_type.upper(),
                        srid=SRID,
                        spatial_index=False,
                    ),
                ),
                sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
                sa.Column("valid_to", sa.DateTime(timezone=True)),
                sa.Column("import_id", sa.BigInteger, nullable=False),
                sa.Column("closed_by", sa.BigInteger),
                sa.Column("row_hash", sa.Text),
                schema=self.schema,
            ).create(self.conn)
            created = True
        else:
            created = False
        present = set(self._columns(table))
        for col in attrs.columns:
            if col not in present:
                kind = sa.types.to_instance(sql_type(attrs[col])).compile(dialect=self.conn.dialect)
                self._exec(
                    f"ALTER TABLE {self._q(table)} ADD COLUMN {self._prep.quote(col)} {kind}"
                )
        if created:
            idcol = self._prep.quote(get_schema(layer).id_column)
            self._exec(f"CREATE INDEX ON {self._q(table)} ({idcol})")

    def open_versions(self, layer, frame, hashes, *, at: str, import_id: int) -> None:
        """Add one version per feature of ``frame``."""
        attrs = frame.drop(columns=frame.geometry.name)
        self._ensure_versions(layer, attrs)
        if not len(frame):
            return
        n = len(frame)
        columns = {c: _column_values(attrs[c]) for c in attrs.columns}
        columns.update(
            valid_from=[pd.Timestamp(at).to_pydatetime()] * n,
            import_id=[int(import_id)] * n,
            row_hash=[str(h) for h in hashes],
            geom=_ewkb(frame.geometry.values),
        )
        _copy(self.conn, self.schema, versions_table(layer), columns)

    def replace_layer(self, layer: str, frame: gpd.GeoDataFrame) -> None:
        """Load ``frame`` into a staging table and swap it in for the layer's table."""
        schema = get_schema(layer)
        staging = _STAGING.format(layer)
        attrs = [c for c in frame.columns if c != frame.geometry.name]
        table = sa.Table(
            staging,
            sa.MetaData(),
            sa.Column(FID, sa.BigInteger, nullable=False),
            *[sa.Column(c, sql_type(frame[c])) for c in attrs],
            sa.Column(
                GEOM,
                geoalchemy2.Geometry(
                    geometry_type=schema.geometry_type.upper(), srid=SRID, spatial_index=False
                ),
                nullable=False,
            ),
            schema=self.schema,
        )
        table.drop(self.conn, checkfirst=True)  # left by nothing: a failed write rolls back
        table.create(self.conn)
        columns = {FID: list(range(len(frame)))}
        columns.update({c: _column_values(frame[c]) for c in attrs})
        columns[GEOM] = _ewkb(frame.geometry.values)
        _copy(self.conn, self.schema, staging, columns)
        q = self._prep.quote
        self._exec(f"DROP TABLE IF EXISTS {self._q(layer)}")
        self._exec(f"ALTER TABLE {self._q(staging)} RENAME TO {q(layer)}")
        self._exec(
            f"ALTER TABLE {self._q(layer)} ADD CONSTRAINT {q(layer + '_pkey')} "
            f"PRIMARY KEY ({q(FID)})"
        )
        self._exec(
            f"CREATE INDEX {q(layer + '_geom_gist')} ON {self._q(layer)} USING gist ({q(GEOM)})"
        )
        self._exec(f"ANALYZE {self._q(layer)}")

    # -- migrations ------------------------------------------------------------------------

    def extend_provenance(self) -> None:
        """Add the version-2 columns to ``kcmr_provenance`` and number its rows."""
        if PROVENANCE_TABLE not in table_names(self.conn, self.schema):
            return
        present = set(self._columns(PROVENANCE_TABLE))
        for name in PROVENANCE_COLUMNS:
            if name not in present:
                kind = "bigint" if name in PROVENANCE_INTEGERS else "text"
                self._exec(f"ALTER TABLE {self._q(PROVENANCE_TABLE)} ADD COLUMN {name} {kind}")
        self._exec(f"UPDATE {self._q(PROVENANCE_TABLE)} SET import_id = id WHERE import_id IS NULL")
        self._exec(
            f"UPDATE {self._q(PROVENANCE_TABLE)} SET valid_from = to_char(written_at::timestamptz "
            "AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') WHERE valid_from IS NULL"
        )

    def add_column(self, layer: str, column: Column) -> None:
        """Add ``column`` to the layer and its versions, filled with its default."""
        kind = sa.types.to_instance(_KIND_SQL[column.kind]).compile(dialect=self.conn.dialect)
        for table in (layer, versions_table(layer)):
            if table not in table_names(self.conn, self.schema):
                continue
            name = self._prep.quote(column.name)
            self._exec(f"ALTER TABLE {self._q(table)} ADD COLUMN IF NOT EXISTS {name} {kind}")
            if column.default is not None:
                self._exec(
                    f"UPDATE {self._q(table)} SET {name} = :v WHERE {name} IS NULL",
                    {"v": column.default},
                )

    def rehash_versions(self, layers) -> int:
        """Recompute the ``row_hash`` of every version of some layers; return how many changed.

        For a migration that fills a new column with its default (see
        :meth:`kosovo_cmr.store._gpkg_session.GpkgSession.rehash_versions`).
        """
        count = 0
        for layer in layers:
            frame = read_versions(self.conn, self.schema, layer)
            if frame is None or not len(frame):
                continue
            hashes = version_hashes(frame.set_index("version_id"), layer)
            changed = [
                {"h": new, "v": int(vid)}
                for vid, old, new in zip(
                    frame["version_id"], frame["row_hash"], hashes, strict=True
                )
                if old != new
            ]
            if changed:
                self.conn.execute(
                    sa.text(
                        f"UPDATE {self._q(versions_table(layer))} SET row_hash = :h "
                        "WHERE version_id = :v"
                    ),
                    changed,
                )
            count += len(changed)
        return count

    def set_meta(self, values: dict[str, str]) -> None:
        """Write keys of ``kcmr_meta``."""
        table = _meta_table(self.schema)
        table.create(self.conn, checkfirst=True)
        for key, value in values.items():
            self.conn.execute(sa.delete(table).where(table.c.key == key))
            self.conn.execute(sa.insert(table).values(key=key, value=str(value)))


def check_columns(gdf: gpd.GeoDataFrame, layer: str) -> None:
    """Refuse column names PostgreSQL cannot hold (longer than 63 bytes)."""
    for col in gdf.columns:
        if col != gdf.geometry.name and len(str(col).encode()) > 63:
            raise StoreError(
                f"layer {layer!r}: column name {col!r} is longer than PostgreSQL's 63 bytes; "
                "shorten it"
            )
