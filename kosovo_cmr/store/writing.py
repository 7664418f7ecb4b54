"""One write, the same on every store: merge, find the changes, keep the versions, record.

A store backend opens one transaction (a :class:`Session`) and hands it to
:func:`apply_writes`, which, for each layer written:

1. reads the layer's current features when the write keeps some of them (an append or
   an upsert), before anything in the transaction changes;
2. refuses a ``valid_from`` earlier than the layer's latest version (history is
   append-only) or in the future;
3. compares the incoming features with the current versions by id and row hash
   (:func:`kosovo_cmr.store.versions.diff_hashes`): added, changed, removed, unchanged;
4. records the import (a row of ``kcmr_provenance`` with the counts, the source file's
   SHA-256, the user and the command) and takes its ``import_id``;
5. closes the versions of the changed and removed features (``valid_to``,
   ``closed_by``), opens a version for each added and changed feature;
6. replaces the layer's table with its new content.

All of it lands in the backend's one transaction, or none of it does.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import geopandas as gpd
import pandas as pd

from kosovo_cmr.errors import StoreError
from kosovo_cmr.schema import get_schema
from kosovo_cmr.store.base import Provenance, make_provenance, merge_append, merge_upsert
from kosovo_cmr.store.versions import diff_hashes, format_instant, parse_instant, row_hashes

__all__ = ["Session", "apply_writes", "write_instant", "FUTURE_SLACK"]

#: How far in the future a given ``valid_from`` may lie (clocks of two machines differ).
FUTURE_SLACK = pd.Timedelta(minutes=5)


class Session(Protocol):
    """One open transaction on a store, as :func:`apply_writes` and the migrations use it."""

    def layer_names(self) -> set[str]:
        """Return the data layers present in the store."""

    def read_layer(self, layer: str) -> gpd.GeoDataFrame:
        """Read the layer's current features, as :meth:`Store.read` returns them."""

    def current_versions(self, layer: str) -> dict:
        """``{feature id: (version_id, row_hash)}`` of the layer's open versions."""

    def latest_valid_from(self, layer: str) -> pd.Timestamp | None:
        """Return the latest ``valid_from`` of the layer's imports (UTC), or ``None``."""

    def insert_import(self, record: Provenance) -> int:
        """Add a row to the imports table; return its ``import_id``."""

    def close_versions(self, layer: str, version_ids: list, *, at: str, import_id: int) -> None:
        """Set ``valid_to`` and ``closed_by`` of these versions."""

    def open_versions(
        self, layer: str, frame: gpd.GeoDataFrame, hashes, *, at: str, import_id: int
    ) -> None:
        """Add one version per feature of ``frame``, valid from ``at``."""

    def replace_layer(self, layer: str, frame: gpd.GeoDataFrame) -> None:
        """Replace the layer's table with ``frame``."""


def write_instant(valid_from=None, *, now: pd.Timestamp | None = None) -> pd.Timestamp:
    """Return the instant a write takes effect: ``valid_from`` checked, or now (UTC, to the ms).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``valid_from`` is not a date or time.
    kosovo_cmr.errors.StoreError
        If it lies in the future.
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    if valid_from is None:
        return now.floor("ms")
    at = parse_instant(valid_from, what="valid_from").floor("ms")
    if at > now + FUTURE_SLACK:
        raise StoreError(
            f"valid_from {format_instant(at)} is in the future; give the date the written "
            "state became true (nothing was written)"
        )
    return at


def _check_order(session: Session, layer: str, at: pd.Timestamp) -> None:
    latest = session.latest_valid_from(layer)
    if latest is not None and at < latest:
        raise StoreError(
            f"valid_from {format_instant(at)} is earlier than the latest version of layer "
            f"{layer!r} ({format_instant(latest)}); history is append-only: load older "
            "states first, oldest first (nothing was written)"
        )


def _new_state(old, ready, layer: str, mode: str) -> gpd.GeoDataFrame:
    if old is None or mode == "replace":
        return ready
    if mode == "append":
        return merge_append(old, ready, layer)
    return merge_upsert(old, ready, layer)


def apply_writes(
    session: Session, items: list[tuple], *, source: str | None, valid_from=None
) -> list[Provenance]:
    """Write layers in an open transaction (see the module notes).

    Parameters
    ----------
    session : Session
        The backend's open transaction.
    items : list of (gdf, ready, layer, mode)
        The caller's frame (for its CRS), the frame prepared for storage
        (:func:`~kosovo_cmr.store.base.prepare_layer`), the layer and the mode.
    source : str, optional
        Where the features came from.
    valid_from : optional
        When the written state became true (default now).

    Returns
    -------
    list of Provenance
        One record per layer, with its ``import_id``.
    """
    at = write_instant(valid_from)
    stamp = format_instant(at)
    present = session.layer_names()
    olds = {
        layer: session.read_layer(layer)
        for _, _, layer, mode in items
        if mode != "replace" and layer in present
    }
    records = []
    for gdf, ready, layer, mode in items:
        _check_order(session, layer, at)
        idcol = get_schema(layer).id_column
        state = _new_state(olds.get(layer), ready, layer, mode)
        hashes = row_hashes(ready)
        changes = diff_hashes(
            session.current_versions(layer),
            dict(zip(ready[idcol].tolist(), hashes, strict=True)),
            removing=mode == "replace",
        )
        record = make_provenance(
            gdf, state, layer=layer, mode=mode, source=source, valid_from=stamp, changes=changes
        )
        import_id = session.insert_import(record)
        record = dataclasses.replace(record, import_id=import_id)
        session.close_versions(layer, changes.closing, at=stamp, import_id=import_id)
        opening = ready[idcol].isin(set(changes.opening)).to_numpy()
        session.open_versions(layer, ready[opening], hashes[opening], at=stamp, import_id=import_id)
        session.replace_layer(layer, state)
        records.append(record)
    return records
