"""The sensitivity of the 2024 rule change to its reading (``buffer-impact --readings``)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from kosovo_cmr.analysis.fadeout import buffer_impact
from kosovo_cmr.analysis.readings import READINGS_COLUMNS, readings_impact


def _evidence():
    # far-apart points, so that each disk stands alone and the areas are pi r^2 each
    items = ["component", "submunition", "crater", "component", "fragments"]
    ordnance = ["BLU-97", "BLU-97", "BL755", "other", "BL755"]
    return gpd.GeoDataFrame(
        {"ordnance": ordnance, "item": items, "hazard_id": ["H1", "H1", "H2", "H2", "H2"]},
        geometry=[Point(7_480_000 + 1000 * i, 4_700_000) for i in range(5)],
        crs=9141,
    )


def test_saving_under_each_reading():
    table = readings_impact(_evidence())
    assert list(table.columns) == list(READINGS_COLUMNS)
    total = table[table.group == "total"].set_index("rule")
    broad = total.loc["kosovo-nmas-2024"]
    narrow = total.loc["kosovo-nmas-2024-components-only"]
    assert broad.default and not narrow.default
    # 5 disks of 50 m before; broad: 4 BLU-97/BL755 items at 25 m; narrow: 1 component
    r50, r25 = np.pi * 50**2, np.pi * 25**2
    assert broad.area_from_m2 == pytest.approx(5 * r50, rel=1e-3)
    assert broad.area_to_m2 == pytest.approx(4 * r25 + r50, rel=1e-3)
    assert narrow.area_to_m2 == pytest.approx(r25 + 4 * r50, rel=1e-3)
    assert broad.saved_m2 > narrow.saved_m2 > 0
    # the same figures as two separate impact runs
    direct = buffer_impact(_evidence(), "kosovo-pre-2024", "kosovo-nmas-2024-components-only")
    assert narrow.saved_m2 == direct.total["saved_m2"]


def test_by_hazard_rows_then_total_per_reading():
    table = readings_impact(_evidence(), by="hazard")
    assert table.groupby("rule")["group"].apply(list).to_dict() == {
        "kosovo-nmas-2024": ["H1", "H2", "total"],
        "kosovo-nmas-2024-components-only": ["H1", "H2", "total"],
    }
