"""The CHA consistency check: hazards not covering their evidence plus fade-out."""

from __future__ import annotations

import geopandas as gpd
from _evidence import METRIC, TO_METRIC, evidence_at
from shapely.geometry import box

from kosovo_cmr.analysis.cha_check import cha_consistency
from kosovo_cmr.analysis.rules import load_rule


def test_cha_consistency():
    x0, y0 = TO_METRIC.transform(21.0, 42.6)
    hz = gpd.GeoDataFrame(
        {"hazard_id": ["H1", "H2"]},
        geometry=[box(x0, y0, x0 + 200, y0 + 200), box(x0 + 1000, y0, x0 + 1300, y0 + 300)],
        crs=METRIC,
    ).to_crs(4326)
    ev = evidence_at(
        [x0 + 100, x0 + 100, x0 + 1150, x0 + 5000, x0 + 1010],
        [y0 + 100, y0 + 190, y0 + 150, y0, y0 + 150],
        ordnance=["BLU-97", "other", "BLU-97", "other", "other"],
        hazard_id=["H1", "H1", "H2", None, "H1"],
    )
    out = cha_consistency(hz, ev, "kosovo-nmas-2024")
    short = out[out.check == "fadeout_outside_hazard"]
    stray = out[out.check == "evidence_outside_hazards"]
    # H1: E1's 50 m disk crosses the top edge by 40 m; E4 (H1's) lies in H2's polygon
    assert short.hazard_id.tolist() == ["H1"]
    assert short.evidence.iloc[0] == 2
    assert short.evidence_ids.iloc[0] == "E1, E4"
    assert short.uncovered_m2.iloc[0] > 2 * 50 * 40
    assert stray.evidence_ids.tolist() == ["E3"]
    assert out.crs == ev.crs
    # with 25 m everywhere, only the mis-assigned point and the stray remain
    out25 = cha_consistency(hz, ev, load_rule(distance_m=5))
    assert out25[out25.check == "fadeout_outside_hazard"].evidence_ids.tolist() == ["E4"]
