"""The turning-point table of a field sheet: its rows, its pages, and the PDF they make.

The table is printed in DejaVu Sans Mono at :data:`TABLE_PT` (7.1 pt: the smallest text
on a sheet), one row per turning point, none left out. The first rows go in the side
panel of the map page; the rest continue on pages of their own, in as many columns as
the paper holds, each page headed by the hazard id, "sheet n of m", the date and, on
synthetic data, the SYNTHETIC warning and watermark.

Continuation pages are drawn with ReportLab (with its C accelerators, ``rl_accel``),
which writes a row of text as one PDF string: a 100,000-point table takes seconds where
a plotting library drawing glyph by glyph takes minutes. :func:`write_pdf` joins them to
the map pages (matplotlib) with pypdf, through :func:`kosovo_cmr._files.atomic_output`.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from kosovo_cmr._files import atomic_output

__all__ = [
    "TABLE_PT",
    "LINE_SPACING",
    "CHAR_EM",
    "PageHeader",
    "table_lines",
    "continuation_layout",
    "continuation_pages",
    "write_pdf",
]

#: Size of the table's text, points: the smallest on a sheet, a little over 7 pt so that
#: a PDF reader's rounding never measures it below 7 pt.
TABLE_PT = 7.1

#: Line height as a multiple of the text size.
LINE_SPACING = 1.2

#: Advance width of a DejaVu Sans Mono character, in em.
CHAR_EM = 0.6021

_PT_PER_MM = 72 / 25.4
_MARGIN_MM = 10.0
_HEAD_MM = 16.0
_FOOT_MM = 8.0
_GAP_MM = 8.0


@dataclass(frozen=True)
class PageHeader:
    """What heads every continuation page (already translated)."""

    title: str
    printed: str
    sheet: str  # "sheet {n} of {m}" with {n} left to fill
    synthetic: str | None = None
    closed: str | None = None


def _degrees(values: np.ndarray) -> list[str]:
    whole = np.mod(np.rint(values), 360).astype(int)
    return [f"{v:03d}" for v in whole]


def table_lines(points: pd.DataFrame, text) -> tuple[list[str], list[str]]:
    """Return the table's two header lines and its rows as fixed-width text.

    Parameters
    ----------
    points : DataFrame
        :func:`kosovo_cmr.analysis.turning_points.turning_points` with
        ``magnetic_bearing_deg``.
    text : kosovo_cmr.outputs.sheet_i18n.SheetText
        The labels.

    Returns
    -------
    header, rows : list of str
    """
    point, true, mag, dist = (
        text(f"column.{k}") for k in ("point", "true", "magnetic", "distance")
    )
    wl = max(len(point), int(points["label"].str.len().max()) if len(points) else 3)
    wt, wm, wd = max(len(true), 3), max(len(mag), 3), max(len(dist), 7)
    header = [
        f"{'':<{wl}} {'UTM 34N':^14}  {'KOSOVAREF01':^15}  {'MGRS (1 m)':<17}",
        f"{point:<{wl}} {'E':>6} {'N':>7}  {'E':>7} {'N':>7}  {'':<17} "
        f"{true:>{wt}} {mag:>{wm}} {dist:>{wd}}",
    ]
    cols = [
        points["label"].tolist(),
        np.rint(points["utm_e"]).astype(int).tolist(),
        np.rint(points["utm_n"]).astype(int).tolist(),
        np.rint(points["grid_e"]).astype(int).tolist(),
        np.rint(points["grid_n"]).astype(int).tolist(),
        points["mgrs"].tolist(),
        _degrees(points["bearing_deg"].to_numpy()),
        _degrees(points["magnetic_bearing_deg"].to_numpy()),
        points["distance_m"].tolist(),
    ]
    rows = [
        f"{lb:<{wl}} {ue:>6} {un:>7}  {ge:>7} {gn:>7}  {mg:<17} {tb:>{wt}} {mb:>{wm}} {d:>{wd}.1f}"
        for lb, ue, un, ge, gn, mg, tb, mb, d in zip(*cols, strict=True)
    ]
    return header, rows


def continuation_layout(paper_mm: tuple[float, float], line_chars: int) -> tuple[int, int]:
    """Return (columns, rows per column) of a continuation page for lines of that length."""
    width_mm, height_mm = paper_mm
    col_mm = line_chars * CHAR_EM * TABLE_PT / _PT_PER_MM
    usable = width_mm - 2 * _MARGIN_MM
    columns = max(1, int((usable + _GAP_MM) // (col_mm + _GAP_MM)))
    line_mm = TABLE_PT * LINE_SPACING / _PT_PER_MM
    rows = int((height_mm - 2 * _MARGIN_MM - _HEAD_MM - _FOOT_MM) // line_mm) - 3  # 2 headers
    return columns, max(1, rows)


@cache
def _fonts() -> tuple[str, str, str]:
    """Register DejaVu Sans (regular, bold) and Sans Mono, shipped with matplotlib."""
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    names = ("KcmrSans", "KcmrSansBold", "KcmrMono")
    files = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")
    for name, file in zip(names, files, strict=True):
        pdfmetrics.registerFont(TTFont(name, str(ttf / file)))
    return names


def _page_frame(c, head: PageHeader, number: str, paper_pt) -> None:
    """Header, footer and (on synthetic data) watermark of a continuation page."""
    sans, bold, _ = _fonts()
    width, height = paper_pt
    m = _MARGIN_MM * _PT_PER_MM
    c.setFont(bold, 10)
    c.drawString(m, height - m - 10, head.title)
    c.setFont(sans, 8)
    c.drawRightString(width - m, height - m - 10, f"{number}  -  {head.printed}")
    flags = [t for t in (head.closed, head.synthetic) if t]
    if flags:
        c.setFillColorRGB(0.69, 0.0, 0.15)
        c.setFont(bold, 9)
        c.drawCentredString(width / 2, height - m - 24, "   ".join(flags))
        c.setFillColorRGB(0, 0, 0)
    c.setFont(sans, TABLE_PT)
    c.drawString(m, m, f"{head.title}  -  {number}")
    if head.synthetic:
        c.saveState()
        c.setFillColorRGB(0.69, 0.0, 0.15)
        c.setFillAlpha(0.25)
        c.setFont(bold, 40)
        c.translate(width / 2, height / 2)
        c.rotate(28)
        c.drawCentredString(0, 0, head.synthetic)
        c.restoreState()


def continuation_pages(
    header: list[str],
    rows: list[str],
    *,
    paper_mm: tuple[float, float],
    head: PageHeader,
    first_page: int,
    pages: int,
    subtitle: str,
) -> bytes:
    """Draw the table rows on continuation pages; return the PDF.

    Parameters
    ----------
    header, rows : list of str
        From :func:`table_lines` (the rows not printed on the map page).
    paper_mm : (width, height)
        The paper, landscape.
    head : PageHeader
        Page headings; ``head.sheet`` is formatted with ``n`` and ``m``.
    first_page, pages : int
        Number of the first continuation page in the sheet, and the sheet's page count.
    subtitle : str
        The table's title on each page ("Turning points (continued)").
    """
    from reportlab import rl_config

    saved = rl_config.useA85
    rl_config.useA85 = 0  # binary compressed streams: smaller and faster than ASCII85
    try:
        return _draw_pages(header, rows, paper_mm=paper_mm, head=head, first_page=first_page,
                           pages=pages, subtitle=subtitle)  # fmt: skip
    finally:
        rl_config.useA85 = saved


def _draw_pages(header, rows, *, paper_mm, head, first_page, pages, subtitle) -> bytes:
    from reportlab.pdfgen import canvas

    sans, bold, mono = _fonts()
    paper_pt = (paper_mm[0] * _PT_PER_MM, paper_mm[1] * _PT_PER_MM)
    line_chars = max(map(len, header + rows[:1] or [""]))
    columns, per_col = continuation_layout(paper_mm, line_chars)
    per_page = columns * per_col
    col_pt = (line_chars * CHAR_EM * TABLE_PT) + _GAP_MM * _PT_PER_MM
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=paper_pt, pageCompression=1)
    c.setTitle(head.title)
    m = _MARGIN_MM * _PT_PER_MM
    top = paper_pt[1] - m - _HEAD_MM * _PT_PER_MM
    for k, start in enumerate(range(0, len(rows), per_page)):
        _page_frame(c, head, head.sheet.format(n=first_page + k, m=pages), paper_pt)
        c.setFont(bold, 8)
        c.drawString(m, top + 4, subtitle)
        chunk = rows[start : start + per_page]
        for col in range(math.ceil(len(chunk) / per_col)):
            block = c.beginText(m + col * col_pt, top - TABLE_PT * LINE_SPACING)
            block.setFont(mono, TABLE_PT)
            block.setLeading(TABLE_PT * LINE_SPACING)
            for line in header + chunk[col * per_col : (col + 1) * per_col]:
                block.textLine(line)
            c.drawText(block)
        c.showPage()
    c.save()
    return buffer.getvalue()


def write_pdf(parts: Iterable[bytes], path: str | os.PathLike, *, overwrite: bool, title: str):
    """Join PDF documents (each a sheet's map page or its continuation pages) into one file.

    Written through :func:`kosovo_cmr._files.atomic_output`: an interrupted or failed
    write leaves the previous file as it was.
    """
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    writer.add_metadata({"/Title": title, "/Creator": "kosovo_cmr"})
    with atomic_output(path, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as fh:
            writer.write(fh)
    return Path(path)
