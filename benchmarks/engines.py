"""Local vs dask engine on millions of clustered evidence points: time, memory, scaling.

For each size (default 1M and 5M points) the script measures, each in a fresh process,
:func:`kosovo_cmr.analysis.fadeout.buffer_impact` (50 m -> 25 m rule change, the whole union
under both rules) with

- the local engine (one process);
- the dask engine on a local dask distributed cluster of 1 worker, then 2 workers
  (one thread each, one partition per 250,000 points, or fewer under ``--memory``),

and prints wall time, peak memory (resident set) of the driving process and of the
largest worker (sampled 5 times a second), the speed-up from 1 to 2 workers, and the
relative difference of the dask areas from the local ones. Data generation is not timed.

With ``--input parquet`` the points are first written to GeoParquet files (250,000 rows
each, not timed); the local engine reads them all before it is timed, and the dask
engine is given ``dask_geopandas.read_parquet`` so that its workers read them (inside
the timing) and the driving process never holds the points.
With ``--input gpkg`` they are first written as the evidence layer of a GeoPackage
store (not timed); the local engine reads the layer before it is timed, and the dask
engine is given ``Store.read_chunks``, as ``kcmr buffer-impact --engine dask`` does
(the reading inside the timing).

The points are strike-like clusters (about 150 points in an oval of about 200 x 100 m,
BLU-97 / BL755 / other) spread over Kosovo, generated from a fixed seed.

Usage::

    python benchmarks/engines.py                 # 1M and 5M points
    python benchmarks/engines.py --sizes 100000  # a quick run
    python benchmarks/engines.py --sizes 5000000 --no-local --memory 1.5GB
    python benchmarks/engines.py --input parquet --sizes 1000000 5000000 10000000
    python benchmarks/engines.py --input gpkg --sizes 1000000

Timings on a shared machine are noisy; the script says how many cores it saw.
"""

from __future__ import annotations

import argparse
import contextlib
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


class _ChildPeaks:
    """Sample the resident set of every child process (the dask workers) 5 times a second.

    ``ru_maxrss`` of ``RUSAGE_CHILDREN`` is not used: it can count a child that inherits
    the driver's pages when it forks, not only the workers.
    """

    def __init__(self):
        import threading

        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    rss = child.memory_info().rss
                    self.peaks[child.pid] = max(self.peaks.get(child.pid, 0), rss)
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def largest_mb(self) -> float:
        return max(self.peaks.values(), default=0) / 2**20


def write_parquet(n: int, folder: str, *, rows_per_file: int = 250_000) -> None:
    """Write the ``n`` benchmark points to ``folder`` as GeoParquet files of 250,000 rows."""
    evidence = clustered_evidence(n)
    os.makedirs(folder, exist_ok=True)
    for k, start in enumerate(range(0, n, rows_per_file)):
        part = evidence.iloc[start : start + rows_per_file]
        part.to_parquet(os.path.join(folder, f"part.{k:05d}.parquet"))


def write_store(n: int, path: str) -> None:
    """Write the ``n`` benchmark points as the evidence layer of a GeoPackage store."""
    from kosovo_cmr.store import open_store

    evidence = clustered_evidence(n)
    evidence.insert(0, "evidence_id", [f"B-{i}" for i in range(n)])
    evidence["synthetic"] = True
    open_store(path).write(evidence, "evidence", source="benchmarks/engines.py (synthetic)")


def run_one(
    engine: str, n: int, workers: int, memory: str | None = None, source: str | None = None
) -> dict:
    """Run one measurement in this process and return its figures."""
    from kosovo_cmr import settings
    from kosovo_cmr.analysis.engine import points_per_partition
    from kosovo_cmr.analysis.fadeout import buffer_impact

    settings.dask_worker_memory = memory
    if source is not None and source.endswith(".gpkg"):
        from kosovo_cmr.store import open_store

        store = open_store(source, create=False)
        if engine == "local":
            evidence = store.read("evidence")  # read before the timing, as for Parquet
        else:
            evidence = store.read_chunks("evidence", points_per_partition())
    elif source is None:
        evidence = clustered_evidence(n)
    elif engine == "local":
        import geopandas as gpd

        evidence = gpd.read_parquet(source)  # the local engine needs every point in memory
    else:
        import dask_geopandas

        evidence = dask_geopandas.read_parquet(source)  # read by the workers
    children = _ChildPeaks().__enter__()
    start = time.perf_counter()
    if engine == "local":
        result = buffer_impact(evidence, "kosovo-pre-2024", "kosovo-nmas-2024")
    else:
        result = buffer_impact(
            evidence,
            "kosovo-pre-2024",
            "kosovo-nmas-2024",
            engine="dask",
            scheduler="local",
            workers=workers,
        )
    wall = time.perf_counter() - start
    children.__exit__()
    return {
        "engine": engine,
        "n": n,
        "workers": workers,
        "memory": memory,
        "wall_s": wall,
        "peak_main_mb": _peak_mb(resource.RUSAGE_SELF),
        "peak_worker_mb": children.largest_mb,
        "peak_children_rusage_mb": _peak_mb(resource.RUSAGE_CHILDREN),
        "area_from_m2": result.total["area_from_m2"],
        "area_to_m2": result.total["area_to_m2"],
    }


