"""Lay out the programme's records in the report: Tables 2 and 3, verification, productivity.

The sections of issue 15, drawn from the report dict (never recomputed), for the
Markdown and HTML pages (:func:`staff_sections`, :func:`verification_sections`,
:func:`productivity_sections`, each a list of sections as
:func:`kosovo_cmr.report.render_sections.sections` makes them) and the rows of the CSV
and XLSX (:func:`record_rows`, :func:`record_sheets`).
"""

from __future__ import annotations

from kosovo_cmr._text import round_half_up
from kosovo_cmr.report.render_cells import fmt

__all__ = [
    "staff_sections",
    "verification_sections",
    "productivity_sections",
    "record_rows",
    "record_sheets",
]

_METHODS = {
    "clearance": "Clearance",
    "reduction_ts": "Technical survey",
    "cancellation_nts": "Non-technical survey",
}
#: The release tables split by verification: key -> (row keys, the area split); as
#: kosovo_cmr.report.verification.SPLIT_KEYS computes them.
_SPLIT = {
    "contamination_by_region": (("region",), "total_area_m2"),
    "nts_by_municipality": (("district", "operator"), "area_m2"),
    "ts_by_municipality": (("district", "operator"), "area_m2"),
    "clearance_by_district": (("district", "operator"), "area_m2"),
    "cleared_without_cmr": (("operator",), "area_m2"),
    "clearance_by_year": (("year",), "area_m2"),
}
_TABLE_NAMES = {
    "contamination_by_region": "Table 1 (hazards open at the end of the year)",
    "nts_by_municipality": "Table 5",
    "ts_by_municipality": "Table 6",
    "clearance_by_district": "Table 7",
    "cleared_without_cmr": "Table 8",
    "clearance_by_year": "Table 9",
}


def _pct(count, share) -> str:
    if count is None:
        return "–"
    return f"{int(count):,}" if share is None else f"{int(count):,} ({round_half_up(share)}%)"


def staff_sections(report: dict) -> list[dict]:
    """Return Table 1's unclassified hazards (if any), Tables 2 (staff) and 3 (capacity)."""
    year = report["year"]
    staff, cap = report.get("staff_by_operator", []), report.get("capacity_by_operator", [])
    out = _unclassified(report)
    if staff or "staff_by_operator" in report:
        rows = [_staff_row(r["operator"], r) for r in staff]
        total = (report.get("totals") or {}).get("staff_by_operator")
        if staff and total:
            rows.append(_staff_row("Totals", total))
        out.append(
            {
                "title": f"Table 2: Gender composition of operators in {year}",
                "headers": [
                    "Operator",
                    "Total staff",
                    "Women staff",
                    "Total managerial or supervisory staff",
                    "Women managerial or supervisory staff",
                    "Total operational staff",
                    "Women operational staff",
                ],  # fmt: skip
                "numeric": [False] + [True] * 6,
                "rows": rows,
                "total_row": bool(staff and total),
                "note": "Shares of women in percent, rounded half up; staff from layers/staff.csv."
                if staff
                else f"No staff figures for {year}.",
            }
        )
    if cap or "capacity_by_operator" in report:
        rows = [[r["operator"], fmt(r["teams"], "int"), fmt(r["personnel"], "int")] for r in cap]
        total = (report.get("totals") or {}).get("capacity_by_operator")
        if cap and total:
            rows.append(["Totals", fmt(total["teams"], "int"), fmt(total["personnel"], "int")])
        out.append(
            {
                "title": f"Table 3: Operational clearance capacities deployed in {year}",
                "headers": ["Operator", "Manual CMR clearance teams", "CMR clearance personnel"],
                "numeric": [False, True, True],
                "rows": rows,
                "total_row": bool(cap and total),
                "note": "; ".join(f"{r['operator']}: {r['note']}" for r in cap if r.get("note"))
                or f"No capacity figures for {year}.",
            }
        )
    return out


def _unclassified(report: dict) -> list[dict]:
    rows = [r for r in report.get("contamination_by_region", []) if r.get("unclassified_count")]
    if not rows:
        return []
    return [
        {
            "title": f"Table 1 (continued): unclassified hazards at end {report['year']}",
            "headers": ["Region", "Unclassified areas", "Area (m²)"],
            "numeric": [False, True, True],
            "rows": [
                [
                    str(r["region"]),
                    fmt(r["unclassified_count"], "int"),
                    fmt(r["unclassified_area_m2"], "m2"),
                ]
                for r in rows
            ],  # fmt: skip
            "note": "Hazards recorded as neither CHA nor SHA (before HALO's 2022 survey there "
            "was no classification); Table 1's totals include them.",
        }
    ]


