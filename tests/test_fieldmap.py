"""Field sheets: turning points, the drawn sheet (via pdftoppm) and its table."""

from __future__ import annotations

import re
import shutil
import subprocess

import _mapdata
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from conftest import in_ci
from pyproj import Geod, Transformer

from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs import fieldmap


@pytest.fixture(scope="module")
def poppler():
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        if in_ci():
            pytest.fail("poppler-utils missing in CI (see .ci/setup.d/chromium.sh)")
        pytest.skip("poppler-utils (pdftoppm, pdftotext) not installed")


def _png(pdf, tmp_path, *, dpi=50, page=1):
    from PIL import Image

    prefix = tmp_path / f"page{page}"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile",
         str(pdf), str(prefix)],
        check=True,
    )  # fmt: skip
    return np.asarray(Image.open(f"{prefix}.png").convert("RGB")).astype(int)


def _pages(pdf) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


def test_sheet_is_at_true_scale():
    hz = _mapdata.hazards()
    fig = fieldmap.field_sheet(hz.iloc[[0]], paper="A4")
    ax = fig.axes[0]
    width_mm = ax.get_position().width * fig.get_figwidth() * 25.4
    ground_m = np.diff(ax.get_xlim())[0]
    height_mm = ax.get_position().height * fig.get_figheight() * 25.4
    scale = ground_m / (width_mm / 1000)
    assert round(scale) in fieldmap.SCALES
    assert np.diff(ax.get_ylim())[0] / (height_mm / 1000) == pytest.approx(scale)
    text = " ".join(t.get_text() for t in ax.texts)
    assert f"Scale 1:{round(scale):,}".replace(",", " ") in text


def test_sheet_pdf_renders(tmp_path, poppler):
    layers = _mapdata.layers()
    pdf = fieldmap.write_field_map(layers["hazards"], "DEMO-H0", tmp_path / "s.pdf", layers=layers)
    img = _png(pdf, tmp_path, dpi=50)
    h, w, _ = img.shape
    assert abs(w - 297 / 25.4 * 50) <= 1 and abs(h - 210 / 25.4 * 50) <= 1  # A4 landscape
    ink = (img.sum(axis=2) < 600).mean()
    assert 0.02 < ink < 0.6  # drawn, not blank, not a black page

    def red_in_panel(im):  # the text panel right of the map: red only from the watermark
        panel = im[:, int(im.shape[1] * 0.65) :]
        return (
            (panel[:, :, 0] - panel[:, :, 1] > 30) & (panel[:, :, 0] - panel[:, :, 2] > 30)
        ).mean()

    assert red_in_panel(img) > 0.01

    real = _mapdata.hazards(synthetic=False)
    plain = fieldmap.write_field_map(real, "H0", tmp_path / "r.pdf", layers={"hazards": real})
    img2 = _png(plain, tmp_path, dpi=50)
    assert red_in_panel(img2) < 0.001  # no watermark on real data
    text = subprocess.run(["pdftotext", str(plain), "-"], capture_output=True, text=True).stdout
    assert "NOT FOR FIELD USE" not in text


def test_a3_page_size(tmp_path, poppler):
    hz = _mapdata.hazards()
    pdf = fieldmap.write_field_map(hz, "DEMO-H2", tmp_path / "a3.pdf", paper="A3", grid="national")
    img = _png(pdf, tmp_path, dpi=30)
    h, w = img.shape[:2]
    assert abs(h - 297 / 25.4 * 30) <= 1 and abs(w - 420 / 25.4 * 30) <= 1


def test_table_on_the_sheet_matches_the_geometry(tmp_path, poppler):
    hz = _mapdata.hazards()
    pdf = fieldmap.write_field_map(hz, "DEMO-H1", tmp_path / "t.pdf")
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    rows = re.findall(
        r"^\s*(TP\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(34T\w\w \d{5} \d{5})\s+(\d+)\s+([\d.]+)",
        text,
        flags=re.M,
    )
    # computed here independently from the stored polygon
    ring = shapely.orient_polygons(hz.geometry.iloc[1].geoms[0], exterior_cw=True).exterior
    xy = np.asarray(ring.coords)[:-1]
    assert len(rows) == len(xy)
    lon, lat = np.array([[float(v) for v in xy_] for xy_ in xy]).T
    e, n = Transformer.from_crs(4326, 32634, always_xy=True).transform(lon, lat)
    ge, gn = Transformer.from_crs(4326, 9141, always_xy=True).transform(lon, lat)
    printed = {(int(r[1]), int(r[2])): r for r in rows}
    assert set(printed) == {(round(a), round(b)) for a, b in zip(e, n, strict=True)}
    import mgrs

    m = mgrs.MGRS()
    for a, b, c, d, lo, la in zip(e, n, ge, gn, lon, lat, strict=True):
        r = printed[(round(a), round(b))]
        assert (int(r[3]), int(r[4])) == (round(c), round(d))
        assert r[5].replace(" ", "") == m.toMGRS(la, lo, MGRSPrecision=5)
    # distances: the printed legs add up to the geodesic perimeter of the outer ring
    total = sum(float(r[7]) for r in rows)
    perimeter = Geod(ellps="WGS84").geometry_length(shapely.Polygon(ring))
    assert total == pytest.approx(perimeter, abs=0.05 * len(rows))


def test_atlas_has_one_page_per_hazard(tmp_path, poppler):
    layers = _mapdata.layers()
    active = layers["hazards"][layers["hazards"].status == "active"]
    pdf = fieldmap.write_atlas(active, tmp_path / "atlas.pdf", layers=layers)
    assert _pages(pdf) == 3
    with pytest.raises(InputError, match="exists"):
        fieldmap.write_atlas(active, pdf, layers=layers)


def test_unknown_hazard_and_options():
    hz = _mapdata.hazards()
    with pytest.raises(InputError, match="no hazard"):
        fieldmap.write_field_map(hz, "NOPE", "/tmp/never.pdf")
    with pytest.raises(InputError):
        fieldmap.field_sheet(hz.iloc[[0]], paper="Letter")
    with pytest.raises(InputError):
        fieldmap.field_sheet(hz.iloc[[0]], grid="lambert")


def test_cli_fieldmap(demo_store_copy, tmp_path, poppler):
    store = demo_store_copy
    hid = store.read("hazards").query("status == 'active'").hazard_id.iloc[0]
    out = tmp_path / "one.pdf"
    runner = CliRunner()
    result = runner.invoke(cli, ["--store", store.uri, "fieldmap", hid, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _pages(out) == 1
    again = runner.invoke(cli, ["--store", store.uri, "fieldmap", hid, "-o", str(out)])
    assert again.exit_code == 1
    neither = runner.invoke(cli, ["--store", store.uri, "fieldmap", "-o", str(tmp_path / "x.pdf")])
    assert neither.exit_code == 1 and "HAZARD_ID or --all" in neither.output
