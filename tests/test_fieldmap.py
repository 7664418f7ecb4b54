"""Field sheets: measured in the PDF (pdfplumber, poppler), as a deminer would read them.

The issue's test case: a store holding a hazard with 150 turning points and no operator
or priority: the smallest text is at least 7 pt, no two labels overlap, no "nan" or
"None" is printed, and magnetic bearings and the declination are.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date

import _mapdata
import geopandas as gpd
import numpy as np
import pdfplumber
import pytest
import shapely
from click.testing import CliRunner
from conftest import in_ci
from pyproj import Transformer

from kosovo_cmr.analysis.declination import magnetic_declination
from kosovo_cmr.analysis.sheet_facts import sheet_facts
from kosovo_cmr.cli.main import cli
from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs import fieldmap
from kosovo_cmr.outputs.sheet_labels import boxes_overlap
from kosovo_cmr.store import open_store
from kosovo_cmr.workflows import fieldsheets

DAY = date(2026, 6, 1)
LABEL = re.compile(r"^(P\d+-)?TP\d+$")


@pytest.fixture(scope="module")
def poppler():
    if shutil.which("pdftoppm") is None or shutil.which("pdfinfo") is None:
        if in_ci():
            pytest.fail("poppler-utils missing in CI (see .ci/setup.d/chromium.sh)")
        pytest.skip("poppler-utils (pdftoppm, pdfinfo) not installed")


def star(n: int, *, hid="H150", lon=21.10, lat=42.60, r=220.0, wobble=0.3, **attrs):
    """A hazard of ``n`` vertices (a wavy star, with notches), as a one-row layer."""
    x0, y0 = Transformer.from_crs(4326, 9141, always_xy=True).transform(lon, lat)
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rr = r * (1 + wobble * np.sin(7 * a))
    poly = shapely.Polygon(np.c_[x0 + rr * np.cos(a), y0 + rr * np.sin(a)])
    row = {
        "hazard_id": hid,
        "kind": "CHA",
        "status": "active",
        "municipality": "Lipjan",
        "region": "Centre",
        "priority": None,
        "operator": None,
        "ordnance": "BLU-97",
        "recorded": "2021-04-05",
        "synthetic": False,
    } | attrs
    return gpd.GeoDataFrame({k: [v] for k, v in row.items()}, geometry=[poly], crs=9141)


def words(pdf_path):
    """Every word of every page, with its page number, box and font sizes."""
    out = []
    with pdfplumber.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            for w in page.extract_words(extra_attrs=["size"], keep_blank_chars=False):
                out.append({**w, "page": number, "page_height": page.height})
    return out


def page_texts(pdf_path) -> list[str]:
    with pdfplumber.open(pdf_path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def panel_text(pdf_path, *, flat=True) -> str:
    """The side panel of the map page (right of the map); one line of words if ``flat``."""
    with pdfplumber.open(pdf_path) as pdf:
        page = pdf.pages[0]
        text = page.crop((page.width * 0.55, 0, page.width, page.height)).extract_text()
    return " ".join(text.split()) if flat else text


def table_text(pdf_path) -> str:
    """The turning-point table: the panel of the map page, then the following pages."""
    return "\n".join([panel_text(pdf_path, flat=False), *page_texts(pdf_path)[1:]])


def char_sizes(pdf_path) -> set[float]:
    with pdfplumber.open(pdf_path) as pdf:
        return {round(c["size"], 2) for page in pdf.pages for c in page.chars}


@pytest.fixture(scope="module")
def store150(tmp_path_factory):
    """A GeoPackage store holding the issue's hazard: 150 points, no operator/priority."""
    store = open_store(tmp_path_factory.mktemp("s150") / "kcmr.gpkg", create=True)
    store.write(star(150).to_crs(4326), "hazards", source="test: 150 turning points")
    return store


