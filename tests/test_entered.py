"""What the surveyor typed: kept beside the computed polygon, written back, migrated."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from test_store_postgis import pg_server, pg_url  # noqa: F401  (the PostGIS fixtures)

from kosovo_cmr.cli.main import cli
from kosovo_cmr.outputs.entered_points import turning_point_table
from kosovo_cmr.store import open_store
from kosovo_cmr.store.migrate import ENTERED_COLUMNS, SCHEMA_VERSION

#: A hazard typed in UTM 34N (X/Y), an MGRS reference and grid legs; a benchmark outside.
TABLE = """\
PolyID,PointNo,PointID,PointType,X,Y,MGRS,Bearing,Distance,From,Kind,Recorded
KS-HA-0042,1,BM1,BM,505000.0,4720000.0,,,,,CHA,2024-05-02
KS-HA-0042,2,SP,SP,,,,45,141.4214,BM1,CHA,2024-05-02
KS-HA-0042,3,TP1,TP,505200.00,4720100.00,,,,,CHA,2024-05-02
KS-HA-0042,4,TP2,TP,,,34TEN0520020200,,,,CHA,2024-05-02
KS-HA-0042,5,TP3,TP,,,,270,100.0,TP2,CHA,2024-05-02
KS-HA-0042,6,EP,EP,,,,180.0,100,TP3,CHA,2024-05-02
"""


def kcmr(store, *args):
    return CliRunner().invoke(cli, ["--store", str(store), *args], catch_exceptions=False)


def import_table(tmp_path, src, store):
    result = kcmr(store, "import", str(src), "--layer", "hazards", "--crs", "EPSG:32634",
                  "--bearing", "grid", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    return open_store(store).read("hazards")


def test_the_cells_as_typed_are_kept_beside_the_polygon(tmp_path):
    src = tmp_path / "tp.csv"
    src.write_text(TABLE, encoding="utf-8")
    hazard = import_table(tmp_path, src, tmp_path / "s.gpkg").iloc[0]
    points = json.loads(hazard["entered_points"])
    assert [p["point_id"] for p in points] == ["BM1", "SP", "TP1", "TP2", "TP3", "EP"]
    assert [p["format"] for p in points] == ["xy", "leg", "xy", "mgrs", "leg", "leg"]
    assert (points[2]["entered_x"], points[2]["entered_y"]) == ("505200.00", "4720100.00")
    assert points[3]["entered_mgrs"] == "34TEN0520020200"  # as typed, not re-formatted
    assert (points[1]["bearing"], points[1]["distance"], points[1]["from_point"]) == (
        "45", "141.4214", "BM1",
    )  # fmt: skip
    assert hazard["entered_crs"] == "EPSG:32634"
    assert hazard["bearing_reference"] == "grid" and pd.isna(hazard["declination_deg"])
    # the computed positions, beside: SP 100 m east and north of the benchmark
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(32634, 4326, always_xy=True).transform(505100.0, 4720100.0)
    assert (points[1]["lon"], points[1]["lat"]) == pytest.approx((lon, lat), abs=1e-7)


def test_the_turning_points_are_written_back_and_import_to_the_same_hazard(tmp_path):
    src = tmp_path / "tp.csv"
    src.write_text(TABLE, encoding="utf-8")
    first = import_table(tmp_path, src, tmp_path / "a.gpkg")
    out = tmp_path / "back.csv"
    result = kcmr(tmp_path / "a.gpkg", "export", "--layer", "hazards", "--format",
                  "turning-points", "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table["PointID"]) == ["BM1", "SP", "TP1", "TP2", "TP3", "EP"]
    assert list(table["X"])[:3] == ["505000.0", "", "505200.00"]  # the text typed
    assert set(table["EnteredCRS"]) == {"EPSG:32634"} and set(table["BearingReference"]) == {"grid"}
    second = import_table(tmp_path, out, tmp_path / "b.gpkg")
    assert list(second["hazard_id"]) == ["KS-HA-0042"]
    assert shapely.hausdorff_distance(first.geometry.iloc[0], second.geometry.iloc[0]) < 1e-9
    assert second["entered_points"].iloc[0] == first["entered_points"].iloc[0]
    for column in ("kind", "recorded", "benchmark_id", "entered_crs", "bearing_reference"):
        assert second[column].iloc[0] == first[column].iloc[0], column


def test_features_drawn_not_typed_have_no_turning_points(demo_store, tmp_path):
    assert turning_point_table(demo_store.read("hazards")).empty
    result = kcmr(demo_store.uri, "export", "--layer", "hazards", "--format", "turning-points",
                  "-o", str(tmp_path / "none.csv"))  # fmt: skip
    assert result.exit_code == 1 and "only polygons imported from a turning-point" in result.stderr


def test_duplicate_turning_point_ids_are_found_by_validate(tmp_path):
    src = tmp_path / "dup.csv"
    typed = TABLE.replace(",5,TP3,", ",5,TP2 ,").replace(",TP3,CHA", ",TP2,CHA")
    src.write_text(typed, encoding="utf-8")
    result = kcmr(tmp_path / "none.gpkg", "validate", str(src), "--layer", "hazards",
                  "--crs", "EPSG:32634", "--bearing", "grid")  # fmt: skip
    # the CSV reader trims cells: "TP2 " is read as "TP2", a second point of that id
    assert (
        "duplicate_point_id at (505100.500053 4720200.500409) KS-HA-0042: turning point "
        "id 'TP2' repeats 'TP2'" in result.stdout
    )


# --- schema 3 to 4 -------------------------------------------------------------------------


def build_v3_store(path, layers) -> None:
    """A store as schema 3 left it: written by this release, the columns of 4 dropped."""
    import sqlite3

    open_store(path).write_many(layers, source="kcmr demo")
    with sqlite3.connect(path) as conn:
        for name, columns in ENTERED_COLUMNS.items():
            for table in (name, f"kcmr_{name}_versions"):
                for col in columns:
                    conn.execute(f'ALTER TABLE "{table}" DROP COLUMN "{col}"')
        conn.execute("UPDATE kcmr_meta SET value = '3' WHERE key = 'schema_version'")


@pytest.fixture(scope="module")
def demo_layers(demo_store):
    return {name: demo_store.read(name) for name in demo_store.layers()}


def test_a_schema_3_geopackage_migrates_to_4(tmp_path, demo_layers, caplog):
    path = tmp_path / "v3.gpkg"
    build_v3_store(path, demo_layers)
    with caplog.at_level(logging.WARNING, logger="kosovo_cmr.store.migrate"):
        store = open_store(path, create=False)
    assert SCHEMA_VERSION == 4 and store.schema_version == 4
    assert "from schema version 3 to 4" in caplog.text and "what the surveyor typed" in caplog.text
    for name, frame in demo_layers.items():
        pd.testing.assert_frame_equal(store.read(name), frame)
    assert store.read("hazards")["entered_points"].isna().all()
    records = store.write_many(demo_layers, source="the same layers again")
    assert [(r.added, r.changed, r.removed) for r in records] == [(0, 0, 0)] * len(records)


@pytest.mark.postgis
def test_a_schema_3_postgis_store_migrates_to_4(pg_url, demo_layers):  # noqa: F811
    import psycopg
    from test_store_postgis import _libpq_dsn, _schema_of

    store = open_store(pg_url)
    store.write_many(demo_layers, source="kcmr demo")
    schema = _schema_of(pg_url)
    with psycopg.connect(_libpq_dsn(pg_url)) as conn:
        for name, columns in ENTERED_COLUMNS.items():
            for table in (name, f"kcmr_{name}_versions"):
                for col in columns:
                    conn.execute(f'ALTER TABLE "{schema}"."{table}" DROP COLUMN {col}')
        conn.execute(f"UPDATE \"{schema}\".kcmr_meta SET value = '3' WHERE key = 'schema_version'")
    reopened = open_store(pg_url)
    assert reopened.schema_version == 4
    for name in demo_layers:
        assert len(reopened.read(name)) == len(demo_layers[name])
    assert "entered_points" in reopened.read("releases").columns
    again = reopened.write(reopened.read("hazards"), "hazards", source="the same hazards")
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
