"""The land release report on hand-built layers: tables, ledger, causes, renderers."""

import csv
import io
import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import read_capacity
from kosovo_cmr.report import (
    check_district_labels,
    contamination_at,
    contamination_by_region,
    land_release_report,
    reconcile,
)
from kosovo_cmr.report.render import BANNER, charts, to_csv, to_html, to_markdown, write_report
from kosovo_cmr.schema import check, conform
from kosovo_cmr.store.base import empty_layer

# Two hand-built municipalities: Alpha (region North) west of 21.0, Beta (South) east.
ALPHA = box(20.90, 42.40, 21.00, 42.60)
BETA = box(21.00, 42.40, 21.10, 42.60)
D = 0.002  # about 165 m x 220 m


def sq(x, y, w=D, h=D):
    return box(x, y, x + w, y + h)


def area(*geoms):
    return float(geodesic_area(list(geoms), crs=4326).sum())


@pytest.fixture
def munis():
    frame = gpd.GeoDataFrame(
        {
            "municipality": ["Alpha", "Beta"],
            "district": ["Alphadist", "Betadist"],
            "region": ["North", "South"],
        },
        geometry=[ALPHA, BETA],
        crs=4326,
    )
    return check(conform(frame, "boundaries"), "boundaries")


def hazards_layer(rows):
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "geometry"} for r in rows],
        geometry=[r["geometry"] for r in rows],
        crs=4326,
    )
    for col in ("recorded", "closed"):
        frame[col] = pd.to_datetime(frame[col])
    return check(conform(frame, "hazards"), "hazards")


def releases_layer(rows):
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "geometry"} for r in rows],
        geometry=[r["geometry"] for r in rows],
        crs=4326,
    )
    frame["date"] = pd.to_datetime(frame["date"])
    return check(conform(frame, "releases"), "releases")


def hz(hid, geom, *, kind="CHA", status="active", recorded="2013-05-01", closed=None):
    return {
        "hazard_id": hid,
        "kind": kind,
        "status": status,
        "recorded": recorded,
        "closed": closed,
        "geometry": geom,
    }


def rl(
    rid,
    geom,
    *,
    method,
    date,
    hazard_id=None,
    operator="HALO",
    district="Alpha",
    submunitions=0,
    cmr_found=None,
):
    row = {
        "release_id": rid,
        "hazard_id": hazard_id,
        "method": method,
        "operator": operator,
        "date": date,
        "district": district,
        "submunitions": submunitions,
        "geometry": geom,
    }
    if cmr_found is not None:
        row["cmr_found"] = cmr_found
    return row


# --- the hand-built reconciliation case -------------------------------------------------
# 2024 in a database of six hazards and eight releases, each a known cause:
H1, T1 = sq(20.950, 42.50), sq(20.950 + D, 42.50)  # T1: TS cut off H1 (adjacent), H1 open
H2 = sq(20.960, 42.50)  # closed by clearance C2 (same polygon); C2's label says Beta: wrong
H3 = sq(20.970, 42.50)  # removed in 2024 without any release
H4 = sq(20.980, 42.50)  # recorded in 2024: added by survey
N1 = sq(21.050, 42.50)  # NTS with no hazard_id, outside every hazard
H5, E5 = sq(20.950, 42.52), sq(20.950 + D, 42.52, w=D / 2)  # C5 = H5 + E5 (outside part)
H6 = sq(20.960, 42.52)  # closed by C6a and C6b, which overlap in a strip of D/5
C6A = box(20.960, 42.52, 20.960 + 0.6 * D, 42.52 + D)
C6B = box(20.960 + 0.4 * D, 42.52, 20.960 + D, 42.52 + D)
STRIP = box(20.960 + 0.4 * D, 42.52, 20.960 + 0.6 * D, 42.52 + D)


