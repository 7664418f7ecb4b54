"""GeoPackage tables written with SQLite itself, in one transaction on the real file.

The GeoPackage store writes through :mod:`sqlite3` rather than through GDAL, so that
a write (a layer, its versions, its import record) is ONE SQLite transaction on the
store file itself: ``BEGIN IMMEDIATE`` ... ``COMMIT``, with SQLite's rollback journal
beside the file. The file is never replaced, so a store reached through a symbolic
link, a hard link, or shared by a group keeps its identity, links, mode, owner and
group; a kill or a full disk before ``COMMIT`` leaves the previous content (SQLite
rolls the journal back the next time the file is opened).

What is written follows the OGC GeoPackage 1.2 encoding standard (OGC 12-128r15) as
GDAL writes it, so that GDAL, QGIS and ArcGIS read it without a warning:

- the core tables ``gpkg_spatial_ref_sys``, ``gpkg_contents``,
  ``gpkg_geometry_columns`` and ``gpkg_extensions`` (Req 10-29);
- feature tables with an ``fid INTEGER PRIMARY KEY AUTOINCREMENT`` and a ``geom``
  column of GeoPackageBinary blobs (header ``GP``, version 0, flags, ``srs_id``, an xy
  envelope, then ISO WKB; an empty geometry sets the empty flag, Clause 2.1.3);
- the ``gpkg_rtree_index`` extension (Annex F.3) with the six triggers of version 1.2;
- attribute tables (``data_type = 'attributes'``) for the store's bookkeeping;
- ``DATETIME`` values as ``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC), the form GDAL writes and
  expects (Req 5); naive times are UTC by the package's convention.

Reading stays with GDAL (pyogrio), so what the store writes is checked by the reader
every user has.
"""

from __future__ import annotations

import contextlib
import sqlite3
import struct
from collections.abc import Iterator

import numpy as np
import pandas as pd
import shapely

from kosovo_cmr.store.versions import format_instant

__all__ = [
    "APPLICATION_ID",
    "USER_VERSION",
    "connect",
    "transaction",
    "bootstrap",
    "has_table",
    "table_columns",
    "sql_type",
    "sql_values",
    "format_datetime",
    "create_feature_table",
    "create_attribute_table",
    "drop_table",
    "add_columns",
    "insert_features",
    "insert_rows",
    "quote",
    "recreate_rtree_triggers",
]

#: ``PRAGMA application_id`` of a GeoPackage: "GPKG" in ASCII.
APPLICATION_ID = 0x47504B47
#: ``PRAGMA user_version`` written into a new store: GeoPackage 1.2.
USER_VERSION = 10200
#: Seconds SQLite waits for another connection's lock before it reports the store busy.
BUSY_TIMEOUT_S = 120.0

_RTREE_URL = "http://www.geopackage.org/spec120/#extension_rtree"
_GEOMETRY_CODES = {"Point": 1, "MultiPoint": 4, "MultiPolygon": 6, "Polygon": 3}


def quote(name: str) -> str:
    """Quote an SQLite identifier (doubling any quote inside it)."""
    return '"' + str(name).replace('"', '""') + '"'


def connect(path, *, timeout_s: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """Open the GeoPackage file for writing, in autocommit mode (transactions are explicit).

    The spatial functions the R-tree triggers call (``ST_IsEmpty``, ``ST_MinX`` ...) are
    registered, so that rows may be inserted into a GDAL-made table too.
    """
    conn = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    for name, func in _ST_FUNCTIONS.items():
        conn.create_function(name, 1, func, deterministic=True)
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; roll back on any exception (a kill rolls back too)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def has_table(conn: sqlite3.Connection, table: str) -> bool:
    """Whether ``table`` exists (names compare without case, as SQLite's do)."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND lower(name) = lower(?)",
        (table,),
    ).fetchone()
    return row is not None


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Names of the columns of ``table``, in order."""
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({quote(table)})")]


# --- the core tables ------------------------------------------------------------------


def bootstrap(conn: sqlite3.Connection, *, srs_id: int, srs_wkt: str) -> None:
    """Make an empty file a GeoPackage (core tables and SRS rows); a no-op on one already."""
    if not has_table(conn, "gpkg_contents"):
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {USER_VERSION}")
        for statement in _CORE_DDL:
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
                ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
            ],
        )
    if not has_table(conn, "gpkg_extensions"):
        conn.execute(_EXTENSIONS_DDL)
    found = conn.execute("SELECT 1 FROM gpkg_spatial_ref_sys WHERE srs_id = ?", (srs_id,))
    if found.fetchone() is None:
        conn.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, 'EPSG', ?, ?, ?)",
            (f"EPSG:{srs_id}", srs_id, srs_id, srs_wkt, f"EPSG:{srs_id}"),
        )


