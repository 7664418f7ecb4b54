"""Vector sources: formats GDAL reads, and hostile or broken files."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pyogrio
import pytest
from _import_corpus import LAT, LON, D, evidence_points, hazards, write_gpkg, write_zip
from shapely.geometry import Point

from kosovo_cmr import settings
from kosovo_cmr.errors import InputError
from kosovo_cmr.importer import import_layer
from kosovo_cmr.sources import read_source
from kosovo_cmr.sources.safety import check_size, looks_like_mojibake, prescan_zip
from kosovo_cmr.store import open_store


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Default rejects files land in the working directory: keep it in tmp_path."""
    monkeypatch.chdir(tmp_path)


def accounted(report):
    assert report.read == report.imported + report.rejected
    return report


# --- formats ------------------------------------------------------------------------------


def test_shapefile_zipped(tmp_path):
    pyogrio.write_dataframe(hazards(3), tmp_path / "h.shp")
    members = {
        f"h{ext}": (tmp_path / f"h{ext}").read_bytes() for ext in (".shp", ".shx", ".dbf", ".prj")
    }  # noqa: E501
    src = write_zip(tmp_path / "h.zip", members)
    report = accounted(import_layer(src, "hazards", store=tmp_path / "s.gpkg"))
    assert report.imported == 3


def test_flatgeobuf_and_geojson(tmp_path):
    pyogrio.write_dataframe(hazards(2), tmp_path / "h.fgb", driver="FlatGeobuf")
    pyogrio.write_dataframe(hazards(2, prefix="J"), tmp_path / "j.geojson", driver="GeoJSON")
    store = tmp_path / "s.gpkg"
    assert accounted(import_layer(tmp_path / "h.fgb", "hazards", store=store)).imported == 2
    assert accounted(import_layer(tmp_path / "j.geojson", "hazards", store=store)).imported == 2
    assert len(open_store(store).read("hazards")) == 4


