"""Printable field sheets: one hazard's map and turning points, readable in the field.

:func:`draw_sheet` draws what :func:`kosovo_cmr.analysis.sheet_facts.sheet_facts`
computed, and computes nothing itself. A sheet (A4 or A3, landscape) is one map page
and, when the turning points do not fit beside the map, continuation pages of the
table (:mod:`kosovo_cmr.outputs.sheet_table`); every page carries the hazard id,
"sheet n of m", the date and, on synthetic data, the SYNTHETIC warning.

The map page shows, at a true printed scale (1:500 to 1:50 000, chosen to fit), the
ground context the team has (basemap, hillshade and contours, vector layers:
:mod:`kosovo_cmr.outputs.sheet_ground`), released land and neighbouring hazards, the
hazard (thinned for display to :data:`DISPLAY_TOLERANCE_MM` at the printed scale), the
evidence, the benchmark (recorded, or PROPOSED) and the turning points labelled without
overlap (:mod:`kosovo_cmr.outputs.sheet_labels`), on a labelled grid in UTM 34N or the
national grid, with a scale bar, a north arrow with grid, true and magnetic north, a
legend and the credits of every source. Beside it: the hazard's facts (a missing value
is a dash and is listed as missing), the declination, convergence and benchmark leg, and
the table. No text is smaller than 7 pt. Labels are in English, Albanian or Serbian
(:mod:`kosovo_cmr.outputs.sheet_i18n`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

from kosovo_cmr import settings
from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs import sheet_layout as layout
from kosovo_cmr.outputs.sheet_ground import Ground, draw_ground
from kosovo_cmr.outputs.sheet_i18n import SheetText, sheet_text
from kosovo_cmr.outputs.sheet_labels import place_labels
from kosovo_cmr.outputs.sheet_table import (
    TABLE_PT as SMALL_PT,
)
from kosovo_cmr.outputs.sheet_table import (
    PageHeader,
    continuation_layout,
    continuation_pages,
    table_lines,
    write_pdf,
)

__all__ = [
    "PAPER_MM",
    "SCALES",
    "GRIDS",
    "DISPLAY_TOLERANCE_MM",
    "MAX_MARKERS",
    "MIN_TEXT_PT",
    "Ground",
    "SheetDrawing",
    "draw_sheet",
    "write_sheets",
]

#: Paper sizes (landscape width, height) in millimetres.
PAPER_MM: dict[str, tuple[float, float]] = layout.PAPER_MM

#: Printed scales a sheet may use (1:n), smallest first.
SCALES: tuple[int, ...] = layout.SCALES

#: Map grids: name -> (CRS, name printed).
GRIDS: dict[str, tuple[str, str]] = {
    "utm": (settings.utm_crs, "UTM 34N"),
    "national": (settings.metric_crs, "KOSOVAREF01"),
}

#: Outlines are thinned for display (Douglas-Peucker) to this tolerance on paper, mm:
#: the drawn line stays within it of the true outline, under a pen line's width.
DISPLAY_TOLERANCE_MM = 0.1

#: Beyond this many turning points only the labelled ones get a marker.
MAX_MARKERS = 2000

#: The smallest text on a sheet, points (drawn at 7.1 pt: :data:`SMALL_PT`).
MIN_TEXT_PT = 7.0

_CLOSED_GREY = "#7f7f7f"


@dataclass
class SheetDrawing:
    """A drawn sheet: the map page (a matplotlib figure) and the table rows after it."""

    facts: object
    figure: object
    frame: layout.Frame
    pages: int
    header: list[str]
    rest: list[str]
    head: PageHeader
    text: SheetText
    labels: list = field(default_factory=list)

    def pdf_parts(self) -> Iterator[bytes]:
        """Yield the sheet as PDF documents: the map page, then the continuation pages."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="pdf")
        yield buffer.getvalue()
        if self.rest:
            yield continuation_pages(
                self.header,
                self.rest,
                paper_mm=PAPER_MM[self.frame.paper],
                head=self.head,
                first_page=2,
                pages=self.pages,
                subtitle=self.text("continued"),
            )


def _check_options(*, paper: str, grid: str) -> None:
    if paper not in PAPER_MM:
        raise InputError(f"paper must be one of {', '.join(PAPER_MM)}, got {paper!r}")
    if grid not in GRIDS:
        raise InputError(f"grid must be 'utm' or 'national', got {grid!r}")


def _title(facts, text: SheetText) -> str:
    if not facts.closed:
        return text("title")
    status = text.value("status", facts.status)
    return text("title_closed", status=status, date=facts.closed_on or "–")


