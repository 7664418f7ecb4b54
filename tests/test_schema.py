import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box

from kosovo_cmr import schema
from kosovo_cmr.errors import SchemaError

POLY = box(21.0, 42.5, 21.001, 42.501)


def valid_layer(name):
    """A minimal valid layer of each kind, built from its schema."""
    rows = {
        "hazards": {
            "hazard_id": ["H1", "H2"],
            "kind": ["CHA", "SHA"],
            "status": ["active"] * 2,
            "priority": ["high", None],
            "recorded": ["2022-05-01", "2013-06-02"],
        },
        "evidence": {
            "evidence_id": ["E1", "E2"],
            "hazard_id": ["H1", None],
            "item": ["component", "crater"],
            "ordnance": ["BLU-97", "unknown"],
            "found": ["2022-05-01", None],
            "accuracy_m": [3.0, None],
        },
        "strikes": {
            "strike_id": ["S1", "S2"],
            "date": ["1999-04-01", "1999-05-02"],
            "munition": ["CBU-87", "RBL755"],
            "bombs": [1, 2],
            "length_m": [120.0, 80.0],
            "width_m": [60.0, 40.0],
            "bearing_deg": [10.0, 350.0],
        },
        "releases": {
            "release_id": ["R1", "R2"],
            "hazard_id": ["H1", None],
            "method": ["clearance", "cancellation_nts"],
            "operator": ["HALO", "NPA"],
            "date": ["2024-05-01", "2024-06-01"],
            "submunitions": [3, 0],
        },
        "boundaries": {"municipality": ["A", "B"], "region": ["North", "South"]},
        # issue 18: the incidents layer (casualties by sex and age where known)
        "incidents": {
            "incident_id": ["I1", "I2"],
            "date": ["2019-05-01", "2023-08-12"],
            "kind": ["accident", "eod_callout"],
            "item": ["submunition", "unknown"],
            "killed": [0, 0],
            "injured": [2, 0],
            "boys": [1, 0],
            "sex_age_unknown": [1, None],  # not given: the default 0
        },
        # issue 15: activities and devices
        "activities": {
            "activity_id": ["A1", "A2"],
            "activity": ["clearance", "nts"],
            "method": ["lld", None],
            "operator": ["HALO", "NPA"],
            "release_id": ["R1", None],
            "start_date": ["2024-05-01", "2024-06-01"],
            "end_date": ["2024-05-20", None],
            "team_days": [14.0, None],
            "status": ["completed", "ongoing"],
        },
        "devices": {
            "device_id": ["D1", "D2"],
            "item": ["submunition", "uxo"],
            "model": ["BLU-97", None],
            "depth_cm": [12.0, None],
            "date": ["2024-05-03", "2024-05-04"],
            "release_id": ["R1", "R1"],
        },
    }[name]
    kind = schema.SCHEMAS[name].geometry_type
    geoms = [Point(21, 42.5), Point(21.1, 42.6)] if kind == "Point" else [POLY, POLY]
    return schema.conform(gpd.GeoDataFrame(rows, geometry=geoms, crs=4326), name)


@pytest.mark.parametrize("layer", schema.LAYERS)
def test_minimal_layers_conform(layer):
    gdf = valid_layer(layer)
    assert schema.validate(gdf, layer) == []
    assert schema.check(gdf, layer) is gdf


def test_every_violation_is_reported_not_just_the_first():
    gdf = valid_layer("hazards")
    gdf.loc[0, "kind"] = "XHA"
    gdf.loc[1, "hazard_id"] = "H1"
    gdf.loc[1, "priority"] = "urgent"
    gdf.loc[0, "status"] = None
    gdf = gdf.drop(columns=["synthetic"])
    gdf.loc[1, "geometry"] = Point(21, 42)
    codes = sorted(v.code for v in schema.validate(gdf, "hazards"))
    assert codes == [
        "duplicate_id",
        "missing_column",
        "null_value",
        "value_not_allowed",
        "value_not_allowed",
        "wrong_geometry_type",
    ]
    with pytest.raises(SchemaError) as info:
        schema.check(gdf, "hazards")
    assert len(info.value.violations) == 6
    assert "XHA" in str(info.value) and "urgent" in str(info.value)


def test_violation_names_the_rows():
    gdf = valid_layer("strikes")
    gdf.loc[1, "bearing_deg"] = 400.0
    (violation,) = schema.validate(gdf, "strikes")
    assert violation.code == "out_of_range" and violation.rows == (1,)
    assert "strikes.bearing_deg" in str(violation)


