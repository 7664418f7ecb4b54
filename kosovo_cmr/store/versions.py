"""Versions of features: when a feature changed, and how a write's changes are found.

Every write to a store keeps the previous version of each feature it changes or removes
(IMSMA Core's "archiving" of a record with valid-from and valid-to dates). A layer's
versions live in a table ``kcmr_<layer>_versions`` beside the layer: the feature's
columns and geometry, plus

``valid_from``
   when the version became the current one (UTC; the write's time, or the
   ``valid_from`` it was given, e.g. the date of an archived state);
``valid_to``
   when a later write changed or removed the feature (empty while it is current);
``import_id``
   the write (a row of the imports table ``kcmr_provenance``) that made the version;
``closed_by``
   the write that changed or removed it;
``row_hash``
   the SHA-256 of the version's attributes and geometry, to tell a changed feature
   from an unchanged one without reading it.

A feature is identified by its layer's id column (``hazard_id``, ``release_id`` ...;
:attr:`kosovo_cmr.schema.LayerSchema.id_column`). It *changed* when any attribute or
its geometry differs; geometries are compared exactly, by their WKB. A missing value
is no value: adding a column that is empty for every feature changes nothing.

Times are instants in UTC. A day given for a read ("as of 2024-12-31") means the end of
that day in UTC: the layers as they were just before 2025-01-01T00:00Z.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
import shapely

from kosovo_cmr.errors import InputError

__all__ = [
    "VERSION_COLUMNS",
    "RESERVED_COLUMNS",
    "Changes",
    "versions_table",
    "row_hashes",
    "version_hashes",
    "diff_hashes",
    "parse_instant",
    "end_of_day",
    "format_instant",
]

#: Bookkeeping columns of a versions table, after the feature's own columns.
VERSION_COLUMNS: tuple[str, ...] = ("valid_from", "valid_to", "import_id", "closed_by", "row_hash")

#: Column names a layer may not use: the stores' own (compared without case).
RESERVED_COLUMNS: frozenset[str] = frozenset(
    {"fid", "geom", "kcmr_fid", "version_id", *VERSION_COLUMNS}
)


def versions_table(layer: str) -> str:
    """Name of the table holding the versions of ``layer``.

    Examples
    --------
    >>> versions_table("hazards")
    'kcmr_hazards_versions'
    """
    return f"kcmr_{layer}_versions"


@dataclass
class Changes:
    """What one write does to a layer, by feature id.

    ``changed`` and ``removed`` also give the ``version_id`` of the version each closes.
    """

    added: list = field(default_factory=list)
    changed: dict = field(default_factory=dict)
    removed: dict = field(default_factory=dict)
    unchanged: int = 0

    @property
    def closing(self) -> list:
        """Version ids the write closes (changed and removed features)."""
        return [*self.changed.values(), *self.removed.values()]

    @property
    def opening(self) -> list:
        """Feature ids that get a new version (added and changed features)."""
        return [*self.added, *self.changed]


# --- fingerprints ------------------------------------------------------------------------


def _text(series: pd.Series) -> pd.Series:
    """One canonical text per value; missing values become ``None``."""
    missing = pd.isna(series).to_numpy()
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        out = series.map(lambda v: "true" if v else "false")
    elif pd.api.types.is_integer_dtype(dtype):
        out = series.astype("Int64").astype(str)
    elif pd.api.types.is_float_dtype(dtype):
        out = series.map(_number)
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        values = series
        if getattr(dtype, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        out = values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    else:
        out = series.map(_scalar)
    # as objects: pandas' text dtype would turn the None back into NaN ("nan", a value)
    return out.astype(object).where(~missing, None)


def _number(v) -> str:
    f = float(v)
    if f.is_integer() and abs(f) < 2**53:
        return str(int(f))
    return repr(f)


def _scalar(v) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | float | np.integer | np.floating):
        return _number(v)
    if isinstance(v, pd.Timestamp | datetime | date | np.datetime64):
        ts = pd.Timestamp(v)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return str(v)


def row_hashes(gdf: pd.DataFrame) -> np.ndarray:
    """Return the SHA-256 of each feature's attributes and geometry (hex), aligned with ``gdf``.

    Columns are taken by name (their order does not matter), missing values are left
    out, numbers compare by value (``2`` equals ``2.0``), times in UTC to the
    microsecond, and the geometry by its WKB.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> a = gpd.GeoDataFrame({"id": ["A"], "n": [2]}, geometry=[Point(1, 2)], crs=4326)
    >>> b = gpd.GeoDataFrame({"n": [2.0], "id": ["A"], "note": [None]},
    ...                      geometry=[Point(1, 2)], crs=4326)
    >>> bool(row_hashes(a)[0] == row_hashes(b)[0])
    True
    """
    geom_name = gdf.geometry.name if hasattr(gdf, "geometry") else None
    parts = np.full(len(gdf), "", dtype=object)
    for name in sorted(str(c) for c in gdf.columns if c != geom_name):
        text = _text(gdf[name]).to_numpy(dtype=object)
        present = np.array([t is not None for t in text], dtype=bool)
        piece = np.full(len(gdf), "", dtype=object)
        piece[present] = [f"{name}\x1f{t}\x1e" for t in text[present]]
        parts = parts + piece
    if geom_name is not None:
        wkb = shapely.to_wkb(np.asarray(gdf.geometry.values, dtype=object), hex=True, byte_order=1)
        parts = parts + np.array([f"\x1d{w or ''}" for w in wkb], dtype=object)
    return np.array([hashlib.sha256(p.encode("utf-8")).hexdigest() for p in parts], dtype=object)


def version_hashes(frame, layer: str) -> np.ndarray:
    """Return the row hash of each version in a versions table read back, as a write gives it.

    ``frame`` is a layer's versions table as read (bookkeeping columns included, in any
    order); the feature's columns are conformed to the layer's current schema first (so a
    column added with a default gets it), then hashed by :func:`row_hashes`.
    """
    from kosovo_cmr.schema import conform

    features = frame.drop(columns=["version_id", *VERSION_COLUMNS], errors="ignore")
    extra = [
        c for c in features.columns if c != features.geometry.name and features[c].isna().all()
    ]  # columns a read adds for every feature (e.g. after a column was added) are no value
    return row_hashes(conform(features.drop(columns=extra), layer))


def diff_hashes(
    current: dict,
    incoming: dict,
    *,
    removing: bool,
) -> Changes:
    """Compare the current versions of a layer with what a write brings.

    Parameters
    ----------
    current : dict
        ``{feature id: (version_id, row_hash)}`` of the layer's current versions.
    incoming : dict
        ``{feature id: row_hash}`` of the features the write brings.
    removing : bool
        Whether features absent from ``incoming`` are removed (a write that replaces
        the layer) or kept (an append or an upsert).

    Examples
    --------
    >>> c = diff_hashes({"A": (1, "h1"), "B": (2, "h2"), "C": (3, "h3")},
    ...                 {"A": "h1", "B": "new", "D": "h4"}, removing=True)
    >>> c.added, c.changed, c.removed, c.unchanged
    (['D'], {'B': 2}, {'C': 3}, 1)
    """
    changes = Changes()
    for fid, digest in incoming.items():
        known = current.get(fid)
        if known is None:
            changes.added.append(fid)
        elif known[1] != digest:
            changes.changed[fid] = known[0]
        else:
            changes.unchanged += 1
    if removing:
        changes.removed = {k: v[0] for k, v in current.items() if k not in incoming}
    return changes


# --- time ---------------------------------------------------------------------------------


def parse_instant(value, *, what: str = "time") -> pd.Timestamp:
    """Return an instant in UTC from a date, a datetime or ISO 8601 text.

    A date (``2024-12-31``) is its first instant, midnight UTC; a naive time is UTC.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``value`` is not a date or time.

    Examples
    --------
    >>> parse_instant("2023-12-31")
    Timestamp('2023-12-31 00:00:00+0000', tz='UTC')
    >>> parse_instant("2024-06-30T14:00:00+02:00")
    Timestamp('2024-06-30 12:00:00+0000', tz='UTC')
    """
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise InputError(f"{what} must be a date (YYYY-MM-DD) or an ISO 8601 time, got {value!r}")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def end_of_day(value, *, what: str = "date") -> pd.Timestamp:
    """Return the instant a day ends (UTC): a read "as of" the day sees what was valid before.

    A day is a date (``2024-12-31``, a :class:`datetime.date`, or a naive timestamp at
    midnight); any other time is taken as the instant itself.

    Examples
    --------
    >>> end_of_day("2024-12-31")
    Timestamp('2025-01-01 00:00:00+0000', tz='UTC')
    """
    ts = parse_instant(value, what=what)
    if isinstance(value, str):
        is_day = len(value.strip()) == 10
    elif isinstance(value, datetime | pd.Timestamp):
        naive = value.tzinfo is None
        is_day = naive and pd.Timestamp(value) == pd.Timestamp(value).normalize()
    else:
        is_day = isinstance(value, date)
    return ts + pd.Timedelta(days=1) if is_day else ts


def format_instant(value) -> str:
    """Format an instant as the stores keep it: ``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC, milliseconds).

    The form GDAL writes a GeoPackage DATETIME in; naive times are taken as UTC.

    Examples
    --------
    >>> format_instant(pd.Timestamp("2024-12-31"))
    '2024-12-31T00:00:00.000Z'
    >>> format_instant(pd.Timestamp("2024-06-30T14:05:09.123456+02:00"))
    '2024-06-30T12:05:09.123Z'
    """
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
