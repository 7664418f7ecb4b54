"""Printable field maps: one sheet per hazardous area, drawn with matplotlib (no network).

A sheet (A4 or A3, landscape) shows the hazard polygon, the evidence, releases and
neighbouring hazards around it, its turning points labelled and a proposed benchmark,
on a labelled grid in UTM zone 34N (operators' GPS, EPSG:32634) or the national grid
(KOSOVAREF01 / Balkans zone 7, EPSG:9141), at a true printed scale (1:500 to 1:50 000,
chosen to fit) with a scale bar, a north arrow, a legend, the date and the data source.
A table lists the turning points (:func:`kosovo_cmr.analysis.turning_points.turning_points`)
in UTM, national-grid and MGRS coordinates with the bearing and distance to the next
point. Synthetic data carry a "SYNTHETIC - NOT FOR FIELD USE" watermark.

:func:`field_sheet` draws a sheet in steps: the frame (paper, map axes, scale), the
map content (context, hazard, evidence, turning points), the grid, the marginalia on the
map (scale bar, north arrow, legend), the side panel (facts, turning-point table) and the
footer (source, watermark).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Proj, Transformer

from kosovo_cmr import settings
from kosovo_cmr.analysis.turning_points import turning_points
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError

__all__ = [
    "PAPER_MM",
    "SCALES",
    "field_sheet",
    "write_field_map",
    "write_atlas",
]

#: Paper sizes (landscape width, height) in millimetres.
PAPER_MM: dict[str, tuple[float, float]] = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}

#: Printed scales a sheet may use (1:n), smallest first.
SCALES: tuple[int, ...] = (500, 1000, 1250, 2000, 2500, 5000, 10000, 20000, 25000, 50000)

_GRIDS = {"utm": (settings.utm_crs, "UTM 34N"), "national": (settings.metric_crs, "KOSOVAREF01")}
_MM = 1 / 25.4  # inches per millimetre
_WATERMARK = "SYNTHETIC - NOT FOR FIELD USE"


def _nice(value: float, steps=(1, 2, 2.5, 5)) -> float:
    exp = 10 ** np.floor(np.log10(value))
    for s in steps[::-1]:
        if s * exp <= value:
            return s * exp
    return exp


def _clip(gdf: gpd.GeoDataFrame | None, crs, box) -> gpd.GeoDataFrame | None:
    if gdf is None or len(gdf) == 0:
        return None
    local = gdf.to_crs(crs)
    local = local[~local.geometry.isna() & ~local.geometry.is_empty]
    return local[local.intersects(box)]


@dataclass
class _Frame:
    """A sheet's figure and map axes, and where the map sits on the ground."""

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
    map_w: float
    margin: float = 10.0

    @property
    def width_mm(self) -> float:
        return PAPER_MM[self.paper][0]

    @property
    def height_mm(self) -> float:
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
    def panel_left(self) -> float:
        """Left edge of the side panel, as a fraction of the page width."""
        return (self.margin + self.map_w + 12.0) / self.width_mm


def _check_options(hazard, *, paper: str, grid: str) -> None:
    if paper not in PAPER_MM:
        raise InputError(f"paper must be one of {', '.join(PAPER_MM)}, got {paper!r}")
    if grid not in _GRIDS:
        raise InputError(f"grid must be 'utm' or 'national', got {grid!r}")
    if not isinstance(hazard, gpd.GeoDataFrame) or len(hazard) != 1:
        raise InputError("field_sheet needs a one-row GeoDataFrame (the hazard)")
    require_crs(hazard, name="hazard")


def _frame(geom, *, paper: str, grid: str) -> _Frame:
    """Lay out the page and the map axes, at the smallest printed scale that fits."""
    from matplotlib.figure import Figure

    crs, grid_name = _GRIDS[grid]
    width_mm, height_mm = PAPER_MM[paper]
    fig = Figure(figsize=(width_mm * _MM, height_mm * _MM))
    margin = 10.0
    map_w = width_mm * 0.58
    map_h = height_mm - 2 * margin - 8.0
    ax = fig.add_axes(
        [margin / width_mm, (margin + 6.0) / height_mm, map_w / width_mm, map_h / height_mm]
    )
    minx, miny, maxx, maxy = geom.bounds
    need = max((maxx - minx) / (map_w / 1000), (maxy - miny) / (map_h / 1000)) * 1.3
    scale = next((s for s in SCALES if s >= need), None)
    if scale is None:
        scale = int(_nice(need, steps=(1, 2, 5)) * 10)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = scale * map_w / 2000, scale * map_h / 2000
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    return _Frame(fig, ax, paper, crs, grid_name, scale, cx, cy, half_w, half_h, map_w, margin)