@pytest.fixture
def case():
    hazards = hazards_layer(
        [
            hz("H1", H1),
            hz("H2", H2, status="released", closed="2024-06-01"),
            hz("H3", H3, kind="SHA", status="removed", closed="2024-07-01"),
            hz("H4", H4, recorded="2024-03-01"),
            hz("H5", H5, status="released", closed="2024-09-01"),
            hz("H6", H6, status="released", closed="2024-10-01"),
        ]
    )
    releases = releases_layer(
        [
            rl("T1", T1, method="reduction_ts", date="2024-05-01", hazard_id="H1"),
            rl(
                "C2",
                H2,
                method="clearance",
                date="2024-06-01",
                hazard_id="H2",
                district="Beta",
                submunitions=3,
            ),
            rl(
                "N1",
                N1,
                method="cancellation_nts",
                date="2024-08-01",
                operator="NPA",
                district="Beta",
            ),
            rl(
                "C5",
                H5.union(E5),
                method="clearance",
                date="2024-09-01",
                hazard_id="H5",
                operator="KSF",
                district="North",
                cmr_found=False,
            ),
            rl("C6a", C6A, method="clearance", date="2024-10-01", hazard_id="H6", submunitions=1),
            rl(
                "C6b",
                C6B,
                method="clearance",
                date="2024-10-01",
                hazard_id="H6",
                district="Alphadist",
                cmr_found=True,
            ),
            rl("C23", sq(20.990, 42.50), method="clearance", date="2023-07-01", submunitions=2),
        ]
    )
    return hazards, releases


def test_reconciliation_of_a_hand_built_year(case, munis):
    hazards, releases = case
    led = reconcile(hazards, releases, year=2024, municipalities=munis)
    start = area(H1, T1, H2, H3, H5, H6)
    assert led["start_of_year_m2"] == pytest.approx(start, abs=0.01)
    assert led["end_of_year_m2"] == pytest.approx(area(H1, H4), abs=0.01)
    assert led["added_by_survey_m2"] == pytest.approx(area(H4), abs=0.01)
    assert led["reduction_ts_m2"] == pytest.approx(area(T1), abs=0.01)
    assert led["cancellation_nts_m2"] == pytest.approx(area(N1), abs=0.01)
    assert led["clearance_m2"] == pytest.approx(area(H2, H5.union(E5), C6A, C6B), abs=0.01)
    # What the layers leave unexplained is known by construction:
    # NTS outside every hazard + the part of C5 outside H5 + the strip cleared twice
    # - the hazard removed without a release.
    known = area(N1) + area(E5) + area(STRIP) - area(H3)
    assert led["unexplained_m2"] == pytest.approx(known, abs=1.0)
    assert abs(led["residual_m2"]) < 1.0
    effects = {(c["cause"], c["id"]): c["effect_m2"] for c in led["causes"]}
    assert effects[("release_outside_hazards", "N1")] == pytest.approx(area(N1), abs=1)
    assert effects[("release_outside_hazards", "C5")] == pytest.approx(area(E5), abs=1)
    assert effects[("release_overlap", "C6a+C6b")] == pytest.approx(area(STRIP), abs=1)
    assert effects[("hazard_closed_without_release", "H3")] == pytest.approx(-area(H3), abs=1)
    assert effects[("district_label_mismatch", "C2")] == 0
    assert len(effects) == 5  # T1 (a cut), C2, C6a, C6b inside their hazards: no cause
    summary = {s["cause"]: s["features"] for s in led["summary"]}
    assert summary["release_outside_hazards"] == 2


def test_contamination_at_adds_back_later_cuts(case):
    hazards, releases = case
    assert contamination_at(hazards, releases, "2024-04-30") == pytest.approx(
        area(H1, T1, H2, H3, H4, H5, H6), abs=0.01
    )
    assert contamination_at(hazards, releases, "2024-05-01") == pytest.approx(
        area(H1, H2, H3, H4, H5, H6), abs=0.01
    )


