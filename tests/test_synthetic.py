"""The synthetic demo layers reproduce the report's figures when measured by the package."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from kosovo_cmr._resources import layer_file
from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.demo import DEMO_LAYERS, read_demo_layer
from kosovo_cmr.schema import conform, validate
from kosovo_cmr.synthetic import write_layers

# The report's figures, typed from the Mine Action Review 2025 Kosovo chapter.
TABLE1 = {  # region: (CHAs, CHA m2, SHAs, SHA m2)
    "South": (3, 346_168, 3, 436_400),
    "North": (5, 2_062_880, 3, 1_391_903),
    "Centre": (5, 363_952, 0, 0),
    "East": (1, 320_000, 0, 0),
    "West": (8, 748_614, 7, 595_375),
}
TABLE5 = {"Mitrovica": 2_417_021, "Gracanica": 0, "Leposavic": 1_831_558, "Zubin Potok": 1_294_410}
TABLE6 = {"Pejë": 47_216, "Prizren": 32_740}
TABLE7 = [  # district, operator, areas, m2, submunitions, AP mines, other UXO
    ("East", "KSF", 1, 36_400, 0, 0, 185),
    ("South", "KSF", 2, 66_100, 8, 0, 0),
    ("Mitrovica", "NPA", 3, 606_700, 11, 0, 63),
    ("Gracanica", "NPA", 1, 35_940, 2, 5, 328),
    ("Prishtina", "NPA", 1, 33_640, 0, 0, 1),
    ("Zubin Potok", "NPA", 1, 302_815, 20, 0, 1),
    ("Gjakovë", "HALO", 3, 217_186, 38, 0, 0),
    ("Pejë", "HALO", 2, 18_522, 1, 0, 0),
    ("Prishtinë", "HALO", 2, 64_572, 9, 0, 0),
    ("Prizren", "HALO", 3, 128_212, 0, 0, 0),
]
TABLE8 = {"NPA": 33_640, "HALO": 128_212, "KSF": 36_400}
TABLE9_KM2 = {2024: 1.51, 2023: 1.92, 2022: 1.32, 2021: 1.30, 2020: 0.34}


@pytest.fixture(scope="module")
def layers():
    out = {}
    for name in DEMO_LAYERS:
        gdf = conform(read_demo_layer(name), name)
        if name in ("hazards", "releases"):
            gdf["area_m2"] = geodesic_area(gdf)
        out[name] = gdf
    return out


@pytest.mark.parametrize("name", DEMO_LAYERS)
def test_layers_conform_and_are_labelled_synthetic(layers, name):
    gdf = layers[name]
    assert validate(gdf.drop(columns="area_m2", errors="ignore"), name) == []
    assert gdf["synthetic"].all()
    id_column = {
        "hazards": "hazard_id",
        "evidence": "evidence_id",
        "strikes": "strike_id",
        "releases": "release_id",
    }[name]
    assert gdf[id_column].str.startswith("DEMO-").all()


def test_table1_per_region_and_kind_to_the_square_metre(layers):
    h = layers["hazards"]
    active = h[h["status"] == "active"]
    for region, (n_cha, cha_m2, n_sha, sha_m2) in TABLE1.items():
        for kind, n, m2 in (("CHA", n_cha, cha_m2), ("SHA", n_sha, sha_m2)):
            sel = active[(active.region == region) & (active.kind == kind)]
            assert len(sel) == n, (region, kind)
            assert abs(sel["area_m2"].sum() - m2) < 1.0, (region, kind)
    assert (active.kind == "CHA").sum() == 22 and (active.kind == "SHA").sum() == 13
    assert abs(active.loc[active.kind == "CHA", "area_m2"].sum() - 3_841_614) < 1
    assert abs(active.loc[active.kind == "SHA", "area_m2"].sum() - 2_423_678) < 1


def test_hazards_lie_in_their_municipality_and_region(layers, municipalities):
    h = layers["hazards"]
    joined = gpd.sjoin(h, municipalities, predicate="within", lsuffix="h", rsuffix="m")
    assert len(joined) == len(h), "every hazard lies inside one municipality"
    assert (joined["municipality_h"] == joined["municipality_m"]).all()
    assert (joined["region_h"] == joined["region_m"]).all()


def test_2024_releases_reproduce_tables_5_to_8(layers):
    r = layers["releases"]
    r24 = r[r["date"].dt.year == 2024]
    nts = r24[r24.method == "cancellation_nts"].groupby("district")["area_m2"].sum()
    assert {k: round(v) for k, v in nts.items()} == TABLE5
    assert set(r24.loc[r24.method == "cancellation_nts", "operator"]) == {"NPA"}
    assert r24[
        (r24.method == "cancellation_nts") & (r24.district == "Gracanica")
    ].geometry.is_empty.all()
    ts = r24[r24.method == "reduction_ts"].groupby("district")["area_m2"].sum()
    assert {k: round(v) for k, v in ts.items()} == TABLE6
    clear = r24[r24.method == "clearance"]
    got = clear.groupby(["district", "operator"]).agg(
        n=("area_m2", "size"),
        m2=("area_m2", "sum"),
        s=("submunitions", "sum"),
        ap=("ap_mines", "sum"),
        u=("other_uxo", "sum"),
    )
    for district, operator, n, m2, s, ap, u in TABLE7:
        row = got.loc[(district, operator)]
        assert (row.n, round(row.m2), row.s, row.ap, row.u) == (n, m2, s, ap, u), district
    assert len(clear) == 19 and round(clear["area_m2"].sum()) == 1_510_087
    assert clear["submunitions"].sum() == 89
    no_cmr = clear[~clear["cmr_found"]].groupby("operator")["area_m2"].sum()
    assert {k: round(v) for k, v in no_cmr.items()} == TABLE8
    assert round(no_cmr.sum()) == 198_252


def test_table9_and_submunitions_per_year(layers):
    r = layers["releases"]
    clear = r[r.method == "clearance"]
    by_year = clear.groupby(clear["date"].dt.year)["area_m2"].sum()
    assert {y: round(v / 1e6, 2) for y, v in by_year.items()} == TABLE9_KM2
    assert round(by_year.sum() / 1e6, 2) == 6.39
    subs = clear.groupby(clear["date"].dt.year)["submunitions"].sum()
    assert subs[2024] == 89 and subs[2023] == 196
    assert round(by_year[2024] / subs[2024]) == 16_967
    assert round(by_year[2023] / subs[2023]) == 9_813


def test_every_destroyed_submunition_is_an_evidence_point_in_its_clearance(layers):
    r, e = layers["releases"], layers["evidence"]
    clear = r[r.method == "clearance"]
    subs = e[e["item"] == "submunition"]
    for rel in clear.itertuples():
        inside = subs[subs.within(rel.geometry) & (subs["found"] == rel.date)]
        assert len(inside) == rel.submunitions, rel.release_id


def _footprint(strike):
    """The strike's oval in EPSG:9141: length along the bearing (degrees from north)."""
    from shapely import affinity

    c = strike.geometry
    oval = affinity.scale(c.buffer(1.0, 64), strike.length_m / 2, strike.width_m / 2)
    return affinity.rotate(oval, 90 - strike.bearing_deg, origin=c)


