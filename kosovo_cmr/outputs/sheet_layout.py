"""The map page of a field sheet: where everything sits on the paper, and the marginalia.

Everything is laid out in millimetres on the paper: the header band (title, sheet n of
m, date, warnings), the map frame at a true scale, the side panel (facts and the first
rows of the table) and the footer (sources and credits). The map's grid, scale bar,
north arrow and legend are drawn here too. Every text is at least 7 pt.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
import shapely

from kosovo_cmr.outputs.sheet_table import CHAR_EM, LINE_SPACING, TABLE_PT

__all__ = [
    "PAPER_MM",
    "SCALES",
    "Frame",
    "new_frame",
    "clip",
    "draw_polygon",
    "label_size_mm",
    "draw_label",
    "draw_grid",
    "draw_scale_bar",
    "draw_north_arrow",
    "draw_legend",
    "obstacle_boxes",
    "panel_rows",
    "draw_header",
    "draw_panel",
    "draw_footer",
    "spaced",
]

#: Paper sizes (landscape width, height) in millimetres.
PAPER_MM: dict[str, tuple[float, float]] = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}

#: Printed scales a sheet may use (1:n), smallest first.
SCALES: tuple[int, ...] = (500, 1000, 1250, 2000, 2500, 5000, 10000, 20000, 25000, 50000)

MM_PER_PT = 25.4 / 72
MARGIN = 10.0
HEADER = 15.0
FOOTER = 12.0
LEFT_PAD = 16.0
BOTTOM_PAD = 10.0
TOP_PAD = 2.0
GAP = 6.0
TEXT_PT = 7.5
#: Every small text (grid, legend, scale, credits): the 7 pt minimum, with a margin.
SMALL_PT = TABLE_PT
_SANS = "DejaVu Sans"
_MONO = "DejaVu Sans Mono"
_RED = "#b10026"


@dataclass
class Frame:
    """A sheet's figure and map axes, and where the map sits on paper and on the ground."""

    fig: object
    ax: object
    paper: str
    crs: str
    grid_name: str
    scale: int
    cx: float
    cy: float
    half_w: float
    half_h: float
    map_mm: tuple[float, float, float, float]  # x0, y0, width, height on paper
    panel_mm: tuple[float, float, float, float]  # x0, y0, x1, y1
    benchmark_xy: tuple[float, float] | None = None
    scale_bar_mm: tuple[float, float, float, float] | None = None
    arrow_mm: tuple[float, float, float, float] | None = None

    @property
    def width_mm(self) -> float:
        """Return the paper width, mm."""
        return PAPER_MM[self.paper][0]

    @property
    def height_mm(self) -> float:
        """Return the paper height, mm."""
        return PAPER_MM[self.paper][1]

    @property
    def view(self):
        """The map's extent on the ground, in the sheet's CRS."""
        return shapely.box(
            self.cx - self.half_w,
            self.cy - self.half_h,
            self.cx + self.half_w,
            self.cy + self.half_h,
        )

    @property
    def inner_mm(self) -> tuple[float, float, float, float]:
        """The map frame on paper, 1 mm in from its edge (where labels may go)."""
        x0, y0, w, h = self.map_mm
        return (x0 + 1, y0 + 1, x0 + w - 1, y0 + h - 1)

    def to_mm(self, xy):
        """Ground coordinates (n, 2) in the sheet's CRS -> paper millimetres."""
        xy = np.asarray(xy, dtype=float)
        x0, y0, _, _ = self.map_mm
        k = 1000.0 / self.scale
        return np.c_[
            x0 + (xy[:, 0] - (self.cx - self.half_w)) * k,
            y0 + (xy[:, 1] - (self.cy - self.half_h)) * k,
        ]

    def to_ground(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        """Paper millimetres -> ground coordinates in the sheet's CRS."""
        x0, y0, _, _ = self.map_mm
        k = self.scale / 1000.0
        return (self.cx - self.half_w + (x_mm - x0) * k, self.cy - self.half_h + (y_mm - y0) * k)

    def fig_xy(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        """Paper millimetres -> figure fractions."""
        return x_mm / self.width_mm, y_mm / self.height_mm


def _nice(value: float, steps=(1, 2, 2.5, 5)) -> float:
    exp = 10 ** np.floor(np.log10(value))
    for s in steps[::-1]:
        if s * exp <= value:
            return float(s * exp)
    return float(exp)


def spaced(value: float) -> str:
    """Format a whole number with spaces between thousands (SI style, any language).

    Examples
    --------
    >>> spaced(1234567.4)
    '1 234 567'
    """
    return f"{value:,.0f}".replace(",", " ")


def new_frame(bounds, *, paper: str, crs: str, grid_name: str, table_chars: int) -> Frame:
    """Lay out the page around a map at the smallest printed scale that fits ``bounds``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width_mm, height_mm = PAPER_MM[paper]
    table_mm = table_chars * CHAR_EM * TABLE_PT * MM_PER_PT + 1.0
    x0, y0 = MARGIN + LEFT_PAD, MARGIN + FOOTER + BOTTOM_PAD
    map_w = width_mm - x0 - GAP - table_mm - MARGIN
    map_h = height_mm - MARGIN - HEADER - TOP_PAD - y0
    fig = Figure(figsize=(width_mm / 25.4, height_mm / 25.4), dpi=72)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([x0 / width_mm, y0 / height_mm, map_w / width_mm, map_h / height_mm])
    minx, miny, maxx, maxy = bounds
    need = max((maxx - minx) / (map_w / 1000), (maxy - miny) / (map_h / 1000)) * 1.3
    scale = next((s for s in SCALES if s >= need), None)
    if scale is None:
        scale = int(_nice(need, steps=(1, 2, 5)) * 10)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = scale * map_w / 2000, scale * map_h / 2000
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    ax.set_aspect("equal", adjustable="box")
    panel = (x0 + map_w + GAP, MARGIN + FOOTER, width_mm - MARGIN, y0 + map_h)
    return Frame(
        fig, ax, paper, crs, grid_name, scale, cx, cy, half_w, half_h, (x0, y0, map_w, map_h), panel
    )


def clip(gdf, frame: Frame, tolerance: float):
    """Return a layer in the sheet's CRS, within the map, thinned to ``tolerance`` (0: as is)."""
    if gdf is None or len(gdf) == 0:
        return None
    local = gdf.to_crs(frame.crs)
    local = local[~local.geometry.isna() & ~local.geometry.is_empty]
    local = local[local.intersects(frame.view)]
    if tolerance > 0 and len(local):
        thin = shapely.simplify(local.geometry.values, tolerance, preserve_topology=True)
        local = local.set_geometry(thin)
    return local


def draw_polygon(ax, geom, **style) -> None:
    """Draw a (multi)polygon with its holes as one compound path."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    vertices, codes = [], []
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        part = shapely.orient_polygons(part)
        for ring in [part.exterior, *part.interiors]:
            xy = shapely.get_coordinates(ring)
            vertices.append(xy)
            codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY]
    if vertices:
        ax.add_patch(PathPatch(MplPath(np.concatenate(vertices), codes), **style))


def label_size_mm(label: str) -> tuple[float, float]:
    """Return the box of a turning-point label at 7 pt (monospace), with a small margin, mm."""
    return (len(label) * CHAR_EM * TABLE_PT * MM_PER_PT + 0.6, TABLE_PT * 1.3 * MM_PER_PT)


def draw_label(frame: Frame, label: str, xy, placement) -> None:
    """Draw one label where :func:`~kosovo_cmr.outputs.sheet_labels.place_labels` put it."""
    ax = frame.ax
    lx, ly = frame.to_ground(placement.x, placement.y)
    # a light box, not a path-effect halo: the label stays text in the PDF (searchable,
    # measurable) instead of becoming outlines
    box = {"boxstyle": "square,pad=0.08", "fc": "white", "ec": "none", "alpha": 0.75}
    ax.text(
        lx,
        ly,
        label,
        fontsize=TABLE_PT,
        family=_MONO,
        ha="center",
        va="center",
        zorder=9,
        gid="tp-label",
        bbox=box,
    )
    if placement.leader:
        x0, y0, x1, y1 = placement.box
        p = frame.to_mm(np.array([xy]))[0]
        c = np.array([placement.x, placement.y])
        half = np.array([(x1 - x0) / 2, (y1 - y0) / 2])
        d = c - p
        t = 1 - np.min(np.where(np.abs(d) > 1e-9, half / np.maximum(np.abs(d), 1e-9), np.inf))
        end = p + d * max(t, 0.0)
        ex, ey = frame.to_ground(*end)
        ax.plot([xy[0], ex], [xy[1], ey], lw=0.4, color="black", zorder=9)


def draw_grid(frame: Frame, text) -> None:
    """Label the grid lines in the sheet's CRS, every 'nice' number of metres."""
    ax, cx, cy, half_w, half_h = frame.ax, frame.cx, frame.cy, frame.half_w, frame.half_h
    step = _nice(2 * half_w / 5)
    xs = np.arange(np.ceil((cx - half_w) / step) * step, cx + half_w, step)
    ys = np.arange(np.ceil((cy - half_h) / step) * step, cy + half_h, step)
    ax.set_xticks(xs, [spaced(v) for v in xs], fontsize=SMALL_PT)
    ax.set_yticks(ys, [spaced(v) for v in ys], fontsize=SMALL_PT)
    ax.tick_params(top=True, right=True, length=2, pad=1.5)
    ax.grid(True, lw=0.3, color="#9e9e9e", zorder=2.5)
    ax.set_axisbelow(False)
    ax.set_xlabel(
        text("grid_axes", grid=frame.grid_name, step=spaced(step)), fontsize=SMALL_PT, labelpad=2
    )


def _scale_bar_box(frame: Frame, bar_mm: float) -> tuple[float, float, float, float]:
    x0, y0, _, _ = frame.map_mm
    return (x0 + 2, y0 + 2, x0 + 2 + max(bar_mm + 10, 75), y0 + 14)


def draw_scale_bar(frame: Frame, text) -> tuple[float, float, float, float]:
    """Draw a true scale bar near a quarter of the map's width; return its box (mm)."""
    from matplotlib.patches import Rectangle

    ax, scale = frame.ax, frame.scale
    bar = _nice(frame.half_w / 2)
    bar_mm = bar * 1000 / scale
    box = _scale_bar_box(frame, bar_mm)
    gx0, gy0 = frame.to_ground(box[0], box[1])
    gx1, gy1 = frame.to_ground(box[2], box[3])
    ax.add_patch(
        Rectangle((gx0, gy0), gx1 - gx0, gy1 - gy0, fc="white", ec="none", alpha=0.85, zorder=10)
    )
    bx, by = frame.to_ground(box[0] + 4, box[1] + 7)
    h = 1.5 * scale / 1000
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (bx + i * bar / 4, by),
                bar / 4,
                h,
                lw=0.5,
                ec="black",
                fc="black" if i % 2 == 0 else "white",
                zorder=11,
            )
        )
    up = 2.2 * scale / 1000
    ax.text(bx, by + up, "0", fontsize=SMALL_PT, ha="center", va="bottom", zorder=11)
    ax.text(
        bx + bar,
        by + up,
        f"{spaced(bar)} m",
        fontsize=SMALL_PT,
        ha="center",
        va="bottom",
        zorder=11,
    )
    ax.text(
        bx,
        by - 1.5 * scale / 1000,
        text("scale", scale=spaced(scale), paper=frame.paper),
        fontsize=SMALL_PT,
        va="top",
        zorder=11,
    )
    frame.scale_bar_mm = box
    return box


