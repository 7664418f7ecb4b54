"""The evidence-audit sections of the land release report (issue 17).

Per hazard the supported and unsupported area and the chance that clearing it finds
nothing, then the model and its validation by year, laid out as titled tables of
formatted cells as :mod:`kosovo_cmr.report.render_sections` lays out the rest.
"""

from __future__ import annotations

from kosovo_cmr.report.render_cells import fmt as _fmt

__all__ = ["evidence_audit_sections"]


def evidence_audit_sections(audit: dict) -> list[dict]:
    """Lay out the evidence audit: per hazard, the model, its validation by year."""
    s, p = audit["summary"], audit["parameters"]
    chance = any("chance_nothing" in r for r in audit["hazards"])
    rows = [
        [
            r["hazard_id"],
            r["kind"],
            _fmt(r["area_m2"], "m2"),
            _fmt(r["supported_m2"], "m2"),
            _fmt(r["unsupported_m2"], "m2"),
            f"{r['unsupported_pct']:.1f} %",
            _fmt(r["evidence"], "int"),
            _fmt(r["evidence_outside"], "int"),
            r["flags"] or "–",
            f"{100 * r['chance_nothing']:.0f} %" if chance else "–",
            r.get("explanation", "–"),
        ]
        for r in audit["hazards"]
    ]
    hazards = {
        "title": f"Evidence audit of the active hazards (as of {p['as_of']})",
        "headers": [
            "Hazard",
            "Kind",
            "Area (m²)",
            "Supported (m²)",
            "Unsupported (m²)",
            "Unsupported",
            "Evidence",
            "Evidence outside it",
            "Flags",
            "Chance of clearing nothing",
            "Why",
        ],
        "numeric": [False, False, True, True, True, True, True, True, False, True, False],
        "rows": rows,
        "note": (
            f"Supported: within the fade-out ({p['rule']}) of an evidence point, or within a "
            f"strike footprint ({p['footprints']}: recorded and inferred) plus fade-out. "
            f"{s['unsupported_m2']:,.0f} m² of {s['area_m2']:,.0f} m² "
            f"({s['unsupported_pct']:.1f} %) is supported by no evidence: candidates for "
            f"technical survey. {s['hazards_without_evidence']} hazard(s) have no evidence "
            f"({s['chas_without_evidence']} CHAs); {s['evidence_outside']} evidence point(s) "
            f"lie outside every hazard and release; {s['evidence_old']} are older than "
            f"{p['old_after_years']:g} years, {s['evidence_poor_accuracy']} have an accuracy "
            f"worse than {p['poor_accuracy_m']:g} m (thresholds are assumptions)."
        ),
    }
    model = audit.get("model")
    if not model:
        hazards["note"] += " " + audit.get("model_note", "")
        return [hazards]
    return [hazards, _audit_model(model), _audit_validation(audit["validation"])]


def _audit_model(model: dict) -> dict:
    """Lay out the cleared-nothing model's inputs and weights (issue 17)."""
    return {
        "title": "Cleared-nothing model: inputs and weights",
        "headers": ["Input", "Meaning", "Mean", "Scale", "Coefficient"],
        "numeric": [False, False, True, True, True],
        "rows": [
            [
                i["input"],
                i["meaning"],
                f"{i['mean']:.3f}",
                f"{i['scale']:.3f}",
                f"{i['coefficient']:+.3f}",
            ]
            for i in model["inputs"]
        ],
        "note": (
            f"Logistic regression on standardised inputs, fitted on {model['records']} past "
            f"clearances ({model['nothing']} found nothing), years "
            f"{', '.join(map(str, model['years']))}; intercept {model['intercept']:+.3f}. "
            + (model["note"] or "")
        ).strip(),
    }


def _audit_validation(v: dict) -> dict:
    """Lay out the validation of the cleared-nothing model, year by year (issue 17)."""
    val_rows = [
        [
            str(r["year"]),
            _fmt(r["records"], "int"),
            _fmt(r["nothing"], "int"),
            f"{r['expected_nothing']:.1f}",
            f"{r['brier']:.3f}",
            f"{r['brier_base']:.3f}",
            "–" if r["auc"] is None else f"{r['auc']:.2f}",
            "yes" if r["fitted"] else "no",
        ]
        for r in v["years"]
    ]
    pooled = v["pooled"]
    val_rows.append(
        [
            "All years",
            _fmt(pooled["records"], "int"),
            _fmt(pooled["nothing"], "int"),
            f"{pooled['expected_nothing']:.1f}",
            "–" if pooled["brier"] is None else f"{pooled['brier']:.3f}",
            "–" if pooled["brier_base"] is None else f"{pooled['brier_base']:.3f}",
            "–" if pooled["auc"] is None else f"{pooled['auc']:.2f}",
            "",
        ]
    )
    return {
        "title": "Cleared-nothing model: validation, leaving each year out",
        "headers": [
            "Year left out",
            "Clearances",
            "Found nothing",
            "Expected",
            "Brier",
            "Brier, no inputs",
            "AUC",
            "Regression fitted",
        ],
        "numeric": [False, True, True, True, True, True, True, False],
        "rows": val_rows,
        "total_row": True,
        "note": (
            "Each year is scored by the model fitted on the other years. Brier: mean squared "
            "error of the chances (lower is better); 'no inputs' gives every clearance the "
            "training share. A year whose training years hold one outcome only cannot fit a "
            "regression (see the module notes)."
        ),
    }