def test_hazard_only_partly_released_and_release_inside_open_hazard(munis):
    big = sq(20.95, 42.5, w=2 * D)
    hazards = hazards_layer(
        [hz("P", big, status="released", closed="2024-08-01"), hz("Q", sq(20.97, 42.5))]
    )
    releases = releases_layer(
        [
            rl("R1", sq(20.95, 42.5), method="clearance", date="2024-08-01", hazard_id="P"),
            rl("R2", sq(20.97, 42.5, w=D / 2), method="clearance", date="2024-06-01"),
        ]
    )
    led = reconcile(hazards, releases, year=2024)
    effects = {(c["cause"], c["id"]): c["effect_m2"] for c in led["causes"]}
    half = sq(20.95 + D, 42.5)
    assert effects[("hazard_not_fully_released", "P")] == pytest.approx(-area(half), abs=1)
    r2 = area(sq(20.97, 42.5, w=D / 2))
    assert effects[("release_within_open_hazard", "R2")] == pytest.approx(r2, abs=1)
    assert abs(led["residual_m2"]) < 1.0


def test_tables_on_the_hand_built_case(case, munis):
    hazards, releases = case
    rep = land_release_report(hazards, releases, munis, year=2024)
    t1 = {r["region"]: r for r in rep["contamination_by_region"]}
    assert list(t1) == ["South", "North"]
    assert t1["North"]["cha_count"] == 2 and t1["South"]["total_count"] == 0
    assert t1["North"]["cha_area_m2"] == pytest.approx(area(H1, H4), abs=0.01)
    t4 = rep["release_by_method"]
    assert t4["submunitions"] == 4 and t4["previous_year"]["submunitions"] == 2
    assert t4["previous_year"]["clearance_m2"] == pytest.approx(area(sq(20.99, 42.5)), abs=0.01)
    t7 = {(r["district"], r["operator"]): r for r in rep["clearance_by_district"]}
    assert t7[("Alpha", "HALO")]["areas_cleared"] == 1
    assert t7[("Beta", "HALO")]["submunitions"] == 3
    assert rep["totals"]["clearance_by_district"]["areas_cleared"] == 4
    assert [r["operator"] for r in rep["cleared_without_cmr"]] == ["KSF"]
    assert [r["year"] for r in rep["clearance_by_year"]] == [2024, 2023, 2022, 2021, 2020]
    assert rep["nts_by_municipality"] == [
        {
            "district": "Beta",
            "operator": "NPA",
            "records": 1,
            "area_m2": pytest.approx(area(N1), abs=0.01),
            "verified_m2": 0.0,  # issue 15: a record with no verification is pending
            "pending_m2": pytest.approx(area(N1), abs=0.01),
        }
    ]
    ind = rep["indicators"]
    assert ind["area_cleared_per_submunition_m2"]["2024"] == pytest.approx(
        rep["release_by_method"]["clearance_m2"] / 4
    )
    assert ind["share_cleared_without_cmr"] == pytest.approx(
        area(H5.union(E5)) / rep["release_by_method"]["clearance_m2"]
    )
    empty_capacity = read_capacity().iloc[:0]
    rep = land_release_report(hazards, releases, munis, year=2024, capacity=empty_capacity)
    ops = {r["operator"]: r for r in rep["indicators"]["release_by_operator"]}
    assert ops["HALO"]["teams"] is None and ops["HALO"]["clearance_m2_per_team"] is None
    rep = land_release_report(hazards, releases, munis, year=2024, capacity=read_capacity())
    ops = {r["operator"]: r for r in rep["indicators"]["release_by_operator"]}
    assert ops["KSF"]["teams"] == 4
    assert ops["KSF"]["clearance_m2_per_team"] == pytest.approx(area(H5.union(E5)) / 4)
    assert rep["synthetic"] is False
    json.dumps(rep)  # plain JSON types only


def test_table1_is_the_contamination_open_at_the_end_of_the_year(case, munis):
    hazards, _ = case
    table = contamination_by_region(hazards, munis, year=2024).set_index("region")
    assert table.loc["North", "total_count"] == 2  # H1 and H4; H2, H3, H5, H6 closed
    assert table.loc["North", "total_area_m2"] == pytest.approx(area(H1, H4), abs=0.01)
    assert table.loc["South", "total_count"] == 0
    earlier = contamination_by_region(hazards, munis, year=2023).set_index("region")
    assert earlier.loc["North", "cha_count"] == 4 and earlier.loc["North", "sha_count"] == 1  # H3


def test_capacity_used_only_for_its_year(case, munis):
    hazards, releases = case
    rep = land_release_report(hazards, releases, munis, year=2023)
    assert all(r["teams"] is None for r in rep["indicators"]["release_by_operator"])