def _arrow_box(frame: Frame) -> tuple[float, float, float, float]:
    x0, y0, w, h = frame.map_mm
    return (x0 + w - 44, y0 + h - 30, x0 + w - 1, y0 + h - 1)


def draw_north_arrow(frame: Frame, facts, text, *, grid: str) -> tuple:
    """Draw grid north, with magnetic and true north as angles from it; return its box."""
    from matplotlib.patches import FancyArrow, Rectangle

    ax = frame.ax
    box = _arrow_box(frame)
    gx0, gy0 = frame.to_ground(box[0], box[1])
    gx1, gy1 = frame.to_ground(box[2], box[3])
    ax.add_patch(
        Rectangle((gx0, gy0), gx1 - gx0, gy1 - gy0, fc="white", ec="none", alpha=0.85, zorder=10)
    )
    k = frame.scale / 1000
    nx, ny = frame.to_ground(box[2] - 8, box[1] + 9)
    ax.add_patch(
        FancyArrow(
            nx,
            ny,
            0,
            12 * k,
            width=0.6 * k,
            head_width=3 * k,
            head_length=3 * k,
            color="black",
            length_includes_head=True,
            zorder=11,
        )
    )
    ax.text(
        nx,
        ny + 13 * k,
        text("north_letter"),
        ha="center",
        va="bottom",
        fontsize=10,
        weight="bold",
        zorder=11,
    )
    conv = facts.convergence_deg[grid]
    magnetic = facts.declination.declination_deg - conv  # grid bearing of magnetic north
    ang = np.radians(magnetic)
    ax.plot(
        [nx, nx + 11 * k * np.sin(ang)],
        [ny, ny + 11 * k * np.cos(ang)],
        color=_RED,
        lw=0.8,
        zorder=11,
    )
    lines = [
        text("grid_north"),
        f"{text('magnetic_north')} {magnetic:+.1f}°",
        f"{text('true_north')} {-conv:+.2f}°",
    ]
    tx, ty = frame.to_ground(box[0] + 2, box[3] - 2)
    ax.text(
        tx,
        ty,
        "\n".join(lines),
        fontsize=SMALL_PT,
        va="top",
        ha="left",
        zorder=11,
        linespacing=1.25,
    )
    frame.arrow_mm = box
    return box


