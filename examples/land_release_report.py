"""The land release report of 2024 from the synthetic demo layers, in every format.

Loads the demo layers and the real municipal boundaries into a temporary GeoPackage,
computes the report (the Mine Action Review tables 1 and 4-9, the indicators and the
reconciliation ledger), prints the ledger and its causes, checks the figures the Mine
Action Review printed (against each other and against the layers), and writes the report
as Markdown, HTML, JSON, CSV and XLSX into a temporary folder.

Run from anywhere::

    python examples/land_release_report.py
"""

import tempfile
from pathlib import Path

from kosovo_cmr import settings
from kosovo_cmr.analysis.overlay import contamination_by_unit, hazards_open_on, units_for
from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.report.render import FORMATS, write_report
from kosovo_cmr.workflows.report import report_from_store

out = Path(tempfile.mkdtemp(prefix="kcmr-report-"))

# 1. A store holding the SYNTHETIC demo layers and the real 2018 boundaries.
ctx = run_demo(out, boundaries=settings.resolve_boundaries_path(), steps=[load_layers])
store = ctx.store

# 2. Table 1 by municipality: hazards open at the end of 2024 against the boundaries.
municipalities = store.read("boundaries")
units, name = units_for("municipality", municipalities)
open_end = hazards_open_on(store.read("hazards"), "2024-12-31")
table = contamination_by_unit(open_end, units, name_column=name)
table = table[table["total_count"] > 0]
print(f"{len(table)} municipalities hold the {int(table['total_count'].sum())} open hazards")

# 3. The whole report of 2024, checking the figures the Mine Action Review printed.
report = report_from_store(store, year=2024, published="mar-2025-kosovo")
led = report["reconciliation"]
print("SYNTHETIC DATA" if report["synthetic"] else "real data")
print(f"start of 2024          {led['start_of_year_m2']:>12,.0f} m2")
for key, label in (
    ("clearance_m2", "- clearance"),
    ("reduction_ts_m2", "- technical survey"),
    ("cancellation_nts_m2", "- non-technical survey"),
):
    print(f"{label:<22} {led[key]:>12,.0f} m2")
print(f"+ added by survey      {led['added_by_survey_m2']:>12,.0f} m2")
print(f"end of 2024            {led['end_of_year_m2']:>12,.0f} m2")
print(f"unexplained            {led['unexplained_m2']:>12,.0f} m2")
for row in led["summary"]:
    print(f"  {row['cause']:<32} {row['features']:>3} feature(s) {row['effect_m2']:>+14,.0f} m2")
per_sub = report["indicators"]["area_cleared_per_submunition_m2"]["2024"]
print(f"1 submunition per {per_sub:,.0f} m2 cleared in 2024")

pc = report["published_check"]
print(f"{pc['source']['title']}:")
for row in pc["internal"]:
    if not row["ok"]:
        lo, hi = row["expected"]
        print(
            f"  printed {row['printed']:,.0f}, other printed figures allow {lo:,.0f}-{hi:,.0f}: "
            f"{row['id']}"
        )
for row in pc["against_layers"]:
    if not row["ok"]:
        printed = f"{row['printed']} {row['unit']}"
        print(f"  {row['id']}: printed {printed}, layers {row['computed']:,.0f}")

# 4. Every format.
for fmt in FORMATS:
    path = out / f"report-2024.{fmt}"
    write_report(report, path, fmt=fmt)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
