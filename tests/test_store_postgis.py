"""The PostGIS store against a live server: same behaviour as the GeoPackage store.

The server is the one named by KCMR_TEST_POSTGRES_URL (default: the role and database
that .ci/setup.d/postgis.sh creates). Without a server these tests skip locally, with a
message; in CI they fail instead. Each test works in its own PostgreSQL schema, dropped
afterwards.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
import uuid

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import in_ci
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import MultiPolygon, Point, Polygon

from kosovo_cmr.errors import SchemaError, StoreError
from kosovo_cmr.schema import LAYERS, conform
from kosovo_cmr.store import open_store

pytestmark = pytest.mark.postgis

DEFAULT_URL = "postgresql://kcmr:kcmr@127.0.0.1:5432/kcmr_test"
TEST_URL = os.environ.get("KCMR_TEST_POSTGRES_URL", DEFAULT_URL)

pytest.importorskip("sqlalchemy", reason="the 'postgis' extra is not installed")
pytest.importorskip("psycopg", reason="the 'postgis' extra is not installed")
pytest.importorskip("geoalchemy2", reason="the 'postgis' extra is not installed")

import psycopg  # noqa: E402
from psycopg import sql as pgsql  # noqa: E402


def _libpq_dsn(url: str) -> str:
    return url.split("?", 1)[0]


@pytest.fixture(scope="session")
def pg_server():
    """The test server's URL; skip (locally) or fail (in CI) when it does not answer."""
    try:
        with psycopg.connect(_libpq_dsn(TEST_URL), connect_timeout=5) as conn:
            conn.execute("SELECT postgis_version()")
    except psycopg.Error as exc:
        message = (
            f"no PostGIS server at {TEST_URL.split('@')[-1]} ({str(exc).strip().splitlines()[0]}); "
            "run .ci/setup.d/postgis.sh as root or set KCMR_TEST_POSTGRES_URL"
        )
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return TEST_URL


@pytest.fixture
def pg_url(pg_server):
    """A store URL in a fresh PostgreSQL schema of the test database, dropped afterwards."""
    schema = f"kcmr_test_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in pg_server else "?"
    yield f"{pg_server}{sep}schema={schema}"
    with psycopg.connect(_libpq_dsn(pg_server), autocommit=True) as conn:
        conn.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pgsql.Identifier(schema)))


def _schema_of(url: str) -> str:
    return url.rsplit("schema=", 1)[1]


def _query(url: str, statement: str, params=()):
    with psycopg.connect(_libpq_dsn(url)) as conn:
        return conn.execute(statement, params).fetchall()


# --- small explicit layers, with extra columns of every kind ----------------------------


def _square(x, y, d=0.01):
    return Polygon([(x, y), (x + d, y), (x + d, y + d), (x, y + d)])


def hazards_layer():
    return gpd.GeoDataFrame(
        {
            "hazard_id": ["H-1", "H-2", "H-3"],
            "kind": ["CHA", "SHA", "CHA"],
            "status": ["active", "released", "removed"],
            "municipality": ["Pejë", "Prizren", None],
            "region": ["West", "South", "North"],
            "priority": ["high", None, "low"],
            "operator": ["HALO", "NPA", "KSF"],
            "ordnance": ["BLU-97", "BL755", "unknown"],
            "recorded": pd.to_datetime(["2019-03-01", "2020-07-15", "2024-02-29"]),
            "closed": pd.to_datetime([None, "2024-05-01", "2024-09-30"]),
            "note": ['quote \' and "double"', "semi; DROP TABLE hazards; --", "tab\there"],
            "count_n": np.array([1, 2, 3], dtype="int64"),
            "share": [0.5, np.nan, 1.25],
            "checked": [True, False, True],
        },
        geometry=[
            _square(20.3, 42.6),
            MultiPolygon([_square(20.7, 42.2), _square(20.75, 42.25)]),
            _square(20.9, 42.9),
        ],
        crs="EPSG:4326",
    )


