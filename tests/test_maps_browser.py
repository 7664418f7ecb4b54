"""The interactive maps in a real headless Chromium (Debian's, driven by Playwright).

Run with ``pytest -m browser``. Locally these tests skip when /usr/bin/chromium is
missing; in CI they fail instead (``.ci/setup.d/chromium.sh`` installs it). The maps'
scripts come from the folium-offline package, installed with kosovo_cmr.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import _mapdata
import geopandas as gpd
import pytest
import shapely
from conftest import in_ci

from kosovo_cmr.analysis.strikes import strike_footprints
from kosovo_cmr.outputs import _offline, maps

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]
# a 1x1 transparent PNG, served for tile requests in the online-map test
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def _missing(reason: str):
    if in_ci():
        pytest.fail(f"{reason} (CI must run the browser tests: see .ci/setup.d/)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        _missing("Debian chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A page with every non-file request aborted (or served by ``serve``) and recorded."""

    def __init__(self, browser, *, serve=None):
        self.page = browser.new_page(viewport={"width": 1000, "height": 700})
        self.errors, self.dialogs, self.requests = [], [], []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)

        def route(r):
            url = r.request.url
            if url.startswith("file://"):
                return r.continue_()
            self.requests.append(url)
            body = serve(url) if serve else None
            return r.fulfill(body=body, status=200) if body is not None else r.abort()

        self.page.route("**/*", route)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path):
        self.page.goto(Path(path).resolve().as_uri(), wait_until="load")
        self.page.wait_for_function("() => typeof kcmr !== 'undefined'")
        self.page.wait_for_timeout(300)
        return self.page

    def eval(self, script, arg=None):
        return self.page.evaluate(script, arg)

    def close(self):
        self.page.close()


MAP = "() => window[document.querySelector('.folium-map').id]"
COUNT = """(colour) => { const m = window[document.querySelector('.folium-map').id]; let n = 0;
  m.eachLayer(l => { if (l instanceof L.Polygon && l.options.color === colour) n++; });
  return n; }"""


@pytest.fixture(scope="module")
def offline_file(tmp_path_factory, municipalities):
    path = tmp_path_factory.mktemp("maps") / "offline.html"
    layers = _mapdata.layers(municipalities, hostile=True)
    footprints = strike_footprints(layers["strikes"])
    m = maps.interactive_map(layers, offline=True, strike_footprints=footprints)
    return maps.save_map(m, path), layers


def test_offline_page_renders_with_the_network_cut(browser, offline_file):
    path, _ = offline_file
    p = Page(browser)
    try:
        page = p.open(path)
        assert p.requests == []  # not one request left the file
        assert p.errors == []
        assert page.locator(".leaflet-control-layers").count() == 1
        assert page.locator(".kcmr-banner").inner_text().startswith("SYNTHETIC")
        assert page.locator(".leaflet-control-scale").count() == 1
        assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
        assert page.locator(".leaflet-control-measure").count() == 1
        assert "CHA: confirmed" in page.locator(".kcmr-legend").inner_text()
        assert p.eval(COUNT, maps.COLOURS["CHA"]) == 2
        assert page.locator(".marker-cluster").count() >= 1  # evidence clustered
    finally:
        p.close()


def test_measure_and_fullscreen_work_offline(browser, offline_file):
    path, _ = offline_file
    p = Page(browser)
    try:
        page = p.open(path)
        page.hover(".leaflet-control-measure")
        page.click(".leaflet-control-measure .js-start")
        for xy in [(450, 350), (560, 370), (520, 460)]:
            page.mouse.click(*xy)
            page.wait_for_timeout(100)
        page.click(".leaflet-control-measure .js-finish")
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=3000)
        assert "Sq Meters" in popup.inner_text() and "Hectares" in popup.inner_text()
        page.click(".leaflet-control-zoom-fullscreen")
        page.wait_for_function(
            "() => !!document.fullscreenElement || document.querySelector('.leaflet-container')"
            ".classList.contains('leaflet-fullscreen-on')",
            timeout=3000,
        )
        assert p.requests == [] and p.errors == []  # also no missing file (icons)
    finally:
        p.close()


def test_layers_toggle(browser, offline_file):
    path, _ = offline_file
    p = Page(browser)
    try:
        page = p.open(path)
        label = page.locator(".leaflet-control-layers-overlays label", has_text="CHA: confirmed")
        assert p.eval(COUNT, maps.COLOURS["CHA"]) == 2
        label.locator("input").uncheck()
        assert p.eval(COUNT, maps.COLOURS["CHA"]) == 0
        label.locator("input").check()
        assert p.eval(COUNT, maps.COLOURS["CHA"]) == 2
        closed = page.locator(".leaflet-control-layers-overlays label", has_text="Closed hazards")
        assert not closed.locator("input").is_checked()  # hidden at first
        closed.locator("input").check()
        assert p.eval(COUNT, maps.COLOURS["closed"]) == 1
        assert p.errors == []
    finally:
        p.close()


