"""The report workflow: the land release report of a store."""

from __future__ import annotations

import pytest

from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import read_capacity
from kosovo_cmr.workflows.report import report_from_store


@pytest.fixture(scope="module")
def report(demo_store):
    return report_from_store(demo_store, year=2024)


def test_the_report_of_the_store(report, demo_store):
    assert report["year"] == 2024 and report["synthetic"] is True
    assert report["store"] == demo_store.uri
    assert "forecast" not in report and "published_check" not in report


def test_capacity_as_a_table_or_a_file(report, demo_store, tmp_path):
    path = tmp_path / "capacity.csv"
    path.write_text("year,operator,teams,personnel\n2024,HALO,3,30\n", encoding="utf-8")
    for capacity in (path, str(path), read_capacity(path)):
        rep = report_from_store(demo_store, year=2024, capacity=capacity)
        ops = {r["operator"]: r for r in rep["indicators"]["release_by_operator"]}
        assert ops["HALO"]["teams"] == 3 and ops["NPA"]["teams"] is None
        assert rep["release_by_method"] == report["release_by_method"]


def test_terrain_without_the_forecast_is_refused(demo_store, tmp_path):
    with pytest.raises(InputError, match="only used with the forecast"):
        report_from_store(demo_store, year=2024, dem=tmp_path / "dem.tif")