def evidence_layer(ids, *, seed=0):
    rng = np.random.default_rng(seed)
    n = len(ids)
    return gpd.GeoDataFrame(
        {
            "evidence_id": list(ids),
            "hazard_id": ["H-1" if i % 2 else None for i in range(n)],
            "item": rng.choice(["submunition", "fragments", "crater"], n),
            "ordnance": rng.choice(["BLU-97", "BL755"], n),
            "found": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "accuracy_m": rng.uniform(1, 10, n).round(3),
            "synthetic": True,
        },
        geometry=gpd.points_from_xy(rng.uniform(20.1, 21.7, n), rng.uniform(41.9, 43.2, n)),
        crs="EPSG:4326",
    )


def strikes_layer():
    frame = gpd.GeoDataFrame(
        {
            "strike_id": ["S-1", "S-2"],
            "date": pd.to_datetime(["1999-04-12", None]),
            "munition": ["CBU-87", "RBL755"],
            "bombs": [2, 1],
            "length_m": [450.0, 300.5],
            "width_m": [200.0, np.nan],
            "bearing_deg": [45.0, 350.0],
        },
        geometry=[Point(7_480_000, 4_700_000), Point(7_500_000, 4_720_000)],
        crs="EPSG:9141",  # not the storage CRS: the store reprojects
    )
    return frame


def releases_layer():
    return gpd.GeoDataFrame(
        {
            "release_id": ["R-1", "R-2", "R-3"],
            "hazard_id": [None, "H-2", "H-2"],
            "method": ["cancellation_nts", "reduction_ts", "clearance"],
            "operator": ["NPA", "HALO", "KSF"],
            "date": pd.to_datetime(["2024-03-01", "2024-05-01", "2024-06-01"]),
            "district": ["Gracanica", "Prizren", "East"],
            "submunitions": [0, 0, 12],
            "ap_mines": [0, 0, 0],
            "other_uxo": [0, 1, 2],
            "cmr_found": [False, False, True],
        },
        geometry=[
            MultiPolygon(),  # NPA's record with no area
            MultiPolygon([_square(20.7, 42.2, 0.002)]),
            MultiPolygon([_square(20.75, 42.25, 0.003)]),
        ],
        crs="EPSG:4326",
    )


@pytest.fixture
def sample_layers(municipalities):
    return {
        "hazards": hazards_layer(),
        "evidence": evidence_layer([f"E-{i}" for i in range(50)]),
        "strikes": strikes_layer(),
        "releases": releases_layer(),
        "boundaries": municipalities,
    }


# --- the same behaviour as the GeoPackage store -----------------------------------------


def test_open_store_dispatches_and_hides_password(pg_url):
    from kosovo_cmr.store.postgis import PostGISStore

    store = open_store(pg_url)
    assert isinstance(store, PostGISStore)
    assert "kcmr:kcmr@" not in store.uri and "***" in store.uri
    assert store.uri.endswith(f"schema={_schema_of(pg_url)}")
    assert store.layers() == []


@pytest.mark.parametrize("layer", ["hazards", "evidence", "strikes", "releases", "boundaries"])
def test_layer_reads_back_as_the_geopackage_store_reads_it(pg_url, tmp_path, sample_layers, layer):
    gdf = sample_layers[layer]
    gpkg = open_store(tmp_path / "s.gpkg")
    pg = open_store(pg_url)
    gpkg.write(gdf, layer, source="test")
    pg.write(gdf, layer, source="test")
    from_gpkg = gpkg.read(layer)
    from_pg = pg.read(layer)
    assert from_pg.crs == "EPSG:4326"
    assert len(from_pg) == len(gdf)
    assert_geodataframe_equal(from_pg, from_gpkg, check_less_precise=False)
    assert list(from_pg.dtypes.astype(str)) == list(from_gpkg.dtypes.astype(str))


@pytest.mark.parametrize("rows", [7, 50, 1000])
def test_read_chunks_concatenate_to_read(pg_url, rows):
    store = open_store(pg_url)
    store.write(evidence_layer([f"E-{i}" for i in range(50)]), "evidence")
    chunks = list(store.read_chunks("evidence", rows))
    assert [len(c) for c in chunks][:-1] == [rows] * (len(chunks) - 1)
    whole = pd.concat(chunks, ignore_index=True)
    assert_geodataframe_equal(whole, store.read("evidence"), check_less_precise=False)
    store.write(evidence_layer([]), "evidence")
    (only,) = list(store.read_chunks("evidence", rows))
    assert len(only) == 0 and list(only.columns) == list(whole.columns)


