"""IMSMA turning-point tables: bearing/distance legs, references, misclosure."""

from __future__ import annotations

import math

import openpyxl
import pandas as pd
import pyogrio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.errors import InputError
from kosovo_cmr.importer import import_layer
from kosovo_cmr.sources.tabular import parse_csv
from kosovo_cmr.sources.traverse import TraversePoint, compute_traverse, read_traverse
from kosovo_cmr.store import open_store

BM_X, BM_Y = 7_508_206.0, 4_717_817.0  # EPSG:9141, near Prishtinë
HEADER = "PolyID,PointNo,PointID,PointType,X,Y,Bearing,Distance,From,Kind,Recorded"


def table(rows, *, last_distance=100):
    lines = [HEADER]
    for poly in rows:
        lines += [
            f"{poly},1,BM1,BM,{BM_X},{BM_Y},,,,CHA,2024-05-02",
            f"{poly},2,SP,SP,,,45,50,BM1,,",
            f"{poly},3,TP1,TP,,,90,100,SP,,",
            f"{poly},4,TP2,TP,,,0,100,TP1,,",
            f"{poly},5,TP3,TP,,,270,100,TP2,,",
            f"{poly},6,EP,EP,,,180,{last_distance},TP3,,",
        ]
    return "\n".join(lines) + "\n"


def run(src, tmp_path, **kw):
    kw.setdefault("rejects", tmp_path / "rejects.gpkg")
    report = import_layer(src, "hazards", store=tmp_path / "s.gpkg", **kw)
    assert report.read == report.imported + report.rejected
    return report


def test_closing_traverse_builds_the_polygon(tmp_path):
    src = tmp_path / "tp.csv"
    src.write_text(table(["HZ-1"]))
    report = run(src, tmp_path, crs="EPSG:9141", bearing="grid")
    assert (report.read, report.imported) == (1, 1), report.summary()
    stored = open_store(tmp_path / "s.gpkg").read("hazards").iloc[0]
    assert stored["hazard_id"] == "HZ-1" and stored["kind"] == "CHA"
    assert stored["misclosure_m"] == pytest.approx(0, abs=1e-6)
    assert stored["traverse_length_m"] == pytest.approx(400)
    area = geodesic_area([stored.geometry], crs=4326)[0]
    assert area == pytest.approx(10_000, rel=2e-3)  # grid scale 0.9999 and convergence


def test_traverse_that_does_not_close_is_rejected(tmp_path):
    src = tmp_path / "open.csv"
    src.write_text(table(["HZ-1"]) + table(["HZ-2"], last_distance=70).split("\n", 1)[1])
    report = run(src, tmp_path, crs="EPSG:9141", bearing="grid")
    assert (report.read, report.imported, report.rejected) == (2, 1, 1)
    assert any("largest 30.00 m (1:12); bearings grid" in n for n in report.notices)
    assert report.reasons == {"traverse_misclosure": 1}
    row = report.features.set_index("id").loc["HZ-2"]
    assert "misclosure 30.00 m (1:12)" in row["details"]
    rejects = pyogrio.read_dataframe(report.rejects_path, layer="rejects")
    assert rejects["PolyID"].tolist() == ["HZ-2"]
    assert rejects.geometry.iloc[0].geom_type == "LineString"
    (tmp_path / "loose").mkdir()
    looser = run(src, tmp_path / "loose", crs="EPSG:9141", bearing="grid", max_misclosure_m=40)
    assert looser.rejected == 0


def test_true_and_magnetic_bearings_from_a_geographic_benchmark(tmp_path):
    lon, lat = Transformer.from_crs(9141, 4326, always_xy=True).transform(BM_X, BM_Y)
    text = table(["HZ-1"]).replace("X,Y", "Lon,Lat").replace(f"{BM_X},{BM_Y}", f"{lon},{lat}")
    src = tmp_path / "ll.csv"
    src.write_text(text)
    true = run(src, tmp_path, crs="EPSG:4326", bearing="true")
    assert true.imported == 1
    with pytest.raises(InputError, match="declination"):
        run(src, tmp_path, crs="EPSG:4326", bearing="magnetic")
    magnetic = run(src, tmp_path, crs="EPSG:4326", bearing="magnetic", declination_deg=5.0,
                   mode="replace", rejects=tmp_path / "r3.gpkg")  # fmt: skip
    assert magnetic.imported == 1
    g = open_store(tmp_path / "s.gpkg").read("hazards").geometry.iloc[0]
    assert geodesic_area([g], crs=4326)[0] == pytest.approx(10_000, rel=1e-3)


