"""The benchmark scripts run (on small sizes) and print their tables.

They measure; nothing here times anything. A benchmark that no longer runs is a defect
found here rather than when someone needs its figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize(
    "script, args, expect",
    [
        ("huge_sheets.py", ["--sizes", "400"], "kcmr fieldmap of one hazard"),
        ("strikes.py", ["--scenes", "1", "--density", "100"], "azimuth within 15"),
    ],
)
def test_a_benchmark_runs_and_prints_its_table(script, args, expect):
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert expect in done.stdout