def test_capacity_from_the_programme_table_gives_the_per_team_indicators(case, munis, tmp_path):
    hazards, releases = case
    rep = land_release_report(hazards, releases, munis, year=2024)  # the shipped table
    ops = {r["operator"]: r for r in rep["indicators"]["release_by_operator"]}
    assert (ops["HALO"]["teams"], ops["HALO"]["personnel"]) == (9, 58)
    assert ops["NPA"]["release_m2_per_team"] == pytest.approx(area(N1) / 8)
    # a table without years (or personnel) applies to every year, personnel unknown
    path = tmp_path / "capacity.csv"
    path.write_text("operator,teams\nHALO,2\nNPA,4\n", encoding="utf-8")
    rep = land_release_report(hazards, releases, munis, year=2024, capacity=read_capacity(path))
    ops = {r["operator"]: r for r in rep["indicators"]["release_by_operator"]}
    assert ops["HALO"]["teams"] == 2 and ops["HALO"]["personnel"] is None
    assert ops["HALO"]["clearance_m2_per_person"] is None
    assert ops["NPA"]["release_m2_per_team"] == pytest.approx(area(N1) / 4)
    assert ops["KSF"]["teams"] is None


def test_an_empty_year(case, munis):
    hazards, releases = case
    rep = land_release_report(hazards, releases, munis, year=2019)
    for key in (
        "nts_by_municipality",
        "ts_by_municipality",
        "clearance_by_district",
        "cleared_without_cmr",
    ):
        assert rep[key] == []
    assert rep["release_by_method"]["total_m2"] == 0
    assert rep["indicators"]["area_cleared_per_submunition_m2"] == {"2019": None, "2018": None}
    assert rep["indicators"]["share_cleared_without_cmr"] is None
    led = rep["reconciliation"]
    assert led["start_of_year_m2"] == pytest.approx(led["end_of_year_m2"])
    assert led["unexplained_m2"] == pytest.approx(0, abs=1e-6)
    assert led["causes"] == []
    assert sum(r["total_count"] for r in rep["contamination_by_region"]) == 5  # H1-H3, H5-H6
    for text in (to_markdown(rep), to_html(rep), to_csv(rep)):
        assert "2019" in text


def test_a_year_with_releases_but_no_hazards(case, munis):
    _, releases = case
    rep = land_release_report(empty_layer("hazards"), releases, munis, year=2024)
    assert sum(r["total_area_m2"] for r in rep["contamination_by_region"]) == 0
    led = rep["reconciliation"]
    released = rep["release_by_method"]["total_m2"]
    assert led["start_of_year_m2"] == 0 and led["end_of_year_m2"] == 0
    assert led["unexplained_m2"] == pytest.approx(released)
    outside = [c for c in led["causes"] if c["cause"] == "release_outside_hazards"]
    assert len(outside) == 6
    assert sum(c["effect_m2"] for c in outside) == pytest.approx(released, abs=0.01)
    assert abs(led["residual_m2"]) < 0.01
    assert len(rep["clearance_by_district"]) == 4


def test_district_labels_are_checked_against_the_location(case, munis):
    _, releases = case
    labels = check_district_labels(releases, munis).set_index("release_id")
    assert not labels.loc["C2", "matches"] and labels.loc["C2", "matches"] is not None
    assert labels.loc["C2", "municipality"] == "Alpha"
    assert labels.loc["C5", "matches"]  # a region label
    assert labels.loc["C6b", "matches"]  # a district label
    assert labels.loc["N1", "matches"]


def test_spelling_variants_match(munis):
    from kosovo_cmr.places import match_key as _fold_place

    assert _fold_place("Mitrovica") == _fold_place("Mitrovicë")
    assert _fold_place("Leposavic") == _fold_place("Leposaviq") == _fold_place("Leposavić")
    assert _fold_place("Gracanica") == _fold_place("Graçanicë")
    assert _fold_place("Prishtina") == _fold_place("Prishtinë")
    assert _fold_place("Pejë") != _fold_place("Prizren")


