"""``kcmr report`` and ``kcmr overlay`` on the demo store reproduce the report's tables.

The expected figures are typed from the Mine Action Review 2025 Kosovo chapter
(/work/shared/reference/mine-action-review-kosovo-2025.md): they are the specification.
The computed figures come from the demo layers through the package's own measures.
"""

import json

import openpyxl
import pytest
from click.testing import CliRunner

from kosovo_cmr.cli.main import cli

# Table 1 (end 2024): region -> (CHAs, CHA m2, SHAs, SHA m2, total areas, total m2)
TABLE1 = {
    "South": (3, 346_168, 3, 436_400, 6, 782_568),
    "North": (5, 2_062_880, 3, 1_391_903, 8, 3_454_783),
    "Centre": (5, 363_952, 0, 0, 5, 363_952),
    "East": (1, 320_000, 0, 0, 1, 320_000),
    "West": (8, 748_614, 7, 595_375, 15, 1_343_989),
}
# The report prints a grand total of 6,269,292 m2, which is not the sum of its own rows
# (nor of its CHA and SHA totals, 3,841,614 + 2,423,678): 6,265,292 is.
TABLE1_TOTALS = (22, 3_841_614, 13, 2_423_678, 35, 6_265_292)
TABLE4 = {  # year -> clearance, TS, NTS (km2, as the report gives them), submunitions
    2024: (1.51, 0.08, 5.54, 89),
    2023: (1.92, 0.31, 0.0, 196),
}
TABLE5 = {
    ("Mitrovica", "NPA"): 2_417_021,
    ("Gracanica", "NPA"): 0,
    ("Leposavic", "NPA"): 1_831_558,
    ("Zubin Potok", "NPA"): 1_294_410,
}
TABLE5_TOTAL = 5_542_989
TABLE6 = {("Pejë", "HALO"): 47_216, ("Prizren", "HALO"): 32_740}
TABLE6_TOTAL = 79_956
TABLE7 = {  # (district, operator): areas, m2, submunitions, AP mines, other UXO
    ("East", "KSF"): (1, 36_400, 0, 0, 185),
    ("South", "KSF"): (2, 66_100, 8, 0, 0),
    ("Mitrovica", "NPA"): (3, 606_700, 11, 0, 63),
    ("Gracanica", "NPA"): (1, 35_940, 2, 5, 328),
    ("Prishtina", "NPA"): (1, 33_640, 0, 0, 1),
    ("Zubin Potok", "NPA"): (1, 302_815, 20, 0, 1),
    ("Gjakovë", "HALO"): (3, 217_186, 38, 0, 0),
    ("Pejë", "HALO"): (2, 18_522, 1, 0, 0),
    ("Prishtinë", "HALO"): (2, 64_572, 9, 0, 0),
    ("Prizren", "HALO"): (3, 128_212, 0, 0, 0),
}
TABLE7_TOTALS = (19, 1_510_087, 89, 5, 578)
TABLE8 = {"NPA": 33_640, "HALO": 128_212, "KSF": 36_400}
TABLE8_TOTAL = 198_252
TABLE9_KM2 = {2024: 1.51, 2023: 1.92, 2022: 1.32, 2021: 1.30, 2020: 0.34}
TABLE9_TOTAL_KM2 = 6.39
# Indicators: 1 submunition per 16,967 m2 cleared in 2024, per 9,813 m2 in 2023.
PER_SUBMUNITION = {"2024": 16_967, "2023": 9_813}
# Text: 8.78 km2 at the end of 2023; 151,914 m2 added by survey in 2024.
START_2024_M2 = 8_780_000
ADDED_2024_M2 = 151_914


def run(*args, store=None):
    argv = (["--store", str(store)] if store else []) + list(args)
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


