"""Odd and silent-wrong inputs of issue 14 (items 9 and 10), each from its own file.

Dates with a time zone and in an ambiguous order, look-alike ids, KML placemarks under
any container, columns that differ only by case. Every import goes through ``run``,
which checks the accounting and compares ``validate`` with ``import``: both must give
the same findings.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from _import_corpus import LAT, LON, D, feature, props, square, write_geojson, write_zip

from kosovo_cmr.errors import InputError
from kosovo_cmr.importer import import_layer, validate_source
from kosovo_cmr.store import open_store


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def run(src, layer="hazards", **kw):
    """Validate, then import; both must find the same; the accounting must hold."""
    store = src.parent / "s.gpkg"
    check = validate_source(src, layer, store=store, **kw)
    report = import_layer(src, layer, store=store, overwrite=True, **kw)
    assert report.read == report.imported + report.rejected
    assert (check.read, check.imported, check.rejected) == (
        report.read, report.imported, report.rejected,
    )  # fmt: skip
    assert check.reasons == report.reasons
    assert check.notices == report.notices
    assert check.features[["id", "outcome", "reasons"]].equals(
        report.features[["id", "outcome", "reasons"]]
    )
    return report


def stored(src, layer="hazards"):
    return open_store(src.parent / "s.gpkg").read(layer)


def csv(path, header, rows):
    wkt = square(0).wkt
    path.write_text(header + ",wkt\n" + "".join(f'{r},"{wkt}"\n' for r in rows), encoding="utf-8")
    return path


# --- dates -------------------------------------------------------------------------------


def test_a_date_with_a_time_zone_keeps_the_date_written(tmp_path):
    src = csv(tmp_path / "tz.csv", "hazard_id,kind,recorded",
              ["TZ-1,CHA,2024-01-02T23:30:00-05:00", "TZ-2,CHA,2024-01-02"])  # fmt: skip
    report = run(src, crs="EPSG:4326")
    dates = stored(src).set_index("hazard_id")["recorded"].dt.strftime("%Y-%m-%d")
    assert dates.to_dict() == {"TZ-1": "2024-01-02", "TZ-2": "2024-01-02"}  # not 01-03
    assert any("time zone" in n and "-05:00" in n and "not converted" in n for n in report.notices)


@pytest.mark.parametrize("driver", ["GeoJSON", "GPKG"])
def test_vector_dates_with_a_time_zone_keep_the_date_written(tmp_path, driver):
    recorded = pd.to_datetime(["2024-01-02T23:30:00", "2024-05-01T00:30:00"]).tz_localize(
        "America/New_York"
    )
    gdf = gpd.GeoDataFrame(
        {"hazard_id": ["A", "B"], "kind": ["CHA", "SHA"], "recorded": recorded},
        geometry=[square(0), square(1)],
        crs=4326,
    )
    src = tmp_path / ("tz.geojson" if driver == "GeoJSON" else "tz.gpkg")
    pyogrio.write_dataframe(gdf, src, driver=driver)
    report = run(src)
    dates = stored(src).set_index("hazard_id")["recorded"].dt.strftime("%Y-%m-%d")
    assert dates.to_dict() == {"A": "2024-01-02", "B": "2024-05-01"}
    assert any("time zone" in n for n in report.notices)


def test_an_ambiguous_day_month_order_is_reported(tmp_path):
    src = csv(tmp_path / "dm.csv", "hazard_id,kind,recorded",
              ["A,CHA,01/02/2024", "B,CHA,13/02/2024", "C,CHA,2024-03-04"])  # fmt: skip
    report = run(src, crs="EPSG:4326")
    dates = stored(src).set_index("hazard_id")["recorded"].dt.strftime("%Y-%m-%d")
    assert dates.to_dict() == {"A": "2024-02-01", "B": "2024-02-13", "C": "2024-03-04"}
    note = next(n for n in report.notices if "could be day/month or month/day" in n)
    assert "'01/02/2024'" in note and "default for Kosovo" in note and "1 date(s)" in note


def test_unambiguous_dates_give_no_notice(tmp_path):
    src = csv(tmp_path / "ok.csv", "hazard_id,kind,recorded",
              ["A,CHA,13/02/2024", "B,CHA,15.07.2024", "C,CHA,01/01/2024"])  # fmt: skip
    report = run(src, crs="EPSG:4326")
    assert report.imported == 3
    assert not any("recorded" in n for n in report.notices)


def test_a_month_first_column_is_read_month_first_and_said_so(tmp_path):
    src = csv(tmp_path / "us.csv", "hazard_id,kind,recorded",
              ["A,CHA,02/13/2024", "B,CHA,03/01/2024"])  # fmt: skip
    report = run(src, crs="EPSG:4326")
    dates = stored(src).set_index("hazard_id")["recorded"].dt.strftime("%Y-%m-%d")
    assert dates.to_dict() == {"A": "2024-02-13", "B": "2024-03-01"}
    assert any("read month/day" in n for n in report.notices)


def test_a_column_mixing_both_orders_rejects_the_odd_dates(tmp_path):
    src = csv(tmp_path / "mix.csv", "hazard_id,kind,recorded",
              ["A,CHA,13/02/2024", "B,CHA,02/13/2024"])  # fmt: skip
    report = run(src, crs="EPSG:4326", rejects=tmp_path / "r.gpkg")
    assert (report.imported, report.rejected) == (1, 1)
    assert "month 13 in a column read day/month" in report.features["details"].iloc[1]


# --- look-alike ids ------------------------------------------------------------------------


def _ids_csv(tmp_path, ids, name="ids.csv"):
    rows = [f"{i},CHA,2024-01-01" for i in ids]
    return csv(tmp_path / name, "hazard_id,kind,recorded", rows)


@pytest.mark.parametrize(
    "odd, what",
    [
        ("H\u200b-1", "zero width space"),
        ("H-1\u202e", "right-to-left override"),
        ("\ufeffH-1", "zero width no-break space"),
        ("Ｈ-1", "NFKC"),
        ("HАZ-1", "look-alike"),  # a Cyrillic А among Latin letters
    ],
)
def test_an_id_with_hidden_or_look_alike_characters_is_normalised(tmp_path, odd, what):
    src = _ids_csv(tmp_path, [odd, "B-2"])
    report = run(src, crs="EPSG:4326")
    assert report.imported == 2 and report.reasons.get("id_normalised") == 1
    row = report.features.iloc[0]
    assert row["outcome"] == "imported" and what in row["details"] and repr(odd) in row["details"]
    assert any("normalised" in n for n in report.notices)
    ids = set(stored(src)["hazard_id"])
    assert ids == {odd.replace("\u200b", "").replace("\u202e", "").replace("\ufeff", "")
                   .replace("Ｈ", "H").replace("А", "A"), "B-2"}  # fmt: skip
    assert all(i.isascii() for i in ids)


def test_two_ids_that_collapse_into_one_are_both_rejected(tmp_path):
    src = _ids_csv(tmp_path, ["H-1", "H\u200b-1", "B-2"])
    report = run(src, crs="EPSG:4326", on_conflict="skip", rejects=tmp_path / "r.gpkg")
    assert (report.imported, report.rejected) == (1, 2)
    assert report.reasons["lookalike_id"] == 2
    assert "looks like 'H-1'" in report.features["details"].iloc[1]


def test_a_cyrillic_id_that_looks_latin_is_rejected(tmp_path):
    src = _ids_csv(tmp_path, ["H-1", "Н-1"])  # the second is all Cyrillic Н
    report = run(src, crs="EPSG:4326", rejects=tmp_path / "r.gpkg")
    assert report.reasons == {"lookalike_id": 2}


def test_an_id_that_looks_like_a_stored_one_is_rejected(tmp_path):
    first = _ids_csv(tmp_path, ["H-1"], name="first.csv")
    import_layer(first, "hazards", store=tmp_path / "s.gpkg", crs="EPSG:4326")
    later = _ids_csv(tmp_path, ["Н-1", "C-3"], name="later.csv")
    report = run(later, crs="EPSG:4326", rejects=tmp_path / "r.gpkg")
    assert (report.imported, report.rejected) == (1, 1)
    assert "already in the store" in report.features["details"].iloc[0]
    assert sorted(stored(later)["hazard_id"]) == ["C-3", "H-1"]


def test_references_to_hazards_are_normalised_too(tmp_path):
    rows = [f"E-1,H\u200b-1,crater,POINT ({LON} {LAT})"]
    src = tmp_path / "e.csv"
    src.write_text("evidence_id,hazard_id,item,wkt\n" + "\n".join(rows) + "\n")
    report = run(src, "evidence", crs="EPSG:4326")
    assert report.reasons == {"id_normalised": 1}
    assert stored(src, "evidence")["hazard_id"].tolist() == ["H-1"]


# --- KML placemarks under any container -----------------------------------------------------


def _placemark(i: int) -> str:
    x = LON + i * 3 * D
    ring = f"{x},{LAT} {x + D},{LAT} {x + D},{LAT + D} {x},{LAT + D} {x},{LAT}"
    data = "".join(
        f'<Data name="{k}"><value>{v}</value></Data>'
        for k, v in (("hazard_id", f"K-{i}"), ("kind", "CHA"), ("recorded", "2024-06-01"))
    )
    return (
        f"<Placemark><name>K-{i}</name><ExtendedData>{data}</ExtendedData><Polygon>"
        f"<outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing>"
        "</outerBoundaryIs></Polygon></Placemark>"
    )


KML = '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">{}</kml>'


@pytest.mark.parametrize(
    "body, n",
    [
        # Google Earth: placemarks right under an unnamed Document
        ("<Document>{0}{1}</Document>", 2),
        ("<Document><name>Survey</name>{0}<Folder><name>A</name>{1}</Folder></Document>", 2),
        # nested folders, an unnamed one, and placemarks beside them
        (
            "<Document>{0}<Folder><name>A</name>{1}<Folder><name>A1</name>{2}</Folder></Folder>"
            "<Folder>{3}</Folder></Document>",
            4,
        ),  # fmt: skip
        ("{0}", 1),  # a placemark right under <kml>
        ("<Folder>{0}{1}</Folder>", 2),
    ],
)
@pytest.mark.parametrize("kmz", [False, True])
def test_kml_placemarks_under_any_container_import(tmp_path, body, n, kmz):
    text = KML.format(body.format(*(_placemark(i) for i in range(4))))
    if kmz:
        src = write_zip(tmp_path / "survey.kmz", {"doc.kml": text.encode()})
    else:
        src = tmp_path / "survey.kml"
        src.write_text(text, encoding="utf-8")
    report = run(src)
    assert (report.read, report.imported) == (n, n), report.summary()
    assert sorted(stored(src)["hazard_id"]) == [f"K-{i}" for i in range(n)]


# --- columns that differ only by case ---------------------------------------------------


def test_columns_differing_only_by_case_are_renamed_in_validate_and_import(tmp_path):
    src = write_geojson(
        tmp_path / "case.geojson",
        [feature(props("C-1", Notes="upper", notes="lower", NOTES="caps"), square(0))],
    )
    report = run(src)  # validate passed and import failed (exit 4) before
    assert report.imported == 1
    row = stored(src).iloc[0]
    assert (row["Notes"], row["notes_2"], row["NOTES_3"]) == ("upper", "lower", "caps")
    assert sum("differ only by case" in n for n in report.notices) == 2


def test_a_layer_column_keeps_its_name_among_case_twins(tmp_path):
    src = csv(tmp_path / "k.csv", "hazard_id,KIND,kind,recorded", ["A,shrug,CHA,2024-01-01"])
    report = run(src, crs="EPSG:4326")
    assert report.imported == 1
    row = stored(src).iloc[0]
    assert (row["kind"], row["KIND_2"]) == ("CHA", "shrug")


def test_a_kml_whose_placemarks_gdal_does_not_all_read_is_refused(tmp_path):
    # a placemark inside a NetworkLinkControl update: GDAL skips it; nothing may be lost
    body = (
        "<NetworkLinkControl><Update><targetHref>x.kml</targetHref><Create>"
        "<Document targetId='d'>{0}</Document></Create></Update></NetworkLinkControl>"
        "<Document>{1}</Document>"
    )
    src = tmp_path / "update.kml"
    src.write_text(KML.format(body.format(_placemark(0), _placemark(1))), encoding="utf-8")
    for check in (validate_source, import_layer):
        with pytest.raises(InputError, match="GDAL read 1 of its 2 placemarks"):
            check(src, "hazards", store=tmp_path / "s.gpkg")
    assert not (tmp_path / "s.gpkg").exists()
