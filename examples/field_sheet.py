"""Field sheets for one hazard in three languages, its turning points, GPS files, an atlas.

Loads the synthetic demo layers into a temporary GeoPackage and writes the demo's
SYNTHETIC DEM beside it; then, for the largest open CHA:

1. its field sheet on A4 (UTM grid) with hillshade and contours from the DEM, in
   English, Albanian and Serbian, and on A3 with the national grid;
2. what the sheet states, computed apart: the magnetic declination for the date (World
   Magnetic Model) and the turning points with true and magnetic bearings;
3. its outline and turning points as GPX and KML for handheld GPS units;
4. the atlas of every open hazard (closed ones left out, and said so).

Every sheet carries the "SYNTHETIC - NOT FOR FIELD USE" warning. Run from anywhere::

    python examples/field_sheet.py
"""

import tempfile
from datetime import date
from pathlib import Path

from kosovo_cmr import settings
from kosovo_cmr.analysis.sheet_facts import sheet_facts
from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.outputs.gps import to_gpx, to_kml
from kosovo_cmr.synthetic.terrain import synthetic_terrain
from kosovo_cmr.workflows.fieldsheets import write_atlas, write_field_map
from kosovo_cmr.workflows.maps import read_layers

out = Path(tempfile.mkdtemp(prefix="kcmr-field-"))
ctx = run_demo(out, boundaries=settings.resolve_boundaries_path(), steps=[load_layers])
layers = read_layers(ctx.store)
dem, _ = synthetic_terrain(out)  # SYNTHETIC relief, tagged so
today = date(2026, 6, 1)  # the sheet's date: printed, and the declination's date

hazards = layers["hazards"]
active = hazards[hazards["status"] == "active"]
cha = active[active["kind"] == "CHA"]
hazard_id = cha.assign(area_m2=geodesic_area(cha)).sort_values("area_m2").hazard_id.iloc[-1]
one = active[active["hazard_id"] == hazard_id]

# 1. The sheet with ground context, in the three languages, and on A3 with the national grid.
for lang in ("en", "sq", "sr"):
    path = out / f"sheet-{lang}.pdf"
    print(write_field_map(hazards, hazard_id, path, layers=layers, dem=dem, lang=lang,
                          today=today))  # fmt: skip
print(write_field_map(hazards, hazard_id, out / "sheet-national-a3.pdf", layers=layers,
                      dem=dem, paper="A3", grid="national", today=today))  # fmt: skip

# 2. What the sheet states: declination (model, date) and the turning points.
facts = sheet_facts(one, on=today)
d = facts.declination
print(f"declination {d.declination_deg:+.2f} deg ({d.model}, {d.on}), "
      f"annual change {d.annual_change_deg:+.2f} deg")  # fmt: skip
print(f"missing attributes: {', '.join(facts.missing) or 'none'}; "
      f"benchmark {'recorded' if facts.benchmark.recorded else 'PROPOSED'}")  # fmt: skip
columns = ["label", "utm_e", "utm_n", "mgrs", "bearing_deg", "magnetic_bearing_deg", "distance_m"]
print(facts.points[columns].head().round(1))

# 3. For the GPS units: the outline as a track, the turning points and evidence as waypoints.
evidence = layers["evidence"]
print(to_gpx(one, out / f"{hazard_id}.gpx", name=hazard_id))
print(to_gpx(evidence[evidence["hazard_id"] == hazard_id], out / "evidence.gpx", name="evidence"))
print(to_kml(active, out / "active-hazards.kml", name="active hazards"))

# 4. The atlas: one sheet per open hazard, with the DEM.
print(write_atlas(hazards, out / "atlas.pdf", layers=layers, dem=dem, today=today))
