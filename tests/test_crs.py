import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

from kosovo_cmr import crs
from kosovo_cmr.errors import CRSError

# WGS 84 ellipsoid
A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)
E = math.sqrt(E2)
B2 = A * A * (1 - E2)


def _q(phi):
    s = math.sin(phi)
    return s / (1 - E2 * s * s) + math.log((1 + E * s) / (1 - E * s)) / (2 * E)


def quadrangle_area(lon1, lat1, lon2, lat2):
    """Exact area of a lat/lon quadrangle on the WGS 84 ellipsoid (authalic formula)."""
    dlon = math.radians(lon2 - lon1)
    return dlon * B2 / 2 * (_q(math.radians(lat2)) - _q(math.radians(lat1)))


@pytest.mark.parametrize(
    "bounds",
    [(21.0, 42.0, 21.01, 42.01), (20.1, 41.9, 21.7, 43.2), (20.5, 42.5, 20.5001, 42.5001)],
)
def test_geodesic_area_of_quadrangle_matches_closed_form(bounds):
    # a lat/lon box's edges along meridians and parallels: densify the parallels so
    # the geodesic polygon follows them (geodesics between far vertices bow poleward)
    poly = shapely.segmentize(box(*bounds), 0.0005)
    got = crs.geodesic_area([poly], crs=4326)[0]
    expected = quadrangle_area(*bounds)
    assert got == pytest.approx(expected, rel=2e-6)


def test_geodesic_area_subtracts_holes_whatever_the_orientation():
    outer = box(21, 42, 21.01, 42.01)
    hole = box(21.002, 42.002, 21.004, 42.004)
    poly = Polygon(outer.exterior.coords, [hole.exterior.coords])
    flipped = shapely.orient_polygons(poly, exterior_cw=True)
    areas = crs.geodesic_area([poly, flipped, outer, hole], crs=4326)
    assert areas[0] == pytest.approx(areas[2] - areas[3])
    assert areas[1] == pytest.approx(areas[0])


def test_geodesic_area_is_crs_independent():
    poly = Point(21.1, 42.6).buffer(0.01)
    series = gpd.GeoSeries([poly], crs=4326)
    in_4326 = crs.geodesic_area(series)[0]
    for other in ("EPSG:9141", "EPSG:32634", "EPSG:3857"):
        assert crs.geodesic_area(series.to_crs(other))[0] == pytest.approx(in_4326, rel=1e-6)


@pytest.mark.parametrize(
    "geom",
    [
        Point(21, 42),
        shapely.from_wkt("POLYGON EMPTY"),
        None,
        shapely.from_wkt("LINESTRING (21 42, 21.1 42.1)"),
    ],
)
def test_geodesic_area_of_non_areal_is_zero(geom):
    assert crs.geodesic_area([geom], crs=4326)[0] == 0.0


def test_geodesic_area_needs_a_crs():
    with pytest.raises(CRSError, match="CRS"):
        crs.geodesic_area([box(0, 0, 1, 1)])
    with pytest.raises(CRSError, match="needs a CRS"):
        crs.geodesic_area(gpd.GeoSeries([box(0, 0, 1, 1)]))


def test_multipolygon_area_is_the_sum_of_parts():
    a, b = box(21, 42, 21.01, 42.01), box(21.02, 42, 21.03, 42.01)
    areas = crs.geodesic_area([shapely.MultiPolygon([a, b]), a, b], crs=4326)
    assert areas[0] == pytest.approx(areas[1] + areas[2])


def test_require_crs_refuses_a_layer_without_one():
    with pytest.raises(CRSError, match="hazards has no CRS"):
        crs.require_crs(gpd.GeoDataFrame(geometry=[Point(0, 0)]), name="hazards")


def test_to_metric_and_back_round_trip():
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(21.16, 42.66)], crs=4326)
    metric = crs.to_metric(gdf)
    assert metric.crs.to_epsg() == 9141
    assert gdf.crs.to_epsg() == 4326  # input untouched
    back = crs.to_storage(metric)
    assert back.geometry.iloc[0].distance(gdf.geometry.iloc[0]) < 1e-9


def test_metric_crs_scale_is_near_one_in_kosovo():
    # the national grid's distortion is what lets buffers be built there
    gdf = gpd.GeoSeries([Point(20.1, 42.0), Point(21.7, 43.2)], crs=4326)
    m = crs.to_metric(gdf)
    planar = m.iloc[0].distance(m.iloc[1])
    geodesic = crs.geodesic_length([shapely.LineString([(20.1, 42.0), (21.7, 43.2)])], crs=4326)[0]
    assert abs(planar / geodesic - 1) < 2e-4


@pytest.mark.parametrize("code", ["EPSG:3909", "EPSG:31277"])
def test_deprecated_legacy_codes_map_to_6316(code):
    assert crs.normalize_crs(code).to_epsg() == 6316


def test_normalize_crs_keeps_others_and_refuses_nonsense():
    assert crs.normalize_crs(9141).to_epsg() == 9141
    with pytest.raises(CRSError, match="cannot understand"):
        crs.normalize_crs("EPSG:not-a-code")


@settings(max_examples=40, deadline=None)
@given(
    lon=st.floats(20.1, 21.6),
    lat=st.floats(41.9, 43.1),
    w=st.floats(1e-4, 0.05),
    h=st.floats(1e-4, 0.05),
)
def test_geodesic_area_of_small_boxes_matches_closed_form(lon, lat, w, h):
    poly = shapely.segmentize(box(lon, lat, lon + w, lat + h), 0.001)
    got = crs.geodesic_area([poly], crs=4326)[0]
    assert got == pytest.approx(quadrangle_area(lon, lat, lon + w, lat + h), rel=1e-5)
    assert np.isfinite(got)
