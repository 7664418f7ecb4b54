"""Run every algorithm of the kosovo_cmr Processing provider in a headless QGIS.

Run by ``tests/test_qgis_provider.py`` with the python of the QGIS venv
(``tests/qgis_env.sh``): ``python qgis_provider_run.py STORE OUT_DIR SOURCE PLUGINS``
where STORE is a demo store, OUT_DIR an empty folder, SOURCE a vector file to validate
and import, and PLUGINS the folder ``kcmr qgis install`` copied the plugin into (QGIS
loads it from there with ``qgis.utils``, as it loads any plugin).
Prints one JSON object: each algorithm's results, the styles QGIS read back from every
styled output and from the store, and the messages of refused inputs. The comparisons
with the command line are made by the test, in the main venv.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsFeatureRequest,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)

APP = QgsApplication([], False)
APP.initQgis()
sys.path.append("/usr/share/qgis/python/plugins")  # Debian's processing plugin

import processing  # noqa: E402
from processing.core.Processing import Processing  # noqa: E402

Processing.initialize()

import qgis.utils  # noqa: E402

# the plugin as `kcmr qgis install` copied it, loaded the way QGIS loads plugins
sys.path.insert(0, sys.argv[4])
qgis.utils.plugin_paths = [sys.argv[4]]
assert qgis.utils.loadPlugin("kosovo_cmr_qgis"), "QGIS could not import the plugin"
assert qgis.utils.startPlugin("kosovo_cmr_qgis"), "QGIS could not start the plugin"
PLUGIN = qgis.utils.plugins["kosovo_cmr_qgis"]


class Feedback(QgsProcessingFeedback):
    """Keeps the errors an algorithm reports."""

    def __init__(self):
        super().__init__()
        self.errors: list[str] = []

    def reportError(self, error, fatalError=False):  # noqa: N802, N803
        self.errors.append(error)


def run(name: str, parameters: dict) -> dict:
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    feedback = Feedback()
    try:
        results = processing.run(f"kosovo_cmr:{name}", parameters, context=context,
                                 feedback=feedback)  # fmt: skip
    except QgsProcessingException as exc:
        return {"error": " | ".join(feedback.errors) or str(exc)}
    out = {k: v for k, v in results.items() if isinstance(v, int | float | str) or v is None}
    loads = sorted(context.layersToLoadOnCompletion())
    if loads:  # layers the algorithm adds to the project: each must open in QGIS
        out["_loaded"] = {uri: QgsVectorLayer(uri, "x", "ogr").isValid() for uri in loads}
    return out


def style(uri: str) -> dict:
    """What QGIS loads for a layer: renderer type and colours (from layer_styles or .qml)."""
    layer = QgsVectorLayer(uri, "layer", "ogr")
    if not layer.isValid():
        return {"valid": False}
    renderer = layer.renderer()
    out = {"valid": True, "features": layer.featureCount(), "renderer": renderer.type()}
    if renderer.type() == "categorizedSymbol":
        out["attribute"] = renderer.classAttribute()
        out["colours"] = {str(c.value()): c.symbol().color().name() for c in renderer.categories()}
        out["brushes"] = {str(c.value()): _brush(c.symbol()) for c in renderer.categories()}
    elif renderer.type() == "singleSymbol":
        out["colours"] = {"": renderer.symbol().color().name()}
    return out


def _brush(symbol) -> int | None:
    """The fill pattern (Qt.BrushStyle) of a fill symbol, None for another."""
    layer = symbol.symbolLayer(0)
    return int(layer.brushStyle()) if hasattr(layer, "brushStyle") else None


def main(store: str, out_dir: str, source: str) -> dict:
    out = Path(out_dir)
    res: dict = {
        "algorithms": sorted(a.name() for a in PLUGIN.provider.algorithms()),
        "plugin_module": sys.modules["kosovo_cmr_qgis"].__file__,
    }
    res["fadeout"] = run("fadeout", {"STORE": store, "OUTPUT": str(out / "clusters.gpkg")})
    evidence = QgsVectorLayer(f"{store}|layername=evidence", "evidence", "ogr")
    res["fadeout_layer"] = run(
        "fadeout", {"EVIDENCE": evidence, "OUTPUT": str(out / "clusters_from_layer.geojson")}
    )
    res["buffer_impact"] = run("buffer_impact", {
        "STORE": store, "BY": 2, "OUTPUT": str(out / "impact.gpkg"),
        "RINGS": str(out / "rings.gpkg"), "JSON": str(out / "impact.json"),
    })  # fmt: skip
    res["cha_check"] = run("cha_check", {
        "STORE": store, "OUTPUT": str(out / "uncovered.gpkg"), "STRAY": str(out / "stray.gpkg"),
    })  # fmt: skip
    res["overlay"] = run("overlay", {
        "STORE": store, "BY": 1, "OUTPUT": str(out / "overlay.gpkg"),
        "JSON": str(out / "overlay.json"),
    })  # fmt: skip
    hazards = QgsVectorLayer(f"{store}|layername=hazards", "hazards", "ogr")
    boundaries = QgsVectorLayer(f"{store}|layername=boundaries", "boundaries", "ogr")
    res["overlay_layers"] = run("overlay", {
        "HAZARDS": hazards, "BOUNDARIES": boundaries, "BY": 1,
        "JSON": str(out / "overlay_layers.json"), "OUTPUT": str(out / "overlay_layers.gpkg"),
    })  # fmt: skip
    res["report"] = run("report", {
        "STORE": store, "YEAR": 2024, "OUTPUT": str(out / "report.html"),
        "JSON": str(out / "report.json"),
    })  # fmt: skip
    res["field_sheets"] = run("field_sheets", {
        "STORE": store, "HAZARD_ID": "DEMO-HZ-0001", "OUTPUT": str(out / "sheet.pdf"),
    })  # fmt: skip
    for fmt in ("geojson", "gpkg", "kml", "gpx"):
        res[f"export_{fmt}"] = run("export", {
            "STORE": store, "LAYER": 0, "STATUS": "active", "OUTPUT": str(out / f"hazards.{fmt}"),
        })  # fmt: skip
    source_layer = QgsVectorLayer(source, "operator delivery", "ogr")
    res["validate"] = run("validate", {
        "INPUT": source_layer, "LAYER": 0, "ACCOUNTING": str(out / "validate.gpkg"),
    })  # fmt: skip
    # issue 16: the geocheck-grade QA of the real municipal boundaries, as kcmr validate
    from kosovo_cmr import settings

    municipalities = QgsVectorLayer(str(settings.resolve_boundaries_path()), "2018", "ogr")
    res["validate_qa"] = run("validate", {
        "INPUT": municipalities, "LAYER": 4, "ACCOUNTING": str(out / "validate_qa.gpkg"),
        "FINDINGS": str(out / "qa.gpkg"),
    })  # fmt: skip
    memory = source_layer.materialize(QgsFeatureRequest())  # not a file: copied first
    res["validate_memory"] = run("validate", {
        "INPUT": memory, "LAYER": 0, "ACCOUNTING": str(out / "validate_memory.gpkg"),
    })  # fmt: skip
    target = out / "imported.gpkg"
    res["import"] = run("import", {
        "INPUT": source_layer, "LAYER": 0, "STORE": str(target),
        "ACCOUNTING": str(out / "accounting.gpkg"), "REJECTS": str(out / "rejects.gpkg"),
    })  # fmt: skip
    styled = out / "styled.gpkg"
    shutil.copy(store, styled)
    res["style_store"] = run("style_store", {"STORE": str(styled)})
    res["styles"] = {
        "clusters": style(str(out / "clusters.gpkg")),
        "clusters_geojson": style(str(out / "clusters_from_layer.geojson")),
        "rings": style(str(out / "rings.gpkg")),
        "uncovered": style(str(out / "uncovered.gpkg")),
        "stray": style(str(out / "stray.gpkg")),
        "export_gpkg": style(str(out / "hazards.gpkg")),
        **{f"store_{n}": style(f"{styled}|layername={n}") for n in
           ("hazards", "releases", "evidence", "boundaries")},
        "store_unstyled_hazards": style(f"{store}|layername=hazards"),
    }  # fmt: skip
    res["refused"] = {
        "missing_store": run("fadeout", {"STORE": str(out / "nope.gpkg"), "OUTPUT": "x.gpkg"}),
        "no_input": run("fadeout", {"OUTPUT": str(out / "x.gpkg")}),
        "bad_output": run("fadeout", {"STORE": store, "OUTPUT": str(out / "x.csv")}),
        "bad_year": run("report", {"STORE": store, "YEAR": 2001, "OUTPUT": str(out / "r.html")}),
        "bad_status": run(
            "export",
            {
                "STORE": store,
                "LAYER": 0,
                "STATUS": "Active",
                "OUTPUT": str(out / "h.geojson"),
            },
        ),  # fmt: skip
        "bad_evidence_layer": run("fadeout", {"EVIDENCE": hazards, "OUTPUT": str(out / "y.gpkg")}),
    }
    return res


if __name__ == "__main__":
    result = main(*sys.argv[1:4])  # argv[4]: the plugins folder, used above
    print(json.dumps(result, default=str), flush=True)
    sys.stderr.flush()
    os._exit(0)  # QGIS 3.22 can crash while tearing down its Python objects at exit
