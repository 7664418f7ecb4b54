"""The effort model: the effort file, the method per hazard, area to clear, team-days."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from kosovo_cmr.analysis.effort import (
    ForecastWarning,
    area_to_clear,
    choose_method,
    clearance_effort,
    read_effort,
)
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import read_capacity, read_teams, teams_by_operator


@pytest.fixture
def effort():
    e = read_effort()
    e["season"]["working_days"] = 100
    e["season"]["start_year"] = 2025
    return e


def test_shipped_effort_file_holds_the_report_rates():
    e = read_effort()
    assert e["methods"]["scorpion"]["rate_m2_per_team_day"] == 168
    assert e["methods"]["lld"]["rate_m2_per_team_day"] == 82
    assert e["season"]["first_month"] == 4 and e["season"]["last_month"] == 11
    # the latest year is April 2025: NPA "reduced to five teams" at the end of 2024
    assert read_teams() == {"KSF": 4, "HALO": 9, "NPA": 5}
    assert read_teams(year=2024) == {"KSF": 4, "HALO": 9, "NPA": 8}  # Table 3
    assert "capacity" not in e  # one source of truth: layers/capacity.csv


def test_bad_effort_file_is_refused(tmp_path):
    bad = tmp_path / "effort.toml"
    bad.write_text('[[method]]\nname = "x"\nrate_m2_per_team_day = 0\n')
    with pytest.raises(InputError):
        read_effort(bad)
    bad.write_text("not = [toml")
    with pytest.raises(InputError, match="cannot read"):
        read_effort(bad)


def test_effort_file_capacity_table_is_not_read(tmp_path):
    from kosovo_cmr._resources import layer_file

    old = tmp_path / "effort.toml"
    old.write_text(
        layer_file("effort.toml").read_text(encoding="utf-8") + "\n[capacity]\nNPA = 3\n"
    )
    with pytest.warns(ForecastWarning, match=r"\[capacity\] table is not read"):
        effort = read_effort(old)
    assert effort["season"]["working_days"] == 160
    assert read_teams()["NPA"] == 5  # teams come from layers/capacity.csv only


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
