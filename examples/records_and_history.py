"""The records a programme keeps: two years of history, verification, Tables 2 and 3, productivity.

Builds the SYNTHETIC demo store with its history (the end-2023 and end-2024 states, a
resubmitted polygon, the 2025 verifications), then:

1. shows the resubmitted polygon's versions (``kcmr history``);
2. compares the 2024 report as of 31 December 2024 and as of 30 June 2025: they differ
   by the later verifications, which the second lists;
3. records a verification with :func:`kosovo_cmr.workflows.records.verify`;
4. prints Tables 2 and 3 and the published check's finding on NPA's share of women;
5. prints productivity by method and operator from the activities;
6. compares the fade-out area of a rule that keeps 50 m around evidence only a witness
   reported with the shipped 2024 rule.

Every feature is SYNTHETIC. Run from anywhere::

    python examples/records_and_history.py
"""

import tempfile
from pathlib import Path

from kosovo_cmr.analysis.fadeout import union_area_m2
from kosovo_cmr.demo import DEMO_STEPS, run_demo
from kosovo_cmr.store.history import feature_history
from kosovo_cmr.workflows.records import verify
from kosovo_cmr.workflows.report import report_from_store

out = Path(tempfile.mkdtemp(prefix="kcmr-records-"))
history_and_layers = DEMO_STEPS[:2]  # the demo's first steps: its history, then its layers
store = run_demo(out, steps=history_and_layers).store
print(f"SYNTHETIC demo store with two years of history: {store.uri}")

# 1. The resubmitted polygon: first surveyed about 123 m west, resubmitted, verified.
versions = feature_history(store, "DEMO-HZ-0023", layer="hazards")
columns = ["valid_from", "area_change_m2", "changed_columns", "source"]
print(versions[columns].to_string(index=False))

# 2. The 2024 report as of two dates.
end_2024 = report_from_store(store.as_of("2024-12-31"), year=2024)
mid_2025 = report_from_store(store.as_of("2025-06-30"), year=2024)
for label, rep in (("as of 2024-12-31", end_2024), ("as of 2025-06-30", mid_2025)):
    t4 = rep["release_by_method"]
    print(
        f"{label}: released {t4['total_m2']:,.0f} m2, verified {t4['total_verified_m2']:,.0f}, "
        f"awaiting verification {t4['total_pending_m2']:,.0f}"
    )
for change in mid_2025["reconciliation"]["later_changes"]:
    print(f"  later: {change['id']} {change['verification']} on {change['verified_on']} "
          f"by {change['verified_by']}")  # fmt: skip

# 3. KMAC verifies one more cancellation (a write: the history keeps the record before).
[done] = verify(store, ["DEMO-RL-2024-008"], by="KMAC QA", on="2025-07-01")
print(f"verified {done.ids} (import {done.import_id})")

# 4. Tables 2 and 3, and what the published check finds in the print of Table 2.
report = report_from_store(store, year=2024, published="mar-2025-kosovo")
for row in report["staff_by_operator"]:
    print(f"  {row['operator']:5} {row['women_staff']:3} women of {row['total_staff']:3} staff "
          f"({row['women_staff_pct']:.2f} %)")  # fmt: skip
internal = report["published_check"]["internal"]
wrong = [r for r in internal if r["id"].startswith("table2") and not r["ok"]]
print("published check, Table 2:", [r["what"] for r in wrong])
print("printing remarks:", report["published_check"]["printing"])
table3 = [(r["operator"], r["teams"], r["personnel"]) for r in report["capacity_by_operator"]]
print("Table 3:", table3)

# 5. Productivity of 2024 by activity, method and operator.
for row in report["productivity"]["by_method"]:
    if row["activity"] == "clearance":
        rate = f"{row['m2_per_team_day']:7.0f} m2 per team-day"
        print(f"  {row['operator']:5} {row['method']:9} {rate} ({row['activities']} activities, "
              f"{row['team_days']:,.0f} team-days)")  # fmt: skip

# 6. A fade-out rule by evidence source: 50 m around what only a witness reported.
rule = out / "observed-only.toml"
rule.write_text(
    'name = "observed-only"\ntitle = "25 m around observed BLU-97/BL755 only (example)"\n'
    'default_m = 50.0\n[ordnance]\n"BLU-97" = 25.0\n"BL755" = 25.0\n'
    "[evidence_source]\nreported = 50.0\nrecords = 50.0\n",
    encoding="utf-8",
)
evidence = store.read("evidence")
print(evidence["evidence_source"].value_counts().to_dict())
for name in ("kosovo-nmas-2024", str(rule)):
    area = union_area_m2(evidence, rule=name)
    print(f"  {Path(name).stem}: fade-out area {area:,.0f} m2")
