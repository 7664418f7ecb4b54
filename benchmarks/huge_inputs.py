"""Huge inputs: field sheets, maps and GPX on 100k- and 1M-vertex hazards and 2M points.

Issue 14 item 8. Runs ``huge_sheets.py`` (``kcmr fieldmap`` on hazards of 100k and 1M
vertices) and then ``huge_maps.py`` (``kcmr map``, ``map --offline`` and ``export
--format gpx`` on a 100k- and a 1M-vertex hazard and on 2M evidence points), each
command in a child process of its own, and prints their wall times and peak memory.
Targets on the project's 2-core machine: a 100k-vertex hazard's ``map`` and ``fieldmap``
each under 30 s and 2 GB; ``map`` of 2M evidence points without failure.

Run: ``python benchmarks/huge_inputs.py`` (about 15 minutes); each part takes its own
options when run alone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    for part in ("huge_sheets.py", "huge_maps.py"):
        print(f"== {part}", flush=True)
        subprocess.run([sys.executable, str(HERE / part)], check=True)


if __name__ == "__main__":
    main()
