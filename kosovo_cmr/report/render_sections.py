"""Lay the land release report out as titled tables of formatted cells.

:func:`sections` turns the report dict of :func:`kosovo_cmr.report.land_release_report`
into what a reader sees: each table with its title, headers, rows of formatted cells
(areas rounded to the m2, shares in percent), totals row and note. The Markdown and HTML
renderers (:mod:`kosovo_cmr.report.render`) draw these sections; the banner and the
labels here are shared by every format.
"""

from __future__ import annotations

from kosovo_cmr.report.render_audit import evidence_audit_sections
from kosovo_cmr.report.render_cells import fmt as _fmt
from kosovo_cmr.report.render_planning import (
    FORECAST_COLUMNS,
    RISK_COLUMNS,
    forecast_section,
    scenario_words_section,
    tolerable_risk_section,
)
from kosovo_cmr.report.render_records import (  # issue 15
    productivity_sections,
    staff_sections,
    verification_sections,
)

__all__ = ["BANNER", "METHOD_LABELS", "TABLES", "FORECAST_COLUMNS", "RISK_COLUMNS", "sections"]

#: The banner of a report computed from synthetic layers (Markdown, HTML, XLSX).
BANNER = (
    "SYNTHETIC DATA: this report is computed from generated demo layers, not real hazards. "
    "Never use it for planning or in the field."
)

#: How the report names the release methods.
METHOD_LABELS = {
    "clearance": "Clearance",
    "reduction_ts": "Technical survey",
    "cancellation_nts": "Non-technical survey",
}

#: Tables of the report: JSON key, title, columns as (field, header, kind).
TABLES = (
    (
        "contamination_by_region",
        "Table 1: Cluster munition-contaminated area at end {year}",
        (
            ("region", "Region", "text"),
            ("cha_count", "CHAs", "int"),
            ("cha_area_m2", "Area (m²)", "m2"),
            ("sha_count", "SHAs", "int"),
            ("sha_area_m2", "Area (m²)", "m2"),
            ("total_count", "Total areas", "int"),
            ("total_area_m2", "Total area (m²)", "m2"),
        ),
    ),
    (
        "nts_by_municipality",
        "Table 5: Cancellation through NTS in {year}",
        (
            ("district", "District", "text"),
            ("operator", "Operator", "text"),
            ("area_m2", "Area cancelled (m²)", "m2"),
        ),
    ),
    (
        "ts_by_municipality",
        "Table 6: Reduction through TS in {year}",
        (
            ("district", "District", "text"),
            ("operator", "Operator", "text"),
            ("area_m2", "Area reduced (m²)", "m2"),
        ),
    ),
    (
        "clearance_by_district",
        "Table 7: CMR clearance in {year}",
        (
            ("district", "District", "text"),
            ("operator", "Operator", "text"),
            ("areas_cleared", "Areas cleared", "int"),
            ("area_m2", "Area cleared (m²)", "m2"),
            ("submunitions", "Submunitions destroyed", "int"),
            ("ap_mines", "AP mines destroyed", "int"),
            ("other_uxo", "Other UXO destroyed", "int"),
        ),
    ),
    (
        "cleared_without_cmr",
        "Table 8: Area cleared in {year} in which no CMR were found",
        (
            ("operator", "Operator", "text"),
            ("area_m2", "Area cleared (m²)", "m2"),
            ("comment", "Comments", "text"),
        ),
    ),
    (
        "clearance_by_year",
        "Table 9: Five-year summary of CMR clearance",
        (
            ("year", "Year", "year"),
            ("area_m2", "Area cleared (m²)", "m2"),
            ("submunitions", "Submunitions destroyed", "int"),
        ),
    ),
)


# --- formatting ---------------------------------------------------------------------------


def sections(report: dict) -> list[dict]:
    """Lay the report out as titled tables of formatted cells (what md and html show).

    Parameters
    ----------
    report : dict
        From :func:`kosovo_cmr.report.land_release_report`.

    Returns
    -------
    list of dict
        Each with ``title``, ``headers``, ``numeric`` (per column), ``rows`` (lists of
        formatted strings; areas rounded to the m2), ``total_row`` (whether the last
        row holds the totals; may be absent) and ``note``.
    """
    year = report["year"]
    out = []
    for key, title, cols in TABLES[:1]:
        out.append(_table(report, key, title.format(year=year), cols))
    out.extend(staff_sections(report))  # issue 15: Tables 2 and 3
    out.append(_table4(report))
    for key, title, cols in TABLES[1:]:
        out.append(_table(report, key, title.format(year=year), cols))
    out.append(_indicators(report))
    out.append(_operators(report))
    out.extend(productivity_sections(report))  # issue 15
    out.extend(_ledger(report))
    out.extend(verification_sections(report))  # issue 15
    out.append(_labels(report))
    if report.get("forecast"):
        out.append(forecast_section(report["forecast"]))
    if report.get("forecast"):  # issue 18: what each scenario assumes, the tolerable risk
        out.append(scenario_words_section(report["forecast"]))
    if (report.get("forecast") or {}).get("tolerable_risk"):
        out.append(tolerable_risk_section(report["forecast"]["tolerable_risk"]))
    if report.get("published_check"):
        out.extend(_published(report["published_check"]))
    if report.get("evidence_audit"):  # issue 17
        out.extend(evidence_audit_sections(report["evidence_audit"]))
    return out