def test_evidence_clusters_in_strike_footprints(layers):
    e, s = layers["evidence"].to_crs(9141), layers["strikes"].to_crs(9141)
    ovals = gpd.GeoSeries([_footprint(st) for st in s.itertuples()], crs=9141)
    hits = gpd.sjoin(e, gpd.GeoDataFrame(geometry=ovals.buffer(1.0)), predicate="within")
    assert hits.index.nunique() == len(e), "every evidence point lies in a strike footprint"
    assert set(s["munition"]) == {"CBU-87", "RBL755"}
    assert set(e["ordnance"]) <= {"BLU-97", "BL755"}
    assert (s["width_m"] <= s["length_m"]).all()
    assert s["length_m"].between(37, 244).all() and s["width_m"].between(29, 123).all()


def test_no_two_areas_overlap_except_a_release_and_its_own_hazard(layers):
    h, r = layers["hazards"], layers["releases"]
    shapes = pd.concat(
        [
            h[["hazard_id", "geometry"]].assign(src="h"),
            r[["release_id", "hazard_id", "geometry"]].assign(src="r"),
        ]
    )
    shapes = shapes[~shapes.geometry.is_empty].reset_index(drop=True)
    metric = shapes.to_crs(9141)
    pairs = metric.sjoin(metric, predicate="intersects")
    pairs = pairs[pairs.index < pairs["index_right"]]
    for i, j in zip(pairs.index, pairs["index_right"], strict=True):
        overlap = metric.geometry[i].intersection(metric.geometry[j]).area
        if overlap < 1e-3:
            continue  # touching: a TS cut and its hazard
        assert shapes.hazard_id[i] == shapes.hazard_id[j], (i, j)


