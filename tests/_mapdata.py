"""Small layers for the map, field-map and export tests, built in memory (EPSG:4326)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

XSS = "<img src=x onerror=alert(1)>"
XSS_COLUMN = "<svg onload=alert(2)>"
JINJA = "{{ 7*7 }}{% if 1 %}x{% endif %}"

CENTRES = [(21.16, 42.66), (20.29, 42.66), (20.74, 42.21), (21.47, 42.46)]


def _metric_points():
    return gpd.GeoSeries([Point(x, y) for x, y in CENTRES], crs=4326).to_crs(9141)


def hazards(*, synthetic=True, hostile=False) -> gpd.GeoDataFrame:
    pts = _metric_points()
    polys = [p.buffer(150 + 40 * i, quad_segs=16) for i, p in enumerate(pts)]
    polys[1] = polys[1].difference(pts[1].buffer(40))  # a polygon with a hole
    geoms = gpd.GeoSeries(polys, crs=9141).to_crs(4326)
    gdf = gpd.GeoDataFrame(
        {
            "hazard_id": [f"DEMO-H{i}" if synthetic else f"H{i}" for i in range(4)],
            "kind": ["CHA", "SHA", "CHA", "SHA"],
            "status": ["active", "active", "active", "released"],
            "municipality": [XSS if hostile else "Prishtinë", "Pejë", "Prizren", "Gjilan"],
            "region": ["Centre", "West", "South", "East"],
            "priority": ["high", "medium", "low", "high"],
            "operator": [JINJA if hostile else "HALO", "NPA", "KSF", "HALO"],
            "ordnance": ["BLU-97", "BL755", "BLU-97", "unknown"],
            "recorded": pd.to_datetime(["2020-01-01", "2021-03-04", "2022-05-06", "2019-01-01"]),
            "closed": pd.to_datetime([None, None, None, "2024-05-01"]),
            "synthetic": [synthetic] * 4,
        },
        geometry=[shapely.MultiPolygon([g]) for g in geoms],
        crs=4326,
    )
    if hostile:
        gdf[XSS_COLUMN] = ["column payload", "", "", ""]
    return gdf


def evidence(n_per_hazard=100, *, synthetic=True) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(1)
    pts = _metric_points()
    out = []
    for p in pts[:3]:
        for _ in range(n_per_hazard):
            out.append(Point(p.x + rng.normal(0, 40), p.y + rng.normal(0, 40)))
    n = len(out)
    return gpd.GeoDataFrame(
        {
            "evidence_id": [f"DEMO-E{i}" for i in range(n)],
            "hazard_id": ["DEMO-H0"] * n,
            "item": ["submunition"] * n,
            "ordnance": ["BLU-97"] * n,
            "found": pd.to_datetime(["2023-06-01"] * n),
            "accuracy_m": [3.0] * n,
            "synthetic": [synthetic] * n,
        },
        geometry=gpd.GeoSeries(out, crs=9141).to_crs(4326).values,
        crs=4326,
    )


def strikes() -> gpd.GeoDataFrame:
    pts = _metric_points()
    return gpd.GeoDataFrame(
        {
            "strike_id": ["DEMO-S1", "DEMO-S2"],
            "date": pd.to_datetime(["1999-04-01"] * 2),
            "munition": ["CBU-87", "RBL755"],
            "bombs": [1, 1],
            "length_m": [200.0, 120.0],
            "width_m": [100.0, 60.0],
            "bearing_deg": [30.0, 120.0],
            "synthetic": [True, True],
        },
        geometry=gpd.GeoSeries(pts[:2].values, crs=9141).to_crs(4326).values,
        crs=4326,
    )


def releases() -> gpd.GeoDataFrame:
    pts = _metric_points()
    geoms = [
        pts[3].buffer(270, quad_segs=8),
        pts[0].buffer(400).difference(pts[0].buffer(150, quad_segs=16)),
        pts[2].buffer(600).difference(pts[2].buffer(300)),
        shapely.Polygon(),
    ]
    geoms = gpd.GeoSeries(geoms, crs=9141).to_crs(4326)
    return gpd.GeoDataFrame(
        {
            "release_id": ["DEMO-R1", "DEMO-R2", "DEMO-R3", "DEMO-R4"],
            "hazard_id": ["DEMO-H3", None, "DEMO-H2", None],
            "method": ["clearance", "cancellation_nts", "reduction_ts", "cancellation_nts"],
            "operator": ["HALO", "NPA", "HALO", "NPA"],
            "date": pd.to_datetime(["2024-05-01"] * 4),
            "district": ["Gjilan", "Prishtina", "Prizren", "Gracanica"],
            "submunitions": [3, 0, 0, 0],
            "ap_mines": [0, 0, 0, 0],
            "other_uxo": [0, 0, 1, 0],
            "cmr_found": [True, False, False, False],
            "synthetic": [True] * 4,
        },
        geometry=[
            shapely.MultiPolygon() if g.is_empty else shapely.MultiPolygon([g]) for g in geoms
        ],
        crs=4326,
    )


def layers(municipalities=None, *, hostile=False, synthetic=True) -> dict:
    out = {
        "hazards": hazards(hostile=hostile, synthetic=synthetic),
        "evidence": evidence(synthetic=synthetic),
        "strikes": strikes(),
        "releases": releases(),
    }
    if not synthetic:
        out = {"hazards": out["hazards"], "evidence": out["evidence"]}
    if municipalities is not None:
        out["boundaries"] = municipalities
    return out