def _draw_polygon(ax, geom, **style) -> None:
    """Draw a (multi)polygon's rings as patches; holes are filled white."""
    from matplotlib.patches import Polygon as MplPolygon

    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type == "Polygon":
            ax.add_patch(MplPolygon(np.asarray(part.exterior.coords)[:, :2], **style))
            for hole in part.interiors:
                ax.add_patch(
                    MplPolygon(np.asarray(hole.coords)[:, :2], fc="white", ec=style.get("ec"))
                )


def _draw_context(frame: _Frame, layers: dict, *, hazard_id: str) -> list:
    """Draw the neighbouring hazards and the released land; return their legend entries."""
    legend = []
    others = _clip(layers.get("hazards"), frame.crs, frame.view)
    if others is not None and "hazard_id" in others:
        others = others[others["hazard_id"] != hazard_id]
        for g in others.geometry:
            _draw_polygon(frame.ax, g, fc="none", ec="#636363", lw=0.6, ls="--")
        if len(others):
            legend.append(("other hazard", dict(color="#636363", ls="--")))
    releases = _clip(layers.get("releases"), frame.crs, frame.view)
    if releases is not None and len(releases):
        for g in releases.geometry:
            _draw_polygon(frame.ax, g, fc="#1a964133", ec="#1a9641", lw=0.6)
        legend.append(("released land", dict(color="#1a9641")))
    return legend


def _draw_hazard(frame: _Frame, geom, *, kind: str, hazard_id: str) -> list:
    """Draw the hazard (CHA red, SHA orange); return its legend entry."""
    colour = "#d7191c" if kind == "CHA" else "#fd8d3c"
    _draw_polygon(frame.ax, geom, fc=colour + "40", ec=colour, lw=1.4)
    return [(f"{kind} {hazard_id}", dict(color=colour, lw=1.4))]


def _draw_evidence(frame: _Frame, evidence) -> list:
    """Draw the evidence points on the map; return their legend entry (if any)."""
    evidence = _clip(evidence, frame.crs, frame.view)
    if evidence is None or not len(evidence):
        return []
    xy = shapely.get_coordinates(evidence.geometry.values)
    frame.ax.plot(xy[:, 0], xy[:, 1], "o", ms=2.5, mfc="#7a0177", mec="white", mew=0.3)
    return [("evidence point", dict(marker="o", color="#7a0177", ls="none", ms=3))]


def _draw_turning_points(frame: _Frame, tps: pd.DataFrame) -> list:
    """Draw and label the turning points and the proposed benchmark north of TP1."""
    ax, scale = frame.ax, frame.scale
    to_local = Transformer.from_crs(4326, frame.crs, always_xy=True)
    px, py = to_local.transform(tps["lon"].to_numpy(), tps["lat"].to_numpy())
    ax.plot(px, py, "s", ms=2.2, color="black")
    offset = scale * 0.0025  # 2.5 mm on paper
    for x, y, label in zip(px, py, tps["label"], strict=True):
        ax.annotate(label, (x, y), xytext=(x + offset * 0.4, y + offset * 0.4), fontsize=5)
    legend = [("turning point", dict(marker="s", color="black", ls="none", ms=2.5))]
    if len(tps):
        bx, by = px[0], py[0] + max(25.0, 0.01 * scale)
        ax.plot([bx], [by], "^", ms=5, color="#2c7fb8")
        ax.annotate("BM", (bx, by), xytext=(bx + offset * 0.5, by), fontsize=6, color="#2c7fb8")
        legend.append(
            ("benchmark (proposed: north of TP1)", dict(marker="^", color="#2c7fb8", ls="none"))
        )
    return legend


