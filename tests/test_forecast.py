"""Scenarios, money and calibration; the forecast workflow, its text and chart, CLI and demo.

The money and capacity engine (:mod:`kosovo_cmr.analysis.funding`) is checked against
scenarios worked out by hand, on its own and end to end through ``kcmr forecast``.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from kosovo_cmr.analysis.effort import ForecastWarning, clearance_effort, read_effort
from kosovo_cmr.analysis.forecast import observed_clearance, scenarios
from kosovo_cmr.analysis.funding import capacity_plan, run_programme
from kosovo_cmr.analysis.schedule import completion, schedule
from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import read_scenarios


@pytest.fixture
def effort():
    e = read_effort()
    e["season"]["working_days"] = 100
    e["season"]["start_year"] = 2025
    return e


def hand_table():
    """Three hazards whose team-days are round numbers at the shipped rates."""
    return pd.DataFrame(
        {
            "hazard_id": ["A1", "A2", "B1"],
            "priority": ["low", "high", "medium"],
            "operator": ["A", "A", "B"],
            "area_to_clear_m2": [24_600.0, 33_600.0, 2_000.0],
            "method": ["lld", "scorpion", "manual"],
            "rate_m2_per_team_day": [82.0, 168.0, 40.0],
            "team_days": [300.0, 200.0, 50.0],
        }
    )


def test_plot_burndown_bytes_and_file(effort, tmp_path):
    from kosovo_cmr.workflows.forecast import burndown_chart as plot_burndown

    sched = schedule(hand_table(), teams={"A": 2, "B": 1}, effort=effort)
    png = plot_burndown({"hand": sched}, effort=effort)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    path = plot_burndown({"hand": sched}, tmp_path / "b.png", effort=effort)
    assert path.read_bytes()[:8] == png[:8]


@pytest.fixture
def small_hazards():
    geoms = [box(7_480_000, 4_720_000, 7_480_000 + s, 4_720_000 + s) for s in (200, 300, 100)]
    return gpd.GeoDataFrame(
        {
            "hazard_id": ["H1", "H2", "H3"],
            "kind": ["CHA", "SHA", "CHA"],
            "priority": ["high", "medium", "low"],
            "operator": ["NPA", "HALO", "KSF"],
        },
        geometry=geoms,
        crs="EPSG:9141",
    )


def test_scenarios_table(small_hazards, effort):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastWarning)
        table, schedules = scenarios(small_hazards, effort=effort, fadeout_rules={})
    rows = table.set_index("scenario")
    named = [s["name"] for s in read_scenarios()["scenarios"]]
    # the scenario file's scenarios first, the lead (April 2025, calibrated) leading
    assert table["scenario"].tolist()[: len(named)] == named
    assert named[0] == "April 2025 capacity" and rows.loc[named[0], "capacity"] == (
        "KSF 4, HALO 9, NPA 5"
    )
    for name in named:
        row = rows.loc[name]
        assert row["assumes"] and row["completion_year"] >= 2025
        assert row["cost_eur"] > 0 and row["funding_gap_eur"] >= 0
    target = rows.loc["target 1.8 km2/year"]
    assert target["completion_year"] == 2025  # 0.13 km2 at 1.8 km2 a year
    assert pd.isna(target["cost_eur"])  # an area rate: no teams, no cost
    # the lead is calibrated on the observed year's (2024's) 21 teams
    base = clearance_effort(small_hazards, effort=effort)
    mean_rate = base["area_to_clear_m2"].sum() / base["team_days"].sum()
    factor = 1_510_087 / (21 * 100 * mean_rate)
    assert rows.loc[named[0], "team_days"] == pytest.approx(base["team_days"].sum() / factor)
    assert table.attrs["calibration"]["factor"] == pytest.approx(factor)
    uncalibrated = rows.loc["April 2025, report rates per team"]
    assert uncalibrated["team_days"] == pytest.approx(base["team_days"].sum())
    assert set(schedules) == set(table["scenario"])


# --- calibration: the observed year's clearance from the releases --------------------------


def releases_of(*rows):
    """Releases from ``(method, date, side_m)`` rows: squares on the national grid."""
    geoms = [
        box(7_500_000 + 1_000 * i, 4_700_000, 7_500_000 + 1_000 * i + side, 4_700_000 + side)
        for i, (_, _, side) in enumerate(rows)
    ]
    return gpd.GeoDataFrame(
        {
            "release_id": [f"R{i}" for i in range(len(rows))],
            "method": [m for m, _, _ in rows],
            "date": pd.to_datetime([d for _, d, _ in rows]),
        },
        geometry=geoms,
        crs="EPSG:9141",
    )


def test_observed_clearance_sums_the_years_clearance_only():
    releases = releases_of(
        ("clearance", "2024-05-02", 300),
        ("clearance", "2024-09-30", 100),
        ("clearance", "2023-06-01", 200),
        ("reduction_ts", "2024-06-01", 400),
    )
    got = observed_clearance(releases, year=2024)
    assert got == pytest.approx(100_000, rel=5e-4)  # 300 m and 100 m squares, geodesic
    assert observed_clearance(releases, year=2022) == 0.0
    with pytest.raises(InputError, match="date"):
        observed_clearance(releases.drop(columns="date"), year=2024)


def calibrated_row(table):
    """The lead row: the April 2025 capacity on calibrated rates."""
    return table.set_index("scenario").loc["April 2025 capacity"]


def modelled_output(hazards, effort, teams=21):
    base = clearance_effort(hazards, effort=effort)
    return teams * effort["season"]["working_days"] * (
        base["area_to_clear_m2"].sum() / base["team_days"].sum()
    ), base["team_days"].sum()


def run_scenarios(hazards, effort, releases):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastWarning)
        return scenarios(
            hazards,
            releases=releases,
            effort=effort,
            fadeout_rules={},
        )


def test_calibrated_scenario_reads_the_releases(small_hazards, effort):
    releases = releases_of(("clearance", "2024-05-02", 1_000), ("clearance", "2023-05-02", 500))
    table, _ = run_scenarios(small_hazards, effort, releases)
    row = calibrated_row(table)
    observed = observed_clearance(releases, year=2024)
    modelled, team_days = modelled_output(small_hazards, effort)
    assert row["team_days"] == pytest.approx(team_days / (observed / modelled))
    assert row["note"].startswith(
        f"rates x{observed / modelled:.2f}: scaled so that the 21 teams of 2024 (capacity table) "
        f"clear the {observed:,.0f} m2 observed in 2024"
    )
    assert row["note"].endswith("figure from the releases layer: 1 clearance release dated 2024")


def test_calibration_falls_back_to_the_effort_file_and_says_so(small_hazards, effort):
    modelled, team_days = modelled_output(small_hazards, effort)
    only_2023 = releases_of(("clearance", "2023-05-02", 1_000))
    for releases, why in (
        (only_2023, "the releases layer has no clearance in 2024"),
        (None, "no releases layer given"),
    ):
        table, _ = run_scenarios(small_hazards, effort, releases)
        row = calibrated_row(table)
        assert row["team_days"] == pytest.approx(team_days / (1_510_087 / modelled))
        assert row["note"].endswith(f"; fallback: figure from effort.toml, {why}")


def test_observed_year_defaults_to_the_latest_full_year(small_hazards, effort):
    del effort["calibration"]["observed_year"]
    releases = releases_of(
        ("clearance", "2022-05-02", 200),
        ("clearance", "2023-05-02", 1_000),
        ("clearance", "2025-05-02", 100),  # the forecast's first season: not a full year
    )
    row = calibrated_row(run_scenarios(small_hazards, effort, releases)[0])
    # no 2023 row in the capacity table: the nearest year's (2024) teams, and the note says so
    assert "the 21 teams of 2024" in row["note"] and "observed in 2023" in row["note"]
    assert "dated 2023" in row["note"]
    del effort["calibration"]["observed_clearance_m2"]
    none = releases_of(("reduction_ts", "2023-05-02", 1_000))
    table, _ = run_scenarios(small_hazards, effort, none)
    row = calibrated_row(table)
    assert row["note"].startswith("not calibrated: no observed clearance")  # no figure at all
    modelled, team_days = modelled_output(small_hazards, effort)
    assert row["team_days"] == pytest.approx(team_days)


# --- money and capacity, worked out by hand ----------------------------------------------------


def hand_work():
    """Three hazards whose team-days, costs and seasons are round numbers."""
    return pd.DataFrame(
        {
            "hazard_id": ["A1", "A2", "B1"],
            "priority": ["high", "low", "medium"],
            "operator": ["A", "A", "B"],
            "method": ["lld", "lld", "manual"],
            "area_to_clear_m2": [30_000.0, 20_000.0, 6_000.0],
            "team_days": [300.0, 200.0, 150.0],
        }
    )


HAND_COSTS = pd.DataFrame(
    {"operator": ["A", "B"], "method": ["*", "*"], "eur_per_team_day": [1000.0, 500.0]}
)
#: A's donors pay EUR 150,000 in 2025 only; B's EUR 40,000 every year.
HAND_POTS = [
    {"name": "a", "operators": ["A"], "eur_per_year": 150e3, "first_year": 2025, "last_year": 2025},
    {"name": "b", "operators": ["B"], "eur_per_year": 40e3, "first_year": 2025, "last_year": None},
]


def test_handover_cost_and_funding_gap_by_hand():
    # A: 2 teams, B: 1 team, 100 days a season; A leaves after 2025, B takes its hazards.
    plan = capacity_plan(
        {"A": 2, "B": 1}, changes=[("A", 2026, 0)], first_year=2025, last_year=2040
    )
    run = run_programme(
        hand_work(),
        capacity=plan,
        working_days=100,
        start_year=2025,
        costs=HAND_COSTS,
        confirmed=HAND_POTS,
        handover="B",
    )
    s = run.schedule.set_index("hazard_id")
    # 2025: A works 200 of A1's 300 team-days, B 100 of B1's 150. A leaves: B's list is then
    # A1 (high, 100 left), B1 (medium, 50 left), A2 (low, 200).
    # 2026: B finishes A1 (100 team-days: 1 + 100/100 = season 2.0).
    # 2027: B1's 50 (season 2.5), then 50 of A2. 2028: 100 of A2. 2029: A2's last 50 (4.5).
    assert s.loc["A1", "finish_season"] == pytest.approx(2.0)
    assert s.loc["B1", "finish_season"] == pytest.approx(2.5)
    assert s.loc["A2", "finish_season"] == pytest.approx(4.5)
    assert completion(run.schedule) == {"high": 2026, "medium": 2027, "low": 2029, "all": 2029}
    assert s.loc["A1", "handed_over"] == "A" and s.loc["A1", "queue"] == "B"
    # cost: A's 200 team-days at 1000, B's 100 (2025) + 350 (2026-2029) at 500
    assert s["cost_eur"].to_dict() == pytest.approx(
        {"A1": 200 * 1000 + 100 * 500, "B1": 150 * 500, "A2": 200 * 500}
    )
    money = run.money.set_index("year")
    assert money["cost_eur"].tolist() == pytest.approx([250e3, 50e3, 50e3, 50e3, 25e3])
    # the gap: 2025 A 200k - 150k + B 50k - 40k; 2026-2028 B 50k - 40k; 2029 B within its money
    assert money["gap_eur"].tolist() == pytest.approx([60e3, 10e3, 10e3, 10e3, 0.0])
    assert not money["binds"].any()  # no pot caps this scenario: money follows the teams


def test_money_caps_the_teams_by_hand():
    # Same teams, every year; now the pots cap the spending (confirmed funding only).
    plan = capacity_plan({"A": 2, "B": 1}, first_year=2025, last_year=2040)
    run = run_programme(
        hand_work(),
        capacity=plan,
        working_days=100,
        start_year=2025,
        costs=HAND_COSTS,
        pots=HAND_POTS,
        confirmed=HAND_POTS,
        handover="B",
    )
    years = run.years.set_index(["year", "operator"])
    # 2025: A's 200 team-days would cost 200k, its pot holds 150k: 75 % of the season.
    # B's 100 would cost 50k, its pot 40k: 80 %.
    assert years.loc[(2025, "A"), "funded_share"] == pytest.approx(0.75)
    assert years.loc[(2025, "B"), "funded_share"] == pytest.approx(0.80)
    # A has no money after 2025: its hazards go to B, which works 80 team-days a season:
    # 2026 A1 80 (70 left); 2027 A1 done at 2 + 70/80 = 2.875, B1 10 (60 left); 2028 B1 done
    # at 3 + 60/80 = 3.75, A2 20 (180 left); 2029 and 2030 A2 80 each; 2031 A2's last 20 cost
    # 10k, within the pot: the full team works it, done at 6 + 20/100 = 6.2.
    s = run.schedule.set_index("hazard_id")
    assert s["finish_season"].to_dict() == pytest.approx({"A1": 2.875, "B1": 3.75, "A2": 6.2})
    assert completion(run.schedule) == {"high": 2027, "medium": 2028, "low": 2031, "all": 2031}
    assert run.binding_years == [2025, 2026, 2027, 2028, 2029, 2030]
    assert run.money["gap_eur"].sum() == pytest.approx(0.0)  # it spends only what it has
    assert run.schedule["cost_eur"].sum() == pytest.approx(150 * 1000 + 500 * 500)


def test_never_finished_when_no_one_takes_over():
    plan = capacity_plan(
        {"A": 2, "B": 1}, changes=[("A", 2026, 0)], first_year=2025, last_year=2040
    )
    with pytest.warns(ForecastWarning, match="hazards of A are never finished"):
        run = run_programme(
            hand_work(),
            capacity=plan,
            working_days=100,
            start_year=2025,
            costs=HAND_COSTS,
            horizon_years=10,
        )
    done = completion(run.schedule)
    assert done["high"] is pd.NA and done["medium"] == 2026  # B1 alone: 150 / 100 = 1.5


def test_an_operator_in_two_pots_is_refused():
    plan = capacity_plan({"A": 2}, first_year=2025, last_year=2030)
    pots = [dict(HAND_POTS[0], operators=["*"]), HAND_POTS[0]]
    with pytest.raises(InputError, match="two funding pots"):
        run_programme(
            hand_work(),
            capacity=plan,
            working_days=100,
            start_year=2025,
            costs=HAND_COSTS,
            pots=pots,
        )


#: Files of an end-to-end hand-computed forecast: NPA 2 teams and KSF 1 team in 2025, the
#: report's LLD rate replaced by 100 m2 a team-day, 100 working days a season.
HAND_SCENARIOS = """
[funding]
needed_eur_per_year = 250000
[[funding.confirmed]]
name = "state"
operators = ["KSF"]
eur_per_year = 60000
first_year = 2025
[[funding.confirmed]]
name = "donors"
operators = ["NPA"]
eur_per_year = 100000
first_year = 2025
last_year = 2025

