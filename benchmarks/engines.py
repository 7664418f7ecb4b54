"""Local vs dask engine on millions of clustered evidence points: time, memory, scaling.

For each size (default 1M and 5M points) the script measures, each in a fresh process,
:func:`kosovo_cmr.engine.buffer_impact` (50 m -> 25 m rule change, the whole union under
both rules) with

- the local engine (one process);
- the dask engine on a local dask distributed cluster of 1 worker, then 2 workers
  (one thread each, one partition per 250,000 points),

and prints wall time, peak memory (resident set) of the driving process and of the
largest worker, the speed-up from 1 to 2 workers, and the relative difference of the
dask areas from the local ones. Data generation is not timed.

The points are strike-like clusters (about 150 points in an oval of about 200 x 100 m,
BLU-97 / BL755 / other) spread over Kosovo, generated from a fixed seed.

Usage::

    python benchmarks/engines.py                 # 1M and 5M points
    python benchmarks/engines.py --sizes 100000  # a quick run

Timings on a shared machine are noisy; the script says how many cores it saw.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def clustered_evidence(n: int, *, seed: int = 2024):
    """``n`` evidence points in strike-like clusters over Kosovo (EPSG:4326)."""
    import geopandas as gpd
    import numpy as np

    rng = np.random.default_rng(seed)
    per = 150
    k = max(1, n // per)
    cx = rng.uniform(7_420_000, 7_560_000, k)
    cy = rng.uniform(4_650_000, 4_760_000, k)
    which = rng.integers(0, k, n)
    angle = rng.uniform(0, np.pi, k)[which]
    u = rng.normal(0, 70, n)
    v = rng.normal(0, 30, n)
    x = cx[which] + u * np.cos(angle) - v * np.sin(angle)
    y = cy[which] + u * np.sin(angle) + v * np.cos(angle)
    return gpd.GeoDataFrame(
        {
            "item": rng.choice(["submunition", "fragments", "component"], n),
            "ordnance": rng.choice(["BLU-97", "BL755", "other"], n, p=[0.6, 0.3, 0.1]),
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:9141",
    ).to_crs(4326)


def _peak_mb(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


def run_one(engine: str, n: int, workers: int) -> dict:
    """Run one measurement in this process and return its figures."""
    from kosovo_cmr import engine as engines

    evidence = clustered_evidence(n)
    start = time.perf_counter()
    if engine == "local":
        result = engines.buffer_impact(evidence, "kosovo-pre-2024", "kosovo-nmas-2024")
    else:
        result = engines.buffer_impact(
            evidence,
            "kosovo-pre-2024",
            "kosovo-nmas-2024",
            engine="dask",
            scheduler="local",
            workers=workers,
        )
    wall = time.perf_counter() - start
    return {
        "engine": engine,
        "n": n,
        "workers": workers,
        "wall_s": wall,
        "peak_main_mb": _peak_mb(resource.RUSAGE_SELF),
        "peak_worker_mb": _peak_mb(resource.RUSAGE_CHILDREN),
        "area_from_m2": result.total["area_from_m2"],
        "area_to_m2": result.total["area_to_m2"],
    }


def _measure(engine: str, n: int, workers: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one", engine, str(n), str(workers)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{engine} n={n} workers={workers} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--one", nargs=3, metavar=("ENGINE", "N", "WORKERS"), help="internal")
    args = parser.parse_args(argv)
    if args.one:
        engine, n, workers = args.one[0], int(args.one[1]), int(args.one[2])
        print(json.dumps(run_one(engine, n, workers)))
        return
    print(f"cores seen: {os.cpu_count()} (timings on a shared machine are noisy)")
    header = (
        f"{'points':>10} {'engine':<14} {'wall s':>8} {'main MB':>9} {'worker MB':>10} "
        f"{'area 50 m (m2)':>16} {'area 25 m (m2)':>16} {'diff vs local':>14}"
    )
    print(header)
    for n in args.sizes:
        runs = [_measure("local", n, 1), _measure("dask", n, 1), _measure("dask", n, 2)]
        local = runs[0]
        for r in runs:
            label = "local" if r["engine"] == "local" else f"dask {r['workers']} worker(s)"
            diff = max(
                abs(r["area_from_m2"] - local["area_from_m2"]) / local["area_from_m2"],
                abs(r["area_to_m2"] - local["area_to_m2"]) / local["area_to_m2"],
            )
            worker = f"{r['peak_worker_mb']:10.0f}" if r["engine"] == "dask" else f"{'-':>10}"
            print(
                f"{n:>10,} {label:<14} {r['wall_s']:8.1f} {r['peak_main_mb']:9.0f} {worker} "
                f"{r['area_from_m2']:16,.0f} {r['area_to_m2']:16,.0f} {diff:14.2e}"
            )
        print(
            f"{n:>10,} scaling 1 -> 2 workers: {runs[1]['wall_s'] / runs[2]['wall_s']:.2f}x; "
            f"dask 2 workers vs local: {local['wall_s'] / runs[2]['wall_s']:.2f}x"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
