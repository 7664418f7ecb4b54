"""Exact union-of-disks areas, delineation and the buffer-rule impact.

The rules are tested in ``test_rules.py``, the CHA check in ``test_cha_check.py``.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _evidence import METRIC, TO_METRIC, evidence_at
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from kosovo_cmr.analysis._disks import cluster_polygons, union_of_disks
from kosovo_cmr.analysis.fadeout import OUTSIDE, buffer_impact, delineate, union_area_m2
from kosovo_cmr.analysis.rules import load_rule
from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.errors import CRSError, InputError


def lens_union(r1, r2, d):
    """Area of the union of two disks (textbook lens formula)."""
    if d >= r1 + r2:
        return np.pi * (r1**2 + r2**2)
    if d <= abs(r1 - r2):
        return np.pi * max(r1, r2) ** 2
    a1 = r1**2 * np.arccos((d**2 + r1**2 - r2**2) / (2 * d * r1))
    a2 = r2**2 * np.arccos((d**2 + r2**2 - r1**2) / (2 * d * r2))
    a3 = 0.5 * np.sqrt((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
    return np.pi * (r1**2 + r2**2) - (a1 + a2 - a3)


def fine_reference(x, y, r, quad_segs=1024):
    """Union of disks polygonised very finely in the metric CRS (a 4096-gon per circle)."""
    return shapely.union_all(shapely.buffer(shapely.points(x, y), r, quad_segs=quad_segs))


def polygon_deficit(quad_segs):
    """Relative area an inscribed regular polygon misses from its circle."""
    n = 4 * quad_segs
    return 1 - n * np.sin(2 * np.pi / n) / (2 * np.pi)


# ----------------------------------------------------------------------- planar core


def test_one_disk_area_is_pi_r_squared():
    du = union_of_disks([480000.0], [4720000.0], [25.0])
    assert du.n_clusters == 1
    assert du.area[0] == pytest.approx(np.pi * 625, rel=1e-12)


@pytest.mark.parametrize("d", [0.5, 10.0, 30.0, 49.9, 50.0, 75.0, 120.0])
@pytest.mark.parametrize("r2", [25.0, 50.0])
def test_two_disks_match_the_lens_formula(d, r2):
    x0, y0 = 471234.5, 4702345.6
    du = union_of_disks([x0, x0 + d * 0.6], [y0, y0 + d * 0.8], [50.0, r2])
    assert du.total_area == pytest.approx(lens_union(50.0, r2, d), rel=1e-10)
    assert du.n_clusters == (1 if d < 50.0 + r2 else 2)


def test_identical_and_contained_disks_count_once():
    x = [0.0, 0.0, 0.0, 5.0, 200.0]
    y = [0.0, 0.0, 0.0, 0.0, 0.0]
    r = [50.0, 50.0, 10.0, 20.0, 25.0]
    du = union_of_disks(x, y, r)
    assert du.total_area == pytest.approx(np.pi * (2500 + 625), rel=1e-12)
    assert du.labels.tolist() == [0, 0, 0, 0, 1]


def test_covered_centre_disk_of_a_ring_keeps_the_hole_filled():
    # twelve disks in a ring leave a hole; a centre disk whose circle lies wholly inside
    # the ring fills it, though it contributes no boundary arc
    ang = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    x = np.concatenate([100 * np.cos(ang), [0.0]])
    y = np.concatenate([100 * np.sin(ang), [0.0]])
    r = np.concatenate([np.full(12, 30.0), [85.0]])
    for method in ("regular", "pairs"):
        du = union_of_disks(x, y, r, method=method)
        ref = fine_reference(x, y, r)
        assert du.total_area == pytest.approx(ref.area / (1 - polygon_deficit(1024)), rel=1e-6)
    without = union_of_disks(x[:12], y[:12], r[:12])
    poly = cluster_polygons(without)[0]
    assert len(poly.interiors) == 1 and poly.is_valid


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 80),
    spread=st.floats(5.0, 400.0),
    mixed=st.booleans(),
)
def test_triangulation_and_all_pairs_agree_with_a_fine_reference(seed, n, spread, mixed):
    rng = np.random.default_rng(seed)
    x = 500000 + rng.normal(0, spread, n)
    y = 4700000 + rng.normal(0, spread / 2, n)
    r = rng.choice([25.0, 50.0], n) if mixed else np.full(n, 50.0)
    a = union_of_disks(x, y, r, method="regular" if n > 4 else "auto")
    b = union_of_disks(x, y, r, method="pairs")
    assert a.total_area == pytest.approx(b.total_area, rel=1e-9)
    assert a.n_clusters == b.n_clusters
    # a 1024-gon per circle misses 1.6e-6 of the area at most, never less
    ref = fine_reference(x, y, r, quad_segs=256).area
    assert ref <= a.total_area * (1 + 1e-12)
    assert a.total_area == pytest.approx(ref, rel=polygon_deficit(256) * 1.01)
    polys = cluster_polygons(a, tolerance_m=0.01)
    assert shapely.is_valid(polys).all()
    drawn = shapely.area(polys)
    assert (drawn <= a.area * (1 + 1e-9)).all()
    assert np.allclose(drawn, a.area, rtol=(4 / 3) * 0.01 / 25)


def test_polygons_are_valid_and_within_tolerance_of_the_circles():
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 600, 150)
    y = rng.uniform(0, 600, 150)
    r = rng.choice([25.0, 50.0], 150)
    du = union_of_disks(x, y, r)
    polys = cluster_polygons(du, tolerance_m=0.01)
    assert len(polys) == du.n_clusters
    assert shapely.is_valid(polys).all()
    union = shapely.union_all(polys)
    ref = fine_reference(x, y, r, quad_segs=128)
    assert shapely.hausdorff_distance(union, ref) < 0.02
    # drawn polygons lose a little area; the analytic area does not
    assert union.area < du.total_area
    assert (du.total_area - union.area) / du.total_area < 2e-4


def test_empty_input():
    du = union_of_disks([], [], [])
    assert du.n_clusters == 0 and du.total_area == 0.0
    assert len(cluster_polygons(du)) == 0


# ----------------------------------------------------------------------- geodesic


def _geodesic_reference(x, y, r, quad_segs=1024):
    ref = fine_reference(x, y, r, quad_segs=quad_segs)
    area = geodesic_area([ref], crs=METRIC)[0]
    return area / (1 - polygon_deficit(quad_segs))


# corners and middle of Kosovo's extent: the grid's scale error is largest at the edges
KOSOVO_PLACES = [
    (20.02, 41.86),
    (21.78, 41.86),
    (20.02, 43.26),
    (21.78, 43.26),
    (21.0, 42.6),
]


@pytest.mark.parametrize("lon,lat", KOSOVO_PLACES)
def test_one_disk_geodesic_area_everywhere_in_kosovo(lon, lat):
    x, y = TO_METRIC.transform(lon, lat)
    ev = evidence_at([x], [y], ordnance="other")
    area = delineate(ev, "kosovo-pre-2024").area_m2.iloc[0]
    assert area == pytest.approx(_geodesic_reference([x], [y], [50.0]), rel=1e-5)
    # the grid's scale matters here: the planar pi r**2 would be off by up to 0.03 %
    assert abs(area / (np.pi * 2500) - 1) > 1e-5


@pytest.mark.parametrize("lon,lat", KOSOVO_PLACES)
def test_dense_cluster_geodesic_area_within_0_01_percent(lon, lat):
    x0, y0 = TO_METRIC.transform(lon, lat)
    rng = np.random.default_rng(int(lon * 100 + lat))
    n = 250
    u = rng.normal(0, 40, n)
    v = rng.normal(0, 20, n)
    x, y = x0 + 0.8 * u - 0.6 * v, y0 + 0.6 * u + 0.8 * v
    ordnance = rng.choice(["BLU-97", "other"], n)
    ev = evidence_at(x, y, ordnance=ordnance)
    out = delineate(ev, "kosovo-nmas-2024")
    r = np.where(ordnance == "BLU-97", 25.0, 50.0)
    ref = _geodesic_reference(x, y, r, quad_segs=512)
    assert out.area_m2.sum() == pytest.approx(ref, rel=1e-4)  # the guarantee
    assert out.area_m2.sum() == pytest.approx(ref, rel=1e-5)  # what we actually get


def test_two_disk_lens_geodesic():
    x0, y0 = TO_METRIC.transform(20.3, 42.2)
    ev = evidence_at([x0, x0 + 60.0], [y0, y0], ordnance="other")
    area = union_area_m2(ev, "kosovo-pre-2024")
    assert area == pytest.approx(_geodesic_reference([x0, x0 + 60], [y0, y0], [50, 50]), rel=1e-5)


def test_a_32_gon_would_miss_the_accuracy_target():
    # the premise: polygonised circles lose area; ours must not
    x0, y0 = TO_METRIC.transform(21.0, 42.6)
    ev = evidence_at([x0], [y0], ordnance="other")
    exact = union_area_m2(ev, "kosovo-pre-2024")
    gon32 = geodesic_area([Point(x0, y0).buffer(50, quad_segs=8)], crs=METRIC)[0]
    assert (exact - gon32) / exact == pytest.approx(0.0064, abs=2e-4)


# ----------------------------------------------------------------------- delineate


def test_delineate_clusters_columns_and_crs():
    x0, y0 = TO_METRIC.transform(20.9, 42.4)
    x = [x0, x0 + 30, x0 + 1000]
    y = [y0, y0, y0]
    ev = evidence_at(x, y, ordnance=["BLU-97", "BL755", "other"], hazard_id=["H1", "H2", None])
    out = delineate(ev, "kosovo-nmas-2024")
    assert out.crs == ev.crs
    assert list(out.columns) == [
        "cluster_id",
        "evidence",
        "ordnance",
        "hazard_ids",
        "distance_m",
        "area_m2",
        "geometry",
    ]
    assert out.evidence.tolist() == [2, 1]
    assert out.ordnance.tolist() == ["BL755:1, BLU-97:1", "other:1"]
    assert out.hazard_ids.tolist() == ["H1, H2", ""]
    assert out.distance_m.tolist() == ["25", "50"]
    assert out.geometry.contains(ev.geometry.iloc[0]).iloc[0]
    # the drawn polygons (chords at most 1 cm inside) lose at most (4/3) * 1 cm / r
    drawn = geodesic_area(out)
    assert np.allclose(drawn, out.area_m2, rtol=(4 / 3) * 0.01 / 25)
    assert (drawn < out.area_m2).all()
    # input not changed
    assert ev.crs.to_epsg() == 4326 and len(ev) == 3


def test_delineate_refuses_bad_layers():
    ev = evidence_at([500000.0], [4700000.0])
    with pytest.raises(CRSError):
        delineate(ev.set_crs(None, allow_override=True), "kosovo-pre-2024")
    lines = ev.set_geometry([shapely.LineString([(21, 42), (21.1, 42)])], crs=4326)
    with pytest.raises(InputError, match="Point"):
        delineate(lines, "kosovo-pre-2024")
    empty = ev.set_geometry([Point()], crs=4326)
    with pytest.raises(InputError, match="without geometry"):
        delineate(empty, "kosovo-pre-2024")


def test_delineate_empty_evidence():
    ev = evidence_at([500000.0], [4700000.0]).iloc[:0]
    out = delineate(ev, "kosovo-pre-2024")
    assert len(out) == 0 and out.crs == ev.crs


def test_use_accuracy_grows_the_area():
    x0, y0 = TO_METRIC.transform(21.1, 42.5)
    ev = evidence_at([x0], [y0], ordnance="other", accuracy_m=[10.0])
    plain = union_area_m2(ev, "kosovo-pre-2024")
    wider = union_area_m2(ev, "kosovo-pre-2024", use_accuracy=True)
    assert wider / plain == pytest.approx((60 / 50) ** 2, rel=1e-9)


# ----------------------------------------------------------------------- impact


def strike_evidence(lon, lat, n, seed, *, hazard="H1"):
    rng = np.random.default_rng(seed)
    x0, y0 = TO_METRIC.transform(lon, lat)
    x = x0 + rng.normal(0, 50, n)
    y = y0 + rng.normal(0, 25, n)
    return evidence_at(x, y, ordnance=rng.choice(["BLU-97", "other"], n), hazard_id=[hazard] * n)


def test_impact_total_and_by_hazard():
    ev = pd.concat(
        [
            strike_evidence(20.7, 42.3, 120, 1, hazard="H1"),
            strike_evidence(20.7005, 42.3, 80, 2, hazard="H2"),  # overlaps H1
            strike_evidence(21.2, 42.8, 60, 3, hazard=None),
        ],
        ignore_index=True,
    )
    res = buffer_impact(ev, "kosovo-pre-2024", "kosovo-nmas-2024", by="hazard")
    assert res.table.group.tolist() == ["H1", "H2", "(no hazard)"]
    assert res.table.evidence.tolist() == [120, 80, 60]
    whole_from = union_area_m2(ev, "kosovo-pre-2024")
    whole_to = union_area_m2(ev, "kosovo-nmas-2024")
    assert res.total["area_from_m2"] == pytest.approx(whole_from, rel=1e-12)
    assert res.total["area_to_m2"] == pytest.approx(whole_to, rel=1e-12)
    # each hazard on its own: overlapping hazards sum to more than the union
    assert res.table.area_from_m2.sum() > whole_from
    h1 = ev[ev.hazard_id == "H1"]
    assert res.table.area_from_m2[0] == pytest.approx(union_area_m2(h1, "kosovo-pre-2024"))
    t = res.table
    assert np.allclose(t.saved_m2, t.area_from_m2 - t.area_to_m2)
    assert np.allclose(t.saved_pct, 100 * t.saved_m2 / t.area_from_m2)


def test_impact_json_shape():
    ev = strike_evidence(20.7, 42.3, 50, 4)
    res = buffer_impact(ev, "kosovo-pre-2024", "kosovo-nmas-2024")
    doc = json.loads(res.to_json())
    assert set(doc) == {"from", "to", "by", "rows", "total"}
    assert doc["from"] == "kosovo-pre-2024" and doc["to"] == "kosovo-nmas-2024"
    assert doc["by"] == "none"
    keys = {"group", "evidence", "area_from_m2", "area_to_m2", "saved_m2", "saved_pct"}
    assert set(doc["rows"][0]) == keys and set(doc["total"]) == keys
    assert doc["rows"][0]["area_from_m2"] == doc["total"]["area_from_m2"]


def test_impact_bad_arguments():
    ev = strike_evidence(20.7, 42.3, 5, 5)
    with pytest.raises(InputError, match="by must be"):
        buffer_impact(ev, "kosovo-pre-2024", "kosovo-nmas-2024", by="district")
    with pytest.raises(InputError, match="boundaries"):
        buffer_impact(ev, "kosovo-pre-2024", "kosovo-nmas-2024", by="municipality")


def test_impact_by_municipality_splits_a_cluster_across_a_boundary(municipalities):
    metric = municipalities.to_crs(METRIC)
    prishtine = metric[metric.municipality == "Prishtinë"].geometry.iloc[0]
    fushe = metric[metric.municipality == "Fushë Kosovë"].geometry.iloc[0]
    border = prishtine.boundary.intersection(fushe.boundary)
    where = border.interpolate(0.5, normalized=True)
    rng = np.random.default_rng(11)
    n = 200
    x = where.x + rng.normal(0, 60, n)
    y = where.y + rng.normal(0, 30, n)
    ordnance = rng.choice(["BLU-97", "other"], n)
    ev = evidence_at(x, y, ordnance=ordnance)
    res = buffer_impact(
        ev, "kosovo-pre-2024", "kosovo-nmas-2024", by="municipality", boundaries=municipalities
    )
    t = res.table.set_index("group")
    assert {"Prishtinë", "Fushë Kosovë"} <= set(t.index)
    assert t.evidence.sum() == n
    # rows sum exactly to the whole union
    assert t.area_from_m2.sum() == pytest.approx(res.total["area_from_m2"], rel=1e-12)
    assert t.area_to_m2.sum() == pytest.approx(res.total["area_to_m2"], rel=1e-12)
    # each municipality's share matches the fine reference clipped by it
    for rule_r, col in (
        (np.full(n, 50.0), "area_from_m2"),
        (np.where(ordnance == "BLU-97", 25.0, 50.0), "area_to_m2"),
    ):
        ref = fine_reference(x, y, rule_r, quad_segs=256)
        for name, geom in (("Prishtinë", prishtine), ("Fushë Kosovë", fushe)):
            part = geodesic_area([ref.intersection(geom)], crs=METRIC)[0]
            part /= 1 - polygon_deficit(256)
            assert t.loc[name, col] == pytest.approx(part, rel=1e-4)


def test_impact_by_region_and_outside(municipalities):
    inside = strike_evidence(20.75, 42.21, 80, 6)  # Prizren, South
    outside = strike_evidence(19.5, 42.0, 30, 7)  # Montenegro
    ev = pd.concat([inside, outside], ignore_index=True)
    res = buffer_impact(
        ev, "kosovo-pre-2024", "kosovo-nmas-2024", by="region", boundaries=municipalities
    )
    t = res.table.set_index("group")
    assert list(t.index) == ["South", OUTSIDE]
    assert t.evidence.tolist() == [80, 30]
    assert t.loc[OUTSIDE, "area_from_m2"] == pytest.approx(
        union_area_m2(outside, "kosovo-pre-2024"), rel=1e-9
    )
    assert t.area_from_m2.sum() == pytest.approx(res.total["area_from_m2"], rel=1e-12)


def test_rings_nested_rules():
    ev = strike_evidence(20.7, 42.3, 150, 8)
    res = buffer_impact(ev, "kosovo-pre-2024", "kosovo-nmas-2024")
    rings = res.rings
    assert rings.crs == ev.crs
    assert rings.is_valid.all()
    assert rings.area_m2.sum() == pytest.approx(res.total["saved_m2"], rel=1e-9)
    drawn = geodesic_area(rings).sum()
    assert drawn == pytest.approx(res.total["saved_m2"], rel=1e-3)
    # no evidence under the new rule is inside a ring's interior
    new = delineate(ev, "kosovo-nmas-2024").to_crs(METRIC)
    overlap = shapely.intersection(
        shapely.union_all(rings.to_crs(METRIC).geometry.values),
        shapely.union_all(new.geometry.values),
    )
    assert shapely.area(overlap) < 1.0


def test_rings_when_the_new_rule_is_not_nested():
    ev = strike_evidence(20.7, 42.3, 60, 9)
    res = buffer_impact(ev, load_rule(distance_m=30), "kosovo-nmas-2024")
    rings = res.rings
    assert rings.is_valid.all()
    assert np.allclose(rings.area_m2, geodesic_area(rings))


# ----------------------------------------------------------------------- demo data


def test_demo_store_impact_total_equals_whole_union(demo_store):
    evidence = demo_store.read("evidence")
    boundaries = demo_store.read("boundaries")
    res = buffer_impact(
        evidence, "kosovo-pre-2024", "kosovo-nmas-2024", by="municipality", boundaries=boundaries
    )
    doc = json.loads(res.to_json())
    for rule, key in (("kosovo-pre-2024", "area_from_m2"), ("kosovo-nmas-2024", "area_to_m2")):
        whole = union_area_m2(evidence, rule)
        assert doc["total"][key] == pytest.approx(whole, rel=1e-12)
        assert sum(r[key] for r in doc["rows"]) == pytest.approx(whole, rel=1e-9)
    assert sum(r["evidence"] for r in doc["rows"]) == len(evidence)
    assert doc["total"]["saved_m2"] > 0


def test_demo_step_writes_tables_and_rings(demo_store_copy, tmp_path):
    from kosovo_cmr.demo import DemoContext
    from kosovo_cmr.demo import step_fadeout as demo_step

    ctx = DemoContext(out_dir=tmp_path, store=demo_store_copy, boundaries_path=tmp_path)
    demo_step(ctx)
    names = {p.name for _, p in ctx.outputs}
    assert names == {
        "fadeout-impact-region.csv",
        "fadeout-impact-region.json",
        "fadeout-impact-municipality.csv",
        "fadeout-impact-municipality.json",
        "fadeout-rings.geojson",
    }
    region = pd.read_csv(tmp_path / "fadeout-impact-region.csv")
    assert set(region.group) <= {"Centre", "East", "North", "South", "West", OUTSIDE}
    rings = gpd.read_file(tmp_path / "fadeout-rings.geojson")
    assert rings.synthetic.all() and len(rings) > 0
    assert any("50 m -> 25 m" in line for line in ctx.summary)


def test_chunked_triangulation_matches_all_pairs(monkeypatch):
    import kosovo_cmr.analysis._disks as disks

    monkeypatch.setattr(disks, "_CHUNK", 100)
    rng = np.random.default_rng(3)
    centres = rng.uniform(0, 3000, (30, 2))
    pts = np.concatenate([c + rng.normal(0, 30, (60, 2)) for c in centres])
    r = rng.choice([25.0, 50.0], len(pts))
    a = union_of_disks(pts[:, 0], pts[:, 1], r)  # auto: chunks of about 100 points
    b = union_of_disks(pts[:, 0], pts[:, 1], r, method="pairs")
    assert a.n_clusters == b.n_clusters
    assert np.allclose(np.sort(a.area), np.sort(b.area), rtol=1e-12)
    for workers in (1, 3):  # serial and threaded chunks give the same result
        monkeypatch.setattr(disks, "_WORKERS", workers)
        c = union_of_disks(pts[:, 0], pts[:, 1], r)
        assert np.array_equal(c.labels, a.labels) and np.array_equal(c.area, a.area)


@pytest.mark.parametrize("by", ["none", "hazard", "municipality", "region"])
def test_impact_of_no_evidence_is_zero(by, municipalities):
    ev = evidence_at([500000.0], [4700000.0], hazard_id=["H1"]).iloc[:0]
    res = buffer_impact(ev, "kosovo-pre-2024", "kosovo-nmas-2024", by=by, boundaries=municipalities)
    assert res.total["area_from_m2"] == 0 and res.total["saved_pct"] == 0
    assert res.table.area_from_m2.sum() == 0
    assert len(res.rings) == 0


def test_overlapping_zones_do_not_count_land_twice():
    x0, y0 = TO_METRIC.transform(21.0, 42.6)
    zones = gpd.GeoDataFrame(
        {"municipality": ["A", "B"], "region": ["R", "R"]},
        geometry=[
            box(x0 - 500, y0 - 500, x0 + 60, y0 + 500),
            box(x0 - 60, y0 - 500, x0 + 500, y0 + 500),
        ],
        crs=METRIC,
    ).to_crs(4326)
    ev = evidence_at([x0 - 20, x0 + 20], [y0, y0], ordnance="other")
    res = buffer_impact(
        ev, "kosovo-pre-2024", "kosovo-nmas-2024", by="municipality", boundaries=zones
    )
    t = res.table.set_index("group")
    assert list(t.index) == ["A", "B"]
    assert t.area_from_m2.sum() == pytest.approx(res.total["area_from_m2"], rel=1e-12)
    assert t.loc["A", "area_from_m2"] == pytest.approx(t.loc["B", "area_from_m2"], rel=1e-3)
