"""Schema versions of a store, and the steps that bring an older store up to date.

A store records the version of its layout in a table ``kcmr_meta`` (``key``,
``value``; the key ``schema_version``). Versions so far:

=======  ==================================================================
version  layout
=======  ==================================================================
1        release 0.1.0: the layers and ``kcmr_provenance``; no ``kcmr_meta``
2        history: ``kcmr_<layer>_versions`` per layer, seven more columns in
         ``kcmr_provenance`` (``import_id``, ``valid_from``, ``source_sha256``,
         ``command``, ``added``, ``changed``, ``removed``), ``kcmr_meta``
3        the programme's records (issue 15): ``verification``, ``verified_on``,
         ``verified_by`` and the benchmark and reference point (``benchmark_id``,
         ``_lon``, ``_lat``; ``reference_...``) of hazards and releases,
         ``depth_cm`` of releases, ``evidence_class``, ``evidence_source`` and
         ``depth_cm`` of evidence; the layers ``activities`` and ``devices`` are
         created by their first write
4        what the surveyor typed (issue 16): ``entered_points``,
         ``entered_crs``, ``bearing_reference`` and ``declination_deg`` of
         hazards and releases (:mod:`kosovo_cmr.sources.entered`)
=======  ==================================================================

:func:`kosovo_cmr.store.open_store` migrates an older store in place when it opens it,
inside ONE transaction (every feature and every provenance row kept; a failure changes
nothing), and logs a notice saying what it did. A store newer than this package can be
read but not written.

Adding a step
-------------
A step is a :class:`Migration` appended to :data:`MIGRATIONS` with the next version
number; :data:`SCHEMA_VERSION` follows it. Its ``apply`` receives the open
:class:`MigrationSession` (the backend's transaction: GeoPackage or PostGIS alike) and
the layers as they were read before anything changed. To add a column to a layer::

    def _add_colour(session, layers):
        session.rehash_versions(["hazards"])     # only for a column with a default
        session.add_column("hazards", Column("colour", "text", default="red"))

    MIGRATIONS.append(Migration(4, "colour of hazards", _add_colour))

``add_column`` adds the column to the layer's table and to its versions table, filled
with the column's default (or left empty). A column filled with a default changes what
each version holds, so the step first calls ``session.rehash_versions([layer])`` (before
it writes: the GeoPackage backend reads with GDAL, which sees the file as it was): the
row hashes are recomputed for the schema with the column, and the next write of the same
features finds them unchanged (an empty column is no value and changes no hash). The
schema in :mod:`kosovo_cmr.schema` gets the column in the same change. A test in
``tests/test_migrate.py`` builds a store at the previous version and checks that it
opens, migrates and reads back. Step 3 (:func:`_add_records`) is an example.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import geopandas as gpd
import pandas as pd

from kosovo_cmr._version import __version__
from kosovo_cmr.schema import Column, get_schema
from kosovo_cmr.store.base import make_provenance
from kosovo_cmr.store.versions import format_instant, row_hashes
from kosovo_cmr.store.writing import Session

__all__ = [
    "SCHEMA_VERSION",
    "META_TABLE",
    "Migration",
    "MigrationSession",
    "MIGRATIONS",
    "RECORDS_COLUMNS",
    "ENTERED_COLUMNS",
    "migrate",
    "meta_rows",
]

log = logging.getLogger(__name__)

#: Table holding the store's schema version and who migrated it.
META_TABLE = "kcmr_meta"


class MigrationSession(Session, Protocol):
    """What a migration step may do, on either backend, inside the migration's transaction."""

    def extend_provenance(self) -> None:
        """Add the provenance columns of version 2; number the existing rows."""

    def last_written(self, layer: str) -> pd.Timestamp | None:
        """When the layer was last written, from its provenance rows (UTC), or ``None``."""

    def add_column(self, layer: str, column: Column) -> None:
        """Add a column to a layer's table and its versions table, filled with its default."""

    def set_meta(self, values: dict[str, str]) -> None:
        """Write keys of ``kcmr_meta`` (creating the table)."""

    def rehash_versions(self, layers) -> int:
        """Recompute the row hashes of the versions of some layers (before other writes)."""


@dataclass(frozen=True)
class Migration:
    """One step: what brings a store from ``version - 1`` to ``version``."""

    version: int
    summary: str
    apply: Callable[[MigrationSession, dict[str, gpd.GeoDataFrame]], None]