def _draw_grid(frame: _Frame) -> None:
    """Label the map's grid lines in the sheet's CRS, every 'nice' number of metres."""
    ax, cx, cy, half_w, half_h = frame.ax, frame.cx, frame.cy, frame.half_w, frame.half_h
    step = _nice(2 * half_w / 5)
    xs = np.arange(np.ceil((cx - half_w) / step) * step, cx + half_w, step)
    ys = np.arange(np.ceil((cy - half_h) / step) * step, cy + half_h, step)
    ax.set_xticks(xs, [f"{v:,.0f}".replace(",", " ") for v in xs], fontsize=5)
    ax.set_yticks(ys, [f"{v:,.0f}".replace(",", " ") for v in ys], fontsize=5, rotation=90)
    ax.tick_params(top=True, right=True, labeltop=True, labelright=True, length=2)
    ax.grid(True, lw=0.3, color="#9e9e9e")
    ax.set_xlabel(f"{frame.grid_name} easting (m), grid every {step:,.0f} m", fontsize=6)
    ax.set_ylabel(f"{frame.grid_name} northing (m)", fontsize=6)


def _draw_scale_bar(frame: _Frame) -> None:
    """Draw a true scale bar: a nice length near a quarter of the map width, in metres."""
    from matplotlib.patches import Polygon as MplPolygon

    ax, scale = frame.ax, frame.scale
    bar = _nice(frame.half_w / 2)
    x0, y0 = frame.cx - frame.half_w * 0.92, frame.cy - frame.half_h * 0.9
    for i in range(4):
        ax.add_patch(
            MplPolygon(
                [
                    (x0 + i * bar / 4, y0),
                    (x0 + (i + 1) * bar / 4, y0),
                    (x0 + (i + 1) * bar / 4, y0 + scale * 0.0015),
                    (x0 + i * bar / 4, y0 + scale * 0.0015),
                ],
                fc="black" if i % 2 == 0 else "white",
                ec="black",
                lw=0.5,
            )
        )
    ax.text(x0, y0 + scale * 0.0022, "0", fontsize=5, ha="center")
    ax.text(x0 + bar, y0 + scale * 0.0022, f"{bar:,.0f} m", fontsize=5, ha="center")
    ax.text(
        x0,
        y0 - scale * 0.003,
        f"Scale 1:{scale:,}".replace(",", " ") + f" on {frame.paper} printed at 100 %",
        fontsize=5.5,
    )


def _draw_north_arrow(frame: _Frame) -> None:
    """Draw grid north, with the convergence to true north at the map's centre."""
    from matplotlib.patches import FancyArrow

    ax, cx, cy, half_w, half_h = frame.ax, frame.cx, frame.cy, frame.half_w, frame.half_h
    lon0, lat0 = Transformer.from_crs(frame.crs, 4326, always_xy=True).transform(cx, cy)
    convergence = Proj(frame.crs).get_factors(lon0, lat0).meridian_convergence
    nx, ny = cx + half_w * 0.85, cy + half_h * 0.72
    ax.add_patch(
        FancyArrow(nx, ny, 0, half_h * 0.14, width=half_w * 0.012, head_width=half_w * 0.05,
                   head_length=half_h * 0.05, color="black", length_includes_head=True)
    )  # fmt: skip
    ax.text(nx, ny + half_h * 0.16, "N", ha="center", fontsize=9, weight="bold")
    ax.text(nx, ny - half_h * 0.04, f"grid north\nconvergence {convergence:+.2f}°",
            ha="center", va="top", fontsize=4.5)  # fmt: skip


def _draw_legend(frame: _Frame, legend: list) -> None:
    import matplotlib.lines

    handles = [matplotlib.lines.Line2D([], [], **dict({"lw": 1.0}, **style)) for _, style in legend]
    frame.ax.legend(handles, [label for label, _ in legend], loc="upper left", fontsize=5,
                    framealpha=0.9)  # fmt: skip


