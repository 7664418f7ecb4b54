"""Published figures: the Mine Action Review's own arithmetic, and its figures vs the layers."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from kosovo_cmr._resources import layer_file
from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError
from kosovo_cmr.report.published import check, check_internal, compare, figures, read_published
from kosovo_cmr.workflows.report import report_from_store

#: What the printed chapter gets wrong, found by reading it with a calculator.
KNOWN_INTERNAL = {
    # Table 1 prints 6,269,292 m2 in total; its rows (and its CHA + SHA totals) add up
    # to 6,265,292 m2.
    "table1.total.total_area_m2",
    "relation: the 2024 total contamination is the CHAs plus the SHAs (Table 1)",
    # "over 1.93 km2" cleared in 2023, against Table 9's 1.92 and 196 x 9,813 m2.
    "relation: the 2023 clearance in the text (over 1.93 km2) against Table 9 (1.92 km2)",
    "relation: the 2023 clearance in the text (over 1.93 km2) against 196 submunitions x 9,813 m2",
    # issue 15: Table 2 prints NPA's 27 women of 76 staff (35.53 %) as 35 %; every other
    # share of Tables 2 rounds half up (3 of 8 = 37.5 % is printed 38 %)
    "table2.NPA.women_staff_pct",
}


@pytest.fixture(scope="module")
def published():
    return read_published()


@pytest.fixture(scope="module")
def report(demo_store):
    return report_from_store(demo_store, year=2024)


def write_toml(tmp_path, text):
    path = tmp_path / "pub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_chapter_fails_exactly_its_known_checks(published):
    results = check_internal(published)
    assert {r["id"] for r in results if not r["ok"]} == KNOWN_INTERNAL
    assert len(results) > 20  # every printed total and relation was checked
    table1 = next(r for r in results if r["id"] == "table1.total.total_area_m2")
    assert table1["printed"] == 6_269_292
    assert table1["expected"] == [6_265_289.5, 6_265_294.5]  # five rows, each +-0.5 m2


def test_roundings_are_not_errors(published):
    results = {r["id"]: r for r in check_internal(published)}
    # Table 9's rows (1.51 + 1.92 + 1.32 + 1.30 + 0.34) and its printed total 6.39
    assert results["table9.total.area_m2"]["ok"]
    # 7.13 released = 1.51 + 0.08 + 5.54, each rounded to 0.01 km2
    assert results["relation: the area released is clearance + TS + NTS (Table 4)"]["ok"]
    # 1 per 16,967 m2 = 1,510,087 / 89 = 16,967.27
    ratio = "relation: 1 submunition per 16,967 m2 is Table 7's area over its submunitions"
    assert results[ratio]["ok"]


def test_demo_layers_match_every_printed_figure_but_the_wrong_ones(report, published):
    results = compare(report, published)
    assert len(results) == len(figures(published))  # no unprinted rows in the demo
    wrong = {r["id"]: r for r in results if not r["ok"]}
    assert set(wrong) == {
        "table1.total.total_area_m2",
        "text.clearance_2023_km2",
        "table2.NPA.women_staff_pct",  # issue 15: the staff table computes 35.53 %
    }
    assert wrong["table1.total.total_area_m2"]["gap"] == pytest.approx(3_999.5, abs=1)
    per_sub = next(r for r in results if r["id"] == "text.per_submunition_2024")
    assert per_sub["ok"] and per_sub["computed"] == pytest.approx(16_967.27, abs=0.01)


def _table(rows, totals, unit="m2"):
    body = "\n".join(f'    ["{k}", {v}],' for k, v in rows)
    return f"""
[source]
title = "hand-built"
year = 2024

