"""Ground context under a field sheet's hazard: imagery, relief, contours, vector layers.

:class:`Ground` names the files a team has (a DEM, a basemap, GeoPackage layers);
:func:`draw_ground` reads each over the sheet's extent (:mod:`kosovo_cmr.outputs.basemap`)
and draws it under the hazard, returning the legend entries, the credits to print and the
boxes of contour labels (which turning-point labels must not cover).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kosovo_cmr.outputs.basemap import read_basemap, read_context, read_relief
from kosovo_cmr.outputs.sheet_table import TABLE_PT

__all__ = ["Ground", "GroundDrawn", "draw_ground", "contour_step"]

#: Cell size of imagery and relief on paper, mm (0.2 mm: about 127 dpi).
CELL_MM = 0.2

_WATER = re.compile(r"water|river|stream|lake|canal|lum|reka|rijeka|potok", re.I)
_CONTOUR_COLOUR = "#8c6d31"


@dataclass(frozen=True)
class Ground:
    """Files giving a sheet its ground context; every one optional.

    Attributes
    ----------
    dem : path, optional
        A DEM GeoTIFF: hillshade and contours.
    basemap : path, optional
        A GeoTIFF or MBTiles image (orthophoto, scanned map).
    context : tuple of (path, layer or None)
        GeoPackage layers (roads, buildings, rivers); ``None`` for every layer.
    """

    dem: str | os.PathLike | None = None
    basemap: str | os.PathLike | None = None
    context: tuple = ()

    @property
    def empty(self) -> bool:
        """Whether no file is given."""
        return self.dem is None and self.basemap is None and not self.context


@dataclass
class GroundDrawn:
    """What :func:`draw_ground` drew: legend entries, credits (translated), label boxes."""

    legend: list = field(default_factory=list)
    credits: list[str] = field(default_factory=list)
    obstacles: list = field(default_factory=list)  # matplotlib texts (contour labels)


def contour_step(low: float, high: float) -> float:
    """Return the largest round interval giving six contours or more in ``low``-``high``.

    Round: 1, 2 or 5 times a power of ten. At least 5 m: contours from a 30-90 m DEM say
    no more than that.

    Examples
    --------
    >>> contour_step(771, 821), contour_step(400, 1400), contour_step(100, 220)
    (5.0, 100.0, 20.0)
    """
    span = max(high - low, 1e-9) / 6
    exp = 10 ** math.floor(math.log10(span))
    step = next(s * exp for s in (5, 2, 1) if s * exp <= span) if span >= 1 else 1.0
    return float(max(step, 5.0))


def _extent(frame) -> tuple[float, float, float, float]:
    return (
        frame.cx - frame.half_w,
        frame.cy - frame.half_h,
        frame.cx + frame.half_w,
        frame.cy + frame.half_h,
    )


def _coverage_note(text, name: str, share: float) -> str | None:
    return None if share >= 0.99 else text("coverage", name=name, share=f"{100 * share:.0f}")


def _draw_basemap(frame, path, text, drawn: GroundDrawn) -> None:
    image = read_basemap(
        path, bounds=_extent(frame), crs=frame.crs, resolution_m=CELL_MM * frame.scale / 1000
    )
    left, bottom, right, top = image.bounds
    frame.ax.imshow(
        image.rgba,
        extent=(left, right, bottom, top),
        origin="upper",
        zorder=0,
        interpolation="bilinear",
    )
    credit = f" ({image.credit})" if image.credit else ""
    drawn.credits.append(text("imagery_from", name=image.name + credit))
    note = _coverage_note(text, image.name, image.coverage)
    if note:
        drawn.credits.append(note)


def _draw_relief(frame, path, text, drawn: GroundDrawn, *, over_image: bool) -> None:
    relief = read_relief(
        path, bounds=_extent(frame), crs=frame.crs, resolution_m=CELL_MM * frame.scale / 1000
    )
    left, bottom, right, top = relief.bounds
    ax = frame.ax
    shade = np.ma.masked_invalid(relief.shade)
    ax.imshow(
        shade,
        extent=(left, right, bottom, top),
        origin="upper",
        cmap="Greys_r",
        vmin=0,
        vmax=1,
        alpha=0.25 if over_image else 0.45,
        zorder=1,
    )
    credit = f" ({relief.credit})" if relief.credit else ""
    drawn.credits.append(text("relief_from", name=relief.name + credit))
    note = _coverage_note(text, relief.name, relief.coverage)
    if note:
        drawn.credits.append(note)
    z = relief.elevation
    if not np.isfinite(z).any():
        return
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    step = contour_step(lo, hi)
    levels = np.arange(math.ceil(lo / step) * step, hi + 1e-9, step)
    if len(levels) == 0:
        return
    rows, cols = z.shape
    xs = np.linspace(left, right, cols + 1)[:-1] + (right - left) / cols / 2
    ys = np.linspace(top, bottom, rows + 1)[:-1] - (top - bottom) / rows / 2
    cs = ax.contour(
        xs,
        ys,
        np.ma.masked_invalid(z),
        levels=levels,
        colors=_CONTOUR_COLOUR,
        linewidths=0.35,
        zorder=2,
    )
    drawn.obstacles += ax.clabel(cs, fmt="%d", fontsize=TABLE_PT, inline=True, inline_spacing=2)
    for label in cs.labelTexts if hasattr(cs, "labelTexts") else []:
        label.set_zorder(2)
    step_text = f"{step:g}"
    drawn.legend.append(
        (text("legend.contours", step=step_text), {"color": _CONTOUR_COLOUR, "lw": 0.6})
    )


def _style(layer) -> tuple[str, dict]:
    kinds = set(layer.frame.geom_type.str.replace("Multi", ""))
    water = bool(_WATER.search(layer.name))
    if "Polygon" in kinds:
        colour = "#9ecae1" if water else "#bdbdbd"
        return "polygon", {"fc": colour, "ec": "#3182bd" if water else "#737373", "lw": 0.4}
    if "LineString" in kinds:
        return "line", {"color": "#3182bd" if water else "#525252", "lw": 1.2 if water else 0.9}
    return "point", {"color": "#525252", "ms": 2.0}


def _draw_context(frame, path, layer_name, text, drawn: GroundDrawn) -> None:
    import shapely
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.patches import Polygon as MplPolygon

    tol = 0.1 * frame.scale / 1000
    for layer in read_context(path, layer=layer_name, bounds=_extent(frame), crs=frame.crs):
        credit = f" ({layer.credit})" if layer.credit else ""
        drawn.credits.append(text("layer_from", layer=layer.name, name=layer.file + credit))
        if layer.frame.empty:
            continue
        kind, style = _style(layer)
        geoms = shapely.simplify(layer.frame.geometry.values, tol)
        ax = frame.ax
        if kind == "polygon":
            rings = shapely.get_exterior_ring(
                shapely.get_parts(geoms)[shapely.get_type_id(shapely.get_parts(geoms)) == 3]
            )
            patches = [MplPolygon(shapely.get_coordinates(r)) for r in rings]
            ax.add_collection(
                PatchCollection(
                    patches, facecolor=style["fc"], edgecolor=style["ec"], lw=style["lw"], zorder=3
                )
            )
            drawn.legend.append(
                (
                    layer.name,
                    {
                        "marker": "s",
                        "ls": "none",
                        "color": style["ec"],
                        "mfc": style["fc"],
                        "ms": 5,
                    },
                )
            )
        elif kind == "line":
            parts = shapely.get_parts(geoms)
            lines = [shapely.get_coordinates(p) for p in parts if p.geom_type == "LineString"]
            ax.add_collection(
                LineCollection(lines, colors=style["color"], lw=style["lw"], zorder=3)
            )
            drawn.legend.append((layer.name, {"color": style["color"], "lw": style["lw"]}))
        else:
            xy = shapely.get_coordinates(geoms)
            ax.plot(xy[:, 0], xy[:, 1], "o", zorder=3, **style)
            drawn.legend.append((layer.name, {"marker": "o", "ls": "none", **style}))


def draw_ground(frame, ground: Ground | None, text) -> GroundDrawn:
    """Draw the ground context under the hazard; return legend, credits and label boxes.

    Parameters
    ----------
    frame : kosovo_cmr.outputs.fieldmap.Frame
        The sheet's map frame (axes, CRS, scale, extent).
    ground : Ground or None
        The files; with none, the credits hold the hint of what to add.
    text : kosovo_cmr.outputs.sheet_i18n.SheetText
        The labels.
    """
    drawn = GroundDrawn()
    if ground is None or ground.empty:
        drawn.credits.append(text("no_ground"))
        return drawn
    if ground.basemap is not None:
        _draw_basemap(frame, Path(ground.basemap), text, drawn)
    if ground.dem is not None:
        _draw_relief(frame, Path(ground.dem), text, drawn, over_image=ground.basemap is not None)
    for path, layer in ground.context:
        _draw_context(frame, Path(path), layer, text, drawn)
    return drawn
