"""Sources are read as what their bytes are: no VRT, no /vsi, no network (issue 14).

Each hostile input is built here: an OGR VRT document named ``.geojson`` that reads a
local file, one that points GDAL at an HTTP server, a GDALG pipeline named ``.geojson``,
a GeoJSON whose ``crs`` links to a URL. A real ``http.server`` on loopback counts the
requests it receives: none may arrive, for ``import`` and for ``validate``.
"""

from __future__ import annotations

import http.server
import json
import shutil
import threading

import pyogrio
import pytest
from _import_corpus import feature, hazards, props, square, write_geojson, write_gpkg, write_zip

from kosovo_cmr.errors import InputError
from kosovo_cmr.importer import import_layer, validate_source
from kosovo_cmr.sources import gdal_env, read_source
from kosovo_cmr.sources.sniff import check_content, check_path, sniff, sniff_bytes


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def server():
    """A real HTTP server on loopback that records every request it receives."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"type": "FeatureCollection", "features": []}')

        do_HEAD = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()
    httpd.server_close()


def _secret_csv(tmp_path):
    secret = tmp_path / "secret.csv"
    ring = "POLYGON ((21.1 42.6, 21.101 42.6, 21.101 42.601, 21.1 42.6))"
    secret.write_text(f'hazard_id,kind,recorded,WKT\nLEAKED-SECRET,CHA,2024-01-01,"{ring}"\n')
    return secret


def _vrt(source: str) -> str:
    return (
        '<OGRVRTDataSource><OGRVRTLayer name="secret">'
        f"<SrcDataSource>{source}</SrcDataSource>"
        "<GeometryType>wkbPolygon</GeometryType>"
        '<GeometryField encoding="WKT" field="WKT"/>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


def _both(src, store):
    """Import and validate must refuse the same way; nothing may be written."""
    for run in (
        lambda: import_layer(src, "hazards", store=store),
        lambda: validate_source(src, "hazards", store=store),
    ):
        with pytest.raises(InputError) as info:
            run()
        assert "\n" not in str(info.value)
        assert not store.exists()
    return str(info.value)


def test_the_attack_works_on_bare_gdal(tmp_path):
    """The hostile file is real: opened by GDAL itself, it leaks the local file."""
    _secret_csv(tmp_path)
    (tmp_path / "vrt.geojson").write_text(_vrt(str(tmp_path / "secret.csv")))
    leaked = pyogrio.read_dataframe(tmp_path / "vrt.geojson")
    assert leaked["hazard_id"].tolist() == ["LEAKED-SECRET"]


def test_vrt_named_geojson_that_reads_a_local_file_is_refused(tmp_path):
    _secret_csv(tmp_path)
    src = tmp_path / "hazards.geojson"
    src.write_text(_vrt(str(tmp_path / "secret.csv")))
    message = _both(src, tmp_path / "s.gpkg")
    assert "OGR VRT" in message and "LEAKED" not in message
    assert list(tmp_path.glob("*.rejects*")) == []


def test_vrt_named_geojson_pointing_at_a_server_makes_no_request(tmp_path, server):
    url, seen = server
    src = tmp_path / "hazards.geojson"
    src.write_text(_vrt(f"/vsicurl/{url}/h.csv"))
    _both(src, tmp_path / "s.gpkg")
    assert seen == []


def test_the_same_vrt_in_a_zip_or_named_kml_is_refused(tmp_path):
    _secret_csv(tmp_path)
    vrt = _vrt(str(tmp_path / "secret.csv"))
    write_zip(tmp_path / "h.zip", {"h.geojson": vrt.encode()})
    assert "OGR VRT" in _both(tmp_path / "h.zip", tmp_path / "s.gpkg")
    (tmp_path / "h.kml").write_text(vrt)
    assert "OGR VRT" in _both(tmp_path / "h.kml", tmp_path / "s.gpkg")


def test_a_gdalg_pipeline_named_geojson_is_refused(tmp_path):
    _secret_csv(tmp_path)
    pipeline = {
        "type": "gdal_streamed_alg",
        "command_line": f"gdal vector pipeline ! read {tmp_path / 'secret.csv'} ! write "
        "--of stream streamed_dataset",
    }
    (tmp_path / "g.geojson").write_text(json.dumps(pipeline))
    assert pyogrio.read_info(tmp_path / "g.geojson")["driver"] == "GDALG"  # the attack
    message = _both(tmp_path / "g.geojson", tmp_path / "s.gpkg")
    assert "LEAKED" not in message


def test_a_geojson_crs_link_makes_no_request(tmp_path, server):
    url, seen = server
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "link", "properties": {"href": f"{url}/crs.wkt", "type": "ogcwkt"}},
        "features": [feature(props("L-1"), square(0))],
    }
    src = tmp_path / "link.geojson"
    src.write_text(json.dumps(doc))
    for run in (import_layer, validate_source):
        gdal_env.refused_urls.clear()
        report = run(src, "hazards", store=tmp_path / "s.gpkg")
        assert report.read == 1
        assert set(gdal_env.refused_urls) == {f"{url}/crs.wkt"}  # GDAL asked; guard refused
    assert seen == []


def test_the_guard_is_active_in_this_build():
    assert gdal_env.guard_status() == {"driver_check": True, "http_refusal": True}


def test_vsi_paths_and_urls_are_refused_before_anything_opens_them(tmp_path):
    for text in ("/vsicurl/http://127.0.0.1:9/h.geojson", "/VSIZIP//tmp/x.zip/h.shp",
                 "http://127.0.0.1:9/h.geojson", "s3://bucket/h.gpkg"):  # fmt: skip
        with pytest.raises(InputError, match="virtual path|URL"):
            read_source(text)
        with pytest.raises(InputError, match="virtual path|URL"):
            check_path(text)


@pytest.mark.parametrize(
    "name, data, holds",
    [
        ("h.geojson", b"PK\x03\x04" + b"\x00" * 30, "a ZIP archive"),
        ("h.gpkg", b'{"type": "FeatureCollection"}', "JSON"),
        ("h.csv", b"SQLite format 3\x00" + b"\x00" * 100, "an SQLite database"),
        ("h.csv", b'<?xml version="1.0"?><OGRVRTDataSource/>', "OGR VRT"),
        ("h.shp", b"id,wkt\n", "plain text"),
        ("h.gpx", b"<kml/>", "<kml>"),
        ("h.fgb", b"\x00\x00'\n" + b"\x00" * 96, "a Shapefile"),
    ],
)
def test_a_content_that_is_not_what_the_name_says_is_refused(tmp_path, name, data, holds):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(InputError, match="refused") as info:
        read_source(tmp_path / name)
    assert holds in str(info.value)


def test_sniff_names_real_files(tmp_path):
    gdf = hazards(1)
    write_gpkg(tmp_path / "h.gpkg", gdf)
    pyogrio.write_dataframe(gdf, tmp_path / "h.shp")
    pyogrio.write_dataframe(gdf, tmp_path / "h.fgb", driver="FlatGeobuf")
    pyogrio.write_dataframe(gdf, tmp_path / "h.kml", driver="KML")
    write_geojson(tmp_path / "h.geojson", [feature(props("A"), square(0))])
    found = {p.suffix: sniff(p) for p in tmp_path.glob("h.*") if p.suffix != ".csv"}
    assert {k: found[k] for k in (".gpkg", ".shp", ".fgb", ".kml", ".geojson")} == {
        ".gpkg": "sqlite", ".shp": "shapefile", ".fgb": "flatgeobuf", ".kml": "xml:kml",
        ".geojson": "json",
    }  # fmt: skip
    assert check_content(tmp_path / "h.gpkg") == "sqlite"
    assert sniff_bytes(b"[Hazard ID];[Type]\n") == "text"  # a bracketed CSV header


@pytest.mark.parametrize("stem", ["semi;colon", "new\nline", "bang!x", "what?x", "hash#x"])
@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".kml", ".fgb", ".csv", ".zip"])
def test_any_file_name_imports(tmp_path, stem, suffix):
    """pyogrio reads ';', '!', '?' and newlines as URL syntax; names must not matter."""
    gdf = hazards(2)
    plain = tmp_path / f"plain{suffix}"
    if suffix == ".csv":
        gdf.assign(wkt=gdf.geometry.to_wkt()).drop(columns="geometry").to_csv(plain, index=False)
    elif suffix == ".zip":
        pyogrio.write_dataframe(gdf, tmp_path / "inner.shp")
        write_zip(plain, {f"inner{e}": (tmp_path / f"inner{e}").read_bytes()
                          for e in (".shp", ".shx", ".dbf", ".prj")})  # fmt: skip
    else:
        driver = {".geojson": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile",
                  ".kml": "KML", ".fgb": "FlatGeobuf"}[suffix]  # fmt: skip
        pyogrio.write_dataframe(gdf, plain, driver=driver)
    odd = tmp_path / f"{stem}{suffix}"
    for part in tmp_path.glob("plain.*"):
        shutil.copyfile(part, tmp_path / f"{stem}{part.suffix}")
    store = tmp_path / "s.gpkg"
    crs = "EPSG:4326" if suffix == ".csv" else None
    report = import_layer(odd, "hazards", store=store, crs=crs)
    assert (report.read, report.imported) == (2, 2), report.summary()


def test_a_zip_named_xlsx_that_is_no_workbook_is_refused(tmp_path):
    write_zip(tmp_path / "t.xlsx", {"doc.kml": b"<kml/>"})
    with pytest.raises(InputError, match="no Excel workbook"):
        read_source(tmp_path / "t.xlsx")


def test_the_guard_leaves_gdal_configuration_as_it_was(tmp_path):
    before = {key: pyogrio.get_gdal_config_option(key) for key in gdal_env.CONFIG}
    src = write_geojson(tmp_path / "h.geojson", [feature(props("A"), square(0))])
    assert read_source(src).frame["hazard_id"].tolist() == ["A"]
    with gdal_env.gdal_env():
        assert pyogrio.get_gdal_config_option("GDAL_HTTP_PROXY") == "127.0.0.1:9"
    assert {key: pyogrio.get_gdal_config_option(key) for key in gdal_env.CONFIG} == before
