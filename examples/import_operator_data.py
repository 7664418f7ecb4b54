"""Import an operator's delivery the way a KMAC GIS officer would, and account for it.

The delivery is made up here, in a temporary folder (no real hazard data is public):
a Shapefile of hazardous areas with IMSMA field names and one bow-tie polygon, a CSV of
evidence points with MGRS references (one of them mistyped, one only a 1 km square), an
IMSMA turning-point table whose second polygon does not close, and a Shapefile from the
north written in cp1250 without its ``.cpg``, with Serbian municipality names (one
hazard has none). The real municipal boundaries are imported first, all 40 features.
Every import prints read = imported + rejected; the notices say how the text was
decoded, which names were written canonically and which municipalities were taken from
the geometry. Last, a file that is not what its name says (an OGR VRT document named
``.geojson``) is refused before GDAL opens it.

Run it from anywhere: ``python examples/import_operator_data.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pyogrio
from shapely.geometry import Polygon, box

from kosovo_cmr import settings
from kosovo_cmr.errors import InputError
from kosovo_cmr.importer import IdConflictError, import_layer, validate_source
from kosovo_cmr.store import open_store

LON, LAT, D = 21.10, 42.60, 0.001  # near Prishtinë


def make_delivery(folder: Path) -> dict[str, Path]:
    hazards = gpd.GeoDataFrame(
        {
            "HazardID": ["HALO-24-001", "HALO-24-002", "HALO-24-003"],
            "HazardType": ["Confirmed Hazardous Area", "SHA", "CHA"],
            "DateRecord": ["2024-04-12", "2024-05-03", "2024-06-21"],
            "Organisati": ["HALO", "HALO", "HALO"],
            "Remarks": ["near the school", "orchard", "drawn as a bow-tie by mistake"],
        },
        geometry=[
            box(LON, LAT, LON + D, LAT + D),
            box(LON + 3 * D, LAT, LON + 5 * D, LAT + D),
            Polygon(
                [
                    (LON, LAT + 3 * D),
                    (LON + D, LAT + 4 * D),
                    (LON + D, LAT + 3 * D),
                    (LON, LAT + 4 * D),
                ]
            ),
        ],  # fmt: skip
        crs="EPSG:4326",
    ).to_crs(settings.utm_crs)  # operators' GPS grid
    pyogrio.write_dataframe(hazards, folder / "halo_hazards.shp", encoding="UTF-8")

    (folder / "npa_finds.csv").write_text(
        "\ufeffevidence_id;item;ordnance;MGRS;found\n"
        "NPA-E-1;submunition;BLU-97;34T EN 08203 16401;12.05.2024\n"
        "NPA-E-2;fragments;BLU-97;34T EN 08250 16420;12.05.2024\n"
        "NPA-E-3;crater;BLU-97;34T EN 0825 1642O;13.05.2024\n"  # letter O for a zero
        "NPA-E-4;crater;BLU-97;34T EN 08 16;14.05.2024\n",  # a 1 km square: too coarse
        encoding="utf-8",
    )

    rows = ["PolyID,PointNo,PointID,PointType,MGRS,Bearing,Distance,From,Kind,Recorded"]
    for poly, last in (("KSF-24-101", 120), ("KSF-24-102", 90)):
        rows += [
            f"{poly},1,BM1,BM,34T EN 09000 17000,,,,CHA,2024-08-01",
            f"{poly},2,SP,SP,,30,40,BM1,,",
            f"{poly},3,TP1,TP,,120,120,SP,,",
            f"{poly},4,TP2,TP,,240,120,TP1,,",
            f"{poly},5,EP,EP,,0,{last},TP2,,",
        ]
    (folder / "ksf_turning_points.csv").write_text("\n".join(rows) + "\n")

    north = gpd.GeoDataFrame(
        {
            "HazardID": ["NPA-24-N1", "NPA-24-N2", "NPA-24-N3", "NPA-24-N4"],
            "HazardType": ["CHA", "CHA", "SHA", "SHA"],
            "DateRecord": ["2024-09-02", "2024-09-03", "2024-09-03", "2024-09-04"],
            "Opstina": ["Leposavić", "Zvečan", "Severna Mitrovica", None],
        },
        geometry=[box(x, y, x + D, y + D) for x, y in
                  ((20.80, 43.10), (20.84, 42.91), (20.867, 42.895), (20.79, 43.09))],
        crs="EPSG:4326",
    )  # fmt: skip
    pyogrio.write_dataframe(north, folder / "npa_north.shp", encoding="cp1250")
    (folder / "npa_north.cpg").unlink()  # as delivered: GDAL alone would read mojibake

    (folder / "areas.geojson").write_text(
        '<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/hostname'
        "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>"
    )
    return {
        "hazards": folder / "halo_hazards.shp",
        "evidence": folder / "npa_finds.csv",
        "traverse": folder / "ksf_turning_points.csv",
        "north": folder / "npa_north.shp",
        "disguised": folder / "areas.geojson",
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_delivery(folder)
        store = folder / "kmac.gpkg"

        print("== dry run first: kcmr validate")
        print(validate_source(files["hazards"], "hazards", store=store).summary())

        jobs = [
            (settings.resolve_boundaries_path(), "boundaries", {}),
            (files["hazards"], "hazards", {}),
            (files["evidence"], "evidence", {}),
            (files["traverse"], "hazards", {"bearing": "grid"}),
            (files["north"], "hazards", {}),
        ]
        for path, layer, options in jobs:
            print(f"\n== kcmr import {path.name} --layer {layer}")
            report = import_layer(
                path, layer, store=store, rejects=folder / f"{path.stem}.rejects.gpkg", **options
            )
            print(report.summary())
            assert report.read == report.imported + report.rejected

        print("\n== the same file again, default settings: nothing is stored twice")
        try:
            import_layer(files["hazards"], "hazards", store=store)
        except IdConflictError as exc:
            print(f"refused: {exc}")

        print("\n== the north's names, as stored")
        hazards = open_store(store).read("hazards").set_index("hazard_id")
        print(hazards.loc[hazards.index.str.startswith("NPA"), ["municipality", "region"]])

        print("\n== a file that is not what its name says")
        try:
            import_layer(files["disguised"], "hazards", store=store)
        except InputError as exc:
            print(f"refused: {exc}")

        print("\n== the store")
        print(open_store(store).info()[["layer", "features", "area_m2"]].to_string(index=False))


if __name__ == "__main__":
    main()