def test_mgrs_benchmark_and_xlsx(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["PolyID", "PointNo", "PointID", "PointType", "MGRS", "Bearing", "Distance",
                  "From", "Kind", "Recorded"])  # fmt: skip
    sheet.append(["HZ-9", 1, "BM", "Benchmark", "34T EN 08203 16401", None, None, None, "SHA",
                  "2024-07-01"])  # fmt: skip
    for no, (pid, ptype, b, frm) in enumerate(
        [("SP", "Start point", 10, "BM"), ("TP1", "Turning point", 120, "SP"),
         ("TP2", "Turning point", 240, "TP1"), ("EP", "End point", 0, "TP2")], start=2
    ):  # fmt: skip
        sheet.append(["HZ-9", no, pid, ptype, None, b, 60, frm, None, None])
    book.save(tmp_path / "tp.xlsx")
    report = run(tmp_path / "tp.xlsx", tmp_path, bearing="grid")
    assert report.imported == 1, report.summary()
    assert report.features["reasons"].iloc[0] == ""


def test_unknown_reference_point_is_a_bad_point(tmp_path):
    text = table(["HZ-1"]).replace("100,TP1", "100,TPX")
    src = tmp_path / "bad.csv"
    src.write_text(text)
    report = run(src, tmp_path, crs="EPSG:9141", bearing="grid")
    assert report.reasons == {"traverse_bad_point": 1}
    assert "unknown point 'TPX'" in report.features["details"].iloc[0]


# --- fuzzing --------------------------------------------------------------------------


legs = st.lists(
    st.tuples(st.floats(0, 360, allow_nan=False), st.floats(1, 500, allow_nan=False)),
    min_size=2,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(legs, st.floats(-50, 50, allow_nan=False))
def test_fuzz_misclosure_is_the_error_of_the_closing_leg(pairs, error_m):
    x, y = BM_X, BM_Y
    points = [TraversePoint("SP", "start", (x, y))]
    prev = "SP"
    for k, (b, d) in enumerate(pairs):
        points.append(TraversePoint(f"TP{k}", "turning", None, b, d, prev))
        x += d * math.sin(math.radians(b))
        y += d * math.cos(math.radians(b))
        prev = f"TP{k}"
    dx, dy = BM_X - x, BM_Y - y
    back = math.hypot(dx, dy)
    bearing = math.degrees(math.atan2(dx, dy)) % 360
    points.append(TraversePoint("EP", "end", None, bearing, max(back + error_m, 0), prev))
    result = compute_traverse(points, bearing="grid", max_misclosure_m=1e9)
    expected = abs(max(back + error_m, 0) - back)
    assert result.misclosure_m == pytest.approx(expected, abs=1e-6)
    assert result.ring[0] == result.ring[-1]


CELLS = st.one_of(
    st.none(),
    st.sampled_from(["BM", "SP", "TP", "EP", "XX", "SP1", "TP1", "BM1", "45", "-3", "1e400", "nan",
                     "HZ-1", "HZ-2", "34TEN0820316401", "34T", "7508206", "4717817", ""]),
    st.text(max_size=6),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=9, max_size=9), min_size=1, max_size=8))
def test_fuzz_read_traverse_never_crashes(rows):
    columns = ["PolyID", "PointNo", "PointID", "PointType", "MGRS", "Bearing", "Distance",
               "From", "Kind"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    frame.attrs["kcmr_malformed_rows"] = {}
    try:
        src = read_traverse(frame, path="fuzz", bearing="grid")
    except InputError:
        return
    assert len(src.frame) == len(src.geometry) == len(src.issues)
    assert len(src) == frame["PolyID"].fillna("").nunique()


def test_parse_csv_feeds_read_traverse():
    frame = parse_csv(table(["A", "B"]))
    src = read_traverse(frame, path="t", crs="EPSG:9141", bearing="grid")
    assert len(src) == 2 and all(not i for i in src.issues)


def test_a_coarse_mgrs_turning_point_is_a_bad_point(tmp_path):
    rows = ["PolyID,PointNo,PointID,PointType,MGRS,Kind,Recorded",
            "HZ-1,1,SP,SP,34TEN0820316401,CHA,2024-01-01", "HZ-1,2,TP1,TP,34TEN0830016401,,",
            "HZ-1,3,TP2,TP,34TEN0830016500,,", "HZ-1,4,TP3,TP,34TEN0820,,"]  # fmt: skip
    src = tmp_path / "tp.csv"
    src.write_text("\n".join(rows) + "\n")
    report = run(src, tmp_path)
    assert report.reasons == {"traverse_bad_point": 1}
    assert "1 km square" in report.features["details"].iloc[0]
