"""The schedule: hand-built arithmetic of queues, completion years and the burn-down."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosovo_cmr.analysis.effort import ForecastWarning, read_effort
from kosovo_cmr.analysis.schedule import (
    burndown,
    completion,
    remaining_at_end,
    schedule,
    season_to_year,
)


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


def test_season_to_year():
    assert season_to_year(0.0, start_year=2025) == pytest.approx(2025 + 3 / 12)
    assert season_to_year(1.0, start_year=2025) == pytest.approx(2025 + 11 / 12)
    assert season_to_year(1.25, start_year=2025) == pytest.approx(2026 + 5 / 12)
