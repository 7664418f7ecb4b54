"""Import and validate: a QGIS layer into a store layer, every feature accounted for.

Thin faces on :func:`kosovo_cmr.importer.import_layer` and
:func:`~kosovo_cmr.importer.validate_source`, as ``kcmr import`` and ``kcmr validate``
are. A layer read from a file is imported from that file (so that its encoding and
sub-layer are read as ``kcmr import`` reads them); another layer (a memory, database or
filtered layer) is first written to a GeoPackage in the processing folder. The accounting
(one row per feature read: outcome, reasons, details) and the rejects are output layers.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorDestination,
    QgsProcessingParameterVectorLayer,
)

from ._base import (
    STORE,
    KcmrAlgorithm,
    add_enum,
    copy_layer,
    enum_value,
    source_of,
    write_table,
)

CONFLICTS = ("error", "skip", "replace")
MODES = ("append", "replace")


def _layers() -> tuple[str, ...]:
    from kosovo_cmr.schema import LAYERS

    return tuple(LAYERS)


def _source(alg, parameters, context, feedback) -> tuple[str, str | None]:
    """Return the file to import and its sub-layer: the layer's own file, or a copy."""
    layer = alg.parameterAsVectorLayer(parameters, "INPUT", context)
    if layer is None or not layer.isValid():
        raise QgsProcessingException("Input layer: not given, or not valid")
    path, sub = source_of(layer)
    if path and Path(path).is_file():
        return path, sub
    target = copy_layer(layer, context, name="input")
    feedback.pushInfo(f"{layer.name()} is not a file: imported from a copy, {target}")
    return target, "input"


def _options(alg, parameters, context) -> dict:
    crs = alg.parameterAsCrs(parameters, "CRS", context)
    return {
        "crs": crs.authid() or crs.toWkt() if crs.isValid() else None,
        "repair": alg.parameterAsBool(parameters, "REPAIR", context),
        "on_conflict": enum_value(alg, parameters, "ON_CONFLICT", context, CONFLICTS),
    }


def _add_source_parameters(alg) -> None:
    alg.addParameter(
        QgsProcessingParameterVectorLayer(
            "INPUT", alg.tr("Features to import"), types=[QgsProcessing.TypeVectorAnyGeometry]
        )
    )
    add_enum(alg, "LAYER", "Store layer the features are for", _layers(), "hazards")
    alg.addParameter(
        QgsProcessingParameterCrs(
            "CRS", alg.tr("CRS of a source without one (overrides the file's)"), optional=True
        )
    )
    alg.addParameter(
        QgsProcessingParameterBoolean(
            "REPAIR", alg.tr("Mend invalid polygons (else reject them)"), defaultValue=True
        )
    )
    add_enum(alg, "ON_CONFLICT", "Ids repeated in the source or in the store", CONFLICTS, "error")
    alg.addParameter(
        QgsProcessingParameterFeatureSink(
            "ACCOUNTING",
            alg.tr("Accounting (one row per feature read)"),
            type=QgsProcessing.TypeVector,
        )
    )
    for key, label in (("READ", "read"), ("IMPORTED", "imported"), ("REJECTED", "rejected")):
        alg.addOutput(QgsProcessingOutputNumber(key, alg.tr(f"Features {label}")))
    alg.addOutput(QgsProcessingOutputString("SUMMARY", alg.tr("Summary")))


def _outputs(alg, parameters, context, feedback, report) -> dict:
    for line in report.summary().splitlines():
        feedback.pushInfo(line)
    features = report.features.copy()
    features["reasons"] = features["reasons"].map(
        lambda r: ", ".join(r) if isinstance(r, list | tuple) else r
    )
    return {
        "ACCOUNTING": write_table(alg, parameters, "ACCOUNTING", context, features),
        "READ": report.read,
        "IMPORTED": report.imported,
        "REJECTED": report.rejected,
        "SUMMARY": report.summary(),
    }


