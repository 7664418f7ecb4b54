"""Render the land release report as data for spreadsheets: a tidy CSV, an XLSX workbook.

* :func:`~kosovo_cmr.report.render.to_csv` — every table in one tidy file, one value
  per line: ``table``, ``row``, ``field``, ``value``;
* :func:`~kosovo_cmr.report.render.to_xlsx` — one sheet per table (openpyxl), with an
  ``about`` sheet that carries the SYNTHETIC note when the report is on synthetic data.

Both take the dict of :func:`kosovo_cmr.report.land_release_report` and write its values
as they are (no rounding); :mod:`kosovo_cmr.report.render` exports them. Text that came
from the layers (operator, district and municipality names, ids) may start with ``=``,
``+``, ``-`` or ``@``: every text cell and CSV value goes through
:func:`kosovo_cmr._escape.spreadsheet_text` (the OWASP rule: a leading single quote), so
that a spreadsheet shows it as text and never runs it as a formula.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from kosovo_cmr._escape import spreadsheet_frame, spreadsheet_text
from kosovo_cmr._files import atomic_output
from kosovo_cmr.report.render_records import record_rows, record_sheets
from kosovo_cmr.report.render_sections import BANNER

__all__ = ["to_csv", "to_xlsx"]


def _long_rows(report: dict):
    """Yield (table, row, field, value) for every value of the report."""
    for key in (
        "contamination_by_region",
        "nts_by_municipality",
        "ts_by_municipality",
        "clearance_by_district",
        "cleared_without_cmr",
        "clearance_by_year",
        "label_check",
    ):
        for i, row in enumerate(report[key]):
            for field, value in row.items():
                yield key, i, field, value
    for key, totals in report["totals"].items():
        for field, value in totals.items():
            yield f"{key}_totals", 0, field, value
    rbm = report["release_by_method"]
    for which, row in (("year", rbm), ("previous_year", rbm.get("previous_year") or {})):
        for field, value in row.items():
            if field != "previous_year":
                yield "release_by_method", 0 if which == "year" else 1, field, value
    ind = report["indicators"]
    for y, v in ind["area_cleared_per_submunition_m2"].items():
        yield "indicators", 0, f"area_cleared_per_submunition_m2_{y}", v
    yield "indicators", 0, "share_cleared_without_cmr", ind["share_cleared_without_cmr"]
    for i, row in enumerate(ind["release_by_operator"]):
        for field, value in row.items():
            yield "release_by_operator", i, field, value
    led = report["reconciliation"]
    for field, value in led.items():
        if field not in ("causes", "summary"):
            yield "reconciliation", 0, field, value
    for i, row in enumerate(led["causes"]):
        for field, value in row.items():
            yield "reconciliation_causes", i, field, value
    pc = report.get("published_check") or {}
    for part in ("internal", "against_layers"):
        for i, row in enumerate(pc.get(part, [])):
            for field, value in row.items():
                yield f"published_{part}", i, field, value
    for i, row in enumerate((report.get("forecast") or {}).get("scenarios", [])):
        for field, value in row.items():
            yield "forecast_scenarios", i, field, value
    yield from _planning_and_audit_rows(report)
    yield from record_rows(report)  # issue 15


def _planning_and_audit_rows(report: dict):
    """Yield the tolerable risk by municipality (issue 18) and the evidence audit (17)."""
    risk = (report.get("forecast") or {}).get("tolerable_risk") or {}
    for i, row in enumerate(risk.get("rows", [])):
        for field, value in row.items():
            yield "tolerable_risk", i, field, value
    audit = report.get("evidence_audit") or {}
    for i, row in enumerate(audit.get("hazards", [])):
        for field, value in row.items():
            yield "evidence_audit", i, field, value


def to_csv(report: dict) -> str:
    """Render every table of the report as one tidy CSV: table, row, field, value.

    The first lines give the year and the ``synthetic`` flag (table ``report``). Text
    values are spreadsheet-safe (:func:`kosovo_cmr._escape.spreadsheet_text`).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["table", "row", "field", "value"])
    writer.writerow(["report", 0, "year", report["year"]])
    writer.writerow(["report", 0, "synthetic", report["synthetic"]])
    for table, row, field, value in _long_rows(report):
        value = "" if value is None else spreadsheet_text(value)
        writer.writerow([table, row, spreadsheet_text(field), value])
    return buf.getvalue()


