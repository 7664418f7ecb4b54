"""The geometry step of an import: position, shape notes and the area change of repairs."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from _import_corpus import LAT, LON, D, square

from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.import_geometry import area_change, to_storage, within_kosovo

#: A local engineering CRS: no transformation to WGS 84 exists, so nothing in it measures.
SITE_GRID = pyproj.CRS.from_wkt(
    'ENGCRS["site grid",EDATUM["local"],CS[Cartesian,2],'
    'AXIS["x",east,ORDER[1],LENGTHUNIT["metre",1]],'
    'AXIS["y",north,ORDER[2],LENGTHUNIT["metre",1]]]'
)


def test_area_change_is_measured_for_the_repaired_features_only():
    before = shapely.box(LON, LAT, LON + D, LAT + D)
    after = shapely.MultiPolygon([shapely.box(LON, LAT, LON + D, LAT + D / 2)])
    issues = [[], []]
    out = area_change([before, before], [after, after], np.array([True, False]), 4326, issues)
    kept, whole = geodesic_area([after, before], crs=4326)
    assert out[0] == pytest.approx(kept - whole, rel=1e-9) and out[0] < 0  # half was lost
    assert out[1] is None and issues == [[], []]


@pytest.mark.parametrize(
    "original, crs, why",
    [
        (shapely.box(0, 0, 10, 10), SITE_GRID, "ProjError"),  # measuring raises
        (shapely.box(LON, LAT, LON + D, 100.0), 4326, "area nan m2 before"),  # NaN
    ],
)
def test_a_change_that_cannot_be_measured_is_a_note_on_the_feature(original, crs, why):
    issues = [[]]
    out = area_change([original], [square(0)], np.array([True]), crs, issues)
    assert out == [None]
    assert [i.code for i in issues[0]] == ["area_not_measured"]
    assert why in issues[0][0].detail and issues[0][0].severity == "note"


def test_position_outside_kosovo_and_swapped_axes():
    swapped = shapely.transform(square(0), lambda xy: xy[:, ::-1])
    tirana = shapely.box(19.8, 41.3, 19.81, 41.31)
    issues = [[], [], []]
    out = to_storage([square(0), swapped, tirana], np.ones(3, dtype=bool), 4326, issues)
    assert out[0] is not None and within_kosovo(out[0].bounds)
    assert [[i.code for i in x] for x in issues] == [[], ["axis_swapped"], ["outside_kosovo"]]
