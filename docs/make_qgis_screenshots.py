"""Make the screenshots of docs/guides/qgis.rst in a headless QGIS.

Run with the python of the QGIS venv (``tests/qgis_env.sh``) after ``kcmr demo``::

    QT_QPA_PLATFORM=offscreen .venv-qgis/bin/python docs/make_qgis_screenshots.py kcmr-demo

Writes into ``docs/_static/qgis/``: ``toolbox.png`` (the provider in the Processing
toolbox), ``dialog.png`` (the buffer-rule impact algorithm's dialog), ``store.png`` (the
demo store as QGIS opens it, styled from its ``layer_styles`` table, with a legend) and
``impact.png`` (the algorithm's fade-out rings over the clusters, styled). The store is
copied first: the demo folder is left as it was. Every picture of the demo data says
SYNTHETIC.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsPrintLayout,
    QgsProject,
    QgsRectangle,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QRectF  # noqa: E402
from qgis.PyQt.QtGui import QFont  # noqa: E402

APP = QgsApplication([], True)
APP.initQgis()
sys.path.append("/usr/share/qgis/python/plugins")  # Debian's processing plugin

STATIC = Path(__file__).resolve().parent / "_static" / "qgis"
BANNER = "SYNTHETIC DEMO DATA - NOT FOR FIELD USE"


def grab(widget, path: Path, size: tuple[int, int]) -> None:
    """Show a widget at ``size`` and save what it draws."""
    widget.resize(*size)
    widget.show()
    APP.processEvents()
    assert widget.grab().save(str(path)), path


def toolbox(provider) -> None:
    """Draw the Processing toolbox with only our provider registered (before Processing's)."""
    from qgis.gui import QgsProcessingToolboxTreeView

    QgsApplication.processingRegistry().addProvider(provider)
    view = QgsProcessingToolboxTreeView(None, QgsApplication.processingRegistry())
    view.setHeaderHidden(True)
    view.expandAll()
    grab(view, STATIC / "toolbox.png", (600, 370))


def dialog() -> None:
    """Draw the buffer-rule impact algorithm's dialog."""
    from processing.gui.AlgorithmDialog import AlgorithmDialog

    alg = QgsApplication.processingRegistry().createAlgorithmById("kosovo_cmr:buffer_impact")
    grab(AlgorithmDialog(alg, False, None), STATIC / "dialog.png", (900, 560))


def layout(layers, extent: QgsRectangle, path: Path, title: str) -> None:
    """Export a page: the map, its legend, a title and the SYNTHETIC banner, as PNG."""
    project = QgsProject.instance()
    page = QgsPrintLayout(project)
    page.initializeDefaults()
    page.pageCollection().page(0).setPageSize(QgsLayoutSize(320, 150))
    item = QgsLayoutItemMap(page)
    item.attemptSetSceneRect(QRectF(5, 14, 180, 122))
    item.setLayers(layers)
    item.zoomToExtent(extent)  # keeps the item's size (setExtent would resize it)
    item.setFrameEnabled(True)
    page.addLayoutItem(item)
    legend = QgsLayoutItemLegend(page)
    legend.setLinkedMap(item)
    legend.setAutoUpdateModel(False)
    root = legend.model().rootGroup()
    root.clear()
    for layer in layers:
        root.addLayer(layer)
    legend.attemptMove(QgsLayoutPoint(188, 14, QgsUnitTypes.LayoutMillimeters))
    page.addLayoutItem(legend)
    for text, y, size in ((title, 3, 12), (BANNER, 140, 9)):
        label = QgsLayoutItemLabel(page)
        label.setText(text)
        label.setFont(QFont("DejaVu Sans", size, QFont.Bold))
        label.attemptSetSceneRect(QRectF(5, y, 310, 8))
        page.addLayoutItem(label)
    settings = QgsLayoutExporter.ImageExportSettings()
    settings.dpi = 110
    result = QgsLayoutExporter(page).exportToImage(str(path), settings)
    assert result == QgsLayoutExporter.Success, result


def busiest(hazards, *, half_width: float) -> QgsRectangle:
    """Return a window (degrees) around the hazard with the most hazards near it."""
    points = [f.geometry().centroid().asPoint() for f in hazards.getFeatures()]

    def near(p) -> int:
        return sum(abs(p.x() - q.x()) < half_width and abs(p.y() - q.y()) < half_width * 0.6
                   for q in points)  # fmt: skip

    c = max(points, key=near)
    w, h = half_width, half_width * 0.68
    return QgsRectangle(c.x() - w, c.y() - h, c.x() + w, c.y() + h)


def store_picture(store: Path) -> list:
    """Draw the store styled from its layer_styles (written by the provider's algorithm)."""
    import processing

    processing.run("kosovo_cmr:style_store", {"STORE": str(store)})
    names = ("boundaries", "releases", "hazards", "evidence")
    layers = [QgsVectorLayer(f"{store}|layername={n}", n, "ogr") for n in names]
    for layer in layers:
        QgsProject.instance().addMapLayer(layer, False)
    extent = busiest(layers[2], half_width=0.05)
    layout(layers[::-1], extent, STATIC / "store.png", "The demo store in QGIS, as stored")
    return layers


def impact_picture(store: Path, work: Path, layers) -> None:
    """Draw the buffer-rule impact's rings over the fade-out clusters, styled."""
    import processing

    out = processing.run("kosovo_cmr:buffer_impact", {
        "STORE": str(store), "BY": 2, "OUTPUT": str(work / "impact.gpkg"),
        "RINGS": str(work / "rings.gpkg"),
    })  # fmt: skip
    clusters = processing.run(
        "kosovo_cmr:fadeout", {"STORE": str(store), "OUTPUT": str(work / "clusters.gpkg")}
    )
    rings = QgsVectorLayer(out["RINGS"], "rings (50 m minus 25 m)", "ogr")
    area = QgsVectorLayer(clusters["OUTPUT"], "area to clear (25 m)", "ogr")
    evidence = layers[3]
    for layer in (rings, area):
        QgsProject.instance().addMapLayer(layer, False)
    extent = rings.getFeature(next(rings.getFeatures()).id()).geometry().boundingBox()
    extent.grow(0.004)
    title = f"Buffer-rule impact, 50 m to 25 m: {out['SAVED_M2']:,.0f} m2 saved in the store"
    layout([evidence, rings, area, layers[2]], extent, STATIC / "impact.png", title)


def main(demo: str) -> None:
    """Make every picture from the demo folder ``demo``."""
    from processing.core.Processing import Processing

    from kosovo_cmr.qgis.provider import KcmrProvider

    STATIC.mkdir(parents=True, exist_ok=True)
    provider = KcmrProvider()
    toolbox(provider)
    Processing.initialize()
    dialog()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "kcmr.gpkg"
        shutil.copyfile(Path(demo) / "kcmr.gpkg", store)
        layers = store_picture(store)
        impact_picture(store, Path(tmp), layers)
    for png in sorted(STATIC.glob("*.png")):
        print(png)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "kcmr-demo")
    os._exit(0)  # QGIS 3.22 can crash while tearing down its Python objects at exit
