"""Issue 19: ``kcmr map --basemap`` shows a team's imagery, offline too, where it belongs.

The basemap is a GeoTIFF written here by GDAL (rasterio) in EPSG:4326, red west of
longitude LON and blue east of it; the map warps it onto Leaflet's Web Mercator grid
and embeds it. The page is opened in headless Chromium with the network cut.
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from PIL import Image
from pyproj import Transformer
from rasterio.transform import from_origin
from test_maps_browser import Page, browser  # noqa: F401  (the Chromium fixture)

from kosovo_cmr.cli.main import cli

LON, LAT = 21.10, 42.60
CREDIT = "(c) Test Orthophoto 2024"


def _ortho(path, *, lon=LON, lat=LAT, n=800, res=2.5e-5):
    data = np.zeros((3, n, n), dtype="uint8")
    data[0, :, : n // 2] = 200  # red west of lon
    data[2, :, n // 2 :] = 180  # blue east of lon
    data[1, : n // 2, :] = 120  # green north of lat
    transform = from_origin(lon - n * res / 2, lat + n * res / 2, res, res)
    profile = dict(driver="GTiff", width=n, height=n, count=3, dtype="uint8")
    with rasterio.open(path, "w", crs="EPSG:4326", transform=transform, **profile) as dst:
        dst.write(data)
        dst.update_tags(TIFFTAG_COPYRIGHT=CREDIT)
    return path


def _map(store, out, *extra):
    args = ["--store", store.uri, "map", "-o", str(out), *map(str, extra)]
    return CliRunner().invoke(cli, args)


def _overlay_png(html: str):
    """The embedded image and the bounds Leaflet places it by."""
    match = re.search(
        r'L\.imageOverlay\(\s*"data:image/png;base64,([^"]+)",\s*(\[\[.*?\]\])', html, re.S
    )
    assert match, "no embedded image overlay in the page"
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(match.group(1)))))
    (south, west), (north, east) = eval(match.group(2))  # two [lat, lon] pairs
    return image, (south, west, north, east)


def test_the_basemap_is_embedded_credited_and_where_it_belongs(demo_store, tmp_path):
    tif = _ortho(tmp_path / "ortho.tif")
    out = tmp_path / "map.html"
    done = _map(demo_store, out, "--offline", "--basemap", tif)
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    assert f"Basemap: ortho.tif ({CREDIT})" in html
    image, (south, west, north, east) = _overlay_png(html)
    assert image.shape[2] == 4 and (image[..., 3] == 255).all()
    # the red/blue edge lies at LON: find it on the Web Mercator grid of the image
    to_merc = Transformer.from_crs(4326, 3857, always_xy=True)
    (x0, _), (x1, _) = to_merc.transform(west, south), to_merc.transform(east, north)
    row = image[image.shape[0] // 2]
    edge = int(np.argmax(row[:, 2] > row[:, 0]))  # first blue pixel
    edge_x = x0 + edge * (x1 - x0) / image.shape[1]
    expected_x, _ = to_merc.transform(LON, LAT)
    assert abs(edge_x - expected_x) <= 1.5 * (x1 - x0) / image.shape[1]
    # the vertical placement: Web Mercator rows, so the image's middle row is at the
    # Mercator middle of its bounds, and the file's centre latitude is inside
    assert south < LAT < north and west < LON < east


def test_rows_are_placed_on_web_mercator_not_linear_in_latitude(demo_store, tmp_path):
    """Over all of Kosovo a grid linear in latitude would put the edge 2-4 pixels off."""
    tif = _ortho(tmp_path / "big.tif", lon=21.1, lat=42.7, n=1200, res=0.0015)
    out = tmp_path / "map.html"
    assert _map(demo_store, out, "--offline", "--basemap", tif).exit_code == 0
    image, (south, west, north, east) = _overlay_png(out.read_text(encoding="utf-8"))
    to_merc = Transformer.from_crs(4326, 3857, always_xy=True)
    (_, y_s), (_, y_n) = to_merc.transform(west, south), to_merc.transform(east, north)
    column = image[:, image.shape[1] // 3]
    edge = int(np.argmax(column[:, 1] < 60))  # first row south of the green north half
    rows = image.shape[0]
    _, y_edge = to_merc.transform(21.1, 42.7)
    expected = (y_n - y_edge) / (y_n - y_s) * rows
    linear = (north - 42.7) / (north - south) * rows  # what a lat/lon grid would give
    assert abs(edge - expected) <= 1.0, (edge, expected)
    assert abs(linear - expected) > 2.0  # the test tells the two apart


def test_the_offline_map_shows_the_basemap_with_no_request(browser, demo_store, tmp_path):  # noqa: F811
    out = tmp_path / "map.html"
    assert (
        _map(demo_store, out, "--offline", "--basemap", _ortho(tmp_path / "o.tif")).exit_code == 0
    )
    p = Page(browser)
    try:
        page = p.open(out)
        assert p.requests == [] and p.errors == []
        drawn = p.eval(
            "() => [...document.querySelectorAll('img.leaflet-image-layer')]"
            ".map(i => [i.complete, i.naturalWidth])"
        )
        assert len(drawn) == 1 and drawn[0][0] and drawn[0][1] > 0
        assert "Basemap: o.tif" in page.locator(".leaflet-control-layers").inner_text()
        assert CREDIT in page.locator(".leaflet-control-attribution").inner_text()
    finally:
        p.close()


def test_a_basemap_outside_the_layers_or_not_a_raster_is_refused(demo_store, tmp_path):
    far = _ortho(tmp_path / "far.tif", lon=2.35, lat=48.85)  # Paris
    done = _map(demo_store, tmp_path / "a.html", "--basemap", far)
    assert done.exit_code == 1 and "lies outside the map's layers" in done.output
    assert not (tmp_path / "a.html").exists()
    text = tmp_path / "notes.tif"
    text.write_text("not an image", encoding="utf-8")
    done = _map(demo_store, tmp_path / "b.html", "--basemap", text)
    assert done.exit_code == 1 and "not a GeoTIFF, MBTiles" in done.output


def test_the_basemap_is_never_the_output(demo_store, tmp_path):
    tif = _ortho(tmp_path / "ortho.tif")
    before = tif.read_bytes()
    done = _map(demo_store, tif, "--basemap", tif, "--overwrite")
    assert done.exit_code != 0
    assert tif.read_bytes() == before


@pytest.mark.parametrize("max_pixels", [10_000])
def test_a_large_basemap_is_coarsened_to_the_cap(demo_store, tmp_path, max_pixels):
    from kosovo_cmr.workflows.maps import basemap_image, read_layers

    image = basemap_image(
        read_layers(demo_store), _ortho(tmp_path / "o.tif"), max_pixels=max_pixels
    )
    assert image.rgba.shape[0] * image.rgba.shape[1] <= max_pixels * 1.05
