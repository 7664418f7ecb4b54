"""kosovo_cmr.qa: each geocheck-grade check, from a feature that breaks it."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon, box

from kosovo_cmr import qa, settings

X0, Y0 = 21.0, 42.5  # in Kosovo, WGS 84
D = 0.001  # about 80 m east-west, 110 m north-south


def square(x=X0, y=Y0, size=D):
    return box(x, y, x + size, y + size)


def frame(geoms, ids, *, id_column="hazard_id", **columns):
    data = {id_column: ids, **columns}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=4326)


def codes(result):
    return list(result.findings["code"])


def only(result, code):
    found = result.findings[result.findings["code"] == code]
    assert len(found), f"no {code} in {codes(result)}"
    return found


def test_clean_squares_give_no_findings():
    result = qa.check(frame([square(), square(X0 + 2 * D)], ["A", "B"]), layer="hazards")
    assert result.findings.empty and result.counts() == {}
    assert result.features == 2 and "none" in result.summary()


def test_invalid_polygon_has_reason_and_point():
    bowtie = Polygon([(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)])
    found = only(qa.check(frame([bowtie], ["BT"]), layer="hazards"), "invalid_polygon")
    assert "Self-intersection" in found["message"].iloc[0]
    point = found.geometry.iloc[0]
    assert point.geom_type == "Point"
    assert point.x == pytest.approx(X0 + D / 2) and point.y == pytest.approx(Y0 + D / 2)


def test_fewer_than_three_vertices():
    flat = shapely.from_wkt(f"POLYGON (({X0} {Y0}, {X0 + D} {Y0}, {X0} {Y0}, {X0} {Y0}))")
    result = qa.check(frame([flat], ["FLAT"]), layer="hazards")
    found = only(result, "too_few_vertices")
    assert "2 distinct" in found["message"].iloc[0]
    assert found.geometry.iloc[0].equals(shapely.Point(X0, Y0))


def test_duplicate_polygon_under_another_id_within_tolerance():
    shifted = shapely.affinity.translate(square(), xoff=0.000005)  # about 0.4 m
    far = shapely.affinity.translate(square(), xoff=0.0001)  # about 8 m: not a duplicate
    geoms = [square(), shifted, far]
    result = qa.check(frame(geoms, ["A", "B", "C"], id_column="release_id"), layer="releases")
    found = only(result, "duplicate_polygon")
    assert len(found) == 1
    assert (found["feature_id"].iloc[0], found["other_id"].iloc[0]) == ("A", "B")
    assert found["distance_m"].iloc[0] == pytest.approx(0.41, abs=0.05)
    tight = qa.check(frame(geoms, ["A", "B", "C"]), layer="hazards", duplicate_tolerance_m=0.1)
    assert "duplicate_polygon" not in codes(tight)


def test_ids_differing_only_by_whitespace_or_case_and_duplicate_ids():
    geoms = [square(X0 + k * 2 * D) for k in range(4)]
    result = qa.check(frame(geoms, ["HZ-1", "HZ-1 ", "hz-1", "HZ-1"]), layer="hazards")
    near = only(result, "id_space_case")
    assert list(near["feature_id"]) == ["HZ-1 ", "hz-1"]
    assert set(near["other_id"]) == {"HZ-1"}
    dup = only(result, "duplicate_id")
    assert list(dup["feature_id"]) == ["HZ-1"] and "row 1" in dup["message"].iloc[0]
    assert dup.geometry.iloc[0].within(geoms[3])


def test_duplicate_turning_points_by_coordinates():
    a, b, c, d = (X0, Y0), (X0 + D, Y0), (X0 + D, Y0 + D), (X0, Y0 + D)
    repeated = Polygon([a, b, b, c, d])  # consecutive
    result = qa.check(frame([repeated], ["REP"]), layer="hazards")
    found = only(result, "duplicate_vertex")
    assert found.geometry.iloc[0].equals(shapely.Point(b))
    assert "consecutive vertices 2, 3" in found["message"].iloc[0]


def test_duplicate_turning_points_by_local_id():
    entered = json.dumps([
        {"point_no": 1, "point_id": "TP1", "lon": X0, "lat": Y0},
        {"point_no": 2, "point_id": "TP2", "lon": X0 + D, "lat": Y0},
        {"point_no": 3, "point_id": "TP2 ", "lon": X0 + D, "lat": Y0 + D},
    ])  # fmt: skip
    poly = Polygon([(X0, Y0), (X0 + D, Y0), (X0 + D, Y0 + D)])
    result = qa.check(frame([poly], ["T"], entered_points=[entered]), layer="hazards")
    found = only(result, "duplicate_point_id")
    assert found["other_id"].iloc[0] == "TP2"
    assert found.geometry.iloc[0].x == pytest.approx(X0 + D)
    assert found.geometry.iloc[0].y == pytest.approx(Y0 + D)


def test_consecutive_vertices_farther_than_the_threshold():
    big = Polygon([(X0, Y0), (X0 + 0.1, Y0), (X0 + 0.1, Y0 + 0.001), (X0, Y0 + 0.001)])
    result = qa.check(frame([big], ["BIG"]), layer="hazards")
    found = only(result, "long_segment")
    assert len(found) == 2  # the two long sides, about 8.2 km each
    assert found.geometry.iloc[0].geom_type == "LineString"
    assert found["distance_m"].iloc[0] == pytest.approx(8190, rel=0.01)
    assert settings.qa_max_segment_m == 5000.0  # geocheck's default
    loose = qa.check(frame([big], ["BIG"]), layer="hazards", max_segment_m=9000)
    assert "long_segment" not in codes(loose)


def test_spike_and_sliver_with_coordinates():
    tip = (X0 + 0.01, Y0 + D / 2 + 0.0000001)
    mid = Y0 + D / 2
    spiky = Polygon([(X0, Y0), (X0 + D, Y0), (X0 + D, mid), tip, (X0 + D, mid + 0.00001),
                     (X0 + D, Y0 + D), (X0, Y0 + D)])  # fmt: skip
    result = qa.check(frame([spiky], ["S"]), layer="hazards")
    spike = only(result, "spike")
    assert spike.geometry.iloc[0].distance(shapely.Point(tip)) < 1e-7
    thin = box(X0, Y0, X0 + 0.01, Y0 + 0.00001)
    sliver = only(qa.check(frame([thin], ["T"]), layer="hazards"), "sliver")
    assert sliver.geometry.iloc[0].within(thin.buffer(1e-9))


def test_overlaps_between_hazards_of_the_same_kind_only():
    a, b = square(), square(X0 + D / 2)
    same = qa.check(frame([a, b], ["A", "B"], kind=["CHA", "CHA"]), layer="hazards")
    found = only(same, "overlap")
    assert found.geometry.iloc[0].geom_type == "Polygon"
    assert found["area_m2"].iloc[0] == pytest.approx(4545, rel=0.02)  # half of ~82 m x 111 m
    other = qa.check(frame([a, b], ["A", "B"], kind=["CHA", "SHA"]), layer="hazards")
    assert "overlap" not in codes(other)


def test_overlaps_and_gaps_between_boundary_units():
    left, right = square(), square(X0 + D * 0.9)  # overlap a tenth
    ring = box(X0, Y0 + 2 * D, X0 + 3 * D, Y0 + 5 * D).difference(
        box(X0 + D, Y0 + 3 * D, X0 + 2 * D, Y0 + 4 * D)
    )  # a unit around a hole no unit covers
    units = frame([left, right, ring], ["Left", "Right", "Ring"], id_column="municipality")
    result = qa.check(units, layer="boundaries")
    overlap = only(result, "overlap")
    assert overlap["area_m2"].iloc[0] == pytest.approx(909, rel=0.02)
    gap = only(result, "gap")
    assert gap["area_m2"].iloc[0] == pytest.approx(9090, rel=0.02)
    hole = box(X0 + D, Y0 + 3 * D, X0 + 2 * D, Y0 + 4 * D)
    assert gap.geometry.iloc[0].normalize().equals_exact(hole.normalize(), 1e-12)


def test_geojson_is_strict_wgs84():
    result = qa.check(frame([square(), square()], ["A", "B"]), layer="hazards")
    text = json.dumps(result.to_geojson(), allow_nan=False)
    data = json.loads(text)
    assert data["type"] == "FeatureCollection"
    kinds = {f["properties"]["code"] for f in data["features"]}
    assert kinds == {"duplicate_polygon", "overlap"}