@pytest.fixture(scope="module")
def demo_report(demo_store):
    result = run("report", "--year", "2024", "--format", "json", store=demo_store.uri)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_table1(demo_report):
    rows = {r["region"]: r for r in demo_report["contamination_by_region"]}
    assert list(rows) == list(TABLE1)  # the report's order
    for region, expected in TABLE1.items():
        r = rows[region]
        got = (
            r["cha_count"],
            round(r["cha_area_m2"]),
            r["sha_count"],
            round(r["sha_area_m2"]),
            r["total_count"],
            round(r["total_area_m2"]),
        )
        assert got == expected, region
    t = demo_report["totals"]["contamination_by_region"]
    assert (
        t["cha_count"],
        round(t["cha_area_m2"]),
        t["sha_count"],
        round(t["sha_area_m2"]),
        t["total_count"],
        round(t["total_area_m2"]),
    ) == TABLE1_TOTALS


def test_table4(demo_report):
    t4 = demo_report["release_by_method"]
    for row in (t4, t4["previous_year"]):
        clearance, ts, nts, subs = TABLE4[row["year"]]
        assert round(row["clearance_m2"] / 1e6, 2) == clearance
        assert round(row["reduction_ts_m2"] / 1e6, 2) == ts
        assert round(row["cancellation_nts_m2"] / 1e6, 2) == nts
        assert row["submunitions"] == subs
    # to the m2 where the report's own tables give it
    assert round(t4["clearance_m2"]) == TABLE7_TOTALS[1]
    assert round(t4["reduction_ts_m2"]) == TABLE6_TOTAL
    assert round(t4["cancellation_nts_m2"]) == TABLE5_TOTAL
    assert round(t4["total_m2"] / 1e6, 2) == 7.13  # "totalled 7.13 km2"


def test_tables_5_and_6(demo_report):
    got5 = {
        (r["district"], r["operator"]): round(r["area_m2"])
        for r in demo_report["nts_by_municipality"]
    }
    assert got5 == TABLE5
    assert round(demo_report["totals"]["nts_by_municipality"]["area_m2"]) == TABLE5_TOTAL
    got6 = {
        (r["district"], r["operator"]): round(r["area_m2"])
        for r in demo_report["ts_by_municipality"]
    }
    assert got6 == TABLE6
    assert round(demo_report["totals"]["ts_by_municipality"]["area_m2"]) == TABLE6_TOTAL


def test_table7(demo_report):
    got = {
        (r["district"], r["operator"]): (
            r["areas_cleared"],
            round(r["area_m2"]),
            r["submunitions"],
            r["ap_mines"],
            r["other_uxo"],
        )
        for r in demo_report["clearance_by_district"]
    }
    assert got == TABLE7
    t = demo_report["totals"]["clearance_by_district"]
    assert (
        t["areas_cleared"],
        round(t["area_m2"]),
        t["submunitions"],
        t["ap_mines"],
        t["other_uxo"],
    ) == TABLE7_TOTALS


def test_table8(demo_report):
    got = {r["operator"]: round(r["area_m2"]) for r in demo_report["cleared_without_cmr"]}
    assert got == TABLE8
    assert round(demo_report["totals"]["cleared_without_cmr"]["area_m2"]) == TABLE8_TOTAL
    ksf = [r for r in demo_report["cleared_without_cmr"] if r["operator"] == "KSF"][0]
    assert ksf["comment"].startswith("185 other item")


def test_table9(demo_report):
    got = {r["year"]: round(r["area_m2"] / 1e6, 2) for r in demo_report["clearance_by_year"]}
    assert got == TABLE9_KM2
    total = demo_report["totals"]["clearance_by_year"]["area_m2"]
    assert round(total / 1e6, 2) == TABLE9_TOTAL_KM2


def test_indicators(demo_report):
    ind = demo_report["indicators"]
    got = {y: round(v) for y, v in ind["area_cleared_per_submunition_m2"].items()}
    assert got == PER_SUBMUNITION
    assert ind["share_cleared_without_cmr"] == pytest.approx(
        TABLE8_TOTAL / TABLE7_TOTALS[1], abs=1e-6
    )
    ops = {r["operator"]: r for r in ind["release_by_operator"]}
    assert (ops["KSF"]["teams"], ops["HALO"]["teams"], ops["NPA"]["teams"]) == (4, 9, 8)
    assert round(ops["NPA"]["cancellation_nts_m2"]) == TABLE5_TOTAL
    assert round(sum(r["clearance_m2"] for r in ops.values())) == TABLE7_TOTALS[1]


