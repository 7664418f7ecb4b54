"""The importer against a corpus of good and bad inputs built in tmp_path.

Every import goes through ``run``, which checks read == imported + rejected and that
the store holds exactly what the report says was imported.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from _import_corpus import (
    LAT,
    LON,
    D,
    bowtie_coords,
    evidence_points,
    feature,
    hazards,
    props,
    ring,
    square,
    write_geojson,
    write_gpkg,
)
from shapely.geometry import LineString, Point, Polygon

from kosovo_cmr import settings
from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.errors import CRSError, InputError, StoreError
from kosovo_cmr.importer import IdConflictError, import_layer, validate_source
from kosovo_cmr.store import open_store


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "store.gpkg"


def stored_count(store_path, layer):
    store = open_store(store_path)
    return len(store.read(layer)) if store.has_layer(layer) else 0


def run(src, layer="hazards", *, store_path, **kw):
    before = stored_count(store_path, layer) if store_path.exists() else 0
    kw.setdefault("rejects", store_path.parent / f"rejects-{src.stem}.gpkg")
    kw.setdefault("overwrite", True)
    report = import_layer(src, layer, store=store_path, **kw)
    assert report.read == report.imported + report.rejected
    assert len(report.features) == report.read
    if kw.get("mode") == "replace" and report.imported:
        assert stored_count(store_path, layer) == report.imported
    else:
        assert stored_count(store_path, layer) == before + report.imported - report.replaced
    return report


def outcome(report, row):
    return report.features.set_index("row").loc[row]


# --- geometry corpus ---------------------------------------------------------------------


def test_bowtie_is_repaired_to_multipolygon_with_area_change(tmp_path, store_path):
    src = write_geojson(
        tmp_path / "bowtie.geojson",
        [feature(props("B-1"), ring(bowtie_coords())), feature(props("B-2"), square(2))],
    )
    report = run(src, store_path=store_path)
    assert (report.read, report.imported, report.repaired, report.rejected) == (2, 2, 1, 0)
    assert report.reasons["self_intersection"] == 1
    row = outcome(report, 1)
    assert row["outcome"] == "repaired" and "self_intersection" in row["reasons"]
    assert "at (" in row["details"]  # the location of the crossing
    stored = open_store(store_path).read("hazards").set_index("hazard_id")
    fixed = stored.loc["B-1", "geometry"]
    assert fixed.geom_type == "MultiPolygon" and len(fixed.geoms) == 2 and fixed.is_valid
    # the change is measured: two triangles of a square of side D, against ~0 as drawn
    half_square = geodesic_area([shapely.box(LON, LAT, LON + D, LAT + D)], crs=4326)[0] / 2
    assert row["area_change_m2"] == pytest.approx(half_square, rel=0.01)
    # the original is kept in the report file
    originals = pyogrio.read_dataframe(report.rejects_path, layer="repaired")
    assert list(originals["hazard_id"]) == ["B-1"]
    assert not originals.geometry.iloc[0].is_valid


def test_a_repair_whose_area_change_cannot_be_measured_says_so(tmp_path, store_path):
    # a vertex typed at latitude 100, drawn out and back: the repair removes the spike,
    # but the original cannot be measured on the ellipsoid
    spiked = [[LON, LAT], [LON + D, LAT], [LON + D, 100.0], [LON + D, LAT], [LON + D, LAT + D],
              [LON, LAT + D], [LON, LAT]]  # fmt: skip
    src = write_geojson(tmp_path / "spiked.geojson", [feature(props("A-1"), ring(spiked))])
    report = run(src, store_path=store_path)
    assert (report.imported, report.repaired) == (1, 1)
    row = outcome(report, 1)
    assert row["reasons"] == "self_intersection;area_not_measured"
    assert "area_not_measured: area nan m2 before" in row["details"]
    assert row["area_change_m2"] is None
    assert report.reasons["area_not_measured"] == 1


def test_bowtie_with_no_repair_is_rejected(tmp_path, store_path):
    src = write_geojson(tmp_path / "bowtie.geojson", [feature(props("B-1"), ring(bowtie_coords()))])
    report = run(src, store_path=store_path, repair=False)
    assert (report.imported, report.rejected) == (0, 1)
    assert {"self_intersection", "not_repaired"} <= set(report.reasons)
    rejects = pyogrio.read_dataframe(report.rejects_path, layer="rejects")
    assert rejects["kcmr_reasons"].iloc[0].startswith("self_intersection")
    assert rejects["hazard_id"].iloc[0] == "B-1"
    assert not store_path.exists() or stored_count(store_path, "hazards") == 0


def test_unclosed_ring_is_closed_or_refused(tmp_path, store_path):
    open_ring = [[LON, LAT], [LON + D, LAT], [LON + D, LAT + D], [LON, LAT + D]]
    src = write_geojson(tmp_path / "open.geojson", [feature(props("U-1"), ring(open_ring))])
    report = run(src, store_path=store_path)
    assert report.imported == 1 and report.repaired == 1
    assert report.reasons == {"ring_not_closed": 1}
    geom = open_store(store_path).read("hazards").geometry.iloc[0]
    assert geom.equals(shapely.MultiPolygon([shapely.box(LON, LAT, LON + D, LAT + D)]))
    strict = run(src, store_path=tmp_path / "strict.gpkg", repair=False)
    assert strict.rejected == 1 and "not_repaired" in strict.reasons


def test_ring_of_two_points_is_rejected(tmp_path, store_path):
    src = write_geojson(
        tmp_path / "two.geojson",
        [feature(props("T-1"), ring([[LON, LAT], [LON + D, LAT], [LON, LAT]]))],
    )
    report = run(src, store_path=store_path)
    assert report.rejected == 1 and "too_few_points" in report.reasons


def test_nan_coordinates_are_rejected(tmp_path, store_path):
    bad = Polygon([(LON, LAT), (math.nan, LAT), (LON + D, LAT + D), (LON, LAT)])
    gdf = hazards(2)
    gdf.loc[1, "geometry"] = bad
    src = write_gpkg(tmp_path / "nan.gpkg", gdf)
    report = run(src, store_path=store_path)
    assert (report.imported, report.rejected) == (1, 1)
    assert report.reasons == {"non_finite_coordinates": 1}
    assert "vertex 1" in outcome(report, 2)["details"]


def test_swapped_lat_lon_is_reported_as_axis_order(tmp_path, store_path):
    swapped = shapely.transform(square(0), lambda xy: xy[:, ::-1])
    src = write_geojson(
        tmp_path / "swap.geojson",
        [feature(props("S-1"), swapped), feature(props("S-2"), square(1))],
    )
    report = run(src, store_path=store_path)
    assert (report.imported, report.rejected) == (1, 1)
    assert report.reasons == {"axis_swapped": 1}


def test_outside_kosovo_is_rejected(tmp_path, store_path):
    tirana = shapely.box(19.8, 41.3, 19.81, 41.31)
    src = write_geojson(tmp_path / "out.geojson", [feature(props("O-1"), tirana)])
    report = run(src, store_path=store_path)
    assert report.reasons == {"outside_kosovo": 1} and report.rejected == 1


def test_no_crs_is_refused_unless_given(tmp_path, store_path):
    gdf = hazards(2).set_crs(None, allow_override=True)
    pyogrio.write_dataframe(gdf, tmp_path / "nocrs.shp")
    assert not (tmp_path / "nocrs.prj").exists()
    with pytest.raises(CRSError, match="no CRS"):
        import_layer(tmp_path / "nocrs.shp", "hazards", store=store_path)
    assert not store_path.exists()
    report = run(tmp_path / "nocrs.shp", store_path=store_path, crs="EPSG:4326")
    assert report.imported == 2


def test_a_crs_with_no_way_to_wgs84_is_refused_with_a_crs_error(tmp_path, store_path):
    import pyproj

    site = pyproj.CRS.from_wkt(
        'ENGCRS["site grid",EDATUM["local"],CS[Cartesian,2],'
        'AXIS["x",east,ORDER[1],LENGTHUNIT["metre",1]],'
        'AXIS["y",north,ORDER[2],LENGTHUNIT["metre",1]]]'
    )
    gdf = hazards(1).set_crs(site, allow_override=True)
    src = write_gpkg(tmp_path / "site.gpkg", gdf)
    with pytest.raises(CRSError, match="cannot be transformed to EPSG:4326.*--crs"):
        import_layer(src, "hazards", store=store_path)
    assert not store_path.exists()


def test_duplicate_ids_in_the_source(tmp_path, store_path):
    gdf = hazards(3)
    gdf.loc[2, "hazard_id"] = "H-0"
    gdf.loc[1, "hazard_id"] = None
    src = write_gpkg(tmp_path / "dup.gpkg", gdf)
    report = run(src, store_path=store_path)
    assert report.imported == 0 and report.rejected == 3
    assert report.reasons == {"duplicate_id": 2, "missing_value": 1}
    keep_first = run(src, store_path=tmp_path / "skip.gpkg", on_conflict="skip")
    assert keep_first.imported == 1
    stored = open_store(tmp_path / "skip.gpkg").read("hazards")
    assert stored["field_note"].tolist() == ["note 0"]
    keep_last = run(src, store_path=tmp_path / "replace.gpkg", on_conflict="replace")
    assert open_store(tmp_path / "replace.gpkg").read("hazards")["field_note"].tolist() == [
        "note 2"
    ]
    assert keep_last.imported == 1


def test_mixed_geometry_types(tmp_path, store_path):
    collection = shapely.GeometryCollection([square(0), Point(LON, LAT)])
    src = write_geojson(
        tmp_path / "mixed.geojson",
        [
            feature(props("M-1"), square(0)),
            feature(props("M-2"), Point(LON, LAT)),
            feature(props("M-3"), LineString([(LON, LAT), (LON + D, LAT)])),
            feature(props("M-4"), collection),
            feature(props("M-5"), shapely.MultiPolygon([square(1), square(2)])),
        ],
    )
    report = run(src, store_path=store_path)
    assert (report.imported, report.rejected) == (2, 3)
    assert report.reasons == {"wrong_geometry_type": 3}
    assert "mixed: Point, Polygon" in outcome(report, 4)["details"]


def test_z_and_m_are_dropped_and_recorded(tmp_path, store_path):
    zm = (
        f"POLYGON ZM (({LON} {LAT} 500 1, {LON + D} {LAT} 501 2, {LON + D} {LAT + D} 502 3, "
        f"{LON} {LAT} 500 1))"
    )
    z = shapely.force_3d(square(1), 600.0).wkt
    src = tmp_path / "zm.csv"
    src.write_text(
        f'hazard_id,kind,recorded,wkt\nZ-1,CHA,2024-01-01,"{zm}"\nZ-2,SHA,2024-01-02,"{z}"\n'
    )
    report = run(src, store_path=store_path, crs="EPSG:4326")
    assert report.imported == 2 and report.repaired == 0
    assert report.reasons == {"z_dropped": 2, "m_dropped": 1}
    stored = open_store(store_path).read("hazards")
    assert not shapely.has_z(stored.geometry.values).any()


def test_empty_and_null_geometries(tmp_path, store_path):
    gdf = hazards(3)
    gdf.loc[1, "geometry"] = Polygon()
    gdf.loc[2, "geometry"] = None
    src = write_gpkg(tmp_path / "empty.gpkg", gdf)
    report = run(src, store_path=store_path)
    assert report.reasons == {"empty_geometry": 1, "null_geometry": 1}
    assert (report.imported, report.rejected) == (1, 2)


def test_releases_keep_an_empty_geometry(tmp_path, store_path):
    releases = gpd.GeoDataFrame(
        {
            "release_id": ["R-1", "R-2"],
            "method": ["NTS", "clearance"],  # the alias table spells NTS out
            "operator": ["NPA", "HALO"],
            "date": ["15.07.2024", "2024-08-01"],  # a dd.mm.yyyy date is read too
            "submunitions": ["0", "4"],
        },
        geometry=[shapely.MultiPolygon(), shapely.MultiPolygon([square(0)])],
        crs=4326,
    )
    src = write_gpkg(tmp_path / "rel.gpkg", releases)
    report = run(src, "releases", store_path=store_path)
    assert report.imported == 2, report.summary()
    stored = open_store(store_path).read("releases").set_index("release_id")
    assert stored.loc["R-1", "method"] == "cancellation_nts"
    assert stored.loc["R-1", "geometry"].is_empty
    assert stored.loc["R-2", "cmr_found"]


def test_spikes_and_slivers_are_flagged_not_rejected(tmp_path, store_path):
    spike = Polygon(
        [(LON, LAT), (LON + D, LAT), (LON + D, LAT + D / 2 - 1e-6), (LON + 20 * D, LAT + D / 2),
         (LON + D, LAT + D / 2 + 1e-6), (LON + D, LAT + D), (LON, LAT + D)]
    )  # fmt: skip
    assert spike.is_valid
    sliver = shapely.box(LON, LAT + 5 * D, LON + 10 * D, LAT + 5 * D + 0.000005)
    src = write_geojson(
        tmp_path / "shapes.geojson", [feature(props("P-1"), spike), feature(props("P-2"), sliver)]
    )
    report = run(src, store_path=store_path)
    assert report.imported == 2
    assert outcome(report, 1)["reasons"].startswith("spike")
    assert outcome(report, 2)["reasons"] == "sliver"
    assert outcome(report, 2)["outcome"] == "imported"


def test_duplicate_vertices_are_removed_and_noted(tmp_path, store_path):
    doubled = [[LON, LAT], [LON + D, LAT], [LON + D, LAT], [LON + D, LAT + D], [LON, LAT]]
    src = write_geojson(tmp_path / "dv.geojson", [feature(props("V-1"), ring(doubled))])
    report = run(src, store_path=store_path)
    assert report.imported == 1 and report.reasons == {"duplicate_vertices": 1}
    assert shapely.get_num_coordinates(open_store(store_path).read("hazards").geometry).sum() == 4


# --- attributes, fields, CRS ---------------------------------------------------------------


def test_imsma_names_are_mapped_and_unmapped_columns_kept(tmp_path, store_path):
    gdf = gpd.GeoDataFrame(
        {
            "HazardID": ["I-1"],
            "Hazard Type": ["Confirmed Hazardous Area"],
            "DateRecorded": ["03/04/2024"],
            "Organisation": ["KSF"],
            "Komentar": ["pranë shkollës"],
        },
        geometry=[square(0)],
        crs=4326,
    )
    src = write_gpkg(tmp_path / "imsma.gpkg", gdf)
    report = run(src, store_path=store_path)
    assert report.imported == 1
    row = open_store(store_path).read("hazards").iloc[0]
    assert (row["hazard_id"], row["kind"], row["operator"]) == ("I-1", "CHA", "KSF")
    assert str(row["recorded"].date()) == "2024-04-03"
    assert row["Komentar"] == "pranë shkollës"


def test_bad_attribute_values_are_rejected_per_feature(tmp_path, store_path):
    gdf = hazards(3)
    gdf.loc[1, "kind"] = "maybe"
    gdf.loc[2, "recorded"] = "last spring"
    src = write_gpkg(tmp_path / "attrs.gpkg", gdf)
    report = run(src, store_path=store_path)
    assert report.reasons == {"value_not_allowed": 1, "bad_value": 1}
    assert report.imported == 1


def test_missing_required_column_refuses_the_import(tmp_path, store_path):
    gdf = hazards(1).drop(columns=["kind"])
    src = write_gpkg(tmp_path / "nokind.gpkg", gdf)
    with pytest.raises(InputError, match="--map-fields SRC=kind"):
        import_layer(src, "hazards", store=store_path)


def test_deprecated_legacy_code_is_read_as_6316(tmp_path, store_path):
    gdf = hazards(1).to_crs("EPSG:6316").set_crs("EPSG:31277", allow_override=True)
    src = write_gpkg(tmp_path / "legacy.gpkg", gdf)
    report = run(src, store_path=store_path)
    assert report.crs == "EPSG:6316"
    assert any("deprecated" in n for n in report.notices)
    stored = open_store(store_path).read("hazards").geometry.iloc[0]
    assert stored.equals_exact(shapely.MultiPolygon([square(0)]), tolerance=1e-6)


def test_projected_source_is_stored_in_4326(tmp_path, store_path):
    src = write_gpkg(tmp_path / "utm.gpkg", hazards(2).to_crs(settings.utm_crs))
    report = run(src, store_path=store_path)
    assert report.crs == "EPSG:32634" and report.imported == 2
    assert open_store(store_path).read("hazards").crs.to_epsg() == 4326


# --- identity and the store -------------------------------------------------------------


def test_importing_twice_stores_nothing_twice(tmp_path, store_path):
    src = write_gpkg(tmp_path / "h.gpkg", hazards(3))
    first = run(src, store_path=store_path)
    assert first.imported == 3
    before = store_path.read_bytes()
    with pytest.raises(IdConflictError, match="already in the store"):
        import_layer(src, "hazards", store=store_path)
    assert store_path.read_bytes() == before
    assert stored_count(store_path, "hazards") == 3
    skipped = run(src, store_path=store_path, on_conflict="skip")
    assert (skipped.imported, skipped.rejected) == (0, 3)
    assert skipped.reasons == {"id_in_store": 3}
    assert stored_count(store_path, "hazards") == 3


def test_on_conflict_replace_and_mode_replace(tmp_path, store_path):
    run(write_gpkg(tmp_path / "v1.gpkg", hazards(3)), store_path=store_path)
    v2 = hazards(2)
    v2["operator"] = "NPA"
    report = run(write_gpkg(tmp_path / "v2.gpkg", v2), store_path=store_path, on_conflict="replace")
    assert report.replaced == 2 and report.reasons == {"replaced_in_store": 2}
    stored = open_store(store_path).read("hazards").set_index("hazard_id")
    assert len(stored) == 3
    assert stored["operator"].to_dict() == {"H-0": "NPA", "H-1": "NPA", "H-2": "HALO"}
    only = run(write_gpkg(tmp_path / "v3.gpkg", hazards(1, prefix="N")), store_path=store_path,
               mode="replace")  # fmt: skip
    assert only.imported == 1
    assert open_store(store_path).read("hazards")["hazard_id"].tolist() == ["N-0"]


def test_store_is_untouched_when_the_write_fails(tmp_path, store_path, monkeypatch):
    run(write_gpkg(tmp_path / "v1.gpkg", hazards(2)), store_path=store_path)
    before = store_path.read_bytes()
    from kosovo_cmr.store._gpkg_session import GpkgSession

    def broken(self, layer, frame):
        raise OSError("disk full (injected)")

    monkeypatch.setattr(GpkgSession, "replace_layer", broken)
    src = write_gpkg(tmp_path / "more.gpkg", hazards(2, prefix="M"))
    with pytest.raises(StoreError, match="disk full"):
        import_layer(src, "hazards", store=store_path, rejects=tmp_path / "r.gpkg")
    assert store_path.read_bytes() == before


def test_validate_writes_nothing(tmp_path, store_path):
    src = write_geojson(
        tmp_path / "v.geojson",
        [feature(props("V-1"), ring(bowtie_coords())), feature(props("V-2"), None)],
    )
    report = validate_source(src, "hazards", store=store_path)
    assert report.dry_run and report.read == 2 and report.rejected == 1 and report.repaired == 1
    assert not store_path.exists()
    assert list(tmp_path.glob("*.rejects*")) == []
    run(write_gpkg(tmp_path / "h.gpkg", hazards(2)), store_path=store_path)
    again = validate_source(tmp_path / "h.gpkg", "hazards", store=store_path)
    assert again.reasons == {"id_in_store": 2}


def test_rejects_as_geojson_plus_csv(tmp_path, store_path):
    src = write_geojson(
        tmp_path / "g.geojson",
        [feature(props("G-1"), None), feature(props("G-2", note="ok"), square(0))],
    )
    with pytest.raises(InputError, match="does not exist"):
        run(src, store_path=store_path, rejects=tmp_path / "out" / "rej.geojson")
    (tmp_path / "out").mkdir()
    report = run(src, store_path=tmp_path / "s2.gpkg", rejects=tmp_path / "out" / "rej.geojson")
    assert report.rejects_path.endswith("rej.geojson")
    rejected = pyogrio.read_dataframe(report.rejects_path)
    assert rejected["hazard_id"].tolist() == ["G-1"]
    import pandas as pd

    table = pd.read_csv(tmp_path / "out" / "rej.csv")
    assert table["kcmr_reasons"].tolist() == ["null_geometry"]


def test_evidence_points_from_gpkg(tmp_path, store_path):
    gdf = evidence_points(3)
    gdf.loc[2, "geometry"] = shapely.MultiPoint([(LON, LAT), (LON + D, LAT)])
    report = run(write_gpkg(tmp_path / "ev.gpkg", gdf), "evidence", store_path=store_path)
    assert (report.imported, report.rejected) == (2, 1)
    assert "MultiPoint of 2 points" in outcome(report, 3)["details"]


# --- the real municipal boundaries -------------------------------------------------------


def test_real_municipal_shapefile_imports_all_40_features(boundaries_path, store_path):
    raw = pyogrio.read_dataframe(boundaries_path)
    report = run(boundaries_path, "boundaries", store_path=store_path)
    assert (report.read, report.imported, report.rejected) == (40, 40, 0)
    stored = open_store(store_path).read("boundaries")
    assert sorted(stored["municipality"]) == sorted(raw["XK_NAME"])
    assert "Mitrovicë e Veriut" in set(stored["municipality"])
    assert stored["region"].notna().all()
    enclave = stored.set_index("municipality").loc["Enclave-Kamenicë"]
    assert enclave["region"] == "East"
    total_km2 = geodesic_area(stored).sum() / 1e6
    assert total_km2 == pytest.approx(10_922, rel=0.01)
    assert np.isclose(geodesic_area(raw).sum() / 1e6, total_km2, rtol=1e-6)


def test_every_reason_code_is_documented():
    from pathlib import Path

    from kosovo_cmr.geometry_checks import REASONS

    guide = (Path(__file__).parent.parent / "docs/guides/importing.rst").read_text()
    missing = [code for code in REASONS if f"``{code}``" not in guide]
    assert not missing


def test_mode_replace_never_empties_the_layer_with_a_bad_source(tmp_path, store_path):
    run(write_gpkg(tmp_path / "v1.gpkg", hazards(2)), store_path=store_path)
    before = store_path.read_bytes()
    bad = write_geojson(tmp_path / "bad.geojson", [feature(props("X-1"), None)])
    report = run(bad, store_path=store_path, mode="replace")
    assert (report.imported, report.rejected) == (0, 1)
    assert any("left as it was" in n for n in report.notices)
    assert store_path.read_bytes() == before
