"""A field sheet for one hazard, its GPS files, and the atlas of every open hazard.

Loads the synthetic demo layers into a temporary GeoPackage, then for the largest open
CHA writes a one-page A4 field sheet (UTM 34N grid), an A3 sheet on the national grid,
its turning points as a table, and GPX and KML files for handheld GPS units; finally the
atlas of all 35 open hazards as one PDF. Every sheet carries the "SYNTHETIC - NOT FOR
FIELD USE" watermark.

Run from anywhere::

    python examples/field_sheet.py
"""

import tempfile
from pathlib import Path

from kosovo_cmr import settings
from kosovo_cmr.analysis.turning_points import turning_points
from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.outputs.fieldmap import write_atlas, write_field_map
from kosovo_cmr.outputs.gps import to_gpx, to_kml
from kosovo_cmr.workflows.maps import read_layers

out = Path(tempfile.mkdtemp(prefix="kcmr-field-"))
ctx = run_demo(out, boundaries=settings.resolve_boundaries_path(), steps=[load_layers])
layers = read_layers(ctx.store)

hazards = layers["hazards"]
active = hazards[hazards["status"] == "active"]
cha = active[active["kind"] == "CHA"]
hazard_id = cha.assign(area_m2=geodesic_area(cha)).sort_values("area_m2").hazard_id.iloc[-1]
one = active[active["hazard_id"] == hazard_id]

# 1. The sheet, on A4 with the UTM grid, and on A3 with the national grid.
print(write_field_map(active, hazard_id, out / "sheet-utm-a4.pdf", layers=layers))
print(
    write_field_map(
        active, hazard_id, out / "sheet-national-a3.pdf", layers=layers, paper="A3", grid="national"
    )
)

# 2. Its turning points: UTM, national grid, MGRS, bearing and distance to the next.
points = turning_points(one)
print(points[["label", "utm_e", "utm_n", "mgrs", "bearing_deg", "distance_m"]].head().round(1))

# 3. For the GPS units: outline as a track, turning points and evidence as waypoints.
evidence = layers["evidence"]
print(to_gpx(one, out / f"{hazard_id}.gpx", name=hazard_id))
print(to_gpx(evidence[evidence["hazard_id"] == hazard_id], out / "evidence.gpx", name="evidence"))
print(to_kml(active, out / "active-hazards.kml", name="active hazards"))

# 4. The atlas: one page per open hazard.
print(write_atlas(active, out / "atlas.pdf", layers=layers))
