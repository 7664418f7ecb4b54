"""Turning points: the outer ring, clockwise from the north, with bearings and distances."""

from __future__ import annotations

import _mapdata
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import box

from kosovo_cmr.analysis.turning_points import turning_points


def test_turning_points_of_a_square():
    sq = gpd.GeoDataFrame({"hazard_id": ["H1"]}, geometry=[box(21, 42.5, 21.001, 42.501)], crs=4326)
    tp = turning_points(sq)
    assert tp.label.tolist() == ["TP1", "TP2", "TP3", "TP4"]
    # clockwise from the north-west corner
    assert tp[["lon", "lat"]].to_numpy().tolist() == [
        [21.0, 42.501], [21.001, 42.501], [21.001, 42.5], [21.0, 42.5],
    ]  # fmt: skip
    geod = Geod(ellps="WGS84")
    assert tp.distance_m.sum() == pytest.approx(geod.geometry_length(sq.geometry[0]), abs=1e-6)
    assert tp.bearing_deg.round().tolist() == [90.0, 180.0, 270.0, 0.0]
    assert tp.mgrs.iloc[0].startswith("34T")


@pytest.mark.parametrize("hid", ["DEMO-H0", "DEMO-H1"])
def test_turning_points_are_the_outer_ring(hid):
    hazards = _mapdata.hazards()
    geom = hazards.set_index("hazard_id").geometry[hid].geoms[0]
    tp = turning_points(hazards[hazards.hazard_id == hid])
    ring = np.asarray(geom.exterior.coords)[:-1]
    assert len(tp) == len(ring)
    got = {tuple(np.round(p, 9)) for p in tp[["lon", "lat"]].to_numpy()}
    assert got == {tuple(np.round(p, 9)) for p in ring}
    assert shapely.LinearRing(tp[["lon", "lat"]].to_numpy()).is_ccw is False  # clockwise
    utm = Transformer.from_crs(4326, 32634, always_xy=True)
    e, n = utm.transform(tp.lon.to_numpy(), tp.lat.to_numpy())
    np.testing.assert_allclose(tp.utm_e, e)
    np.testing.assert_allclose(tp.utm_n, n)


def test_turning_points_of_a_multipolygon():
    two = shapely.MultiPolygon([box(21, 42.5, 21.001, 42.501), box(21.01, 42.5, 21.011, 42.501)])
    gdf = gpd.GeoDataFrame({"hazard_id": ["H2"]}, geometry=[two], crs=4326)
    labels = turning_points(gdf).label.tolist()
    assert labels[:2] == ["P1-TP1", "P1-TP2"] and labels[4] == "P2-TP1"


def test_empty_geometries_have_no_turning_points():
    gdf = gpd.GeoDataFrame({"hazard_id": ["E", "N"]}, geometry=[shapely.Polygon(), None], crs=4326)
    tp = turning_points(gdf)
    assert tp.empty and "bearing_deg" in tp.columns


def test_without_an_id_column_features_are_numbered():
    gdf = gpd.GeoDataFrame(geometry=[box(21, 42.5, 21.001, 42.501)], crs=4326)
    assert set(turning_points(gdf, id_column=None).feature_id) == {"1"}
    assert set(turning_points(gdf).feature_id) == {"1"}