class ImportAlgorithm(KcmrAlgorithm):
    """``kcmr import``: a layer into a store layer; the accounting and the rejects as layers."""

    NAME = "import"
    GROUP = "Import"
    DISPLAY = "Import into the store"
    HELP = (
        "Import a layer into a layer of the store, accounting for every feature: read = "
        "imported + rejected (as `kcmr import`). Invalid polygons are mended or rejected; "
        "the rejected features and the originals of the mended ones are written to the "
        "rejects GeoPackage (tables rejects, repaired). The store is written once, "
        "atomically, or not at all."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the source, the store, the options; accounting, rejects and counts."""
        _add_source_parameters(self)
        self.addParameter(
            QgsProcessingParameterFile(
                STORE,
                self.tr("Store (GeoPackage; created if it does not exist)"),
                extension="gpkg",
                behavior=QgsProcessingParameterFile.File,
            )
        )
        add_enum(self, "MODE", "Add to the layer, or replace it", MODES, "append")
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                "REJECTS",
                self.tr("Rejects (GeoPackage: tables rejects and repaired)"),
                type=QgsProcessing.TypeVectorAnyGeometry,
            )
        )

    def compute(self, parameters, context, feedback):
        """Call :func:`kosovo_cmr.importer.import_layer`."""
        import pyogrio

        from kosovo_cmr.importer import import_layer
        from kosovo_cmr.store import open_store

        path = self.parameterAsFile(parameters, STORE, context)
        if not path or not path.lower().endswith(".gpkg"):
            raise QgsProcessingException(f"Store: give a GeoPackage (.gpkg), not {path!r}")
        src, sub = _source(self, parameters, context, feedback)
        rejects = self.parameterAsOutputLayer(parameters, "REJECTS", context).split("|")[0]
        if not rejects.lower().endswith(".gpkg"):
            raise QgsProcessingException(f"Rejects: give a GeoPackage (.gpkg), not {rejects!r}")
        report = import_layer(
            src, enum_value(self, parameters, "LAYER", context, _layers()),
            store=open_store(path, create=True), src_layer=sub,
            mode=enum_value(self, parameters, "MODE", context, MODES), rejects=rejects,
            overwrite=True, **_options(self, parameters, context),
        )  # fmt: skip
        out = _outputs(self, parameters, context, feedback, report)
        if report.rejects_path:  # written only when a feature was rejected or repaired
            names = [row[0] for row in pyogrio.list_layers(report.rejects_path)]
            table = "rejects" if "rejects" in names else names[0]
            out["REJECTS"] = f"{report.rejects_path}|layername={table}"
        return out


class ValidateAlgorithm(KcmrAlgorithm):
    """``kcmr validate``: every import check, nothing written to the store."""

    NAME = "validate"
    GROUP = "Import"
    DISPLAY = "Validate (import dry run)"
    HELP = (
        "Run every check of the import on a layer and write nothing to the store (as "
        "`kcmr validate`). With a store, ids already in it are reported (id_in_store). "
        "The accounting says what would become of every feature, and why. Then every "
        "geocheck-grade check runs on the features as read (invalid polygons, spikes, "
        "duplicate vertices and polygons, look-alike ids, long segments, overlaps and "
        "gaps): the findings, each located, go to a GeoPackage whose layers (qa_points, "
        "qa_lines, qa_areas) are added to the project."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the source, an optional store; the accounting and the counts."""
        _add_source_parameters(self)
        self.addParameter(
            QgsProcessingParameterFile(
                STORE, self.tr("Store (to check ids against)"), extension="gpkg", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "MAX_SEGMENT",
                self.tr("QA: longest distance between consecutive vertices, m (default 5000)"),
                type=QgsProcessingParameterNumber.Double,
                minValue=0.0,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "FINDINGS",
                self.tr("QA findings (GeoPackage: qa_points, qa_lines, qa_areas)"),
                fileFilter="GeoPackage (*.gpkg)",
                optional=True,
                createByDefault=True,
            )
        )
        self.addOutput(QgsProcessingOutputNumber("QA_FINDINGS", self.tr("QA findings")))

    def compute(self, parameters, context, feedback):
        """Call :func:`kosovo_cmr.importer.validate_source`."""
        from kosovo_cmr.importer import validate_source

        store = self.parameterAsFile(parameters, STORE, context) or None
        src, sub = _source(self, parameters, context, feedback)
        layer = enum_value(self, parameters, "LAYER", context, _layers())
        options = _options(self, parameters, context)
        report = validate_source(src, layer, store=store, src_layer=sub, **options)
        out = _outputs(self, parameters, context, feedback, report)
        out.update(_qa(self, parameters, context, feedback, (src, sub, layer, options["crs"])))
        return out


def _qa(alg, parameters, context, feedback, what) -> dict:
    """Run :func:`kosovo_cmr.import_qa.check_source` and write its findings, as validate."""
    import pyogrio

    from kosovo_cmr.import_qa import check_source
    from kosovo_cmr.outputs.qa_findings import write_findings

    src, sub, layer, crs = what
    max_segment = parameters.get("MAX_SEGMENT")
    result = check_source(
        src, layer, src_layer=sub, crs=crs,
        max_segment_m=None if max_segment in (None, "") else
        alg.parameterAsDouble(parameters, "MAX_SEGMENT", context),
    )  # fmt: skip
    for line in result.summary().splitlines():
        feedback.pushInfo(line)
    out = {"QA_FINDINGS": len(result.findings), "FINDINGS": None}
    path = alg.parameterAsFileOutput(parameters, "FINDINGS", context)
    if path:
        written = str(write_findings(result, path, overwrite=True))
        out["FINDINGS"] = written
        for name in [row[0] for row in pyogrio.list_layers(written)]:
            details = QgsProcessingContext.LayerDetails(f"QA {name}", context.project(), "FINDINGS")
            context.addLayerToLoadOnCompletion(f"{written}|layername={name}", details)
    return out
