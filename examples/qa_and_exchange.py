"""Check a layer as GICHD geocheck would, and exchange data with IMSMA Core / ArcGIS.

1. The real municipal boundaries of 2018 (read by path from ``../shared/data``) are
   checked with :func:`kosovo_cmr.import_qa.check_source`: every finding is printed with
   its location (the spike shared by Prizren and Shtërpcë, a duplicate vertex in
   Prishtinë, Viti drawn over Kllokot: 23.4 km2) and written to a GeoPackage a GIS
   officer opens in QGIS or ArcGIS.
2. The SYNTHETIC demo hazards are exported to a File Geodatabase under IMSMA Core style
   field names, with a coded-value domain per column of fixed values; the domains are
   read back, and the geodatabase is imported into a second store with the same
   mapping: nothing lost.
3. A turning-point table typed in UTM 34N, MGRS and bearings is imported; the cells as
   typed are kept beside the polygon, written back as a table, and that table imports
   to the same hazard.

Everything is written in a temporary folder. Run it from anywhere:
``python examples/qa_and_exchange.py`` (needs GDAL's ``ogr2ogr`` for the domains;
without it the coded values go to a table, with a warning).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import shapely

from kosovo_cmr import settings
from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.import_mappings import export_renames, read_mapping
from kosovo_cmr.import_qa import check_source
from kosovo_cmr.importer import import_layer
from kosovo_cmr.outputs.entered_points import to_turning_points
from kosovo_cmr.outputs.filegdb import FIELD_NAMES, to_filegdb
from kosovo_cmr.outputs.qa_findings import write_findings
from kosovo_cmr.sources.filegdb import filegdb_domains
from kosovo_cmr.store import open_store

TURNING_POINTS = """\
PolyID,PointNo,PointID,PointType,X,Y,MGRS,Bearing,Distance,From,Kind,Recorded
KS-HA-0042,1,BM1,BM,505000.0,4720000.0,,,,,CHA,2024-05-02
KS-HA-0042,2,SP,SP,,,,45,141.4214,BM1,CHA,2024-05-02
KS-HA-0042,3,TP1,TP,505200.00,4720100.00,,,,,CHA,2024-05-02
KS-HA-0042,4,TP2,TP,,,34TEN0520020200,,,,CHA,2024-05-02
KS-HA-0042,5,TP3,TP,,,,270,100.0,TP2,CHA,2024-05-02
KS-HA-0042,6,EP,EP,,,,180.0,100,TP3,CHA,2024-05-02
"""


def check_boundaries(folder: Path) -> None:
    boundaries = settings.resolve_boundaries_path()
    result = check_source(boundaries, "boundaries")
    print(result.summary())
    overlap = result.findings[result.findings["code"] == "overlap"].iloc[0]
    assert (overlap["feature_id"], overlap["other_id"]) == ("Viti", "Kllokot")
    assert abs(overlap["area_m2"] / 1e6 - 23.4) < 0.05
    out = write_findings(result, folder / "boundaries-qa.gpkg")
    print(f"findings written to {out}\n")


def exchange_with_imsma(folder: Path) -> None:
    demo = run_demo(folder / "demo", steps=[load_layers])
    hazards = demo.store.read("hazards")
    mapping = read_mapping("imsma_core")
    renames = export_renames(mapping, "hazards", hazards.columns)
    imsma = hazards.rename(columns=renames)
    imsma.attrs[FIELD_NAMES] = renames
    gdb = to_filegdb({"hazards": imsma}, folder / "imsma_hazards.gdb")
    domains = filegdb_domains(gdb)
    for field, domain in domains.fields["hazards"].items():
        print(f"{gdb.name}: {field} uses {domain}: {', '.join(domains.domains[domain])}")
    report = import_layer(gdb, "hazards", store=folder / "back.gpkg", mapping="imsma_core")
    print(report.summary())
    back = open_store(folder / "back.gpkg").read("hazards").set_index("hazard_id")
    before = hazards.set_index("hazard_id")
    assert report.imported == len(hazards) and sorted(back.index) == sorted(before.index)
    assert (back.loc[before.index, "kind"] == before["kind"]).all()
    assert bool(back["synthetic"].all())  # SYNTHETIC demo hazards stay synthetic
    print()


def surveyor_typed(folder: Path) -> None:
    table = folder / "turning-points.csv"
    table.write_text(TURNING_POINTS, encoding="utf-8")
    options = {"crs": "EPSG:32634", "bearing": "grid"}
    import_layer(table, "hazards", store=folder / "typed.gpkg", **options)
    hazard = open_store(folder / "typed.gpkg").read("hazards")
    points = json.loads(hazard["entered_points"].iloc[0])
    for p in points:
        typed = p["entered_mgrs"] or (p["entered_x"], p["entered_y"])
        if p["format"] == "leg":
            typed = f"{p['bearing']} deg, {p['distance']} m from {p['from_point']}"
        print(f"{p['point_id']:4} {p['format']:5} typed {typed}  ->  {p['lon']:.6f} {p['lat']:.6f}")
    back = to_turning_points(hazard, folder / "written-back.csv")
    import_layer(back, "hazards", store=folder / "again.gpkg", **options)
    again = open_store(folder / "again.gpkg").read("hazards")
    assert again["entered_points"].iloc[0] == hazard["entered_points"].iloc[0]
    assert shapely.hausdorff_distance(again.geometry.iloc[0], hazard.geometry.iloc[0]) < 1e-9
    print(f"written back to {back.name} and imported again: the same hazard")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        check_boundaries(folder)
        exchange_with_imsma(folder)
        surveyor_typed(folder)


if __name__ == "__main__":
    main()