def _base_fmt(value, unit: str) -> str:
    """Format a value in base units (m2 or count) for a published-figures row."""
    if value is None:
        return "–"
    return f"{value:,.0f}" if unit != "m2_per_item" else f"{value:,.1f}"


def _published(pc: dict) -> list[dict]:
    """Lay out the published-figures check: the publication's own sums, then the layers."""
    title = pc["source"]["title"] or pc["source"]["file"]
    bad = [r for r in pc["internal"] if not r["ok"]]
    internal = {
        "title": "Published figures: the publication against itself",
        "headers": ["Check", "Printed", "Other printed figures allow", "Off by"],
        "numeric": [False, True, True, True],
        "rows": [
            [
                f"{r['id']} ({r['what']})",
                _base_fmt(r["printed"], ""),
                " to ".join(_base_fmt(v, "") for v in r["expected"]),
                _base_fmt(r["gap"], ""),
            ]
            for r in bad
        ],
        "note": (
            f"{title}: {len(pc['internal'])} checks of printed totals and relations between "
            f"printed figures (each taken with its rounding), {len(bad)} failed. Figures in "
            "m2 or counts."
        ),
    }
    wrong = [r for r in pc["against_layers"] if not r["ok"]]
    layers = {
        "title": "Published figures against the layers",
        "headers": ["Figure", "Where", "Printed", "Computed", "Off by"],
        "numeric": [False, False, True, True, True],
        "rows": [
            [
                r["id"],
                r["where"],
                "–" if r["printed"] is None else f"{r['printed']:,} {r['unit']}".strip(),
                _base_fmt(r["computed"], r["unit"]),
                _base_fmt(r["gap"], r["unit"]),
            ]
            for r in wrong
        ],
        "note": pc.get("note")
        or (
            f"{len(pc['against_layers'])} printed figures compared with the layers, "
            f"{len(wrong)} differ beyond the printed rounding (computed values in m2 or "
            "counts)."
        ),
    }
    return [internal, layers]


def _table(report, key, title, cols) -> dict:
    rows = [[_fmt(r.get(f), k) for f, _, k in cols] for r in report[key]]
    totals = report.get("totals", {}).get(key)
    if totals is not None:
        total_row = []
        for i, (f, _, k) in enumerate(cols):
            if i == 0:
                total_row.append("Total" if key == "clearance_by_year" else "Totals")
            elif totals and f in totals and k in ("m2", "int"):
                total_row.append(_fmt(totals[f], k))
            else:
                total_row.append("")
        rows.append(total_row)
    return {
        "title": title,
        "headers": [h for _, h, _ in cols],
        "numeric": [k in ("m2", "int", "km2") for _, _, k in cols],
        "rows": rows,
        "total_row": totals is not None,
        "note": "" if report[key] else "No records.",
    }


def _table4(report) -> dict:
    cur = report["release_by_method"]
    prev = cur.get("previous_year") or {}
    rows = [
        [METHOD_LABELS[m], _fmt(cur[f"{m}_m2"], "m2"), _fmt(prev.get(f"{m}_m2"), "m2")]
        for m in ("clearance", "reduction_ts", "cancellation_nts")
    ]
    rows.append(["Total released", _fmt(cur["total_m2"], "m2"), _fmt(prev.get("total_m2"), "m2")])
    rows.append(
        [
            "Submunitions destroyed",
            _fmt(cur["submunitions"], "int"),
            _fmt(prev.get("submunitions"), "int"),
        ]
    )
    return {
        "title": f"Table 4: Land release outputs in {cur['year']}",
        "headers": [
            "Release of cluster munition-contaminated area",
            f"{cur['year']} (m²)",
            f"{prev.get('year', cur['year'] - 1)} (m²)",
        ],
        "numeric": [False, True, True],
        "rows": rows,
        "note": "Submunitions destroyed during clearance, survey and spot tasks.",
    }