def test_read_chunks_see_one_snapshot_and_a_writer_waits_for_the_last(pg_url):
    import threading

    store = open_store(pg_url)
    before = evidence_layer([f"E-{i}" for i in range(30)])
    store.write(before, "evidence")
    chunks = store.read_chunks("evidence", 10)
    done = threading.Event()
    errors = []

    def replace():
        try:
            open_store(pg_url).write(evidence_layer(["X-1", "X-2"]), "evidence")
        except Exception as exc:  # reported below
            errors.append(exc)
        done.set()

    try:
        first = next(chunks)
        writer = threading.Thread(target=replace)
        writer.start()
        assert not done.wait(3)  # the writer waits while the snapshot is being read
        rest = list(chunks)
    finally:
        chunks.close()
    writer.join(60)
    assert done.is_set() and not errors
    ids = pd.concat([first, *rest])["evidence_id"].tolist()
    assert ids == before["evidence_id"].tolist()  # all from the one snapshot
    assert store.read("evidence")["evidence_id"].tolist() == ["X-1", "X-2"]


def test_empty_geometry_and_dates_survive(pg_url):
    store = open_store(pg_url)
    store.write(releases_layer(), "releases")
    back = store.read("releases")
    assert back.geometry.iloc[0].is_empty and back.geometry.iloc[0].geom_type == "MultiPolygon"
    assert str(back["date"].dtype) == "datetime64[ms]"
    assert back["date"].iloc[1] == pd.Timestamp("2024-05-01")
    assert back["cmr_found"].tolist() == [False, False, True]


def test_values_with_sql_syntax_are_stored_verbatim(pg_url):
    store = open_store(pg_url)
    store.write(hazards_layer(), "hazards")
    assert store.read("hazards")["note"].tolist() == hazards_layer()["note"].tolist()
    # the table named in the value still exists and is intact
    assert len(store.read("hazards")) == 3


def test_provenance_matches_the_geopackage_columns(pg_url, tmp_path):
    pg = open_store(pg_url)
    gpkg = open_store(tmp_path / "s.gpkg")
    for store in (pg, gpkg):
        store.write(strikes_layer(), "strikes", source="strikes.csv")
        store.write(evidence_layer(["E-1", "E-2"]), "evidence", source="a.gpx")
        store.write(evidence_layer(["E-3"], seed=1), "evidence", mode="append", source="b.gpx")
    prov_pg, prov_gpkg = pg.provenance(), gpkg.provenance()
    assert list(prov_pg.columns) == list(prov_gpkg.columns)
    assert list(prov_pg.dtypes.astype(str)) == list(prov_gpkg.dtypes.astype(str))
    assert prov_pg[["layer", "mode", "source", "feature_count"]].values.tolist() == [
        ["strikes", "replace", "strikes.csv", 2],
        ["evidence", "replace", "a.gpx", 2],
        ["evidence", "append", "b.gpx", 3],
    ]
    assert (prov_pg["source_crs"] == ["EPSG:9141", "EPSG:4326", "EPSG:4326"]).all()
    assert (prov_pg["stored_crs"] == "EPSG:4326").all()
    assert pg.provenance("evidence")["source"].tolist() == ["a.gpx", "b.gpx"]
    info = pg.info()
    assert info["layer"].tolist() == ["evidence", "strikes"]
    assert info["features"].tolist() == [3, 2]


def test_append_refuses_duplicate_ids_and_changes_nothing(pg_url):
    store = open_store(pg_url)
    store.write(evidence_layer(["E-1", "E-2"]), "evidence")
    before = store.read("evidence")
    with pytest.raises(StoreError, match="duplicate 1 id"):
        store.write(evidence_layer(["E-2", "E-9"], seed=3), "evidence", mode="append")
    assert_geodataframe_equal(store.read("evidence"), before)
    assert len(store.provenance()) == 1


def test_schema_violations_write_nothing(pg_url):
    store = open_store(pg_url)
    bad = evidence_layer(["E-1", "E-1"])
    bad.loc[0, "item"] = "banana"
    with pytest.raises(SchemaError) as info:
        store.write(bad, "evidence")
    codes = {v.code for v in info.value.violations}
    assert {"duplicate_id", "value_not_allowed"} <= codes
    assert store.layers() == []
    assert len(store.provenance()) == 0


