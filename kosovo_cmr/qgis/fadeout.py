"""Fade-out algorithms: delineation, the buffer-rule impact, CHA consistency.

Thin faces on :func:`kosovo_cmr.workflows.fadeout.clusters_from_store`,
:func:`~kosovo_cmr.workflows.fadeout.impact_from_store` and
:func:`~kosovo_cmr.workflows.fadeout.cha_findings_from_store`, as ``kcmr fadeout``,
``kcmr buffer-impact`` and ``kcmr cha-check`` are.
"""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorDestination,
)

from ._base import (
    KcmrAlgorithm,
    add_enum,
    add_store_inputs,
    enum_value,
    input_store,
    layer_destination,
    rule_of,
    write_styled_layer,
    write_table,
)


def _rules() -> list[str]:
    from kosovo_cmr.analysis.rules import shipped_rules

    return shipped_rules()


def _add_rule(alg, name: str, label: str, default: str) -> None:
    add_enum(alg, name, f"{label} fade-out rule", _rules(), default)
    alg.addParameter(
        QgsProcessingParameterNumber(
            f"{name}_DISTANCE",
            alg.tr(f"{label} rule: a uniform distance instead, metres (0: the rule above)"),
            type=QgsProcessingParameterNumber.Double,
            defaultValue=0.0,
            minValue=0.0,
        )
    )


def _rule(alg, parameters, name: str, context):
    distance = alg.parameterAsDouble(parameters, f"{name}_DISTANCE", context)
    return rule_of(enum_value(alg, parameters, name, context, _rules()), distance)


def _use_accuracy(alg) -> None:
    alg.addParameter(
        QgsProcessingParameterBoolean(
            "USE_ACCURACY",
            alg.tr("Add each point's recorded accuracy_m to its fade-out distance"),
            defaultValue=False,
        )
    )


class DelineateAlgorithm(KcmrAlgorithm):
    """``kcmr fadeout``: the area to clear, the union of the fade-out disks per cluster."""

    NAME = "fadeout"
    GROUP = "Fade-out"
    DISPLAY = "Fade-out delineation (area to clear)"
    HELP = (
        "The union of the fade-out disks around the evidence, per cluster (as `kcmr "
        "fadeout`). Areas are the exact geodesic area of the union of the true circles "
        "(m2). Input: a store, or an evidence layer."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the store or evidence layer, the rule; the clusters and the total area."""
        add_store_inputs(self, ("evidence",))
        _add_rule(self, "RULE", "The", "kosovo-nmas-2024")
        _use_accuracy(self)
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                "OUTPUT", self.tr("Fade-out clusters"), type=QgsProcessing.TypeVectorPolygon
            )
        )
        self.addOutput(QgsProcessingOutputNumber("AREA_M2", self.tr("Area to clear, m2")))
        self.addOutput(QgsProcessingOutputNumber("CLUSTERS", self.tr("Clusters")))

    def compute(self, parameters, context, feedback):
        """Call :func:`~kosovo_cmr.workflows.fadeout.clusters_from_store`."""
        from kosovo_cmr.workflows.fadeout import clusters_from_store

        path, fmt = layer_destination(self, parameters, "OUTPUT", context)
        rule = _rule(self, parameters, "RULE", context)
        store = input_store(self, parameters, context, feedback, ("evidence",))
        use_accuracy = self.parameterAsBool(parameters, "USE_ACCURACY", context)
        clusters = clusters_from_store(store, rule, use_accuracy=use_accuracy)
        feedback.pushInfo(f"{rule.describe()}: {len(clusters)} clusters")
        return {
            "OUTPUT": write_styled_layer(clusters, path, fmt, style="clusters"),
            "AREA_M2": float(clusters["area_m2"].sum()),
            "CLUSTERS": len(clusters),
        }


class BufferImpactAlgorithm(KcmrAlgorithm):
    """``kcmr buffer-impact``: the area to clear under two rules and what the change saves."""

    NAME = "buffer_impact"
    GROUP = "Fade-out"
    DISPLAY = "Buffer-rule impact (area saved by a rule change)"
    HELP = (
        "The area to clear under the old and the new fade-out rule and what the change "
        "saves, in total and by hazard, municipality or region (as `kcmr buffer-impact`). "
        "By municipality or region the rows sum to the total. The rings are the land "
        "inside the old area and outside the new one. Input: a store, or evidence "
        "(and boundaries) layers."
    )
    BY = ("none", "hazard", "municipality", "region")

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare two rules and a grouping; the table, the rings, the JSON and the totals."""
        add_store_inputs(self, ("evidence", "boundaries"))
        _add_rule(self, "FROM", "Old", "kosovo-pre-2024")
        _add_rule(self, "TO", "New", "kosovo-nmas-2024")
        add_enum(self, "BY", "Rows by", self.BY, "municipality")
        _use_accuracy(self)
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                "OUTPUT", self.tr("Impact table"), type=QgsProcessing.TypeVector
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                "RINGS",
                self.tr("Fade-out rings (old area minus new)"),
                type=QgsProcessing.TypeVectorPolygon,
                optional=True,
                createByDefault=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "JSON", self.tr("Result as JSON"), "JSON (*.json)", optional=True,
                createByDefault=False,
            )
        )  # fmt: skip
        for key, label in (("AREA_FROM_M2", "old rule"), ("AREA_TO_M2", "new rule")):
            self.addOutput(QgsProcessingOutputNumber(key, self.tr(f"Area to clear, {label}, m2")))
        self.addOutput(QgsProcessingOutputNumber("SAVED_M2", self.tr("Area saved, m2")))

    def compute(self, parameters, context, feedback):
        """Call :func:`~kosovo_cmr.workflows.fadeout.impact_from_store`."""
        import pandas as pd

        from kosovo_cmr._files import atomic_output
        from kosovo_cmr.workflows.fadeout import impact_from_store

        rings_to = None
        if parameters.get("RINGS"):
            rings_to = layer_destination(self, parameters, "RINGS", context)
        json_path = self.parameterAsFileOutput(parameters, "JSON", context)
        old = _rule(self, parameters, "FROM", context)
        new = _rule(self, parameters, "TO", context)
        store = input_store(self, parameters, context, feedback, ("evidence", "boundaries"))
        result = impact_from_store(
            store, old, new, by=enum_value(self, parameters, "BY", context, self.BY),
            use_accuracy=self.parameterAsBool(parameters, "USE_ACCURACY", context),
            rings=rings_to is not None,
        )  # fmt: skip
        table = pd.concat([result.table, pd.DataFrame([result.total])], ignore_index=True)
        out = {"OUTPUT": write_table(self, parameters, "OUTPUT", context, table)}
        if rings_to is not None:
            out["RINGS"] = write_styled_layer(result.rings, *rings_to, style="rings")
        if json_path:
            with atomic_output(json_path, overwrite=True) as tmp:
                tmp.write_text(result.to_json(), encoding="utf-8")
            out["JSON"] = json_path
        total = result.total
        feedback.pushInfo(f"saved {total['saved_m2']:,.0f} m2 of {total['area_from_m2']:,.0f}")
        out.update(
            AREA_FROM_M2=float(total["area_from_m2"]),
            AREA_TO_M2=float(total["area_to_m2"]),
            SAVED_M2=float(total["saved_m2"]),
        )
        return out