def test_geopackage_with_several_layers_needs_src_layer(tmp_path):
    src = write_gpkg(tmp_path / "multi.gpkg", hazards(2), layer="hazards_2024")
    write_gpkg(src, evidence_points(2), layer="finds")
    with pytest.raises(InputError, match="--src-layer"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg")
    with pytest.raises(InputError, match="no layer 'nope'"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg", src_layer="nope")
    report = import_layer(src, "evidence", store=tmp_path / "s.gpkg", src_layer="finds")
    assert accounted(report).imported == 2


def test_gpx_waypoints_and_tracks(tmp_path):
    gpx = f"""<?xml version="1.0"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="{LAT}" lon="{LON}"><name>E-1</name><type>submunition</type></wpt>
<wpt lat="{LAT}" lon="{LON + D}"><name>E-2</name><type>crater</type></wpt>
<trk><name>H-T1</name><cmt>2024-06-01</cmt><type>SHA</type><trkseg>
<trkpt lat="{LAT}" lon="{LON}"/><trkpt lat="{LAT}" lon="{LON + D}"/>
<trkpt lat="{LAT + D}" lon="{LON + D}"/><trkpt lat="{LAT + D}" lon="{LON}"/>
<trkpt lat="{LAT + 0.00005}" lon="{LON}"/></trkseg></trk>
<trk><name>H-T2</name><cmt>2024-06-01</cmt><type>SHA</type><trkseg>
<trkpt lat="{LAT}" lon="{LON}"/><trkpt lat="{LAT}" lon="{LON + 5 * D}"/>
<trkpt lat="{LAT + D}" lon="{LON + 5 * D}"/></trkseg></trk>
</gpx>"""
    src = tmp_path / "field.gpx"
    src.write_text(gpx)
    store = tmp_path / "s.gpkg"
    points = accounted(
        import_layer(
            src, "evidence", store=store, field_map={"name": "evidence_id"},
            rejects=tmp_path / "r1.gpkg",
        )
    )  # fmt: skip
    assert points.imported == 2 and points.read == 2  # waypoints only; <type> read as item
    assert open_store(store).read("evidence")["item"].tolist() == ["submunition", "crater"]
    src_csv_item = accounted(
        import_layer(
            src, "hazards", store=store, field_map={"name": "hazard_id", "cmt": "recorded"},
            rejects=tmp_path / "r2.gpkg",
        )
    )  # fmt: skip
    # the first track closes within 25 m and becomes a polygon; the second does not
    assert src_csv_item.read == 2
    reasons = src_csv_item.features.set_index("id")["reasons"]
    assert reasons["H-T1"].startswith("ring_not_closed")
    assert "wrong_geometry_type" in reasons["H-T2"]


def test_kml_and_kmz(tmp_path):
    kml = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>finds</name>
<Placemark><name>E-1</name><ExtendedData>
<Data name="item"><value>submunition</value></Data></ExtendedData>
<Point><coordinates>{LON},{LAT},410</coordinates></Point></Placemark>
<Placemark><name>E-2</name><ExtendedData>
<Data name="item"><value>crater</value></Data></ExtendedData>
<Point><coordinates>{LON + D},{LAT}</coordinates></Point></Placemark>
</Folder></Document></kml>"""
    (tmp_path / "f.kml").write_text(kml)
    write_zip(tmp_path / "f.kmz", {"doc.kml": kml.encode()})
    for name in ("f.kml", "f.kmz"):
        report = accounted(
            import_layer(
                tmp_path / name, "evidence", store=tmp_path / f"{name}.gpkg",
                field_map={"Name": "evidence_id"}, rejects=tmp_path / f"{name}.rej.gpkg",
            )
        )  # fmt: skip
        assert report.imported == 2, report.summary()
        assert report.reasons == {"z_dropped": 1}
        stored = open_store(tmp_path / f"{name}.gpkg").read("evidence")
        assert "description" not in stored.columns  # empty KML boilerplate dropped


# --- hostile and broken files ---------------------------------------------------------


def test_kml_with_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    kml = f"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file://{secret}">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>&xxe;</name><Point><coordinates>{LON},{LAT}</coordinates></Point></Placemark>
</Document></kml>"""
    (tmp_path / "x.kml").write_text(kml)
    write_zip(tmp_path / "x.kmz", {"doc.kml": kml.encode()})
    for name in ("x.kml", "x.kmz"):
        with pytest.raises(InputError, match="DTD or XML entities") as info:
            import_layer(tmp_path / name, "evidence", store=tmp_path / "s.gpkg")
        assert "TOP-SECRET" not in str(info.value)
    assert not (tmp_path / "s.gpkg").exists()


def test_zip_bomb_is_refused_before_extraction(tmp_path):
    bomb = write_zip(tmp_path / "bomb.zip", {"h.shp": b"\0" * (20 * 1024 * 1024)})
    assert bomb.stat().st_size < 100_000
    with pytest.raises(InputError, match="ZIP bomb"):
        import_layer(bomb, "hazards", store=tmp_path / "s.gpkg")
    kmz = write_zip(tmp_path / "bomb.kmz", {"doc.kml": b" " * (20 * 1024 * 1024)})
    with pytest.raises(InputError, match="ZIP bomb"):
        read_source(kmz)
    assert not (tmp_path / "s.gpkg").exists()


def test_archive_limits_entries_total_and_paths(tmp_path, monkeypatch):
    many = write_zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(20)})
    monkeypatch.setattr(settings, "archive_max_entries", 10)
    with pytest.raises(InputError, match="20 entries"):
        prescan_zip(many)
    monkeypatch.setattr(settings, "archive_max_entries", 1000)
    big = write_zip(
        tmp_path / "big.zip", {"a.bin": bytes(range(256)) * 4096}, compression=zipfile.ZIP_STORED
    )
    monkeypatch.setattr(settings, "archive_max_uncompressed_bytes", 1000)
    with pytest.raises(InputError, match="expands to"):
        prescan_zip(big)
    monkeypatch.setattr(settings, "archive_max_uncompressed_bytes", 10**9)
    climb = write_zip(tmp_path / "climb.zip", {"../../etc/evil.shp": b"x"})
    with pytest.raises(InputError, match="unsafe path"):
        prescan_zip(climb)