def _staff_row(label: str, r: dict) -> list[str]:
    return [
        str(label),
        fmt(r["total_staff"], "int"),
        _pct(r["women_staff"], r["women_staff_pct"]),
        fmt(r["managerial_staff"], "int"),
        _pct(r["women_managerial"], r["women_managerial_pct"]),
        fmt(r["operational_staff"], "int"),
        _pct(r["women_operational"], r["women_operational_pct"]),
    ]


def verification_sections(report: dict) -> list[dict]:
    """Return the ledger by verification, each table's verified share, later changes."""
    if "verification" not in report:
        return []
    return [
        _ledger_split(report),
        _tables_split(report),
        _later(report),
        _pending(report),
    ]


def _ledger_split(report: dict) -> dict:
    led = report["reconciliation"]
    split = led["verification"]
    rows = []
    for m, label in _METHODS.items():
        v = split["methods"][m]
        rows.append(
            [
                label,
                fmt(v["total_m2"], "m2"),
                fmt(v["verified_m2"], "m2"),
                fmt(v["pending_m2"], "m2"),
            ]
        )
    rejected = report["verification"]["releases"]["rejected"]
    note = (
        f"Of the unexplained difference of {fmt(led['unexplained_m2'], 'm2')} m², "
        f"{fmt(split['causes_pending_m2'], 'm2')} m² ({split['causes_pending']} cause(s)) rest on "
        "releases awaiting verification by the national authority."
    )
    if rejected["records"]:
        note += (
            f" {rejected['records']} rejected release(s), {fmt(rejected['area_m2'], 'm2')} m², "
            "are not counted."
        )
    if report.get("verified_only"):
        note += " Only verified releases are counted in this report (--verified-only)."
    return {
        "title": f"Reconciliation ledger {led['year']}: releases by verification",
        "headers": ["Release", "Total (m²)", "Verified (m²)", "Awaiting verification (m²)"],
        "numeric": [False, True, True, True],
        "rows": rows,
        "note": note,
    }


def _tables_split(report: dict) -> dict:
    rows = []
    for key, (keys, field) in _SPLIT.items():
        v_name = "verified_area_m2" if key == "contamination_by_region" else "verified_m2"
        p_name = v_name.replace("verified", "pending")
        for r in report.get(key, []):
            label = ", ".join(str(r[k]) for k in keys)
            rows.append(
                [_TABLE_NAMES[key], label, fmt(r[field], "m2"), fmt(r.get(v_name), "m2"),
                 fmt(r.get(p_name), "m2")]
            )  # fmt: skip
    rbm = report["release_by_method"]
    for m, label in _METHODS.items():
        rows.append(
            ["Table 4", label, fmt(rbm[f"{m}_m2"], "m2"), fmt(rbm.get(f"{m}_verified_m2"), "m2"),
             fmt(rbm.get(f"{m}_pending_m2"), "m2")]
        )  # fmt: skip
    return {
        "title": f"Verified and awaiting verification, table by table ({report['year']})",
        "headers": ["Table", "Row", "Total (m²)", "Verified (m²)", "Awaiting verification (m²)"],
        "numeric": [False, False, True, True, True],
        "rows": rows,
        "note": "Rejected records are in no table. The JSON, CSV and XLSX give the same "
        "split in every row (verified_m2, pending_m2).",
    }


def _later(report: dict) -> dict:
    later = report["reconciliation"].get("later_changes", [])
    asof = report.get("as_of")
    when = f"as of the end of {asof}" if asof else "to date"
    return {
        "title": f"Records of {report['year']} changed after the year ended ({when})",
        "headers": [
            "Layer",
            "Record",
            "Change",
            "What changed",
            "Area change (m²)",
            "Verification",
            "Verified on",
            "By",
            "Recorded",
            "Source",
        ],  # fmt: skip
        "numeric": [False, False, False, False, True, False, False, False, False, False],
        "rows": [
            [
                c["layer"],
                str(c["id"]),
                c["change"],
                c["changed_columns"] or "",
                "" if c["area_delta_m2"] is None else f"{round(c['area_delta_m2']):+,}",
                str(c["verification"] or "–"),
                str(c["verified_on"] or "–")[:10],
                str(c["verified_by"] or "–"),
                str(c["when"] or "")[:10],
                str(c["source"] or ""),
            ]
            for c in later
        ],  # fmt: skip
        "note": _later_note(report, when, bool(later)),
    }


def _later_note(report: dict, when: str, any_change: bool) -> str:
    begins = report["reconciliation"].get("history_begins")
    if begins and begins[:10] > f"{report['year']}-12-31":
        return (
            f"The store's history begins on {begins[:10]}, after {report['year']} ended: "
            "its records cannot tell later changes from the loading of the data."
        )
    if any_change:
        return (
            "From the store's history: later verifications, resubmitted polygons and late "
            "records. A report of the same year as of another date differs by these."
        )
    return f"No record of {report['year']} changed after the year ended ({when})."


