"""``kcmr fieldmap``: languages, ground context, closed hazards, the output guard."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from rasterio.transform import from_origin
from test_fieldmap import page_texts, star

from kosovo_cmr.cli.main import cli
from kosovo_cmr.outputs.sheet_i18n import LANGUAGES, UNTRANSLATED, sheet_text
from kosovo_cmr.store import open_store

ARGS = ["--date", "2026-06-01"]


def run(store, *args):
    return CliRunner().invoke(
        cli, ["--store", store.uri, "fieldmap", *args], catch_exceptions=False
    )


@pytest.fixture
def store(tmp_path):
    """A store with two open hazards (one synthetic) and a released one."""
    s = open_store(tmp_path / "kcmr.gpkg", create=True)
    layer = gpd.GeoDataFrame(
        __import__("pandas").concat(
            [
                star(60, hid="H60"),
                star(40, hid="H40", lon=21.2, lat=42.5, status="released", closed="2024-05-01"),
                star(30, hid="DEMO-H30", lon=20.9, lat=42.4, synthetic=True),
            ],
            ignore_index=True,
        ),
        crs=9141,
    ).to_crs(4326)
    s.write(layer, "hazards", source="test")
    return s


def test_all_leaves_closed_hazards_out_unless_asked(store, tmp_path):
    out = tmp_path / "atlas.pdf"
    result = run(store, "--all", "-o", str(out), *ARGS)
    assert result.exit_code == 0, result.output
    text = "\n".join(page_texts(out))
    assert "H60" in text and "DEMO-H30" in text and "H40" not in text
    assert "1 closed hazard(s) (released or removed) left out" in result.output
    assert "sheet 1/2: DEMO-H30" in result.output  # progress on stderr
    result = run(store, "--all", "--include-closed", "-o", str(out), "--overwrite", *ARGS)
    assert result.exit_code == 0, result.output
    text = "\n".join(page_texts(out))
    assert "H40 - CLOSED HAZARD (released 2024-05-01)" in text
    assert run(store, "H60", "--include-closed", "-o", str(tmp_path / "x.pdf")).exit_code == 1


def test_output_guard_keeps_the_store(store, tmp_path):
    before = store.read("hazards")
    result = run(store, "H60", "-o", store.uri, "--overwrite", *ARGS)
    assert result.exit_code == 1 and "is the store" in result.output
    assert len(open_store(store.uri).read("hazards")) == len(before)
    dem = _dem(tmp_path / "dem.tif")
    result = run(store, "H60", "-o", str(dem), "--dem", str(dem), "--overwrite", *ARGS)
    assert result.exit_code == 1 and "is the source file" in result.output
    out = tmp_path / "one.pdf"
    assert run(store, "H60", "-o", str(out), *ARGS).exit_code == 0
    again = run(store, "H60", "-o", str(out), *ARGS)
    assert again.exit_code == 1 and "exists" in again.output
    neither = run(store, "-o", str(tmp_path / "y.pdf"))
    assert neither.exit_code == 1 and "HAZARD_ID or --all" in neither.output
    bad_date = run(store, "H60", "-o", str(tmp_path / "z.pdf"), "--date", "01/06/2026")
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output


def _dem(path):
    x, y = Transformer.from_crs(4326, 32634, always_xy=True).transform(21.10, 42.60)
    z = 600 + 40 * np.sin(np.linspace(0, 6, 300))[None, :] + np.linspace(0, 80, 300)[:, None]
    with rasterio.open(
        path, "w", driver="GTiff", width=300, height=300, count=1, dtype="float32",
        crs="EPSG:32634", transform=from_origin(x - 1500, y + 1500, 10, 10),
    ) as dst:  # fmt: skip
        dst.write(z.astype("float32"), 1)
        dst.update_tags(TIFFTAG_COPYRIGHT="Test DEM agency")
    return path


def _ortho(path):
    x, y = Transformer.from_crs(4326, 32634, always_xy=True).transform(21.10, 42.60)
    rgb = np.full((3, 200, 200), 90, dtype="uint8")
    rgb[1] = 150
    with rasterio.open(
        path, "w", driver="GTiff", width=200, height=200, count=3, dtype="uint8",
        crs="EPSG:32634", transform=from_origin(x - 1000, y + 1000, 10, 10),
    ) as dst:  # fmt: skip
        dst.write(rgb)
        dst.update_tags(TIFFTAG_COPYRIGHT="Orthophoto (c) Test Cadastre")
    return path


def _context(path):
    lon, lat = 21.10, 42.60
    roads = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(lon - 0.02, lat - 0.001), (lon + 0.02, lat + 0.002)])],
        crs=4326,
    )
    roads.to_file(path, layer="roads", driver="GPKG", layer_options={"DESCRIPTION": "OSM"})
    river = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(lon - 0.02, lat + 0.003), (lon + 0.02, lat - 0.004)])],
        crs=4326,
    )
    river.to_file(path, layer="rivers", driver="GPKG")
    return path


def test_ground_context_is_drawn_and_credited(store, tmp_path):
    dem, ortho = _dem(tmp_path / "dem.tif"), _ortho(tmp_path / "ortho.tif")
    ctx = _context(tmp_path / "context.gpkg")
    out = tmp_path / "ground.pdf"
    result = run(store, "H60", "-o", str(out), "--dem", str(dem), "--basemap", str(ortho),
                 "--context", f"{ctx}:roads", "--context", f"{ctx}:rivers", *ARGS)  # fmt: skip
    assert result.exit_code == 0, result.output
    footer = " ".join(page_texts(out)[0].split())
    # pdfminer may split a word of the legend where matplotlib kerns it: compare unspaced
    unspaced = [p.replace(" ", "") for p in phrases(out)]
    assert any(re.fullmatch(r"contoursevery\d+m", p) for p in unspaced), unspaced
    assert "relief and contours from dem.tif (Test DEM agency)" in footer
    assert "imagery ortho.tif (Orthophoto (c) Test Cadastre)" in footer
    assert "roads from context.gpkg (OSM)" in footer and "rivers from context.gpkg" in footer
    assert "No ground context" not in footer
    plain = tmp_path / "plain.pdf"
    assert run(store, "H60", "-o", str(plain), *ARGS).exit_code == 0
    assert "No ground context: add --dem FILE" in " ".join(page_texts(plain)[0].split())
    missing = run(store, "H60", "-o", str(tmp_path / "m.pdf"), "--context", f"{ctx}:lakes")
    assert missing.exit_code == 1 and "has no layer 'lakes'" in missing.output


def phrases(pdf_path) -> list[str]:
    """Runs of words on the map page that sit side by side (gaps under 5 pt): a legend
    entry stays whole even where a map label shares its line. The watermark (40 pt)
    is left out: its letters would fall between the words."""
    import pdfplumber

    with pdfplumber.open(pdf_path) as pdf:
        page = pdf.pages[0].filter(lambda o: o.get("object_type") != "char" or o["size"] < 20)
        ws = sorted(page.extract_words(), key=lambda w: (round(w["top"]), w["x0"]))
    out, run_, last = [], [], None
    for w in ws:
        if last is not None and abs(w["top"] - last["top"]) < 1 and w["x0"] - last["x1"] < 5:
            run_.append(w["text"])
        else:
            if run_:
                out.append(" ".join(run_))
            run_ = [w["text"]]
        last = w
    return [*out, " ".join(run_)]


def _english_words() -> set[str]:
    """Words of the English labels, less those every language keeps (codes, units)."""
    words = set()
    for label in sheet_text("en").labels.values():
        for word in re.findall(r"[A-Za-z][A-Za-z0-9'-]+", re.sub(r"\{[^}]*\}|--\w+", " ", label)):
            if word not in UNTRANSLATED and len(word) > 2:
                words.add(word.lower())
    return words


def test_every_language_has_every_label():
    keys = set(sheet_text("en").labels)
    for lang in LANGUAGES:
        assert set(sheet_text(lang).labels) == keys, lang


@pytest.mark.parametrize("lang", ["en", "sq", "sr", "sr-Cyrl"])
def test_no_english_label_is_left(store, tmp_path, lang):
    dem = _dem(tmp_path / "dem.tif")
    out = tmp_path / f"{lang}.pdf"
    result = run(store, "DEMO-H30", "-o", str(out), "--lang", lang, "--dem", str(dem), *ARGS)
    assert result.exit_code == 0, result.output
    printed = " ".join(page_texts(out))
    # the data's own names are not labels: the hazard id, places, ordnance, the store's
    # path (a temporary folder named after this test) and the DEM's file name
    data = {"demo-h30", "lipjan", "blu-97", "dem", "tif"}
    data |= {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9'-]+", store.uri)}
    found = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9'-]+", printed)} - data
    leaked = found & _english_words()
    if lang == "en":  # the check finds English where there is English
        assert len(leaked) > 40
        return
    assert not leaked, f"English left on the {lang} sheet: {sorted(leaked)}"
    title = {"sq": "Pikat e kthesës", "sr": "Prelomne tačke", "sr-Cyrl": "Преломне тачке"}
    assert any(title[lang].replace(" ", "") in p.replace(" ", "") for p in phrases(out))