def _measure(
    engine: str, n: int, workers: int, memory: str | None = None, source: str | None = None
) -> dict:
    extra = (["--memory", memory] if memory else []) + (["--source", source] if source else [])
    out = subprocess.run(
        [sys.executable, __file__, "--one", engine, str(n), str(workers), *extra],
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
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="dask worker counts (1 2)"
    )
    parser.add_argument(
        "--memory",
        help="memory budget of one dask worker, e.g. 1.5GB (settings.dask_worker_memory): "
        "smaller partitions, and workers spill to disk past it",
    )
    parser.add_argument("--no-local", action="store_true", help="skip the local engine")
    parser.add_argument(
        "--input",
        choices=["memory", "parquet", "gpkg"],
        default="memory",
        help="memory: the points are a GeoDataFrame in the driving process; parquet: they "
        "are written to GeoParquet files first (not timed) and the dask workers read them; "
        "gpkg: they are the evidence layer of a GeoPackage store (written first, not "
        "timed), read in chunks by the dask engine as `kcmr buffer-impact --engine dask` "
        "does, and whole by the local engine before the timing",
    )
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--write-parquet", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--write-store", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--one", nargs=3, metavar=("ENGINE", "N", "WORKERS"), help="internal")
    args = parser.parse_args(argv)
    if args.write_store:
        write_store(int(args.write_store[0]), args.write_store[1])
        return
    if args.write_parquet:
        write_parquet(int(args.write_parquet[0]), args.write_parquet[1])
        return
    if args.one:
        engine, n, workers = args.one[0], int(args.one[1]), int(args.one[2])
        print(json.dumps(run_one(engine, n, workers, args.memory, args.source)))
        return
    if args.memory:
        from kosovo_cmr.analysis.engine import points_per_partition

        print(f"worker memory budget {args.memory}: {points_per_partition(args.memory):,} points")
    print(f"cores seen: {os.cpu_count()} (timings on a shared machine are noisy)")
    versus = "diff vs 1st" if args.no_local else "diff vs local"
    header = (
        f"{'points':>10} {'engine':<14} {'wall s':>8} {'main MB':>9} {'worker MB':>10} "
        f"{'area 50 m (m2)':>16} {'area 25 m (m2)':>16} {versus:>14}"
    )
    print(f"input: {args.input}")
    print(header)
    for n in args.sizes:
        with contextlib.ExitStack() as stack:
            source = None
            if args.input in ("parquet", "gpkg"):
                import tempfile

                source = stack.enter_context(tempfile.TemporaryDirectory(prefix="kcmr-bench-"))
                flag = "--write-parquet"
                if args.input == "gpkg":
                    source, flag = os.path.join(source, "bench.gpkg"), "--write-store"
                # in a child: a process forked from one that held the points would report
                # their memory as its own peak (Linux keeps the high-water mark over exec)
                subprocess.run([sys.executable, __file__, flag, str(n), source], check=True)
            local = None if args.no_local else _measure("local", n, 1, source=source)
            dasks = [_measure("dask", n, w, args.memory, source) for w in args.workers]
        runs = ([local] if local else []) + dasks
        ref = local or dasks[0]
        for r in runs:
            label = "local" if r["engine"] == "local" else f"dask {r['workers']} worker(s)"
            diff = max(
                abs(r["area_from_m2"] - ref["area_from_m2"]) / ref["area_from_m2"],
                abs(r["area_to_m2"] - ref["area_to_m2"]) / ref["area_to_m2"],
            )
            worker = f"{r['peak_worker_mb']:10.0f}" if r["engine"] == "dask" else f"{'-':>10}"
            print(
                f"{n:>10,} {label:<14} {r['wall_s']:8.1f} {r['peak_main_mb']:9.0f} {worker} "
                f"{r['area_from_m2']:16,.0f} {r['area_to_m2']:16,.0f} {diff:14.2e}"
            )
        if len(dasks) > 1:
            first, last = dasks[0], dasks[-1]
            print(
                f"{n:>10,} scaling {first['workers']} -> {last['workers']} workers: "
                f"{first['wall_s'] / last['wall_s']:.2f}x"
                + (f"; vs local: {local['wall_s'] / last['wall_s']:.2f}x" if local else "")
            )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
