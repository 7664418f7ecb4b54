"""Strike footprints inferred from evidence: recovery of known ovals, no merging, comparison.

The footprints are generated here: ovals of known centre, azimuth and size (the range
DOMAIN.md gives, 37 x 61 m to 123 x 244 m), items spread evenly over each at a known
rate (items per hectare), and noise items scattered over the whole extent.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from kosovo_cmr.analysis.strikes import (
    INFERRED_COLUMNS,
    compare_strikes,
    infer_strikes,
    strike_footprints,
)
from kosovo_cmr.errors import CRSError, InputError
from kosovo_cmr.synthetic.footprints import footprint_evidence, known_footprints

X0, Y0 = 7_480_000.0, 4_700_000.0


def scene(seed, truths, *, per_ha=60.0, noise=15, ordnance="BLU-97", extent=3000.0):
    """Evidence of several known footprints plus ``noise`` scattered items (metric CRS)."""
    return footprint_evidence(
        seed, truths, per_ha=per_ha, noise=noise, ordnance=ordnance, extent_m=extent
    )


def random_truths(rng, n):
    """n ovals of random size (DOMAIN.md's range) and azimuth, far apart on a grid."""
    return known_footprints(rng, n, x0=X0, y0=Y0)


def axial_diff(a, b):
    d = abs(a - b) % 180
    return min(d, 180 - d)


def recovery(seeds, *, per_ha=100.0, noise=15):
    """(items, azimuth error, area ratio, centre error, own items inside) per footprint."""
    out = []
    for seed in seeds:
        rng = np.random.default_rng(100 + seed)
        truths = random_truths(rng, 10)
        ev = scene(seed, truths, per_ha=per_ha, noise=noise)
        result = infer_strikes(ev, bootstrap=0)
        fp = result.footprints.to_crs(9141).set_index("cluster_id")
        for k, (cx, cy, length, width, az) in enumerate(truths):
            members = ev["truth"] == k
            labels = result.labels[members]
            label = int(labels[labels > 0].mode().iloc[0])  # the cluster holding most items
            row = fp.loc[label]
            own = ev[result.labels == label].geometry.values
            out.append(
                (
                    int(members.sum()),
                    axial_diff(row.azimuth_deg, az),
                    row.area_m2 / (np.pi * length * width / 4),
                    np.hypot(row.geometry.centroid.x - cx, row.geometry.centroid.y - cy),
                    shapely.contains(row.geometry, own).mean(),
                )
            )
    return pd.DataFrame(out, columns=["items", "azimuth_err", "area_ratio", "centre_err", "inside"])


def test_recovers_azimuth_and_area_of_known_footprints():
    """Footprints with 20 or more items: area within 30 %, azimuth within 15 degrees.

    The azimuth of a footprint of 20 to 44 items evenly spread over an oval of 1.65-2 : 1
    cannot always be read within 15 degrees (the covariance's axis errs by more than 15
    degrees for about 13 % of 20-item ovals, 4 % of 30-item ones); the test asks it of
    every footprint of 45 items or more, and of 85 % of those of 20 to 44 (measured: 94 % of 47).
    ``benchmarks/strikes.py`` prints the rates by item count and density.
    """
    t = recovery(range(24))
    big = t[t["items"] >= 20]
    assert len(big) >= 60
    assert big["area_ratio"].between(0.70, 1.30).all(), big[~big.area_ratio.between(0.7, 1.3)]
    assert (big.loc[big["items"] >= 45, "azimuth_err"] <= 15).all()
    mid = big[big["items"] < 45]
    assert (mid["azimuth_err"] <= 15).mean() >= 0.85
    assert (big["centre_err"] < 20).all()
    # the fitted oval holds about 95 % of its own items (the stated coverage)
    assert big["inside"].mean() == pytest.approx(0.95, abs=0.02)


@pytest.mark.parametrize("ordnance, reach", [("BLU-97", 25.0), ("other", 50.0)])
@pytest.mark.parametrize("seed", range(4))
def test_never_merges_footprints_farther_apart_than_their_fadeout(seed, ordnance, reach):
    """Two ovals whose nearest edges are 1.2 fade-out distances apart stay two clusters."""
    length, width = 150.0, 70.0
    gap = 1.2 * reach
    truths = [
        (X0, Y0, length, width, 0.0),  # long axis north-south
        (X0 + width + gap, Y0, length, width, 0.0),  # side by side, edge to edge = gap
    ]
    ev = scene(seed, truths, per_ha=120.0, noise=40, ordnance=ordnance, extent=800)
    result = infer_strikes(ev)
    a = set(result.labels[ev["truth"] == 0]) - {0}
    b = set(result.labels[ev["truth"] == 1]) - {0}
    assert a and b and not (a & b)


def test_merges_footprints_closer_than_their_fadeout():
    """The other side: ovals 10 m apart (under 25 m) are one task, one cluster."""
    truths = [(X0, Y0, 150.0, 70.0, 0.0), (X0 + 80.0, Y0, 150.0, 70.0, 0.0)]
    ev = scene(3, truths, per_ha=120.0, noise=0)
    labels = infer_strikes(ev).labels
    assert set(labels[ev["truth"] == 0]) == set(labels[ev["truth"] == 1]) == {1}


def test_noise_items_stay_out_and_columns_are_complete():
    ev = scene(7, random_truths(np.random.default_rng(7), 3), noise=30)
    result = infer_strikes(ev, bootstrap=50)
    fp = result.footprints
    assert list(fp.columns[:-1]) == list(INFERRED_COLUMNS) and fp.crs == ev.crs
    # most noise items are left out of every cluster, and every real cluster is found
    assert (result.labels[ev["truth"] == -1] == 0).mean() > 0.8
    assert len(fp) == 3
    assert (fp["source"] == "inferred").all() and (fp["munition"] == "CBU-87").all()
    assert (fp["length_m"] >= fp["width_m"]).all()
    assert fp[["length_se_m", "width_se_m", "azimuth_se_deg", "centre_se_m"]].notna().all().all()
    # the uncertainty shrinks with the number of items
    assert (fp["azimuth_se_deg"] < 15).all()
    doc = result.to_dict()
    assert doc["clusters"] == 3 and doc["noise_items"] == result.noise_items
    for key in ("cluster_id", "n_items", "munition", "length_m", "width_m", "azimuth_deg"):
        assert key in doc["rows"][0]
    assert "clockwise from grid north" in doc["azimuth_convention"]


def test_true_azimuth_applies_the_grid_convergence():
    """East of the central meridian (21 E) true north lies west of grid north."""
    ev = scene(1, [(X0 + 60_000, Y0, 200.0, 60.0, 30.0)], noise=0).to_crs(4326)
    row = infer_strikes(ev).footprints.iloc[0]
    assert row.lon > 21 and row.convergence_deg < 0
    assert row.azimuth_true_deg == pytest.approx((row.azimuth_deg - row.convergence_deg) % 180)
    assert row.geometry.geom_type == "Polygon"  # in the evidence's CRS (4326)


def test_munition_from_the_items_ordnance():
    ev = scene(2, [(X0, Y0, 120.0, 60.0, 10.0)], noise=0, ordnance="BL755")
    ev.loc[ev.index[:3], "ordnance"] = "unknown"
    row = infer_strikes(ev).footprints.iloc[0]
    assert row.munition == "RBL755" and row.munition_share == 1.0
    assert row.ordnance.startswith("BL755:")
    ev["ordnance"] = "unknown"
    assert infer_strikes(ev).footprints.iloc[0].munition == "unknown"


def test_no_cluster_and_bad_options():
    ev = scene(0, [], noise=5)
    result = infer_strikes(ev)
    assert len(result.footprints) == 0 and result.noise_items == 5
    with pytest.raises(InputError, match="coverage"):
        infer_strikes(ev, coverage=1.5)
    with pytest.raises(InputError, match="min_items"):
        infer_strikes(ev, min_items=1)
    with pytest.raises(CRSError):
        infer_strikes(ev.set_crs(None, allow_override=True))


def test_compare_with_recorded_strikes():
    truths = [(X0, Y0, 200.0, 80.0, 40.0), (X0 + 900, Y0, 120.0, 60.0, 120.0)]
    ev = scene(5, truths, noise=0)
    inferred = infer_strikes(ev).footprints
    recorded = gpd.GeoDataFrame(
        {
            "strike_id": ["S1", "S2"],
            "munition": ["CBU-87", "RBL755"],
            "length_m": [200.0, 120.0],
            "width_m": [80.0, 60.0],
            "bearing_deg": [40.0, 120.0],
        },
        geometry=[Point(X0, Y0), Point(X0 + 900, Y0)],
        crs=9141,
    ).to_crs(4326)
    table = compare_strikes(inferred, recorded)
    assert sorted(table["strike_id"]) == ["S1", "S2"]
    assert (table["azimuth_diff_deg"] < 10).all()
    assert (table["centre_offset_m"] < 10).all()
    assert table["area_ratio"].between(0.8, 1.1).all()
    assert (table["overlap_iou"] > 0.7).all()
    s2 = table.set_index("strike_id").loc["S2"]
    assert s2.munition_recorded == "RBL755" and s2.munition_inferred == "CBU-87"
    # a footprint far from every strike has no match
    far = recorded.to_crs(9141).translate(5000, 0)
    none = compare_strikes(inferred, gpd.GeoDataFrame(recorded.to_crs(9141), geometry=far))
    assert none["strike_id"].isna().all()
    # the recorded footprints drawn for the comparison are the package's own
    assert len(strike_footprints(recorded)) == 2
    assert isinstance(table, pd.DataFrame)