class ChaCheckAlgorithm(KcmrAlgorithm):
    """``kcmr cha-check``: hazards that do not cover their evidence plus fade-out."""

    NAME = "cha_check"
    GROUP = "Fade-out"
    DISPLAY = "CHA consistency (hazards not covering their fade-out)"
    HELP = (
        "Hazards whose own evidence's fade-out disks reach outside them (the uncovered "
        "area, m2) and evidence in no hazard (as `kcmr cha-check`). Input: a store, or "
        "hazards and evidence layers."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare a rule; the uncovered areas, the stray evidence and their counts."""
        add_store_inputs(self, ("hazards", "evidence"))
        _add_rule(self, "RULE", "The", "kosovo-nmas-2024")
        _use_accuracy(self)
        self.addParameter(
            QgsProcessingParameterBoolean(
                "ALL_HAZARDS", self.tr("Check closed hazards too"), defaultValue=False
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                "OUTPUT",
                self.tr("Fade-out outside its hazard"),
                type=QgsProcessing.TypeVectorPolygon,
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                "STRAY", self.tr("Evidence in no hazard"), type=QgsProcessing.TypeVectorPoint
            )
        )
        self.addOutput(QgsProcessingOutputNumber("HAZARDS", self.tr("Hazards not covering")))
        self.addOutput(QgsProcessingOutputNumber("STRAY_COUNT", self.tr("Stray evidence")))

    def compute(self, parameters, context, feedback):
        """Call :func:`~kosovo_cmr.workflows.fadeout.cha_findings_from_store`."""
        from kosovo_cmr.workflows.fadeout import cha_findings_from_store

        uncovered_to = layer_destination(self, parameters, "OUTPUT", context)
        stray_to = layer_destination(self, parameters, "STRAY", context)
        rule = _rule(self, parameters, "RULE", context)
        store = input_store(self, parameters, context, feedback, ("hazards", "evidence"))
        found = cha_findings_from_store(
            store, rule, all_hazards=self.parameterAsBool(parameters, "ALL_HAZARDS", context),
            use_accuracy=self.parameterAsBool(parameters, "USE_ACCURACY", context),
        )  # fmt: skip
        uncovered = found[found["check"] == "fadeout_outside_hazard"]
        stray = found[found["check"] == "evidence_outside_hazards"]
        feedback.pushInfo(f"{len(uncovered)} hazard(s) not covering, {len(stray)} stray point(s)")
        return {
            "OUTPUT": write_styled_layer(uncovered, *uncovered_to, style="uncovered"),
            "STRAY": write_styled_layer(stray, *stray_to, style="stray_evidence"),
            "HAZARDS": len(uncovered),
            "STRAY_COUNT": len(stray),
        }
