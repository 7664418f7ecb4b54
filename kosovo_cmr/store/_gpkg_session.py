"""One transaction on a GeoPackage store: the :class:`~kosovo_cmr.store.writing.Session`.

Tables are written with :mod:`sqlite3` (:mod:`kosovo_cmr.store._geopackage`) in the
transaction; layers are read with GDAL (pyogrio), which sees the file as it was when
the transaction began. :func:`~kosovo_cmr.store.writing.apply_writes` and
:func:`~kosovo_cmr.store.migrate.migrate` read every layer they need before they change
anything, so the two never disagree.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from kosovo_cmr import settings
from kosovo_cmr.crs import normalize_crs
from kosovo_cmr.schema import LAYERS, Column, conform, get_schema
from kosovo_cmr.store import _geopackage as gp
from kosovo_cmr.store.base import (
    PROVENANCE_COLUMNS,
    PROVENANCE_INTEGERS,
    PROVENANCE_TABLE,
    Provenance,
)
from kosovo_cmr.store.migrate import META_TABLE
from kosovo_cmr.store.versions import (
    VERSION_COLUMNS,
    format_instant,
    version_hashes,
    versions_table,
)

__all__ = ["GpkgSession", "read_table", "storage_srs", "schema_version_of"]

_VERSION_KINDS = {
    "valid_from": "DATETIME",
    "valid_to": "DATETIME",
    "import_id": "INTEGER",
    "closed_by": "INTEGER",
    "row_hash": "TEXT",
}
_KIND_SQL = {
    "text": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "BOOLEAN",
    "date": "DATETIME",
}


def storage_srs() -> tuple[int, str]:
    """Return the storage CRS's EPSG code and its WKT (for ``gpkg_spatial_ref_sys``)."""
    crs = normalize_crs(settings.storage_crs)
    return int(crs.to_epsg()), crs.to_wkt("WKT1_GDAL")


def read_table(path: Path, table: str, *, where: str | None = None, fids: bool = False):
    """Read a table with GDAL; DATETIME values come back as naive UTC times.

    The store writes every time in UTC with a ``Z``; naive is how the layers hold them.
    """
    frame = pyogrio.read_dataframe(path, layer=table, where=where, fid_as_index=fids)
    for col in frame.columns:
        dtype = frame[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) and getattr(dtype, "tz", None) is not None:
            frame[col] = frame[col].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def schema_version_of(conn: sqlite3.Connection) -> int:
    """Return the schema version: ``kcmr_meta``, else 1 for a 0.1.0 store, 0 when empty."""
    if gp.has_table(conn, META_TABLE):
        row = conn.execute(
            f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'"
        ).fetchone()
        if row is not None:
            return int(row[0])
    kcmr = [PROVENANCE_TABLE, *LAYERS]
    return 1 if any(gp.has_table(conn, name) for name in kcmr) else 0