def test_popup_shows_the_payload_as_text_and_fires_nothing(browser, offline_file):
    path, layers = offline_file
    hostile = layers["hazards"].iloc[0]
    inside = hostile.geometry.representative_point()
    p = Page(browser)
    try:
        page = p.open(path)
        for above in ("Evidence points", "Strike footprints"):  # drawn over the hazard
            overlays = page.locator(".leaflet-control-layers-overlays label", has_text=above)
            overlays.locator("input").uncheck()
        p.eval(
            "([lat, lng]) => { const m = (" + MAP + ")(); m.setView([lat, lng], 17, "
            "{animate: false}); }",
            [inside.y, inside.x],
        )
        page.wait_for_timeout(300)
        xy = p.eval(
            "([lat, lng]) => { const m = (" + MAP + ")(); const p = m.latLngToContainerPoint("
            "[lat, lng]); const r = m.getContainer().getBoundingClientRect();"
            "return [r.left + p.x, r.top + p.y]; }",
            [inside.y, inside.x],
        )
        page.mouse.move(*xy)
        page.wait_for_timeout(200)
        page.mouse.click(*xy)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=3000)
        text = popup.inner_text()
        assert _mapdata.XSS in text
        assert _mapdata.XSS_COLUMN in text  # the hostile column name, as text
        assert _mapdata.JINJA in text
        assert "area_m2 (geodesic)" in text
        assert popup.locator("img").count() == 0
        assert popup.locator("svg").count() == 0
        assert page.locator("img[src='x']").count() == 0
        page.wait_for_timeout(300)
        assert p.dialogs == []
        assert p.errors == []
    finally:
        p.close()


def test_displayed_polygons_within_one_metre(browser, offline_file):
    path, layers = offline_file
    p = Page(browser)
    try:
        p.open(path)
        rings = p.eval(
            """(colour) => { const out = []; const m = window[document.querySelector(
              '.folium-map').id]; m.eachLayer(l => { if (l instanceof L.Polygon &&
              l.options.color === colour) out.push(l.getLatLngs()[0].map(
              p => [p.lng, p.lat])); }); return out; }""",
            maps.COLOURS["CHA"],
        )
    finally:
        p.close()
    shown = gpd.GeoSeries([shapely.Polygon(r) for r in rings], crs=4326).to_crs(9141)
    hz = layers["hazards"]
    stored = hz[(hz.kind == "CHA") & (hz.status == "active")].geometry.to_crs(9141)
    assert len(shown) == len(stored) == 2
    for geom in stored:
        nearest = min(shown, key=lambda s: s.distance(geom.centroid))
        assert shapely.hausdorff_distance(nearest, geom, densify=0.1) < 1.0


def test_online_map_loads_its_libraries_and_osm_tiles(browser, tmp_path, municipalities):
    """The online page, with the CDN served from the local copies and tiles stubbed."""
    path = maps.save_map(
        maps.interactive_map(_mapdata.layers(municipalities)), tmp_path / "online.html"
    )
    local = set(_offline.ASSETS.values())

    def serve(url):
        if url in local:
            return _offline.asset_text(url)
        if "tile.openstreetmap.org" in url:
            return PNG
        return None

    p = Page(browser, serve=serve)
    try:
        page = p.open(path)
        page.wait_for_timeout(500)
        assert any("tile.openstreetmap.org" in u for u in p.requests)
        assert set(p.requests) <= set(local) | {u for u in p.requests if "openstreetmap" in u}
        assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
        assert p.errors == []
    finally:
        p.close()


def test_demo_map_offline_renders(browser, demo_store, tmp_path):
    from kosovo_cmr.workflows.maps import map_from_store

    path = maps.save_map(map_from_store(demo_store, offline=True), tmp_path / "demo-offline.html")
    p = Page(browser)
    try:
        page = p.open(path)
        assert p.requests == [] and p.errors == []
        assert p.eval(COUNT, maps.COLOURS["CHA"]) == 22
        assert p.eval(COUNT, maps.COLOURS["SHA"]) == 13
        assert page.locator(".kcmr-banner").count() == 1
    finally:
        p.close()


# --- issue 19: the online map says when it cannot load; issue 14: millions of points -------


