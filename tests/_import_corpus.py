"""Builders for the importer's corpus of good and bad inputs, written to tmp_path."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from shapely.geometry import Point, Polygon, box

LON, LAT = 21.10, 42.60  # near Prishtinë
D = 0.001  # about 80-110 m


def square(i: int = 0, size: float = D) -> Polygon:
    x = LON + i * 3 * D
    return box(x, LAT, x + size, LAT + size)


def hazards(n: int = 3, *, prefix: str = "H") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "hazard_id": [f"{prefix}-{i}" for i in range(n)],
            "kind": ["CHA"] * n,
            "recorded": ["2024-05-01"] * n,
            "operator": ["HALO"] * n,
            "field_note": [f"note {i}" for i in range(n)],
        },
        geometry=[square(i) for i in range(n)],
        crs=4326,
    )


def write_geojson(path: Path, features: list[dict], *, crs: str | None = None) -> Path:
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def feature(props: dict, geometry) -> dict:
    geom = geometry
    if not isinstance(geometry, dict | type(None)):
        geom = shapely.geometry.mapping(geometry)
    return {"type": "Feature", "properties": props, "geometry": geom}


def props(i: str, **extra) -> dict:
    return {"hazard_id": i, "kind": "SHA", "recorded": "2024-06-01", **extra}


def ring(coords) -> dict:
    return {"type": "Polygon", "coordinates": [coords]}


def bowtie_coords():
    return [[LON, LAT], [LON + D, LAT + D], [LON + D, LAT], [LON, LAT + D], [LON, LAT]]


def write_gpkg(path: Path, gdf: gpd.GeoDataFrame, layer: str = "data", **kw) -> Path:
    pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG", **kw)
    return path


def write_zip(path: Path, members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def evidence_points(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "evidence_id": [f"E-{i}" for i in range(n)],
            "item": ["submunition"] * n,
            "ordnance": ["BLU-97"] * n,
        },
        geometry=[Point(LON + i * D, LAT) for i in range(n)],
        crs=4326,
    )


@contextlib.contextmanager
def read_only(*paths: Path):
    """Make files and folders read-only for this process, root included, then restore.

    Root ignores permission bits, so as root the paths are made immutable
    (``chattr +i``: nobody may write them); otherwise their write bits are removed.
    """
    as_root = os.geteuid() == 0
    modes = {p: p.stat().st_mode for p in paths}
    try:
        for p in paths:
            if as_root:
                subprocess.run(["chattr", "+i", str(p)], check=True, capture_output=True)
            else:
                p.chmod(modes[p] & ~0o222)
        yield
    finally:
        for p in paths:
            if as_root:
                subprocess.run(["chattr", "-i", str(p)], check=False, capture_output=True)
            else:
                p.chmod(modes[p])
