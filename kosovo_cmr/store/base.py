"""The interface every store implements, and what they share."""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import shlex
import socket
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from kosovo_cmr import settings
from kosovo_cmr._version import __version__
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import StoreError
from kosovo_cmr.schema import LAYERS, check, conform, get_schema
from kosovo_cmr.store.versions import (
    RESERVED_COLUMNS,
    VERSION_COLUMNS,
    Changes,
    end_of_day,
    parse_instant,
)

#: Name of the table in which every store records its writes: the imports table, one
#: row per layer written (the ``import_id`` that the versions of features refer to).
PROVENANCE_TABLE = "kcmr_provenance"

#: How a write treats the features already in the layer: ``replace`` the layer (features
#: not in the write are removed), ``append`` (ids must be new), or ``upsert`` (features
#: with an id already stored replace it, the others are added, the rest are kept).
MODES = ("replace", "append", "upsert")


def check_rows(rows) -> None:
    if not isinstance(rows, int | np.integer) or isinstance(rows, bool) or rows < 1:
        raise StoreError(f"chunks must have a positive whole number of rows, got {rows!r}")


@dataclass(frozen=True)
class Provenance:
    """What one write to a store did, recorded in the store with the data."""

    layer: str
    mode: str
    source: str
    written_at: str
    source_crs: str
    stored_crs: str
    feature_count: int
    package_version: str
    gdal_version: str
    user: str
    import_id: int | None = None
    valid_from: str | None = None
    source_sha256: str | None = None
    command: str | None = None
    added: int | None = None
    changed: int | None = None
    removed: int | None = None

    def as_record(self) -> dict:
        """Return the provenance as a plain dict (one row of the provenance table)."""
        return asdict(self)


#: Columns of the imports (provenance) table, in order; the last seven came with
#: schema version 2 (the history).
PROVENANCE_COLUMNS: tuple[str, ...] = tuple(Provenance.__dataclass_fields__)
#: Integer columns of the imports table.
PROVENANCE_INTEGERS = frozenset({"feature_count", "import_id", "added", "changed", "removed"})


def _crs_text(crs) -> str:
    if crs is None:
        return ""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.to_string()