def test_reconciliation(demo_report):
    led = demo_report["reconciliation"]
    assert round(led["start_of_year_m2"]) == START_2024_M2
    assert round(led["added_by_survey_m2"]) == ADDED_2024_M2
    assert round(led["end_of_year_m2"]) == TABLE1_TOTALS[5]
    assert round(led["clearance_m2"]) == TABLE7_TOTALS[1]
    released = led["clearance_m2"] + led["reduction_ts_m2"] + led["cancellation_nts_m2"]
    expected_end = led["start_of_year_m2"] - released + led["added_by_survey_m2"]
    assert led["unexplained_m2"] == pytest.approx(led["end_of_year_m2"] - expected_end)
    summary = {s["cause"]: s for s in led["summary"]}
    # KMAC: the area NPA cancelled was never in the database as contaminated area
    outside = summary["release_outside_hazards"]
    assert round(outside["effect_m2"]) == TABLE5_TOTAL
    nts_ids = {c["id"] for c in led["causes"] if c["cause"] == "release_outside_hazards"}
    assert len(nts_ids) == 10
    # what is left is the hazards closed without a release record
    removed = summary["hazard_closed_without_release"]
    assert round(led["unexplained_m2"]) == round(outside["effect_m2"] + removed["effect_m2"])
    assert abs(led["residual_m2"]) < 1
    assert set(summary) == {"release_outside_hazards", "hazard_closed_without_release"}
    # every label of 2024 matches where its polygon lies (one NTS record has no geometry)
    assert [r["matches"] for r in demo_report["label_check"]].count(None) == 1
    assert all(r["matches"] in (True, None) for r in demo_report["label_check"])


def test_json_keys(demo_report):
    for key in (
        "contamination_by_region",
        "release_by_method",
        "nts_by_municipality",
        "ts_by_municipality",
        "clearance_by_district",
        "cleared_without_cmr",
        "clearance_by_year",
        "indicators",
        "reconciliation",
    ):
        assert key in demo_report
    assert set(demo_report["contamination_by_region"][0]) == {
        "region",
        "cha_count",
        "cha_area_m2",
        "sha_count",
        "sha_area_m2",
        "total_count",
        "total_area_m2",
        "verified_area_m2",  # issue 15: verified and awaiting verification
        "pending_area_m2",
    }
    assert {"clearance_m2", "reduction_ts_m2", "cancellation_nts_m2", "submunitions"} <= set(
        demo_report["release_by_method"]
    )
    assert demo_report["synthetic"] is True