_CORE_DDL = (
    "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL "
    "PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, "
    "definition TEXT NOT NULL, description TEXT)",
    "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT "
    "NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT "
    "NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, "
    "max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY "
    "(srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))",
    "CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT "
    "NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, "
    "m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), "
    "CONSTRAINT uk_gc_table_name UNIQUE (table_name), CONSTRAINT fk_gc_tn FOREIGN KEY "
    "(table_name) REFERENCES gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY "
    "(srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))",
)
_EXTENSIONS_DDL = (
    "CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT "
    "NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE "
    "(table_name, column_name, extension_name))"
)


# --- values -----------------------------------------------------------------------------


def format_datetime(value) -> str:
    """Format a time as GDAL writes a GeoPackage DATETIME (``format_instant``)."""
    return format_instant(value)


def sql_type(series: pd.Series) -> str:
    """Return the GeoPackage column type GDAL would choose for a pandas column."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "INTEGER"
    if pd.api.types.is_float_dtype(dtype):
        return "REAL"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "DATETIME"
    values = series.dropna()
    if len(values) and values.map(lambda v: isinstance(v, bool | np.bool_)).all():
        return "BOOLEAN"
    return "TEXT"


def sql_values(series: pd.Series, kind: str | None = None) -> list:
    """Return the column's values as SQLite takes them (``None`` for any missing value)."""
    kind = kind or sql_type(series)
    missing = pd.isna(series).to_numpy()
    if kind == "DATETIME":
        values = [None if m else format_datetime(v) for v, m in zip(series, missing, strict=True)]
    elif kind == "BOOLEAN":
        values = [None if m else int(bool(v)) for v, m in zip(series, missing, strict=True)]
    elif kind in ("INTEGER", "REAL"):
        values = series.astype(object).tolist()
        values = [None if m else v.item() if isinstance(v, np.generic) else v
                  for v, m in zip(values, missing, strict=True)]  # fmt: skip
    else:
        values = [
            None if m else v if isinstance(v, str) else str(_item(v))
            for v, m in zip(series.astype(object).tolist(), missing, strict=True)
        ]
    return values


def _item(v):
    return v.item() if isinstance(v, np.generic) else v


# --- geometry blobs ---------------------------------------------------------------------


def _blobs(geoms: np.ndarray, srs_id: int) -> tuple[list, np.ndarray, bool]:
    """GeoPackageBinary blobs, their xy bounds (NaN when empty) and whether any has Z."""
    geoms = np.asarray(geoms, dtype=object)
    present = ~shapely.is_missing(geoms)
    empty = present & np.asarray(shapely.is_empty(geoms), dtype=bool)
    has_z = (
        bool(np.asarray(shapely.has_z(geoms[present]), dtype=bool).any())
        if present.any()
        else False
    )
    wkb = shapely.to_wkb(geoms, byte_order=1, flavor="iso", output_dimension=3 if has_z else 2)
    bounds = shapely.bounds(geoms)
    blobs: list = []
    for i in range(len(geoms)):
        if not present[i]:
            blobs.append(None)
        elif empty[i]:
            blobs.append(struct.pack("<2sBBi", b"GP", 0, 0b00010001, srs_id) + wkb[i])
        else:
            minx, miny, maxx, maxy = bounds[i]
            header = struct.pack("<2sBBi4d", b"GP", 0, 0b00000011, srs_id, minx, maxx, miny, maxy)
            blobs.append(header + wkb[i])
    return blobs, bounds, has_z


