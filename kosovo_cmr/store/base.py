"""The interface every store implements, and what they share."""

from __future__ import annotations

import getpass
import socket
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from kosovo_cmr import settings
from kosovo_cmr._version import __version__
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import StoreError
from kosovo_cmr.schema import LAYERS, check, conform, get_schema

#: Name of the table in which every store records its writes.
PROVENANCE_TABLE = "kcmr_provenance"


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

    def as_record(self) -> dict:
        """Return the provenance as a plain dict (one row of the provenance table)."""
        return asdict(self)


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


def make_provenance(
    gdf: gpd.GeoDataFrame, stored: gpd.GeoDataFrame, *, layer: str, mode: str, source: str | None
) -> Provenance:
    """Describe one write for the provenance table."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "unknown"
    return Provenance(
        layer=layer,
        mode=mode,
        source=source or "python",
        written_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source_crs=_crs_text(gdf.crs),
        stored_crs=_crs_text(stored.crs),
        feature_count=int(len(stored)),
        package_version=__version__,
        gdal_version=pyogrio.__gdal_version_string__,
        user=f"{user}@{socket.gethostname()}",
    )


class Store(ABC):
    """A place where the layers live: read, write (atomically), provenance, info."""

    uri: str

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
        self, gdf: gpd.GeoDataFrame, layer: str, *, mode: str = "replace", source: str | None = None
    ) -> Provenance:
        """Write a layer atomically and record its provenance.

        Parameters
        ----------
        gdf : GeoDataFrame
            Features with a CRS; reprojected to the storage CRS.
        layer : str
            One of ``hazards``, ``evidence``, ``strikes``, ``releases``, ``boundaries``.
        mode : {"replace", "append"}
            Replace the layer, or add the features to it (ids must stay unique).
        source : str, optional
            Where the features came from (a file path, a command), for provenance.

        Returns
        -------
        Provenance
            What was recorded.
        """

    @abstractmethod
    def provenance(self, layer: str | None = None) -> pd.DataFrame:
        """Return the provenance records, oldest first, optionally of one layer."""

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


def empty_layer(layer: str) -> gpd.GeoDataFrame:
    """Return an empty layer with the schema's columns and dtypes, in the storage CRS."""
    schema = get_schema(layer)
    frame = gpd.GeoDataFrame(
        {c: [] for c in schema.column_names},
        geometry=gpd.GeoSeries([], crs=settings.storage_crs),
        crs=settings.storage_crs,
    )
    return conform(frame, schema)


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
    "Provenance",
    "PROVENANCE_TABLE",
    "prepare_layer",
    "empty_layer",
    "merge_append",
    "make_provenance",
    "LAYERS",
]