def to_xlsx(report: dict, path: str | os.PathLike) -> Path:
    """Write the report as an Excel workbook, one sheet per table.

    Text cells are spreadsheet-safe (:func:`kosovo_cmr._escape.spreadsheet_frame`): no
    cell is a formula. The workbook is written to a temporary file beside ``path`` and
    renamed over it (an existing file is replaced only when the new one is complete).

    Parameters
    ----------
    report : dict
        From :func:`kosovo_cmr.report.land_release_report`.
    path : path-like
        The ``.xlsx`` file to write.

    Returns
    -------
    pathlib.Path
    """
    import pandas as pd

    path = Path(path)
    sheets = {
        "about": pd.DataFrame(
            {
                "item": ["title", "year", "synthetic", "generated_by", "area_unit", "note"],
                "value": [
                    report["title"],
                    report["year"],
                    report["synthetic"],
                    report["generated_by"],
                    report["area_unit"],
                    BANNER if report["synthetic"] else "",
                ],
            }
        ),
        "table1_contamination": pd.DataFrame(report["contamination_by_region"]),
        "table4_release": pd.DataFrame(
            [
                {k: v for k, v in report["release_by_method"].items() if k != "previous_year"},
                report["release_by_method"].get("previous_year") or {},
            ]
        ),
        "table5_nts": pd.DataFrame(report["nts_by_municipality"]),
        "table6_ts": pd.DataFrame(report["ts_by_municipality"]),
        "table7_clearance": pd.DataFrame(report["clearance_by_district"]),
        "table8_no_cmr": pd.DataFrame(report["cleared_without_cmr"]),
        "table9_by_year": pd.DataFrame(report["clearance_by_year"]),
        "operators": pd.DataFrame(report["indicators"]["release_by_operator"]),
        "ledger": pd.DataFrame(
            [
                {"line": k, "value": v}
                for k, v in report["reconciliation"].items()
                if k not in ("causes", "summary")
            ]
        ),
        "causes": pd.DataFrame(report["reconciliation"]["causes"]),
        "labels": pd.DataFrame(report["label_check"]),
    }
    if report.get("published_check"):
        pc = report["published_check"]
        sheets["published_internal"] = pd.DataFrame(pc["internal"]).assign(
            expected=lambda f: f["expected"].map(str)
        )
        sheets["published_vs_layers"] = pd.DataFrame(pc["against_layers"])
    if report.get("forecast"):
        sheets["forecast"] = pd.DataFrame(report["forecast"]["scenarios"])
        sheets["burndown"] = pd.concat(
            [
                pd.DataFrame(curve).assign(scenario=label)
                for label, curve in report["forecast"]["burndown"].items()
            ],
            ignore_index=True,
        )
    risk = (report.get("forecast") or {}).get("tolerable_risk") or {}
    if risk.get("rows"):
        sheets["tolerable_risk"] = pd.DataFrame(risk["rows"])
    if (report.get("evidence_audit") or {}).get("hazards"):
        sheets["evidence_audit"] = pd.DataFrame(report["evidence_audit"]["hazards"])
    for name, rows in record_sheets(report).items():  # issue 15
        sheets[name] = pd.DataFrame(rows)
    buffer = io.BytesIO()  # built in memory: a full disk then fails one plain write
    with pd.ExcelWriter(buffer, engine="openpyxl") as xl:
        for name, frame in sheets.items():
            spreadsheet_frame(frame).to_excel(xl, sheet_name=name, index=False)
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return path