class GpkgSession:
    """The store's open ``BEGIN IMMEDIATE`` transaction (see the module notes)."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path
        self.srs_id, wkt = storage_srs()
        gp.bootstrap(conn, srs_id=self.srs_id, srs_wkt=wkt)
        #: Tables this transaction created (GDAL cannot see them until it commits).
        self.created: set[str] = set()

    # -- reading ---------------------------------------------------------------------------

    def layer_names(self) -> set[str]:
        """Return the data layers present."""
        return {name for name in LAYERS if gp.has_table(self.conn, name)}

    def read_layer(self, layer: str) -> gpd.GeoDataFrame:
        """Read the layer's current features (with GDAL, conformed)."""
        return conform(read_table(self.path, layer), get_schema(layer))

    def current_versions(self, layer: str) -> dict:
        """``{feature id: (version_id, row_hash)}`` of the open versions."""
        table = versions_table(layer)
        if not gp.has_table(self.conn, table):
            return {}
        idcol = gp.quote(get_schema(layer).id_column)
        rows = self.conn.execute(
            f"SELECT {idcol}, fid, row_hash FROM {gp.quote(table)} WHERE valid_to IS NULL"
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def latest_valid_from(self, layer: str) -> pd.Timestamp | None:
        """Latest ``valid_from`` of the layer's imports."""
        return self.last_written(layer)

    def last_written(self, layer: str) -> pd.Timestamp | None:
        """Latest ``valid_from`` of the layer's provenance rows (UTC), or ``None``."""
        if not gp.has_table(self.conn, PROVENANCE_TABLE):
            return None
        if "valid_from" not in gp.table_columns(self.conn, PROVENANCE_TABLE):
            return None
        (value,) = self.conn.execute(
            f"SELECT max(valid_from) FROM {PROVENANCE_TABLE} WHERE layer = ?", (layer,)
        ).fetchone()
        return None if value is None else pd.Timestamp(value).tz_convert("UTC")

    # -- writing ---------------------------------------------------------------------------

    def _provenance_kinds(self) -> dict[str, str]:
        return {c: "INTEGER" if c in PROVENANCE_INTEGERS else "TEXT" for c in PROVENANCE_COLUMNS}

    def insert_import(self, record: Provenance) -> int:
        """Add a row to ``kcmr_provenance``; its ``fid`` is the ``import_id``."""
        if not gp.has_table(self.conn, PROVENANCE_TABLE):
            gp.create_attribute_table(
                self.conn,
                PROVENANCE_TABLE,
                self._provenance_kinds(),
                description="kcmr imports: one row per layer written",
            )
        values = record.as_record()
        values.pop("import_id")
        (fid,) = gp.insert_rows(self.conn, PROVENANCE_TABLE, {k: [v] for k, v in values.items()})
        self.conn.execute(f"UPDATE {PROVENANCE_TABLE} SET import_id = fid WHERE fid = ?", (fid,))
        return fid

    def close_versions(self, layer: str, version_ids: list, *, at: str, import_id: int) -> None:
        """Set ``valid_to`` and ``closed_by`` of these versions."""
        if not version_ids:
            return
        self.conn.executemany(
            f"UPDATE {gp.quote(versions_table(layer))} SET valid_to = ?, closed_by = ? "
            "WHERE fid = ?",
            [(at, import_id, int(v)) for v in version_ids],
        )

    def open_versions(self, layer, frame, hashes, *, at: str, import_id: int) -> None:
        """Add one version per feature of ``frame``."""
        table = versions_table(layer)
        attrs = frame.drop(columns=frame.geometry.name)
        kinds = {c: gp.sql_type(attrs[c]) for c in attrs.columns}
        if not gp.has_table(self.conn, table):
            self.created.add(table)
            gp.create_feature_table(
                self.conn,
                table,
                {**kinds, **_VERSION_KINDS},
                geometry_type=get_schema(layer).geometry_type,
                srs_id=self.srs_id,
                description=f"kcmr: every version of the features of {layer}",
            )
        else:
            gp.add_columns(self.conn, table, kinds)
        if not len(frame):
            return
        n = len(frame)
        extra = {
            "valid_from": [at] * n,
            "valid_to": [None] * n,
            "import_id": [int(import_id)] * n,
            "closed_by": [None] * n,
            "row_hash": list(np.asarray(hashes, dtype=object)),
        }
        gp.insert_features(
            self.conn, table, attrs, frame.geometry.values, srs_id=self.srs_id, kinds=kinds,
            extra=extra, spatial_index=False,
        )  # fmt: skip

    def replace_layer(self, layer: str, frame: gpd.GeoDataFrame) -> None:
        """Drop the layer's table and create it again with ``frame``."""
        schema = get_schema(layer)
        attrs = frame.drop(columns=frame.geometry.name)
        kinds = {c: gp.sql_type(attrs[c]) for c in attrs.columns}
        has_z = bool(np.asarray(frame.geometry.has_z).any()) if len(frame) else False
        gp.drop_table(self.conn, layer)
        gp.create_feature_table(
            self.conn,
            layer,
            kinds,
            geometry_type=schema.geometry_type,
            srs_id=self.srs_id,
            has_z=has_z,
            description=schema.description,
        )
        gp.insert_features(
            self.conn, layer, attrs, frame.geometry.values, srs_id=self.srs_id, kinds=kinds
        )

    # -- migrations ------------------------------------------------------------------------

    def extend_provenance(self) -> None:
        """Add the version-2 columns to ``kcmr_provenance`` and number its rows."""
        if not gp.has_table(self.conn, PROVENANCE_TABLE):
            return
        gp.add_columns(self.conn, PROVENANCE_TABLE, self._provenance_kinds())
        self.conn.execute(f"UPDATE {PROVENANCE_TABLE} SET import_id = fid WHERE import_id IS NULL")
        self.conn.execute(
            f"UPDATE {PROVENANCE_TABLE} SET valid_from = "
            "strftime('%Y-%m-%dT%H:%M:%fZ', written_at) WHERE valid_from IS NULL"
        )

    def add_column(self, layer: str, column: Column) -> None:
        """Add ``column`` to the layer and its versions, filled with its default."""
        for table in (layer, versions_table(layer)):
            if not gp.has_table(self.conn, table):
                continue
            gp.add_columns(self.conn, table, {column.name: _KIND_SQL[column.kind]})
            if column.default is not None:
                value = column.default
                value = format_instant(value) if column.kind == "date" else value
                value = int(value) if column.kind == "bool" else value
                self.conn.execute(
                    f"UPDATE {gp.quote(table)} SET {gp.quote(column.name)} = ? "
                    f"WHERE {gp.quote(column.name)} IS NULL",
                    (value,),
                )

    def rehash_versions(self, layers) -> int:
        """Recompute the ``row_hash`` of every version of some layers; return how many changed.

        For a migration that fills a new column with its default: the versions are read
        (as GDAL sees them, before this transaction wrote anything: call this first) and
        conformed to the current schema, which gives them the default, as a write of the
        same feature would; then the hashes that differ are updated. A versions table this
        transaction created (a migration from schema 1) was hashed as it was written and
        is left as it is.
        """
        updates = {}
        for layer in layers:  # every read first, then the writes
            table = versions_table(layer)
            if table in self.created or not gp.has_table(self.conn, table):
                continue
            frame = read_table(self.path, table, fids=True)
            if len(frame):
                hashes = version_hashes(frame, layer)
                updates[table] = [
                    (new, int(fid))
                    for fid, old, new in zip(frame.index, frame["row_hash"], hashes, strict=True)
                    if old != new
                ]
        for table, changed in updates.items():
            self.conn.executemany(
                f"UPDATE {gp.quote(table)} SET row_hash = ? WHERE fid = ?", changed
            )
        return sum(len(c) for c in updates.values())

    def set_meta(self, values: dict[str, str]) -> None:
        """Write keys of ``kcmr_meta``."""
        if not gp.has_table(self.conn, META_TABLE):
            gp.create_attribute_table(
                self.conn,
                META_TABLE,
                {"key": "TEXT NOT NULL UNIQUE", "value": "TEXT"},
                description="kcmr: schema version of the store",
            )
        for key, value in values.items():
            self.conn.execute(f"DELETE FROM {META_TABLE} WHERE key = ?", (key,))
            self.conn.execute(
                f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?)", (key, str(value))
            )

    def conform_geopackage_version(self) -> None:
        """Give GDAL-made layer tables the R-tree triggers of GeoPackage 1.2, and say 1.2."""
        for layer in self.layer_names():
            if gp.has_table(self.conn, f"rtree_{layer}_geom"):
                gp.recreate_rtree_triggers(self.conn, layer)
        self.conn.execute(f"PRAGMA user_version = {gp.USER_VERSION}")


def versions_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make a versions table read by GDAL into the frame :meth:`Store.versions` returns."""
    frame = frame.rename_axis("version_id").reset_index()
    for col in ("valid_from", "valid_to"):
        frame[col] = pd.to_datetime(frame[col]).dt.tz_localize("UTC")
    for col in ("import_id", "closed_by"):
        frame[col] = frame[col].astype("Int64")
    geom = frame.geometry.name
    order = [c for c in frame.columns if c not in ("version_id", geom, *VERSION_COLUMNS)]
    return frame[[*order, "version_id", *VERSION_COLUMNS, geom]]