def _start_history(session: MigrationSession, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Version 2: every feature present becomes the first version of its history.

    The first versions are valid from the layer's last write (the latest time the store
    knows the layer was as it is), and belong to one import per layer whose mode is
    ``migrate``; the older provenance rows stay as they were, numbered.
    """
    session.extend_provenance()
    now = pd.Timestamp.now(tz="UTC").floor("ms")
    for layer, frame in layers.items():
        since = session.last_written(layer) or now
        stamp = format_instant(since)
        record = make_provenance(
            frame,
            frame,
            layer=layer,
            mode="migrate",
            source="features present when the history began (store schema 1 to 2)",
            valid_from=stamp,
        )
        record = _with_counts(record, added=len(frame))
        import_id = session.insert_import(record)
        session.open_versions(layer, frame, row_hashes(frame), at=stamp, import_id=import_id)


def _with_counts(record, *, added: int):
    return dataclasses.replace(record, added=added, changed=0, removed=0, source_sha256=None)


#: Columns each layer gained with schema version 3 (issue 15: the programme's records).
RECORDS_COLUMNS: dict[str, tuple[str, ...]] = {
    "hazards": (
        "verification", "verified_on", "verified_by", "benchmark_id", "benchmark_lon",
        "benchmark_lat", "reference_id", "reference_lon", "reference_lat",
    ),
    "releases": (
        "verification", "verified_on", "verified_by", "depth_cm", "benchmark_id",
        "benchmark_lon", "benchmark_lat", "reference_id", "reference_lon", "reference_lat",
    ),
    "evidence": ("evidence_class", "evidence_source", "depth_cm"),
}  # fmt: skip


def _add_records(session: MigrationSession, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Version 3: the columns of the programme's records, empty or at their default.

    Hazards and releases a store holds were never verified in it: they become
    ``reported`` (awaiting verification), said in a notice; ``kcmr verify`` records
    the national authority's verification. Every other new column is empty. The row
    hashes of every version are recomputed (:func:`kosovo_cmr.store.versions.row_hashes`),
    so that writing the same features again changes nothing.
    """
    # every version's hash first (a backend may read only before the transaction writes):
    # the defaults of the new columns, and a missing text value counted as no value, as
    # the hashes of this release count it (release 0.2 under pandas 3 hashed it as "nan")
    session.rehash_versions(sorted(layers))
    present = [layer for layer in RECORDS_COLUMNS if layer in layers]
    for layer in present:
        schema = get_schema(layer)
        for name in RECORDS_COLUMNS[layer]:
            session.add_column(layer, schema.column(name))
    pending = {n: len(layers[n]) for n in ("hazards", "releases") if n in layers}
    if any(pending.values()):
        log.warning(
            "store schema 3: %s had no verification recorded and are now 'reported' "
            "(awaiting verification); record the national authority's with kcmr verify",
            " and ".join(f"{n} {layer}" for layer, n in pending.items()),
        )


#: Columns hazards and releases gained with schema version 4 (issue 16: what the
#: surveyor typed, kosovo_cmr.sources.entered).
ENTERED_COLUMNS: dict[str, tuple[str, ...]] = {
    layer: ("entered_points", "entered_crs", "bearing_reference", "declination_deg")
    for layer in ("hazards", "releases")
}


def _add_entered(session: MigrationSession, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Version 4: the turning points as typed, empty for every feature already stored.

    The new columns have no default, so no version's hash changes (an empty column is no
    value) and nothing is rehashed.
    """
    for layer in ENTERED_COLUMNS:
        if layer in layers:
            schema = get_schema(layer)
            for name in ENTERED_COLUMNS[layer]:
                session.add_column(layer, schema.column(name))


#: The steps, in order; the last one's version is :data:`SCHEMA_VERSION`.
MIGRATIONS: list[Migration] = [
    Migration(
        2,
        "history: versions of every feature, the import that made each, schema version",
        _start_history,
    ),
    Migration(
        3,
        "records: verification, benchmarks, evidence class and source, depths",
        _add_records,
    ),
    Migration(
        4,
        "what the surveyor typed: entered turning points, CRS, bearing reference",
        _add_entered,
    ),
]

#: The layout this package writes.
SCHEMA_VERSION: int = MIGRATIONS[-1].version


def meta_rows() -> dict[str, str]:
    """Return the ``kcmr_meta`` rows a store at :data:`SCHEMA_VERSION` holds."""
    return {
        "schema_version": str(SCHEMA_VERSION),
        "package_version": __version__,
        "updated_at": format_instant(pd.Timestamp.now(tz="UTC")),
    }


def migrate(session: MigrationSession, *, from_version: int, uri: str) -> list[str]:
    """Run every step above ``from_version`` in the session's transaction.

    The layers are read first, before anything changes. Returns one line per step run
    (the notice also goes to the log at WARNING level).
    """
    steps = [m for m in MIGRATIONS if m.version > from_version]
    layers = {name: session.read_layer(name) for name in sorted(session.layer_names())}
    done = []
    for step in steps:
        step.apply(session, layers)
        done.append(f"{step.version}: {step.summary}")
    session.set_meta(meta_rows())
    if steps:
        features = sum(len(f) for f in layers.values())
        log.warning(
            "migrated store %s from schema version %d to %d in place (%s); %d feature(s) "
            "in %d layer(s) kept",
            uri,
            from_version,
            SCHEMA_VERSION,
            "; ".join(done),
            features,
            len(layers),
        )
    return done