def _envelope(blob):
    """``(minx, maxx, miny, maxy)`` of a GeoPackageBinary blob, or ``None`` when empty."""
    if blob is None or len(blob) < 8:
        return None
    flags = blob[3]
    if flags & 0b00010000:
        return None
    order = "<" if flags & 1 else ">"
    if (flags >> 1) & 0b111:  # an envelope: minx, maxx, miny, maxy come first
        return struct.unpack_from(order + "4d", blob, 8)
    geom = shapely.from_wkb(bytes(blob[8:]))
    if geom is None or geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return (minx, maxx, miny, maxy)


def _st(index: int):
    def func(blob):
        env = _envelope(blob)
        return None if env is None else env[index]

    return func


_ST_FUNCTIONS = {
    "ST_IsEmpty": lambda blob: None if blob is None else int(_envelope(blob) is None),
    "ST_MinX": _st(0),
    "ST_MaxX": _st(1),
    "ST_MinY": _st(2),
    "ST_MaxY": _st(3),
}


# --- tables -----------------------------------------------------------------------------


def _now() -> str:
    return format_datetime(pd.Timestamp.now(tz="UTC"))


def create_feature_table(
    conn: sqlite3.Connection,
    table: str,
    columns: dict[str, str],
    *,
    geometry_type: str,
    srs_id: int,
    has_z: bool = False,
    description: str = "",
) -> None:
    """Create an empty feature table and register it (contents, geometry column)."""
    cols = ", ".join(f"{quote(name)} {kind}" for name, kind in columns.items())
    conn.execute(
        f"CREATE TABLE {quote(table)} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
        f"geom {geometry_type.upper()}{', ' + cols if cols else ''})"
    )
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
        "last_change, srs_id) VALUES (?, 'features', ?, ?, ?, ?)",
        (table, table, description, _now(), srs_id),
    )
    conn.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, ?, 0)",
        (table, geometry_type.upper(), srs_id, int(has_z)),
    )


def create_attribute_table(
    conn: sqlite3.Connection, table: str, columns: dict[str, str], *, description: str = ""
) -> None:
    """Create an attribute (non-spatial) table and register it in ``gpkg_contents``."""
    cols = ", ".join(f"{quote(name)} {kind}" for name, kind in columns.items())
    conn.execute(
        f"CREATE TABLE {quote(table)} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, {cols})"
    )
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
        "last_change) VALUES (?, 'attributes', ?, ?, ?)",
        (table, table, description, _now()),
    )


def drop_table(conn: sqlite3.Connection, table: str) -> None:
    """Drop a table with its R-tree index and every registration of it."""
    rtree = f"rtree_{table}_geom"
    if has_table(conn, rtree):
        conn.execute(f"DROP TABLE {quote(rtree)}")
    if has_table(conn, table):
        conn.execute(f"DROP TABLE {quote(table)}")
    for meta in ("gpkg_extensions", "gpkg_geometry_columns", "gpkg_contents"):
        if has_table(conn, meta):
            conn.execute(f"DELETE FROM {meta} WHERE lower(table_name) = lower(?)", (table,))


def add_columns(conn: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """Add the columns a table lacks (names compared without case)."""
    present = {c.lower() for c in table_columns(conn, table)}
    for name, kind in columns.items():
        if name.lower() not in present:
            conn.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} {kind}")


def insert_rows(conn: sqlite3.Connection, table: str, rows: dict[str, list]) -> list[int]:
    """Insert rows given column-wise; return their new ``fid`` values, in order."""
    names = list(rows)
    if not names:
        return []
    n = len(rows[names[0]])
    if not n:
        return []
    start = conn.execute(f"SELECT coalesce(max(fid), 0) FROM {quote(table)}").fetchone()[0]
    fids = list(range(start + 1, start + 1 + n))
    placeholders = ", ".join("?" for _ in range(len(names) + 1))
    conn.executemany(
        f"INSERT INTO {quote(table)} (fid, {', '.join(quote(c) for c in names)}) "
        f"VALUES ({placeholders})",
        zip(fids, *(rows[c] for c in names), strict=True),
    )
    return fids


