"""Scenarios and their calibration, the forecast workflow, its text and chart, CLI and demo."""

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
from kosovo_cmr.analysis.schedule import schedule
from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError


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
    rows = table.set_index("scenario")
    label = [s for s in rows.index if s.startswith("current, rates x")]
    assert len(label) == 1
    return rows.loc[label[0]]


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
            teams={"KSF": 4, "HALO": 9, "NPA": 8},
            fadeout_rules={},
        )


def test_calibrated_scenario_reads_the_releases(small_hazards, effort):
    releases = releases_of(("clearance", "2024-05-02", 1_000), ("clearance", "2023-05-02", 500))
    table, _ = run_scenarios(small_hazards, effort, releases)
    row = calibrated_row(table)
    observed = observed_clearance(releases, year=2024)
    modelled, team_days = modelled_output(small_hazards, effort)
    assert row["team_days"] == pytest.approx(team_days / (observed / modelled))
    assert row["note"].startswith(f"rates scaled to the 2024 output of {observed:,.0f} m2")
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
    assert "the 2023 output of" in row["note"] and "dated 2023" in row["note"]
    del effort["calibration"]["observed_clearance_m2"]
    none = releases_of(("reduction_ts", "2023-05-02", 1_000))
    table, _ = run_scenarios(small_hazards, effort, none)
    assert not table["scenario"].str.startswith("current, rates x").any()  # no figure at all


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


def test_cli_forecast_calibrates_to_the_stores_releases(demo_run):
    runner = CliRunner()
    args = ["--store", str(demo_run.store.uri), "forecast", "--what", "scenarios"]
    res = runner.invoke(cli, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert "hazards" not in doc and doc["assumptions"]["teams"] == {"KSF": 4, "HALO": 9, "NPA": 8}
    note = [r["note"] for r in doc["scenarios"] if r["scenario"].startswith("current, rates x")]
    # the demo store's 2024 clearance is 1,510,087 m2 (geodesic), as the report's Table 9
    assert note == [
        "rates scaled to the 2024 output of 1,510,087 m2 (model: 275,520 m2/year); "
        "figure from the releases layer: 19 clearance releases dated 2024"
    ]
    text = runner.invoke(cli, args).output
    assert "note: current, rates x5.48: rates scaled to the 2024 output" in text


def test_cli_forecast_capacity_file_and_teams(demo_run, tmp_path):
    capacity = tmp_path / "capacity.csv"
    capacity.write_text("operator,teams\nKSF,2\nHALO,3\nNPA,4\n")
    res = CliRunner().invoke(
        cli,
        [
            "--store",
            str(demo_run.store.uri),
            "forecast",
            "--what",
            "hazards",
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

    effort, teams = forecast_settings(teams={"NPA": 5}, working_days=120, start_year=2026)
    assert teams == {"KSF": 4, "HALO": 9, "NPA": 5}
    assert effort["season"]["working_days"] == 120 and effort["season"]["start_year"] == 2026


def test_forecast_text_formats(effort):
    from kosovo_cmr.outputs.forecast_text import forecast_text

    plan = schedule(hand_table(), teams={"A": 2, "B": 1}, effort=effort)
    assumptions = {"working_days_per_season": 100}
    text = forecast_text(plan, None, assumptions=assumptions)
    assert text.startswith("Per hazard (100 working days a season")
    assert "A2" in text and text.endswith("\n")
    doc = json.loads(forecast_text(plan, None, fmt="json", assumptions=assumptions))
    assert set(doc) == {"hazards", "assumptions"} and len(doc["hazards"]) == 3
    assert forecast_text(plan, None, fmt="csv").startswith("hazard_id,priority,operator,")
    with pytest.raises(ValueError, match="one table"):
        forecast_text(plan, plan, fmt="csv")
