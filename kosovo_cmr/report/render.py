"""Render the land release report as Markdown, HTML, JSON, CSV or XLSX.

Every renderer takes the dict of :func:`kosovo_cmr.report.land_release_report`:

* ``md`` — the tables as GitHub-flavoured Markdown;
* ``html`` — one self-contained page: the tables and three charts (clearance per year,
  release by method and operator, contamination by region) drawn with matplotlib's Agg
  backend and inlined as base64 PNG, plus the burn-down chart to 2030 when the report
  holds a completion forecast (``forecast``); no script, no external file;
* ``json`` — the report itself;
* ``csv`` — every table in one tidy file, one value per line: ``table``, ``row``,
  ``field``, ``value``;
* ``xlsx`` — one sheet per table (openpyxl).

A report on synthetic data carries a visible SYNTHETIC banner in every format that has a
place for one (Markdown, HTML, XLSX; JSON and CSV carry ``synthetic``).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import os
from pathlib import Path

from kosovo_cmr._json import dumps
from kosovo_cmr.errors import InputError

__all__ = [
    "FORMATS",
    "sections",
    "charts",
    "to_markdown",
    "to_html",
    "to_json",
    "to_csv",
    "to_xlsx",
    "write_report",
]

#: The formats :func:`write_report` writes.
FORMATS: tuple[str, ...] = ("md", "html", "json", "csv", "xlsx")

BANNER = (
    "SYNTHETIC DATA: this report is computed from generated demo layers, not real hazards. "
    "Never use it for planning or in the field."
)

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


def _fmt(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "m2":
        return f"{round(value):,}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "km2":
        return f"{value / 1e6:,.2f}"
    if kind == "share":
        return f"{100 * value:.1f} %"
    return str(value)


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
    out.append(_table4(report))
    for key, title, cols in TABLES[1:]:
        out.append(_table(report, key, title.format(year=year), cols))
    out.append(_indicators(report))
    out.append(_operators(report))
    out.extend(_ledger(report))
    out.append(_labels(report))
    if report.get("forecast"):
        out.append(_forecast(report["forecast"]))
    if report.get("published_check"):
        out.extend(_published(report["published_check"]))
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


#: Columns of the forecast scenario table: (field, header, kind).
FORECAST_COLUMNS = (
    ("scenario", "Scenario", "text"),
    ("capacity", "Capacity", "text"),
    ("area_to_clear_m2", "Area to clear (m²)", "m2"),
    ("team_days", "Team-days", "m2"),
    ("high", "High priority done", "year"),
    ("medium", "Medium done", "year"),
    ("low", "Low done", "year"),
    ("all", "All done", "year"),
)


def _forecast(fc: dict) -> dict:
    deadline = fc["deadline_year"]
    remaining = f"remaining_end_{deadline}_m2"
    cols = (*FORECAST_COLUMNS, (remaining, f"Left end {deadline} (m²)", "m2"))
    counts = fc.get("hazards_by_priority", {})

    def cell(r, f, k):
        # a null year of a computed scenario means "never" only when the class has hazards
        hazards = fc["hazards"] if f == "all" else counts.get(f, 0)
        never = k == "year" and r.get(f) is None and r.get("team_days") is not None and hazards
        return "never" if never else _fmt(r.get(f), k)

    rows = [[cell(r, f, k) for f, _, k in cols] for r in fc["scenarios"]]
    a = fc["assumptions"]
    rates = ", ".join(f"{k} {v:g}" for k, v in a["rates_m2_per_team_day"].items())
    notes = [f"{r['scenario']}: {r['note']}." for r in fc["scenarios"] if r.get("note")]
    return {
        "title": f"Completion forecast to {deadline}",
        "headers": [h for _, h, _ in cols],
        "numeric": [k != "text" for _, _, k in cols],
        "rows": rows,
        "note": (
            f"{fc['hazards']} hazards still to clear; seasons from {fc['start_year']}, "
            f"{a['working_days_per_season']} working days a season (months "
            f"{a['season_months'][0]}-{a['season_months'][1]}); rates in m² per team-day: "
            f"{rates}; methods chosen "
            + ("from slope and cover" if fc["terrain"] else "without terrain data")
            + f" (effort file {a['effort_file']}). "
            + " ".join(notes)
        ).strip(),
    }


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


# --- Markdown -----------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict) -> str:
    """Render the report as Markdown.

    Parameters
    ----------
    report : dict
        From :func:`kosovo_cmr.report.land_release_report`.

    Returns
    -------
    str
    """
    lines = [f"# {report['title']}", ""]
    if report.get("synthetic"):
        lines += [f"> **{BANNER}**", ""]
    lines += [f"Areas in {report['area_unit']}. Generated by {report['generated_by']}.", ""]
    for sec in sections(report):
        lines += [f"## {sec['title']}", ""]
        if sec["rows"]:
            lines.append("| " + " | ".join(_md_cell(h) for h in sec["headers"]) + " |")
            lines.append("|" + "|".join("---:" if n else "---" for n in sec["numeric"]) + "|")
            for row in sec["rows"]:
                lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
            lines.append("")
        if sec["note"]:
            lines += [sec["note"], ""]
    return "\n".join(lines)


# --- HTML ---------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:70em;
color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #bbb;padding:.25em .6em;vertical-align:top}
th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600}
.banner{background:#b00020;color:#fff;font-weight:700;padding:.8em 1em;font-size:1.1em}
.note{color:#555;font-size:.9em}
figure{display:inline-block;margin:0 1em 1em 0}
"""