def _facts(row: pd.Series, *, kind: str, hazard_id: str, area_m2: float, n_points: int) -> list:
    """Return the lines that describe the hazard at the top of the side panel."""
    return [
        f"{kind} {hazard_id}  ({row.get('status', '')})",
        f"{row.get('municipality', '') or ''}, region {row.get('region', '') or ''}",
        f"priority {row.get('priority', '') or '-'} - operator {row.get('operator', '') or '-'}"
        f" - ordnance {row.get('ordnance', '') or '-'}",
        f"area {area_m2:,.0f} m2 (geodesic), {n_points} turning points",
    ]


def _table_lines(tps: pd.DataFrame) -> list[str]:
    """Return the turning-point table as fixed-width lines, its header first."""
    header = (
        f"{'point':<7}{'UTM 34N E':>10}{'N':>9}  {'KOSOVAREF E':>11}{'N':>9}  "
        f"{'MGRS (1 m)':<17} {'brg°':>5}{'dist m':>8}"
    )
    lines = [header]
    for r in tps.itertuples(index=False):
        lines.append(
            f"{r.label:<7}{r.utm_e:>10.0f}{r.utm_n:>9.0f}  {r.grid_e:>11.0f}{r.grid_n:>9.0f}  "
            f"{r.mgrs:<17} {r.bearing_deg:>5.0f}{r.distance_m:>8.1f}"
        )
    return lines


def _draw_panel(frame: _Frame, facts: list[str], tps: pd.DataFrame) -> None:
    """Write the side panel: title, facts and the turning-point table, sized to fit."""
    fig, width_mm, height_mm, margin = frame.fig, frame.width_mm, frame.height_mm, frame.margin
    left = frame.panel_left
    top = 1 - margin / height_mm
    fig.text(left, top, "FIELD MAP - hazardous area", fontsize=11, weight="bold", va="top")
    for i, line in enumerate(facts):
        fig.text(left, top - 0.045 - i * 0.028, line, fontsize=7, va="top")
    lines = _table_lines(tps)
    header = lines[0]
    table_top = top - 0.045 - len(facts) * 0.028 - 0.02
    table_bottom = 0.1
    available_pt = (table_top - table_bottom) * height_mm * _MM * 72
    panel_pt = (1 - left - margin / width_mm) * width_mm * _MM * 72
    size = float(min(7.0, available_pt / (len(lines) * 1.18), panel_pt / (0.61 * len(header))))
    fig.text(left, table_top, "\n".join(lines), family="monospace", fontsize=size, va="top",
             linespacing=1.18)  # fmt: skip


def _draw_footer(frame: _Frame, *, source: str, today: date | None, synthetic: bool) -> None:
    """Write the date, source and coordinate notes; the watermark on synthetic data."""
    fig = frame.fig
    fig.text(
        frame.panel_left,
        0.045,
        f"Printed {(today or date.today()).isoformat()}. Source: {source}.\n"
        "Bearings: true (geodesic) to the next point; distances: geodesic metres (WGS 84).\n"
        f"Coordinates: UTM 34N = EPSG:32634, KOSOVAREF01 = EPSG:9141; map grid "
        f"{frame.grid_name}.",
        fontsize=5,
        va="bottom",
    )
    if synthetic:
        fig.text(0.5, 0.5, _WATERMARK, fontsize=42, color="#b10026", alpha=0.28, rotation=28,
                 ha="center", va="center", weight="bold", zorder=100)  # fmt: skip
        fig.text(0.5, 0.985, _WATERMARK, fontsize=9, color="#b10026", ha="center", va="top",
                 weight="bold")  # fmt: skip