def test_missing_crs_and_wrong_dtypes():
    gdf = valid_layer("releases").set_crs(None, allow_override=True)
    gdf["submunitions"] = ["many", "0"]
    codes = {v.code for v in schema.validate(gdf, "releases")}
    assert {"missing_crs", "wrong_dtype"} <= codes


@pytest.mark.parametrize("bad", [None, shapely.from_wkt("POLYGON EMPTY")])
def test_null_and_empty_geometries(bad):
    gdf = valid_layer("hazards")
    gdf.loc[1, "geometry"] = bad
    codes = {v.code for v in schema.validate(gdf, "hazards")}
    assert codes == {"null_geometry"} if bad is None else {"empty_geometry"}


def test_releases_may_have_an_empty_geometry():
    gdf = valid_layer("releases")
    gdf.loc[1, "geometry"] = shapely.from_wkt("MULTIPOLYGON EMPTY")
    assert schema.validate(gdf, "releases") == []


def test_invalid_geometry_is_reported():
    gdf = valid_layer("hazards")
    bowtie = shapely.from_wkt("POLYGON ((21 42, 21.1 42.1, 21.1 42, 21 42.1, 21 42))")
    gdf.loc[0, "geometry"] = MultiPolygon([bowtie])
    assert [v.code for v in schema.validate(gdf, "hazards")] == ["invalid_geometry"]


def test_conform_makes_lossless_conversions_only():
    raw = gpd.GeoDataFrame(
        {
            "release_id": ["R1", "R2", "R3"],
            "method": ["clearance"] * 3,
            "operator": ["HALO"] * 3,
            "date": ["2024-05-01", "2024-06-01", "2024-07-01"],
            "submunitions": ["3", " 0", "2"],
            "ap_mines": [0, 1, 0],
            "cmr_found": ["yes", None, "no"],
            "extra": ["kept", "kept", "kept"],
        },
        geometry=[POLY, MultiPolygon([POLY]), shapely.from_wkt("POLYGON EMPTY")],
        crs=4326,
    )
    out = schema.conform(raw, "releases")
    names = schema.SCHEMAS["releases"].column_names
    assert list(out.columns[: len(names)]) == names
    assert "extra" in out.columns and out["extra"].tolist() == ["kept"] * 3
    assert out["submunitions"].tolist() == [3, 0, 2] and out["submunitions"].dtype == np.int64
    assert pd.api.types.is_datetime64_any_dtype(out["date"])
    assert out["cmr_found"].tolist() == [True, False, False]  # null -> submunitions > 0
    assert set(out.geom_type) == {"MultiPolygon"} and out.geometry.iloc[2].is_empty
    assert raw["submunitions"].tolist() == ["3", " 0", "2"]  # input untouched
    assert schema.validate(out, "releases") == []


def test_conform_leaves_unconvertible_values_for_validate():
    raw = valid_layer("evidence")
    raw["found"] = ["2022-05-01", "last spring"]
    raw["accuracy_m"] = ["3", "about five"]
    out = schema.conform(raw, "evidence")
    assert out["found"].tolist() == ["2022-05-01", "last spring"]
    codes = {(v.column, v.code) for v in schema.validate(out, "evidence")}
    assert codes == {("found", "wrong_dtype"), ("accuracy_m", "wrong_dtype")}


def test_cmr_found_defaults_from_submunitions_when_missing():
    raw = valid_layer("releases").drop(columns=["cmr_found"])
    assert schema.conform(raw, "releases")["cmr_found"].tolist() == [True, False]


def test_unknown_layer_is_refused():
    with pytest.raises(SchemaError, match="unknown layer 'mines'"):
        schema.get_schema("mines")


# --- issue 15: the programme's records ---------------------------------------------------


def test_records_columns_have_their_defaults_and_allowed_values():
    hazards = valid_layer("hazards")
    assert hazards["verification"].tolist() == ["reported", "reported"]  # not given: reported
    assert hazards["benchmark_lon"].isna().all()
    bad = hazards.assign(kind=["unclassified", "XHA"], verification=["verified", "maybe"])
    codes = {(v.column, v.code) for v in schema.validate(bad, "hazards")}
    assert codes == {("kind", "value_not_allowed"), ("verification", "value_not_allowed")}
    evidence = valid_layer("evidence").assign(
        evidence_class=["direct", "seen"], evidence_source=["observed", "records"], depth_cm=[5, -1]
    )
    codes = {(v.column, v.code) for v in schema.validate(evidence, "evidence")}
    assert codes == {("evidence_class", "value_not_allowed"), ("depth_cm", "out_of_range")}
    benchmark = valid_layer("releases").assign(benchmark_lon=[21.0, 200.0])
    assert [v.code for v in schema.validate(benchmark, "releases")] == ["out_of_range"]