def insert_features(
    conn: sqlite3.Connection,
    table: str,
    frame: pd.DataFrame,
    geoms,
    *,
    srs_id: int,
    kinds: dict[str, str],
    extra: dict[str, list] | None = None,
    spatial_index: bool = True,
) -> list[int]:
    """Insert features (attributes of ``frame``, geometries ``geoms``); return their fids.

    The R-tree is filled in bulk from the envelopes (its triggers are dropped for the
    insert and created again), and the table's extent in ``gpkg_contents`` is widened.
    """
    blobs, bounds, _ = _blobs(geoms, srs_id)
    rows = {name: sql_values(frame[name], kinds[name]) for name in frame.columns}
    rows.update(extra or {})
    rows["geom"] = blobs
    if spatial_index:
        _drop_rtree_triggers(conn, table)
    fids = insert_rows(conn, table, rows)
    keep = ~np.isnan(bounds).any(axis=1) if len(bounds) else np.zeros(0, dtype=bool)
    if spatial_index:
        _ensure_rtree(conn, table)
        conn.executemany(
            f"INSERT OR REPLACE INTO {quote(f'rtree_{table}_geom')} VALUES (?, ?, ?, ?, ?)",
            [(fids[i], *bounds[i, [0, 2, 1, 3]].tolist()) for i in np.flatnonzero(keep)],
        )
        _create_rtree_triggers(conn, table)
    _widen_extent(conn, table, bounds[keep])
    return fids


def _widen_extent(conn: sqlite3.Connection, table: str, bounds: np.ndarray) -> None:
    row = conn.execute(
        "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", (table,)
    ).fetchone()
    boxes = [list(bounds[:, i]) for i in range(4)] if len(bounds) else [[], [], [], []]
    if row is not None and row[0] is not None:
        for i in range(4):
            boxes[i].append(row[i])
    extent = (
        [float(min(boxes[0])), float(min(boxes[1])), float(max(boxes[2])), float(max(boxes[3]))]
        if boxes[0]
        else [None] * 4
    )
    conn.execute(
        "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, last_change = ? "
        "WHERE table_name = ?",
        (*extent, _now(), table),
    )


def _ensure_rtree(conn: sqlite3.Connection, table: str) -> None:
    rtree = f"rtree_{table}_geom"
    if has_table(conn, rtree):
        return
    conn.execute(f"CREATE VIRTUAL TABLE {quote(rtree)} USING rtree(id, minx, maxx, miny, maxy)")
    conn.execute(
        f"INSERT INTO {quote(rtree)} SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), "
        f"ST_MaxY(geom) FROM {quote(table)} WHERE geom NOT NULL AND NOT ST_IsEmpty(geom)"
    )
    conn.execute(
        "INSERT OR REPLACE INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', ?, "
        "'write-only')",
        (table, _RTREE_URL),
    )


_TRIGGERS = ("insert", "update1", "update2", "update3", "update4", "delete")
# GeoPackage 1.2, Annex F.3 (t = table, i = fid, c = geom)
_TRIGGER_SQL = {
    "insert": "AFTER INSERT ON {t} WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom)) "
    "BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), "
    "ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END",
    "update1": "AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND "
    "NOT ST_IsEmpty(NEW.geom)) BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.fid, "
    "ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END",
    "update2": "AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR "
    "ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM {r} WHERE id = OLD.fid; END",
    "update3": "AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT "
    "ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM {r} WHERE id = OLD.fid; INSERT OR REPLACE INTO "
    "{r} VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), "
    "ST_MaxY(NEW.geom)); END",
    "update4": "AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR "
    "ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END",
    "delete": "AFTER DELETE ON {t} WHEN old.geom NOT NULL BEGIN DELETE FROM {r} WHERE id = "
    "OLD.fid; END",
}


def _drop_rtree_triggers(conn: sqlite3.Connection, table: str) -> None:
    names = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
        "AND name LIKE 'rtree_%'",
        (table,),
    ).fetchall()
    for (name,) in names:
        conn.execute(f"DROP TRIGGER {quote(name)}")


def _create_rtree_triggers(conn: sqlite3.Connection, table: str) -> None:
    rtree = quote(f"rtree_{table}_geom")
    for name in _TRIGGERS:
        body = _TRIGGER_SQL[name].format(t=quote(table), r=rtree)
        conn.execute(f"CREATE TRIGGER {quote(f'rtree_{table}_geom_{name}')} {body}")


def recreate_rtree_triggers(conn: sqlite3.Connection, table: str) -> None:
    """Replace a table's R-tree triggers (GDAL's, of any version) with those of 1.2."""
    _drop_rtree_triggers(conn, table)
    _create_rtree_triggers(conn, table)
