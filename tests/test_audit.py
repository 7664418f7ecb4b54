"""The evidence audit: supported + unsupported = area, flags, the CLI on the demo store."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, box

from kosovo_cmr.analysis.audit import evidence_audit
from kosovo_cmr.cli.main import cli

X0, Y0 = 7_480_000.0, 4_700_000.0


def _layers():
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1", "H2"], "kind": ["CHA", "SHA"]},
        geometry=[box(X0, Y0, X0 + 400, Y0 + 200), box(X0 + 1000, Y0, X0 + 1200, Y0 + 200)],
        crs=9141,
    )
    evidence = gpd.GeoDataFrame(
        {
            "evidence_id": ["E1", "E2", "E3", "E4"],
            "hazard_id": ["H1", "H1", "H1", None],
            "item": ["component", "crater", "fragments", "component"],
            "ordnance": ["BLU-97", "BLU-97", "other", "BLU-97"],
            "found": ["2022-05-01", "2010-05-01", "2022-05-01", "2022-05-01"],
            "accuracy_m": [3.0, 12.0, np.nan, 2.0],
        },
        geometry=[
            Point(X0 + 100, Y0 + 100),  # disk of 25 m, whole inside H1
            Point(X0 + 300, Y0 + 100),  # 25 m
            Point(X0 + 500, Y0 + 100),  # recorded for H1, outside it; 50 m (other)
            Point(X0 + 3000, Y0 + 3000),  # outside every hazard
        ],
        crs=9141,
    )
    return hazards.to_crs(4326), evidence.to_crs(4326)


def test_supported_and_unsupported_partition_each_hazard():
    hazards, evidence = _layers()
    result = evidence_audit(hazards, evidence, footprints="none", as_of="2024-12-31")
    rows = result.hazards.set_index("hazard_id")
    h1, h2 = rows.loc["H1"], rows.loc["H2"]
    assert h1.area_m2 == pytest.approx(400 * 200, rel=1e-3)
    # two 25 m disks inside, plus the part of E3's 50 m disk that reaches in
    # (a circular segment of height 50 - (500 - 400) < 0: none) -> 2 pi 25^2
    assert h1.supported_m2 == pytest.approx(2 * np.pi * 25**2, rel=2e-3)
    assert abs(h1.supported_m2 + h1.unsupported_m2 - h1.area_m2) < 1.0
    assert abs(h1.closure_m2) < 1.0
    assert (h1.evidence, h1.evidence_outside, h1.evidence_old) == (3, 1, 1)
    assert (h1.evidence_poor_accuracy, h1.evidence_unknown_accuracy) == (1, 1)
    assert h1.spent_share == pytest.approx(2 / 3)
    assert "evidence outside its polygon" in h1["flags"]
    assert h2.supported_m2 == 0 and h2.evidence == 0 and h2["flags"] == "no evidence"
    assert h2.unsupported_pct == pytest.approx(100.0)
    status = result.evidence.set_index("evidence_id")["status"]
    assert status.to_dict() == {"E1": "in_cha", "E2": "in_cha", "E3": "outside", "E4": "outside"}
    # the unsupported layer: one part per hazard, its area the row's
    layer = result.unsupported.set_index("hazard_id")
    from kosovo_cmr.crs import geodesic_area

    assert geodesic_area(layer.geometry).tolist() == pytest.approx(
        [h1.unsupported_m2, h2.unsupported_m2], rel=1e-9
    )
    doc = json.loads(result.to_json())
    assert {r["evidence_id"] for r in doc["evidence_outside"]} == {"E3", "E4"}


def test_a_footprint_adds_support():
    hazards, evidence = _layers()
    strikes = gpd.GeoDataFrame(
        {
            "strike_id": ["S1"],
            "munition": ["CBU-87"],
            "length_m": [150.0],
            "width_m": [80.0],
            "bearing_deg": [90.0],
        },
        geometry=[Point(X0 + 200, Y0 + 100)],
        crs=9141,
    )
    none = evidence_audit(hazards, evidence, footprints="none", as_of="2024-12-31")
    rec = evidence_audit(
        hazards, evidence, strikes=strikes, footprints="recorded", as_of="2024-12-31"
    )
    a, b = none.hazards.iloc[0], rec.hazards.iloc[0]
    # the oval 150 x 80 m plus 25 m: at least its own area more than the disks alone
    assert b.supported_m2 > a.supported_m2 + np.pi * 75 * 40 * 0.5
    assert b.footprints == 1 and abs(b.closure_m2) < 1.0


def test_kcmr_audit_json_on_the_demo_store(demo_store, tmp_path):
    out = tmp_path / "unsupported.gpkg"
    res = CliRunner().invoke(
        cli,
        [
            "--store",
            demo_store.uri,
            "audit",
            "--format",
            "json",
            "--as-of",
            "2024-12-31",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    rows = doc["hazards"]
    assert len(rows) == 35
    for r in rows:
        for key in (
            "hazard_id",
            "area_m2",
            "supported_m2",
            "unsupported_m2",
            "unsupported_pct",
            "evidence",
            "evidence_outside",
        ):
            assert key in r
        assert abs(r["supported_m2"] + r["unsupported_m2"] - r["area_m2"]) < 1.0
    assert sum(r["area_m2"] for r in rows) == pytest.approx(3_841_614 + 2_423_678, abs=1)
    layer = pyogrio.read_dataframe(out, layer="unsupported_land")
    assert len(layer) == 35 and layer["synthetic"].all()


def test_the_map_layer_reads_only_evidence_near_hazards_and_loses_nothing(demo_store):
    """Issue 14 on issue 17's map layer: evidence 1 km from every hazard is left out (so a
    map of millions of points stays bounded) and the layer is the audit's own."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from kosovo_cmr.crs import to_metric
    from kosovo_cmr.workflows.audit import MAP_AUDIT_REACH_M, audit_from_store, audit_map_layers
    from kosovo_cmr.workflows.maps import read_layers

    layers = read_layers(demo_store)
    full = audit_from_store(layers).unsupported
    near = audit_map_layers(layers)["unsupported_land"]
    assert len(near) == len(full) > 0
    a, b = (to_metric(f).set_index("hazard_id").sort_index() for f in (near, full))
    assert list(a.index) == list(b.index)
    assert (
        shapely.area(shapely.symmetric_difference(a.geometry.values, b.geometry.values)).max()
        < 1e-6
    )
    # far evidence (10 km east of every hazard) is not read: the layer does not change
    ev = to_metric(layers["evidence"]).head(500).copy()
    ev["geometry"] = ev.geometry.translate(xoff=60_000.0)
    ev["evidence_id"] = [f"FAR-{i}" for i in range(len(ev))]
    far = gpd.GeoDataFrame(pd.concat([to_metric(layers["evidence"]), ev]), crs=ev.crs)
    hazards = to_metric(layers["hazards"])
    assert shapely.distance(
        np.asarray(ev.geometry.values)[:, None], np.asarray(hazards.geometry.values)[None]
    ).min() > (MAP_AUDIT_REACH_M)
    again = audit_map_layers({**layers, "evidence": far.to_crs(4326)})["unsupported_land"]
    assert len(again) == len(near)
