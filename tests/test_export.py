"""Exports: schema validation (KML) and round trips with nothing lost."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import _mapdata
import defusedxml.ElementTree as DET
import geopandas as gpd
import gpxpy
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from kosovo_cmr.analysis.turning_points import turning_points
from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs import export, gps
from kosovo_cmr.schema import conform

KML_NS = {"k": "http://www.opengis.net/kml/2.2"}
GPX_NS = {"g": "http://www.topografix.com/GPX/1/1", "x": gps.GPX_NS}


def _kml_xsd():
    """The OGC KML 2.2 schema shipped inside the installed fastkml package."""
    import fastkml

    path = Path(fastkml.__file__).parent / "schema" / "ogckml22.xsd"
    assert path.is_file(), "fastkml no longer ships ogckml22.xsd"
    import xmlschema

    return xmlschema.XMLSchema(str(path))


@pytest.fixture(scope="module")
def kml_schema():
    return _kml_xsd()


def _attrs(gdf):
    return gps._attributes(gdf)


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


@pytest.mark.parametrize("layer", ["hazards", "releases", "evidence"])
def test_kml_validates_and_round_trips(tmp_path, kml_schema, layer):
    gdf = _mapdata.layers()[layer]
    path = gps.to_kml(gdf, tmp_path / "out.kml", name=layer)
    kml_schema.validate(str(path))
    root = DET.parse(path).getroot()
    placemarks = root.findall(".//k:Placemark", KML_NS)
    assert len(placemarks) == len(gdf)
    for placemark, attrs in zip(placemarks, _attrs(gdf), strict=True):
        data = {
            d.get("name"): d.findtext("k:value", default="", namespaces=KML_NS)
            for d in placemark.findall("k:ExtendedData/k:Data", KML_NS)
        }
        assert data == attrs
        assert placemark.findtext("k:styleUrl", namespaces=KML_NS).startswith("#kcmr-")
    # GDAL reads the same geometries back
    back = pyogrio.read_dataframe(path)
    assert len(back) == len(gdf)
    present = ~gdf.geometry.is_empty
    got = shapely.normalize(back.geometry.values[present.to_numpy()])
    want = shapely.normalize(gdf.geometry.values[present.to_numpy()])
    assert shapely.equals_exact(shapely.force_2d(got), want, tolerance=1e-7).all()


def test_kml_styles_differ_by_kind_and_method(tmp_path):
    path = gps.to_kml(_mapdata.hazards(), tmp_path / "h.kml")
    root = DET.parse(path).getroot()
    urls = [
        p.findtext("k:styleUrl", namespaces=KML_NS)
        for p in root.iter(f"{{{KML_NS['k']}}}Placemark")
    ]
    assert urls == ["#kcmr-CHA", "#kcmr-SHA", "#kcmr-CHA", "#kcmr-SHA"]


def test_kmz_is_zipped_valid_kml(tmp_path, kml_schema):
    path = gps.to_kmz(_mapdata.hazards(), tmp_path / "h.kmz")
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["doc.kml"]
        (tmp_path / "doc.kml").write_bytes(zf.read("doc.kml"))
    kml_schema.validate(str(tmp_path / "doc.kml"))
    assert len(pyogrio.read_dataframe(path)) == 4


def test_gpx_round_trips_with_gpxpy_and_gdal(tmp_path):
    hazards = _mapdata.hazards()
    path = gps.to_gpx(hazards, tmp_path / "h.gpx", name="hazards")
    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    assert gpx.version == "1.1"
    # every hazard a track with one segment per ring, closed, on the polygon's vertices
    assert [t.name for t in gpx.tracks] == hazards.hazard_id.tolist()
    for track, geom in zip(gpx.tracks, hazards.geometry, strict=True):
        rings = gps._rings(geom)
        assert len(track.segments) == len(rings)
        for seg, ring in zip(track.segments, rings, strict=True):
            xy = np.array([[p.longitude, p.latitude] for p in seg.points])
            np.testing.assert_allclose(xy, ring, atol=1e-8)
    # turning points as waypoints, matching turning_points()
    tps = turning_points(hazards)
    assert [w.name for w in gpx.waypoints] == [
        f"{r.feature_id}-{r.label}" for r in tps.itertuples()
    ]
    np.testing.assert_allclose(
        [[w.longitude, w.latitude] for w in gpx.waypoints], tps[["lon", "lat"]], atol=1e-8
    )
    # every attribute in the extensions
    root = DET.parse(path).getroot()
    for trk, attrs in zip(root.findall("g:trk", GPX_NS), _attrs(hazards), strict=True):
        ext = {a.get("name"): a.text or "" for a in trk.findall("g:extensions/x:attr", GPX_NS)}
        assert ext == attrs
    # GDAL reads it too
    assert set(pyogrio.list_layers(path)[:, 0]) >= {"waypoints", "tracks"}
    assert len(pyogrio.read_dataframe(path, layer="tracks")) == len(hazards)
    assert len(pyogrio.read_dataframe(path, layer="waypoints")) == len(tps)


def test_gpx_points_as_waypoints(tmp_path):
    evidence = _mapdata.evidence(5)
    path = gps.to_gpx(evidence, tmp_path / "e.gpx", name="evidence")
    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    assert [w.name for w in gpx.waypoints] == evidence.evidence_id.tolist()
    assert gpx.tracks == []
    np.testing.assert_allclose(
        [[w.longitude, w.latitude] for w in gpx.waypoints],
        shapely.get_coordinates(evidence.geometry.values),
        atol=1e-8,
    )
    assert all("SYNTHETIC" in w.description for w in gpx.waypoints)


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


def test_shapefile_refuses_colliding_names(tmp_path):
    gdf = _mapdata.hazards()
    gdf["operator_name"] = "x"
    gdf["operator_nam2"] = "y"
    with pytest.raises(InputError, match="collide"):
        export.to_shapefile(gdf, tmp_path / "x.shp")
    assert not (tmp_path / "x.shp").exists()
    path = export.to_shapefile(gdf, tmp_path / "x.shp", field_map={"operator_nam2": "op_name2"})
    names = json.loads(path.with_suffix(".fields.json").read_text())
    assert names["operator_n"] == "operator_name" and names["op_name2"] == "operator_nam2"
    with pytest.raises(InputError):
        export.shapefile_field_map(["a"], {"a": "much_too_long_name"})


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


def test_export_refuses_layer_without_crs(tmp_path):
    from kosovo_cmr.errors import CRSError

    gdf = _mapdata.hazards().set_crs(None, allow_override=True)
    with pytest.raises(CRSError):
        gps.to_kml(gdf, tmp_path / "x.kml")


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


def test_cli_export(demo_store_copy, tmp_path):
    out = tmp_path / "active.gpx"
    args = ["--store", demo_store_copy.uri, "export", "--layer", "hazards", "--status", "active"]
    result = CliRunner().invoke(cli, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    gpx = gpxpy.parse(out.read_text(encoding="utf-8"))
    assert len(gpx.tracks) == 35
    again = CliRunner().invoke(cli, [*args, "-o", str(out)])
    assert again.exit_code == 1 and "exists" in again.output
    kml = tmp_path / "e.kml"
    result = CliRunner().invoke(
        cli, ["--store", demo_store_copy.uri, "export", "--layer", "evidence", "-o", str(kml)]
    )
    assert result.exit_code == 0, result.output
    _kml_xsd().validate(str(kml))