def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def charts(report: dict) -> dict[str, bytes]:
    """Draw the report's three charts as PNG images.

    Uses matplotlib's object API with the Agg canvas (no pyplot, no display needed).

    Parameters
    ----------
    report : dict
        From :func:`kosovo_cmr.report.land_release_report`.

    Returns
    -------
    dict
        ``clearance_by_year``, ``release_by_operator``, ``contamination_by_region``:
        PNG bytes each.
    """
    return {name: base64.b64decode(data) for name, data in _charts_b64(report).items()}


def _charts_b64(report: dict) -> dict[str, str]:
    from matplotlib.figure import Figure

    synthetic = " (SYNTHETIC)" if report.get("synthetic") else ""
    out = {}

    fig = Figure(figsize=(5, 3))
    ax = fig.add_subplot()
    rows = sorted(report["clearance_by_year"], key=lambda r: r["year"])
    ax.bar([str(r["year"]) for r in rows], [r["area_m2"] / 1e6 for r in rows], color="#3b6ea5")
    for i, r in enumerate(rows):
        ax.annotate(
            f"{r['area_m2'] / 1e6:.2f}",
            (i, r["area_m2"] / 1e6),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylabel("km²")
    ax.set_title("Clearance per year" + synthetic, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    out["clearance_by_year"] = _png(fig)

    fig = Figure(figsize=(5, 3))
    ax = fig.add_subplot()
    ops = report["indicators"]["release_by_operator"]
    names = [r["operator"] for r in ops]
    left = [0.0] * len(ops)
    colours = {"clearance": "#3b6ea5", "reduction_ts": "#e8a33d", "cancellation_nts": "#8fbc8f"}
    for method, label in METHOD_LABELS.items():
        vals = [r[f"{method}_m2"] / 1e6 for r in ops]
        ax.barh(names, vals, left=left, label=label, color=colours[method])
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_xlabel("km²")
    ax.set_title(f"Release by method and operator, {report['year']}" + synthetic, fontsize=10)
    if ops:
        ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    out["release_by_operator"] = _png(fig)

    fig = Figure(figsize=(5, 3))
    ax = fig.add_subplot()
    regions = report["contamination_by_region"]
    labels = [str(r["region"]) for r in regions]
    cha = [r["cha_area_m2"] / 1e6 for r in regions]
    sha = [r["sha_area_m2"] / 1e6 for r in regions]
    ax.bar(labels, cha, label="CHA", color="#b5473a")
    ax.bar(labels, sha, bottom=cha, label="SHA", color="#e3a59b")
    ax.set_ylabel("km²")
    ax.set_title(f"Contamination by region, end {report['year']}" + synthetic, fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    out["contamination_by_region"] = _png(fig)

    fc = report.get("forecast")
    if fc and fc.get("burndown"):
        from kosovo_cmr.outputs.charts import plot_burndown_curves

        png = plot_burndown_curves(
            fc["burndown"],
            start_year=fc["start_year"],
            deadline=fc["deadline_year"],
            title=f"CMR clearance burn-down to {fc['deadline_year']}",
            synthetic=bool(report.get("synthetic")),
        )
        out["burndown"] = base64.b64encode(png).decode("ascii")
    return out


def to_html(report: dict) -> str:
    """Render the report as one self-contained HTML page with its charts.

    Parameters
    ----------
    report : dict
        From :func:`kosovo_cmr.report.land_release_report`.

    Returns
    -------
    str
        The page; charts are inline PNG (``data:`` URIs), all text is escaped.
    """
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(report['title'])}</title>",
        f"<style>{_CSS}</style></head><body>",
    ]
    if report.get("synthetic"):
        parts.append(f'<div class="banner" role="alert">{e(BANNER)}</div>')
    parts.append(f"<h1>{e(report['title'])}</h1>")
    parts.append(
        f'<p class="note">Areas in {e(report["area_unit"])}. Generated by '
        f"{e(report['generated_by'])}.</p>"
    )
    captions = {
        "clearance_by_year": "Clearance per year",
        "release_by_operator": "Release by method and operator",
        "contamination_by_region": "Contamination by region",
        "burndown": "Burn-down: area still to clear per scenario (completion forecast)",
    }
    parts.append("<section><h2>Charts</h2>")
    for name, data in _charts_b64(report).items():
        parts.append(
            f'<figure><img alt="{e(captions[name])}" src="data:image/png;base64,{data}">'
            f"<figcaption>{e(captions[name])}</figcaption></figure>"
        )
    parts.append("</section>")
    for sec in sections(report):
        parts.append(f"<section><h2>{e(sec['title'])}</h2>")
        if sec["rows"]:
            parts.append("<table><thead><tr>")
            parts.extend(f"<th>{e(h)}</th>" for h in sec["headers"])
            parts.append("</tr></thead><tbody>")
            last = len(sec["rows"]) - 1
            for i, row in enumerate(sec["rows"]):
                cells = "".join(
                    f'<td class="n">{e(c)}</td>' if n else f"<td>{e(c)}</td>"
                    for c, n in zip(row, sec["numeric"], strict=True)
                )
                total = i == last and sec.get("total_row")
                parts.append(f'<tr class="total">{cells}</tr>' if total else f"<tr>{cells}</tr>")
            parts.append("</tbody></table>")
        if sec["note"]:
            parts.append(f'<p class="note">{e(sec["note"])}</p>')
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


# --- JSON, CSV, XLSX ----------------------------------------------------------------------


def to_json(report: dict) -> str:
    """Render the report as strict JSON (UTF-8 text, indented; no NaN: null).

    Through :func:`kosovo_cmr._json.dumps`, as every JSON the package writes.
    """
    return dumps(report, indent=2)


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


def to_csv(report: dict) -> str:
    """Render every table of the report as one tidy CSV: table, row, field, value.

    The first lines give the year and the ``synthetic`` flag (table ``report``).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["table", "row", "field", "value"])
    writer.writerow(["report", 0, "year", report["year"]])
    writer.writerow(["report", 0, "synthetic", report["synthetic"]])
    for table, row, field, value in _long_rows(report):
        writer.writerow([table, row, field, "" if value is None else value])
    return buf.getvalue()


def to_xlsx(report: dict, path: str | os.PathLike) -> Path:
    """Write the report as an Excel workbook, one sheet per table.

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
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


def write_report(report: dict, path: str | os.PathLike | None, *, fmt: str) -> str | None:
    """Write the report in a format to a file, or return it as text.

    Parameters
    ----------
    report : dict
        From :func:`kosovo_cmr.report.land_release_report`.
    path : path-like or None
        The file to write; ``None`` returns the text instead (not for ``xlsx``).
    fmt : {"md", "html", "json", "csv", "xlsx"}

    Returns
    -------
    str or None
        The text when ``path`` is ``None``.

    Raises
    ------
    kosovo_cmr.errors.InputError
        For an unknown format, or ``xlsx`` without a path.
    """
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "xlsx":
        if path is None:
            raise InputError("the xlsx format needs an output file: pass -o PATH")
        to_xlsx(report, path)
        return None
    text = {"md": to_markdown, "html": to_html, "json": to_json, "csv": to_csv}[fmt](report)
    if path is None:
        return text
    Path(path).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return None