[[table]]
id = "t"
report_key = "cleared_without_cmr"
report_totals = "cleared_without_cmr"
row_keys = ["operator"]
fields = ["area_m2"]
units = ["{unit}"]
rows = [
{body}
]
totals = [{totals}]
"""


def test_a_typo_in_a_row_is_found_twice(tmp_path, report):
    # Table 8 with HALO's 128,212 m2 mistyped as 182,212 m2
    pub = read_published(
        write_toml(tmp_path, _table([("NPA", 33640), ("HALO", 182212), ("KSF", 36400)], 198252))
    )
    [total] = check_internal(pub)
    # rows 252,252 +- 1.5 against the printed 198,252 +- 0.5
    assert not total["ok"] and total["gap"] == pytest.approx(54_000 - 1.5 - 0.5)
    wrong = {r["id"] for r in compare(report, pub) if not r["ok"]}
    assert wrong == {"t.HALO.area_m2"}


def test_rounding_intervals(tmp_path, report):
    # the computed Table 8 total is 198,252.0x m2: 0.20 km2 stands for 195,000-205,000
    ok = read_published(
        write_toml(tmp_path, _table([("NPA", 0.03), ("HALO", 0.13), ("KSF", 0.04)], 0.20, "km2"))
    )
    assert all(r["ok"] for r in check_internal(ok))
    assert all(r["ok"] for r in compare(report, ok))
    # rows of 0.034 + 0.134 + 0.044 km2 print as 0.03, 0.13, 0.04 and total 0.21: consistent
    close = read_published(
        write_toml(tmp_path, _table([("NPA", 0.03), ("HALO", 0.13), ("KSF", 0.04)], 0.21, "km2"))
    )
    assert all(r["ok"] for r in check_internal(close))
    off = read_published(
        write_toml(tmp_path, _table([("NPA", 0.03), ("HALO", 0.13), ("KSF", 0.04)], 0.23, "km2"))
    )
    [total] = check_internal(off)  # [0.225, 0.235] against at most 0.215 km2
    assert not total["ok"] and total["gap"] == pytest.approx(10_000)
    wrong = [r for r in compare(report, off) if not r["ok"]]
    assert [r["id"] for r in wrong] == ["t.total.area_m2"]
    assert wrong[0]["gap"] == pytest.approx(225_000 - 198_252, abs=1)


def test_rows_the_publication_does_not_print_are_listed(tmp_path, report):
    pub = read_published(write_toml(tmp_path, _table([("NPA", 33640), ("HALO", 128212)], 161852)))
    extra = [r for r in compare(report, pub) if r["printed"] is None]
    assert [r["id"] for r in extra] == ["t.KSF"]
    assert not extra[0]["ok"]


def test_another_year_is_only_checked_against_itself(tmp_path, demo_store):
    text = (
        layer_file("published", "mar-2025-kosovo.toml")
        .read_text(encoding="utf-8")
        .replace("year = 2024", "year = 2023", 1)
    )
    result = check(report_from_store(demo_store, year=2024), write_toml(tmp_path, text))
    assert result["against_layers"] == [] and "2023" in result["note"]
    assert result["internal_failures"] == len(KNOWN_INTERNAL)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not = [toml", "cannot read published figures"),
        ('[[table]]\nid = "x"\nfields = ["a"]\nunits = ["m2"]\nrows = [[1]]', "missing"),
        (
            '[[table]]\nid = "x"\nreport_key = "k"\nfields = ["a"]\nunits = ["acre"]\nrows = [[1]]',
            "unknown unit",
        ),
        ('[[relation]]\nwhat = "w"\nfigure = "text.nope"\nop = "sum"\nof = []', "no figure"),
    ],
)
def test_malformed_files_are_refused_with_the_entry(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        read_published(write_toml(tmp_path, text))


def test_unknown_shipped_name():
    with pytest.raises(InputError, match="no shipped published-figures file"):
        read_published("mar-1999")


def test_cli_published_in_every_format(demo_store, tmp_path):
    base = ["--store", demo_store.uri, "report", "--year", "2024", "--published"]
    md = CliRunner().invoke(cli, [*base, "--format", "md"])
    assert md.exit_code == 0, md.output
    assert "Published figures against the layers" in md.output
    assert "| text.clearance_2023_km2 |" in md.output
    doc = json.loads(CliRunner().invoke(cli, [*base, "--format", "json"]).output)
    assert doc["published_check"]["mismatches"] == 3  # issue 15: + Table 2's NPA share
    assert doc["published_check"]["internal_failures"] == 5
    own = tmp_path / "own.toml"
    shutil.copyfile(layer_file("published", "mar-2025-kosovo.toml"), own)
    res = CliRunner().invoke(cli, [*base[:-1], "--published", str(own), "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert "published_against_layers," in res.output
    plain = CliRunner().invoke(cli, [*base[:-1], "--format", "json"]).output
    assert "published_check" not in json.loads(plain)


# --- issue 15: Tables 2 and 3, cells as printed ---------------------------------------------


def test_tables_2_and_3_are_transcribed_as_printed_and_checked(published, report):
    internal = {r["id"]: r for r in check_internal(published)}
    npa = internal["table2.NPA.women_staff_pct"]
    assert (
        not npa["ok"]
        and npa["printed"] == 35
        and npa["expected"][0] == pytest.approx(35.526, abs=1e-3)
    )
    shares = [r for k, r in internal.items() if k.startswith("table2.") and k.endswith("_pct")]
    assert len(shares) == 15 and [r["id"] for r in shares if not r["ok"]] == [npa["id"]]
    assert internal["table2.NPA.women_managerial_pct"]["ok"]  # 3 of 8 = 37.5 % -> 38 %
    for table in ("table2", "table3"):  # every printed total is the sum of its rows
        assert all(r["ok"] for k, r in internal.items() if k.startswith(f"{table}.total."))
    remarks = check(report, published)["printing"]
    assert remarks == [
        {
            "id": "table2.HALO.women_managerial_pct",
            "printed": "6 21%)",
            "remark": "the opening parenthesis before '21%' is missing",
        }
    ]
    against = {r["id"]: r for r in compare(report, published)}
    assert against["table3.HALO.teams"]["ok"] and against["table3.total.personnel"]["ok"]
    assert against["table2.total.women_staff"]["computed"] == 97


def test_a_share_exactly_on_the_half_rounds_up(tmp_path, report):
    pub = read_published(
        write_toml(
            tmp_path,
            """
[[table]]
id = "s"
report_key = "staff_by_operator"
row_keys = ["operator"]
fields = ["managerial_staff", "women_managerial"]
units = ["count", "count"]
percent_of = { women_managerial = "managerial_staff" }
rows = [["NPA", "8", "3 (37%)"]]
""",
        )
    )
    [share] = [r for r in check_internal(pub) if r["id"].endswith("_pct")]
    assert not share["ok"] and share["gap"] == 0.0  # 37.5 % lies on the edge, rounds to 38
