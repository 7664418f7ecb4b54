"""Overlay by municipality or region, and the land release report.

Thin faces on :func:`kosovo_cmr.workflows.fadeout.contamination_from_store` and
:func:`kosovo_cmr.workflows.report.report_from_store` with
:func:`kosovo_cmr.report.render.write_report`, as ``kcmr overlay`` and ``kcmr report``.
"""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ._base import (
    KcmrAlgorithm,
    add_enum,
    add_store_inputs,
    enum_value,
    input_store,
    write_table,
)


def _write_json(path: str, document: dict) -> str:
    from kosovo_cmr._files import atomic_output
    from kosovo_cmr._json import dumps

    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(dumps(document), encoding="utf-8")
    return path


class OverlayAlgorithm(KcmrAlgorithm):
    """``kcmr overlay``: CHAs and SHAs counted and measured per region or municipality."""

    NAME = "overlay"
    GROUP = "Reports"
    DISPLAY = "Overlay by municipality or region (Table 1)"
    HELP = (
        "Count and measure the CHAs and SHAs per KMAC region or municipality (as `kcmr "
        "overlay`). Areas are geodesic (m2); a hazard straddling a boundary has its area "
        "split exactly between the units. Input: a store, or hazards and boundaries "
        "layers. Without a date, the hazards with status active."
    )
    BY = ("region", "municipality")

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the units and a date; the table, its JSON and the totals."""
        add_store_inputs(self, ("hazards", "boundaries"))
        add_enum(self, "BY", "Units", self.BY, "region")
        self.addParameter(
            QgsProcessingParameterString(
                "DATE", self.tr("Hazards open on this day (YYYY-MM-DD)"), optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                "OUTPUT", self.tr("Hazards by unit"), type=QgsProcessing.TypeVector
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "JSON", self.tr("Table as JSON"), "JSON (*.json)", optional=True,
                createByDefault=False,
            )
        )  # fmt: skip
        self.addOutput(QgsProcessingOutputNumber("ROWS", self.tr("Units")))

    def compute(self, parameters, context, feedback):
        """Call :func:`~kosovo_cmr.workflows.fadeout.contamination_from_store`."""
        import pandas as pd

        from kosovo_cmr.workflows.fadeout import contamination_from_store

        by = enum_value(self, parameters, "BY", context, self.BY)
        text = self.parameterAsString(parameters, "DATE", context).strip() or None
        try:
            day = None if text is None else pd.Timestamp(text)
        except ValueError:
            raise QgsProcessingException(f"Date must be YYYY-MM-DD, got {text!r}") from None
        store = input_store(self, parameters, context, feedback, ("hazards", "boundaries"))
        table = contamination_from_store(store, by=by, date=day)
        out = {"OUTPUT": write_table(self, parameters, "OUTPUT", context, table)}
        json_path = self.parameterAsFileOutput(parameters, "JSON", context)
        if json_path:
            document = {"by": by, "date": text, "rows": table.to_dict(orient="records")}
            out["JSON"] = _write_json(json_path, document)
        out["ROWS"] = len(table)
        return out


class ReportAlgorithm(KcmrAlgorithm):
    """``kcmr report``: the land release report of a year, as HTML and JSON."""

    NAME = "report"
    GROUP = "Reports"
    DISPLAY = "Land release report (HTML)"
    HELP = (
        "Tables 1 and 4-9 of the Mine Action Review, indicators and the reconciliation "
        "ledger of a year, from the store's hazards and releases (as `kcmr report`). The "
        "HTML page is self-contained with its charts; a report on synthetic data says so "
        "in a banner. The JSON holds the same figures."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the store and the year; the HTML page and the JSON."""
        add_store_inputs(self, optional=False)
        self.addParameter(
            QgsProcessingParameterNumber(
                "YEAR", self.tr("Report year"), type=QgsProcessingParameterNumber.Integer,
                defaultValue=2024, minValue=1999, maxValue=2100,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Report"), "HTML (*.html)")
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "JSON", self.tr("Report as JSON"), "JSON (*.json)", optional=True,
                createByDefault=False,
            )
        )  # fmt: skip

    def compute(self, parameters, context, feedback):
        """Call :func:`~kosovo_cmr.workflows.report.report_from_store` and write it."""
        from kosovo_cmr.report.render import write_report
        from kosovo_cmr.workflows.report import report_from_store

        html = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        json_path = self.parameterAsFileOutput(parameters, "JSON", context)
        for name, path, suffix in (("OUTPUT", html, ".html"), ("JSON", json_path, ".json")):
            if path and not path.lower().endswith(suffix):
                raise QgsProcessingException(f"{name}: give a {suffix} file, not {path}")
        year = self.parameterAsInt(parameters, "YEAR", context)
        store = input_store(self, parameters, context, feedback)
        report = report_from_store(store, year=year)
        write_report(report, html, fmt="html")
        out = {"OUTPUT": html}
        if json_path:
            write_report(report, json_path, fmt="json")
            out["JSON"] = json_path
        return out