def prepare_layer(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Conform, check and reproject a layer for storage.

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If the layer has no CRS.
    kosovo_cmr.errors.SchemaError
        If the layer breaks its schema (every violation is listed).
    """
    schema = get_schema(layer)
    require_crs(gdf, name=f"layer {schema.name!r}")
    ready = conform(gdf, schema)
    check(ready, schema)
    ready = ready.to_crs(settings.storage_crs)
    return ready.reset_index(drop=True)


def check_reserved(gdf: gpd.GeoDataFrame, layer: str) -> None:
    """Refuse attribute columns whose names the stores keep for themselves.

    Raises
    ------
    kosovo_cmr.errors.StoreError
        Naming the column and how to fix it.
    """
    for col in gdf.columns:
        if col != gdf.geometry.name and str(col).lower() in RESERVED_COLUMNS:
            raise StoreError(
                f"layer {layer!r}: attribute column {col!r} is reserved by the store (its "
                "history and keys use it); rename it, e.g. with --map-fields "
                f"{col}={col}_source"
            )


def source_digest(source: str | os.PathLike | None) -> str | None:
    """SHA-256 (hex) of the source file of a write, or ``None`` if it names no file."""
    if source is None:
        return None
    path = Path(os.fspath(source))
    try:
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def command_line(argv: list[str] | None = None) -> str:
    """Return the command that is running, as a shell line, with any URL password hidden.

    Examples
    --------
    >>> command_line(["/usr/bin/kcmr", "--store", "postgresql://kcmr:secret@db/kmac", "info"])
    'kcmr --store postgresql://kcmr:***@db/kmac info'
    """
    argv = list(sys.argv if argv is None else argv)
    if not argv:
        return ""
    line = shlex.join([Path(argv[0]).name, *argv[1:]])
    return _PASSWORD.sub(r"\1***@", line)


def make_provenance(
    gdf: gpd.GeoDataFrame,
    stored: gpd.GeoDataFrame,
    *,
    layer: str,
    mode: str,
    source: str | None,
    valid_from: str | None = None,
    changes: Changes | None = None,
) -> Provenance:
    """Describe one write for the imports (provenance) table."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "unknown"
    return Provenance(
        layer=layer,
        mode=mode,
        source=str(source) if source is not None else "python",
        written_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source_crs=_crs_text(gdf.crs),
        stored_crs=_crs_text(stored.crs),
        feature_count=int(len(stored)),
        package_version=__version__,
        gdal_version=pyogrio.__gdal_version_string__,
        user=f"{user}@{socket.gethostname()}",
        valid_from=valid_from,
        source_sha256=source_digest(source),
        command=command_line(),
        added=None if changes is None else len(changes.added),
        changed=None if changes is None else len(changes.changed),
        removed=None if changes is None else len(changes.removed),
    )


class Store(ABC):
    """A place where the layers live: read, write (atomically), history, provenance, info."""

    uri: str

    #: The instant a read-only view shows the layers at (see :meth:`as_of`); ``None``
    #: for the store itself.
    at: pd.Timestamp | None = None

    @abstractmethod
    def layers(self) -> list[str]:
        """Return the names of the data layers present in the store."""

    @abstractmethod
    def read(self, layer: str) -> gpd.GeoDataFrame:
        """Read one layer, in the storage CRS, conformed to its schema.

        Raises
        ------
        kosovo_cmr.errors.StoreError
            If the layer is not in the store.
        """

    @abstractmethod
    def write(
        self,
        gdf: gpd.GeoDataFrame,
        layer: str,
        *,
        mode: str = "replace",
        source: str | None = None,
        valid_from=None,
    ) -> Provenance:
        """Write a layer atomically, keep the versions it replaces, record the import.

        Parameters
        ----------
        gdf : GeoDataFrame
            Features with a CRS; reprojected to the storage CRS.
        layer : str
            One of ``hazards``, ``evidence``, ``strikes``, ``releases``, ``boundaries``.
        mode : {"replace", "append", "upsert"}
            Replace the layer (features not in ``gdf`` are removed), add the features
            (ids must be new), or add them replacing the stored features with the same
            ids (see :data:`MODES`).
        source : str, optional
            Where the features came from (a file path, a command), for provenance; the
            SHA-256 of the file is recorded when it names one.
        valid_from : date, time or str, optional
            When the written state became true (default: now, UTC). A programme
            loading its archive gives each state its date. History is append-only: a
            time earlier than the layer's latest version, or in the future, is refused.

        Returns
        -------
        Provenance
            What was recorded (its ``import_id`` is what the new versions refer to).

        Raises
        ------
        kosovo_cmr.errors.StoreError
            If the store cannot be written (nothing is written then).
        """

    @abstractmethod
    def write_many(
        self, layers: dict[str, gpd.GeoDataFrame], *, source: str | None = None, valid_from=None
    ) -> list[Provenance]:
        """Replace several layers in one atomic step: all land, or none does."""

    @abstractmethod
    def provenance(self, layer: str | None = None) -> pd.DataFrame:
        """Return the imports (provenance records), oldest first, optionally of one layer.

        Columns :data:`PROVENANCE_COLUMNS`; ``import_id`` is what versions refer to.
        """

    @abstractmethod
    def versions(self, layer: str, *, ids=None, at=None) -> gpd.GeoDataFrame:
        """Return the versions of a layer's features, oldest first.

        Parameters
        ----------
        layer : str
        ids : list, optional
            Only the versions of these feature ids.
        at : pandas.Timestamp, optional
            Only the versions current at this instant (UTC): ``valid_from < at`` and
            ``valid_to`` empty or ``>= at``.

        Returns
        -------
        GeoDataFrame
            The feature's columns, then ``version_id`` and :data:`VERSION_COLUMNS`
            (``valid_from`` and ``valid_to`` as UTC timestamps). An empty frame when
            the layer has no versions.
        """

    @property
    @abstractmethod
    def schema_version(self) -> int:
        """The version of the store's layout (``kcmr_meta``; 1 for a 0.1.0 store)."""

    @abstractmethod
    def read_chunks(self, layer: str, rows: int) -> Iterator[gpd.GeoDataFrame]:
        """Read one layer in chunks of at most ``rows`` features, in the order of :meth:`read`.

        For layers too large to hold twice (the dask engine writes each chunk out before
        it reads the next). Chunks are conformed to the schema as :meth:`read` does;
        concatenated, they equal :meth:`read`. An empty layer gives one empty chunk.

        Raises
        ------
        kosovo_cmr.errors.StoreError
            If the layer is not in the store.
        """

    def as_of(self, date) -> AsOfStore:
        """Return a read-only view of the store as it was at the end of ``date`` (UTC).

        Parameters
        ----------
        date : date, time or str
            A day (``"2024-12-31"``: the layers as they were when that day ended, UTC)
            or an exact time.

        Returns
        -------
        AsOfStore
            Reads give the layers as they were; writes are refused.
        """
        return AsOfStore(self, date)

    def has_layer(self, layer: str) -> bool:
        """Return whether the store holds ``layer``."""
        return layer in self.layers()

    def read_or_empty(self, layer: str) -> gpd.GeoDataFrame:
        """Read a layer, or return an empty one with the schema's columns if absent."""
        if self.has_layer(layer):
            return self.read(layer)
        return empty_layer(layer)

    def info(self) -> pd.DataFrame:
        """Summarise the store: one row per layer.

        Returns
        -------
        pandas.DataFrame
            Columns ``layer``, ``features``, ``crs``, ``area_m2`` (geodesic, polygon
            layers only), ``last_written``, ``source``, ``package_version``.
        """
        prov = self.provenance()
        rows = []
        for name in self.layers():
            gdf = self.read(name)
            polygonal = get_schema(name).geometry_type == "MultiPolygon"
            last = prov[prov["layer"] == name].tail(1) if len(prov) else prov
            rows.append(
                {
                    "layer": name,
                    "features": len(gdf),
                    "crs": _crs_text(gdf.crs),
                    "area_m2": float(geodesic_area(gdf).sum()) if polygonal else None,
                    "last_written": last["written_at"].iloc[0] if len(last) else None,
                    "source": last["source"].iloc[0] if len(last) else None,
                    "package_version": last["package_version"].iloc[0] if len(last) else None,
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "layer",
                "features",
                "crs",
                "area_m2",
                "last_written",
                "source",
                "package_version",
            ],
        )


class AsOfStore(Store):
    """A read-only view of a store as it was at one instant (see :meth:`Store.as_of`).

    Reads give the versions that were current then, conformed to the schema as a read of
    the store is; :meth:`provenance` lists the imports that had taken effect; writes
    are refused. Features come in the order their versions were recorded.

    Examples
    --------
    >>> from kosovo_cmr.store import open_store
    >>> end_2023 = open_store("kmac.gpkg").as_of("2023-12-31")   # doctest: +SKIP
    >>> end_2023.read("hazards")                                   # doctest: +SKIP
    """

    def __init__(self, store: Store, date):
        if isinstance(store, AsOfStore):
            store = store.store
        self.store = store
        self.at = end_of_day(date, what="as-of date")
        self.label = str(date)
        self.uri = store.uri

    def __repr__(self) -> str:
        return f"{self.store!r}.as_of({self.label!r})"

    @property
    def schema_version(self) -> int:
        """The schema version of the underlying store."""
        return self.store.schema_version

    def layers(self) -> list[str]:
        """Return the layers that had been written by then, in the schema's order."""
        written = set(self.provenance()["layer"])
        return [name for name in self.store.layers() if name in written]

    def provenance(self, layer: str | None = None) -> pd.DataFrame:
        """Return the imports that had taken effect by then (``valid_from`` before it)."""
        table = self.store.provenance(layer)
        if not len(table):
            return table
        started = pd.to_datetime(table["valid_from"], utc=True, format="ISO8601")
        return table[(started < self.at).to_numpy()].reset_index(drop=True)

    def versions(self, layer: str, *, ids=None, at=None) -> gpd.GeoDataFrame:
        """Return the versions current at the view's instant (or at an earlier ``at``)."""
        when = self.at if at is None else min(parse_instant(at), self.at)
        return self.store.versions(layer, ids=ids, at=when)

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """Read the layer as it was (see :meth:`Store.read`)."""
        schema = get_schema(layer)
        if schema.name not in self.layers():
            raise StoreError(
                f"layer {schema.name!r} was not in store {self.uri} as of {self.label}"
            )
        frame = self.store.versions(schema.name, at=self.at)
        frame = frame.drop(columns=["version_id", *VERSION_COLUMNS], errors="ignore")
        extra = [
            c
            for c in frame.columns
            if c not in schema.column_names and c != frame.geometry.name
            and frame[c].isna().all()
        ]  # fmt: skip
        return conform(frame.drop(columns=extra).reset_index(drop=True), schema)

    def read_chunks(self, layer: str, rows: int) -> Iterator[gpd.GeoDataFrame]:
        """Read the layer as it was, in chunks (see :meth:`Store.read_chunks`)."""
        check_rows(rows)
        whole = self.read(layer)
        yield whole.iloc[:rows].reset_index(drop=True)
        for start in range(rows, len(whole), rows):
            yield whole.iloc[start : start + rows].reset_index(drop=True)

    def _refuse(self, *args, **kwargs):
        raise StoreError(
            f"store {self.uri} as of {self.label} is a read-only view of the past; "
            "write to the store itself"
        )

    write = _refuse
    write_many = _refuse


def merge_upsert(existing: gpd.GeoDataFrame, new: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Return the layer after an upsert: stored features whose ids ``new`` brings are replaced."""
    idcol = get_schema(layer).id_column
    if not len(existing):
        return new
    keep = existing[~existing[idcol].isin(set(new[idcol].dropna()))]
    merged = pd.concat([keep, new], ignore_index=True)
    return gpd.GeoDataFrame(merged, geometry=existing.geometry.name, crs=existing.crs)


def empty_layer(layer: str) -> gpd.GeoDataFrame:
    """Return an empty layer with the schema's columns and dtypes, in the storage CRS."""
    schema = get_schema(layer)
    frame = gpd.GeoDataFrame(
        {c: [] for c in schema.column_names},
        geometry=gpd.GeoSeries([], crs=settings.storage_crs),
        crs=settings.storage_crs,
    )
    return conform(frame, schema)


def provenance_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Give an imports table every column of :data:`PROVENANCE_COLUMNS`, typed alike."""
    table = table.reindex(columns=list(PROVENANCE_COLUMNS))
    for col in PROVENANCE_COLUMNS:
        if col in ("feature_count", "import_id") and not table[col].isna().any():
            table[col] = table[col].astype("int64")
        elif col in PROVENANCE_INTEGERS:
            table[col] = table[col].astype("Int64")
        else:
            table[col] = table[col].astype(object).where(table[col].notna(), None)
    return table.reset_index(drop=True)


def empty_versions(layer: str) -> gpd.GeoDataFrame:
    """Return an empty versions frame of a layer (see :meth:`Store.versions`)."""
    frame = empty_layer(layer)
    attrs = frame.drop(columns=frame.geometry.name)
    extra = pd.DataFrame(
        {
            "version_id": pd.Series([], dtype="int64"),
            "valid_from": pd.Series([], dtype="datetime64[ns, UTC]"),
            "valid_to": pd.Series([], dtype="datetime64[ns, UTC]"),
            "import_id": pd.Series([], dtype="Int64"),
            "closed_by": pd.Series([], dtype="Int64"),
            "row_hash": pd.Series([], dtype=object),
        }
    )
    return gpd.GeoDataFrame(
        pd.concat([attrs, extra], axis=1), geometry=frame.geometry, crs=frame.crs
    )


def merge_append(existing: gpd.GeoDataFrame, new: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Concatenate ``new`` after ``existing`` for an append, refusing duplicate ids."""
    schema = get_schema(layer)
    idcol = schema.id_column
    if idcol and len(existing):
        clash = set(existing[idcol].dropna()) & set(new[idcol].dropna())
        if clash:
            sample = ", ".join(sorted(map(str, clash))[:5])
            raise StoreError(
                f"append to {layer!r} would duplicate {len(clash)} id(s) already in the "
                f"store: {sample}; use mode='replace' or remove them first"
            )
    if not len(existing):
        return new
    merged = pd.concat([existing, new], ignore_index=True)
    return gpd.GeoDataFrame(merged, geometry=existing.geometry.name, crs=existing.crs)


__all__ = [
    "Store",
    "AsOfStore",
    "Provenance",
    "PROVENANCE_TABLE",
    "PROVENANCE_COLUMNS",
    "PROVENANCE_INTEGERS",
    "MODES",
    "prepare_layer",
    "check_reserved",
    "empty_layer",
    "merge_append",
    "merge_upsert",
    "provenance_frame",
    "empty_versions",
    "make_provenance",
    "source_digest",
    "command_line",
    "LAYERS",
]
