r"""Interactive web maps of the layers (folium / Leaflet): escaped, light, and offline-able.

:func:`interactive_map` draws layers on a :class:`folium.Map`: CHAs and SHAs in distinct
colours, released land by method, evidence points (clustered when many), municipal and
region boundaries and, when they are given, the strike footprints
(:func:`kosovo_cmr.analysis.strikes.strike_footprints`) and the fade-out rings
(:attr:`kosovo_cmr.analysis.fadeout.ImpactResult.rings`); with a layer control, a legend,
a scale bar, a measuring tool, a full-screen button, popups and tooltips (key attributes
and geodesic areas), and a banner whenever a shown feature is synthetic. It computes no
analysis: :func:`kosovo_cmr.workflows.maps.map_from_store` reads a store, computes the
rings and footprints and draws them all.

Safe by construction
    No attribute value, column name or layer name is ever written into the page as HTML.
    Feature data travel as JSON inside a script (``<``, ``>`` and ``&`` escaped as
    ``\u003c``...), and popups and tooltips are built in the browser with
    ``textContent``; layer names and legend text are HTML-escaped in Python. An attribute
    such as ``<img src=x onerror=alert(1)>`` shows as text.

Light
    Each layer is one compact block (a *spec*): geometries are simplified in the metric
    CRS with a tolerance of :data:`SIMPLIFY_TOLERANCE_M` (0.5 m; Douglas-Peucker ring by
    ring, so that the bound holds by construction, see :mod:`kosovo_cmr.outputs._thin`),
    rounded to 1e-6 degree (at most 0.07 m in Kosovo) and delta-encoded as a polyline
    string, so every displayed shape lies within 0.57 m of the stored geometry; the
    browser decodes it (:mod:`kosovo_cmr.outputs._map_runtime`).
    ``benchmarks/map_size.py`` compares it with plain ``folium.GeoJson``.

Offline
    With ``offline=True`` the page has no tile layer and carries every script and
    stylesheet, from the folium-offline package installed with kosovo_cmr (see
    :mod:`kosovo_cmr.outputs._offline`): one HTML file that makes no network request.
    Online maps show OpenStreetMap tiles with their attribution, and a message on the
    page when the scripts or the tiles cannot load (no internet connection).

Huge
    An evidence layer of more than :data:`GRID_THRESHOLD` points travels as compact
    columns and is drawn by the browser as counts on a grid until a few thousand
    points are in view (:func:`kosovo_cmr.outputs._map_specs.layer_spec`).

Valid
    The page has a title and every script inside its body: it passes the W3C (vnu)
    validator, online and offline.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr import _deprecated
from kosovo_cmr._files import atomic_output
from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs import _map_runtime, _map_specs, _offline
from kosovo_cmr.outputs._map_basemap import add_basemap
from kosovo_cmr.outputs._map_specs import (
    COORDINATE_PRECISION_DEG,
    MAX_SIMPLIFY_DEVIATION_M,
    decode_coordinates,
    encode_coordinates,
)

__all__ = [
    "SIMPLIFY_TOLERANCE_M",
    "MAX_SIMPLIFY_DEVIATION_M",
    "COORDINATE_PRECISION_DEG",
    "CLUSTER_THRESHOLD",
    "GRID_THRESHOLD",
    "COLOURS",
    "interactive_map",
    "save_map",
    "encode_coordinates",
    "decode_coordinates",
]

#: Tolerance (metres, in the metric CRS) of the simplification applied before display.
SIMPLIFY_TOLERANCE_M: float = 0.5

#: Evidence layers with more points than this are clustered (Leaflet.markercluster).
CLUSTER_THRESHOLD: int = 200

#: Evidence layers with more points than this travel as compact columns and are drawn by
#: the browser as counts on a grid until a few thousand are in view: a marker per point
#: (clustered or not) for millions of points exhausts a browser.
GRID_THRESHOLD: int = 50_000

#: Colours of the map's layers; CHAs and SHAs, and the three release methods, differ.
COLOURS: dict[str, str] = {
    "CHA": "#d7191c",
    "SHA": "#fd8d3c",
    "closed": "#969696",
    "clearance": "#1a9641",
    "reduction_ts": "#2c7fb8",
    "cancellation_nts": "#984ea3",
    "evidence": "#7a0177",
    "strikes": "#6a3d1a",
    "fadeout": "#e7298a",
    "municipalities": "#636363",
    "regions": "#252525",
}

_RELEASE_LABELS = {
    "clearance": "Released: cleared",
    "reduction_ts": "Released: reduced by technical survey (TS)",
    "cancellation_nts": "Released: cancelled by non-technical survey (NTS)",
}

_BANNER = "SYNTHETIC DEMO DATA - NOT FOR FIELD USE"


def _is_synthetic(gdf: gpd.GeoDataFrame) -> bool:
    return "synthetic" in gdf.columns and bool(gdf["synthetic"].fillna(False).astype(bool).any())


# --- the map's layers, bottom to top: one step per kind of layer ------------------------------
# Each step returns a list of (spec, shown at first, legend swatch: area, line or point).


def _present(gdf: gpd.GeoDataFrame | None) -> bool:
    return gdf is not None and len(gdf) > 0


def _boundary_specs(boundaries, tolerance_m: float) -> list:
    """Draw the KMAC regions (dissolved from the municipalities) and the municipalities."""
    if not _present(boundaries):
        return []
    out = []
    context = dict(tolerance_m=max(tolerance_m, 5.0), context=True)
    if "region" in boundaries.columns:
        from kosovo_cmr.boundaries import regions_from_municipalities

        regions = regions_from_municipalities(boundaries)
        spec = _map_specs.layer_spec(
            regions,
            label="KMAC regions",
            colour=COLOURS["regions"],
            tooltip=["region"],
            fill_opacity=0.0,
            weight=3.0,
            **context,
        )
        out.append((spec, True, "line"))
    spec = _map_specs.layer_spec(
        boundaries,
        label="Municipalities",
        colour=COLOURS["municipalities"],
        tooltip=["municipality", "region"],
        fill_opacity=0.02,
        weight=1.0,
        dash="4 3",
        **context,
    )
    out.append((spec, True, "line"))
    return out


def _hazard_specs(hazards, tolerance_m: float) -> list:
    """Draw the closed hazards (hidden at first), then the open SHAs and CHAs."""
    if not _present(hazards):
        return []
    status = hazards["status"] if "status" in hazards.columns else None
    is_active = (
        pd.Series(True, index=hazards.index)
        if status is None
        else status.fillna("active") == "active"
    )
    active, closed = hazards[is_active], hazards[~is_active]
    closed_spec = _map_specs.layer_spec(
        closed,
        label="Closed hazards (released or removed)",
        colour=COLOURS["closed"],
        tooltip=["hazard_id", "status"],
        tolerance_m=tolerance_m,
        fill_opacity=0.15,
        dash="2 4",
    )
    out = [(closed_spec, False, "area")]
    kinds = active["kind"] if "kind" in active.columns else pd.Series("CHA", active.index)
    for kind, label in (
        ("SHA", "SHA: suspected hazardous areas"),
        ("CHA", "CHA: confirmed hazardous areas"),
    ):
        spec = _map_specs.layer_spec(
            active[kinds == kind],
            label=label,
            colour=COLOURS[kind],
            tooltip=["hazard_id", "kind", "municipality"],
            tolerance_m=tolerance_m,
            fill_opacity=0.35 if kind == "CHA" else 0.25,
            dash=None if kind == "CHA" else "6 4",
        )
        out.append((spec, True, "area"))
    return out


def _release_specs(releases, tolerance_m: float) -> list:
    """Draw the released land, one layer per method."""
    if not _present(releases) or "method" not in releases.columns:
        return []
    out = []
    for method, label in _RELEASE_LABELS.items():
        spec = _map_specs.layer_spec(
            releases[releases["method"] == method],
            label=label,
            colour=COLOURS[method],
            tooltip=["release_id", "method", "operator", "date"],
            tolerance_m=tolerance_m,
            fill_opacity=0.3,
        )
        out.append((spec, True, "area"))
    return out


def _ring_specs(rings, tolerance_m: float) -> list:
    """Draw the fade-out rings, when given."""
    if not _present(rings):
        return []
    spec = _map_specs.layer_spec(
        rings,
        label="Fade-out rings (released by the 25 m rule)",
        colour=COLOURS["fadeout"],
        tooltip=[c for c in ("cluster_id", "area_m2") if c in rings.columns],
        tolerance_m=tolerance_m,
        fill_opacity=0.4,
    )
    return [(spec, True, "area")]


def _footprint_specs(footprints, tolerance_m: float) -> list:
    """Draw the strike footprints, when given."""
    if not _present(footprints):
        return []
    spec = _map_specs.layer_spec(
        footprints,
        label="Strike footprints",
        colour=COLOURS["strikes"],
        tooltip=["strike_id", "munition", "date"],
        tolerance_m=tolerance_m,
        fill_opacity=0.1,
        weight=1.5,
        dash="3 3",
    )
    return [(spec, True, "area")]


def _evidence_specs(evidence, thresholds: tuple[int, int]) -> list:
    """Draw the evidence points.

    Clustered above the first threshold, counted on a grid above the second.
    """
    if not _present(evidence):
        return []
    cluster_threshold, grid_threshold = thresholds
    spec = _map_specs.layer_spec(
        evidence,
        label="Evidence points",
        colour=COLOURS["evidence"],
        tooltip=["evidence_id", "item", "ordnance"],
        tolerance_m=0.0,
        fill_opacity=0.8,
        weight=1.0,
        cluster=len(evidence) > cluster_threshold,
        grid=len(evidence) > grid_threshold,
    )
    return [(spec, True, "point")]


def _unsupported_specs(unsupported, tolerance_m: float) -> list:
    """Draw the land of the active hazards that no evidence supports (issue 17), if given."""
    if not _present(unsupported):
        return []
    spec = _map_specs.layer_spec(
        unsupported,
        label="Evidence audit: land no evidence supports",
        colour="#ffd700",
        tooltip=[c for c in ("hazard_id", "kind", "unsupported_m2") if c in unsupported.columns],
        tolerance_m=tolerance_m,
        fill_opacity=0.25,
        weight=1.0,
        dash="6 4",
    )
    return [(spec, False, "area")]


def _risk_specs(risk, tolerance_m: float) -> list:
    """Draw the tolerable risk by municipality, one layer per status (issue 18)."""
    from kosovo_cmr.outputs.charts import RISK_COLOURS

    if not _present(risk) or "status" not in risk.columns:
        return []
    out = []
    for status, colour in RISK_COLOURS.items():
        spec = _map_specs.layer_spec(
            risk[risk["status"] == status],
            label=f"Tolerable risk 2030: {status}",
            colour=colour,
            tooltip=["municipality", "status", "free_of_risk_year", "years_since_last_incident"],
            tolerance_m=max(tolerance_m, 5.0),
            fill_opacity=0.3,
            weight=0.8,
            context=True,
        )
        out.append((spec, True, "area"))
    return out


def _unclassified_specs(hazards, tolerance_m: float) -> list:
    """Issue 15: open hazards never classified CHA or SHA (recorded before 2022), drawn too."""
    if not _present(hazards) or "kind" not in hazards.columns:
        return []
    status = hazards["status"] if "status" in hazards.columns else None
    active = hazards if status is None else hazards[status.fillna("active") == "active"]
    mine = active[active["kind"] == "unclassified"]
    if not len(mine):
        return []
    spec = _map_specs.layer_spec(
        mine,
        label="Unclassified hazardous areas (neither CHA nor SHA)",
        colour=COLOURS["CHA"],
        tooltip=["hazard_id", "kind", "municipality"],
        tolerance_m=tolerance_m,
        fill_opacity=0.3,
        dash="2 2",
    )
    return [(spec, True, "area")]


def _specs(layers, *, tolerance_m, thresholds, rings, footprints) -> list:
    """Return (spec, show, legend swatch kind) per map layer, bottom to top."""
    out = (
        _boundary_specs(layers.get("boundaries"), tolerance_m)
        + _risk_specs(layers.get("tolerable_risk"), tolerance_m)
        + _hazard_specs(layers.get("hazards"), tolerance_m)
        + _release_specs(layers.get("releases"), tolerance_m)
        + _ring_specs(rings, tolerance_m)
        + _footprint_specs(footprints, tolerance_m)
        + _evidence_specs(layers.get("evidence"), thresholds)
        + _unsupported_specs(layers.get("unsupported_land"), tolerance_m)  # issue 17
        + _unclassified_specs(layers.get("hazards"), tolerance_m)  # issue 15
    )
    return [entry for entry in out if entry[0] is not None]


# --- the folium map ------------------------------------------------------------------------------


def _check_layers(layers: dict, *, fadeout_rings, strike_footprints) -> dict:
    """Refuse anything but GeoDataFrames with a CRS (the layers and the derived ones)."""
    if not isinstance(layers, dict):
        raise InputError(
            "interactive_map needs a dict of GeoDataFrames (or a store, deprecated), "
            f"got {type(layers).__name__}"
        )
    derived = {"fadeout_rings": fadeout_rings, "strike_footprints": strike_footprints}
    for name, gdf in [*layers.items(), *derived.items()]:
        if gdf is None and name in derived:
            continue
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(f"layer {name!r} is not a GeoDataFrame")
        require_crs(gdf, name=f"layer {name!r}")
    return dict(layers)


def _is_store(obj) -> bool:
    return not isinstance(obj, dict) and hasattr(obj, "read") and hasattr(obj, "layers")


def _base_map(*, offline: bool, title: str):
    """Return a map of Kosovo with no layer yet, on a page titled ``title``.

    OpenStreetMap tiles unless offline.
    """
    import folium

    Page = _map_runtime.elements()[4]
    m = folium.Map(
        location=[42.58, 20.9],
        zoom_start=9,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,  # our layers use a canvas of their own (see _map_runtime)
    )
    Page(title).add_child(m)
    m.options["maxZoom"] = 19  # without tiles Leaflet has no zoom limit; clustering needs one
    m.default_js = [("leaflet", _offline.ASSETS["leaflet"])]
    m.default_css = [("leaflet_css", _offline.ASSETS["leaflet_css"])]
    if not offline:
        folium.TileLayer(
            "OpenStreetMap",
            name="OpenStreetMap",
            attr='&copy; <a href="https://www.openstreetmap.org/copyright">'
            "OpenStreetMap</a> contributors",
        ).add_to(m)
    return m


def _add_layers(m, specs: list, *, title: str, synthetic: bool) -> None:
    """Add the runtime, one compact layer per spec, the legend and the synthetic banner."""
    _, Runtime, CompactLayer, Overlay, _ = _map_runtime.elements()
    Runtime(cluster=any(spec["cluster"] for spec, _, _ in specs)).add_to(m)
    legend = []
    for spec, show, swatch in specs:
        CompactLayer(spec, show=show).add_to(m)
        legend.append((spec["name"], spec["style"]["color"], swatch))
    banner = f'<div class="kcmr-banner">{html.escape(_BANNER)}</div>' if synthetic else ""
    legend_html = _map_runtime.legend_html(legend[::-1], title)
    Overlay(legend_html=legend_html, banner_html=banner).add_to(m)


def _add_controls(m) -> None:
    """Add full screen, the measuring tool (metres, hectares) and the layer control."""
    import folium
    from folium.plugins import Fullscreen, MeasureControl

    fullscreen = Fullscreen(position="topleft")
    fullscreen.default_js = [("fullscreen", _offline.ASSETS["fullscreen"])]
    fullscreen.default_css = [("fullscreen_css", _offline.ASSETS["fullscreen_css"])]
    fullscreen.add_to(m)
    measure = MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
    )
    measure.default_js = [("measure", _offline.ASSETS["measure"])]
    measure.default_css = [("measure_css", _offline.ASSETS["measure_css"])]
    measure.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)


def _fit_bounds(m, shown: list[gpd.GeoDataFrame]) -> None:
    bounds = [gdf.to_crs(4326).total_bounds for gdf in shown if (~gdf.geometry.is_empty).any()]
    bounds = [b for b in bounds if np.isfinite(b).all()]
    if bounds:
        b = np.array(bounds)
        m.fit_bounds([[b[:, 1].min(), b[:, 0].min()], [b[:, 3].max(), b[:, 2].max()]])


def interactive_map(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    fadeout_rings: gpd.GeoDataFrame | None = None,
    strike_footprints: gpd.GeoDataFrame | None = None,
    offline: bool = False,
    title: str = "Cluster munition remnants - Kosovo",
    tolerance_m: float = SIMPLIFY_TOLERANCE_M,
    cluster_threshold: int = CLUSTER_THRESHOLD,
    grid_threshold: int = GRID_THRESHOLD,
    assets_dir: str | os.PathLike | None = None,
    basemap=None,
):
    """Draw layers on an interactive folium map.

    The map shows what it is given and computes nothing: to draw a store with its
    fade-out rings and strike footprints, use
    :func:`kosovo_cmr.workflows.maps.map_from_store`.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Layers by name: ``hazards``, ``evidence``, ``releases``, ``boundaries`` (and
        ``strikes``, whose points count for the extent and the banner; they are drawn as
        ``strike_footprints``); each with a CRS. Passing a store instead is deprecated
        (0.1 API): it warns and hands the store to
        :func:`~kosovo_cmr.workflows.maps.map_from_store`.
    fadeout_rings : GeoDataFrame, optional
        Fade-out rings to show (:attr:`kosovo_cmr.analysis.fadeout.ImpactResult.rings`);
        no ring layer without them.
    strike_footprints : GeoDataFrame, optional
        Strike footprints to show (:func:`kosovo_cmr.analysis.strikes.strike_footprints`);
        no footprint layer without them.
    offline : bool, default False
        Put every script and stylesheet in the page and leave the tile layer out, so
        that the saved page makes no network request (the files come with the
        folium-offline package, see :mod:`kosovo_cmr.outputs._offline`). Online maps
        use OpenStreetMap tiles, and say so on the page when they cannot load.
    title : str, optional
        The page's and the legend's title.
    tolerance_m : float, default :data:`SIMPLIFY_TOLERANCE_M`
        Simplification tolerance in metres (metric CRS, Douglas-Peucker); 0 keeps
        every vertex. Displayed shapes stay within ``tolerance_m`` + 0.07 m of the
        data (within 1 m up to :data:`MAX_SIMPLIFY_DEVIATION_M`).
    cluster_threshold : int, default :data:`CLUSTER_THRESHOLD`
        Cluster the evidence points when there are more than this many.
    grid_threshold : int, default :data:`GRID_THRESHOLD`
        Above this many evidence points, draw counts on a grid until few are in view.
    assets_dir : path, optional
        Ignored, with a deprecation warning: the web assets come from the
        folium-offline package since 0.2 (it named a folder of npm packages).
    basemap : kosovo_cmr.outputs.basemap.RasterImage, optional
        Imagery on a Web Mercator grid (EPSG:3857), drawn under every layer and embedded
        in the page, so the offline map shows it too; credited in the layer control and
        the attribution (see :func:`kosovo_cmr.workflows.maps.basemap_image`).

    Returns
    -------
    folium.Map

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a layer is not a GeoDataFrame; :class:`~kosovo_cmr.errors.CRSError` if one
        has no CRS.
    """
    if assets_dir is not None:
        _deprecated.warn(
            "interactive_map(assets_dir=...) is ignored: the maps' scripts come from the "
            "folium-offline package"
        )
    options = dict(
        offline=offline,
        title=title,
        tolerance_m=tolerance_m,
        cluster_threshold=cluster_threshold,
        grid_threshold=grid_threshold,
    )
    if _is_store(layers):
        # 0.1 API, gone in 0.3: the workflow reads the store and computes what the map shows
        _deprecated.warn(
            "interactive_map(store) is deprecated: use "
            "kosovo_cmr.workflows.maps.map_from_store(store), which computes the fade-out "
            "rings and strike footprints"
        )
        map_from_store = _deprecated.resolve("kosovo_cmr.workflows.maps:map_from_store")
        return map_from_store(
            layers, fadeout_rings=fadeout_rings, strike_footprints=strike_footprints, **options
        )
    layers = _check_layers(layers, fadeout_rings=fadeout_rings, strike_footprints=strike_footprints)
    specs = _specs(
        layers,
        tolerance_m=tolerance_m,
        thresholds=(cluster_threshold, grid_threshold),
        rings=fadeout_rings,
        footprints=strike_footprints,
    )
    shown = [gdf for gdf in (*layers.values(), fadeout_rings, strike_footprints) if _present(gdf)]
    m = _base_map(offline=offline, title=title)
    if basemap is not None:
        add_basemap(m, basemap)
    _add_layers(m, specs, title=title, synthetic=any(_is_synthetic(gdf) for gdf in shown))
    _add_controls(m)
    _fit_bounds(m, shown)
    m.kcmr_offline = bool(offline)
    if offline:
        _map_runtime.inline_assets(m)
    return m


def save_map(m, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write a map to one HTML file (through a temporary file beside it, renamed).

    Parameters
    ----------
    m : folium.Map
        A map from :func:`interactive_map`.
    path : path
        The HTML file to write.
    overwrite : bool, default False
        Replace ``path`` if it exists.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``path`` exists and ``overwrite`` is false.
    """
    with atomic_output(path, overwrite=overwrite) as tmp:
        root = m.get_root()
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(root.render())
    return Path(path)