def test_missing_crs_is_refused(pg_url):
    store = open_store(pg_url)
    with pytest.raises(Exception, match="no CRS"):
        store.write(evidence_layer(["E-1"]).set_crs(None, allow_override=True), "evidence")


def test_a_failure_inside_the_transaction_leaves_the_old_layer(pg_url, monkeypatch):
    from kosovo_cmr.store import _pg_session

    store = open_store(pg_url)
    store.write(evidence_layer(["E-1", "E-2"]), "evidence")
    before = store.read("evidence")
    real_copy = _pg_session._copy
    calls = []

    def copy_then_fail(*args, **kwargs):  # fault injection after the new rows are loaded
        real_copy(*args, **kwargs)
        calls.append(args[2])
        if len(calls) == 2:  # the versions, then the layer's staging table
            raise RuntimeError("injected failure")

    monkeypatch.setattr(_pg_session, "_copy", copy_then_fail)
    with pytest.raises(RuntimeError, match="injected"):
        store.write(evidence_layer([f"N-{i}" for i in range(20)]), "evidence")
    assert calls == ["kcmr_evidence_versions", "evidence__kcmr_new"]
    assert_geodataframe_equal(store.read("evidence"), before)
    assert len(store.provenance()) == 1
    assert store.versions("evidence")["evidence_id"].tolist() == ["E-1", "E-2"]
    tables = {
        r[0]
        for r in _query(
            pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = %s", (_schema_of(pg_url),)
        )
    }
    assert tables == {"evidence", "kcmr_provenance", "kcmr_evidence_versions", "kcmr_meta"}


def test_write_many_is_all_or_nothing(pg_url, sample_layers):
    store = open_store(pg_url)
    store.write(strikes_layer(), "strikes")
    bad = evidence_layer(["E-1"])
    bad["item"] = "banana"
    with pytest.raises(SchemaError):
        store.write_many({"hazards": hazards_layer(), "evidence": bad})
    assert store.layers() == ["strikes"]
    records = store.write_many({"hazards": hazards_layer(), "releases": releases_layer()})
    assert [r.layer for r in records] == ["hazards", "releases"]
    assert store.layers() == ["hazards", "strikes", "releases"]


def test_tables_have_gist_index_srid_and_primary_key(pg_url):
    store = open_store(pg_url)
    store.write(hazards_layer(), "hazards")
    store.write(hazards_layer(), "hazards")  # a second replace must not clash on names
    schema = _schema_of(pg_url)
    indexes = _query(
        pg_url,
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
        (schema, "hazards"),
    )
    defs = dict(indexes)
    assert "USING gist (geom)" in defs["hazards_geom_gist"]
    assert "hazards_pkey" in defs
    ((srid, gtype),) = _query(
        pg_url,
        "SELECT srid, type FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s",
        (schema, "hazards"),
    )
    assert (srid, gtype) == (4326, "MULTIPOLYGON")


def test_create_false_refuses_an_empty_store(pg_url):
    with pytest.raises(StoreError, match="store not found"):
        open_store(pg_url, create=False)
    open_store(pg_url).write(strikes_layer(), "strikes")
    assert open_store(pg_url, create=False).layers() == ["strikes"]


def test_unknown_layer_and_absent_layer(pg_url):
    store = open_store(pg_url)
    with pytest.raises(StoreError, match="not in store"):
        store.read("hazards")
    with pytest.raises(SchemaError, match="unknown layer"):
        store.read("roads")


def test_unreachable_server_is_a_store_error():
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://kcmr:secret@127.0.0.1:1/nowhere")


def test_bad_schema_name_is_refused():
    with pytest.raises(StoreError, match="schema must be"):
        open_store("postgresql://kcmr@127.0.0.1/x?schema=Robert'); DROP")


def test_a_waiting_writer_gives_up_cleanly(pg_url):
    from kosovo_cmr.store.postgis import PostGISStore

    store = PostGISStore(pg_url, lock_timeout_s=1)
    store.write(evidence_layer(["E-1"]), "evidence")
    key = f"kosovo_cmr:{_schema_of(pg_url)}"
    with psycopg.connect(_libpq_dsn(pg_url)) as holder:  # another writer, mid-transaction
        holder.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
        with pytest.raises(StoreError, match="busy"):
            store.write(evidence_layer(["E-2"]), "evidence", mode="append")
    assert store.read("evidence")["evidence_id"].tolist() == ["E-1"]
    assert len(store.provenance()) == 1