@pytest.fixture(scope="module")
def sheet150(store150, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf150") / "H150.pdf"
    result = CliRunner().invoke(
        cli, ["--store", store150.uri, "fieldmap", "H150", "-o", str(out), "--date", "2026-06-01"]
    )
    assert result.exit_code == 0, result.output
    return out


def test_done_when_smallest_text_is_7pt(sheet150):
    sizes = char_sizes(sheet150)
    assert min(sizes) >= 7.0, sorted(sizes)[:5]


def test_done_when_no_nan_or_none(sheet150):
    text = "\n".join(page_texts(sheet150))
    assert not re.search(r"\bnan\b", text, flags=re.I), "nan printed"
    assert not re.search(r"\bNone\b|\bNaT\b|<NA>", text), "None printed"
    # the missing values are a dash and are named
    assert "Priority: –" in text and "Operator: –" in text
    assert "Missing in the data: Priority, Operator" in text


def test_done_when_magnetic_bearings_and_declination(sheet150):
    hazard = star(150)
    d = magnetic_declination(21.10, 42.60, on=DAY)  # the hazard's centre is close enough
    flat = panel_text(sheet150)
    assert f"Magnetic declination {d.declination_deg:.1f}° east on 2026-06-01" in flat
    assert "WMM-2025 (epoch 2025.0)" in flat
    rows = re.findall(
        r"\b(TP\d+) +\d{6} +\d{7} +\d{7} +\d{7} +34T\w\w \d{5} \d{5} "
        r"+(\d{3}) +(\d{3}) +(\d+\.\d)\b",
        table_text(sheet150),
    )  # continuation pages hold two columns: two rows to a line
    assert len(rows) == 150  # every turning point, once, over the sheet's pages
    points = sheet_facts(hazard, on=DAY).points
    rows = sorted(rows, key=lambda r: int(r[0][2:]))
    for (label, true, magnetic, _), expected in zip(rows, points.itertuples(), strict=True):
        assert label == expected.label
        assert int(true) == round(expected.bearing_deg) % 360
        assert int(magnetic) == round(expected.magnetic_bearing_deg) % 360
        assert (int(true) - int(magnetic)) % 360 in (5, 6)  # the declination, rounded


def test_done_when_no_two_labels_overlap_in_the_pdf(sheet150):
    labels = [w for w in words(sheet150) if w["page"] == 1 and LABEL.match(w["text"])]
    on_map = [w for w in labels if w["x0"] < 150 / 25.4 * 72]  # left of the panel
    assert not [w for w in words(sheet150) if re.search(r"TP\d+TP", w["text"])]
    boxes = np.array([[w["x0"], w["top"], w["x1"], w["bottom"]] for w in on_map])
    overlap = boxes_overlap(boxes, boxes)
    np.fill_diagonal(overlap, False)
    assert not overlap.any()
    assert len(on_map) >= 60  # a real share is labelled, not none


def test_no_two_labels_overlap_in_the_renderer():
    drawing = fieldsheets.draw_field_sheet(star(150), today=DAY)
    fig = drawing.figure
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.axes[0].texts if t.get_gid() == "tp-label"]
    assert len(texts) == len(drawing.labels) > 60
    boxes = np.array([tuple(t.get_window_extent(renderer).extents) for t in texts])
    overlap = boxes_overlap(boxes, boxes)
    np.fill_diagonal(overlap, False)
    assert not overlap.any()
    # nor with the legend, scale bar or north arrow
    legend = fig.axes[0].get_legend().get_window_extent(renderer).extents
    assert not boxes_overlap(boxes, np.array([legend])).any()
    # the placements' own boxes are disjoint too, and each holds its drawn text
    own = np.array([p.box for p in drawing.labels])
    o = boxes_overlap(own, own)
    np.fill_diagonal(o, False)
    assert not o.any()


def test_every_page_carries_id_sheet_number_date_and_warning(tmp_path):
    hz = star(400, hid="DEMO-H400", synthetic=True)
    pdf = fieldsheets.write_field_map(hz, "DEMO-H400", tmp_path / "long.pdf", today=DAY)
    pages = page_texts(pdf)
    assert len(pages) >= 3
    for n, text in enumerate(pages, start=1):
        assert "DEMO-H400" in text and f"sheet {n} of {len(pages)}" in text
        assert "2026-06-01" in text and "SYNTHETIC - NOT FOR FIELD USE" in text
    assert min(char_sizes(pdf)) >= 7.0


