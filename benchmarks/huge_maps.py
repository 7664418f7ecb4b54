"""Time and peak memory of ``kcmr map`` and ``kcmr export --format gpx`` on huge inputs.

Issue 14 item 8: a 1M-vertex hazard made ``map`` run over 600 s (a Hausdorff check of
the simplification), 2M evidence points made it die with ``std::bad_alloc`` at 10.9 GB,
and the GPX of a 50k-vertex hazard was 427 MB (4.4 GB of memory). Each case below writes
a GeoPackage store of SYNTHETIC features (ids ``BENCH-``), then runs the real command in
a child process and prints its wall time, its peak resident memory (``wait4``'s
``ru_maxrss``: the child alone) and the size of what it wrote.

Cases: one hazard of 100k and of 1M vertices (a wiggly ring about 300 m across), and
2M evidence points in 2,000 clusters (the store also holds one small hazard). The map of
the evidence also computes its fade-out rings (50 m -> 25 m), as ``kcmr map`` does.
Targets (issue 14): a 100k-vertex hazard's ``map`` under 30 s and 2 GB; 2M evidence
points' ``map`` without failure.

With ``--browser`` the offline map is also opened in headless Chromium (Debian's
/usr/bin/chromium, every request off the machine refused) and the time to its first
frames drawn is printed ("load s").

Run: ``python benchmarks/huge_maps.py [--cases hazard-100k hazard-1m points-2m]
[--commands map map-offline gpx] [--browser]``. Figures on the shared 2-core machine are
noisy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr.store import open_store

CASES = ("hazard-100k", "hazard-1m", "points-2m")
COMMANDS = ("map", "map-offline", "gpx")


def hazard(n_vertices: int, *, hazard_id: str = "BENCH-HZ-0001") -> gpd.GeoDataFrame:
    """One CHA whose ring has ``n_vertices`` vertices (EPSG:9141 -> 4326)."""
    t = np.linspace(0, 2 * np.pi, n_vertices, endpoint=False)
    rng = np.random.default_rng(n_vertices)
    r = 300 + 0.3 * np.sin(t * 5000) + rng.normal(0, 0.2, n_vertices)
    ring = np.column_stack([7_450_000 + r * np.cos(t), 4_720_000 + r * np.sin(t)])
    return gpd.GeoDataFrame(
        {
            "hazard_id": [hazard_id],
            "kind": ["CHA"],
            "status": ["active"],
            "municipality": ["Prishtinë"],
            "region": ["Centre"],
            "priority": ["high"],
            "operator": ["HALO"],
            "ordnance": ["BLU-97"],
            "recorded": [pd.Timestamp("2024-01-01")],
            "closed": [pd.NaT],
            "synthetic": [True],
        },
        geometry=[shapely.MultiPolygon([shapely.Polygon(ring)])],
        crs=9141,
    ).to_crs(4326)


def evidence(n: int, seed: int = 3) -> gpd.GeoDataFrame:
    """``n`` evidence points in n/1000 clusters (sd 60 m) spread over Kosovo."""
    rng = np.random.default_rng(seed)
    n_clusters = max(1, n // 1000)
    centres = np.column_stack(
        [
            rng.uniform(7_400_000, 7_490_000, n_clusters),
            rng.uniform(4_650_000, 4_760_000, n_clusters),
        ]
    )
    owner = rng.integers(0, n_clusters, n)
    xy = centres[owner] + rng.normal(0, 60, (n, 2))
    return gpd.GeoDataFrame(
        {
            "evidence_id": [f"BENCH-EV-{i:07d}" for i in range(n)],
            "hazard_id": "BENCH-HZ-0001",
            "item": "submunition",
            "ordnance": rng.choice(["BLU-97", "BL755", "other"], n),
            "found": pd.Timestamp("2023-06-01"),
            "accuracy_m": 3.0,
            "synthetic": True,
        },
        geometry=shapely.points(xy),
        crs=9141,
    ).to_crs(4326)


def make_store(case: str, folder: Path) -> Path:
    path = folder / f"{case}.gpkg"
    store = open_store(path, create=True)
    if case == "hazard-100k":
        store.write(hazard(100_000), "hazards", source="benchmark")
    elif case == "hazard-1m":
        store.write(hazard(1_000_000), "hazards", source="benchmark")
    else:
        store.write(hazard(200), "hazards", source="benchmark")
        store.write(evidence(2_000_000), "evidence", source="benchmark")
    return path


def run(argv: list[str]) -> tuple[float, float, int]:
    """Run a command; return (seconds, peak RSS in MB of that child, exit code)."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    err = child.stderr.read().decode(errors="replace").strip().splitlines()
    child.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(f"    exit {code}: {err[-1] if err else ''}", flush=True)
    return seconds, usage.ru_maxrss / 1024, code


def command_line(command: str, store: Path, out: Path, case: str) -> list[str]:
    kcmr = [sys.executable, "-m", "kosovo_cmr"]
    base = [*kcmr, "-q", "--store", str(store)]
    if command == "gpx":
        layer = "evidence" if case == "points-2m" else "hazards"
        return [*base, "export", "--layer", layer, "--format", "gpx", "-o", str(out)]
    return [*base, "map", *(["--offline"] if command == "map-offline" else []), "-o", str(out)]


def load_seconds(path: Path) -> float:
    """Seconds from navigation to the first frames drawn, in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
        )
        started = time.perf_counter()
        page.goto(path.resolve().as_uri(), wait_until="load", timeout=900_000)
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        seconds = time.perf_counter() - started
        browser.close()
    if errors:
        print(f"    page errors: {errors[:2]}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--commands", nargs="+", choices=COMMANDS, default=list(COMMANDS))
    parser.add_argument("--browser", action="store_true", help="also time the offline map's load")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="kcmr-huge-"))
    print(f"{'case':<12} {'command':<12} {'seconds':>8} {'peak MB':>8} {'output MB':>9} "
          f"{'load s':>7}")  # fmt: skip
    for case in args.cases:
        started = time.perf_counter()
        store = make_store(case, folder)
        print(f"{case:<12} {'(store)':<12} {time.perf_counter() - started:>8.1f}", flush=True)
        for command in args.commands:
            out = folder / f"{case}-{command}.{'gpx' if command == 'gpx' else 'html'}"
            seconds, peak_mb, code = run(command_line(command, store, out, case))
            size = out.stat().st_size / 1e6 if code == 0 and out.exists() else float("nan")
            load = float("nan")
            if args.browser and command == "map-offline" and code == 0:
                load = load_seconds(out)
            print(f"{case:<12} {command:<12} {seconds:>8.1f} {peak_mb:>8.0f} {size:>9.2f} "
                  f"{load:>7.1f}", flush=True)  # fmt: skip
            if out.exists():
                out.unlink()
        store.unlink()


if __name__ == "__main__":
    main()
