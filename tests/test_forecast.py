"""Effort model and completion forecast: hand-built arithmetic, scenarios, CLI and demo step."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from kosovo_cmr.analysis.effort import (
    ForecastWarning,
    area_to_clear,
    choose_method,
    clearance_effort,
    read_effort,
)
from kosovo_cmr.analysis.forecast import scenarios
from kosovo_cmr.analysis.schedule import (
    burndown,
    completion,
    remaining_at_end,
    schedule,
    season_to_year,
)
from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import read_capacity, read_teams, teams_by_operator


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


def test_shipped_effort_file_holds_the_report_rates():
    e = read_effort()
    assert e["methods"]["scorpion"]["rate_m2_per_team_day"] == 168
    assert e["methods"]["lld"]["rate_m2_per_team_day"] == 82
    assert e["season"]["first_month"] == 4 and e["season"]["last_month"] == 11
    assert read_teams() == {"KSF": 4, "HALO": 9, "NPA": 8}
    assert "capacity" not in e  # one source of truth: layers/capacity.csv


def test_bad_effort_file_is_refused(tmp_path):
    bad = tmp_path / "effort.toml"
    bad.write_text('[[method]]\nname = "x"\nrate_m2_per_team_day = 0\n')
    with pytest.raises(InputError):
        read_effort(bad)
    bad.write_text("not = [toml")
    with pytest.raises(InputError, match="cannot read"):
        read_effort(bad)


def test_capacity_csv_latest_year(tmp_path):
    path = tmp_path / "capacity.csv"
    path.write_text("year,operator,teams\n2023,NPA,9\n2024,NPA,8\n2024,HALO,9\n2024,Totals,17\n")
    assert teams_by_operator(read_capacity(path)) == {"NPA": 8, "HALO": 9}
    assert read_teams(path) == {"NPA": 8, "HALO": 9}


def test_choose_method_rules(effort):
    terrain = pd.DataFrame(
        {
            "slope_p90_deg": [5.0, 15.0, 25.0, np.nan, 5.0, 5.0],
            "dense_veg_share": [0.1, 0.4, 0.0, 0.0, np.nan, 0.9],
        }
    )
    got = choose_method(terrain, index=terrain.index, effort=effort).tolist()
    assert got == ["scorpion", "lld", "manual", "lld", "scorpion", "manual"]
    assert choose_method(None, index=terrain.index, effort=effort).eq("lld").all()


def test_schedule_hand_built(effort):
    sched = schedule(hand_table(), teams={"A": 2, "B": 1}, effort=effort)
    assert sched["hazard_id"].tolist() == ["A2", "B1", "A1"]  # high, medium, low
    s = sched.set_index("hazard_id")
    # A: 2 teams x 100 days = 200 team-days a season. A2: 200 -> 1.0; A1: 500 -> 2.5
    assert s.loc["A2", "finish_season"] == pytest.approx(1.0)
    assert s.loc["A1", "start_season"] == pytest.approx(1.0)
    assert s.loc["A1", "finish_season"] == pytest.approx(2.5)
    assert s.loc["B1", "finish_season"] == pytest.approx(0.5)
    assert s.loc["A1", "working_days"] == pytest.approx(150.0)  # 300 team-days / 2 teams
    assert s["finish_year"].tolist() == [2025, 2025, 2027]
    # 2.5 seasons: mid-season of 2027 = 1 April + 4 of 8 months
    assert s.loc["A1", "finish"] == pytest.approx(2027 + 7 / 12)
    assert completion(sched) == {"high": 2025, "medium": 2025, "low": 2027, "all": 2027}
    # end of 2025: A1 untouched; end of 2026: two thirds of A1 done
    assert remaining_at_end(sched, 2025, start_year=2025) == pytest.approx(24_600.0)
    assert remaining_at_end(sched, 2026, start_year=2025) == pytest.approx(8_200.0)
    assert remaining_at_end(sched, 2027, start_year=2025) == pytest.approx(0.0)


def test_schedule_national_area_rate(effort):
    sched = schedule(hand_table(), annual_m2=30_000.0, effort=effort)
    s = sched.set_index("hazard_id")
    assert s.loc["A2", "finish_season"] == pytest.approx(33_600 / 30_000)
    assert s.loc["A1", "finish_season"] == pytest.approx(60_200 / 30_000)
    assert completion(sched) == {"high": 2026, "medium": 2026, "low": 2027, "all": 2027}


def test_operator_without_team_is_never_scheduled(effort):
    with pytest.warns(ForecastWarning, match="B"):
        sched = schedule(hand_table(), teams={"A": 2}, effort=effort)
    done = completion(sched)
    assert done["medium"] is pd.NA and done["all"] is pd.NA and done["high"] == 2025
    assert sched.set_index("hazard_id")["finish_year"].isna().tolist() == [False, True, False]


def test_burndown_monotone_and_flat_in_winter(effort):
    sched = schedule(hand_table(), teams={"A": 2, "B": 1}, effort=effort)
    curve = burndown(sched, effort=effort, until=2028)
    assert curve["all"].iloc[0] == pytest.approx(60_200.0)
    assert (np.diff(curve["all"]) <= 1e-9).all()
    assert curve["all"].iloc[-1] == pytest.approx(0.0)
    end_2025 = curve.loc[np.isclose(curve["year"], 2025 + 11 / 12), "all"].iloc[0]
    start_2026 = curve.loc[np.isclose(curve["year"], 2026 + 3 / 12), "all"].iloc[0]
    assert end_2025 == start_2026 == pytest.approx(24_600.0)
    assert (curve[["high", "medium", "low"]].sum(axis=1) == curve["all"]).all()


def test_plot_burndown_bytes_and_file(effort, tmp_path):
    from kosovo_cmr.workflows.forecast import burndown_chart as plot_burndown

    sched = schedule(hand_table(), teams={"A": 2, "B": 1}, effort=effort)
    png = plot_burndown({"hand": sched}, effort=effort)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    path = plot_burndown({"hand": sched}, tmp_path / "b.png", effort=effort)
    assert path.read_bytes()[:8] == png[:8]


def test_season_to_year():
    assert season_to_year(0.0, start_year=2025) == pytest.approx(2025 + 3 / 12)
    assert season_to_year(1.0, start_year=2025) == pytest.approx(2025 + 11 / 12)
    assert season_to_year(1.25, start_year=2025) == pytest.approx(2026 + 5 / 12)


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


def test_clearance_effort_team_days(small_hazards, effort):
    terrain = pd.DataFrame(
        {"slope_p90_deg": [3.0, 30.0, np.nan], "dense_veg_share": [0.0, 0.0, np.nan]},
        index=small_hazards.index,
    )
    table = clearance_effort(small_hazards, terrain=terrain, effort=effort)
    assert table["method"].tolist() == ["scorpion", "manual", "lld"]
    assert table["rate_m2_per_team_day"].tolist() == [168.0, 40.0, 82.0]
    # geodesic area of a 200 m square on the national grid (scale factor 0.9999)
    assert table.loc[0, "area_to_clear_m2"] == pytest.approx(40_000, rel=5e-4)
    np.testing.assert_allclose(
        table["team_days"], table["area_to_clear_m2"] / table["rate_m2_per_team_day"]
    )
    assert (area_to_clear(small_hazards) == table["area_to_clear_m2"]).all()


def test_scenarios_table(small_hazards, effort):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastWarning)
        table, schedules = scenarios(
            small_hazards,
            effort=effort,
            teams={"KSF": 4, "HALO": 9, "NPA": 8},
            fadeout_rules={},
        )
    rows = table.set_index("scenario")
    assert "current capacity" in rows.index and "NPA at 5 teams" in rows.index
    npa = schedules["NPA at 5 teams"].set_index("hazard_id")
    cur = schedules["current capacity"].set_index("hazard_id")
    assert npa.loc["H1", "finish_season"] == pytest.approx(cur.loc["H1", "finish_season"] * 8 / 5)
    target = rows.loc["target 1.8 km2/year"]
    assert target["all"] == 2025  # 0.13 km2 at 1.8 km2 a year
    calibrated = [s for s in rows.index if s.startswith("current, rates x")]
    assert len(calibrated) == 1
    # factor = observed / (teams x days x mean rate); team-days shrink by that factor
    base = clearance_effort(small_hazards, effort=effort)
    mean_rate = base["area_to_clear_m2"].sum() / base["team_days"].sum()
    factor = 1_510_087 / (21 * 100 * mean_rate)
    assert rows.loc[calibrated[0], "team_days"] == pytest.approx(base["team_days"].sum() / factor)


def test_area_to_clear_with_fadeout_rule(small_hazards):
    from shapely.geometry import Point

    evidence = gpd.GeoDataFrame(
        {
            "evidence_id": ["E1"],
            "hazard_id": ["H1"],
            "item": ["submunition"],
            "ordnance": ["unknown"],
        },
        geometry=[Point(7_480_000 + 200, 4_720_000 + 100)],  # on H1's east edge
        crs="EPSG:9141",
    )
    got = area_to_clear(small_hazards, evidence=evidence, fadeout_rule="kosovo-pre-2024")
    recorded = area_to_clear(small_hazards)
    # half of a 50 m disk sticks out of H1: pi 50^2 / 2 = 3,927 m2 more
    assert got[0] - recorded[0] == pytest.approx(np.pi * 2500 / 2, rel=0.01)
    assert got[1] == recorded[1] and got[2] == recorded[2]
    redrawn = area_to_clear(
        small_hazards, evidence=evidence, fadeout_rule="kosovo-pre-2024", basis="redrawn"
    )
    assert redrawn[0] == pytest.approx(np.pi * 2500, rel=0.01)  # H1 becomes the one disk
    assert redrawn[1] == recorded[1]  # no evidence: the recorded SHA stands
    with pytest.raises(InputError):
        area_to_clear(small_hazards, fadeout_rule="kosovo-pre-2024")  # no evidence given


# --- CLI and demo step on the shipped synthetic layers -----------------------------------


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, boundaries_path):
    from kosovo_cmr.demo import load_layers, run_demo

    out = tmp_path_factory.mktemp("plan")
    steps = [load_layers, "kosovo_cmr.demo:_step_forecast"]
    return run_demo(out, boundaries=boundaries_path, steps=steps)


def test_demo_step_outputs(demo_run):
    names = {p.name for _, p in demo_run.outputs}
    assert {
        "dem-synthetic.tif",
        "cover-synthetic.tif",
        "plan-hazards.csv",
        "forecast-scenarios.csv",
        "burndown.png",
    } <= names
    png = demo_run.out_dir / "burndown.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = "\n".join(demo_run.summary)
    for label in ("current capacity", "NPA at 5 teams", "target 1.8 km2/year"):
        assert label in text
    plan = pd.read_csv(demo_run.out_dir / "plan-hazards.csv")
    assert len(plan) == 35 and plan["slope_p90_deg"].notna().all()
    np.testing.assert_allclose(
        plan["team_days"], plan["area_to_clear_m2"] / plan["rate_m2_per_team_day"]
    )
    np.testing.assert_allclose(plan["working_days"], plan["team_days"] / plan["teams"])


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
            "NPA=5",
        ],
    )
    assert res.exit_code == 0, res.output
    assert res.output.startswith("scenario,capacity,")
    assert "NPA 5" in res.output.splitlines()[1]


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
