"""Huge inputs: time and peak memory of the outputs on hazards of 100k and 1M vertices.

Sheet part (issue 14 item 8, issue 19): for each size, a GeoPackage store holding one
hazard with that many vertices (a wavy outline of ~1 km, as a digitised or buffered
polygon would be) is written first, outside the measurement; then
``kcmr --store STORE fieldmap H -o sheet.pdf`` runs in a child process of its own, and
the script prints its wall time, its peak resident memory (``wait4``'s ``ru_maxrss``),
its exit code, the pages and size of the PDF, or the first line of its error. A hazard
over :data:`kosovo_cmr.analysis.sheet_facts.MAX_TURNING_POINTS` vertices is refused on
purpose (a clear error, exit 1): the figure shown is how fast and lean the refusal is.

Targets: a 100k-vertex sheet under 30 s and 2 GB on the project's 2-core machine.

Run: ``python benchmarks/huge_sheets.py [--sizes 100000 1000000]`` (or
``python benchmarks/huge_inputs.py``, which runs this and ``huge_maps.py``).
Timings on a shared machine are noisy; run it more than once.
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
import shapely
from pypdf import PdfReader

from kosovo_cmr.store import open_store


def wavy_hazard(n: int, *, hid: str) -> gpd.GeoDataFrame:
    """One hazard of ``n`` vertices: a ~500 m radius outline with a fine ripple."""
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 500 * (1 + 0.15 * np.sin(9 * a) + 0.002 * np.sin(a * n / 50))
    x0, y0 = 7_505_000, 4_720_000  # EPSG:9141, near Lipjan
    poly = shapely.Polygon(np.c_[x0 + r * np.cos(a), y0 + r * np.sin(a)])
    return gpd.GeoDataFrame(
        {"hazard_id": [hid], "kind": ["CHA"], "status": ["active"], "recorded": ["2024-01-01"],
         "synthetic": [True]},
        geometry=[shapely.MultiPolygon([poly])],
        crs=9141,
    ).to_crs(4326)  # fmt: skip


def run_child(args: list[str]) -> tuple[int, float, float, str]:
    """Run a command; return its exit code, wall seconds, peak RSS (MB) and stderr."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stdout.close()
    proc.stderr.close()
    return os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss / 1024, stderr


def sheet_part(sizes: list[int], folder: Path) -> None:
    """Print time and peak memory of ``kcmr fieldmap`` on one hazard of each size."""
    print("kcmr fieldmap of one hazard (A4, UTM grid, no ground context)")
    print(f"{'vertices':>10} {'exit':>4} {'seconds':>8} {'peak MB':>8} {'pages':>6} "
          f"{'PDF MB':>7}  note")  # fmt: skip
    for n in sizes:
        store_path = folder / f"store-{n}.gpkg"
        store_path.unlink(missing_ok=True)
        store = open_store(store_path, create=True)
        store.write(wavy_hazard(n, hid=f"BENCH-{n}"), "hazards", source="benchmark")
        pdf = folder / f"sheet-{n}.pdf"
        pdf.unlink(missing_ok=True)
        code, seconds, peak, stderr = run_child(
            [sys.executable, "-m", "kosovo_cmr", "-q", "--store", str(store_path), "fieldmap",
             f"BENCH-{n}", "-o", str(pdf), "--date", "2026-06-01"]
        )  # fmt: skip
        if code == 0:
            pages = len(PdfReader(pdf).pages)
            size = pdf.stat().st_size / 1e6
            print(f"{n:>10,} {code:>4} {seconds:>8.1f} {peak:>8.0f} {pages:>6} {size:>7.1f}")
        else:
            note = stderr.strip().splitlines()[-1] if stderr.strip() else ""
            print(f"{n:>10,} {code:>4} {seconds:>8.1f} {peak:>8.0f} {'-':>6} {'-':>7}  {note}")


def main() -> None:
    """Parse the options and time ``kcmr fieldmap`` on each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kcmr-huge-") as tmp:
        sheet_part(args.sizes, Path(tmp))


if __name__ == "__main__":
    main()