# --- two processes writing at once --------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pyogrio
    from kosovo_cmr.errors import KcmrError
    from kosovo_cmr.store import open_store

    url, data, ready, go = sys.argv[1:5]
    gdf = pyogrio.read_dataframe(data)
    store = open_store(url)
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.002)
    try:
        store.write(gdf, "evidence", mode="append", source=data)
    except KcmrError as exc:
        print(f"kcmr: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    """
)


def _run_two_writers(url, tmp_path, batches):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    go = tmp_path / "go"
    procs, readies = [], []
    for i, batch in enumerate(batches):
        data = tmp_path / f"batch{i}.gpkg"
        batch.to_file(data, driver="GPKG")
        ready = tmp_path / f"ready{i}"
        readies.append(ready)
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script), url, str(data), str(ready), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 60
    while not all(r.exists() for r in readies):
        assert time.monotonic() < deadline, "writer processes did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        results.append((p.returncode, err))
    return results


def _expected(*frames):
    frame = pd.concat([conform(f, "evidence") for f in frames], ignore_index=True)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
    return frame.sort_values("evidence_id").reset_index(drop=True)


def _stored(store):
    return store.read("evidence").sort_values("evidence_id").reset_index(drop=True)


def test_two_concurrent_appends_both_land_in_full(pg_url, tmp_path):
    store = open_store(pg_url)
    base = evidence_layer([f"BASE-{i}" for i in range(10)], seed=1)
    store.write(base, "evidence", source="base")
    a = evidence_layer([f"A-{i:05d}" for i in range(3000)], seed=2)
    b = evidence_layer([f"B-{i:05d}" for i in range(3000)], seed=3)
    results = _run_two_writers(pg_url, tmp_path, [a, b])
    assert [code for code, _ in results] == [0, 0], results
    stored = _stored(store)
    assert len(stored) == 6010
    assert_geodataframe_equal(stored, _expected(base, a, b))
    prov = store.provenance("evidence")
    assert sorted(prov["feature_count"].tolist()) == [10, 3010, 6010]


def test_two_concurrent_appends_with_clashing_ids_one_fails_cleanly(pg_url, tmp_path):
    store = open_store(pg_url)
    a = evidence_layer([f"E-{i:05d}" for i in range(0, 2000)], seed=4)
    b = evidence_layer([f"E-{i:05d}" for i in range(1990, 3990)], seed=5)  # 10 shared ids
    results = _run_two_writers(pg_url, tmp_path, [a, b])
    codes = sorted(code for code, _ in results)
    assert codes == [0, 4], results
    loser_err = next(err for code, err in results if code == 4)
    assert loser_err.startswith("kcmr: error: append to 'evidence' would duplicate 10 id(s)")
    assert "Traceback" not in loser_err
    winner = a if results[0][0] == 0 else b
    assert_geodataframe_equal(_stored(store), _expected(winner))
    assert store.provenance("evidence")["feature_count"].tolist() == [2000]


# --- copying between stores and the command line ------------------------------------------


def test_round_trip_gpkg_postgis_gpkg_keeps_everything(pg_url, tmp_path, sample_layers):
    from kosovo_cmr.store.copy import copy_store

    first = open_store(tmp_path / "first.gpkg")
    first.write_many(sample_layers, source="fixtures")
    records = copy_store(first, pg_url)
    assert [r.layer for r in records] == list(sample_layers)
    back = tmp_path / "back.gpkg"
    copy_store(pg_url, back)
    second = open_store(back)
    pg = open_store(pg_url)
    assert second.layers() == first.layers() == pg.layers()
    for layer in first.layers():
        original = first.read(layer)
        for copy in (pg.read(layer), second.read(layer)):
            assert copy.crs == original.crs == "EPSG:4326"
            assert list(copy.dtypes.astype(str)) == list(original.dtypes.astype(str))
            assert_geodataframe_equal(copy, original)
    assert pg.provenance()["source"].str.startswith("kcmr store copy from ").all()


