"""Import throughput: features per second for GeoPackage, CSV and Shapefile sources.

Builds N hazard polygons (1 % bow-ties, 1 % outside Kosovo) in a temporary folder, imports
them into a fresh GeoPackage store and prints the time and rate of each source kind, and
of a dry run. The hazards carry no municipality, so every import also places each one in
the municipality holding most of its area (issue 19); the Shapefile is written in cp1250
without ``.cpg`` with Serbian municipality names, so its encoding is detected and its
names made canonical. Figures depend on the machine and on its load; on a shared
machine they are noisy.

Usage: ``python benchmarks/import_throughput.py [N ...]`` (default 1000 10000 50000).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from kosovo_cmr.importer import import_layer, validate_source


def make(n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    x = rng.uniform(20.6, 21.4, n)
    y = rng.uniform(42.2, 42.9, n)
    geoms = shapely.box(x, y, x + 0.001, y + 0.001)
    bad = rng.choice(n, size=max(n // 50, 1), replace=False)
    for k, i in enumerate(bad):
        if k % 2:  # a bow-tie
            geoms[i] = shapely.Polygon(
                [(x[i], y[i]), (x[i] + 0.001, y[i] + 0.001), (x[i] + 0.001, y[i]),
                 (x[i], y[i] + 0.001)]
            )  # fmt: skip
        else:  # outside Kosovo
            geoms[i] = shapely.box(19.5, 41.0, 19.501, 41.001)
    return gpd.GeoDataFrame(
        {"hazard_id": [f"B-{i}" for i in range(n)], "kind": "CHA", "recorded": "2024-01-01"},
        geometry=geoms,
        crs=4326,
    )


def timed(label: str, n: int, func, *args, **kwargs) -> None:
    start = time.perf_counter()
    report = func(*args, **kwargs)
    seconds = time.perf_counter() - start
    assert report.read == report.imported + report.rejected == n
    print(
        f"{label:<22} {n:>7} features  {seconds:7.2f} s  {n / seconds:9,.0f} features/s  "
        f"(imported {report.imported}, repaired {report.repaired}, rejected {report.rejected})"
    )


def main(sizes: list[int]) -> None:
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            gdf = make(n)
            gdf.to_file(folder / "h.gpkg")
            table = gdf.assign(wkt=gdf.geometry.to_wkt()).drop(columns="geometry")
            table.to_csv(folder / "h.csv", index=False)
            gpkg, csv = folder / "h.gpkg", folder / "h.csv"
            timed("validate GeoPackage", n, validate_source, gpkg, "hazards",
                  store=folder / "v.gpkg")  # fmt: skip
            timed("import GeoPackage", n, import_layer, gpkg, "hazards",
                  store=folder / "a.gpkg", rejects=folder / "ra.gpkg")  # fmt: skip
            timed("import CSV (WKT)", n, import_layer, csv, "hazards", store=folder / "b.gpkg",
                  crs="EPSG:4326", rejects=folder / "rb.gpkg")  # fmt: skip
            names = np.array(["Leposavić", "Zvečan", "Uroševac", "Peć", "Priština"])
            serbian = gdf.assign(opstina=names[np.arange(n) % len(names)])
            serbian.to_file(folder / "h.shp", encoding="cp1250")
            (folder / "h.cpg").unlink()
            timed("import Shapefile cp1250", n, import_layer, folder / "h.shp", "hazards",
                  store=folder / "c.gpkg", rejects=folder / "rc.gpkg")  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000, 50000])
