"""kosovo_cmr in QGIS: the Processing provider, and a store that opens styled.

Builds a store of the SYNTHETIC demo layers in a temporary folder, styles it for QGIS and
QField (the GeoPackage's ``layer_styles`` table), packs the plugin as a zip for QGIS's
"Install from ZIP", and installs it into a (temporary) QGIS profile.

Then, if the distribution's QGIS is on this machine (Debian: ``apt install python3-qgis``),
it runs the provider's buffer-rule impact and overlay algorithms headless, in the venv
``tests/qgis_env.sh`` makes from the system python, and checks that they give the figures
the library gives. Every figure is of synthetic data.

Run from anywhere::

    python examples/qgis_provider.py
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from kosovo_cmr import settings
from kosovo_cmr.analysis.rules import load_rule
from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.outputs.qgis_styles import read_layer_styles, write_layer_styles
from kosovo_cmr.qgis.packaging import install_plugin, write_plugin_zip
from kosovo_cmr.workflows.fadeout import impact_from_store

out = Path(tempfile.mkdtemp(prefix="kcmr-qgis-"))

# 1. A store of SYNTHETIC demo layers, styled: QGIS and QField open each layer with
#    CHAs red, SHAs orange, released land green (by method), evidence purple.
ctx = run_demo(out, boundaries=settings.resolve_boundaries_path(), steps=[load_layers])
store = ctx.store.uri
print("styled:", ", ".join(write_layer_styles(store)))
qml = read_layer_styles(store)["hazards"]
print(f"hazards: a categorised style ({len(qml):,} characters of QML) in layer_styles")

# 2. The plugin: a zip for Plugins > Install from ZIP, or copied into a profile.
print("plugin zip:", write_plugin_zip(out / "kosovo_cmr_qgis.zip"))
(out / "profiles" / "default").mkdir(parents=True)
print("installed:", install_plugin("default", profiles_dir=out / "profiles"))

# 3. The figure the algorithms must reproduce: the saving of the 2024 rule change.
old, new = load_rule("kosovo-pre-2024"), load_rule("kosovo-nmas-2024")
library = impact_from_store(ctx.store, old, new, by="region")
print(f"library: {library.total['saved_m2']:,.0f} m2 saved (SYNTHETIC)")

# 4. The same in QGIS, when QGIS is here.
qgis = subprocess.run(
    ["/usr/bin/python3", "-c", "import qgis.core"],
    capture_output=True,
    env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
)
if qgis.returncode != 0:
    print("QGIS is not installed here: install python3-qgis to run the algorithms headless")
    sys.exit(0)
root = Path(__file__).resolve().parent.parent
made = subprocess.run(
    ["bash", str(root / "tests" / "qgis_env.sh")], capture_output=True, text=True, check=True
)
python = made.stdout.strip().splitlines()[-1]
script = textwrap.dedent(f"""
    import json, os, sys
    from qgis.core import QgsApplication
    app = QgsApplication([], False); app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing
    import processing
    Processing.initialize()
    from kosovo_cmr.qgis.plugin import KcmrPlugin
    plugin = KcmrPlugin()  # keep it: the provider lives as long as the plugin
    plugin.initProcessing()
    impact = processing.run("kosovo_cmr:buffer_impact", {{
        "STORE": {store!r}, "BY": 3, "OUTPUT": {str(out / "impact.gpkg")!r},
        "RINGS": {str(out / "rings.gpkg")!r}}})
    overlay = processing.run("kosovo_cmr:overlay", {{
        "STORE": {store!r}, "BY": 0, "OUTPUT": {str(out / "overlay.gpkg")!r}}})
    print(json.dumps({{"saved_m2": impact["SAVED_M2"], "regions": overlay["ROWS"]}}), flush=True)
    os._exit(0)
""")
ran = subprocess.run(
    [python, "-c", script],
    capture_output=True,
    text=True,
    env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
)
if ran.returncode != 0:
    sys.exit(ran.stderr[-2000:])
in_qgis = json.loads(ran.stdout.strip().splitlines()[-1])
print(f"QGIS:    {in_qgis['saved_m2']:,.0f} m2 saved, {in_qgis['regions']} regions (SYNTHETIC)")
assert abs(in_qgis["saved_m2"] - library.total["saved_m2"]) < 1e-6 * library.total["saved_m2"]
print(f"rings (styled, open in QGIS): {out / 'rings.gpkg'}")