def test_copy_only_some_layers_and_refuse_absent(pg_url, tmp_path, sample_layers):
    from kosovo_cmr.store.copy import copy_store

    src = open_store(tmp_path / "src.gpkg")
    src.write(sample_layers["hazards"], "hazards")
    src.write(sample_layers["strikes"], "strikes")
    copy_store(src, pg_url, layers=["strikes"])
    assert open_store(pg_url).layers() == ["strikes"]
    with pytest.raises(StoreError, match="'evidence' is not in store"):
        copy_store(src, pg_url, layers=["evidence"])
    with pytest.raises(StoreError, match="same store"):
        copy_store(pg_url, pg_url)


def test_cli_store_copy_and_info(pg_url, tmp_path, sample_layers):
    from kosovo_cmr.cli.main import cli

    src = tmp_path / "src.gpkg"
    open_store(src).write_many({k: sample_layers[k] for k in ("hazards", "releases")})
    runner = CliRunner()
    result = runner.invoke(cli, ["store", "copy", str(src), pg_url])
    assert result.exit_code == 0, result.output
    assert "hazards: 3 features" in result.output
    assert "releases: 3 features" in result.output
    result = runner.invoke(cli, ["--store", pg_url, "info", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"features": 3' in result.output
    assert "kcmr:kcmr@" not in result.output
    result = runner.invoke(cli, ["store", "copy", str(tmp_path / "missing.gpkg"), pg_url])
    assert result.exit_code == 4
    assert result.output.startswith("kcmr: error: store not found")


def test_cli_unreachable_server_is_one_line(tmp_path):
    from kosovo_cmr.cli.main import cli

    result = CliRunner().invoke(
        cli, ["--store", "postgresql://kcmr:secret@127.0.0.1:1/none", "info"]
    )
    assert result.exit_code == 4
    assert result.output.count("\n") == 1
    assert "secret" not in result.output


def test_demo_on_postgis_holds_what_the_geopackage_demo_holds(pg_url, demo_store, tmp_path):
    from kosovo_cmr.demo import load_layers, run_demo

    ctx = run_demo(tmp_path / "out", store=pg_url, steps=[load_layers])
    assert ctx.store.layers() == demo_store.layers()
    for layer in demo_store.layers():
        assert_geodataframe_equal(ctx.store.read(layer), demo_store.read(layer))
    info_pg = ctx.store.info().drop(columns=["last_written"])
    info_gpkg = demo_store.info().drop(columns=["last_written"])
    pd.testing.assert_frame_equal(info_pg, info_gpkg)


def test_cli_demo_with_a_postgis_store(pg_url, tmp_path):
    from kosovo_cmr.cli.main import cli

    result = CliRunner().invoke(
        cli, ["--store", pg_url, "demo", "--out", str(tmp_path / "demo")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "store: postgresql://kcmr:***@" in result.output
    assert "evidence: " in result.output
    # every layer the schema knows: the demo writes each (incidents: issue 18; activities
    # and devices: issue 15), the same as on a GeoPackage
    assert open_store(pg_url).layers() == list(LAYERS)


def test_cli_dask_engine_reads_a_postgis_store_in_chunks(pg_url, demo_store, monkeypatch):
    from kosovo_cmr.analysis import engine
    from kosovo_cmr.cli.main import cli
    from kosovo_cmr.store.copy import copy_store

    pytest.importorskip("dask_geopandas")
    copy_store(demo_store.uri, pg_url)
    monkeypatch.setattr(engine, "POINTS_PER_PARTITION", 400)  # several chunks and partitions
    runner = CliRunner()
    base = ["--store", pg_url, "buffer-impact", "--by", "hazard", "--format", "csv"]
    local = runner.invoke(cli, base, catch_exceptions=False)
    dask = runner.invoke(cli, [*base, "--engine", "dask"], catch_exceptions=False)
    assert local.exit_code == 0 and dask.exit_code == 0, dask.output
    assert len(local.output.splitlines()) > 3
    a = pd.read_csv(io.StringIO(local.output))
    b = pd.read_csv(io.StringIO(dask.output))
    pd.testing.assert_frame_equal(b, a, rtol=1e-4)
