"""Regenerate the report figures shown in docs/guides/reporting.rst from the demo layers.

Run from the repository root (the demo layers are SYNTHETIC; the charts say so)::

    python docs/make_report_figures.py

Writes ``docs/_static/report-*.png`` (the three charts of the HTML report) and
``docs/_static/report-*.csv`` (tables of the Markdown report, which the guide includes).
"""

import csv
import tempfile
from pathlib import Path

from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.report.render import charts, sections
from kosovo_cmr.workflows.report import report_from_store

static = Path(__file__).resolve().parent / "_static"
static.mkdir(exist_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    ctx = run_demo(tmp, steps=[load_layers])
    report = report_from_store(ctx.store, year=2024)
for name, png in charts(report).items():
    path = static / f"report-{name.replace('_', '-')}.png"
    path.write_bytes(png)
    print(f"wrote {path} ({len(png):,} bytes)")

wanted = {
    "Table 1": "table1",
    "Table 4": "table4",
    "Table 7": "table7",
    "Table 8": "table8",
    "Table 9": "table9",
    "Indicators": "indicators",
    "Reconciliation ledger": "ledger",
    "Causes of the difference": "causes",
}
for section in sections(report):
    for prefix, name in wanted.items():
        if section["title"].startswith(prefix):
            path = static / f"report-{name}.csv"
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(section["headers"])
                writer.writerows(section["rows"])
            print(f"wrote {path}")