def test_bad_year_is_refused(case, munis):
    hazards, releases = case
    with pytest.raises(InputError, match="year"):
        land_release_report(hazards, releases, munis, year=24)


# --- renderers ----------------------------------------------------------------------------


@pytest.fixture
def report(case, munis):
    hazards, releases = case
    return land_release_report(hazards, releases, munis, year=2024)


def test_html_is_self_contained_and_escaped(report, munis):
    report = dict(report, title="Report <script>alert(1)</script>")
    page = to_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert page.count('src="data:image/png;base64,') == 3
    assert "http://" not in page and "https://" not in page
    assert BANNER not in page  # not synthetic
    assert "Reconciliation ledger 2024" in page


def test_synthetic_banner(case, munis):
    hazards, releases = case
    hazards = hazards.assign(synthetic=[True] + [False] * (len(hazards) - 1))
    rep = land_release_report(hazards, releases, munis, year=2024)
    assert rep["synthetic"] is True
    assert 'class="banner"' in to_html(rep) and "SYNTHETIC" in to_markdown(rep)


def test_charts_are_png(report):
    images = charts(report)
    assert set(images) == {"clearance_by_year", "release_by_operator", "contamination_by_region"}
    assert all(png.startswith(b"\x89PNG") for png in images.values())


def test_markdown_tables(report):
    text = to_markdown(report)
    assert "## Table 7: CMR clearance in 2024" in text
    assert "| Totals |  | 4 |" in text


def test_csv_is_tidy_and_complete(report):
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert set(rows[0]) == {"table", "row", "field", "value"}
    tables = {r["table"] for r in rows}
    assert {
        "contamination_by_region",
        "clearance_by_district",
        "reconciliation",
        "reconciliation_causes",
        "indicators",
    } <= tables
    unexplained = [r for r in rows if r["field"] == "unexplained_m2"][0]
    assert float(unexplained["value"]) == pytest.approx(report["reconciliation"]["unexplained_m2"])


def test_xlsx_has_a_sheet_per_table(report, tmp_path):
    import openpyxl

    path = tmp_path / "r.xlsx"
    write_report(report, path, fmt="xlsx")
    book = openpyxl.load_workbook(path)
    assert {"table1_contamination", "table7_clearance", "ledger", "causes"} <= set(book.sheetnames)
    sheet = book["table7_clearance"]
    assert [c.value for c in sheet[1]][:3] == ["district", "operator", "areas_cleared"]


def test_write_report_refuses_bad_format_and_xlsx_to_stdout(report):
    with pytest.raises(InputError):
        write_report(report, None, fmt="pdf")
    with pytest.raises(InputError):
        write_report(report, None, fmt="xlsx")
    assert json.loads(write_report(report, None, fmt="json"))["year"] == 2024


def test_json_is_strict(report):
    import numpy as np

    text = write_report(
        dict(report, extra=[float("nan"), np.float64("inf"), np.int64(2)]), None, fmt="json"
    )
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["extra"] == [None, None, 2]
    assert json.loads(text)["reconciliation"] == report["reconciliation"]


def test_overlapping_hazards_are_not_mistaken_for_causes():
    # A and B overlap (the database counts their overlap twice); A is cleared by its own
    # release, B stays open. C and E overlap and are both cleared by their own releases.
    a, b = sq(20.95, 42.5), sq(20.95 + D / 2, 42.5)
    c, e = sq(20.97, 42.5), sq(20.97 + D / 2, 42.5)
    hazards = hazards_layer(
        [
            hz("A", a, status="released", closed="2024-05-01"),
            hz("B", b),
            hz("C", c, status="released", closed="2024-06-01"),
            hz("E", e, status="released", closed="2024-07-01"),
        ]
    )
    releases = releases_layer(
        [
            rl("RA", a, method="clearance", date="2024-05-01", hazard_id="A"),
            rl("RC", c, method="clearance", date="2024-06-01", hazard_id="C"),
            rl("RE", e, method="clearance", date="2024-07-01", hazard_id="E"),
        ]
    )
    led = reconcile(hazards, releases, year=2024)
    assert led["unexplained_m2"] == pytest.approx(0, abs=0.01)
    assert led["causes"] == []