def _page_header(facts, text: SheetText, *, printed: str) -> PageHeader:
    kind = facts.kind or "–"
    return PageHeader(
        title=f"{kind} {facts.hazard_id} - {_title(facts, text)}",
        printed=text("printed", date=printed),
        sheet=text.labels["sheet"],
        synthetic=text("synthetic") if facts.synthetic else None,
        closed=text("closed_banner") if facts.closed else None,
    )


def _draw_hazard(frame, facts, geom) -> list:
    """Draw the hazard (CHA red, SHA orange, closed grey hatched); return its legend."""
    colour = {"CHA": "#d7191c", "SHA": "#fd8d3c"}.get(facts.kind or "", "#d7191c")
    tol = DISPLAY_TOLERANCE_MM * frame.scale / 1000
    shown = shapely.simplify(geom, tol, preserve_topology=True)
    if facts.closed:
        layout.draw_polygon(
            frame.ax, shown, fc="none", ec=_CLOSED_GREY, lw=1.4, hatch="//", zorder=6, gid="hazard"
        )
        colour = _CLOSED_GREY
    else:
        layout.draw_polygon(
            frame.ax, shown, fc=colour + "40", ec=colour, lw=1.4, zorder=6, gid="hazard"
        )
    return [(f"{facts.kind or '–'} {facts.hazard_id}", {"color": colour, "lw": 1.4})]


def _draw_layers(frame, layers: dict, facts, text: SheetText) -> list:
    """Draw released land, other hazards and the evidence; return their legend entries."""
    legend = []
    tol = DISPLAY_TOLERANCE_MM * frame.scale / 1000
    releases = layout.clip(layers.get("releases"), frame, tol)
    if releases is not None and len(releases):
        for g in releases.geometry:
            layout.draw_polygon(frame.ax, g, fc="#1a964133", ec="#1a9641", lw=0.6, zorder=4)
        legend.append((text("legend.released_land"), {"color": "#1a9641"}))
    others = layout.clip(layers.get("hazards"), frame, tol)
    if others is not None and "hazard_id" in others:
        others = others[others["hazard_id"].astype(str) != facts.hazard_id]
        for g in others.geometry:
            layout.draw_polygon(frame.ax, g, fc="none", ec="#636363", lw=0.6, ls="--", zorder=5)
        if len(others):
            legend.append((text("legend.other_hazard"), {"color": "#636363", "ls": "--"}))
    evidence = layout.clip(layers.get("evidence"), frame, 0)
    if evidence is not None and len(evidence):
        xy = shapely.get_coordinates(evidence.geometry.values)
        frame.ax.plot(
            xy[:, 0], xy[:, 1], "o", ms=2.5, mfc="#7a0177", mec="white", mew=0.3, zorder=7
        )
        legend.append(
            (text("legend.evidence"), {"marker": "o", "color": "#7a0177", "ls": "none", "ms": 3})
        )
    return legend


def _local_points(frame, facts) -> np.ndarray:
    to_local = Transformer.from_crs(4326, frame.crs, always_xy=True)
    px, py = to_local.transform(facts.points["lon"].to_numpy(), facts.points["lat"].to_numpy())
    return np.c_[px, py]


def _draw_benchmark(frame, facts, text: SheetText) -> list:
    bm = facts.benchmark
    if bm is None:
        return []
    x, y = Transformer.from_crs(4326, frame.crs, always_xy=True).transform(bm.lon, bm.lat)
    frame.ax.plot([x], [y], "^", ms=6, color="#2c7fb8", mec="white", mew=0.4, zorder=8)
    frame.benchmark_xy = (x, y)
    if bm.recorded:
        label = text("legend.benchmark_recorded")
    else:
        label = text("legend.benchmark_proposed", distance=f"{bm.distance_m:.0f}")
    out = [(label, {"marker": "^", "color": "#2c7fb8", "ls": "none", "ms": 5})]
    rp = bm.reference  # issue 15: the recorded reference point the benchmark is found from
    if rp is not None:
        rx, ry = Transformer.from_crs(4326, frame.crs, always_xy=True).transform(
            rp["lon"], rp["lat"]
        )
        frame.ax.plot([rx], [ry], "D", ms=4.5, color="#2c7fb8", mec="white", mew=0.4, zorder=8)
        frame.ax.plot([rx, x], [ry, y], ls=":", lw=0.7, color="#2c7fb8", zorder=7)
        out.append(
            (text("legend.reference_recorded"),
             {"marker": "D", "color": "#2c7fb8", "ls": "none", "ms": 4})
        )  # fmt: skip
    return out


