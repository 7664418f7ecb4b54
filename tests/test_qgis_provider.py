"""The QGIS Processing provider, run in the distribution's QGIS, against the command line.

The plugin is installed with ``kcmr qgis install`` into a profile folder; a headless QGIS
(``QT_QPA_PLATFORM=offscreen``, the python of ``tests/qgis_env.sh``: the system python
with Debian's ``python3-qgis``) loads it as QGIS loads plugins (``qgis.utils``) and runs
every algorithm on the demo store (``tests/qgis_provider_run.py``). Its outputs are then
compared here, in the main venv, with what ``kcmr`` prints for the same store: the same
JSON, the same rows and totals; PDFs are measured with pdfplumber, exports read back with
GDAL, and the styles QGIS loaded from ``layer_styles`` (or ``.qml``) are checked.

With ``CI=true`` a machine without QGIS fails these tests; elsewhere they skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from shapely.geometry import Polygon

from kosovo_cmr.cli.main import cli
from kosovo_cmr.outputs.maps import COLOURS

HERE = Path(__file__).resolve().parent


def _qgis_missing() -> str | None:
    if not Path("/usr/bin/python3").exists():
        return "no /usr/bin/python3"
    probe = subprocess.run(
        ["/usr/bin/python3", "-c", "import qgis.core"],
        capture_output=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return None if probe.returncode == 0 else "python3-qgis is not installed"


@pytest.fixture(scope="session")
def qgis_python() -> str:
    """The python of the QGIS venv (made by tests/qgis_env.sh); CI fails without QGIS."""
    missing = _qgis_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"QGIS is required in CI: {missing} (run .ci/setup.d/qgis.sh)")
        pytest.skip(missing)
    done = subprocess.run(
        ["bash", str(HERE / "qgis_env.sh")], capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def kcmr(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 3), result.output
    return result.stdout


@pytest.fixture(scope="module")
def source(tmp_path_factory, demo_store) -> Path:
    """An operator's file: one clean hazard, one bow-tie (repaired), one bad kind (rejected)."""
    hazards = demo_store.read("hazards")
    src = hazards[hazards["status"] == "active"].head(3).to_crs(4326).copy()
    src["hazard_id"] = ["OP-1", "OP-2", "OP-3"]
    c = src.geometry.iloc[0].centroid
    d = 0.001
    bow_tie = Polygon([(c.x, c.y), (c.x + d, c.y + d), (c.x + d, c.y), (c.x, c.y + d)])
    src.loc[src.index[1], "geometry"] = bow_tie
    src.loc[src.index[2], "kind"] = "XYZ"
    path = tmp_path_factory.mktemp("operator") / "delivery.geojson"
    src[["hazard_id", "kind", "status", "recorded", "geometry"]].to_file(path)
    return path


@pytest.fixture(scope="module")
def run(qgis_python, demo_store, source, tmp_path_factory):
    """Install the plugin, run every algorithm in QGIS; the store, outputs and results."""
    base = tmp_path_factory.mktemp("qgis")
    store = base / "store.gpkg"
    shutil.copyfile(demo_store.uri, store)
    out = base / "out"
    out.mkdir()
    profiles = base / "profiles"
    (profiles / "default").mkdir(parents=True)
    plugin = kcmr("qgis", "install", "--profiles-dir", str(profiles)).strip()
    done = subprocess.run(
        [qgis_python, str(HERE / "qgis_provider_run.py"), str(store), str(out), str(source),
         str(Path(plugin).parent)],
        capture_output=True, text=True, timeout=1800, cwd=base,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(base)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return store, out, json.loads(done.stdout.strip().splitlines()[-1])


def test_every_algorithm_is_registered_from_the_installed_plugin(run):
    _, _, res = run
    assert res["plugin_module"].endswith("kosovo_cmr_qgis/__init__.py")
    assert res["algorithms"] == sorted(
        ["validate", "import", "fadeout", "buffer_impact", "cha_check", "overlay",
         "report", "field_sheets", "export", "style_store"]
    )  # fmt: skip
    assert not [k for k, v in res.items() if isinstance(v, dict) and "error" in v]


def test_buffer_impact_gives_the_cli_figures(run):
    store, out, res = run
    cli_json = json.loads(kcmr("--store", str(store), "buffer-impact", "--by", "municipality",
                               "--format", "json"))  # fmt: skip
    assert json.loads((out / "impact.json").read_text()) == cli_json
    table = pyogrio.read_dataframe(out / "impact.gpkg", read_geometry=False)
    assert len(table) == len(cli_json["rows"]) + 1  # the rows and the total
    assert table["group"].tolist() == [r["group"] for r in cli_json["rows"]] + ["total"]
    for col in ("area_from_m2", "area_to_m2", "saved_m2"):
        expected = [r[col] for r in cli_json["rows"]] + [cli_json["total"][col]]
        assert table[col].tolist() == pytest.approx(expected, rel=1e-12)
    assert res["buffer_impact"]["SAVED_M2"] == pytest.approx(cli_json["total"]["saved_m2"])
    assert res["buffer_impact"]["SAVED_M2"] > 0
    rings = gpd.read_file(out / "rings.gpkg")
    assert len(rings) == res["styles"]["rings"]["features"] > 0


def test_overlay_rows_are_the_cli_rows_from_a_store_and_from_layers(run):
    store, out, res = run
    cli_json = json.loads(kcmr("--store", str(store), "overlay", "--by", "municipality",
                               "--format", "json"))  # fmt: skip
    assert json.loads((out / "overlay.json").read_text()) == cli_json
    assert json.loads((out / "overlay_layers.json").read_text()) == cli_json
    table = pyogrio.read_dataframe(out / "overlay.gpkg", read_geometry=False)
    assert len(table) == res["overlay"]["ROWS"] == len(cli_json["rows"])
    expected = pd.DataFrame(cli_json["rows"])
    assert table.columns.tolist() == expected.columns.tolist()
    for column in expected.columns:
        if column.endswith("_m2"):
            assert table[column].tolist() == pytest.approx(expected[column].tolist(), rel=1e-12)
        else:  # names and counts
            assert table[column].tolist() == expected[column].tolist(), column


def test_report_json_is_the_cli_report(run):
    store, out, _ = run
    cli_json = json.loads(kcmr("--store", str(store), "report", "--year", "2024", "--format",
                               "json"))  # fmt: skip
    assert json.loads((out / "report.json").read_text()) == cli_json
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "SYNTHETIC" in html


def test_fadeout_and_cha_check_give_the_cli_figures(run):
    store, _, res = run
    fade = json.loads(kcmr("--store", str(store), "fadeout", "--format", "json"))
    assert res["fadeout"]["AREA_M2"] == pytest.approx(fade["area_m2"], rel=1e-12)
    assert res["fadeout"]["CLUSTERS"] == len(fade["clusters"])
    # the evidence given as a QGIS layer instead of the store: the same figures
    assert res["fadeout_layer"]["AREA_M2"] == pytest.approx(fade["area_m2"], rel=1e-12)
    cha = json.loads(kcmr("--store", str(store), "cha-check", "--format", "json"))
    checks = pd.Series([f["check"] for f in cha["findings"]]).value_counts()
    assert res["cha_check"]["HAZARDS"] == checks.get("fadeout_outside_hazard", 0) > 0
    assert res["cha_check"]["STRAY_COUNT"] == checks.get("evidence_outside_hazards", 0)


def test_field_sheet_pdf(run):
    pdfplumber = pytest.importorskip("pdfplumber")
    _, out, res = run
    assert res["field_sheets"]["SHEETS"] == 1
    with pdfplumber.open(out / "sheet.pdf") as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
        width_mm = pdf.pages[0].width / 72 * 25.4
    assert "DEMO-HZ-0001" in text and "SYNTHETIC" in text
    assert round(min(width_mm, pdf.pages[0].height / 72 * 25.4)) == 210  # A4


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "kml", "gpx"])
def test_exports_are_read_back_by_gdal(run, fmt, tmp_path):
    store, out, res = run
    assert res[f"export_{fmt}"]["FEATURES"] == 35
    cli_file = tmp_path / f"cli.{fmt}"
    kcmr("--store", str(store), "export", "--layer", "hazards", "--status", "active", "-o",
         str(cli_file))  # fmt: skip
    ours_layers = [name for name, _ in pyogrio.list_layers(out / f"hazards.{fmt}")]
    theirs_layers = [name for name, _ in pyogrio.list_layers(cli_file)]
    if fmt == "gpkg":  # the provider's GeoPackage also carries the QGIS style
        assert ours_layers == [*theirs_layers, "layer_styles"]
        ours_layers = theirs_layers
    assert len(ours_layers) == len(theirs_layers)
    for mine, cli_layer in zip(ours_layers, theirs_layers, strict=True):
        ours = pyogrio.read_dataframe(out / f"hazards.{fmt}", layer=mine)
        theirs = pyogrio.read_dataframe(cli_file, layer=cli_layer)
        assert len(ours) == len(theirs)
        assert ours.drop(columns="geometry").equals(theirs.drop(columns="geometry"))
    if fmt in ("geojson", "gpkg"):
        assert len(pyogrio.read_dataframe(out / f"hazards.{fmt}")) == 35


def test_validate_and_import_account_for_every_feature(run, source, tmp_path):
    store, out, res = run
    cli_json = json.loads(kcmr("--store", str(store), "validate", str(source), "--layer",
                               "hazards", "--format", "json"))  # fmt: skip
    for key, name in (("READ", "read"), ("IMPORTED", "imported"), ("REJECTED", "rejected")):
        assert res["validate"][key] == res["import"][key] == cli_json[name]
        assert res["validate_memory"][key] == cli_json[name]  # a memory layer, copied first
    assert (cli_json["read"], cli_json["imported"], cli_json["rejected"]) == (3, 2, 1)
    accounting = pyogrio.read_dataframe(out / "accounting.gpkg", read_geometry=False)
    assert accounting["outcome"].value_counts().to_dict() == {
        "imported": 1, "repaired": 1, "rejected": 1
    }  # fmt: skip
    assert "value_not_allowed" in accounting.loc[accounting["outcome"] == "rejected",
                                                 "reasons"].iloc[0]  # fmt: skip
    rejects = gpd.read_file(out / "rejects.gpkg", layer="rejects")
    assert rejects["hazard_id"].tolist() == ["OP-3"]
    assert res["import"]["REJECTS"].endswith("rejects.gpkg|layername=rejects")
    imported = gpd.read_file(out / "imported.gpkg", layer="hazards")
    assert sorted(imported["hazard_id"]) == ["OP-1", "OP-2"]


def test_validate_writes_the_qa_findings_of_the_cli(run, boundaries_path):
    """Issue 16: the same located findings as ``kcmr validate``, added to the project."""
    _, out, res = run
    cli_json = json.loads(kcmr("validate", str(boundaries_path), "--layer", "boundaries",
                               "--format", "json"))  # fmt: skip
    qa = res["validate_qa"]
    assert "error" not in qa, qa
    assert qa["QA_FINDINGS"] == len(cli_json["qa"]["findings"]["features"]) > 0
    layers = {str(r[0]) for r in pyogrio.list_layers(out / "qa.gpkg")}
    findings = gpd.GeoDataFrame(
        pd.concat([gpd.read_file(out / "qa.gpkg", layer=name) for name in sorted(layers)]),
        crs=4326,
    )
    assert findings["code"].value_counts().to_dict() == cli_json["qa"]["counts"]
    overlap = findings[findings["code"] == "overlap"]
    assert overlap["area_m2"].iloc[0] == pytest.approx(23.4e6, rel=0.01)  # Viti / Kllokot
    assert qa["_loaded"] and all(qa["_loaded"].values())  # each layer opens in QGIS


def test_qgis_opens_outputs_and_store_with_the_styles(run):
    _, _, res = run
    styles = res["styles"]
    hazards = styles["store_hazards"]
    assert hazards["renderer"] == "categorizedSymbol"
    assert hazards["colours"]["CHA"] == COLOURS["CHA"]
    assert hazards["colours"]["SHA"] == COLOURS["SHA"]
    assert hazards["colours"]["closed"] == COLOURS["closed"]
    releases = styles["store_releases"]
    assert set(releases["colours"].values()) == {COLOURS["clearance"]}  # released: green
    assert len(set(releases["brushes"].values())) == 3  # one fill per method
    assert styles["store_evidence"]["colours"] == {"": COLOURS["evidence"]}
    assert styles["export_gpkg"]["colours"] == hazards["colours"]
    for name in ("clusters", "clusters_geojson", "rings"):
        assert styles[name]["colours"] == {"": COLOURS["fadeout"]}, name
    assert styles["uncovered"]["colours"] == styles["stray"]["colours"] == {"": COLOURS["CHA"]}
    # the store before "style_store": QGIS's own default, not ours
    assert styles["store_unstyled_hazards"]["renderer"] == "singleSymbol"
    assert styles["store_unstyled_hazards"]["colours"][""] != COLOURS["CHA"]


@pytest.mark.parametrize(
    "case, words",
    [
        ("missing_store", "does not exist"),
        ("no_input", "give a Store (GeoPackage or PostGIS URL) or input layers (evidence)"),
        ("bad_output", "use a .gpkg, .geojson or .shp file"),
        ("bad_year", "no release is dated 2001"),
        ("bad_status", "no hazards feature has status 'Active'; present: ['active'"),
        ("bad_evidence_layer", "column 'evidence_id' is missing"),
    ],
)
def test_invalid_inputs_are_one_clear_message(run, case, words):
    _, _, res = run
    assert words in res["refused"][case]["error"]
    assert "Traceback" not in res["refused"][case]["error"]