def draw_legend(frame: Frame, legend: list) -> None:
    """Draw the legend in the map's upper left corner, wrapped clear of the north arrow."""
    import matplotlib.lines

    handles = [matplotlib.lines.Line2D([], [], **dict({"lw": 1.0}, **style)) for _, style in legend]
    room_mm = frame.map_mm[2] - (_arrow_box(frame)[2] - _arrow_box(frame)[0]) - 14.0
    chars = max(24, int(room_mm / (SMALL_PT * MM_PER_PT * 0.62)))
    leg = frame.ax.legend(
        handles,
        ["\n".join(textwrap.wrap(label, chars)) for label, _ in legend],
        loc="upper left",
        fontsize=SMALL_PT,
        framealpha=0.9,
        borderaxespad=0.4,
    )
    leg.set_zorder(12)


def _extent_mm(frame: Frame, artist) -> tuple[float, float, float, float]:
    renderer = frame.fig.canvas.get_renderer()
    bb = artist.get_window_extent(renderer)
    k = 25.4 / frame.fig.dpi
    return (bb.x0 * k, bb.y0 * k, bb.x1 * k, bb.y1 * k)


def obstacle_boxes(frame: Frame, texts: list) -> list[tuple[float, float, float, float]]:
    """Boxes (mm) labels must avoid: legend, scale bar, north arrow, contour labels."""
    boxes = [b for b in (frame.scale_bar_mm, frame.arrow_mm) if b is not None]
    legend = frame.ax.get_legend()
    if legend is not None:
        boxes.append(_extent_mm(frame, legend))
    boxes += [_extent_mm(frame, t) for t in texts if t.get_visible()]
    return boxes