def test_reconciliation_figures_are_in_the_layers(layers):
    h, r = layers["hazards"], layers["releases"]
    start = pd.Timestamp(2024, 1, 1)
    open_at_start = h[(h.recorded < start) & (h.closed.isna() | (h.closed >= start))]
    ts24 = r[(r.method == "reduction_ts") & (r.date.dt.year == 2024)]
    assert round(open_at_start["area_m2"].sum() + ts24["area_m2"].sum()) == 8_780_000
    added = h[h.recorded.dt.year == 2024]
    assert round(added["area_m2"].sum()) == 151_914
    nts = r[r.method == "cancellation_nts"]
    assert nts["hazard_id"].isna().all()
    removed = h[h.status == "removed"]
    assert round(removed["area_m2"].sum()) == 1_076_579
    assert not removed["hazard_id"].isin(r["hazard_id"]).any()


@pytest.mark.slow
def test_generator_is_deterministic_and_matches_the_committed_layers(tmp_path, municipalities):
    paths = write_layers(tmp_path, boundaries=municipalities)
    for name, path in paths.items():
        committed = layer_file("demo", f"{name}.geojson")
        assert path.read_bytes() == committed.read_bytes(), (
            f"{name}: regenerate with python -m kosovo_cmr.synthetic layers/demo"
        )


def test_a_different_seed_gives_different_layers(municipalities):
    from kosovo_cmr.synthetic import generate

    a = generate(municipalities, seed=1)["hazards"]
    active = a[a.status == "active"]
    assert not np.allclose(
        active.geometry.iloc[0].centroid.x, read_demo_layer("hazards").geometry.iloc[0].centroid.x
    )
    # but the same figures
    areas = geodesic_area(active)
    assert abs(areas[(active.kind == "CHA").to_numpy()].sum() - 3_841_614) < 1


# --- the targets come from layers/published --------------------------------------------


def test_targets_are_the_published_figures():
    from kosovo_cmr.synthetic import CLEARANCE_BY_YEAR, RELEASES_2024
    from kosovo_cmr.synthetic import TABLE1 as GENERATOR_TABLE1
    from kosovo_cmr.synthetic.targets import read_targets

    assert GENERATOR_TABLE1 == TABLE1 and list(GENERATOR_TABLE1) == list(TABLE1)
    nts = {r[1]: r[5] for r in RELEASES_2024 if r[0] == "cancellation_nts"}
    ts = {r[1]: r[5] for r in RELEASES_2024 if r[0] == "reduction_ts"}
    clear = [(r[1], r[2], *r[4:9]) for r in RELEASES_2024 if r[0] == "clearance"]
    assert (nts, ts, clear) == (TABLE5, TABLE6, TABLE7)
    for year, (_, m2, _) in CLEARANCE_BY_YEAR.items():
        assert round(m2 / 1e6, 2) == TABLE9_KM2[year]
    targets = read_targets()
    assert targets.start_2024_m2 == 8_780_000 and targets.clearance_by_year[2023][2] == 196


def _published_with(edit):
    import copy

    from kosovo_cmr.report.published import read_published

    published = copy.deepcopy(read_published())
    edit(published)
    return published


def _table(published, table_id):
    return next(t for t in published["table"] if t["id"] == table_id)


def test_a_figure_that_the_generators_choice_does_not_round_to_is_refused():
    from kosovo_cmr.errors import InputError
    from kosovo_cmr.synthetic.targets import read_targets

    def table9_2021(published):
        _table(published, "table9")["rows"][3][1] = 1.29  # 2021: the generator has 1,301,734

    with pytest.raises(InputError, match="table9.2021.area_m2"):
        read_targets(_published_with(table9_2021))

    def table8(published):
        _table(published, "table8")["rows"][0][1] = 33_000

    with pytest.raises(InputError, match="Table 8"):
        read_targets(_published_with(table8))


def test_other_published_figures_give_other_layers(municipalities):
    from kosovo_cmr.synthetic import generate

    def east(published):
        rows = _table(published, "table1")["rows"]
        rows[3][2] = 300_000  # East: one CHA of 300,000 m2 instead of 320,000

    layers = generate(municipalities, published=_published_with(east))
    h = layers["hazards"]
    east_cha = h[(h.status == "active") & (h.region == "East") & (h.kind == "CHA")]
    assert round(geodesic_area(east_cha).sum()) == 300_000


