"""The GeoPackage store: one embedded file, no server.

Atomic writes
-------------
A write never touches the store file in place. Under an exclusive lock
(``<store>.lock``), the store is copied to a temporary file beside it, the layer and
its provenance record are written into the copy, the copy is flushed to disk, and
``os.replace`` swaps it for the store in one step. A failure or a kill at any moment
before the swap leaves the previous store readable and intact (the orphaned temporary
file is removed by the next write); after the swap the new content is complete.

The cost is one copy of the file per write, which suits the single-officer stores this
backend is for; a team store with many writers belongs in PostGIS.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from kosovo_cmr.errors import StoreError
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

log = logging.getLogger(__name__)

_TMP_PREFIX = ".kcmr-tmp-"


class GeoPackageStore(Store):
    """Layers in one GeoPackage file.

    Parameters
    ----------
    path : str or path-like
        The ``.gpkg`` file. Its folder must exist.
    create : bool, default True
        Whether the first write may create the file.
    """

    def __init__(self, path, *, create: bool = True):
        self.path = Path(path)
        self.uri = str(self.path)
        if not self.path.exists():
            if not create:
                raise StoreError(f"store not found: {self.path}")
            if not self.path.parent.exists():
                raise StoreError(f"folder of the store does not exist: {self.path.parent}")
        elif not self.path.is_file():
            raise StoreError(f"store path is not a file: {self.path}")

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    # -- reading --------------------------------------------------------------------------

    def _list(self) -> list[str]:
        if not self.path.exists():
            return []
        try:
            return [str(row[0]) for row in pyogrio.list_layers(self.path)]
        except Exception as exc:
            raise StoreError(f"cannot read store {self.path}: {exc}") from exc

    def layers(self) -> list[str]:
        """Return the data layers present, in the schema's order."""
        present = set(self._list())
        return [name for name in LAYERS if name in present]

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """Read one layer (see :meth:`Store.read`)."""
        schema = get_schema(layer)
        if schema.name not in self._list():
            raise StoreError(f"layer {schema.name!r} is not in store {self.path}")
        try:
            gdf = pyogrio.read_dataframe(self.path, layer=schema.name)
        except Exception as exc:
            raise StoreError(f"cannot read layer {schema.name!r} from {self.path}: {exc}") from exc
        return conform(gdf, schema)

    def read_chunks(self, layer: str, rows: int):
        """Read one layer in chunks of ``rows`` features (see :meth:`Store.read_chunks`)."""
        check_rows(rows)
        schema = get_schema(layer)
        if schema.name not in self._list():
            raise StoreError(f"layer {schema.name!r} is not in store {self.path}")
        start = 0
        while True:
            try:
                gdf = pyogrio.read_dataframe(
                    self.path, layer=schema.name, skip_features=start, max_features=rows
                )
            except Exception as exc:
                raise StoreError(
                    f"cannot read layer {schema.name!r} from {self.path}: {exc}"
                ) from exc
            if start and not len(gdf):
                return
            yield conform(gdf, schema)
            if len(gdf) < rows:
                return
            start += rows

    def provenance(self, layer: str | None = None) -> pd.DataFrame:
        """Return the provenance records, oldest first, optionally of one layer."""
        if PROVENANCE_TABLE not in self._list():
            return pd.DataFrame(columns=list(Provenance.__dataclass_fields__))
        table = pyogrio.read_dataframe(self.path, layer=PROVENANCE_TABLE, read_geometry=False)
        table = pd.DataFrame(table)
        if layer is not None:
            table = table[table["layer"] == layer].reset_index(drop=True)
        return table

    # -- writing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self):
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _clean_orphans(self) -> None:
        for orphan in self.path.parent.glob(f"{_TMP_PREFIX}{self.path.name}*"):
            with contextlib.suppress(OSError):
                orphan.unlink()
                log.info("removed %s left by an interrupted write", orphan)

    def write(
        self, gdf: gpd.GeoDataFrame, layer: str, *, mode: str = "replace", source: str | None = None
    ) -> Provenance:
        """Write a layer atomically (see :meth:`Store.write` and the module notes)."""
        if mode not in ("replace", "append"):
            raise StoreError(f"mode must be 'replace' or 'append', got {mode!r}")
        schema = get_schema(layer)
        ready = prepare_layer(gdf, schema.name)
        with self._locked():
            self._clean_orphans()
            if mode == "append" and schema.name in self._list():
                ready = merge_append(self.read(schema.name), ready, schema.name)
            record = make_provenance(gdf, ready, layer=schema.name, mode=mode, source=source)
            self._swap_in(ready, schema, record)
        log.info("wrote %d feature(s) to %s:%s", len(ready), self.path, schema.name)
        return record

    def write_many(
        self, layers: dict[str, gpd.GeoDataFrame], *, source: str | None = None
    ) -> list[Provenance]:
        """Replace several layers in one atomic step: all land, or none does."""
        prepared = []
        for name, gdf in layers.items():
            schema = get_schema(name)
            ready = prepare_layer(gdf, schema.name)
            prepared.append(
                (
                    ready,
                    schema,
                    make_provenance(gdf, ready, layer=schema.name, mode="replace", source=source),
                )
            )
        with self._locked():
            self._clean_orphans()
            self._swap_in_all(prepared)
        return [record for _, _, record in prepared]

    def _swap_in(self, ready, schema, record) -> None:
        self._swap_in_all([(ready, schema, record)])

    def _swap_in_all(self, prepared) -> None:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f"{_TMP_PREFIX}{self.path.name}.", suffix=".gpkg", dir=self.path.parent
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            if self.path.exists():
                shutil.copyfile(self.path, tmp)
            else:
                tmp.unlink()
            for ready, schema, record in prepared:
                _write_layer(tmp, ready, schema)
                _append_provenance(tmp, record)
            _fsync(tmp)
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, Exception) and not isinstance(exc, StoreError):
                raise StoreError(f"cannot write to store {self.path}: {exc}") from exc
            raise


def _write_layer(path: Path, gdf: gpd.GeoDataFrame, schema) -> None:
    pyogrio.write_dataframe(
        gdf,
        path,
        layer=schema.name,
        driver="GPKG",
        geometry_type=schema.geometry_type,
        promote_to_multi=schema.geometry_type.startswith("Multi"),
    )


def _append_provenance(path: Path, record: Provenance) -> None:
    row = pd.DataFrame([record.as_record()])
    exists = PROVENANCE_TABLE in [str(r[0]) for r in pyogrio.list_layers(path)]
    pyogrio.write_dataframe(row, path, layer=PROVENANCE_TABLE, driver="GPKG", append=exists)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