@pytest.mark.parametrize("fmt", ["md", "html", "csv", "xlsx"])
def test_every_format_writes_a_file(demo_store, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    result = run("report", "--year", "2024", "--format", fmt, "-o", str(out), store=demo_store.uri)
    assert result.exit_code == 0, result.output
    if fmt == "xlsx":
        assert "table7_clearance" in openpyxl.load_workbook(out).sheetnames
    else:
        text = out.read_text(encoding="utf-8")
        assert "1,510,087" in text or "1510087" in text
        if fmt in ("md", "html"):
            assert "SYNTHETIC" in text


@pytest.mark.parametrize(
    "suffix, check",
    [
        (".json", lambda p: json.loads(p.read_text(encoding="utf-8"))["year"] == 2024),
        (".html", lambda p: p.read_text(encoding="utf-8").lstrip().startswith("<!DOCTYPE html>")),
        (".xlsx", lambda p: "table7_clearance" in openpyxl.load_workbook(p).sheetnames),
        (".md", lambda p: p.read_text(encoding="utf-8").startswith("# Land release report")),
        (".txt", lambda p: p.read_text(encoding="utf-8").startswith("# Land release report")),
    ],
)
def test_the_output_suffix_chooses_the_format_unless_given(demo_store, tmp_path, suffix, check):
    """``report -o r.json`` writes JSON (not Markdown into a .json file); .txt keeps md."""
    out = tmp_path / f"r{suffix}"
    result = run("report", "--year", "2024", "-o", str(out), store=demo_store.uri)
    assert result.exit_code == 0, result.output
    assert check(out)
    explicit = tmp_path / "explicit.json"
    result = run(
        "report", "--year", "2024", "--format", "md", "-o", str(explicit), store=demo_store.uri
    )
    assert result.exit_code == 0 and explicit.read_text(encoding="utf-8").startswith("# Land")


def test_output_is_not_overwritten(demo_store, tmp_path):
    out = tmp_path / "r.json"
    out.write_text("keep")
    result = run(
        "report", "--year", "2024", "--format", "json", "-o", str(out), store=demo_store.uri
    )
    assert result.exit_code == 1 and "--overwrite" in result.stderr
    assert out.read_text() == "keep"
    result = run(
        "report",
        "--year",
        "2024",
        "--format",
        "json",
        "-o",
        str(out),
        "--overwrite",
        store=demo_store.uri,
    )
    assert result.exit_code == 0 and json.loads(out.read_text())["year"] == 2024


def test_errors_are_one_line(demo_store, tmp_path):
    result = run("report", "--year", "2024", "--format", "xlsx", store=demo_store.uri)
    assert result.exit_code == 1 and "needs an output file" in result.stderr
    result = run("report", "--year", "2024", store=tmp_path / "missing.gpkg")
    assert result.exit_code == 4 and len(result.stderr.strip().splitlines()) == 1
    result = run("report", store=demo_store.uri)
    assert result.exit_code == 2  # --year is required


def test_a_year_outside_the_releases_is_an_error_listing_the_years(demo_store):
    """Issue 14 item 9: a report of a year with no data printed zeros with exit 0."""
    result = run("report", "--year", "2019", "--format", "json", store=demo_store.uri)
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["class"] == "InputError" and error["code"] == 1
    assert "2020-2024" in error["message"] and "2019" in error["message"]
    assert result.stderr.startswith("kcmr: error: year 2019: no release is dated 2019")


def test_an_empty_year_inside_the_span_says_so(demo_store_copy):
    releases = demo_store_copy.read("releases")
    keep = releases[releases["date"].dt.year != 2022]
    demo_store_copy.write(keep, "releases")
    result = run("report", "--year", "2022", "--format", "json", store=demo_store_copy.uri)
    assert result.exit_code == 0, result.output
    rep = json.loads(result.stdout)
    assert rep["clearance_by_district"] == [] and rep["release_by_method"]["total_m2"] == 0
    assert "no release is dated 2022" in result.stderr


def test_overlay_by_region_is_table1(demo_store):
    result = run("overlay", "--by", "region", "--format", "json", store=demo_store.uri)
    assert result.exit_code == 0, result.output
    rows = {r["region"]: r for r in json.loads(result.stdout)["rows"]}
    for region, expected in TABLE1.items():
        r = rows[region]
        assert (
            r["cha_count"],
            round(r["cha_area_m2"]),
            r["sha_count"],
            round(r["sha_area_m2"]),
        ) == expected[:4]


def test_overlay_by_municipality(demo_store, tmp_path):
    out = tmp_path / "m.csv"
    result = run(
        "overlay",
        "--by",
        "municipality",
        "--format",
        "csv",
        "-o",
        str(out),
        "--date",
        "2024-12-31",
        store=demo_store.uri,
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("municipality,cha_count")
    assert len(lines) == 1 + 38
    assert sum(int(line.split(",")[5]) for line in lines[1:]) == 35
    table = run("overlay", store=demo_store.uri)
    assert "Totals" in table.stdout and "6,265,292" in table.stdout
    bad = run("overlay", "--date", "someday", store=demo_store.uri)
    assert bad.exit_code == 1


# --- the completion forecast in the report (issue: planning) ---------------------------


def report_cli(store, *args):
    return CliRunner().invoke(cli, ["--store", store.uri, "report", "--year", "2024", *args])


@pytest.fixture(scope="module")
def forecast_report(demo_store):
    result = report_cli(demo_store, "--forecast", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_report_without_forecast_has_none(demo_report):
    assert "forecast" not in demo_report


def test_forecast_section_matches_kcmr_forecast(forecast_report, demo_store):
    fc = forecast_report["forecast"]
    result = CliRunner().invoke(
        cli, ["--store", demo_store.uri, "forecast", "--what", "scenarios", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert fc["scenarios"] == json.loads(result.output)["scenarios"]
    assert fc["hazards"] == 35 and sum(fc["hazards_by_priority"].values()) == 35
    assert fc["terrain"] is False


def test_burndown_curves_agree_with_the_scenario_table(forecast_report):
    fc = forecast_report["forecast"]
    deadline = fc["deadline_year"]
    for row in fc["scenarios"]:
        if row["team_days"] is None:
            continue
        curve = fc["burndown"][row["scenario"]]
        assert curve["all"][0] == pytest.approx(row["area_to_clear_m2"])
        # the end of the deadline year's season: the last sample of that year
        samples = zip(curve["year"], curve["all"], strict=True)
        at_deadline = [a for y, a in samples if y < deadline + 1][-1]
        assert at_deadline == pytest.approx(row[f"remaining_end_{deadline}_m2"], abs=1e-6)
        by_class = zip(curve["high"], curve["medium"], curve["low"], strict=True)
        assert [sum(parts) for parts in by_class] == pytest.approx(curve["all"])


def test_html_report_embeds_the_burndown_chart(demo_store, tmp_path):
    out, plain = tmp_path / "r.html", tmp_path / "plain.html"
    result = report_cli(demo_store, "--forecast", "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert 'alt="Burn-down' in page
    assert "Completion forecast to 2030" in page and "April 2025 capacity" in page
    assert report_cli(demo_store, "--format", "html", "-o", str(plain)).exit_code == 0
    assert 'alt="Burn-down' not in plain.read_text(encoding="utf-8")


def test_forecast_in_markdown_csv_and_xlsx(demo_store, tmp_path):
    md = report_cli(demo_store, "--forecast", "--format", "md").output
    assert "Completion forecast to 2030" in md and "| April 2025 capacity |" in md
    csv_text = report_cli(demo_store, "--forecast", "--format", "csv").output
    assert "forecast_scenarios,0,scenario,April 2025 capacity" in csv_text
    path = tmp_path / "r.xlsx"
    assert report_cli(demo_store, "--forecast", "--format", "xlsx", "-o", str(path)).exit_code == 0
    assert {"forecast", "burndown"} <= set(openpyxl.load_workbook(path).sheetnames)


def test_dem_without_forecast_is_refused(demo_store, tmp_path):
    dem = tmp_path / "dem.tif"
    dem.write_bytes(b"x")
    result = report_cli(demo_store, "--dem", str(dem))
    assert result.exit_code == 1
    assert "only used with the forecast" in result.output


def test_csv_and_xlsx_carry_the_planning_and_audit_tables(demo_store_copy, tmp_path):
    """Every format holds what the HTML shows: tolerable risk (18) and the audit (17)."""
    base = ["--store", demo_store_copy.uri, "report", "--year", "2024", "--forecast", "--audit"]
    csv_out = CliRunner().invoke(cli, [*base, "--format", "csv"], catch_exceptions=False)
    assert csv_out.exit_code == 0, csv_out.output
    tables = {line.split(",", 1)[0] for line in csv_out.stdout.splitlines()}
    assert {"tolerable_risk", "evidence_audit", "forecast_scenarios"} <= tables
    xlsx = tmp_path / "r.xlsx"
    done = CliRunner().invoke(cli, [*base, "--format", "xlsx", "-o", str(xlsx)])
    assert done.exit_code == 0, done.output
    names = openpyxl.load_workbook(xlsx, read_only=True).sheetnames
    assert {"tolerable_risk", "evidence_audit", "forecast"} <= set(names)
