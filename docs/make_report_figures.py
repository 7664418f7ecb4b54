"""Regenerate the report figures shown in docs/guides/reporting.rst from the demo layers.

Run from the repository root (the demo layers are SYNTHETIC; the charts say so)::

    python docs/make_report_figures.py

Writes ``docs/_static/report-*.png`` (the three charts of the HTML report) and
``docs/_static/report-*.csv`` (tables of the Markdown report, which the guide includes).
``tests/test_docs_figures.py`` regenerates the CSVs with :func:`main` and compares them
with the committed files, so that a change to the report cannot leave the guide behind.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.report.render import charts, sections
from kosovo_cmr.workflows.report import report_from_store

#: Where the guide finds its figures.
STATIC = Path(__file__).resolve().parent / "_static"

#: Sections of the report written as CSV: title prefix -> ``report-<name>.csv``.
TABLES = {
    "Table 1": "table1",
    "Table 4": "table4",
    "Table 7": "table7",
    "Table 8": "table8",
    "Table 9": "table9",
    "Indicators": "indicators",
    "Reconciliation ledger": "ledger",
    "Causes of the difference": "causes",
}


def write_figures(report: dict, out_dir: str | os.PathLike, *, pngs: bool = True) -> list[Path]:
    """Write the report's charts (PNG) and the guide's tables (CSV) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if pngs:
        for name, png in charts(report).items():
            path = out_dir / f"report-{name.replace('_', '-')}.png"
            path.write_bytes(png)
            written.append(path)
    done = set()
    for section in sections(report):
        for prefix, name in TABLES.items():
            # the first section of a prefix: "Reconciliation ledger 2024", not its
            # "...: releases by verification" companion (issue 15)
            if section["title"].startswith(prefix) and name not in done:
                done.add(name)
                path = out_dir / f"report-{name}.csv"
                with path.open("w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh, lineterminator="\n")
                    writer.writerow(section["headers"])
                    writer.writerows(section["rows"])
                written.append(path)
    return written


def main(out_dir: str | os.PathLike = STATIC, *, store=None, pngs: bool = True) -> list[Path]:
    """Compute the 2024 report of the demo layers and write its figures into ``out_dir``.

    ``store`` is a store already holding the demo layers (default: a fresh one in a
    temporary folder, as ``kcmr demo`` loads it).
    """
    if store is not None:
        return write_figures(report_from_store(store, year=2024), out_dir, pngs=pngs)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = run_demo(tmp, steps=[load_layers])
        report = report_from_store(ctx.store, year=2024)
    return write_figures(report, out_dir, pngs=pngs)


if __name__ == "__main__":
    for path in main():
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
