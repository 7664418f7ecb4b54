"""Shipped field mappings: Survey123 and KoboToolbox exports import through --mapping."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError
from kosovo_cmr.import_mappings import read_mapping, shipped_mappings, source_renames
from kosovo_cmr.schema import SCHEMAS
from kosovo_cmr.store import open_store


def kcmr(store, *args):
    return CliRunner().invoke(cli, ["--store", str(store), *args], catch_exceptions=False)


def csv(rows, sep=",") -> str:
    return "".join(sep.join(row) + "\n" for row in rows)


SURVEY123_CSV = csv([
    ["ObjectID", "GlobalID", "CreationDate", "Creator", "EditDate", "Editor", "item_type",
     "ordnance_type", "gps_accuracy", "hazard_ref", "x", "y"],
    ["1", "{0b7c2a7e-1a2b-4c3d-9e8f-000000000001}", "2024-05-02 09:15:00", "halo_team3",
     "2024-05-02 09:15:00", "halo_team3", "submunition", "BLU-97", "4.5", "KS-HA-0001",
     "21.1650", "42.6630"],
    ["2", "{0b7c2a7e-1a2b-4c3d-9e8f-000000000002}", "2024-05-03 10:40:00", "halo_team3",
     "2024-05-03 10:40:00", "halo_team3", "fragments", "unknown", "6.0", "", "21.1661",
     "42.6642"],
])  # fmt: skip

KOBO_CSV = csv([
    ["start", "end", "item_type", "ordnance_type", "hazard_ref", "location",
     "_location_latitude", "_location_longitude", "_location_altitude",
     "_location_precision", "_id", "_uuid", "_submission_time"],
    ["2024-06-01T08:00:00", "2024-06-01T08:05:00", "submunition", "BL755", "",
     "42.3 21.4 500 3.9", "42.3001", "21.4002", "500", "3.9", "101",
     "5c2f0d6e-0000-4000-8000-000000000101", "2024-06-01T08:06:12"],
], sep=";")  # fmt: skip


@pytest.mark.parametrize("name", shipped_mappings())
def test_shipped_mappings_map_to_layer_columns(name):
    mapping = read_mapping(name)
    assert mapping.name == name and mapping.layers
    for layer, fields in mapping.layers.items():
        columns = set(SCHEMAS[layer].column_names) | {"lat", "lon"}  # lat/lon: the point
        assert set(fields.values()) <= columns, (name, layer)
    named = set(mapping.documented) | set(mapping.chosen)
    used = {s for fields in mapping.layers.values() for s in fields}
    assert used <= named | {"organisation", "hazard_localid"}, used - named


def test_survey123_csv_imports_with_the_mapping(tmp_path):
    src = tmp_path / "survey_0.csv"
    src.write_text(SURVEY123_CSV, encoding="utf-8")
    store = tmp_path / "s.gpkg"
    result = kcmr(store, "import", str(src), "--layer", "evidence", "--mapping", "survey123",
                  "--crs", "EPSG:4326", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 2
    evidence = open_store(store).read("evidence").sort_values("evidence_id")
    assert list(evidence["evidence_id"]) == [
        "{0b7c2a7e-1a2b-4c3d-9e8f-000000000001}", "{0b7c2a7e-1a2b-4c3d-9e8f-000000000002}",
    ]  # fmt: skip
    assert list(evidence["item"]) == ["submunition", "fragments"]
    assert list(evidence["accuracy_m"]) == [4.5, 6.0]
    assert evidence["hazard_id"].iloc[0] == "KS-HA-0001"
    assert str(evidence["found"].iloc[1])[:10] == "2024-05-03"
    assert evidence.geometry.iloc[0].x == pytest.approx(21.165)


def test_kobotoolbox_csv_imports_with_the_mapping(tmp_path):
    src = tmp_path / "kobo.csv"
    src.write_text(KOBO_CSV, encoding="utf-8")
    store = tmp_path / "s.gpkg"
    result = kcmr(store, "import", str(src), "--layer", "evidence", "--mapping", "kobotoolbox",
                  "--crs", "EPSG:4326")  # fmt: skip
    assert result.exit_code == 0, result.output
    evidence = open_store(store).read("evidence")
    assert list(evidence["evidence_id"]) == ["5c2f0d6e-0000-4000-8000-000000000101"]
    assert evidence["ordnance"].iloc[0] == "BL755" and evidence["accuracy_m"].iloc[0] == 3.9
    point = evidence.geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((21.4002, 42.3001))


def test_map_fields_wins_and_missing_fields_are_skipped():
    mapping = read_mapping("imsma_core")
    notices = []
    renames = source_renames(mapping, "hazards", ["hazard_localid", "Type"],
                             explicit={"Type": "kind"}, notices=notices)  # fmt: skip
    assert renames == {"hazard_localid": "hazard_id", "Type": "kind"}
    assert notices == ["--mapping imsma_core: 1 field(s) renamed (hazard_localid -> hazard_id)"]


def test_unknown_mapping_and_bad_file(tmp_path):
    with pytest.raises(InputError, match="shipped: imsma_core, kobotoolbox, survey123"):
        read_mapping("imsma")
    bad = tmp_path / "bad.toml"
    bad.write_text('[hazardz]\nA = "hazard_id"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown layer \[hazardz\]"):
        read_mapping(bad)