def _indicators(report) -> dict:
    ind = report["indicators"]
    rows = []
    for y, v in ind["area_cleared_per_submunition_m2"].items():
        rows.append(
            [
                f"Area cleared per submunition destroyed, {y}",
                "–" if v is None else f"1 per {round(v):,} m²",
            ]
        )
    rows.append(
        ["Share of cleared area with no CMR found", _fmt(ind["share_cleared_without_cmr"], "share")]
    )
    return {
        "title": "Indicators",
        "headers": ["Indicator", "Value"],
        "numeric": [False, True],
        "rows": rows,
        "note": "",
    }


def _operators(report) -> dict:
    rows = []
    for r in report["indicators"]["release_by_operator"]:
        rows.append(
            [
                r["operator"],
                _fmt(r["clearance_m2"], "m2"),
                _fmt(r["reduction_ts_m2"], "m2"),
                _fmt(r["cancellation_nts_m2"], "m2"),
                _fmt(r["total_m2"], "m2"),
                _fmt(r["teams"], "int"),
                _fmt(r["personnel"], "int"),
                _fmt(r["clearance_m2_per_team"], "m2"),
                _fmt(r["release_m2_per_team"], "m2"),
            ]
        )
    return {
        "title": f"Release per operator in {report['year']}",
        "headers": [
            "Operator",
            "Clearance (m²)",
            "TS (m²)",
            "NTS (m²)",
            "Total (m²)",
            "Teams",
            "Personnel",
            "Clearance per team (m²)",
            "Release per team (m²)",
        ],
        "numeric": [False] + [True] * 8,
        "rows": rows,
        "note": "Teams and personnel from the capacity table (layers/capacity.csv); "
        "– where it has no row for the operator and year.",
    }


def _ledger(report) -> list[dict]:
    led = report["reconciliation"]
    y = led["year"]
    lines = [
        (f"Contamination at the start of {y}", led["start_of_year_m2"]),
        ("minus clearance", -led["clearance_m2"]),
        ("minus technical survey (reduction)", -led["reduction_ts_m2"]),
        ("minus non-technical survey (cancellation)", -led["cancellation_nts_m2"]),
        ("plus areas added by survey", led["added_by_survey_m2"]),
        (f"Expected contamination at the end of {y}", led["expected_end_m2"]),
        (f"Contamination at the end of {y} (layers)", led["end_of_year_m2"]),
        ("Unexplained difference (end - expected)", led["unexplained_m2"]),
        ("explained by the causes below", led["explained_m2"]),
        ("left unexplained", led["residual_m2"]),
    ]
    ledger = {
        "title": f"Reconciliation ledger {y}",
        "headers": ["", "m²"],
        "numeric": [False, True],
        "rows": [[name, f"{round(v):,}"] for name, v in lines],
        "note": "Areas at the start and end are the hazards open on those days, each with "
        "the geometry it had then (the release cuts made later added back).",
    }
    summary = {
        "title": "Causes of the difference",
        "headers": ["Cause", "Features", "Effect (m²)", "Meaning"],
        "numeric": [False, True, True, False],
        "rows": [
            [s["cause"], str(s["features"]), f"{round(s['effect_m2']):+,}", s["meaning"]]
            for s in led["summary"]
        ],
        "note": "" if led["summary"] else "Nothing to explain.",
    }
    causes = {
        "title": "Causes, feature by feature",
        "headers": ["Cause", "Feature", "Effect (m²)", "Detail"],
        "numeric": [False, False, True, False],
        "rows": [
            [c["cause"], str(c["id"]), f"{round(c['effect_m2']):+,}", c["detail"]]
            for c in led["causes"]
        ],
        "note": "",
    }
    return [ledger, summary, causes]


def _labels(report) -> dict:
    checked = report.get("label_check", [])
    bad = [r for r in checked if r["matches"] is False]
    unknown = [r for r in checked if r["matches"] is None]
    note = (
        f"{len(checked) - len(bad) - len(unknown)} of {len(checked)} district labels match "
        f"where their polygon lies; {len(unknown)} cannot be placed (empty geometry or "
        "outside the boundaries)."
    )
    return {
        "title": "District labels against location",
        "headers": ["Release", "Method", "Operator", "Label", "Lies in", "Region", "Matches"],
        "numeric": [False] * 7,
        "rows": [
            [
                r["release_id"],
                r["method"],
                r["operator"],
                str(r["district"]),
                str(r["municipality"] or "–"),
                str(r["region"] or "–"),
                {True: "yes", False: "NO", None: "–"}[r["matches"]],
            ]
            for r in bad + unknown
        ],
        "note": note,
    }
