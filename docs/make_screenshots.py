"""Make the screenshots of docs/guides/maps.rst from a demo folder (headless Chromium).

Run after ``kcmr demo --out kcmr-demo``::

    python docs/make_screenshots.py kcmr-demo

Writes ``docs/_static/map-national.png``, ``map-detail.png``, and the field sheets
``fieldsheet.png`` (the demo atlas's first sheet, English), ``fieldsheet-sq.png`` and
``fieldsheet-sr.png`` (the same sheet in Albanian and Serbian, on the demo's SYNTHETIC DEM)
(quantised to 256 colours to stay small). Needs Debian's chromium and poppler-utils.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import shapely
from PIL import Image
from playwright.sync_api import sync_playwright

from kosovo_cmr.store import open_store

ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]  # fmt: skip
MAP = "window[document.querySelector('.folium-map').id]"


def save(png: Path, target: Path, width: int | None = None) -> None:
    """Quantise a screenshot (and shrink it to ``width``) into docs/_static."""
    img = Image.open(png).convert("RGB")
    if width and img.width > width:
        img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    print(target, target.stat().st_size // 1024, "KiB")


def main(demo: Path) -> None:
    """Screenshot the demo's offline map (whole and detail) and its first field sheet."""
    static = Path(__file__).parent / "_static"
    tmp = Path(tempfile.mkdtemp())
    hazards = open_store(demo / "kcmr.gpkg").read("hazards")
    cha = hazards[(hazards.status == "active") & (hazards.kind == "CHA")].iloc[0]
    centre = cha.geometry.centroid
    ring = shapely.get_coordinates(cha.geometry.geoms[0].exterior)
    click = (centre.x + 0.6 * (ring[0][0] - centre.x), centre.y + 0.6 * (ring[0][1] - centre.y))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 720})
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
        )
        page.goto((demo / "map-offline.html").resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(800)
        page.screenshot(path=tmp / "national.png")
        page.evaluate(
            f"([x, y]) => {{ {MAP}.setView([y, x], 17, {{animate: false}}); }}",
            [centre.x, centre.y],
        )
        page.wait_for_timeout(800)
        xy = page.evaluate(
            f"([x, y]) => {{ const p = {MAP}.latLngToContainerPoint([y, x]);"
            f"const r = {MAP}.getContainer().getBoundingClientRect();"
            "return [r.left + p.x, r.top + p.y]; }",
            list(click),
        )
        page.mouse.click(*xy)
        page.wait_for_timeout(500)
        page.screenshot(path=tmp / "detail.png")
        browser.close()
    save(tmp / "national.png", static / "map-national.png", 900)
    save(tmp / "detail.png", static / "map-detail.png", 900)
    sheet_screenshots(demo, static, tmp)


def _page_png(pdf: Path, target: Path, tmp: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(tmp / target.stem)], check=True)  # fmt: skip
    save(tmp / f"{target.stem}.png", target)


def sheet_screenshots(demo: Path, static: Path, tmp: Path) -> None:
    """Screenshot the demo atlas's first sheet, and the same sheet in Albanian and Serbian.

    Writes ``fieldsheet.png`` (English, on the demo's SYNTHETIC DEM), ``fieldsheet-sq.png``
    and ``fieldsheet-sr.png``.
    """
    from kosovo_cmr.workflows.fieldsheets import select_hazards, write_field_map
    from kosovo_cmr.workflows.maps import read_layers

    _page_png(demo / "fieldmaps.pdf", static / "fieldsheet.png", tmp)
    layers = read_layers(open_store(demo / "kcmr.gpkg"))
    first = select_hazards(layers["hazards"])[0].hazard_id.iloc[0]  # the atlas's first sheet
    for lang in ("sq", "sr"):
        source = f"kcmr demo store ({demo / 'kcmr.gpkg'}), SYNTHETIC"
        pdf = write_field_map(layers["hazards"], first, tmp / f"sheet-{lang}.pdf", layers=layers,
                              dem=demo / "dem-synthetic.tif", lang=lang, source=source)  # fmt: skip
        _page_png(pdf, static / f"fieldsheet-{lang}.png", tmp)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "kcmr-demo"))