def test_old_module_figures_warn_and_come_from_targets():
    import kosovo_cmr.synthetic as synthetic
    from kosovo_cmr._deprecated import KcmrDeprecationWarning
    from kosovo_cmr.synthetic import targets

    for name in ("ADDED_2024_M2", "START_2024_M2", "TS_2023", "HAZARD_MUNICIPALITIES"):
        with pytest.warns(KcmrDeprecationWarning, match="synthetic.targets"):
            assert getattr(synthetic, name) is getattr(targets, name)
    with pytest.raises(AttributeError):
        synthetic.no_such_name  # noqa: B018


# --- issue 15: the programme's records of the demo ------------------------------------------


@pytest.fixture(scope="module")
def records():
    from kosovo_cmr.synthetic.history import RECORD_LAYERS, read_record_layer

    return {name: conform(read_record_layer(name), name) for name in RECORD_LAYERS}


@pytest.mark.parametrize("name", ["activities", "devices"])
def test_record_layers_conform_and_are_labelled_synthetic(records, name):
    gdf = records[name]
    assert validate(gdf, name) == [] and gdf["synthetic"].all()
    idcol = {"activities": "activity_id", "devices": "device_id"}[name]
    assert gdf[idcol].str.startswith("DEMO-").all()


def test_devices_are_the_items_the_releases_count(layers, records):
    from kosovo_cmr.analysis.productivity import release_indicators

    for year in range(2020, 2025):
        ind = release_indicators(layers["releases"], records["devices"], year=year)
        assert ind["device_check"] == [], year
    dev = records["devices"]
    assert (dev["item"] == "submunition").sum() == 21 + 112 + 96 + 196 + 89
    assert (dev["item"] == "ap_mine").sum() == 5  # Table 7: five AP mines, in Gracanica


def test_verification_tells_the_report_s_story(layers):
    r = layers["releases"].assign(year=lambda f: pd.to_datetime(f["date"]).dt.year)
    nts = r[(r.method == "cancellation_nts") & (r.year == 2024)]
    verified = nts[nts.verification == "verified"]
    assert set(verified["district"]) == {"Zubin Potok"}  # verified on 20 June 2025
    assert (verified["verified_on"] == pd.Timestamp("2025-06-20")).all()
    assert (nts[nts.district != "Zubin Potok"]["verification"] == "reported").all()
    others = r[(r.method != "cancellation_nts") | (r.year < 2024)]
    assert (others["verification"] == "verified").all()
    assert (pd.to_datetime(others["verified_on"]) > pd.to_datetime(others["date"])).all()
    assert (pd.to_datetime(r["verified_on"]).dt.year == 2025).sum() == 4  # later verifications


def test_hazards_closed_before_2022_are_unclassified_and_benchmarks_lie_outside(layers):
    h = layers["hazards"]
    closed = pd.to_datetime(h["closed"])
    early = (closed < pd.Timestamp("2022-01-01")).fillna(False)
    assert (h.loc[early, "kind"] == "unclassified").all() and early.sum() == 10
    assert (h.loc[~early, "kind"] != "unclassified").all()
    with_bm = h[h["benchmark_lon"].notna()]
    assert len(with_bm) and (with_bm["status"] == "active").all()
    from shapely.geometry import Point

    for row in with_bm.itertuples():
        assert not row.geometry.covers(Point(row.benchmark_lon, row.benchmark_lat))
        assert not row.geometry.covers(Point(row.reference_lon, row.reference_lat))


def test_activities_give_scorpion_about_twice_the_lld_rate(layers, records):
    from kosovo_cmr.analysis.productivity import productivity

    t = productivity(
        records["activities"], layers["releases"], year=2024, by=("operator", "method")
    )
    rate = {
        (o, m): v for o, m, v in zip(t["operator"], t["method"], t["m2_per_team_day"], strict=True)
    }
    # within an operator the methods keep the report's ratio (Scorpion 168, LLD 82 m2/day)
    assert rate[("HALO", "scorpion")] / rate[("HALO", "lld")] == pytest.approx(168 / 82, rel=1e-3)
    assert rate[("NPA", "lld")] > rate[("NPA", "manual")]
    assert t["left_out"].sum() == 0
