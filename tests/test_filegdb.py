"""File Geodatabases: written with domains, read back by GDAL, imported (issue 16)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs import filegdb as gdb_out
from kosovo_cmr.schema import SCHEMAS
from kosovo_cmr.sources.filegdb import filegdb_domains, read_filegdb, read_filegdb_layers
from kosovo_cmr.store import open_store

needs_ogr2ogr = pytest.mark.skipif(
    shutil.which("ogr2ogr") is None, reason="GDAL's ogr2ogr (.ci/setup.d/gdal-bin.sh)"
)
#: The distribution's ogrinfo, an outside reader of what we write.
needs_ogrinfo = pytest.mark.skipif(
    shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo (.ci/setup.d/gdal-bin.sh)"
)


def kcmr(store, *args):
    return CliRunner().invoke(cli, ["--store", str(store), *args], catch_exceptions=False)


def ogrinfo_domain(path, name) -> dict[str, str]:
    """The coded values of a domain as the distribution's ogrinfo prints them."""
    out = subprocess.run(["ogrinfo", "-ro", str(path), "-fielddomain", name],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    codes = {}
    for line in out.split("Coded values:")[1].splitlines()[1:]:
        if not line.startswith("    "):
            break
        code, text = line.strip().split(": ", 1)
        codes[code] = text
    return codes


@needs_ogrinfo
@pytest.mark.parametrize("ogr2ogr", [True, False], ids=["ogr2ogr", "in-process"])
def test_export_gdb_is_read_back_by_gdal_with_every_feature_field_and_coded_value(
    demo_store, tmp_path, monkeypatch, ogr2ogr
):
    """The domains are written by GDAL in the process (pyogrio's library), or by ogr2ogr."""
    if ogr2ogr:
        if shutil.which("ogr2ogr") is None:
            pytest.skip("GDAL's ogr2ogr (.ci/setup.d/gdal-bin.sh)")
        monkeypatch.setattr(gdb_out._gdal_api, "available", lambda: False)
    else:  # after the README's install alone: no GDAL tools on the machine
        monkeypatch.setattr(gdb_out, "ogr2ogr_path", lambda: None)
        assert gdb_out._gdal_api.available()
    out = tmp_path / "hazards.gdb"
    result = kcmr(demo_store.uri, "export", "--layer", "hazards", "--format", "gdb", "-o", str(out))
    assert result.exit_code == 0, result.output
    stored = demo_store.read("hazards")
    back = pyogrio.read_dataframe(out, layer="hazards")
    assert len(back) == len(stored) == 86
    assert set(stored.columns) - {"geometry"} <= set(back.columns)
    stored, back = (
        stored.set_index("hazard_id"),
        back.set_index("hazard_id").loc[stored["hazard_id"]],
    )
    for column in ("kind", "status", "priority", "operator", "municipality", "verification"):
        assert back[column].fillna("").tolist() == stored[column].fillna("").tolist(), column
    assert (
        pd.to_datetime(back["recorded"]).dt.date == pd.to_datetime(stored["recorded"]).dt.date
    ).all()
    assert back["synthetic"].astype(bool).all()
    # Esri rings run clockwise and coordinates snap to the geodatabase's resolution
    gap = shapely.hausdorff_distance(back.geometry.values, stored.geometry.values)
    assert gap.max() < 1e-8
    # every coded value, read by GDAL (ogrinfo) and by our reader of GDB_Items
    domains = filegdb_domains(out)
    for column in SCHEMAS["hazards"].columns:
        if column.kind == "text" and column.allowed:
            name = f"cvd_hazards_{column.name}"
            assert domains.fields["hazards"][column.name] == name
            assert ogrinfo_domain(out, name) == {v: v for v in column.allowed}
            assert set(domains.domains[name]) == set(column.allowed)
    again = kcmr(demo_store.uri, "export", "--layer", "hazards", "--format", "gdb", "-o", str(out))
    assert again.exit_code == 1 and "--overwrite" in again.stderr


def test_gdb_round_trip_through_the_importer_loses_nothing(demo_store, tmp_path):
    out = tmp_path / "releases.gdb"
    assert kcmr(demo_store.uri, "export", "--layer", "releases", "-o", str(out)).exit_code == 0
    store = tmp_path / "back.gpkg"
    result = kcmr(store, "import", str(out), "--layer", "releases", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["read"] == report["imported"] == len(demo_store.read("releases"))
    before = demo_store.read("releases").set_index("release_id").sort_index()
    after = open_store(store).read("releases").set_index("release_id").sort_index()
    assert list(after.index) == list(before.index)
    for column in SCHEMAS["releases"].column_names:
        if column == "release_id":
            continue
        a, b = after[column], before[column]
        if column in ("date", "verified_on"):
            a, b = pd.to_datetime(a).dt.date, pd.to_datetime(b).dt.date
        assert plain(a) == plain(b), column


def plain(series) -> list:
    """Values with every missing value as None (NaN never equals NaN)."""
    return [None if pd.isna(v) else v for v in series]


def imsma_core_gdb(tmp_path):
    """A File Geodatabase with IMSMA Core style fields and a coded domain, made by GDAL.

    The field names are those of layers/mappings/imsma_core.toml (imsma_id and
    imsma_links as GICHD imsma-core-doc documents them); hazard_type is coded 1/2 with
    the descriptions in the domain cvd_hazard_type.
    """
    gpkg = tmp_path / "imsma.gpkg"
    frame = gpd.GeoDataFrame(
        {
            "imsma_id": ["hazard_poly_1", "hazard_poly_2"],
            "imsma_links": ["accident_3", ""],
            "hazard_localid": ["KS-HA-0001", "KS-HA-0002"],
            "hazard_type": pd.Series([1, 2], dtype="int32"),
            "hazard_status": ["active", "active"],
            "organisation": ["HALO", "NPA"],
            "date_of_report": ["2024-05-02", "2024-06-30"],
        },
        geometry=[box(21.10, 42.60, 21.11, 42.61), box(20.70, 42.20, 20.71, 42.21)],
        crs=4326,
    )
    pyogrio.write_dataframe(frame, gpkg, layer="HazardPolygons", driver="GPKG")
    with sqlite3.connect(gpkg) as db:
        db.executescript(
            """
            CREATE TABLE gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
              name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT,
              PRIMARY KEY (table_name, column_name));
            CREATE TABLE gpkg_data_column_constraints (constraint_name TEXT NOT NULL,
              constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN,
              max NUMERIC, max_is_inclusive BOOLEAN, description TEXT);
            INSERT INTO gpkg_extensions VALUES ('gpkg_data_columns', NULL, 'gpkg_schema',
              'http://www.geopackage.org/spec/#extension_schema', 'read-write');
            INSERT INTO gpkg_extensions VALUES ('gpkg_data_column_constraints', NULL,
              'gpkg_schema', 'http://www.geopackage.org/spec/#extension_schema', 'read-write');
            INSERT INTO gpkg_data_columns VALUES ('HazardPolygons', 'hazard_type', 'hazard_type',
              NULL, NULL, NULL, 'cvd_hazard_type');
            INSERT INTO gpkg_data_column_constraints VALUES
              ('cvd_hazard_type', 'enum', '1', NULL, NULL, NULL, NULL, 'Confirmed Hazardous Area'),
              ('cvd_hazard_type', 'enum', '2', NULL, NULL, NULL, NULL, 'Suspected Hazardous Area');
            """
        )
    out = tmp_path / "imsma.gdb"
    subprocess.run(["ogr2ogr", "-f", "OpenFileGDB", str(out), str(gpkg)], check=True,
                   capture_output=True)  # fmt: skip
    return out


@needs_ogr2ogr
def test_imsma_core_gdb_imports_with_the_shipped_mapping(tmp_path):
    src = imsma_core_gdb(tmp_path)
    assert ogrinfo_domain(src, "cvd_hazard_type") == {
        "1": "Confirmed Hazardous Area", "2": "Suspected Hazardous Area",
    }  # fmt: skip
    store = tmp_path / "s.gpkg"
    result = kcmr(store, "import", str(src), "--layer", "hazards", "--mapping", "imsma_core")
    assert result.exit_code == 0, result.output
    assert "hazards.hazard_type" not in result.stdout  # the layer is HazardPolygons
    assert (
        "HazardPolygons.hazard_type: 2 coded value(s) of domain 'cvd_hazard_type'" in result.stdout
    )
    assert (
        "--mapping imsma_core: " in result.stdout and "hazard_localid -> hazard_id" in result.stdout
    )
    hazards = open_store(store).read("hazards").set_index("hazard_id").sort_index()
    assert list(hazards.index) == ["KS-HA-0001", "KS-HA-0002"]
    assert list(hazards["kind"]) == ["CHA", "SHA"]  # 1, 2 -> descriptions -> the schema's codes
    assert list(hazards["operator"]) == ["HALO", "NPA"]
    assert str(hazards["recorded"].iloc[1])[:10] == "2024-06-30"


@needs_ogr2ogr
def test_zipped_gdb_and_every_layer(tmp_path):
    src = imsma_core_gdb(tmp_path)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in src.iterdir():
            z.write(f, f"imsma.gdb/{f.name}")
    data = read_filegdb(archive)
    assert len(data) == 2 and list(data.frame["hazard_type"]) == [
        "Confirmed Hazardous Area", "Suspected Hazardous Area",
    ]  # fmt: skip
    layers = read_filegdb_layers(src)
    assert list(layers) == ["HazardPolygons"] and layers["HazardPolygons"].crs.to_epsg() == 4326
    raw = read_filegdb(src, decode_domains=False)
    assert list(raw.frame["hazard_type"]) == [1, 2]


def test_writer_without_gdal_keeps_the_coded_values_as_a_table(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(gdb_out, "ogr2ogr_path", lambda: None)
    monkeypatch.setattr(gdb_out._gdal_api, "available", lambda: False)
    frame = gpd.GeoDataFrame({"hazard_id": ["A"], "kind": ["CHA"]},
                             geometry=[box(21, 42.5, 21.01, 42.51)], crs=4326)  # fmt: skip
    out = gdb_out.to_filegdb({"hazards": frame}, tmp_path / "plain.gdb")
    assert "ogr2ogr" in caplog.text and gdb_out.DOMAINS_TABLE in caplog.text
    table = pyogrio.read_dataframe(out, layer=gdb_out.DOMAINS_TABLE)
    kinds = table[table["field"] == "kind"]
    assert set(kinds["code"]) == {"CHA", "SHA", "unclassified"}
    assert set(kinds["domain"]) == {"cvd_hazards_kind"}
    assert list(pyogrio.read_dataframe(out, layer="hazards")["kind"]) == ["CHA"]


def test_not_a_geodatabase_and_several_layers(tmp_path):
    folder = tmp_path / "empty.gdb"
    folder.mkdir()
    with pytest.raises(InputError, match="not a File Geodatabase"):
        read_filegdb(folder)
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[box(21, 42.5, 21.01, 42.51)], crs=4326)
    two = gdb_out.to_filegdb({"one": frame, "two": frame}, tmp_path / "two.gdb")
    with pytest.raises(InputError, match="pick one with --src-layer"):
        read_filegdb(two)
    assert len(read_filegdb(two, src_layer="two")) == 1
    with pytest.raises(InputError, match="a folder named .gdb"):
        gdb_out.to_filegdb(frame, tmp_path / "x.gpkg")


def test_a_geodatabase_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    from kosovo_cmr import settings

    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[box(21, 42.5, 21.01, 42.51)], crs=4326)
    out = gdb_out.to_filegdb(frame, tmp_path / "small.gdb")
    monkeypatch.setattr(settings, "import_max_bytes", 100)
    with pytest.raises(InputError, match="over the limit"):
        read_filegdb(out)


def test_a_folder_that_is_not_a_geodatabase_is_refused_by_the_cli(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    result = kcmr(tmp_path / "s.gpkg", "import", str(folder), "--layer", "hazards")
    assert result.exit_code == 1 and "not a File Geodatabase" in result.stderr


@needs_ogr2ogr
def test_export_with_the_imsma_mapping_keeps_the_domains_and_imports_back(demo_store, tmp_path):
    out = tmp_path / "imsma.gdb"
    result = kcmr(demo_store.uri, "export", "--layer", "hazards", "--format", "gdb",
                  "--mapping", "imsma_core", "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    fields = filegdb_domains(out).fields["hazards"]
    assert fields["hazard_type"] == "cvd_hazards_kind" and "kind" not in fields
    columns = set(pyogrio.read_info(out, layer="hazards")["fields"])
    assert {"hazard_localid", "hazard_type", "date_of_report"} <= columns
    store = tmp_path / "back.gpkg"
    back = kcmr(store, "import", str(out), "--layer", "hazards", "--mapping", "imsma_core")
    assert back.exit_code == 0, back.output
    before = demo_store.read("hazards").set_index("hazard_id").sort_index()
    after = open_store(store).read("hazards").set_index("hazard_id").sort_index()
    assert list(after.index) == list(before.index)
    assert plain(after["kind"]) == plain(before["kind"])
    assert plain(after["operator"]) == plain(before["operator"])
