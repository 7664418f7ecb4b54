"""A store written by release 0.1.0 opens, migrates in place and reports identically.

The 0.1.0 layout (schema version 1), built here as that release wrote it:

- a GeoPackage made by GDAL (pyogrio ``write_dataframe``, driver GPKG): one feature
  table per layer (``hazards``, ``evidence``, ``strikes``, ``releases``,
  ``boundaries``; ``fid`` and ``geom`` columns, MultiPolygons promoted) and an
  attribute table ``kcmr_provenance`` with ten columns, one row per write: ``layer``,
  ``mode``, ``source``, ``written_at`` (ISO time with ``+00:00``), ``source_crs``,
  ``stored_crs``, ``feature_count``, ``package_version``, ``gdal_version``, ``user``;
- no ``kcmr_meta``, no versions tables.

On PostGIS the 0.1.0 layout is the same tables in the store's schema (layers with
``kcmr_fid`` and ``geom``; ``kcmr_provenance`` with an identity ``id`` and the ten
columns); it is built by writing with this release and removing what version 2 added.
"""

from __future__ import annotations

import json
import logging

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from test_store_postgis import pg_server, pg_url  # noqa: F401  (the PostGIS fixtures)

from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import StoreError
from kosovo_cmr.schema import LAYERS
from kosovo_cmr.store import open_store
from kosovo_cmr.store.base import Store, provenance_frame
from kosovo_cmr.store.migrate import ENTERED_COLUMNS, RECORDS_COLUMNS, SCHEMA_VERSION
from kosovo_cmr.workflows.report import report_from_store

#: The columns schemas 3 (records) and 4 (what the surveyor typed, issue 16) added: a
#: store of schema 1 or 2 has none of them.
LATER_COLUMNS = {
    name: RECORDS_COLUMNS.get(name, ()) + ENTERED_COLUMNS.get(name, ())
    for name in {**RECORDS_COLUMNS, **ENTERED_COLUMNS}
}

OLD_PROVENANCE = (
    "layer", "mode", "source", "written_at", "source_crs", "stored_crs", "feature_count",
    "package_version", "gdal_version", "user",
)  # fmt: skip


def build_v1_store(path, layers: dict) -> None:
    """Write ``layers`` as release 0.1.0 did (see the module notes)."""
    rows = []
    for i, (name, gdf) in enumerate(layers.items()):
        multi = gdf.geom_type.iloc[0].endswith("Polygon") if len(gdf) else False
        pyogrio.write_dataframe(
            gdf, path, layer=name, driver="GPKG", promote_to_multi=multi or None
        )
        rows.append(
            [name, "replace", "kcmr demo", f"2025-01-0{i + 1}T10:00:00+00:00", "EPSG:4326",
             "EPSG:4326", len(gdf), "0.1.0", "3.9.0", "officer@kmac"]
        )  # fmt: skip
    pyogrio.write_dataframe(
        pd.DataFrame(rows, columns=list(OLD_PROVENANCE)), path, layer="kcmr_provenance",
        driver="GPKG",
    )  # fmt: skip


class FrozenStore(Store):
    """The layers of a store held in memory, read as they were (the 'before' of a report)."""

    def __init__(self, layers: dict, provenance: pd.DataFrame):
        self._layers, self._prov, self.uri = layers, provenance, "memory"

    def layers(self):
        return [n for n in LAYERS if n in self._layers]

    def read(self, layer):
        return self._layers[layer].copy()

    def read_chunks(self, layer, rows):
        yield self.read(layer)

    def provenance(self, layer=None):
        return self._prov

    def versions(self, layer, *, ids=None, at=None):
        raise NotImplementedError

    schema_version = 1

    def write(self, *args, **kwargs):
        raise NotImplementedError

    write_many = write


@pytest.fixture(scope="module")
def demo_layers(demo_store):
    """The demo layers without the columns schema 3 added (as releases 0.1 and 0.2 had)."""
    return {
        name: demo_store.read(name).drop(columns=list(LATER_COLUMNS.get(name, ())))
        for name in demo_store.layers()
    }