@pytest.fixture(scope="module")
def online_file(tmp_path_factory, municipalities):
    path = tmp_path_factory.mktemp("online") / "online.html"
    return maps.save_map(maps.interactive_map(_mapdata.layers(municipalities)), path)


def test_online_map_without_network_says_so(browser, online_file):
    """Every request off the machine refused: a visible message, not a blank page."""
    p = Page(browser)
    try:
        p.page.goto(Path(online_file).resolve().as_uri(), wait_until="load")
        notice = p.page.locator("#kcmr-notice")
        notice.wait_for(state="visible", timeout=5000)
        text = notice.inner_text()
        assert "could not load its map library (Leaflet)" in text
        assert "kcmr map --offline" in text
        assert notice.bounding_box()["width"] > 200  # really on screen
        assert any("leaflet" in u for u in p.requests)  # it did try, and was refused
    finally:
        p.close()


def test_online_map_without_tiles_says_so_and_still_draws(browser, online_file):
    """Scripts at hand (served from the package) but no tile server: the layers are drawn
    and a message says the background map is missing."""
    local = set(_offline.ASSETS.values())
    p = Page(browser, serve=lambda url: _offline.asset_text(url) if url in local else None)
    try:
        page = p.open(online_file)
        notice = page.locator("#kcmr-notice")
        notice.wait_for(state="visible", timeout=5000)
        assert "OpenStreetMap tiles) could not be loaded" in notice.inner_text()
        assert p.eval(COUNT, maps.COLOURS["CHA"]) == 2  # the layers are there
        assert any("tile.openstreetmap.org" in u for u in p.requests)
    finally:
        p.close()


def test_online_map_with_network_shows_no_notice(browser, online_file):
    local = set(_offline.ASSETS.values())

    def serve(url):
        if url in local:
            return _offline.asset_text(url)
        return PNG if "tile.openstreetmap.org" in url else None

    p = Page(browser, serve=serve)
    try:
        page = p.open(online_file)
        page.wait_for_timeout(500)
        assert not page.locator("#kcmr-notice").is_visible()
        assert p.errors == []
    finally:
        p.close()


def test_offline_map_makes_no_request_at_all(browser, offline_file):
    """Every request the page makes is recorded (file: and data: are the page itself)."""
    path, _ = offline_file
    p = Page(browser)
    seen = []
    p.page.on("request", lambda r: seen.append(r.url))
    try:
        page = p.open(path)
        page.mouse.move(500, 350)
        page.mouse.wheel(0, -400)
        page.wait_for_timeout(500)
        assert seen and all(u.startswith(("file:", "data:")) for u in seen), seen[:5]
        assert p.requests == [] and p.errors == []
        assert not page.locator("#kcmr-notice").is_visible()
    finally:
        p.close()


def test_a_large_point_layer_is_drawn_as_a_grid_then_points(browser, tmp_path):
    """Above the grid threshold: counts at low zoom, the points (with popups) zoomed in."""
    evidence = _mapdata.evidence(2000)  # 6,000 points in three clusters: over 4,000 in view
    m = maps.interactive_map({"evidence": evidence}, offline=True, grid_threshold=1000)
    path = maps.save_map(m, tmp_path / "grid.html")
    p = Page(browser)
    try:
        page = p.open(path)
        p.eval("() => { const m = (" + MAP + ")(); m.setView([42.5, 20.9], 8); }")
        page.wait_for_timeout(300)
        bins = page.locator(".kcmr-bin")
        counts = [int(t.replace(",", "")) for t in bins.all_inner_texts()]
        assert sum(counts) == 6000 and len(counts) <= 10
        first = evidence.geometry.iloc[0]
        p.eval(
            "([lat, lng]) => { const m = (" + MAP + ")(); m.setView([lat, lng], 18); }",
            [first.y, first.x],
        )
        page.wait_for_timeout(300)
        assert page.locator(".kcmr-bin").count() == 0
        n = p.eval(
            """() => { let n = 0; const m = window[document.querySelector('.folium-map').id];
            m.eachLayer(l => { if (l instanceof L.CircleMarker) n++; }); return n; }"""
        )
        assert 0 < n <= 2000
        xy = p.eval(
            "([lat, lng]) => { const m = (" + MAP + ")(); const q = m.latLngToContainerPoint("
            "[lat, lng]); const r = m.getContainer().getBoundingClientRect();"
            "return [r.left + q.x, r.top + q.y]; }",
            [first.y, first.x],
        )
        page.mouse.click(*xy)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=3000)
        assert "DEMO-E" in popup.inner_text() and "BLU-97" in popup.inner_text()
        assert p.errors == [] and p.requests == []
    finally:
        p.close()
