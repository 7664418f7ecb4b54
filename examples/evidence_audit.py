"""The evidence behind every CHA, on the SYNTHETIC demo layers.

Infers strike footprints from the evidence, audits each active hazard (supported and
unsupported area), scores the chance that clearing it finds nothing, and compares the two
readings of the 2024 fade-out rule. Run: ``cd examples && python evidence_audit.py``.
"""

from __future__ import annotations

from kosovo_cmr.analysis.audit import evidence_audit
from kosovo_cmr.analysis.cleared_nothing import clearance_history, score_hazards
from kosovo_cmr.analysis.readings import readings_impact
from kosovo_cmr.analysis.strikes import compare_strikes, infer_strikes
from kosovo_cmr.demo import read_demo_layer

print("SYNTHETIC DEMO DATA - not real hazards")
hazards = read_demo_layer("hazards")
evidence = read_demo_layer("evidence")
strikes = read_demo_layer("strikes")
releases = read_demo_layer("releases")

inferred = infer_strikes(evidence)
table = compare_strikes(inferred.footprints, strikes)
print(
    f"{len(inferred.footprints)} footprints inferred, {inferred.noise_items} items in none; "
    f"median azimuth difference to the recorded strike {table['azimuth_diff_deg'].median():.1f} deg"
)

active = hazards[hazards["status"] == "active"]
audit = evidence_audit(active, evidence, strikes=strikes, releases=releases, as_of="2024-12-31")
s = audit.summary
print(
    f"{s['unsupported_m2']:,.0f} of {s['area_m2']:,.0f} m2 unsupported "
    f"({s['unsupported_pct']:.1f} %)"
)
worst = audit.hazards.sort_values("unsupported_m2", ascending=False).head(3)
print(worst[["hazard_id", "kind", "area_m2", "unsupported_m2", "flags"]].round(0).to_string())

history = clearance_history(hazards, evidence, releases, strikes=strikes)
scores = score_hazards(audit.hazards, history)
for row in scores["hazards"][:3]:
    print(row["hazard_id"], row["explanation"])
print("validation, leaving years out:", scores["validation"]["pooled"])

readings = readings_impact(evidence)
print(readings[readings["group"] == "total"][["rule", "saved_m2", "saved_pct"]].round(1))