def test_size_and_feature_limits(tmp_path, monkeypatch):
    src = write_gpkg(tmp_path / "h.gpkg", hazards(5))
    monkeypatch.setattr(settings, "import_max_bytes", 1000)
    with pytest.raises(InputError, match="over the limit"):
        check_size(src)
    monkeypatch.setattr(settings, "import_max_bytes", 10**9)
    monkeypatch.setattr(settings, "import_max_features", 3)
    with pytest.raises(InputError, match="5 features, over the limit of 3"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg")


def test_truncated_shapefile_is_refused_whole(tmp_path):
    pyogrio.write_dataframe(hazards(40), tmp_path / "t.shp")
    shp = tmp_path / "t.shp"
    shp.write_bytes(shp.read_bytes()[: shp.stat().st_size // 2])
    store = tmp_path / "s.gpkg"
    with pytest.raises(InputError, match="truncated"):
        import_layer(shp, "hazards", store=store)
    assert not store.exists()


@pytest.mark.parametrize(
    "name, data",
    [
        ("garbage.gpkg", b"this is not a geopackage" * 50),
        ("garbage.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feat'),
        ("garbage.kml", b"<kml><Document><Placemark>"),
        ("garbage.fgb", b"\x00\x01\x02" * 100),
        ("garbage.zip", b"PK\x03\x04 broken"),
        ("garbage.gpx", b"<?xml version='1.0'?><gpx><wpt lat='42'"),
    ],
)
def test_garbage_gives_one_line_error(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(InputError) as info:
        import_layer(tmp_path / name, "evidence", store=tmp_path / "s.gpkg")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "s.gpkg").exists()


# --- encodings -----------------------------------------------------------------------


NAMES = ["Shtërpcë", "Graçanicë", "Šar planina", "Žegra"]


def _cp1252_shapefile(tmp_path, *, cpg: bool):
    gdf = gpd.GeoDataFrame(
        {
            "evidence_id": [f"E-{i}" for i in range(4)],
            "item": ["crater"] * 4,
            "place": NAMES,
        },
        geometry=[Point(LON + i * D, LAT) for i in range(4)],
        crs=4326,
    )
    folder = tmp_path / ("with" if cpg else "without")
    folder.mkdir()
    pyogrio.write_dataframe(gdf, folder / "e.shp", encoding="cp1252")
    cpg_file = folder / "e.cpg"
    if cpg:
        cpg_file.write_text("1252")
    else:
        cpg_file.unlink(missing_ok=True)
    return folder / "e.shp"


@pytest.mark.parametrize("cpg", [True, False])
def test_cp1252_shapefile_names_intact(tmp_path, cpg):
    src = _cp1252_shapefile(tmp_path, cpg=cpg)
    assert (src.with_suffix(".cpg")).exists() is cpg
    report = accounted(import_layer(src, "evidence", store=tmp_path / "s.gpkg"))
    assert report.imported == 4
    stored = open_store(tmp_path / "s.gpkg").read("evidence")
    assert stored["place"].tolist() == NAMES
    if not cpg:
        assert any("no .cpg" in n and "cp1252" in n for n in report.notices)


def test_mojibake_is_flagged(tmp_path):
    gdf = evidence_points(2)
    gdf["place"] = ["ShtÃ«rpcÃ«", "Prizren"]  # UTF-8 once decoded as cp1252 upstream
    src = write_gpkg(tmp_path / "m.gpkg", gdf)
    report = accounted(import_layer(src, "evidence", store=tmp_path / "s.gpkg"))
    assert report.imported == 2
    assert any("place" in n and "mojibake" in n for n in report.notices)
    assert looks_like_mojibake("ShtÃ«rpcÃ«") and not looks_like_mojibake("Shtërpcë")


def test_encoding_option_overrides_detection(tmp_path):
    src = _cp1252_shapefile(tmp_path, cpg=False)
    report = accounted(import_layer(src, "evidence", store=tmp_path / "s.gpkg", encoding="cp1252"))
    assert not any("cpg" in n for n in report.notices)
    assert open_store(tmp_path / "s.gpkg").read("evidence")["place"].tolist() == NAMES