def _draw_points(frame, facts, obstacles: list) -> list:
    """Mark and label the turning points without overlap; return the placements."""
    xy = _local_points(frame, facts)
    labels = facts.points["label"].tolist()
    mm = frame.to_mm(xy)
    sizes = np.array([layout.label_size_mm(lb) for lb in labels]).reshape(-1, 2)
    outline = shapely.transform(_facts_outline(frame, facts), frame.to_mm)
    if frame.benchmark_xy is not None:
        bm = frame.to_mm(np.array([frame.benchmark_xy]))[0]
        obstacles = [*obstacles, (bm[0] - 1.5, bm[1] - 1.5, bm[0] + 1.5, bm[1] + 1.5)]
    placed = place_labels(
        mm,
        sizes,
        area_mm=frame.inner_mm,
        obstacles_mm=obstacles,
        outline_mm=outline,
        mark_all=len(xy) <= MAX_MARKERS,
    )
    shown = xy if len(xy) <= MAX_MARKERS else xy[[p.index for p in placed]]
    frame.ax.plot(shown[:, 0], shown[:, 1], "s", ms=2.2, color="black", zorder=8)
    for p in placed:
        layout.draw_label(frame, labels[p.index], xy[p.index], p)
    return placed


def _facts_outline(frame, facts):
    """Return the hazard's outline in the sheet's CRS, thinned for display."""
    geom = facts.hazard.to_crs(frame.crs).geometry.iloc[0]
    return shapely.simplify(geom, DISPLAY_TOLERANCE_MM * frame.scale / 1000, preserve_topology=True)


def _notes(facts, text: SheetText, placed: list) -> list[tuple[str, float, str]]:
    """Return the panel's lines above the table: (text, size pt, weight)."""
    d = facts.declination
    lines = [(f"{text.value('kind', facts.kind)}  {facts.hazard_id}", 9.0, "bold")]
    fields = [("status", facts.status), *facts.attributes.items()]
    shown = [f"{text('field.' + name)}: {text.value(name, value)}" for name, value in fields]
    for pair in range(0, len(shown), 2):  # two facts to a line
        lines.append(("     ".join(shown[pair : pair + 2]), 7.5, "normal"))
    lines.append(
        (text("area", area=layout.spaced(facts.area_m2), n=len(facts.points)), 7.5, "normal")
    )
    if facts.missing:
        names = ", ".join(text(f"field.{k}") for k in facts.missing)
        lines.append((text("missing", fields=names), 7.5, "bold"))
    lines.append(("", 2.5, "normal"))
    east_west = text("east") if d.east else text("west")
    lines.append(
        (
            text(
                "declination",
                value=f"{abs(d.declination_deg):.1f}°",
                east_west=east_west,
                date=d.on.isoformat(),
                model=d.model,
                epoch=f"{d.epoch:.1f}",
                change=f"{d.annual_change_deg:+.2f}°",
            ),
            7.5,
            "bold",
        )
    )
    note = text("bearing_note")
    if d.uncertainty_deg is not None:
        note = f"{text('uncertainty', value=f'{d.uncertainty_deg:.1f}°')} {note}"
    lines.append((note, SMALL_PT, "normal"))
    bm = facts.benchmark
    if bm is not None:
        leg = text(
            "benchmark_leg",
            bm=bm.name or "BM",
            true=f"{bm.bearing_deg:03.0f}",
            magnetic=f"{bm.magnetic_bearing_deg:03.0f}",
            distance=f"{bm.distance_m:.1f}",
        )
        lines.append((leg, 7.5, "normal"))
        rp = bm.reference  # issue 15
        if rp is not None:
            rp_leg = text(
                "reference_leg",
                rp=rp["name"] or "RP",
                bm=bm.name or "BM",
                true=f"{rp['bearing_deg']:03.0f}",
                magnetic=f"{rp['magnetic_bearing_deg']:03.0f}",
                distance=f"{rp['distance_m']:.1f}",
            )
            lines.append((rp_leg, 7.5, "normal"))
    if len(placed) < len(facts.points):
        lines.append(
            (text("labels_note", shown=len(placed), n=len(facts.points)), SMALL_PT, "normal")
        )
    if len(facts.points) > MAX_MARKERS:
        lines.append((text("markers_note", n=len(facts.points)), SMALL_PT, "normal"))
    return lines


def _ground_line(ground: Ground | None, drawn, text: SheetText) -> str:
    if ground is None or ground.empty:
        return drawn.credits[0]  # the hint of what to add
    return text("ground", items="; ".join(drawn.credits))