def _wrap(line: str, size: float, width_mm: float) -> list[str]:
    chars = max(20, int(width_mm / (size * MM_PER_PT * 0.58)))
    return textwrap.wrap(line, chars) or [""]


def _panel_lines(frame: Frame, notes) -> list[tuple[str, float, str]]:
    x0, _, x1, _ = frame.panel_mm
    out = []
    for line, size, weight in notes:
        out += [(part, size, weight) for part in _wrap(line, size, x1 - x0)]
    return out


def _line_mm(size: float) -> float:
    return size * 1.25 * MM_PER_PT


def panel_rows(frame: Frame, notes) -> int:
    """How many table rows fit in the panel below the notes, the title and the header."""
    _, y0, _, y1 = frame.panel_mm
    used = sum(_line_mm(size) for _, size, _ in _panel_lines(frame, notes))
    used += _line_mm(8.0) + 2 * TABLE_PT * LINE_SPACING * MM_PER_PT + 2.0
    return max(0, int((y1 - y0 - used) // (TABLE_PT * LINE_SPACING * MM_PER_PT)))


def draw_panel(frame: Frame, notes, title: str, header: list[str], rows: list[str]) -> None:
    """Write the panel: the notes (wrapped), the table's title, header and first rows."""
    fig = frame.fig
    x0, _, _, y = frame.panel_mm
    for line, size, weight in _panel_lines(frame, notes):
        if line:
            fig.text(
                *frame.fig_xy(x0, y), line, fontsize=size, weight=weight, va="top", family=_SANS
            )
        y -= _line_mm(size)
    y -= 2.0
    fig.text(*frame.fig_xy(x0, y), title, fontsize=8, weight="bold", va="top", family=_SANS)
    y -= _line_mm(8.0)
    fig.text(
        *frame.fig_xy(x0, y),
        "\n".join(header + rows),
        family=_MONO,
        fontsize=TABLE_PT,
        va="top",
        linespacing=LINE_SPACING,
    )


def draw_header(frame: Frame, head, *, pages: int) -> None:
    """Write the page's header: title, sheet 1 of n, date, and the warnings in red."""
    fig = frame.fig
    top = frame.height_mm - MARGIN
    fig.text(*frame.fig_xy(MARGIN, top), head.title, fontsize=11, weight="bold", va="top")
    right = f"{head.sheet.format(n=1, m=pages)}  -  {head.printed}"
    fig.text(*frame.fig_xy(frame.width_mm - MARGIN, top), right, fontsize=8, ha="right", va="top")
    flags = [t for t in (head.closed, head.synthetic) if t]
    if flags:
        fig.text(
            *frame.fig_xy(frame.width_mm / 2, top - 7),
            "   ".join(flags),
            fontsize=9,
            color=_RED,
            weight="bold",
            ha="center",
            va="top",
        )


def draw_footer(frame: Frame, credits: list[str], *, synthetic: str | None) -> None:
    """Write the sources and credits under the map; the watermark on synthetic data."""
    fig = frame.fig
    width = frame.width_mm - 2 * MARGIN
    lines = []
    for credit in credits:
        lines += _wrap(credit, SMALL_PT, width)
    fig.text(
        *frame.fig_xy(MARGIN, MARGIN),
        "\n".join(lines),
        fontsize=SMALL_PT,
        va="bottom",
        linespacing=1.2,
    )
    if synthetic:
        fig.text(
            0.5,
            0.5,
            synthetic,
            fontsize=40,
            color=_RED,
            alpha=0.25,
            rotation=28,
            ha="center",
            va="center",
            weight="bold",
            zorder=100,
        )
