"""The records a programme keeps (issue 15): verification, --set, --valid-from, benchmarks,
unclassified hazards, evidence by class and source, productivity, and the demo's history."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box
from test_store_postgis import pg_server, pg_url  # noqa: F401  (the PostGIS fixtures)

from kosovo_cmr.analysis.productivity import productivity, release_indicators
from kosovo_cmr.analysis.rules import load_rule
from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError
from kosovo_cmr.importer import import_layer
from kosovo_cmr.store import open_store
from kosovo_cmr.store.history import feature_history


def _cell(i, size=0.005):
    x, y = 20.6 + (i % 30) * 0.03, 42.2 + (i // 30) * 0.03
    return box(x, y, x + size, y + size)


def releases(ids, *, method="cancellation_nts", date="2024-06-01"):
    n = len(ids)
    return gpd.GeoDataFrame(
        {
            "release_id": list(ids),
            "method": [method] * n,
            "operator": ["NPA"] * n,
            "date": pd.to_datetime([date] * n),
            "district": ["Mitrovica"] * n,
        },
        geometry=[_cell(i) for i in range(n)],
        crs=4326,
    )


def hazards(ids, **columns):
    n = len(ids)
    data = {"hazard_id": list(ids), "kind": ["CHA"] * n, "status": ["active"] * n,
            "recorded": pd.to_datetime(["2022-05-01"] * n), **columns}  # fmt: skip
    return gpd.GeoDataFrame(data, geometry=[_cell(i + 10) for i in range(n)], crs=4326)


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_uri(request, tmp_path):
    if request.param == "gpkg":
        return str(tmp_path / "s.gpkg")
    return request.getfixturevalue("pg_url")


def run(*args, store=None):
    base = ["--store", store] if store else []
    return CliRunner().invoke(cli, [*base, *args])


# --- verification ---------------------------------------------------------------------------


def test_kcmr_verify_records_the_verification_with_its_history(store_uri):
    store = open_store(store_uri)
    store.write(releases(["R1", "R2", "R3"]), "releases", source="npa-nts.gpkg")
    store.write(hazards(["H1"]), "hazards", source="halo.gpkg")
    out = run("verify", "R1", "H1", "--by", "KMAC QA", "--on", "2025-06-20", "--format", "json",
              store=store_uri)  # fmt: skip
    assert out.exit_code == 0, out.output
    written = {w["layer"]: w for w in json.loads(out.output)["written"]}
    assert written["releases"]["ids"] == ["R1"] and written["releases"]["changed"] == 1
    assert written["hazards"]["ids"] == ["H1"]
    rel = store.read("releases").set_index("release_id")
    assert rel.loc["R1", "verification"] == "verified"
    assert rel.loc["R1", "verified_on"] == pd.Timestamp("2025-06-20")
    assert rel.loc["R1", "verified_by"] == "KMAC QA"
    assert (rel.loc[["R2", "R3"], "verification"] == "reported").all()
    history = feature_history(store, "R1", layer="releases")
    assert history["changed_columns"].tolist() == ["", "verification, verified_on, verified_by"]
    assert history["source"].iloc[1] == "kcmr verify"
    rejected = run("verify", "R3", "--rejected", store=store_uri)
    assert rejected.exit_code == 0 and "1 record(s) rejected" in rejected.output
    # an unknown id writes nothing, in one line, exit 1
    before = len(store.provenance())
    bad = run("verify", "R2", "NOPE", store=store_uri)
    assert bad.exit_code == 1 and "NOPE" in bad.output and len(store.provenance()) == before
    assert run("verify", "R2", "--on", "2999-01-01", store=store_uri).exit_code == 1
    assert run("verify", "R2", "--on", "soon", store=store_uri).exit_code == 2


def test_reports_split_verified_and_pending_and_drop_the_rejected(tmp_path, municipalities):
    from kosovo_cmr.report import land_release_report
    from kosovo_cmr.schema import conform

    rel = conform(
        releases(["R1", "R2", "R3"]).assign(
            verification=["verified", "reported", "rejected"], district="Mitrovicë"
        ),
        "releases",
    )
    none = conform(hazards([]), "hazards")
    rep = land_release_report(none, rel, municipalities, year=2024)
    areas = {r: a for r, a in zip(rel["release_id"], rel.to_crs(6933).area, strict=True)}
    [row] = rep["nts_by_municipality"]
    assert row["records"] == 2  # the rejected one is in no table
    assert row["verified_m2"] == pytest.approx(areas["R1"], rel=1e-3)
    assert row["pending_m2"] == pytest.approx(areas["R2"], rel=1e-3)
    assert rep["verification"]["releases"]["rejected"]["records"] == 1
    assert [r["id"] for r in rep["verification"]["rejected"]] == ["R3"]
    split = rep["reconciliation"]["verification"]["methods"]["cancellation_nts"]
    assert split["total_m2"] == pytest.approx(split["verified_m2"] + split["pending_m2"])
    only = land_release_report(none, rel, municipalities, year=2024, verified_only=True)
    assert only["nts_by_municipality"][0]["records"] == 1 and only["verified_only"] is True
    assert only["release_by_method"]["cancellation_nts_pending_m2"] == 0


def _race(uri, tmp_path, commands):
    """Start ``kcmr`` commands at the same instant; return (exit code, stderr) each."""
    go = tmp_path / "go"
    script = (
        "import sys, time, pathlib\n"
        "from kosovo_cmr.cli.main import main\n"
        "go = pathlib.Path(sys.argv[1])\n"
        "while not go.exists(): time.sleep(0.002)\n"
        "main(sys.argv[2:])\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(go), "--store", uri, *command],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]  # fmt: skip
    time.sleep(1.5)
    go.touch()
    return [(p.wait(timeout=180), p.communicate()[1]) for p in procs]


def test_a_verification_and_a_resubmission_at_once_both_land(store_uri, tmp_path):
    store = open_store(store_uri)
    store.write(releases([f"R{i}" for i in range(200)]), "releases", source="base")
    again = releases(["R5", *[f"N{i}" for i in range(200)]]).assign(operator="HALO")
    src = tmp_path / "resubmitted.geojson"
    again.to_file(src, driver="GeoJSON")
    results = _race(
        store_uri,
        tmp_path,
        [["verify", "R1", "R2", "--by", "KMAC"],
         ["import", str(src), "--layer", "releases", "--on-conflict", "replace"]],
    )  # fmt: skip
    assert [code for code, _ in results] == [0, 0], results
    rel = store.read("releases").set_index("release_id")
    assert len(rel) == 400  # nothing lost: the import's upsert kept the verification
    assert (rel.loc[["R1", "R2"], "verification"] == "verified").all()
    assert rel.loc["R5", "operator"] == "HALO" and rel.loc["R1", "operator"] == "NPA"
    prov = store.provenance("releases")
    assert sorted(prov["mode"]) == ["replace", "upsert", "upsert"]


# --- import: --set and --valid-from ---------------------------------------------------------


def test_set_fills_a_missing_required_column_and_says_so(tmp_path):
    src = tmp_path / "old-hazards.geojson"
    hazards(["H1", "H2"]).drop(columns="recorded").to_file(src, driver="GeoJSON")
    store = str(tmp_path / "s.gpkg")
    refused = run("import", str(src), "--layer", "hazards", store=store)
    assert refused.exit_code == 1 and "no column for required recorded" in refused.output
    out = run("import", str(src), "--layer", "hazards", "--set", "recorded=2024-12-31",
              "--set", "kind=unclassified", store=store)  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "--set recorded=2024-12-31: the source has no recorded; set for all 2" in out.output
    assert "--set kind=unclassified: 0 empty value(s) of 'kind' filled; 2 kept" in out.output
    stored = open_store(store).read("hazards")
    assert (stored["recorded"] == pd.Timestamp("2024-12-31")).all()
    assert (stored["kind"] == "CHA").all()  # the source's values are never replaced


def test_set_fills_only_empty_cells_and_checks_its_value(tmp_path):
    src = tmp_path / "h.geojson"
    hazards(["H1", "H2"], operator=["HALO", None]).to_file(src, driver="GeoJSON")
    report = import_layer(src, "hazards", store=tmp_path / "s.gpkg", set_values={"operator": "NPA"})
    assert "1 empty value(s) of 'operator' filled; 1 kept" in " ".join(report.notices)
    stored = open_store(tmp_path / "s.gpkg").read("hazards").set_index("hazard_id")
    assert stored["operator"].to_dict() == {"H1": "HALO", "H2": "NPA"}
    for bad, message in (({"kind": "XHA"}, "takes one of"), ({"recorded": "soon"}, "takes a date"),
                         ({"colour": "red"}, "not a column")):  # fmt: skip
        with pytest.raises(InputError, match=message):
            import_layer(src, "hazards", store=tmp_path / "t.gpkg", set_values=bad)


def test_valid_from_dates_an_import_and_history_stays_in_order(tmp_path):
    store = str(tmp_path / "s.gpkg")
    for name, day in (("a", "2023-12-31"), ("b", "2024-12-31")):
        src = tmp_path / f"{name}.geojson"
        hazards(["H1"], operator=[name]).to_file(src, driver="GeoJSON")
        out = run("import", str(src), "--layer", "hazards", "--mode", "replace",
                  "--valid-from", day, store=store)  # fmt: skip
        assert out.exit_code == 0, out.output
    assert open_store(store, as_of="2024-06-30").read("hazards")["operator"].tolist() == ["a"]
    late = run("import", str(tmp_path / "a.geojson"), "--layer", "hazards", "--mode",
               "replace", "--valid-from", "2024-01-01", store=store)  # fmt: skip
    assert late.exit_code == 4 and "earlier than the latest version" in late.output


def test_the_store_s_own_column_names_are_renamed(tmp_path):
    src = tmp_path / "h.geojson"
    hazards(["H1"]).assign(valid_from="2020", row_hash="x").to_file(src, driver="GeoJSON")
    report = import_layer(src, "hazards", store=tmp_path / "s.gpkg")
    assert "column 'valid_from' kept as 'valid_from_source'" in " ".join(report.notices)
    assert "row_hash_source" in open_store(tmp_path / "s.gpkg").read("hazards").columns


# --- benchmarks and reference points ---------------------------------------------------------


def test_a_traverse_table_keeps_its_benchmark_and_reference_point(tmp_path):
    from datetime import date

    from pyproj import Transformer

    from kosovo_cmr.analysis.sheet_facts import sheet_facts

    x, y = 7_508_206.0, 4_717_817.0  # EPSG:9141, near Prishtinë
    rows = [
        "PolyID,PointNo,PointID,PointType,X,Y,Bearing,Distance,From,Kind,Recorded",
        f"HZ-1,0,RP1,RP,{x - 150},{y - 150},,,,CHA,2024-05-02",
        "HZ-1,1,BM1,BM,,,45,212.1,RP1,,",
        "HZ-1,2,SP,SP,,,45,50,BM1,,",
        "HZ-1,3,TP1,TP,,,90,100,SP,,",
        "HZ-1,4,TP2,TP,,,0,100,TP1,,",
        "HZ-1,5,TP3,TP,,,270,100,TP2,,",
        "HZ-1,6,EP,EP,,,180,100,TP3,,",
    ]
    src = tmp_path / "traverse.csv"
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = import_layer(src, "hazards", store=tmp_path / "s.gpkg", crs="EPSG:9141",
                          bearing="grid")  # fmt: skip
    assert report.imported == 1, report.summary()
    hz = open_store(tmp_path / "s.gpkg").read("hazards")
    row = hz.iloc[0]
    assert (row["benchmark_id"], row["reference_id"]) == ("BM1", "RP1")
    lon, lat = Transformer.from_crs(9141, 4326, always_xy=True).transform(x - 150, y - 150)
    assert (row["reference_lon"], row["reference_lat"]) == pytest.approx((lon, lat), abs=1e-7)
    facts = sheet_facts(hz, on=date(2026, 6, 1))
    bm = facts.benchmark
    assert bm.recorded and bm.source == "attributes" and bm.name == "BM1"
    assert bm.reference["name"] == "RP1"
    assert bm.reference["distance_m"] == pytest.approx(212.1, abs=0.5)  # the leg as entered


# --- unclassified hazards, evidence by class and source -------------------------------------


def test_unclassified_hazards_count_in_table_1_and_are_drawn(municipalities):
    from kosovo_cmr.outputs.maps import interactive_map
    from kosovo_cmr.report import contamination_by_region
    from kosovo_cmr.schema import conform

    hz = conform(hazards(["H1", "H2"]).assign(kind=["CHA", "unclassified"]), "hazards")
    table = contamination_by_region(hz, municipalities, year=2024)
    assert table["unclassified_count"].sum() == 1
    assert table["total_count"].sum() == 2
    assert table["total_area_m2"].sum() == pytest.approx(
        table["cha_area_m2"].sum() + table["unclassified_area_m2"].sum()
    )
    html = interactive_map({"hazards": hz}).get_root().render()
    assert "Unclassified hazardous areas" in html


def test_rules_may_depend_on_evidence_class_and_source(tmp_path):
    rule = tmp_path / "observed-only.toml"
    rule.write_text(
        'name = "observed-only"\ndefault_m = 50.0\n[ordnance]\n"BLU-97" = 25.0\n'
        "[evidence_source]\nreported = 50.0\n[evidence_class]\nindirect = 40.0\n",
        encoding="utf-8",
    )
    ev = pd.DataFrame(
        {"ordnance": ["BLU-97"] * 4, "item": ["component"] * 4,
         "evidence_class": ["direct", "indirect", "indirect", None],
         "evidence_source": ["observed", "reported", "records", None]}
    )  # fmt: skip
    assert load_rule(rule).distances_m(ev).tolist() == [25.0, 50.0, 40.0, 25.0]
    assert load_rule("kosovo-nmas-2024").distances_m(ev).tolist() == [25.0] * 4
    rule.write_text('name = "x"\ndefault_m = 50.0\n[evidence_class]\nseen = 10.0\n')
    with pytest.raises(InputError, match="unknown evidence class 'seen'"):
        load_rule(rule)


# --- activities, devices, productivity -------------------------------------------------------


def test_productivity_by_method_from_reported_areas_and_release_shares():
    rel = releases(["R1", "R2"], method="clearance")
    area = dict(zip(rel["release_id"], rel.to_crs(6933).area, strict=True))  # equal-area CRS
    acts = pd.DataFrame(
        {"activity_id": ["A1", "A2", "A3", "A4"], "activity": ["clearance"] * 4,
         "method": ["scorpion", "lld", "lld", "lld"], "operator": ["HALO"] * 4,
         "release_id": ["R1", "R2", "R2", None], "status": ["completed"] * 3 + ["ongoing"],
         "end_date": pd.to_datetime(["2024-06-01"] * 4), "team_days": [10.0, 30.0, 10.0, 5.0],
         "area_m2": [None, None, None, None]}
    )  # fmt: skip
    table = productivity(acts, rel, year=2024).set_index("method")
    assert table.loc["scorpion", "area_m2"] == pytest.approx(area["R1"], rel=1e-3)
    assert table.loc["scorpion", "m2_per_team_day"] == pytest.approx(area["R1"] / 10, rel=1e-3)
    # R2 shared by team-days: 30 + 10 days for its whole area
    assert table.loc["lld", "m2_per_team_day"] == pytest.approx(area["R2"] / 40, rel=1e-3)
    assert table.loc["lld", "area_from_releases"] == 2 and table.loc["lld", "activities"] == 2
    devices = pd.DataFrame({"device_id": ["D1"], "item": ["submunition"], "release_id": ["R1"],
                            "date": pd.to_datetime(["2024-06-01"])})  # fmt: skip
    ind = release_indicators(rel.assign(submunitions=[1, 2]), devices, year=2024)
    assert ind["methods"]["clearance"]["share"] == 1.0 and ind["devices"] == {"submunition": 1}
    assert ind["device_check"] == [
        {"release_id": "R2", "item": "submunition", "recorded": 2, "devices": 0}
    ]


# --- the demo's two years of history ---------------------------------------------------------


@pytest.fixture(scope="module")
def demo_history_store(tmp_path_factory, boundaries_path):
    from kosovo_cmr.demo import load_layers, run_demo, step_history

    out = tmp_path_factory.mktemp("history")
    return run_demo(out, boundaries=boundaries_path, steps=[step_history, load_layers]).store


def _flat(node, path=""):
    if isinstance(node, dict):
        return {k: v for key, val in node.items() for k, v in _flat(val, f"{path}.{key}").items()}
    if isinstance(node, list):
        return {k: v for i, val in enumerate(node) for k, v in _flat(val, f"{path}[{i}]").items()}
    return {path: node}


def test_the_demo_s_reports_as_of_two_dates_differ_by_the_later_verifications(
    demo_history_store,
):
    store = demo_history_store
    runner = CliRunner()
    docs = {}
    for day in ("2024-12-31", "2025-06-30"):
        out = runner.invoke(cli, ["--store", store.uri, "report", "--year", "2024", "--as-of",
                                  day, "--format", "json"])  # fmt: skip
        assert out.exit_code == 0, out.output
        docs[day] = json.loads(out.output)
    before, after = _flat(docs["2024-12-31"]), _flat(docs["2025-06-30"])
    differ = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    # only the verification figures, the list of later changes and the date itself differ
    allowed = ("verified", "pending", "verification", "later_changes", ".as_of")
    assert differ and all(any(a in k for a in allowed) for k in differ), sorted(differ)[:20]
    later = docs["2025-06-30"]["reconciliation"]["later_changes"]
    assert docs["2024-12-31"]["reconciliation"]["later_changes"] == []
    assert {c["id"] for c in later} == {
        "DEMO-RL-2024-011", "DEMO-RL-2024-012", "DEMO-RL-2024-015", "DEMO-RL-2024-021"
    }  # fmt: skip
    assert {c["changed_columns"] for c in later} == {"verification, verified_on, verified_by"}
    # the change of the verified area is exactly the area of the records verified later
    moved = sum(_areas(docs["2025-06-30"], later))
    gained = (
        docs["2025-06-30"]["release_by_method"]["total_verified_m2"]
        - docs["2024-12-31"]["release_by_method"]["total_verified_m2"]
    )
    assert gained == pytest.approx(moved, abs=0.01)
    # the figures of every table are the same on both days
    for key in ("contamination_by_region", "clearance_by_district", "nts_by_municipality"):
        strip = lambda rows: [{k: v for k, v in r.items() if "_m2" not in k or k == "area_m2"}  # noqa: E731
                              for r in rows]  # fmt: skip
        assert strip(docs["2024-12-31"][key]) == strip(docs["2025-06-30"][key])


def _areas(report, later):
    """The geodesic areas of the releases verified after the year (they are not pending)."""
    from kosovo_cmr.crs import geodesic_area

    assert not {r["id"] for r in report["verification"]["pending"]} & {c["id"] for c in later}
    rel = open_store(report["store"]).read("releases").set_index("release_id")
    return geodesic_area(rel.loc[[c["id"] for c in later]]).tolist()


def test_the_demo_s_history_has_both_states_and_the_resubmission(demo_history_store):
    from kosovo_cmr.synthetic.records import RESUBMISSION_SHIFT_DEG, RESUBMITTED

    store = demo_history_store
    end_2023 = store.as_of("2023-12-31")
    hz23 = end_2023.read("hazards")
    assert len(hz23) == 84 and not (pd.to_datetime(hz23["recorded"]).dt.year == 2024).any()
    assert end_2023.read("releases")["date"].max() < pd.Timestamp("2024-01-01")
    history = feature_history(store, RESUBMITTED, layer="hazards")
    assert history["valid_from"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-12-31", "2024-07-15", "2024-08-20"
    ]  # fmt: skip
    assert history["changed_columns"].iloc[1].startswith("verification")
    assert "geometry" in history["changed_columns"].iloc[1]
    assert abs(history["area_change_m2"].iloc[1]) < 0.01  # moved east, not reshaped
    old = store.versions("hazards", ids=[RESUBMITTED]).geometry
    shift = old.iloc[1].centroid.x - old.iloc[0].centroid.x
    assert shift == pytest.approx(RESUBMISSION_SHIFT_DEG, abs=1e-9)
    assert (store.provenance()["added"].iloc[-5:] == 0).all()  # the layers: no new version
    nts = store.as_of("2025-06-30").read("releases")
    nts = nts[(nts["method"] == "cancellation_nts") & (nts["district"] == "Zubin Potok")]
    assert (nts["verification"] == "verified").all()
    assert len(store.read("activities")) == 106 and len(store.read("devices")) == 1478


def test_a_change_made_while_verifying_is_kept(store_uri, monkeypatch):
    from kosovo_cmr.workflows import records

    store = open_store(store_uri)
    store.write(releases(["R1", "R2"]), "releases", source="npa-nts.gpkg")
    real = records._current

    def read_then_someone_writes(store, layer, ids):
        out = real(store, layer, ids)  # the verification has read R1 ...
        changed = store.read("releases")
        changed.loc[changed["release_id"] == "R1", "operator"] = "HALO"
        store.write(changed.iloc[[0]], "releases", mode="upsert", source="a resubmission")
        return out  # ... and another writer changes R1 before it writes

    monkeypatch.setattr(records, "_current", read_then_someone_writes)
    records.verify(store, ["R1"], by="KMAC QA", on="2025-06-20")
    r1 = store.read("releases").set_index("release_id").loc["R1"]
    both = (r1["operator"], r1["verification"], r1["verified_by"])
    assert both == ("HALO", "verified", "KMAC QA")
    sources = feature_history(store, "R1", layer="releases")["source"].tolist()
    assert sources == ["npa-nts.gpkg", "a resubmission", "kcmr verify",
                       "kcmr verify (kept a concurrent change)"]  # fmt: skip