def test_the_table_keeps_every_point(tmp_path):
    hz = star(1500, hid="H1500")
    pdf = fieldsheets.write_field_map(hz, "H1500", tmp_path / "big.pdf", today=DAY)
    found = {w["text"] for w in words(pdf) if LABEL.match(w["text"])}
    assert {f"TP{i}" for i in range(1, 1501)} <= found
    with pytest.raises(InputError, match="1,500 vertices: a field sheet lists at most 1,000"):
        sheet_facts(hz, on=DAY, max_points=1000)


def test_display_thinning_stays_within_a_tenth_of_a_millimetre():
    hz = star(20000, hid="H20k", r=300.0, wobble=0.05)
    drawing = fieldsheets.draw_field_sheet(hz, today=DAY, grid="national")
    frame = drawing.frame
    patches = [p for p in frame.ax.patches if p.get_gid() == "hazard"]
    assert len(patches) == 1
    drawn = patches[0].get_path().vertices
    true = hz.to_crs(frame.crs).geometry.iloc[0]
    assert len(drawn) < 0.5 * 20000  # thinned
    bound_m = fieldmap.DISPLAY_TOLERANCE_MM * frame.scale / 1000
    distance = shapely.hausdorff_distance(shapely.LinearRing(drawn[:-1]), true.exterior)
    assert distance <= bound_m * 1.001, (distance, bound_m)


def test_sheet_is_at_true_scale():
    fig = fieldsheets.field_sheet(_mapdata.hazards().iloc[[0]], today=DAY)
    ax = fig.axes[0]
    width_mm = ax.get_position().width * fig.get_figwidth() * 25.4
    height_mm = ax.get_position().height * fig.get_figheight() * 25.4
    scale = np.diff(ax.get_xlim())[0] / (width_mm / 1000)
    assert round(scale) in fieldmap.SCALES
    assert np.diff(ax.get_ylim())[0] / (height_mm / 1000) == pytest.approx(scale)
    text = " ".join(t.get_text() for t in ax.texts)
    assert f"Scale 1:{round(scale):,}".replace(",", " ") in text


def test_page_size_and_watermark(tmp_path, poppler):
    from PIL import Image

    layers = _mapdata.layers()
    pdf = fieldsheets.write_field_map(
        layers["hazards"], "DEMO-H0", tmp_path / "s.pdf", layers=layers, paper="A3", today=DAY
    )
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "30",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    img = np.asarray(Image.open(tmp_path / "p.png").convert("RGB")).astype(int)
    assert abs(img.shape[0] - 297 / 25.4 * 30) <= 1 and abs(img.shape[1] - 420 / 25.4 * 30) <= 1
    red = (img[..., 0] - img[..., 1] > 30) & (img[..., 0] - img[..., 2] > 30)
    assert red[:, int(img.shape[1] * 0.65) :].mean() > 0.002  # the watermark over the panel
    real = _mapdata.hazards(synthetic=False)
    plain = fieldsheets.write_field_map(real, "H0", tmp_path / "r.pdf", today=DAY)
    assert "NOT FOR FIELD USE" not in "\n".join(page_texts(plain))