def _pending(report: dict) -> dict:
    ver = report["verification"]
    rows = [
        [name, r["layer"], str(r["id"]), str(r["what"]), str(r["operator"] or "–"),
         fmt(r["area_m2"], "m2"), str(r["date"] or "–"), str(r["verified_on"] or "–"),
         str(r["verified_by"] or "–")]
        for name in ("pending", "rejected")
        for r in ver[name]
    ]  # fmt: skip
    counts = ", ".join(
        f"{layer}: {v['verified']['records']} verified, {v['pending']['records']} awaiting "
        f"verification, {v['rejected']['records']} rejected"
        for layer, v in (("releases", ver["releases"]), ("hazards", ver["hazards"]))
    )
    return {
        "title": f"Records awaiting verification or rejected ({report['year']})",
        "headers": [
            "State",
            "Layer",
            "Record",
            "Method or kind",
            "Operator",
            "Area (m²)",
            "Dated",
            "Decided on",
            "By",
        ],  # fmt: skip
        "numeric": [False, False, False, False, False, True, False, False, False],
        "rows": rows,
        "note": f"{counts}. Record a verification with kcmr verify ID.",
    }


def productivity_sections(report: dict) -> list[dict]:
    """Productivity by method and operator, and the land release indicators."""
    prod = report.get("productivity")
    if not prod:
        return []
    rows = [
        [r["activity"], str(r["method"]), r["operator"], fmt(r["activities"], "int"),
         fmt(r["team_days"], "m2"), fmt(r["area_m2"], "m2"), fmt(r["m2_per_team_day"], "m2"),
         fmt(r["left_out"], "int")]
        for r in prod["by_method"]
    ]  # fmt: skip
    ind = prod["indicators"]
    lines = [
        [f"Share released by {_METHODS[m].lower()}", fmt(v["share"], "share")]
        for m, v in ind["methods"].items()
    ]
    lines.append(
        ["Area cleared per device destroyed (m²)", fmt(ind["cleared_m2_per_device"], "m2")]
    )
    for item, n in ind["devices"].items():
        lines.append([f"Devices recorded: {item}", fmt(n, "int")])
    checks = ind["device_check"]
    lines.append(
        ["Release records whose devices do not match their counts", fmt(len(checks), "int")]
    )
    return [
        {
            "title": f"Productivity by activity, method and operator ({report['year']})",
            "headers": [
                "Activity",
                "Method",
                "Operator",
                "Activities",
                "Team-days",
                "Area (m²)",
                "m² per team-day",
                "Left out",
            ],  # fmt: skip
            "numeric": [False, False, False, True, True, True, True, True],
            "rows": rows,
            "note": "Completed activities that ended in the year; area as the operator "
            "reported it, else the activity's share (by team-days) of the release it "
            "produced. Left out: no team-days or no area."
            if rows
            else "No activities recorded for the year.",
        },
        {
            "title": f"Land release indicators ({report['year']})",
            "headers": ["Indicator", "Value"],
            "numeric": [False, True],
            "rows": lines,
            "note": "; ".join(
                f"{c['release_id']}: {c['devices']} {c['item']} device(s) for {c['recorded']} "
                "recorded"
                for c in checks[:10]
            ),
        },
    ]


def record_rows(report: dict):
    """Yield the (table, row, field, value) rows of issue 15's sections, for the CSV."""
    for key in ("staff_by_operator", "capacity_by_operator"):
        for i, row in enumerate(report.get(key, [])):
            for field, value in row.items():
                yield key, i, field, value
    ver = report.get("verification") or {}
    for name in ("pending", "rejected"):
        for i, row in enumerate(ver.get(name, [])):
            for field, value in row.items():
                yield f"verification_{name}", i, field, value
    led = report.get("reconciliation") or {}
    for m, v in (led.get("verification") or {}).get("methods", {}).items():
        for field, value in v.items():
            yield "reconciliation_verification", 0, f"{m}_{field}", value
    for i, row in enumerate(led.get("later_changes", [])):
        for field, value in row.items():
            yield "later_changes", i, field, value
    for i, row in enumerate((report.get("productivity") or {}).get("by_method", [])):
        for field, value in row.items():
            yield "productivity", i, field, value


def record_sheets(report: dict) -> dict:
    """Return issue 15's XLSX sheets: name -> list of row dicts (empty ones left out)."""
    ver = report.get("verification") or {}
    led = report.get("reconciliation") or {}
    sheets = {
        "table2_staff": report.get("staff_by_operator", []),
        "table3_capacity": report.get("capacity_by_operator", []),
        "pending_rejected": [
            {"state": name, **r} for name in ("pending", "rejected") for r in ver.get(name, [])
        ],
        "later_changes": led.get("later_changes", []),
        "productivity": (report.get("productivity") or {}).get("by_method", []),
    }
    return {name: rows for name, rows in sheets.items() if rows}
