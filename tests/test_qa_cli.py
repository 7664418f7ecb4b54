"""``kcmr validate`` on the real municipal boundaries: the QA findings, located."""

from __future__ import annotations

import json
import math

import pyogrio
import pytest
from click.testing import CliRunner

from kosovo_cmr.cli.main import cli


def validate(tmp_path, *args):
    runner = CliRunner()
    return runner.invoke(
        cli, ["--store", str(tmp_path / "none.gpkg"), "validate", *args], catch_exceptions=False
    )


def strict(text):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_text_names_the_spikes_duplicate_vertex_and_the_viti_kllokot_overlap(
    tmp_path, boundaries_path
):
    result = validate(tmp_path, str(boundaries_path), "--layer", "boundaries")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "QA of 40 boundaries feature(s): duplicate_vertex 1, spike 4, overlap 1" in out
    # where: the importer said only "spike 2" and "duplicate_vertices 1"
    assert "duplicate_vertex at (21.125884 42.629487) Prishtinë" in out
    assert "spike at (20.963634 42.183758) Prizren" in out
    assert "spike at (20.963582 42.183842) Shtërpcë" in out
    assert "overlap at (" in out and "Viti: overlaps 'Kllokot' by" in out
    assert "(23.40 km2)" in out


def test_gpkg_findings_open_in_gdal(tmp_path, boundaries_path):
    out = tmp_path / "findings.gpkg"
    result = validate(tmp_path, str(boundaries_path), "--layer", "boundaries",
                      "--format", "gpkg", "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    layers = {name: kind for name, kind in pyogrio.list_layers(out)}
    assert layers == {"qa_points": "Point", "qa_areas": "Polygon"}
    points = pyogrio.read_dataframe(out, layer="qa_points")
    assert sorted(points["code"]) == ["duplicate_vertex"] + ["spike"] * 4
    areas = pyogrio.read_dataframe(out, layer="qa_areas")
    assert list(areas["feature_id"]) == ["Viti"] and list(areas["other_id"]) == ["Kllokot"]
    assert areas["area_m2"].iloc[0] == pytest.approx(23.4e6, rel=0.005)
    assert areas.crs.to_epsg() == 4326
    again = validate(tmp_path, str(boundaries_path), "--layer", "boundaries",
                     "--format", "gpkg", "-o", str(out))  # fmt: skip
    assert again.exit_code == 1 and "--overwrite" in again.stderr


def test_gpkg_needs_an_output(tmp_path, boundaries_path):
    result = validate(tmp_path, str(boundaries_path), "--layer", "boundaries", "--format", "gpkg")
    assert result.exit_code == 2 and "--output" in result.stderr


def test_json_is_one_strict_object_with_the_findings(tmp_path, boundaries_path):
    geojson = tmp_path / "findings.geojson"
    result = validate(tmp_path, str(boundaries_path), "--layer", "boundaries",
                      "--format", "json", "-o", str(geojson))  # fmt: skip
    assert result.exit_code == 0, result.output
    report = strict(result.stdout)
    assert report["read"] == 40 and report["qa"]["counts"] == {
        "duplicate_vertex": 1, "spike": 4, "overlap": 1,
    }  # fmt: skip
    features = report["qa"]["findings"]["features"]
    overlap = next(f for f in features if f["properties"]["code"] == "overlap")
    assert overlap["geometry"]["type"] == "Polygon"
    assert math.isclose(overlap["properties"]["area_m2"], 23.4e6, rel_tol=0.005)
    spike = next(f for f in features if f["properties"]["code"] == "spike")
    assert spike["properties"]["area_m2"] is None  # null, never NaN
    assert strict(geojson.read_text()) == report["qa"]["findings"]


def test_import_reports_the_findings_too(tmp_path, boundaries_path):
    runner = CliRunner()
    store = tmp_path / "s.gpkg"
    result = runner.invoke(cli, ["--store", str(store), "import", str(boundaries_path),
                                 "--layer", "boundaries", "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = strict(result.stdout)
    assert report["imported"] == 40 and report["qa"]["counts"]["overlap"] == 1


def test_a_qa_failure_does_not_fail_the_import(tmp_path, boundaries_path, monkeypatch, caplog):
    import kosovo_cmr.import_qa

    def broken(*args, **kwargs):
        raise RuntimeError("GEOS fell over")

    monkeypatch.setattr(kosovo_cmr.import_qa, "check_source", broken)
    runner = CliRunner()
    result = runner.invoke(cli, ["--store", str(tmp_path / "s.gpkg"), "import",
                                 str(boundaries_path), "--layer", "boundaries"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "read 40 = imported 40" in result.stdout and "QA of" not in result.stdout
    warned = result.stderr + caplog.text  # kcmr prints warnings on stderr
    assert "not run (GEOS fell over)" in warned


def test_the_findings_geopackage_passes_validate_gpkg(tmp_path, boundaries_path):
    import subprocess

    from conftest import in_ci

    checker = "/usr/bin/python3"
    probe = subprocess.run([checker, "-c", "import osgeo_utils.samples.validate_gpkg"],
                           capture_output=True)  # fmt: skip
    if probe.returncode:
        message = "validate_gpkg.py (python3-gdal, gdal-utils) is not installed"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path / "findings.gpkg"
    result = validate(tmp_path, str(boundaries_path), "--layer", "boundaries",
                      "--format", "gpkg", "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    done = subprocess.run([checker, "-m", "osgeo_utils.samples.validate_gpkg", "-k", str(out)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout
