"""The QGIS provider on a PostGIS store: the same figures as ``kcmr`` on the same store.

Needs the test PostGIS server (``.ci/setup.d/postgis.sh``) and Debian's QGIS; in CI
(``CI=true``) a missing one fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_qgis_provider import qgis_python  # noqa: F401 (a fixture)
from test_store_postgis import pg_server, pg_url  # noqa: F401 (fixtures)

from kosovo_cmr.cli.main import cli

HERE = Path(__file__).resolve().parent


def kcmr(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def in_qgis(python: str, name: str, parameters: dict) -> dict:
    done = subprocess.run(
        [python, str(HERE / "qgis_run_algorithm.py"), name, json.dumps(parameters)],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_buffer_impact_and_overlay_on_a_postgis_store(
    qgis_python,  # noqa: F811
    pg_url,  # noqa: F811
    demo_store,
    tmp_path,
):
    kcmr("store", "copy", demo_store.uri, pg_url)
    impact = in_qgis(qgis_python, "buffer_impact", {
        "STORE_URL": pg_url, "BY": 2, "OUTPUT": str(tmp_path / "impact.gpkg"),
        "JSON": str(tmp_path / "impact.json"),
    })  # fmt: skip
    assert "error" not in impact, impact
    cli_json = json.loads(kcmr("--store", pg_url, "buffer-impact", "--by", "municipality",
                               "--format", "json"))  # fmt: skip
    assert json.loads((tmp_path / "impact.json").read_text()) == cli_json
    assert impact["SAVED_M2"] == pytest.approx(cli_json["total"]["saved_m2"], rel=1e-12)
    overlay = in_qgis(qgis_python, "overlay", {
        "STORE_URL": pg_url, "BY": 0, "OUTPUT": str(tmp_path / "overlay.gpkg"),
        "JSON": str(tmp_path / "overlay.json"),
    })  # fmt: skip
    assert "error" not in overlay, overlay
    cli_overlay = json.loads(kcmr("--store", pg_url, "overlay", "--format", "json"))
    assert json.loads((tmp_path / "overlay.json").read_text()) == cli_overlay
    styles = in_qgis(qgis_python, "style_store", {"STORE_URL": pg_url})
    assert "styles are written into a GeoPackage store" in styles["error"]
    both = in_qgis(qgis_python, "fadeout", {
        "STORE": demo_store.uri, "STORE_URL": pg_url, "OUTPUT": str(tmp_path / "c.gpkg"),
    })  # fmt: skip
    assert "give one store: a GeoPackage or a PostGIS URL, not both" in both["error"]
    bad = in_qgis(qgis_python, "fadeout", {
        "STORE_URL": "mysql://x", "OUTPUT": str(tmp_path / "c.gpkg"),
    })  # fmt: skip
    assert "give a postgresql:// URL" in bad["error"]
