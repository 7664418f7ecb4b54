"""CSV/XLSX tables with WKT, X/Y or MGRS columns, and fuzzing of their parsers."""

from __future__ import annotations

import math

import openpyxl
import pyproj
import pytest
import shapely
from _import_corpus import LAT, LON, D
from hypothesis import given, settings
from hypothesis import strategies as st

from kosovo_cmr import settings as kcmr_settings
from kosovo_cmr.errors import CRSError, InputError
from kosovo_cmr.geometry_checks import parse_wkt_geometry
from kosovo_cmr.importer import import_layer
from kosovo_cmr.sources.tabular import (
    check_mgrs_precision,
    mgrs_square,
    parse_csv,
    parse_mgrs,
    parse_number,
)
from kosovo_cmr.store import open_store


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Default rejects files land in the working directory: keep it in tmp_path."""
    monkeypatch.chdir(tmp_path)


def accounted(report):
    assert report.read == report.imported + report.rejected
    return report


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_with_wkt_needs_a_crs(tmp_path):
    src = write(
        tmp_path / "h.csv",
        "hazard_id;kind;recorded;wkt\n"
        f"W-1;CHA;2024-01-01;POLYGON (({LON} {LAT}, {LON + D} {LAT}, {LON + D} {LAT + D}, "
        f"{LON} {LAT}))\n"
        "W-2;SHA;2024-01-01;POLYGON ((not wkt))\n",
    )
    with pytest.raises(CRSError, match="--crs"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg")
    report = accounted(
        import_layer(src, "hazards", store=tmp_path / "s.gpkg", crs="EPSG:4326",
                     rejects=tmp_path / "r.gpkg")
    )  # fmt: skip
    assert (report.imported, report.rejected) == (1, 1)
    assert report.reasons == {"unparseable_geometry": 1}


def test_ewkt_srid_gives_the_crs(tmp_path):
    x, y = 7_508_206.0, 4_717_817.0  # EPSG:9141 metres, near Prishtinë
    src = write(
        tmp_path / "e.csv",
        f'evidence_id,item,geometry\nE-1,crater,"SRID=9141;POINT ({x} {y})"\n',
    )
    report = accounted(import_layer(src, "evidence", store=tmp_path / "s.gpkg"))
    assert report.imported == 1 and report.crs == "EPSG:9141"


def test_csv_with_bom_and_xy_columns(tmp_path):
    src = write(
        tmp_path / "xy.csv",
        "\ufeffevidence_id,item,Lon,Lat,place\n"
        f"E-1,submunition,{LON},{LAT},Graçanicë\n"
        f"E-2,crater,21.1.5,{LAT},x\n"
        f"E-3,crater,{LAT},{LON},swapped\n",
    )
    report = accounted(
        import_layer(src, "evidence", store=tmp_path / "s.gpkg", crs="EPSG:4326",
                     rejects=tmp_path / "r.gpkg")
    )  # fmt: skip
    assert report.imported == 1
    assert report.reasons == {"unparseable_geometry": 1, "axis_swapped": 1}
    stored = open_store(tmp_path / "s.gpkg").read("evidence")
    assert stored["place"].tolist() == ["Graçanicë"]
    assert stored["evidence_id"].tolist() == ["E-1"]  # the BOM did not stick to the name


def test_cp1252_csv_falls_back_with_a_notice(tmp_path):
    src = write(
        tmp_path / "cp.csv",
        f"evidence_id,item,x,y,place\nE-1,crater,{LON},{LAT},Shtërpcë\n",
        encoding="cp1252",
    )
    report = accounted(import_layer(src, "evidence", store=tmp_path / "s.gpkg", crs="EPSG:4326"))
    assert any("cp1252" in n for n in report.notices)
    assert open_store(tmp_path / "s.gpkg").read("evidence")["place"].tolist() == ["Shtërpcë"]


def test_mgrs_column(tmp_path):
    src = write(
        tmp_path / "m.csv",
        "evidence_id,item,MGRS\nE-1,crater,34T EN 08203 16401\nE-2,crater,34T ZZ 123\n",
    )
    report = accounted(
        import_layer(src, "evidence", store=tmp_path / "s.gpkg", rejects=tmp_path / "r.gpkg")
    )
    assert (report.imported, report.rejected) == (1, 1)
    point = open_store(tmp_path / "s.gpkg").read("evidence").geometry.iloc[0]
    assert point.x == pytest.approx(21.1, abs=1e-4) and point.y == pytest.approx(42.6, abs=1e-4)


def test_malformed_rows_are_rejected_not_dropped(tmp_path):
    src = write(
        tmp_path / "bad.csv",
        f"evidence_id,item,x,y\nE-1,crater,{LON},{LAT}\nE-2,crater,{LON},{LAT},extra\n",
    )
    report = accounted(
        import_layer(src, "evidence", store=tmp_path / "s.gpkg", crs=4326,
                     rejects=tmp_path / "r.gpkg")
    )  # fmt: skip
    assert report.reasons == {"malformed_row": 1} and report.imported == 1


def test_table_without_geometry_columns(tmp_path):
    src = write(tmp_path / "none.csv", "evidence_id,item\nE-1,crater\n")
    with pytest.raises(InputError, match="no geometry column"):
        import_layer(src, "evidence", store=tmp_path / "s.gpkg")
    renamed = write(
        tmp_path / "k.csv", f'evidence_id,item,Koord\nE-1,crater,"POINT ({LON} {LAT})"\n'
    )
    report = import_layer(
        renamed, "evidence", store=tmp_path / "s.gpkg", crs=4326, field_map={"Koord": "wkt"}
    )
    assert report.imported == 1


def test_binary_csv_is_refused(tmp_path):
    (tmp_path / "b.csv").write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(InputError, match="binary"):
        import_layer(tmp_path / "b.csv", "evidence", store=tmp_path / "s.gpkg")


def test_xlsx_table(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "finds"
    sheet.append(["evidence_id", "item", "x", "y"])
    sheet.append(["E-1", "crater", LON, LAT])
    book.save(tmp_path / "t.xlsx")
    report = import_layer(tmp_path / "t.xlsx", "evidence", store=tmp_path / "s.gpkg", crs=4326)
    assert accounted(report).imported == 1


# --- fuzzing --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_parse_csv_never_crashes(text):
    try:
        frame = parse_csv(text)
    except InputError:
        return
    assert len(frame.columns) == len(set(frame.columns))
    assert set(frame.attrs["kcmr_malformed_rows"]) <= set(range(len(frame)))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=8),
                 min_size=3, max_size=3),
        min_size=1, max_size=6,
    )
)  # fmt: skip
def test_fuzz_csv_round_trip(rows):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    try:
        frame = parse_csv(buffer.getvalue())
    except InputError:
        return
    assert list(frame.columns)[:1] == ["a"] or len(frame.columns) >= 1


WKT_PIECES = st.sampled_from(
    ["POINT", "POLYGON", "MULTIPOLYGON", "LINESTRING", "(", ")", ",", " ", "Z", "M", "EMPTY",
     "nan", "inf", "-1", "21.1", "42.6", "1e308", "SRID=4326;", "GEOMETRYCOLLECTION"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(WKT_PIECES, max_size=25).map("".join)))
def test_fuzz_wkt_parser_never_raises(text):
    geom, srid, issues = parse_wkt_geometry(text)
    assert geom is None or isinstance(geom, shapely.Geometry)
    codes = {"unparseable_geometry", "ring_not_closed", "too_few_points"}
    assert all(i.code in codes for i in issues)
    if geom is None and text.strip() and not text.strip().upper().startswith("SRID"):
        assert issues


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=25),
        st.builds(
            lambda z, band, sq, digits: f"{z}{band}{sq}{digits}",
            st.integers(0, 70),
            st.sampled_from("CDEFGHJKLMNPQRSTUVWXIOAB"),
            st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZIO", min_size=2, max_size=2),
            st.text(alphabet="0123456789", max_size=12),
        ),
    )
)
def test_fuzz_mgrs_parser(text):
    try:
        lon, lat = parse_mgrs(text)
    except InputError:
        return
    assert -180 <= lon <= 180 and -90 <= lat <= 90


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_fuzz_number_round_trip(value):
    assert parse_number(repr(value)) == value
    assert parse_number(repr(value).replace(".", ",")) == value


@given(st.text(max_size=20))
def test_fuzz_number_rejects_or_is_finite(text):
    try:
        value = parse_number(text)
    except InputError:
        return
    assert math.isfinite(value)


def test_reserved_column_names_are_kept_renamed(tmp_path):
    src = write(
        tmp_path / "fid.csv",
        f"fid,evidence_id,item,x,y\nabc,E-1,crater,{LON},{LAT}\ndef,E-2,crater,{LON},\n",
    )
    report = accounted(
        import_layer(src, "evidence", store=tmp_path / "s.gpkg", crs=4326,
                     rejects=tmp_path / "r.gpkg")
    )  # fmt: skip
    assert (report.imported, report.rejected) == (1, 1)
    assert open_store(tmp_path / "s.gpkg").read("evidence")["fid_source"].tolist() == ["abc"]
    assert any("fid_source" in n for n in report.notices)


# --- MGRS precision (issue 14, item 6) ---------------------------------------------------


def test_mgrs_precision_becomes_accuracy_and_coarse_squares_are_rejected(tmp_path):
    src = write(
        tmp_path / "finds.csv",
        "evidence_id,item,MGRS\n"
        "E-100km,crater,34TDN\n"  # the 100 km square of the report
        "E-1km,crater,34TDN9020\n"  # a 1 km square
        "E-100m,crater,34TDN902204\n"  # 100 m: accuracy 50 m, within the default 100 m
        "E-1m,crater,34TEN0820316401\n",
    )
    report = accounted(
        import_layer(src, "evidence", store=tmp_path / "s.gpkg", rejects=tmp_path / "r.gpkg")
    )
    assert (report.imported, report.rejected) == (2, 2)
    assert report.reasons == {"mgrs_too_coarse": 2}
    details = report.features.set_index("id")["details"]
    assert "100 km square" in details["E-100km"] and "accuracy 50 km" in details["E-100km"]
    assert "1 km square" in details["E-1km"] and "coarser than 100 m" in details["E-1km"]
    stored = open_store(tmp_path / "s.gpkg").read("evidence").set_index("evidence_id")
    assert stored["accuracy_m"].to_dict() == {"E-100m": 50.0, "E-1m": 0.5}
    assert any("centre of their square" in n and "1 km square" in n for n in report.notices)
    # the point is the centre of the square: 34TDN902204 is easting 490200 + 50
    x, y = pyproj.Transformer.from_crs(4326, 32634, always_xy=True).transform(
        stored.geometry["E-100m"].x, stored.geometry["E-100m"].y
    )
    assert (x, y) == (pytest.approx(490250, abs=0.01), pytest.approx(4720450, abs=0.01))


def test_a_source_accuracy_is_never_better_than_its_square(tmp_path, monkeypatch):
    src = write(
        tmp_path / "finds.csv",
        "evidence_id,item,accuracy,MGRS\nE-1,crater,2.5,34TDN902204\nE-2,crater,80,34TDN902204\n"
        "E-3,crater,,34TEN0820316401\n",
    )
    report = accounted(import_layer(src, "evidence", store=tmp_path / "s.gpkg"))
    stored = open_store(tmp_path / "s.gpkg").read("evidence").set_index("evidence_id")
    assert stored["accuracy_m"].to_dict() == {"E-1": 50.0, "E-2": 80.0, "E-3": 0.5}
    assert any("raised" in n and "1 feature" in n for n in report.notices)
    monkeypatch.setattr(kcmr_settings, "mgrs_max_accuracy_m", 500.0)  # a survey that accepts 1 km
    coarse = write(tmp_path / "c.csv", "evidence_id,item,MGRS\nE-9,crater,34TDN9020\n")
    report = accounted(import_layer(coarse, "evidence", store=tmp_path / "s.gpkg"))
    assert report.imported == 1
    assert open_store(tmp_path / "s.gpkg").read("evidence").set_index("evidence_id")["accuracy_m"][
        "E-9"
    ] == pytest.approx(500.0)


def test_mgrs_square_sizes():
    sizes = [
        mgrs_square(ref).size_m
        for ref in (
            "34TDN",
            "34TDN92",
            "34TDN9020",
            "34TDN902204",
            "34TDN90222044",
            "34TEN0820316401",
        )
    ]
    assert sizes == [100_000, 10_000, 1000, 100, 10, 1]  # fmt: skip
    with pytest.raises(InputError, match="coarser than 100 m"):
        check_mgrs_precision(mgrs_square("34TDN9020"), "34TDN9020")