def _v1_layers_as_read(path) -> dict:
    """The layers of an older file read with GDAL and conformed, as this release reads them."""
    from kosovo_cmr.schema import conform
    from kosovo_cmr.store._gpkg_session import read_table  # GDAL, times in naive UTC

    names = [n for n in LAYERS if n in {str(r[0]) for r in pyogrio.list_layers(path)}]
    return {n: conform(read_table(path, n), n) for n in names}


def test_a_0_1_geopackage_opens_migrates_and_reports_identically(
    tmp_path, demo_layers, boundaries_path, caplog
):
    path = tmp_path / "v1.gpkg"
    build_v1_store(path, demo_layers)
    before_layers = _v1_layers_as_read(path)
    old_prov = pyogrio.read_dataframe(path, layer="kcmr_provenance")
    before = report_from_store(FrozenStore(before_layers, provenance_frame(old_prov)), year=2024)

    with caplog.at_level(logging.WARNING, logger="kosovo_cmr.store.migrate"):
        store = open_store(path, create=False)
    assert (
        "migrated store" in caplog.text
        and f"from schema version 1 to {SCHEMA_VERSION}" in caplog.text
    )
    assert store.schema_version == SCHEMA_VERSION == 4
    for name in before_layers:  # every feature kept, each the first version of its history
        pd.testing.assert_frame_equal(store.read(name), before_layers[name])
        versions = store.versions(name)
        assert sorted(versions[versions.columns[0]]) == sorted(before_layers[name].iloc[:, 0])
        assert versions["valid_to"].isna().all()
    prov = store.provenance()
    assert prov["source"].tolist()[:5] == ["kcmr demo"] * 5  # every old row kept
    assert prov["import_id"].tolist() == list(range(1, 11))
    assert prov["valid_from"].iloc[0] == "2025-01-01T10:00:00.000Z"
    assert (prov["mode"].iloc[5:] == "migrate").all()

    runner = CliRunner()
    result = runner.invoke(
        cli, ["--store", str(path), "report", "--year", "2024", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    after = json.loads(result.output)
    before = json.loads(json.dumps(before, default=str))
    # the migrated store knows when its history began (its first versions): the report
    # says so; a store read without history cannot (issue 15). Every figure is the same.
    assert after["reconciliation"].pop("history_begins") == "2025-01-01T10:00:00.000Z"
    assert before["reconciliation"].pop("history_begins") is None
    assert {k: v for k, v in after.items() if k != "store"} == {
        k: v for k, v in before.items() if k != "store"
    }
    info = runner.invoke(cli, ["--store", str(path), "info", "--format", "json"])
    assert json.loads(info.output)["schema_version"] == SCHEMA_VERSION


def test_migration_is_one_transaction(tmp_path, demo_layers, monkeypatch):
    from kosovo_cmr.store import _gpkg_session

    path = tmp_path / "v1.gpkg"
    build_v1_store(path, demo_layers)
    before = path.read_bytes()
    real = _gpkg_session.GpkgSession.open_versions
    calls = []

    def fail_on_third(self, *args, **kwargs):
        real(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            raise OSError("crash in the middle of the migration (injected)")

    monkeypatch.setattr(_gpkg_session.GpkgSession, "open_versions", fail_on_third)
    with pytest.raises(StoreError, match="injected"):
        open_store(path)
    assert path.read_bytes() == before  # nothing of the migration landed
    monkeypatch.undo()
    assert open_store(path).schema_version == SCHEMA_VERSION


def test_a_newer_store_is_read_but_not_written(tmp_path, demo_layers):
    import sqlite3

    path = tmp_path / "s.gpkg"
    open_store(path).write(demo_layers["strikes"], "strikes")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE kcmr_meta SET value = '99' WHERE key = 'schema_version'")
    store = open_store(path)
    assert len(store.read("strikes")) == len(demo_layers["strikes"])
    with pytest.raises(StoreError, match="schema version 99, newer than this kcmr"):
        store.write(demo_layers["strikes"], "strikes")


def test_migration_steps_are_numbered_in_order():
    from kosovo_cmr.store.migrate import MIGRATIONS

    assert [m.version for m in MIGRATIONS] == list(range(2, SCHEMA_VERSION + 1))


@pytest.mark.postgis
def test_a_0_1_postgis_store_migrates(pg_url, demo_layers):  # noqa: F811
    import psycopg
    from test_store_postgis import _libpq_dsn, _schema_of

    store = open_store(pg_url)
    store.write_many(demo_layers, source="kcmr demo")
    schema = _schema_of(pg_url)
    with psycopg.connect(_libpq_dsn(pg_url)) as conn:  # back to the 0.1.0 layout
        for name in [*demo_layers, "meta"]:
            table = f"kcmr_{name}_versions" if name != "meta" else "kcmr_meta"
            conn.execute(f'DROP TABLE IF EXISTS "{schema}"."{table}"')
        for col in ("import_id", "valid_from", "source_sha256", "command", "added",
                    "changed", "removed"):  # fmt: skip
            conn.execute(f'ALTER TABLE "{schema}".kcmr_provenance DROP COLUMN {col}')
        for name, columns in LATER_COLUMNS.items():  # and what versions 3 and 4 added
            for col in columns:
                conn.execute(f'ALTER TABLE "{schema}"."{name}" DROP COLUMN IF EXISTS {col}')
    names = list(demo_layers)
    before = {name: store.read(name) for name in names}
    reopened = open_store(pg_url)
    assert reopened.schema_version == SCHEMA_VERSION
    for name in names:
        pd.testing.assert_frame_equal(reopened.read(name), before[name])
        assert len(reopened.versions(name)) == len(before[name])
    prov = reopened.provenance()
    assert prov["import_id"].tolist() == list(range(1, 11))
    assert (prov["mode"].iloc[5:] == "migrate").all()


# --- schema 2 (release 0.2: the history) to 3 (the programme's records) ------------------


def _v2_hash(frame, layer):
    """The row hash release 0.2 gave a version: its columns without those of schema 3."""
    from kosovo_cmr.schema import conform
    from kosovo_cmr.store.versions import VERSION_COLUMNS, row_hashes

    features = frame.drop(columns=["version_id", *VERSION_COLUMNS], errors="ignore")
    return row_hashes(conform(features, layer).drop(columns=list(LATER_COLUMNS[layer])))


def build_v2_store(path, layers: dict) -> None:
    """Write ``layers`` as release 0.2 (schema 2) left them: written by this release, then
    the columns of schema 3 dropped from the layers and their versions, the versions'
    hashes as 0.2 computed them, and ``schema_version`` 2 in ``kcmr_meta``."""
    import sqlite3

    open_store(path).write_many(layers, source="kcmr demo")
    hashes = {}
    for name in RECORDS_COLUMNS:
        if name in layers:
            versions = pyogrio.read_dataframe(
                path, layer=f"kcmr_{name}_versions", fid_as_index=True
            )
            hashes[name] = dict(zip(versions.index, _v2_hash(versions, name), strict=True))
    with sqlite3.connect(path) as conn:
        for name, columns in LATER_COLUMNS.items():
            if name not in layers:
                continue
            for table in (name, f"kcmr_{name}_versions"):
                for col in columns:
                    conn.execute(f'ALTER TABLE "{table}" DROP COLUMN "{col}"')
            conn.executemany(
                f'UPDATE "kcmr_{name}_versions" SET row_hash = ? WHERE fid = ?',
                [(h, int(fid)) for fid, h in hashes[name].items()],
            )
        conn.execute("UPDATE kcmr_meta SET value = '2' WHERE key = 'schema_version'")


def test_a_0_2_geopackage_opens_migrates_and_reports_identically(tmp_path, demo_layers, caplog):
    path = tmp_path / "v2.gpkg"
    build_v2_store(path, demo_layers)
    before_layers = _v1_layers_as_read(path)  # GDAL's reading, conformed by this release
    assert "verification" not in pyogrio.read_dataframe(path, layer="releases").columns
    versions_before = {
        n: pyogrio.read_dataframe(path, layer=f"kcmr_{n}_versions") for n in before_layers
    }
    old_prov = pyogrio.read_dataframe(path, layer="kcmr_provenance")
    before = report_from_store(FrozenStore(before_layers, provenance_frame(old_prov)), year=2024)

    with caplog.at_level(logging.WARNING, logger="kosovo_cmr.store.migrate"):
        store = open_store(path, create=False)
    assert f"from schema version 2 to {SCHEMA_VERSION}" in caplog.text
    n_hz, n_rl = len(demo_layers["hazards"]), len(demo_layers["releases"])
    assert f"{n_hz} hazards and {n_rl} releases had no verification recorded" in caplog.text
    assert store.schema_version == SCHEMA_VERSION
    for name, frame in before_layers.items():  # every feature kept, every version kept
        pd.testing.assert_frame_equal(store.read(name), frame)
        after = store.versions(name)
        assert len(after) == len(versions_before[name])
        assert (
            after["valid_from"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:23] + "Z"
        ).tolist() == versions_before[name]["valid_from"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[
            :23
        ].add("Z").tolist()  # noqa: E501
    assert (store.read("releases")["verification"] == "reported").all()
    assert store.read("evidence")["evidence_class"].isna().all()
    assert len(store.provenance()) == len(old_prov)  # a migration of columns adds no import

    result = CliRunner().invoke(
        cli, ["--store", str(path), "report", "--year", "2024", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    after = json.loads(result.output)
    before = json.loads(json.dumps(before, default=str))
    assert {k: v for k, v in after.items() if k != "store"} == {
        k: v for k, v in before.items() if k != "store"
    }
    # the hashes follow the new columns: writing the same features again changes nothing
    records = store.write_many(demo_layers, source="the same layers again")
    assert [(r.added, r.changed, r.removed) for r in records] == [(0, 0, 0)] * len(records)


@pytest.mark.postgis
def test_a_0_2_postgis_store_migrates_with_its_history(pg_url, demo_layers):  # noqa: F811
    import psycopg
    from test_store_postgis import _libpq_dsn, _schema_of

    from kosovo_cmr.store.history import feature_history

    store = open_store(pg_url)
    store.write_many(demo_layers, source="kcmr demo")
    hid = demo_layers["hazards"]["hazard_id"].iloc[0]
    moved = demo_layers["hazards"].iloc[[0]].assign(priority="low" if demo_layers["hazards"][
        "priority"].iloc[0] != "low" else "high")  # fmt: skip
    store.write(moved, "hazards", mode="upsert", source="a resubmission")
    schema = _schema_of(pg_url)
    versions = {n: store.versions(n) for n in LATER_COLUMNS}
    with psycopg.connect(_libpq_dsn(pg_url)) as conn:  # back to the 0.2 layout
        for name, columns in LATER_COLUMNS.items():
            for table in (name, f"kcmr_{name}_versions"):
                for col in columns:
                    conn.execute(f'ALTER TABLE "{schema}"."{table}" DROP COLUMN {col}')
            for vid, digest in zip(
                versions[name]["version_id"], _v2_hash(versions[name], name), strict=True
            ):
                conn.execute(
                    f'UPDATE "{schema}"."kcmr_{name}_versions" SET row_hash = %s '
                    "WHERE version_id = %s",
                    (digest, int(vid)),
                )
        conn.execute(f"UPDATE \"{schema}\".kcmr_meta SET value = '2' WHERE key = 'schema_version'")
    reopened = open_store(pg_url)
    assert reopened.schema_version == SCHEMA_VERSION
    history = feature_history(reopened, hid, layer="hazards")
    assert len(history) == 2 and history["changed_columns"].iloc[1] == "priority"
    assert (reopened.read("hazards")["verification"] == "reported").all()
    for name in demo_layers:
        assert len(reopened.versions(name)) == len(store.versions(name))
    again = reopened.write(reopened.read("hazards"), "hazards", source="the same hazards")
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