def test_benchmark_is_proposed_unless_recorded(tmp_path):
    hz = star(40, hid="H40")
    text = "\n".join(
        page_texts(fieldsheets.write_field_map(hz, "H40", tmp_path / "a.pdf", today=DAY))
    )
    assert "benchmark PROPOSED: 25 m north of TP1, none recorded" in text
    assert "BM to TP1: 180° true" in text
    tp1 = sheet_facts(hz, on=DAY).points.iloc[0]
    marked = hz.assign(benchmark_lon=tp1.lon + 0.0005, benchmark_lat=tp1.lat)
    facts = sheet_facts(marked, on=DAY)
    assert facts.benchmark.recorded and facts.benchmark.source == "attributes"
    assert 265 < facts.benchmark.bearing_deg < 275  # TP1 lies west of it
    text = "\n".join(
        page_texts(fieldsheets.write_field_map(marked, "H40", tmp_path / "b.pdf", today=DAY))
    )
    assert "benchmark (recorded)" in text and "PROPOSED" not in text
    layer = gpd.GeoDataFrame(
        {"hazard_id": ["H40"]}, geometry=[shapely.Point(tp1.lon, tp1.lat + 0.001)], crs=4326
    )
    facts = sheet_facts(hz, on=DAY, benchmarks=layer)
    assert facts.benchmark.source == "benchmarks layer"
    assert round(facts.benchmark.bearing_deg) == 180
    with pytest.raises(InputError, match="not in WGS 84"):
        sheet_facts(hz.assign(benchmark_lon=500000.0, benchmark_lat=4700000.0), on=DAY)


def test_closed_hazards(tmp_path):
    layers = _mapdata.layers()
    hazards = layers["hazards"]  # DEMO-H3 is released
    pdf = fieldsheets.write_field_map(hazards, "DEMO-H3", tmp_path / "c.pdf", today=DAY)
    first = page_texts(pdf)[0]
    assert "CLOSED HAZARD (released 2024-05-01)" in first and "CLOSED - NOT A CLEARANCE" in first
    chosen, notices = fieldsheets.select_hazards(hazards)
    assert "DEMO-H3" not in set(chosen.hazard_id) and "1 closed hazard(s)" in notices[0]
    chosen, notices = fieldsheets.select_hazards(hazards, include_closed=True)
    assert "DEMO-H3" in set(chosen.hazard_id) and not notices


def test_unknown_options():
    hz = _mapdata.hazards()
    with pytest.raises(InputError, match="no hazard"):
        fieldsheets.write_field_map(hz, "NOPE", "/tmp/never.pdf")
    with pytest.raises(InputError, match="paper"):
        fieldsheets.field_sheet(hz.iloc[[0]], paper="Letter")
    with pytest.raises(InputError, match="grid"):
        fieldsheets.field_sheet(hz.iloc[[0]], grid="lambert")
    with pytest.raises(InputError, match="lang"):
        fieldsheets.field_sheet(hz.iloc[[0]], lang="de")
    with pytest.raises(InputError, match="polygon"):
        fieldsheets.field_sheet(hz.iloc[[0]].set_geometry([shapely.Point(21, 42.6)], crs=4326))


def test_a_failed_write_leaves_the_old_pdf(tmp_path):
    hazards = gpd.GeoDataFrame(
        pd_concat([star(30, hid="A1"), star(30, hid="B2", benchmark_lon=999.0, benchmark_lat=0.0)]),
        crs=9141,
    )
    out = tmp_path / "keep.pdf"
    out.write_bytes(b"%PDF-1.4 the good old sheet")
    with pytest.raises(InputError, match="B2: benchmark"):
        fieldsheets.write_atlas(hazards, out, overwrite=True, today=DAY)
    assert out.read_bytes() == b"%PDF-1.4 the good old sheet"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.pdf"]  # no partial file


def pd_concat(frames):
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def test_a_killed_write_leaves_the_old_pdf(tmp_path):
    import os
    import signal
    import sys
    import time

    out = tmp_path / "keep.pdf"
    out.write_bytes(b"%PDF-1.4 the good old sheet")
    script = (
        "import sys; sys.path.insert(0, 'tests');"
        "from test_fieldmap import star; from datetime import date;"
        "from kosovo_cmr.workflows.fieldsheets import write_field_map;"
        f"write_field_map(star(150000, hid='K'), 'K', {str(out)!r}, overwrite=True,"
        " today=date(2026, 6, 1))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=os.path.dirname(os.path.dirname(__file__))
    )
    deadline, seen = time.monotonic() + 600, False
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name.startswith(".keep.part-") for p in tmp_path.iterdir()):
            seen = True  # the new file is being written: kill the writer now
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert seen, "the writer was not caught writing"
    assert out.read_bytes() == b"%PDF-1.4 the good old sheet"