[[scenario]]
name = "both teams"
capacity_year = 2025
calibrated = false
assumes = "NPA 2 and KSF 1 teams every year"

[[scenario]]
name = "NPA leaves 2026"
capacity_year = 2025
calibrated = false
changes = [{ operator = "NPA", from = 2026, teams = 0 }]
handover = "KSF"
assumes = "NPA leaves at the end of 2025; KSF takes over"

[[scenario]]
name = "confirmed only"
capacity_year = 2025
calibrated = false
funding = "confirmed"
handover = "KSF"
assumes = "only the confirmed money"
"""


@pytest.fixture
def hand_store(tmp_path):
    """A store of three hazards on the national grid: 250, 200 and 170 team-days at 100 m2."""
    from kosovo_cmr.schema import conform
    from kosovo_cmr.store import open_store

    side = {"H1": 25_000**0.5, "H2": 20_000**0.5, "H3": 17_000**0.5}
    geoms = [
        box(7_480_000 + 1_000 * i, 4_720_000, 7_480_000 + 1_000 * i + a, 4_720_000 + a)
        for i, a in enumerate(side.values())
    ]
    hazards = gpd.GeoDataFrame(
        {
            "hazard_id": list(side),
            "kind": ["CHA"] * 3,
            "status": ["active"] * 3,
            "priority": ["high", "low", "medium"],
            "operator": ["NPA", "NPA", "KSF"],
            "recorded": ["2022-05-01"] * 3,
        },
        geometry=geoms,
        crs="EPSG:9141",
    )
    store = open_store(tmp_path / "hand.gpkg", create=True)
    store.write(conform(hazards, "hazards"), "hazards", source="test")
    from kosovo_cmr._resources import layer_file

    effort = layer_file("effort.toml").read_text(encoding="utf-8")
    (tmp_path / "effort.toml").write_text(
        effort.replace("rate_m2_per_team_day = 82.0", "rate_m2_per_team_day = 100.0")
    )
    (tmp_path / "capacity.csv").write_text("year,operator,teams\n2025,NPA,2\n2025,KSF,1\n")
    (tmp_path / "costs.csv").write_text("operator,method,eur_per_team_day\nNPA,*,1000\nKSF,*,500\n")
    (tmp_path / "scenarios.toml").write_text(HAND_SCENARIOS)
    return store, tmp_path


def test_cli_forecast_json_hand_computed_scenarios(hand_store):
    store, folder = hand_store
    args = ["--store", store.uri, "forecast", "--what", "scenarios", "--format", "json"]
    for name in ("effort", "capacity", "costs", "scenarios"):
        suffix = "csv" if name in ("capacity", "costs") else "toml"
        args += [f"--{name}", str(folder / f"{name}.{suffix}")]
    res = CliRunner().invoke(cli, [*args, "--working-days", "100"])
    assert res.exit_code == 0, res.output
    rows = {r["scenario"]: r for r in json.loads(res.output)["scenarios"]}
    assert list(rows)[:3] == ["both teams", "NPA leaves 2026", "confirmed only"]
    expected = {
        # NPA: 200 team-days a season, H1 (250) done at 1.25, H2 (200) at 2.25; KSF: 100 a
        # season, H3 (170) at 1.7. Cost 450 x 1000 + 170 x 500. Gap: NPA beyond its 100k
        # of 2025 (200k - 100k, then 200k and 50k), KSF within its 60k.
        "both teams": (2026, 2026, 2027, 2026, 2027, 535_000, 350_000, ""),
        # 2025: NPA 200 of H1, KSF 100 of H3; KSF then works H1's 50 (1.5), H3's 70 (2.2),
        # H2's 200 (4.2). Cost 200 x 1000 + 420 x 500; gap: NPA's 2025 beyond 100k.
        "NPA leaves 2026": (2026, 2027, 2029, 2027, 2029, 410_000, 100_000, ""),
        # 2025: NPA's money pays half its season (100 of H1), KSF all of it (100 of H3);
        # then KSF alone: H1's 150 (2.5), H3's 70 (3.2), H2's 200 (5.2). Cost 100 x 1000 +
        # 520 x 500; it spends only confirmed money: no gap; money binds in 2025.
        "confirmed only": (2027, 2028, 2030, 2028, 2030, 360_000, 0, "2025"),
    }
    keys = ("high", "medium", "low", "last_high_medium_year", "completion_year")
    for name, (*years, cost, gap, binds) in expected.items():
        row = rows[name]
        assert [row[k] for k in keys] == years, name
        # the squares' geodesic areas exceed their grid areas by about 0.02 %
        assert row["cost_eur"] == pytest.approx(cost, rel=1e-3), name
        assert row["funding_gap_eur"] == pytest.approx(gap, rel=1e-3, abs=1.0), name
        assert row["money_binds"] == binds, name
        assert row["assumes"] and row["capacity"] == "NPA 2, KSF 1" + (
            "; NPA 0 from 2026" if name == "NPA leaves 2026" else ""
        )


# --- CLI and demo step on the shipped synthetic layers -----------------------------------


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, boundaries_path):
    from kosovo_cmr.demo import load_layers, run_demo, step_context, step_forecast

    out = tmp_path_factory.mktemp("plan")
    steps = [load_layers, step_context, step_forecast]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # rasterio/affine noise
        return run_demo(out, boundaries=boundaries_path, steps=steps)


def test_demo_step_outputs(demo_run):
    names = {p.name for _, p in demo_run.outputs}
    assert {
        "dem-synthetic.tif",
        "cover-synthetic.tif",
        "plan-hazards.csv",
        "forecast-scenarios.csv",
        "burndown.png",
        "tolerable-risk.csv",
    } <= names
    png = demo_run.out_dir / "burndown.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = "\n".join(demo_run.summary)
    for label in (
        "April 2025 capacity",
        "HALO closes end 2025",
        "EUR 3.5 M a year",
        "confirmed funding only",
        "international operators leave 2030",
        "target 1.8 km2/year",
        "Why the two fade-out figures differ",
    ):
        assert label in text
    plan = pd.read_csv(demo_run.out_dir / "plan-hazards.csv")
    assert len(plan) == 35 and plan["slope_p90_deg"].notna().all()
    np.testing.assert_allclose(
        plan["team_days"], plan["area_to_clear_m2"] / plan["rate_m2_per_team_day"]
    )
    np.testing.assert_allclose(plan["working_days"], plan["team_days"] / plan["teams"])
    assert set(plan["teams"]) <= {4.0, 9.0, 5.0}  # April 2025: NPA 5 teams
    assert (plan.loc[plan["operator"] == "NPA", "teams"] == 5).all()


def test_cli_forecast_json_and_csv(demo_run):
    store = str(demo_run.store.uri)
    runner = CliRunner()
    res = runner.invoke(cli, ["--store", store, "forecast", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert len(doc["hazards"]) == 35
    h = doc["hazards"][0]
    assert h["team_days"] == pytest.approx(h["area_to_clear_m2"] / h["rate_m2_per_team_day"])
    assert doc["assumptions"]["working_days_per_season"] == 160
    assert doc["assumptions"]["teams"] == {"KSF": 4, "HALO": 9, "NPA": 5}
    # one row per named scenario, each with its years, cost and funding gap
    named = [s["name"] for s in read_scenarios()["scenarios"]]
    rows = {r["scenario"]: r for r in doc["scenarios"]}
    assert [r["scenario"] for r in doc["scenarios"]][: len(named)] == named
    for name in named:
        for key in ("completion_year", "last_high_medium_year", "cost_eur", "funding_gap_eur"):
            assert rows[name][key] is not None, (name, key)
    # the plan is the lead scenario's: its hazards cost what the lead row says
    assert sum(h["cost_eur"] for h in doc["hazards"]) == pytest.approx(
        rows["April 2025 capacity"]["cost_eur"]
    )
    # NPA at 5 teams from 2025 takes longer than Table 3's 8 (the EUR 3.5 M row pays for 8)
    assert rows["EUR 3.5 M a year"]["capacity"] == "KSF 4, HALO 9, NPA 8"
    assert (
        rows["EUR 3.5 M a year"]["completion_year"] < rows["April 2025 capacity"]["completion_year"]
    )
    res = runner.invoke(
        cli,
        [
            "--store",
            store,
            "forecast",
            "--what",
            "scenarios",
            "--format",
            "csv",
            "--teams",
            "NPA=8",
        ],
    )
    assert res.exit_code == 0, res.output
    assert res.output.startswith("scenario,assumes,capacity,")
    assert "NPA 8" in res.output.splitlines()[1]


def test_cli_forecast_errors(demo_run, tmp_path):
    store = str(demo_run.store.uri)
    runner = CliRunner()
    res = runner.invoke(cli, ["--store", store, "forecast", "--format", "csv"])
    assert res.exit_code == 1 and "--what" in res.output
    res = runner.invoke(cli, ["--store", store, "forecast", "--teams", "NPA"])
    assert res.exit_code == 1 and "OPERATOR=N" in res.output
    existing = tmp_path / "out.txt"
    existing.write_text("keep")
    res = runner.invoke(cli, ["--store", store, "forecast", "-o", str(existing)])
    assert res.exit_code == 1 and existing.read_text() == "keep"
    cover = demo_run.out_dir / "cover-synthetic.tif"
    for command in (["forecast"], ["report", "--year", "2024", "--forecast"]):
        res = runner.invoke(cli, ["--store", store, *command, "--cover", str(cover)])
        assert res.exit_code == 1 and "needs a DEM too" in res.output, command
    bad = tmp_path / "scenarios.toml"
    bad.write_text('[[scenario]]\nname = "x"\nfunding = "hope"\n')
    res = runner.invoke(cli, ["--store", store, "forecast", "--scenarios", str(bad)])
    assert res.exit_code == 1 and "funding of 'x'" in res.output


def test_cli_terrain_and_rasterize(demo_run, tmp_path):
    import rasterio

    store = str(demo_run.store.uri)
    dem = demo_run.out_dir / "dem-synthetic.tif"
    cover = demo_run.out_dir / "cover-synthetic.tif"
    runner = CliRunner()
    res = runner.invoke(
        cli,
        ["--store", store, "terrain", "--dem", str(dem), "--cover", str(cover), "--format", "csv"],
    )
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[0].startswith("hazard_id,dem_cells,dem_coverage,slope_mean_deg")
    assert len(lines) == 36
    out = tmp_path / "h.tif"
    res = runner.invoke(cli, ["--store", store, "rasterize", "hazards", "-o", str(out)])
    assert res.exit_code == 0, res.output
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 9141
        # 10 m cells: the burnt cells add up to the active hazards' 6.27 km2 within 1 %
        assert int((src.read(1) > 0).sum()) * 100 == pytest.approx(6_269_292, rel=0.01)
    res = runner.invoke(cli, ["--store", store, "rasterize", "hazards", "-o", str(out)])
    assert res.exit_code == 1 and "--overwrite" in res.output


def test_cli_forecast_calibrates_to_the_stores_releases(demo_run):
    runner = CliRunner()
    args = ["--store", str(demo_run.store.uri), "forecast", "--what", "scenarios"]
    res = runner.invoke(cli, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert "hazards" not in doc and doc["assumptions"]["teams"] == {"KSF": 4, "HALO": 9, "NPA": 5}
    # the demo store's 2024 clearance is 1,510,087 m2 (geodesic), as the report's Table 9,
    # cleared by Table 3's 21 teams
    assert doc["scenarios"][0]["note"] == (
        "rates x5.48: scaled so that the 21 teams of 2024 (capacity table) clear the 1,510,087 "
        "m2 observed in 2024 (model: 275,520 m2/year); figure from the releases layer: 19 "
        "clearance releases dated 2024"
    )
    assert doc["calibration"]["factor"] == pytest.approx(1_510_087 / 275_520, rel=1e-6)
    text = runner.invoke(cli, args).output
    assert "note: April 2025 capacity: rates x5.48: scaled so that" in text
    assert "What each row assumes:" in text


def test_cli_forecast_explains_the_two_fadeout_figures(demo_run):
    res = CliRunner().invoke(
        cli,
        ["--store", str(demo_run.store.uri), "forecast", "--what", "scenarios", "--format", "json"],
    )
    doc = json.loads(res.output)
    ex = doc["fadeout_explained"]
    rows = {r["scenario"]: r for r in doc["scenarios"]}
    difference = (
        rows["fade-out 50 m"]["area_to_clear_m2"] - rows["fade-out 25 m"]["area_to_clear_m2"]
    )
    assert ex["forecast_difference_m2"] == pytest.approx(difference)
    assert round(ex["forecast_difference_m2"]) == 88_239
    # buffer-impact's figure, from the CLI itself
    impact = CliRunner().invoke(
        cli,
        [
            "--store",
            str(demo_run.store.uri),
            "buffer-impact",
            "--from",
            "kosovo-pre-2024",
            "--to",
            "kosovo-nmas-2024",
            "--format",
            "json",
        ],
    )
    assert impact.exit_code == 0, impact.output
    saved = json.loads(impact.output)["total"]["saved_m2"]
    assert ex["buffer_impact_saved_m2"] == pytest.approx(saved) and round(saved) == 993_564
    # the parts add up to the saving; the part outside the open polygons is the difference
    parts = ex["around_closed_m2"] + ex["inside_open_m2"] + ex["outside_open_m2"]
    assert parts == pytest.approx(saved)
    assert ex["outside_open_m2"] == pytest.approx(difference, abs=5.0)
    assert "993,564 m2" in ex["sentence"] and "88,239 m2" in ex["sentence"]
    assert ex["text"] in rows["fade-out 25 m"]["note"]


def test_cli_forecast_capacity_file_and_teams(demo_run, tmp_path):
    capacity = tmp_path / "capacity.csv"
    capacity.write_text("operator,teams\nKSF,2\nHALO,3\nNPA,4\n")
    res = CliRunner().invoke(
        cli,
        [
            "--store",
            str(demo_run.store.uri),
            "forecast",
            "--format",
            "json",
            "--capacity",
            str(capacity),
            "--teams",
            "NPA=1",
            "--working-days",
            "100",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["assumptions"]["teams"] == {"KSF": 2, "HALO": 3, "NPA": 1}
    assert doc["assumptions"]["working_days_per_season"] == 100
    assert {h["teams"] for h in doc["hazards"]} <= {2.0, 3.0, 1.0}
    # a table without years serves every scenario, and each note says so
    notes = [r["note"] for r in doc["scenarios"][:6]]
    assert all("the capacity table has no 20" in n for n in notes)


def test_cli_forecast_risk_table(demo_run):
    runner = CliRunner()
    args = ["--store", str(demo_run.store.uri), "forecast", "--what", "risk"]
    res = runner.invoke(cli, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    risk = json.loads(res.output)["tolerable_risk"]
    assert len(risk["rows"]) == 38 and risk["as_of"] == "2025-04-01" and risk["count"] == "all"
    text = runner.invoke(cli, args).output
    assert text.startswith("Tolerable risk by municipality (as of 2025-04-01")
    accidents = json.loads(
        runner.invoke(cli, [*args, "--format", "json", "--incidents", "accidents"]).output
    )["tolerable_risk"]
    assert accidents["count"] == "accidents"
    # fewer incidents count: never more municipalities have one in the last five years
    recent = sum(r["incidents_last_5_years"] for r in risk["rows"])
    assert sum(r["incidents_last_5_years"] for r in accidents["rows"]) <= recent


# --- the workflow and the renderers -----------------------------------------------------------


def test_forecast_from_store_is_the_cli_forecast(demo_run):
    from kosovo_cmr.workflows.forecast import forecast_from_store

    section = forecast_from_store(demo_run.store)
    res = CliRunner().invoke(
        cli,
        ["--store", str(demo_run.store.uri), "forecast", "--what", "scenarios", "--format", "json"],
    )
    assert section["scenarios"] == json.loads(res.output)["scenarios"]
    assert section["hazards"] == 35 and section["terrain"] is False
    assert set(section["burndown"]) == {r["scenario"] for r in section["scenarios"]}
    assert section["lead"] == "April 2025 capacity"
    money = section["money"]["confirmed funding only"]
    assert sum(money["cost_eur"]) == pytest.approx(
        next(r for r in section["scenarios"] if r["scenario"] == "confirmed funding only")[
            "cost_eur"
        ]
    )
    assert len(section["tolerable_risk"]["rows"]) == 38


def test_demo_forecast_section_is_the_dem_forecast(demo_run):
    from kosovo_cmr.workflows.forecast import forecast_from_store

    dem = demo_run.out_dir / "dem-synthetic.tif"
    cover = demo_run.out_dir / "cover-synthetic.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        section = forecast_from_store(demo_run.store, dem=dem, cover=cover)
    assert section == demo_run.results["forecast"]


def test_forecast_settings_overrides():
    from kosovo_cmr.workflows.forecast import forecast_settings

    settings = forecast_settings(teams={"NPA": 8}, working_days=120, start_year=2026)
    assert settings.teams == {"KSF": 4, "HALO": 9, "NPA": 8}
    effort = settings.effort
    assert effort["season"]["working_days"] == 120 and effort["season"]["start_year"] == 2026
    # the override replaces the latest year (2025) only: Table 3's 2024 rows stay
    from kosovo_cmr.programme import teams_by_operator

    assert teams_by_operator(settings.capacity, year=2024) == {"KSF": 4, "HALO": 9, "NPA": 8}
    assert forecast_settings().teams == {"KSF": 4, "HALO": 9, "NPA": 5}
    # the 0.2 unpacking still works, with a warning
    from kosovo_cmr._deprecated import KcmrDeprecationWarning

    with pytest.warns(KcmrDeprecationWarning, match=r"use its \.effort and \.teams"):
        effort, teams = forecast_settings(teams={"NPA": 8})
    assert teams == {"KSF": 4, "HALO": 9, "NPA": 8} and effort["season"]["working_days"] == 160


def test_forecast_text_formats(effort):
    from kosovo_cmr.outputs.forecast_text import forecast_text

    plan = schedule(hand_table(), teams={"A": 2, "B": 1}, effort=effort)
    assumptions = {"working_days_per_season": 100, "rate_factor": 2.5}
    text = forecast_text(plan, None, assumptions=assumptions)
    assert text.startswith("Per hazard, lead scenario (rates x2.50 (calibrated), 100 working")
    assert "A2" in text and text.endswith("\n")
    doc = json.loads(forecast_text(plan, None, fmt="json", assumptions=assumptions))
    assert set(doc) == {"hazards", "assumptions"} and len(doc["hazards"]) == 3
    assert forecast_text(plan, None, fmt="csv").startswith("hazard_id,priority,operator,")
    with pytest.raises(ValueError, match="one table"):
        forecast_text(plan, plan, fmt="csv")


def test_cli_forecast_chart_is_written_and_guarded(demo_run, tmp_path):
    store = str(demo_run.store.uri)
    chart = tmp_path / "burndown.png"
    args = ["--store", store, "forecast", "--what", "scenarios", "--chart", str(chart)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*part*"))  # written through a temporary file, renamed
    same = CliRunner().invoke(cli, [*args, "-o", str(chart), "--overwrite"])
    assert same.exit_code == 1 and "are the same file" in same.output
    on_store = CliRunner().invoke(cli, [*args[:-1], store, "--overwrite"])
    assert on_store.exit_code == 1 and "is the store" in on_store.output
