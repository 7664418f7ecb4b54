"""Hazards against boundaries: exact splits, counts to the largest share, Table 1 shape."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from kosovo_cmr.analysis.overlay import (
    assign_units,
    contamination_by_unit,
    hazards_open_on,
    split_by_units,
    units_for,
)
from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.errors import CRSError, InputError

# Two hand-built units sharing the meridian 21.0 (a geodesic), and a third, North, above.
WEST = box(20.90, 42.40, 21.00, 42.60)
EAST = box(21.00, 42.40, 21.10, 42.60)


def units(*extra):
    names = ["West", "East"] + [n for n, _ in extra]
    geoms = [WEST, EAST] + [g for _, g in extra]
    return gpd.GeoDataFrame({"name": names}, geometry=geoms, crs=4326)


def hazards(geoms, kinds=None):
    kinds = kinds or ["CHA"] * len(geoms)
    return gpd.GeoDataFrame(
        {"hazard_id": [f"H{i}" for i in range(len(geoms))], "kind": kinds},
        geometry=list(geoms),
        crs=4326,
    )


def test_straddling_hazard_is_split_exactly_and_counted_once():
    # A slanted quadrilateral about 1.6 x 1.3 km, two thirds of it east of the meridian.
    h = Polygon([(20.992, 42.500), (21.012, 42.503), (21.014, 42.512), (20.994, 42.514)])
    hz = hazards([h])
    whole = geodesic_area(hz)[0]
    parts = split_by_units(hz, units(), name_column="name", id_column="hazard_id")
    assert sorted(parts["unit"]) == ["East", "West"]
    assert abs(parts["area_m2"].sum() - whole) < 0.01
    by_unit = parts.set_index("unit")["area_m2"]
    # Cutting along the meridian in lon/lat is close to the geodesic cut (edges ~1.6 km):
    # the shares agree to 0.01 %, and East holds the larger one.
    lonlat_west = geodesic_area([h.intersection(WEST)], crs=4326)[0]
    assert abs(by_unit["West"] - lonlat_west) / whole < 1e-4
    assert by_unit["East"] > by_unit["West"] > 0
    assert abs(parts["share"].sum() - 1) < 1e-9
    assert assign_units(parts).to_dict() == {0: "East"}
    table = contamination_by_unit(hz, units(), name_column="name").set_index("name")
    assert table.loc["East", "cha_count"] == 1 and table.loc["West", "cha_count"] == 0
    assert table["total_count"].sum() == 1
    assert abs(table["cha_area_m2"].sum() - whole) < 0.01
    assert abs(table.loc["West", "cha_area_m2"] - by_unit["West"]) < 1e-6


@settings(max_examples=40, deadline=None)
@given(
    x=st.floats(20.95, 20.999),
    y=st.floats(42.41, 42.58),
    w=st.floats(0.002, 0.04),
    h=st.floats(0.001, 0.015),
    skew=st.floats(-0.01, 0.01),
)
def test_parts_always_sum_to_the_whole(x, y, w, h, skew):
    poly = Polygon([(x, y), (x + w, y + skew * h), (x + w + skew, y + h), (x, y + h * 1.2)])
    poly = shapely.make_valid(poly)
    hz = hazards([poly])
    parts = split_by_units(hz, units(), name_column="name")
    assert abs(parts["area_m2"].sum() - geodesic_area(hz)[0]) < 0.01


def test_hazard_inside_one_unit_is_whole_there():
    h = box(21.03, 42.45, 21.04, 42.46)
    parts = split_by_units(hazards([h]), units(), name_column="name")
    assert list(parts["unit"]) == ["East"]
    assert parts["share"].iloc[0] == pytest.approx(1.0)


def test_overlapping_units_do_not_count_area_twice():
    # "Overlap" covers part of East: the area there goes to one unit only.
    extra = ("Overlap", box(21.02, 42.40, 21.10, 42.60))
    h = box(21.01, 42.45, 21.03, 42.46)
    hz = hazards([h])
    parts = split_by_units(hz, units(extra), name_column="name")
    assert abs(parts["area_m2"].sum() - geodesic_area(hz)[0]) < 0.01


def test_area_outside_every_unit_is_kept_as_none():
    h = box(21.09, 42.59, 21.12, 42.61)  # sticks out of East to the north and east
    hz = hazards([h])
    parts = split_by_units(hz, units(), name_column="name")
    assert set(parts["unit"].map(str)) == {"East", "None"}
    assert abs(parts["area_m2"].sum() - geodesic_area(hz)[0]) < 0.01
    table = contamination_by_unit(hz, units(), name_column="name")
    assert table["name"].iloc[-1] is None
    assert table["total_count"].sum() == 1


@pytest.mark.parametrize(
    "geom",
    [Polygon(), MultiPolygon(), box(21.05, 42.5, 21.06, 42.51)],
    ids=["empty-polygon", "empty-multipolygon", "polygon"],
)
def test_geometry_kinds_including_empty(geom):
    hz = hazards([geom])
    parts = split_by_units(hz, units(), name_column="name")
    assert len(parts) == 1
    assert parts["area_m2"].sum() == pytest.approx(geodesic_area(hz)[0], abs=0.01)


def test_table_has_every_unit_kinds_and_order():
    hz = hazards(
        [box(20.95, 42.45, 20.96, 42.46), box(21.05, 42.45, 21.06, 42.46)], kinds=["SHA", "CHA"]
    )
    regions = gpd.GeoDataFrame(
        {"region": ["West", "Centre", "Extra"]},
        geometry=[WEST, EAST, box(21.2, 42.4, 21.3, 42.6)],
        crs=4326,
    )
    table = contamination_by_unit(hz, regions, name_column="region")
    # the report's region order first (Centre before West), other units after
    assert list(table["region"]) == ["Centre", "West", "Extra"]
    assert table.set_index("region").loc["West", ["sha_count", "cha_count"]].tolist() == [1, 0]
    assert table.set_index("region").loc["Extra", "total_area_m2"] == 0


def test_empty_hazards_give_zero_rows():
    empty = hazards([])
    table = contamination_by_unit(empty, units(), name_column="name")
    assert list(table["name"]) == ["East", "West"]
    assert table[["total_count", "total_area_m2"]].to_numpy().sum() == 0


def test_refuses_missing_crs_and_missing_name_column():
    hz = hazards([box(21.05, 42.45, 21.06, 42.46)])
    with pytest.raises(CRSError):
        split_by_units(hz.set_crs(None, allow_override=True), units(), name_column="name")
    with pytest.raises(InputError, match="no column 'nom'"):
        split_by_units(hz, units(), name_column="nom")
    with pytest.raises(InputError, match="kind"):
        contamination_by_unit(
            hazards([box(21, 42.5, 21.01, 42.51)], ["XYZ"]), units(), name_column="name"
        )


def test_input_crs_is_kept_and_input_not_changed():
    hz = hazards([box(20.99, 42.45, 21.01, 42.46)]).to_crs("EPSG:9141")
    before = hz.copy()
    parts = split_by_units(hz, units(), name_column="name")
    assert parts.crs == hz.crs
    assert hz.equals(before)


def test_hazards_open_on_a_date():
    hz = hazards([box(21, 42.5, 21.01, 42.51)] * 4)
    hz["status"] = ["active", "released", "removed", "released"]
    hz["recorded"] = pd.to_datetime(["2013-01-01", "2013-01-01", "2024-03-01", "2013-01-01"])
    hz["closed"] = pd.to_datetime([None, "2024-06-30", "2024-12-31", None])
    ids = lambda d: list(hazards_open_on(hz, d)["hazard_id"])  # noqa: E731
    assert ids("2023-12-31") == ["H0", "H1"]
    assert ids("2024-06-30") == ["H0", "H2"]  # closed on the day: no longer open
    assert ids("2024-12-30") == ["H0", "H2"]
    assert ids("2024-12-31") == ["H0"]
    assert ids(None) == ["H0"]  # by status; H3 (released, no date) is never open


def test_units_for_municipalities_and_regions(municipalities):
    regions, name = units_for("region", municipalities)
    assert name == "region" and len(regions) == 5
    munis, name = units_for("municipality", municipalities)
    assert name == "municipality" and len(munis) == 38
    with pytest.raises(InputError):
        units_for("district", municipalities)


def test_real_boundaries_partition_a_hazard_across_municipalities(municipalities):
    # a hazard straddling the Prishtinë / Fushë Kosovë boundary (real 2018 polygons)
    munis = municipalities.set_index("municipality")
    line = shapely.intersection(
        munis.geometry["Prishtinë"].boundary, munis.geometry["Fushë Kosovë"].boundary
    )
    centre = shapely.line_interpolate_point(shapely.line_merge(line), 0.5, normalized=True)
    h = gpd.GeoSeries([centre], crs=4326).to_crs("EPSG:9141").buffer(400).to_crs(4326)
    hz = hazards(list(h.values))
    parts = split_by_units(hz, municipalities, name_column="municipality")
    assert len(parts[parts["area_m2"] > 1]) >= 2
    assert abs(parts["area_m2"].sum() - geodesic_area(hz)[0]) < 0.01
    assert np.isclose(parts["share"].sum(), 1.0)
