"""Run one algorithm of the kosovo_cmr provider in a headless QGIS; print its results.

``python qgis_run_algorithm.py NAME PARAMETERS_JSON`` with the python of the QGIS venv
(``tests/qgis_env.sh``). Prints one JSON object: the results (numbers, strings), or
``{"error": message}`` when the algorithm refused its input.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback  # noqa: E402

APP = QgsApplication([], False)
APP.initQgis()
sys.path.append("/usr/share/qgis/python/plugins")  # Debian's processing plugin

import processing  # noqa: E402
from processing.core.Processing import Processing  # noqa: E402

from kosovo_cmr.qgis.plugin import KcmrPlugin  # noqa: E402

Processing.initialize()
PLUGIN = KcmrPlugin()  # kept: the provider lives as long as the plugin
PLUGIN.initProcessing()


class Feedback(QgsProcessingFeedback):
    """Keeps the errors an algorithm reports."""

    def __init__(self):
        super().__init__()
        self.errors: list[str] = []

    def reportError(self, error, fatalError=False):  # noqa: N802, N803
        self.errors.append(error)


if __name__ == "__main__":
    feedback = Feedback()
    try:
        results = processing.run(
            f"kosovo_cmr:{sys.argv[1]}", json.loads(sys.argv[2]), feedback=feedback
        )
        out = {k: v for k, v in results.items() if isinstance(v, int | float | str)}
    except QgsProcessingException as exc:
        out = {"error": " | ".join(feedback.errors) or str(exc)}
    print(json.dumps(out), flush=True)
    os._exit(0)  # QGIS 3.22 can crash while tearing down its Python objects at exit