def field_sheet(
    hazard: pd.Series | gpd.GeoDataFrame,
    *,
    layers: dict[str, gpd.GeoDataFrame] | None = None,
    paper: str = "A4",
    grid: str = "utm",
    source: str = "kosovo_cmr store",
    today: date | None = None,
):
    """Draw the field sheet of one hazard.

    Parameters
    ----------
    hazard : GeoDataFrame
        A one-row GeoDataFrame (the hazard), with a CRS.
    layers : dict of str to GeoDataFrame, optional
        Context drawn around it: ``evidence``, ``releases``, ``hazards``, ``strikes``.
    paper : {"A4", "A3"}
        Paper size (landscape).
    grid : {"utm", "national"}
        Grid and coordinates of the map: UTM 34N or KOSOVAREF01 / Balkans zone 7.
    source : str, optional
        The data source printed on the sheet.
    today : datetime.date, optional
        The date printed on the sheet (default today).

    Returns
    -------
    matplotlib.figure.Figure
        Sized to the paper: save it as PDF at 100 % for the stated scale to hold.

    Raises
    ------
    kosovo_cmr.errors.InputError
        On an unknown ``paper`` or ``grid``, or a ``hazard`` that is not one row;
        :class:`~kosovo_cmr.errors.CRSError` if it has no CRS.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)

    _check_options(hazard, paper=paper, grid=grid)
    layers = layers or {}
    row = hazard.iloc[0]
    hid = str(row.get("hazard_id", "hazard"))
    kind = str(row.get("kind", "CHA"))
    synthetic = bool(row.get("synthetic", False)) or hid.startswith("DEMO-")
    tps = turning_points(hazard, id_column="hazard_id" if "hazard_id" in hazard else None)
    geom = hazard.to_crs(_GRIDS[grid][0]).geometry.iloc[0]

    frame = _frame(geom, paper=paper, grid=grid)
    legend = _draw_context(frame, layers, hazard_id=hid)
    legend += _draw_hazard(frame, geom, kind=kind, hazard_id=hid)
    legend += _draw_evidence(frame, layers.get("evidence"))
    legend += _draw_turning_points(frame, tps)
    _draw_grid(frame)
    _draw_scale_bar(frame)
    _draw_north_arrow(frame)
    _draw_legend(frame, legend)
    area = float(geodesic_area(hazard)[0])
    _draw_panel(frame, _facts(row, kind=kind, hazard_id=hid, area_m2=area, n_points=len(tps)), tps)
    _draw_footer(frame, source=source, today=today, synthetic=synthetic)
    return frame.fig


def _pick(hazards: gpd.GeoDataFrame, hazard_id: str) -> gpd.GeoDataFrame:
    if "hazard_id" not in hazards.columns:
        raise InputError("the hazards layer has no hazard_id column")
    one = hazards[hazards["hazard_id"] == hazard_id]
    if one.empty:
        raise InputError(f"no hazard {hazard_id!r} in the hazards layer")
    return one


def _check(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise InputError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    if not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist")


def write_field_map(
    hazards: gpd.GeoDataFrame,
    hazard_id: str,
    path: str | os.PathLike,
    *,
    layers: dict[str, gpd.GeoDataFrame] | None = None,
    overwrite: bool = False,
    **options,
) -> Path:
    """Write the field sheet of one hazard as a one-page PDF.

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards layer.
    hazard_id : str
        The hazard to draw.
    path : path
        The PDF file.
    layers : dict, optional
        Context layers (see :func:`field_sheet`).
    overwrite : bool, default False
        Replace ``path`` if it exists.
    **options
        ``paper``, ``grid``, ``source``, ``today`` (see :func:`field_sheet`).

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    _check(path, overwrite)
    fig = field_sheet(_pick(hazards, hazard_id), layers=layers, **options)
    fig.savefig(path, format="pdf")
    return path


def write_atlas(
    hazards: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    layers: dict[str, gpd.GeoDataFrame] | None = None,
    overwrite: bool = False,
    **options,
) -> Path:
    """Write the field sheets of every hazard in ``hazards`` as one multi-page PDF.

    Sheets follow the order of ``hazard_id``. Options as for :func:`write_field_map`.
    """
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path)
    _check(path, overwrite)
    ordered = hazards.sort_values("hazard_id") if "hazard_id" in hazards else hazards
    ordered = ordered[~ordered.geometry.isna() & ~ordered.geometry.is_empty]
    if ordered.empty:
        raise InputError("no hazard to draw")
    tmp = path.with_name(path.name + ".part")
    with PdfPages(tmp, metadata={"Title": "kosovo_cmr field-map atlas"}) as pdf:
        for i in range(len(ordered)):
            pdf.savefig(field_sheet(ordered.iloc[[i]], layers=layers, **options))
    os.replace(tmp, path)
    return path
