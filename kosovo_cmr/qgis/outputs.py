"""Field sheets (PDF), exports (GPX, KML, GeoJSON, GeoPackage, ...), the store's styles.

Thin faces on :func:`kosovo_cmr.workflows.fieldsheets.field_sheets_from_store`,
:func:`kosovo_cmr.outputs.export.export_layer` (and
:func:`~kosovo_cmr.outputs.gps.write_gpx`), and
:func:`kosovo_cmr.outputs.qgis_styles.write_layer_styles`, as ``kcmr fieldmap``,
``kcmr export`` and ``kcmr qgis styles`` are.
"""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
)

from ._base import KcmrAlgorithm, add_enum, add_store_inputs, enum_value, input_store, store_path

PAPERS = ("A4", "A3")
GRIDS = ("utm", "national")
LANGUAGES = ("en", "sq", "sr", "sr-Cyrl")


class FieldSheetsAlgorithm(KcmrAlgorithm):
    """``kcmr fieldmap``: the field sheet of a hazard, or the atlas of every open one."""

    NAME = "field_sheets"
    GROUP = "Field and GIS outputs"
    DISPLAY = "Field sheets (PDF)"
    HELP = (
        "The printable field sheet of a hazard (or, with no hazard id, the atlas of every "
        "open hazard): the hazard, its evidence, turning points and benchmark on a "
        "labelled grid at a true printed scale, with the turning-point table (as `kcmr "
        "fieldmap`)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the store, a hazard id (or all), paper, grid and language; the PDF."""
        add_store_inputs(self, optional=False)
        self.addParameter(
            QgsProcessingParameterString(
                "HAZARD_ID", self.tr("Hazard id (empty: every open hazard)"), optional=True
            )
        )
        add_enum(self, "PAPER", "Paper", PAPERS, "A4")
        add_enum(self, "GRID", "Map grid", GRIDS, "utm")
        add_enum(self, "LANG", "Language", LANGUAGES, "en")
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Field sheets"), "PDF (*.pdf)")
        )
        self.addOutput(QgsProcessingOutputNumber("SHEETS", self.tr("Hazards drawn")))
        # an atlas reports each sheet through the workflow's progress; one sheet is one

    def compute(self, parameters, context, feedback):
        """Call :func:`~kosovo_cmr.workflows.fieldsheets.field_sheets_from_store`."""
        from kosovo_cmr.workflows.fieldsheets import field_sheets_from_store

        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        if not output.lower().endswith(".pdf"):
            raise QgsProcessingException(f"Field sheets: give a .pdf file, not {output}")
        hazard = self.parameterAsString(parameters, "HAZARD_ID", context).strip() or None
        store = input_store(self, parameters, context, feedback)
        drawn = []

        def progress(done: int, total: int, hid: str) -> None:
            if feedback.isCanceled():
                raise QgsProcessingException("cancelled")
            feedback.setProgress(100.0 * done / max(total, 1))
            feedback.pushInfo(f"sheet {done + 1}/{total}: {hid}")
            drawn.append(hid)

        path = field_sheets_from_store(
            store, output, hazard_id=hazard, overwrite=True, progress=progress,
            paper=enum_value(self, parameters, "PAPER", context, PAPERS),
            grid=enum_value(self, parameters, "GRID", context, GRIDS),
            lang=enum_value(self, parameters, "LANG", context, LANGUAGES),
        )  # fmt: skip
        return {"OUTPUT": str(path), "SHEETS": 1 if hazard else len(drawn)}


def _formats() -> dict[str, str]:
    from kosovo_cmr.outputs.export import FORMATS

    return FORMATS


