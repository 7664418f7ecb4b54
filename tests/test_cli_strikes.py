"""``kcmr strikes infer`` and ``kcmr buffer-impact --readings`` through click, on the demo store."""

from __future__ import annotations

import json

import pyogrio
from click.testing import CliRunner

from kosovo_cmr.cli.main import cli

KEYS = ("cluster_id", "n_items", "munition", "length_m", "width_m", "azimuth_deg", "lon", "lat")


def run(store, *args):
    return CliRunner().invoke(cli, ["--store", store.uri, *args], catch_exceptions=False)


def test_strikes_infer_json_rows_and_the_comparison(demo_store_copy, tmp_path):
    out = tmp_path / "inferred.gpkg"
    result = run(
        demo_store_copy, "strikes", "infer", "--bootstrap", "20", "--format", "json", "-o", out
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = doc["rows"]
    assert rows and all(all(k in row for k in KEYS) for row in rows)
    evidence = demo_store_copy.read("evidence")
    assert sum(r["n_items"] for r in rows) <= len(evidence)
    assert all(r["length_m"] >= r["width_m"] > 0 for r in rows)
    assert all(20.0 < r["lon"] < 21.8 and 41.8 < r["lat"] < 43.3 for r in rows)
    # every inferred footprint is compared with the recorded strikes of the store
    assert len(doc["comparison"]) == len(rows)
    written = pyogrio.read_dataframe(out)
    assert len(written) == len(rows) and written.geom_type.eq("Polygon").all()


def test_strikes_infer_refuses_an_existing_output_and_a_bad_coverage(demo_store_copy, tmp_path):
    out = tmp_path / "x.geojson"
    out.write_text("{}")
    result = run(demo_store_copy, "strikes", "infer", "-o", out)
    assert result.exit_code == 1 and "--overwrite" in result.stderr
    result = run(demo_store_copy, "strikes", "infer", "--coverage", "1.5")
    assert result.exit_code == 1 and "coverage" in result.stderr


def test_buffer_impact_readings_gives_both_readings(demo_store_copy):
    result = run(demo_store_copy, "buffer-impact", "--readings", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["rule"]: r for r in json.loads(result.stdout)["rows"]}
    assert set(rows) == {"kosovo-nmas-2024", "kosovo-nmas-2024-components-only"}
    assert (
        rows["kosovo-nmas-2024"]["default"]
        and not rows["kosovo-nmas-2024-components-only"]["default"]
    )
    # the default reading's saving is the plain buffer-impact's
    plain = json.loads(run(demo_store_copy, "buffer-impact", "--format", "json").stdout)
    assert rows["kosovo-nmas-2024"]["saved_m2"] == plain["total"]["saved_m2"]
    # parts only at 25 m saves less than every item at 25 m
    assert 0 < rows["kosovo-nmas-2024-components-only"]["saved_m2"] < plain["total"]["saved_m2"]
    refused = run(demo_store_copy, "buffer-impact", "--readings", "--to", "kosovo-nmas-2024")
    assert refused.exit_code == 1 and "--readings" in refused.stderr
