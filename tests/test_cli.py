"""The ``kcmr`` group: versions, help, ``info``, and errors as one line with an exit code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kosovo_cmr.cli.main import COMMANDS, cli

LAYERS = {"hazards", "evidence", "strikes", "releases", "boundaries"}
#: The full demo also writes the SYNTHETIC incidents (issue 18), activities and devices
#: (issue 15).
DEMO_LAYERS = LAYERS | {"incidents", "activities", "devices"}


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_version_names_the_libraries():
    result = invoke("--version")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["kcmr", "GDAL", "GEOS", "PROJ"]
    assert all(len(line.split()) == 2 for line in lines[:4])


def test_help_lists_every_subcommand_and_each_loads():
    result = invoke("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
        sub = invoke(name, "--help")
        assert sub.exit_code == 0, (name, sub.output)
        assert "Usage: " in sub.output


def test_python_dash_m_runs_the_same_command():
    done = subprocess.run(
        [sys.executable, "-m", "kosovo_cmr", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.startswith("kcmr ")


def test_info_lists_the_five_layers(demo_store):
    result = invoke("--store", demo_store.uri, "info")
    assert result.exit_code == 0, result.output
    for name in LAYERS:
        assert name in result.output
    assert "EPSG:4326" in result.output


def test_info_json_has_counts_areas_and_provenance(demo_store):
    result = invoke("--store", demo_store.uri, "info", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    rows = {row["layer"]: row for row in doc["layers"]}
    assert set(rows) == LAYERS
    assert rows["boundaries"]["features"] == 38
    assert rows["hazards"]["features"] == len(demo_store.read("hazards"))
    assert rows["hazards"]["area_m2"] > 0
    assert all(row.get("source") for row in rows.values())


def test_missing_store_is_one_line_and_exit_4(tmp_path):
    result = invoke("--store", str(tmp_path / "nowhere.gpkg"), "info")
    assert result.exit_code == 4
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kcmr: error: ")


def test_bad_input_is_exit_1_and_usage_is_exit_2(tmp_path):
    garbage = tmp_path / "x.shp"
    garbage.write_bytes(b"not a shapefile")
    bad = invoke("demo", "--out", str(tmp_path / "d"), "--boundaries", str(garbage))
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines()[-1].startswith("kcmr: error: cannot read boundaries")
    assert "Traceback" not in bad.output
    usage = invoke("info", "--format", "yaml")
    assert usage.exit_code == 2


def test_unexpected_errors_are_one_line_unless_verbose(demo_store, monkeypatch):
    from kosovo_cmr.store import gpkg

    def boom(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(gpkg.GeoPackageStore, "info", boom)
    quiet = invoke("--store", demo_store.uri, "info")
    assert quiet.exit_code == 70
    assert "disk on fire" in quiet.output and "Traceback" not in quiet.output
    loud = invoke("-v", "--store", demo_store.uri, "info")
    assert loud.exit_code == 70
    assert "Traceback" in loud.output


@pytest.mark.slow
def test_demo_then_info_from_a_fresh_process(tmp_path, boundaries_path):
    """The README path: ``kcmr demo`` builds a store that ``kcmr info`` then lists."""
    out = tmp_path / "demo"
    kcmr = [sys.executable, "-m", "kosovo_cmr"]
    done = subprocess.run(
        [*kcmr, "demo", "--out", str(out), "--boundaries", str(boundaries_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "SYNTHETIC" in done.stdout
    info = subprocess.run(
        [*kcmr, "--store", str(out / "kcmr.gpkg"), "info", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert info.returncode == 0, info.stderr
    assert {row["layer"] for row in json.loads(info.stdout)["layers"]} == DEMO_LAYERS
    _geojson_outputs_are_rfc7946(out)


def _coordinates(value):
    if value and isinstance(value[0], (int, float)):
        yield value
    else:
        for part in value:
            yield from _coordinates(part)


def _geojson_outputs_are_rfc7946(out):
    """Issue 19: every GeoJSON the demo writes is RFC 7946 and says SYNTHETIC per feature."""
    written = sorted(out.glob("*.geojson"))
    assert {p.name for p in written} >= {
        "fadeout-rings.geojson",
        "evidence-audit-unsupported.geojson",
        "strikes-inferred.geojson",
    }
    for path in written:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert "crs" not in data, f"{path.name}: RFC 7946 has no crs member"
        assert data["features"], path.name
        for feature in data["features"]:
            assert feature["properties"]["synthetic"] is True, path.name
            for x, y in (c[:2] for c in _coordinates(feature["geometry"]["coordinates"])):
                assert 20.0 < x < 21.9 and 41.8 < y < 43.3, (path.name, x, y)  # lon, lat
                assert len(repr(x).split(".")[-1]) <= 7, (path.name, x)  # 7 decimals


@pytest.mark.parametrize(
    "command",
    [
        ["overlay"],
        ["buffer-impact", "--by", "municipality"],
        ["forecast", "--what", "scenarios"],
        ["report", "--year", "2024"],
    ],
)
def test_a_table_output_takes_its_format_from_the_file_name(demo_store, tmp_path, command):
    """``-o x.json`` writes JSON and ``-o x.csv`` CSV when --format is not given."""
    runner = CliRunner()
    for suffix in (".json", ".csv"):
        out = tmp_path / f"{command[0]}{suffix}"
        done = runner.invoke(cli, ["--store", demo_store.uri, *command, "-o", str(out)])
        assert done.exit_code == 0, done.output
        text = out.read_text(encoding="utf-8")
        if suffix == ".json":
            json.loads(text)
        else:
            header = text.splitlines()[0]
            assert "," in header and not header.startswith(("{", "#", "|")), header