class ExportAlgorithm(KcmrAlgorithm):
    """``kcmr export``: one layer of the store for GPS units or other GIS."""

    NAME = "export"
    GROUP = "Field and GIS outputs"
    DISPLAY = "Export a layer (GPX, KML, GeoJSON, GeoPackage, Shapefile, CSV)"
    HELP = (
        "Write one layer of the store, in the format of the file's suffix (as `kcmr "
        "export`): GPX 1.1 (turning points as waypoints, outlines as tracks), KML/KMZ, "
        "GeoJSON (RFC 7946), GeoPackage (styled for QGIS), Shapefile or CSV with WKT. "
        "A status keeps only the features with it (a value no feature has is an error)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the store, a layer and a status filter; the file."""
        from kosovo_cmr.schema import LAYERS

        add_store_inputs(self, optional=False)
        add_enum(self, "LAYER", "Layer", LAYERS, "hazards")
        self.addParameter(
            QgsProcessingParameterString(
                "STATUS", self.tr("Only features with this status (e.g. active)"), optional=True
            )
        )
        filters = ";;".join(f"{f.upper()} (*{s})" for f, s in _formats().items())
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT", self.tr("File"), filters))
        self.addOutput(QgsProcessingOutputNumber("FEATURES", self.tr("Features written")))

    def compute(self, parameters, context, feedback):
        """Read the layer and call :func:`~kosovo_cmr.outputs.export.export_layer`."""
        from kosovo_cmr.outputs.export import export_layer
        from kosovo_cmr.outputs.gps import write_gpx
        from kosovo_cmr.outputs.qgis_styles import STYLED_LAYERS, write_layer_styles
        from kosovo_cmr.schema import LAYERS

        output = Path(self.parameterAsFileOutput(parameters, "OUTPUT", context))
        kind = next((f for f, s in _formats().items() if s == output.suffix.lower()), None)
        if kind is None:
            raise QgsProcessingException(
                f"File: give one of {', '.join(_formats().values())}, not {output.name}"
            )
        layer = enum_value(self, parameters, "LAYER", context, LAYERS)
        gdf = input_store(self, parameters, context, feedback).read(layer)
        status = self.parameterAsString(parameters, "STATUS", context).strip()
        if status:
            present = sorted(gdf["status"].dropna().unique()) if "status" in gdf else []
            if status not in present:
                raise QgsProcessingException(
                    f"Status: no {layer} feature has status {status!r}; present: {present}"
                )
            gdf = gdf[gdf["status"] == status]
        if not len(gdf):
            raise QgsProcessingException(f"layer {layer!r} holds no feature: nothing to export")
        if kind == "gpx":
            feedback.pushInfo(write_gpx(gdf, output, name=layer, overwrite=True).line())
        else:
            export_layer(gdf, output, fmt=kind, name=layer, overwrite=True)
            if kind == "gpkg" and layer in STYLED_LAYERS:
                write_layer_styles(output, layers=[layer])
        return {"OUTPUT": str(output), "FEATURES": len(gdf)}


class StyleStoreAlgorithm(KcmrAlgorithm):
    """``kcmr qgis styles``: the store's layers styled for QGIS and QField."""

    NAME = "style_store"
    GROUP = "Field and GIS outputs"
    DISPLAY = "Style the store for QGIS and QField"
    HELP = (
        "Write the kosovo_cmr styles (CHA red, SHA orange, released land green by method, "
        "evidence, strikes, boundaries) into the store's layer_styles table as each "
        "layer's default, so that QGIS and QField open the store styled (as `kcmr qgis "
        "styles`). Styles saved under other names are kept."
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the store; the layers styled."""
        add_store_inputs(self, optional=False)
        self.addOutput(QgsProcessingOutputString("LAYERS", self.tr("Layers styled")))

    def compute(self, parameters, context, feedback):
        """Call :func:`~kosovo_cmr.outputs.qgis_styles.write_layer_styles`."""
        from kosovo_cmr.outputs.qgis_styles import write_layer_styles

        path = store_path(self, parameters, context)
        if path is None:  # a PostGIS URL, or nothing
            raise QgsProcessingException("Store: styles are written into a GeoPackage store")
        styled = write_layer_styles(path)
        feedback.pushInfo(f"styled {', '.join(styled)} in {path}")
        return {"LAYERS": ",".join(styled)}
