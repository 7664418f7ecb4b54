"""``kcmr fadeout``, ``kcmr buffer-impact`` and ``kcmr cha-check`` through click."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from click.testing import CliRunner

from kosovo_cmr.analysis.fadeout import union_area_m2
from kosovo_cmr.cli.main import cli


@pytest.fixture
def run(demo_store):
    def invoke(*args):
        return CliRunner().invoke(cli, ["--store", demo_store.uri, *args])

    return invoke


def test_buffer_impact_by_municipality_json_total_is_the_whole_union(run, demo_store):
    res = run(
        "buffer-impact",
        "--from",
        "kosovo-pre-2024",
        "--to",
        "kosovo-nmas-2024",
        "--by",
        "municipality",
        "--format",
        "json",
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["from"] == "kosovo-pre-2024" and doc["by"] == "municipality"
    evidence = demo_store.read("evidence")
    assert doc["total"]["area_from_m2"] == pytest.approx(
        union_area_m2(evidence, "kosovo-pre-2024"), rel=1e-12
    )
    assert doc["total"]["area_to_m2"] == pytest.approx(
        union_area_m2(evidence, "kosovo-nmas-2024"), rel=1e-12
    )
    assert sum(r["area_to_m2"] for r in doc["rows"]) == pytest.approx(
        doc["total"]["area_to_m2"], rel=1e-9
    )


def test_buffer_impact_table_csv_and_uniform_distances(run):
    table = run("buffer-impact", "--by", "region")
    assert table.exit_code == 0, table.output
    assert "total" in table.stdout and "North" in table.stdout
    csv = run("buffer-impact", "--from-distance", "50", "--to-distance", "25", "--format", "csv")
    assert csv.exit_code == 0, csv.output
    lines = csv.stdout.strip().splitlines()
    assert lines[0] == "group,evidence,area_from_m2,area_to_m2,saved_m2,saved_pct"
    assert [line.split(",")[0] for line in lines[1:]] == ["all", "total"]
    # a uniform halving of the distance saves between 50 % and 75 % of the area
    pct = float(lines[-1].split(",")[-1])
    assert 50 < pct < 75


def test_buffer_impact_writes_rings_and_refuses_overwrite(run, tmp_path):
    rings = tmp_path / "rings.gpkg"
    out = tmp_path / "impact.json"
    first = run("buffer-impact", "--format", "json", "-o", str(out), "--rings", str(rings))
    assert first.exit_code == 0, first.output
    layer = gpd.read_file(rings)
    assert len(layer) > 0 and layer.crs.to_epsg() == 4326
    assert json.loads(out.read_text())["total"]["saved_m2"] == pytest.approx(
        layer.area_m2.sum(), rel=1e-9
    )
    again = run("buffer-impact", "-o", str(out))
    assert again.exit_code == 1
    assert "--overwrite" in again.stderr
    assert run("buffer-impact", "-o", str(out), "--overwrite").exit_code == 0


def test_fadeout_command(run, tmp_path):
    out = tmp_path / "clusters.geojson"
    res = run("fadeout", "--rule", "kosovo-pre-2024", "-o", str(out), "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    clusters = gpd.read_file(out)
    assert len(clusters) == len(doc["clusters"])
    assert doc["area_m2"] == pytest.approx(clusters.area_m2.sum())
    table = run("fadeout", "--distance", "10")
    assert table.exit_code == 0 and "uniform-10m" in table.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["fadeout", "--rule", "no-such-rule"], "no fade-out rule"),
        (["fadeout", "--rule", "kosovo-pre-2024", "--distance", "5"], "not both"),
        (["fadeout", "--distance", "-5"], "positive"),
        (["buffer-impact", "-o", "/no/such/folder/x.json"], "does not exist"),
        (["fadeout", "-o", "clusters.txt"], ".gpkg"),
    ],
)
def test_errors_are_one_line_with_exit_code_1(run, args, message):
    res = run(*args)
    assert res.exit_code == 1
    assert message in res.stderr
    assert "Traceback" not in res.output
    assert len(res.stderr.strip().splitlines()) == 1


def test_bad_by_is_a_usage_error(run):
    assert run("buffer-impact", "--by", "district").exit_code == 2


def test_cha_check(run):
    res = run("cha-check", "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rule"] == "kosovo-nmas-2024"
    checks = {f["check"] for f in doc["findings"]}
    assert checks <= {"fadeout_outside_hazard", "evidence_outside_hazards"}
    table = run("cha-check", "--all-hazards")
    assert table.exit_code == 0 and "evidence point(s) in no hazard" in table.stdout
