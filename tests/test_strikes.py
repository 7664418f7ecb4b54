"""Strike footprints: ovals of the recorded length, width and bearing, in the input's CRS."""

from __future__ import annotations

import _mapdata
import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from kosovo_cmr.analysis.strikes import UNKNOWN_SIZE_RADIUS_M, strike_footprints
from kosovo_cmr.errors import CRSError


def _one(length, width, bearing, crs=9141):
    return gpd.GeoDataFrame(
        {"strike_id": ["S"], "length_m": [length], "width_m": [width], "bearing_deg": [bearing]},
        geometry=[Point(7_500_000, 4_720_000)],
        crs=crs,
    )


@pytest.mark.parametrize("bearing", [0.0, 30.0, 90.0, 135.0])
def test_oval_has_the_recorded_size_along_the_bearing(bearing):
    oval = strike_footprints(_one(200.0, 80.0, bearing)).geometry.iloc[0]
    assert oval.area == pytest.approx(np.pi * 100 * 40, rel=0.01)
    # the long axis points along the bearing (degrees clockwise from grid north)
    theta = np.radians(bearing)
    tip = Point(7_500_000 + 99 * np.sin(theta), 4_720_000 + 99 * np.cos(theta))
    side = Point(7_500_000 + 45 * np.cos(theta), 4_720_000 - 45 * np.sin(theta))
    assert oval.contains(tip) and not oval.contains(side)


def test_unknown_size_is_a_small_disc_and_empty_stays_empty():
    s = gpd.GeoDataFrame(
        {
            "length_m": [np.nan, 120.0, 100.0],
            "width_m": [50.0, 0.0, 50.0],
            "bearing_deg": [0.0] * 3,
        },
        geometry=[Point(7_500_000, 4_720_000), Point(7_501_000, 4_720_000), Point()],
        crs=9141,
    )
    out = strike_footprints(s).geometry
    for disc in out.iloc[:2]:
        assert disc.area == pytest.approx(np.pi * UNKNOWN_SIZE_RADIUS_M**2, rel=0.01)
    assert out.iloc[2].is_empty


def test_keeps_the_rows_the_columns_and_the_crs():
    strikes = _mapdata.strikes()
    out = strike_footprints(strikes)
    assert out.crs == strikes.crs
    assert list(out.columns) == list(strikes.columns)
    assert out["strike_id"].tolist() == strikes["strike_id"].tolist()
    assert (out.geom_type == "Polygon").all()
    assert shapely.contains(out.geometry.values, strikes.geometry.values).all()
    assert strikes.geom_type.eq("Point").all()  # the input is not changed


def test_refuses_a_layer_without_crs():
    with pytest.raises(CRSError):
        strike_footprints(_one(100.0, 50.0, 0.0).set_crs(None, allow_override=True))
