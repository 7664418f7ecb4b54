"""Benchmark: fade-out impact table and delineation against the naive buffer-and-union.

Generates clustered evidence (strike-like ovals of 100-300 points, spread over a
Kosovo-sized extent in EPSG:9141) at each size and measures, each in a fresh subprocess
(so that peak memory is that run's alone):

- ``ours-impact``: :func:`kosovo_cmr.analysis.fadeout.buffer_impact` for the two shipped rules
  (``kosovo-pre-2024`` -> ``kosovo-nmas-2024``, ``by="none"``): the full impact table with
  exact geodesic areas;
- ``ours-delineate``: :func:`kosovo_cmr.analysis.fadeout.delineate` under ``kosovo-pre-2024``
  (cluster polygons with 1 cm chords, plus their table);
- ``naive``: what a user would write: ``GeoSeries.buffer(d).union_all()`` for each rule
  (geopandas' default 16 segments per quarter circle), then ``.area``; the time of the
  first rule's union alone is the naive *delineation* time.

Prints time (s) and peak resident memory (MB, ``getrusage`` max RSS of the subprocess,
input data included) per size, the speed-ups, and the growth of our time from one size
to the next against n log n. Timings on a shared machine are noisy; run it alone when
the figures matter.

Usage::

    python benchmarks/fadeout.py                      # 10k, 100k, 1M (naive 1M is slow)
    python benchmarks/fadeout.py --sizes 10000 100000
    python benchmarks/fadeout.py --naive-max 100000   # skip the naive runs above 100k
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import numpy as np

#: Kosovo-sized extent in EPSG:9141 (easting, northing), about 150 km x 155 km.
EXTENT = (7_420_000.0, 4_640_000.0, 7_570_000.0, 4_795_000.0)


def generate(n: int, *, seed: int = 1999):
    """Clustered evidence: ovals of 100-300 points like cluster-bomb strike footprints."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    xs, ys = [], []
    total = 0
    while total < n:
        k = min(int(rng.integers(100, 301)), n - total)
        cx = rng.uniform(EXTENT[0], EXTENT[2])
        cy = rng.uniform(EXTENT[1], EXTENT[3])
        length = rng.uniform(61.0, 244.0)  # footprints 37 x 61 m to 123 x 244 m
        width = length * rng.uniform(0.5, 0.6)
        bearing = rng.uniform(0, np.pi)
        u = rng.normal(0, length / 4, k)
        v = rng.normal(0, width / 4, k)
        xs.append(cx + u * np.cos(bearing) - v * np.sin(bearing))
        ys.append(cy + u * np.sin(bearing) + v * np.cos(bearing))
        total += k
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    ordnance = rng.choice(["BLU-97", "BL755", "other"], n, p=[0.55, 0.25, 0.20])
    item = rng.choice(["submunition", "component", "fragments", "crater"], n)
    return gpd.GeoDataFrame(
        {"ordnance": ordnance, "item": item}, geometry=shapely.points(x, y), crs="EPSG:9141"
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(kind: str, n: int) -> dict:
    """Run one measurement in this process and return its figures."""
    from kosovo_cmr.analysis.fadeout import buffer_impact, delineate
    from kosovo_cmr.analysis.rules import load_rule

    evidence = generate(n)
    base = _peak_mb()
    out = {"kind": kind, "n": n, "input_mb": base}
    if kind == "ours-impact":
        t = time.perf_counter()
        res = buffer_impact(evidence, "kosovo-pre-2024", "kosovo-nmas-2024")
        out["seconds"] = time.perf_counter() - t
        out["area_from_m2"] = res.total["area_from_m2"]
        out["area_to_m2"] = res.total["area_to_m2"]
    elif kind == "ours-delineate":
        t = time.perf_counter()
        clusters = delineate(evidence, "kosovo-pre-2024")
        out["seconds"] = time.perf_counter() - t
        out["clusters"] = len(clusters)
    elif kind == "naive":
        pre, nmas = load_rule("kosovo-pre-2024"), load_rule("kosovo-nmas-2024")
        t = time.perf_counter()
        areas = []
        for i, rule in enumerate((pre, nmas)):
            d = rule.distances_m(evidence)
            union = evidence.geometry.buffer(d).union_all()
            if i == 0:
                out["union_seconds"] = time.perf_counter() - t
            areas.append(float(union.area))
            del union
        out["seconds"] = time.perf_counter() - t
        out["area_from_m2"], out["area_to_m2"] = areas
    else:
        raise SystemExit(f"unknown measurement {kind}")
    out["peak_mb"] = _peak_mb()
    return out


def run(kind: str, n: int) -> dict:
    """Run one measurement in a fresh subprocess."""
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", kind, "--n", str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return {"kind": kind, "n": n, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--naive-max", type=int, default=None, help="skip the naive runs above this size"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write all figures to this JSON file")
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.n)))
        return
    rows = []
    for n in args.sizes:
        ours = run("ours-impact", n)
        geom = run("ours-delineate", n)
        naive = (
            run("naive", n) if args.naive_max is None or n <= args.naive_max else {"skipped": True}
        )
        rows.append({"n": n, "ours": ours, "delineate": geom, "naive": naive})
        _print_row(rows[-1])
    print()
    for a, b in zip(rows, rows[1:], strict=False):
        if "seconds" in a["ours"] and "seconds" in b["ours"]:
            ratio = b["ours"]["seconds"] / a["ours"]["seconds"]
            nlogn = (b["n"] * math.log(b["n"])) / (a["n"] * math.log(a["n"]))
            print(
                f"growth {a['n']:,} -> {b['n']:,}: time x{ratio:.1f} "
                f"(n log n: x{nlogn:.1f}, n: x{b['n'] / a['n']:.0f})"
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)


def _print_row(row):
    n, ours, geom, naive = row["n"], row["ours"], row["delineate"], row["naive"]
    print(f"\n== {n:,} evidence points ==")
    if "error" in ours:
        print(f"  ours impact: failed {ours['error']}")
        return
    print(
        f"  impact table (2 rules), ours : {ours['seconds']:8.2f} s, "
        f"peak {ours['peak_mb']:7.0f} MB "
        f"(input {ours['input_mb']:.0f} MB); areas {ours['area_from_m2']:,.0f} -> "
        f"{ours['area_to_m2']:,.0f} m2"
    )
    if "seconds" in naive:
        print(
            f"  impact table (2 rules), naive: {naive['seconds']:8.2f} s, peak "
            f"{naive['peak_mb']:7.0f} MB; areas {naive['area_from_m2']:,.0f} -> "
            f"{naive['area_to_m2']:,.0f} m2 (planar, 64-gons)"
        )
        print(f"  impact speed-up: x{naive['seconds'] / ours['seconds']:.1f}")
    else:
        print(f"  naive: {'skipped' if naive.get('skipped') else naive.get('error')}")
    if "seconds" in geom:
        print(
            f"  delineation (polygons), ours: {geom['seconds']:8.2f} s, "
            f"peak {geom['peak_mb']:7.0f} MB"
        )
        if "union_seconds" in naive:
            print(
                f"  naive union (one rule)      : {naive['union_seconds']:8.2f} s; "
                f"speed-up x{naive['union_seconds'] / geom['seconds']:.1f}"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
