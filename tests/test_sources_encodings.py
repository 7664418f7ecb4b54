"""Encodings detected by content when no .cpg says (issue 14, item 9).

The Shapefiles are written by GDAL itself in cp1250, cp1252 and cp1251 (pyogrio's
``encoding=``), then their ``.cpg`` is removed: GDAL alone reads them as Latin-1 and
gives the mojibake of the report ("Leposaviæ"); the importer must store the names.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
import pytest
from _import_corpus import LAT, LON, D, write_zip
from click.testing import CliRunner
from shapely.geometry import Point

from kosovo_cmr.cli.main import cli
from kosovo_cmr.importer import import_layer, validate_source
from kosovo_cmr.sources.encodings import EncodingGuess, dbf_text, detect_encoding
from kosovo_cmr.store import open_store

SERBIAN_LATIN = ["Leposavić", "Gračanica", "Zvečan", "Štrpce", "Đakovica", "Žabare"]
ALBANIAN = ["Graçanicë", "Shtërpcë", "Zveçan", "Rruga ’Nëna Terezë’", "Prishtinë", "Pejë"]
SERBIAN_CYRILLIC = ["Лепосавић", "Грачаница", "Звечан", "Штрпце", "Ђаковица", "Урошевац"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def shapefile_without_cpg(folder, names, encoding):
    """A Shapefile written by GDAL in ``encoding``, its .cpg removed."""
    gdf = gpd.GeoDataFrame(
        {
            "evidence_id": [f"E-{i}" for i in range(len(names))],
            "item": ["crater"] * len(names),
            "place": names,
        },
        geometry=[Point(LON + i * D, LAT) for i in range(len(names))],
        crs=4326,
    )
    folder.mkdir(exist_ok=True)
    path = folder / "finds.shp"
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    assert path.with_suffix(".cpg").read_text().upper() == encoding.upper()
    path.with_suffix(".cpg").unlink()
    return path


@pytest.mark.parametrize(
    "names, encoding",
    [(SERBIAN_LATIN, "cp1250"), (ALBANIAN, "cp1252"), (SERBIAN_CYRILLIC, "cp1251")],
)
def test_shapefile_without_cpg_keeps_its_names(tmp_path, names, encoding):
    src = shapefile_without_cpg(tmp_path / encoding, names, encoding)
    bare = pyogrio.read_dataframe(src)["place"].tolist()  # what GDAL alone makes of it
    assert bare != names
    report = import_layer(src, "evidence", store=tmp_path / "s.gpkg")
    assert report.imported == len(names)
    assert open_store(tmp_path / "s.gpkg").read("evidence")["place"].tolist() == names
    assert encoding in report.encoding and "detected" in report.encoding
    assert any("no .cpg" in n and encoding in n for n in report.notices)
    assert report.as_dict()["encoding"] == report.encoding
    assert validate_source(src, "evidence", store=tmp_path / "v.gpkg").encoding == report.encoding


def test_the_report_case_leposavic_is_not_mojibake(tmp_path):
    src = shapefile_without_cpg(tmp_path / "x", ["Leposavić", "Gračanica"], "cp1250")
    assert pyogrio.read_dataframe(src)["place"].tolist() == ["Leposaviæ", "Graèanica"]
    import_layer(src, "evidence", store=tmp_path / "s.gpkg")
    stored = open_store(tmp_path / "s.gpkg").read("evidence")["place"].tolist()
    assert stored == ["Leposavić", "Gračanica"]


def test_zipped_shapefile_without_cpg(tmp_path):
    src = shapefile_without_cpg(tmp_path / "z", SERBIAN_LATIN, "cp1250")
    parts = {f"finds{e}": src.with_suffix(e).read_bytes() for e in (".shp", ".shx", ".dbf", ".prj")}
    archive = write_zip(tmp_path / "finds.zip", parts)
    report = import_layer(archive, "evidence", store=tmp_path / "s.gpkg")
    assert report.encoding.startswith("cp1250")
    assert open_store(tmp_path / "s.gpkg").read("evidence")["place"].tolist() == SERBIAN_LATIN


def test_a_cpg_or_the_option_wins_over_detection(tmp_path):
    src = shapefile_without_cpg(tmp_path / "c", SERBIAN_LATIN, "cp1250")
    src.with_suffix(".cpg").write_text("CP1250")
    report = import_layer(src, "evidence", store=tmp_path / "s.gpkg")
    assert report.encoding == "CP1250 (.cpg)"
    assert not any("detected" in n for n in report.notices)
    src.with_suffix(".cpg").unlink()
    forced = validate_source(src, "evidence", store=tmp_path / "s2.gpkg", encoding="cp1252")
    assert forced.encoding == "cp1252 (--encoding)"


@pytest.mark.parametrize(
    "encoding, names", [("cp1250", SERBIAN_LATIN), ("cp1251", SERBIAN_CYRILLIC)]
)
def test_csv_encodings_are_detected(tmp_path, encoding, names):
    rows = "\n".join(f"E-{i};crater;{n};POINT ({LON + i * D} {LAT})" for i, n in enumerate(names))
    src = tmp_path / "finds.csv"
    src.write_bytes(f"evidence_id;item;place;wkt\n{rows}\n".encode(encoding))
    report = import_layer(src, "evidence", store=tmp_path / "s.gpkg", crs="EPSG:4326")
    assert report.encoding.startswith(encoding)
    assert open_store(tmp_path / "s.gpkg").read("evidence")["place"].tolist() == names


def test_cli_json_reports_the_encoding(tmp_path):
    src = shapefile_without_cpg(tmp_path / "j", SERBIAN_LATIN, "cp1250")
    result = CliRunner().invoke(
        cli, ["--store", str(tmp_path / "s.gpkg"), "validate", str(src), "--layer", "evidence",
              "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["encoding"].startswith("cp1250")
    text = CliRunner().invoke(
        cli, ["--store", str(tmp_path / "s.gpkg"), "validate", str(src), "--layer", "evidence"]
    )
    assert "encoding: cp1250" in text.stdout


def test_dbf_text_takes_only_text_fields(tmp_path):
    src = shapefile_without_cpg(tmp_path / "d", SERBIAN_LATIN, "cp1250")
    sample = dbf_text(src.with_suffix(".dbf"))
    assert "Leposavić".encode("cp1250") in sample and b"crater" in sample


@pytest.mark.parametrize(
    "text, encoding",
    [
        ("Opština Leposavić, selo Žabare, reka Ibar", "cp1250"),
        ("Општина Лепосавић, село Жабаре", "cp1251"),
        ("Komuna e Graçanicës, fshati Shtërpcë", "cp1250"),
        ("Prishtinë / Priština", "utf-8"),
    ],
)
def test_detect_encoding(text, encoding):
    guess = detect_encoding(text.encode(encoding))
    assert guess.encoding == encoding and guess.confident
    assert text.encode(encoding).decode(guess.encoding) == text


def test_albanian_text_reads_the_same_in_cp1250_and_cp1252():
    guess = detect_encoding("Graçanicë Shtërpcë".encode("cp1252"))
    assert guess.encoding == "cp1250" and "cp1252" in guess.alike
    assert "cp1252" in guess.describe()
    assert EncodingGuess("cp1251", False).describe() == "cp1251, a best guess"