def _frame_for(facts, *, paper: str, grid: str, line_chars: int) -> layout.Frame:
    import matplotlib

    matplotlib.use("Agg", force=False)
    crs, grid_name = GRIDS[grid]
    geom = facts.hazard.to_crs(crs).geometry.iloc[0]
    return layout.new_frame(
        geom.bounds, paper=paper, crs=crs, grid_name=grid_name, table_chars=line_chars
    )


def draw_sheet(
    facts,
    *,
    layers: dict | None = None,
    ground: Ground | None = None,
    paper: str = "A4",
    grid: str = "utm",
    lang: str = "en",
    source: str = "kosovo_cmr store",
    today: date | None = None,
) -> SheetDrawing:
    """Draw the field sheet of one hazard from its facts.

    Parameters
    ----------
    facts : kosovo_cmr.analysis.sheet_facts.SheetFacts
        What the sheet states (:func:`~kosovo_cmr.analysis.sheet_facts.sheet_facts`).
    layers : dict of str to GeoDataFrame, optional
        Drawn around the hazard: ``evidence``, ``releases``, ``hazards``.
    ground : Ground, optional
        DEM, basemap and vector context files; without any the sheet says what to add.
    paper : {"A4", "A3"}
        Paper size (landscape).
    grid : {"utm", "national"}
        Map grid: UTM 34N or KOSOVAREF01 / Balkans zone 7.
    lang : {"en", "sq", "sr", "sr-Cyrl"}
        Language of the labels.
    source : str
        The data source printed on the sheet.
    today : datetime.date, optional
        The date printed (default ``facts.on``).

    Returns
    -------
    SheetDrawing
        ``figure`` is the map page (print at 100 % for the stated scale to hold);
        :meth:`SheetDrawing.pdf_parts` gives every page as PDF.

    Raises
    ------
    kosovo_cmr.errors.InputError
        On an unknown paper, grid or language, or an unreadable ground file.
    """
    _check_options(paper=paper, grid=grid)
    text = sheet_text(lang)
    layers = layers or {}
    header, rows = table_lines(facts.points, text)
    line_chars = max(map(len, header + rows[:1]))
    frame = _frame_for(facts, paper=paper, grid=grid, line_chars=line_chars)
    printed = (today or facts.on).isoformat()
    ground_drawn = draw_ground(frame, ground, text)
    geom = facts.hazard.to_crs(frame.crs).geometry.iloc[0]
    legend = ground_drawn.legend + _draw_layers(frame, layers, facts, text)
    legend += _draw_hazard(frame, facts, geom)
    legend += _draw_benchmark(frame, facts, text)
    legend.append(
        (text("legend.turning_point"), {"marker": "s", "color": "black", "ls": "none", "ms": 2.5})
    )
    layout.draw_grid(frame, text)
    layout.draw_scale_bar(frame, text)
    layout.draw_north_arrow(frame, facts, text, grid=grid)
    layout.draw_legend(frame, legend)
    obstacles = layout.obstacle_boxes(frame, ground_drawn.obstacles)
    placed = _draw_points(frame, facts, obstacles)
    notes = _notes(facts, text, placed)
    first = layout.panel_rows(frame, notes)
    per_page = np.prod(continuation_layout(PAPER_MM[paper], line_chars))
    pages = 1 + int(np.ceil(max(len(rows) - first, 0) / per_page))
    head = _page_header(facts, text, printed=printed)
    layout.draw_header(frame, head, pages=pages)
    layout.draw_panel(frame, notes, text("table_title"), header, rows[:first])
    credits = [
        text("source", source=source),
        _ground_line(ground, ground_drawn, text),
        text("coordinates", grid=frame.grid_name),
    ]
    layout.draw_footer(frame, credits, synthetic=head.synthetic)
    return SheetDrawing(facts, frame.fig, frame, pages, header, rows[first:], head, text, placed)


def write_sheets(
    drawings: Iterable[SheetDrawing],
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    title: str = "kosovo_cmr field sheets",
) -> Path:
    """Write drawn sheets, in order, as one PDF (atomically: see ``_files.atomic_output``).

    Each figure is closed once written, so an atlas holds one map page at a time.
    """

    def parts():
        for drawing in drawings:
            yield from drawing.pdf_parts()
            drawing.figure.clear()

    return write_pdf(parts(), path, overwrite=overwrite, title=title)


def __getattr__(name: str):
    """Names that moved to :mod:`kosovo_cmr.workflows.fieldsheets` (with a warning)."""
    from kosovo_cmr._deprecated import moved_name

    return moved_name(__name__, name)
