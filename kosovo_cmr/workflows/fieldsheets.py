"""Field sheets of a store: pick the hazards, compute what each sheet states, draw, write.

:func:`field_sheets_from_store` writes the sheet of one hazard, or the atlas of every
open hazard, as one PDF: for each hazard it computes the facts
(:func:`kosovo_cmr.analysis.sheet_facts.sheet_facts`: turning points, magnetic
declination for the sheet's date, benchmark, missing attributes) and hands them to the
renderer (:func:`kosovo_cmr.outputs.fieldmap.draw_sheet`) with the ground context the
team has (:class:`kosovo_cmr.outputs.fieldmap.Ground`). Closed hazards (released or
removed) are left out of the atlas unless asked for, and said so; a closed hazard's own
sheet says CLOSED in its title.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import geopandas as gpd

from kosovo_cmr._files import check_outputs
from kosovo_cmr.analysis.sheet_facts import CLOSED_STATUSES, sheet_facts
from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs.fieldmap import Ground, SheetDrawing, draw_sheet, write_sheets

log = logging.getLogger(__name__)

__all__ = [
    "Ground",
    "public_source",
    "select_hazards",
    "draw_field_sheet",
    "field_sheet",
    "write_field_map",
    "write_atlas",
    "field_sheets_from_store",
]

_DRAW_OPTIONS = ("paper", "grid", "lang", "source", "today")


def _ground(ground: Ground | None, dem, basemap, context) -> Ground | None:
    if ground is not None and (dem or basemap or context):
        raise InputError("give either ground= or dem=/basemap=/context=, not both")
    if ground is not None:
        return ground
    pairs = tuple(c if isinstance(c, tuple) else (c, None) for c in context or ())
    return Ground(dem=dem, basemap=basemap, context=pairs)


def _ground_files(ground: Ground | None) -> list:
    if ground is None:
        return []
    return [f for f in (ground.dem, ground.basemap, *(p for p, _ in ground.context)) if f]


def public_source(uri: str) -> str:
    """Return a store URI fit to print: a server URL without its user and password.

    Examples
    --------
    >>> public_source("postgresql://kmac:secret@db.local:5432/cmr")
    'postgresql://db.local:5432/cmr'
    """
    return re.sub(r"(://)[^/@]*@", r"\1", str(uri))


def draw_field_sheet(
    hazard: gpd.GeoDataFrame,
    *,
    layers: dict | None = None,
    ground: Ground | None = None,
    today: date | None = None,
    **options,
) -> SheetDrawing:
    """Compute the facts of one hazard and draw its sheet.

    Parameters
    ----------
    hazard : GeoDataFrame
        One row: the hazard.
    layers : dict of str to GeoDataFrame, optional
        ``evidence``, ``releases``, ``hazards`` drawn around it; ``benchmarks`` (points
        with ``hazard_id``) for a recorded benchmark.
    ground : Ground, optional
        DEM, basemap, vector context files.
    today : datetime.date, optional
        The sheet's date (default today): printed, and the date of the declination.
    **options
        ``paper``, ``grid``, ``lang``, ``source`` (see
        :func:`kosovo_cmr.outputs.fieldmap.draw_sheet`).

    Returns
    -------
    kosovo_cmr.outputs.fieldmap.SheetDrawing
    """
    layers = layers or {}
    facts = sheet_facts(hazard, on=today or date.today(), benchmarks=layers.get("benchmarks"))
    return draw_sheet(facts, layers=layers, ground=ground, **options)


def field_sheet(hazard: gpd.GeoDataFrame, **options):
    """Draw the map page of one hazard's sheet; return the matplotlib figure.

    The figure is the first page only; :func:`write_field_map` writes the whole sheet
    (with the continuation pages of a long table). Options as for
    :func:`draw_field_sheet`.
    """
    return draw_field_sheet(hazard, **options).figure


def _pick(hazards: gpd.GeoDataFrame, hazard_id: str) -> gpd.GeoDataFrame:
    if "hazard_id" not in hazards.columns:
        raise InputError("the hazards layer has no hazard_id column")
    one = hazards[hazards["hazard_id"].astype(str) == str(hazard_id)]
    if one.empty:
        raise InputError(f"no hazard {hazard_id!r} in the hazards layer")
    return one.iloc[[0]]


def write_field_map(
    hazards: gpd.GeoDataFrame,
    hazard_id: str,
    path: str | os.PathLike,
    *,
    layers: dict | None = None,
    overwrite: bool = False,
    ground: Ground | None = None,
    dem: str | os.PathLike | None = None,
    basemap: str | os.PathLike | None = None,
    context=(),
    **options,
) -> Path:
    """Write the field sheet of one hazard as a PDF (its map page and any table pages).

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards layer.
    hazard_id : str
        The hazard to draw (a closed one gets a sheet titled CLOSED).
    path : path
        The PDF file, written atomically.
    layers : dict, optional
        Context layers (see :func:`draw_field_sheet`).
    overwrite : bool, default False
        Replace ``path`` if it exists.
    ground : Ground, optional
        Ground context files, or give them as ``dem``, ``basemap``, ``context`` (see
        :func:`field_sheets_from_store`).
    **options
        ``paper``, ``grid``, ``lang``, ``source``, ``today``.

    Returns
    -------
    pathlib.Path
    """
    ground = _ground(ground, dem, basemap, context)
    check_outputs({"output": path}, overwrite=overwrite, sources=_ground_files(ground))
    drawing = draw_field_sheet(_pick(hazards, hazard_id), layers=layers, ground=ground, **options)
    title = f"kosovo_cmr field sheet {drawing.facts.hazard_id}"
    return write_sheets([drawing], path, overwrite=overwrite, title=title)


def select_hazards(hazards: gpd.GeoDataFrame, *, include_closed: bool = False):
    """Return the hazards an atlas shows, sorted by id, and notices of what it leaves out.

    Closed hazards (status released or removed) are left out unless ``include_closed``;
    hazards without a geometry cannot be drawn. Each left-out group gets a notice.
    """
    ordered = hazards.sort_values("hazard_id") if "hazard_id" in hazards else hazards
    notices = []
    empty = ordered.geometry.isna() | ordered.geometry.is_empty
    if empty.any():
        ids = ", ".join(map(str, ordered.loc[empty].get("hazard_id", ordered.index[empty])))
        notices.append(f"{int(empty.sum())} hazard(s) without a geometry left out: {ids}")
    ordered = ordered[~empty]
    if not include_closed and "status" in ordered.columns:
        closed = ordered["status"].isin(CLOSED_STATUSES)
        if closed.any():
            notices.append(
                f"{int(closed.sum())} closed hazard(s) (released or removed) left out; "
                "--include-closed (include_closed=True) adds them"
            )
        ordered = ordered[~closed]
    return ordered, notices


def write_atlas(
    hazards: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    layers: dict | None = None,
    overwrite: bool = False,
    include_closed: bool = False,
    ground: Ground | None = None,
    dem: str | os.PathLike | None = None,
    basemap: str | os.PathLike | None = None,
    context=(),
    progress: Callable[[int, int, str], None] | None = None,
    **options,
) -> Path:
    """Write the sheets of the open hazards (all with ``include_closed``) as one PDF.

    Sheets follow the order of ``hazard_id``; every notice of what was left out is
    logged (warning). Other options as for :func:`write_field_map`; ``progress`` is
    called with (done, total, hazard id) before each sheet.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If no hazard is left to draw.
    """
    ground = _ground(ground, dem, basemap, context)
    check_outputs({"output": path}, overwrite=overwrite, sources=_ground_files(ground))
    chosen, notices = select_hazards(hazards, include_closed=include_closed)
    for notice in notices:
        log.warning("%s", notice)
    if chosen.empty:
        raise InputError("no hazard to draw" + (f" ({'; '.join(notices)})" if notices else ""))

    def drawings() -> Iterator[SheetDrawing]:
        for i in range(len(chosen)):
            one = chosen.iloc[[i]]
            if progress:
                progress(i, len(chosen), str(one.iloc[0].get("hazard_id", i + 1)))
            yield draw_field_sheet(one, layers=layers, ground=ground, **options)

    title = f"kosovo_cmr field sheets ({len(chosen)} hazards)"
    return write_sheets(drawings(), path, overwrite=overwrite, title=title)


def _read_layers(store_or_layers) -> dict:
    if isinstance(store_or_layers, dict):
        return dict(store_or_layers)
    if hasattr(store_or_layers, "read") and hasattr(store_or_layers, "layers"):
        return {name: store_or_layers.read(name) for name in store_or_layers.layers()}
    raise InputError(
        "field sheets need a store or a dict of GeoDataFrames, "
        f"got {type(store_or_layers).__name__}"
    )


def field_sheets_from_store(
    store_or_layers,
    path: str | os.PathLike,
    *,
    hazard_id: str | None = None,
    include_closed: bool = False,
    overwrite: bool = False,
    dem: str | os.PathLike | None = None,
    basemap: str | os.PathLike | None = None,
    context=(),
    ground: Ground | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    **options,
) -> Path:
    """Write the field sheet of one hazard, or the atlas of the open hazards, as PDF.

    Parameters
    ----------
    store_or_layers : Store or dict of str to GeoDataFrame
        A store (every layer is read) or layers by name; ``hazards`` is needed.
    path : path
        The PDF file; never the store itself or a ground file (refused).
    hazard_id : str, optional
        One hazard; without it the atlas of every hazard that is not closed.
    include_closed : bool, default False
        Add the closed (released, removed) hazards to the atlas.
    overwrite : bool, default False
        Replace ``path`` if it exists.
    dem, basemap : path, optional
        A DEM GeoTIFF (hillshade, contours); a GeoTIFF or MBTiles basemap.
    context : iterable of path or (path, layer)
        GeoPackage layers drawn under the hazard.
    ground : Ground, optional
        Instead of ``dem``, ``basemap``, ``context``.
    progress : callable, optional
        Called with (done, total, hazard id) before each sheet of an atlas.
    **options
        ``paper``, ``grid``, ``lang``, ``source``, ``today``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    kosovo_cmr.errors.InputError
        If there is no hazards layer, no such hazard, or the output would overwrite the
        store or a ground file.
    """
    ground = _ground(ground, dem, basemap, context)
    uri = getattr(store_or_layers, "uri", None)
    check_outputs({"output": path}, overwrite=overwrite, store=uri, sources=_ground_files(ground))
    if uri is not None and "source" not in options:
        options["source"] = public_source(uri)
    layers = _read_layers(store_or_layers)
    if "hazards" not in layers:
        raise InputError("the store has no hazards layer")
    hazards = layers["hazards"]
    if hazard_id is not None:
        return write_field_map(
            hazards, hazard_id, path, layers=layers, overwrite=overwrite, ground=ground, **options
        )
    return write_atlas(
        hazards,
        path,
        layers=layers,
        overwrite=overwrite,
        ground=ground,
        include_closed=include_closed,
        progress=progress,
        **options,
    )
