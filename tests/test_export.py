"""Exports: round trips with nothing lost (GPX, KML and KMZ: tests/test_gps.py)."""

from __future__ import annotations

import json

import _mapdata
import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs import export
from kosovo_cmr.schema import conform


def _same_layer(back: gpd.GeoDataFrame, original: gpd.GeoDataFrame, layer: str, tol=1e-7):
    back = conform(back, layer)
    original = conform(original, layer)
    cols = [c for c in original.columns if c != "geometry"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(back[cols]).reset_index(drop=True),
        pd.DataFrame(original[cols]).reset_index(drop=True),
        check_dtype=False,
    )
    a = back.geometry.to_crs(4326).values
    b = original.geometry.to_crs(4326).values
    assert shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=tol).all()


@pytest.mark.parametrize("layer", ["hazards", "releases", "evidence", "strikes"])
def test_geojson_rfc7946_round_trip(tmp_path, layer):
    gdf = _mapdata.layers()[layer]
    path = export.to_geojson(gdf, tmp_path / "x.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in doc  # RFC 7946: WGS 84 only, no crs member
    polys = [f["geometry"] for f in doc["features"] if f["geometry"]]
    for g in polys:
        if g["type"] == "MultiPolygon":
            for poly in g["coordinates"]:
                assert shapely.LinearRing(poly[0]).is_ccw  # right-hand rule
    _same_layer(pyogrio.read_dataframe(path), gdf, layer, tol=1e-7)


@pytest.mark.parametrize("layer", ["hazards", "releases", "evidence"])
def test_gpkg_round_trip(tmp_path, layer):
    gdf = _mapdata.layers()[layer]
    path = export.to_gpkg(gdf, tmp_path / "x.gpkg", name=layer)
    _same_layer(pyogrio.read_dataframe(path, layer=layer), gdf, layer, tol=0)


@pytest.mark.parametrize("layer", ["hazards", "releases", "evidence", "strikes"])
def test_shapefile_round_trip_through_the_field_map(tmp_path, layer):
    gdf = _mapdata.layers()[layer].copy()
    gdf = gdf[~gdf.geometry.is_empty]  # Shapefiles cannot hold an empty MultiPolygon row
    path = export.to_shapefile(gdf, tmp_path / "x.shp", name=layer)
    mapping = json.loads(path.with_suffix(".fields.json").read_text())
    assert all(len(k) <= 10 for k in mapping)
    back = pyogrio.read_dataframe(path).rename(columns=mapping)
    if "synthetic" in back:
        back["synthetic"] = back["synthetic"].astype(bool)
    if layer == "releases":
        back["cmr_found"] = back["cmr_found"].astype(bool)
    _same_layer(back.set_crs(4326, allow_override=True), gdf, layer, tol=1e-9)


def test_shapefile_numbers_colliding_names_and_refuses_colliding_given_ones(tmp_path):
    """Cut names that collide are numbered (the store's benchmark_id/lon/lat among them)."""
    gdf = _mapdata.hazards()
    gdf["operator_name"] = "x"
    gdf["operator_nam2"] = "y"
    path = export.to_shapefile(gdf, tmp_path / "x.shp")
    names = json.loads(path.with_suffix(".fields.json").read_text())
    assert names["operator_1"] == "operator_name" and names["operator_2"] == "operator_nam2"
    back = pyogrio.read_dataframe(path).rename(columns=names)
    assert set(back["operator_name"]) == {"x"} and set(back["operator_nam2"]) == {"y"}
    path = export.to_shapefile(
        gdf, tmp_path / "x.shp", field_map={"operator_nam2": "op_name2"}, overwrite=True
    )
    names = json.loads(path.with_suffix(".fields.json").read_text())
    assert names["operator_n"] == "operator_name" and names["op_name2"] == "operator_nam2"
    with pytest.raises(InputError, match="collide"):
        export.to_shapefile(
            gdf,
            tmp_path / "y.shp",
            field_map={"operator_name": "op", "operator_nam2": "OP"},
        )
    assert not (tmp_path / "y.shp").exists()
    with pytest.raises(InputError):
        export.shapefile_field_map(["a"], {"a": "much_too_long_name"})


def test_every_store_layer_exports_as_a_shapefile(demo_store, tmp_path):
    """The schema's own long names (benchmark_id, benchmark_lon...) never block an export."""
    for layer in demo_store.layers():
        gdf = demo_store.read(layer)
        gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
        path = export.to_shapefile(gdf, tmp_path / f"{layer}.shp", name=layer)
        names = json.loads(path.with_suffix(".fields.json").read_text())
        assert sorted(names.values()) == sorted(c for c in gdf.columns if c != "geometry")
        assert len(pyogrio.read_dataframe(path)) == len(gdf)


@pytest.mark.parametrize("layer", ["hazards", "releases", "evidence"])
def test_csv_with_wkt_round_trip(tmp_path, layer):
    gdf = _mapdata.layers()[layer]
    path = export.to_csv(gdf, tmp_path / "x.csv")
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    back = gpd.GeoDataFrame(
        frame.drop(columns="wkt"), geometry=shapely.from_wkt(frame["wkt"]), crs=4326
    )
    _same_layer(back, gdf, layer, tol=1e-9)


@pytest.mark.parametrize("fmt", sorted(export.FORMATS))
def test_every_format_refuses_to_overwrite(tmp_path, fmt):
    path = tmp_path / f"x{export.FORMATS[fmt]}"
    export.export_layer(_mapdata.hazards(), path, fmt=fmt)
    with pytest.raises(InputError, match="exists"):
        export.export_layer(_mapdata.hazards(), path, fmt=fmt)
    export.export_layer(_mapdata.hazards(), path, fmt=fmt, overwrite=True)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "kml", "csv", "shp"])
def test_round_trip_through_the_importer(tmp_path, fmt):
    importer = pytest.importorskip("kosovo_cmr.importer")
    from kosovo_cmr.store import open_store

    hazards = _mapdata.hazards()
    path = export.export_layer(hazards, tmp_path / f"h{export.FORMATS[fmt]}", fmt=fmt)
    store = open_store(tmp_path / "s.gpkg")
    options = {}
    if fmt == "shp":
        options["field_map"] = json.loads(path.with_suffix(".fields.json").read_text())
    if fmt == "csv":
        options["crs"] = "EPSG:4326"
    report = importer.import_layer(
        path, "hazards", store=store, mode="replace", rejects=tmp_path / "rej.gpkg", **options
    )
    assert report.read == report.imported == len(hazards), report
    _same_layer(store.read("hazards"), hazards, "hazards", tol=1e-7)
