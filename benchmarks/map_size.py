"""Size, write time and load time of a national map: plain folium.GeoJson against ours.

Makes N fade-out-like CHA polygons (unions of 25 m discs round synthetic evidence,
about 200-300 vertices each) spread over Kosovo, writes them (1) with plain
``folium.GeoJson`` and (2) with :func:`kosovo_cmr.outputs.maps.interactive_map` (offline, one
file), and prints the HTML size, the write time, the load time in headless Chromium
(Debian's /usr/bin/chromium; the CDN scripts of the plain map are served from the
copies in the folium-offline package, so both load without network) and, for ours, the
largest distance between a displayed polygon and its stored geometry (Hausdorff,
metres, EPSG:9141).

Run: ``python benchmarks/map_size.py [--sizes 1000 10000] [--no-browser]``.
Timings on a shared machine are noisy; run it more than once.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr.outputs import _offline, maps

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-dev-shm-usage"]  # fmt: skip


def polygons(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """N CHA-like polygons: each the union of 3-6 discs of 25 m round nearby points."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = 7380000, 4640000, 7510000, 4780000  # EPSG:9141, Kosovo
    centres = np.column_stack([rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)])
    counts = rng.integers(3, 7, n)
    owner = np.repeat(np.arange(n), counts)
    pts = centres[owner] + rng.normal(0, 18, (len(owner), 2))
    discs = shapely.buffer(shapely.points(pts), 25.0, quad_segs=24)
    geoms = [
        shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g
        for g in (shapely.union_all(discs[owner == i]) for i in range(n))
    ]
    return gpd.GeoDataFrame(
        {
            "hazard_id": [f"BENCH-{i:05d}" for i in range(n)],
            "kind": "CHA",
            "status": "active",
            "municipality": "Prishtinë",
            "region": "Centre",
            "priority": "high",
            "operator": "HALO",
            "ordnance": "BLU-97",
            "recorded": pd.Timestamp("2024-01-01"),
            "synthetic": True,
        },
        geometry=geoms,
        crs=9141,
    ).to_crs(4326)


def naive(gdf, path: Path) -> float:
    started = time.perf_counter()
    m = folium.Map(location=[42.6, 20.9], zoom_start=9)
    folium.GeoJson(
        gdf.assign(recorded=gdf.recorded.astype(str)),
        name="CHA",
        tooltip=folium.GeoJsonTooltip(["hazard_id", "kind"]),
        popup=folium.GeoJsonPopup(["hazard_id", "kind", "municipality", "operator"]),
    ).add_to(m)
    folium.LayerControl().add_to(m)
    m.save(str(path))
    return time.perf_counter() - started


def ours(gdf, path: Path) -> float:
    started = time.perf_counter()
    maps.save_map(maps.interactive_map({"hazards": gdf}, offline=True), path, overwrite=True)
    return time.perf_counter() - started


def deviation_m(gdf, path: Path) -> float:
    """Largest Hausdorff distance (m) between the shapes in the page and the data."""
    page = path.read_text(encoding="utf-8")
    spec = json.loads(re.search(r"kcmr\.layer\((\{.*?\})\);", page).group(1))
    pts = maps.decode_coordinates(spec["coords"])
    shown, p, r, at = [], 0, 0, 0
    for n_polys in spec["polys"]:
        polys = []
        for _ in range(n_polys):
            rings = []
            for _ in range(spec["rings"][p]):
                rings.append(pts[at : at + spec["verts"][r]])
                at, r = at + spec["verts"][r], r + 1
            polys.append(shapely.Polygon(rings[0], rings[1:]))
            p += 1
        shown.append(shapely.MultiPolygon(polys))
    a = gpd.GeoSeries(shown, crs=4326).to_crs(9141).values
    b = gdf.geometry.to_crs(9141).values
    return float(shapely.hausdorff_distance(a, b, densify=0.25).max())


def load_seconds(browser, path: Path) -> float:
    local = {url.rsplit("/", 1)[1]: url for url in _offline.ASSETS.values()}
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        url = r.request.url
        if url.startswith("file://"):
            return r.continue_()
        if url.rsplit("/", 1)[1] in local:  # folium's CDN copies of the same libraries
            return r.fulfill(body=_offline.asset_text(local[url.rsplit("/", 1)[1]]))
        return r.abort()  # tiles, jquery, bootstrap...: no network here

    page.route("**/*", route)
    started = time.perf_counter()
    page.goto(path.resolve().as_uri(), wait_until="load", timeout=600_000)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    seconds = time.perf_counter() - started
    page.close()
    if errors:
        print(f"    page errors: {errors[:2]}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    browser = None
    if not args.no_browser and Path(CHROMIUM).exists():
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    out = Path(tempfile.mkdtemp(prefix="kcmr-map-bench-"))
    print(f"{'polygons':>8} {'map':<8} {'vertices':>9} {'size MB':>8} {'write s':>8} "
          f"{'load s':>7} {'max dev m':>9}")  # fmt: skip
    for n in args.sizes:
        gdf = polygons(n)
        vertices = int(shapely.get_num_coordinates(gdf.geometry.values).sum())
        for name, writer in (("naive", naive), ("ours", ours)):
            path = out / f"{name}-{n}.html"
            write_s = writer(gdf, path)
            size_mb = path.stat().st_size / 1e6
            load_s = load_seconds(browser, path) if browser else float("nan")
            dev = deviation_m(gdf, path) if name == "ours" else 0.0
            print(f"{n:>8} {name:<8} {vertices:>9} {size_mb:>8.1f} {write_s:>8.1f} "
                  f"{load_s:>7.2f} {dev:>9.2f}", flush=True)  # fmt: skip
            path.unlink()
    if browser:
        browser.close()
        pw.stop()


if __name__ == "__main__":
    main()
