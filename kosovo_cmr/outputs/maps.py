r"""Interactive web maps of the layers (folium / Leaflet): escaped, light, and offline-able.

:func:`interactive_map` draws the store's layers on a :class:`folium.Map`: CHAs and SHAs
in distinct colours, released land by method, evidence points (clustered when many),
strike footprints, municipal and region boundaries and, when the fade-out module is
there, the fade-out rings; with a layer control, a legend, a scale bar, a measuring tool,
a full-screen button, popups and tooltips (key attributes and geodesic areas), and a
banner whenever a shown feature is synthetic.

Safe by construction
    No attribute value, column name or layer name is ever written into the page as HTML.
    Feature data travel as JSON inside a script (``<``, ``>`` and ``&`` escaped as
    ``\u003c``...), and popups and tooltips are built in the browser with
    ``textContent``; layer names and legend text are HTML-escaped in Python. An attribute
    such as ``<img src=x onerror=alert(1)>`` shows as text.

Light
    Each layer is one compact block: geometries are simplified in the metric CRS with a
    tolerance of :data:`SIMPLIFY_TOLERANCE_M` (0.5 m; any shape that then strays more
    than 0.9 m, or is no longer valid, is simplified less), rounded to 1e-6 degree (at most
    0.06 m in Kosovo) and delta-encoded as a polyline string, so every displayed shape
    lies within 1 m of the stored geometry; the browser decodes it.
    ``benchmarks/map_size.py`` compares it with plain ``folium.GeoJson``.

Offline
    With ``offline=True`` the page has no tile layer and every script and stylesheet is
    inlined from npm packages installed outside the repository (see
    :mod:`kosovo_cmr.outputs._offline`): one HTML file that makes no network request. Online maps
    show OpenStreetMap tiles with their attribution.
"""

from __future__ import annotations

import html
import json
import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr import settings
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError, KcmrError
from kosovo_cmr.outputs import _offline

log = logging.getLogger(__name__)

__all__ = [
    "SIMPLIFY_TOLERANCE_M",
    "MAX_SIMPLIFY_DEVIATION_M",
    "COLOURS",
    "interactive_map",
    "save_map",
    "encode_coordinates",
    "decode_coordinates",
    "demo_step",
]

#: Tolerance (metres, in the metric CRS) of the simplification applied before display.
SIMPLIFY_TOLERANCE_M: float = 0.5

#: Largest distance (metres) a simplified shape may stray from its data; with the
#: rounding below (at most 0.06 m) every displayed shape stays within 1 m.
MAX_SIMPLIFY_DEVIATION_M: float = 0.9

#: Coordinates are written as integers of this many degrees (1e-6 deg: <= 0.06 m here).
COORDINATE_PRECISION_DEG: float = 1e-6

#: The fade-out rules whose difference the rings show (old, new): 50 m -> 25 m in 2024.
FADEOUT_RULES: tuple[str, str] = ("kosovo-pre-2024", "kosovo-nmas-2024")

#: Evidence layers with more points than this are clustered (Leaflet.markercluster).
CLUSTER_THRESHOLD: int = 200

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


# --- compact coordinate encoding -----------------------------------------------------------


def encode_coordinates(lonlat: np.ndarray) -> str:
    """Encode (lon, lat) pairs as one delta polyline string at 1e-6 degree.

    Values are written latitude first, each the difference from the previous pair,
    zig-zag and base-32 encoded in the characters ``?`` to ``~`` (the polyline
    algorithm, precision 6). The text holds no ``<``, ``&`` or quote.

    Parameters
    ----------
    lonlat : numpy.ndarray, shape (n, 2)
        Longitudes and latitudes in degrees.

    Returns
    -------
    str

    Examples
    --------
    >>> s = encode_coordinates(np.array([[21.0, 42.5], [21.000001, 42.5]]))
    >>> decode_coordinates(s).tolist()
    [[21.0, 42.5], [21.000001, 42.5]]
    """
    lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    if len(lonlat) == 0:
        return ""
    ints = np.round(lonlat[:, ::-1] / COORDINATE_PRECISION_DEG).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    zig = ((deltas << 1) ^ (deltas >> 63)).astype(np.uint64)
    chunks = np.stack([(zig >> np.uint64(5 * k)) & np.uint64(31) for k in range(8)], axis=1)
    bits = np.maximum(1, np.ceil(np.log2(zig.astype(float) + 1) / 5)).astype(int)
    k = np.arange(8)
    valid = k[None, :] < bits[:, None]
    more = k[None, :] < (bits - 1)[:, None]
    chars = (chunks + np.uint64(63) + more * np.uint64(32)).astype(np.uint8)
    return chars[valid].tobytes().decode("ascii")


def decode_coordinates(text: str) -> np.ndarray:
    """Decode :func:`encode_coordinates` output back to (lon, lat) pairs (shape (n, 2))."""
    values, shift, result = [], 0, 0
    for char in text.encode("ascii"):
        b = char - 63
        result |= (b & 31) << shift
        shift += 5
        if b < 32:
            values.append(~(result >> 1) if result & 1 else result >> 1)
            result, shift = 0, 0
    ints = np.cumsum(np.asarray(values, dtype=np.int64).reshape(-1, 2), axis=0)
    return (ints[:, ::-1] * COORDINATE_PRECISION_DEG).round(6)


# --- from layers to compact specs ------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        return "" if pd.isna(stamp) else stamp.strftime("%Y-%m-%d")
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def _prepare_geometry(
    gdf: gpd.GeoDataFrame, tolerance_m: float, *, context: bool = False
) -> gpd.GeoSeries:
    """Simplify in the metric CRS and return the geometry in EPSG:4326.

    Douglas-Peucker keeps each ring within ``tolerance_m`` of its original, but may
    collapse a thin part or a ring, so each result is measured (Hausdorff distance to the
    original, metres): one that strays past :data:`MAX_SIMPLIFY_DEVIATION_M` is
    simplified again, topology preserved, at a quarter of the tolerance, and kept
    unsimplified if it still strays. ``context`` layers (the boundaries, drawn at 5 m)
    are simplified with topology preserved and not measured.
    """
    geoms = gdf.geometry
    if tolerance_m > 0 and (geoms.geom_type.isin(["Polygon", "MultiPolygon"])).any():
        metric = np.asarray(geoms.to_crs(settings.metric_crs).values, dtype=object)
        if context:
            simplified = shapely.simplify(metric, tolerance_m, preserve_topology=True)
            return gpd.GeoSeries(simplified, index=gdf.index, crs=settings.metric_crs).to_crs(4326)
        simplified = shapely.simplify(metric, tolerance_m, preserve_topology=False)
        limit = max(MAX_SIMPLIFY_DEVIATION_M, tolerance_m)
        far = (shapely.hausdorff_distance(metric, simplified) > limit) | ~shapely.is_valid(
            simplified
        )
        if far.any():
            finer = shapely.simplify(metric[far], tolerance_m / 4, preserve_topology=True)
            still = shapely.hausdorff_distance(metric[far], finer) > limit
            simplified[far] = np.where(still, metric[far], finer)
        geoms = gpd.GeoSeries(simplified, index=gdf.index, crs=settings.metric_crs)
    return geoms.to_crs(4326)


def _polygon_spec(geoms: gpd.GeoSeries) -> dict:
    """Encode polygons: one coordinate string plus polygon/ring/vertex counts."""
    arr = np.asarray(geoms.values, dtype=object)
    parts, feature_of_part = shapely.get_parts(arr, return_index=True)
    polys_per_feature = np.bincount(feature_of_part, minlength=len(arr))
    rings, poly_of_ring = shapely.get_rings(parts, return_index=True)
    rings_per_poly = np.bincount(poly_of_ring, minlength=len(parts))
    counts = shapely.get_num_coordinates(rings)
    coords = shapely.get_coordinates(rings)
    keep = np.ones(len(coords), dtype=bool)
    keep[np.cumsum(counts) - 1] = False  # drop each ring's closing vertex: Leaflet closes it
    return {
        "geom": "polygon",
        "coords": encode_coordinates(coords[keep]),
        "polys": polys_per_feature.tolist(),
        "rings": rings_per_poly.tolist(),
        "verts": (counts - 1).tolist(),
    }


def _point_spec(geoms: gpd.GeoSeries) -> dict:
    coords = shapely.get_coordinates(np.asarray(geoms.values, dtype=object))
    return {"geom": "point", "coords": encode_coordinates(coords)}


def _layer_spec(
    gdf: gpd.GeoDataFrame,
    *,
    label: str,
    colour: str,
    tooltip: list[str],
    tolerance_m: float,
    fill_opacity: float = 0.35,
    weight: float = 2.0,
    dash: str | None = None,
    cluster: bool = False,
    context: bool = False,
) -> dict | None:
    present = gdf[~gdf.geometry.isna() & ~gdf.geometry.is_empty]
    if present.empty:
        return None
    geoms = _prepare_geometry(present, tolerance_m, context=context)
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    spec = _polygon_spec(geoms) if polygonal else _point_spec(geoms)
    columns = [c for c in present.columns if c != present.geometry.name]
    rows = [[_text(v) for v in row] for row in present[columns].itertuples(index=False)]
    if polygonal:
        areas = geodesic_area(present.geometry)
        columns.append("area_m2 (geodesic)")
        for row, area in zip(rows, areas, strict=True):
            row.append(f"{area:,.0f}")
    spec.update(
        name=label,
        cols=[str(c) for c in columns],
        rows=rows,
        tip=[columns.index(c) for c in tooltip if c in columns],
        style={
            "color": colour,
            "fillColor": colour,
            "weight": weight,
            "fillOpacity": fill_opacity,
            "opacity": 0.9,
            "dashArray": dash,
        },
        cluster=bool(cluster),
    )
    return spec


def _is_synthetic(gdf: gpd.GeoDataFrame) -> bool:
    return "synthetic" in gdf.columns and bool(gdf["synthetic"].fillna(False).astype(bool).any())


def _strike_footprints(strikes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Strike footprints as ovals (length along the bearing), built in the metric CRS."""
    metric = strikes.to_crs(settings.metric_crs)
    ovals = []
    for row in metric.itertuples(index=False):
        centre = getattr(row, metric.geometry.name)
        length = getattr(row, "length_m", None)
        width = getattr(row, "width_m", None)
        bearing = getattr(row, "bearing_deg", None)
        if centre is None or centre.is_empty:
            ovals.append(centre)
            continue
        if not (length and width and length == length and width == width):
            ovals.append(centre.buffer(10.0))  # size unknown: a 10 m marker disc
            continue
        circle = shapely.Point(0, 0).buffer(1.0, quad_segs=16)
        oval = shapely.affinity.scale(circle, width / 2.0, length / 2.0, origin=(0, 0))
        oval = shapely.affinity.rotate(oval, -(bearing or 0.0), origin=(0, 0))
        ovals.append(shapely.affinity.translate(oval, centre.x, centre.y))
    return metric.set_geometry(ovals, crs=settings.metric_crs).to_crs(4326)


def _fadeout_rings(evidence: gpd.GeoDataFrame):
    """Fade-out rings from :mod:`kosovo_cmr.analysis.fadeout`, or None when it is not available."""
    try:
        from kosovo_cmr.analysis import fadeout
    except ImportError:
        return None
    try:
        impact = fadeout.buffer_impact(evidence, *FADEOUT_RULES)
        rings = impact.rings
    except (KcmrError, TypeError, ValueError, KeyError, AttributeError) as exc:
        log.info("fade-out rings left out: %s", exc)
        return None
    rings = rings[~rings.geometry.isna() & ~rings.geometry.is_empty]
    if len(rings) == 0:
        return None
    if _is_synthetic(evidence):
        rings = rings.assign(synthetic=True)
    return rings


def _read_layers(store_or_layers) -> dict[str, gpd.GeoDataFrame]:
    if isinstance(store_or_layers, dict):
        layers = dict(store_or_layers)
    elif hasattr(store_or_layers, "read") and hasattr(store_or_layers, "layers"):
        layers = {name: store_or_layers.read(name) for name in store_or_layers.layers()}
    else:
        raise InputError(
            "interactive_map needs a store or a dict of GeoDataFrames, "
            f"got {type(store_or_layers).__name__}"
        )
    for name, gdf in layers.items():
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(f"layer {name!r} is not a GeoDataFrame")
        require_crs(gdf, name=f"layer {name!r}")
    return layers


def _specs(layers: dict[str, gpd.GeoDataFrame], *, tolerance_m, cluster_threshold, fadeout):
    """Return (spec, show, legend swatch kind) per map layer, bottom to top."""
    out = []
    tol = tolerance_m

    def add(spec, show=True, swatch="area"):
        if spec is not None:
            out.append((spec, show, swatch))

    boundaries = layers.get("boundaries")
    if boundaries is not None and len(boundaries):
        if "region" in boundaries.columns:
            from kosovo_cmr.boundaries import regions_from_municipalities

            regions = regions_from_municipalities(boundaries)
            add(
                _layer_spec(
                    regions,
                    label="KMAC regions",
                    colour=COLOURS["regions"],
                    tooltip=["region"],
                    tolerance_m=max(tol, 5.0),
                    context=True,
                    fill_opacity=0.0,
                    weight=3.0,
                ),
                swatch="line",
            )
        add(
            _layer_spec(
                boundaries,
                label="Municipalities",
                colour=COLOURS["municipalities"],
                tooltip=["municipality", "region"],
                tolerance_m=max(tol, 5.0),
                context=True,
                fill_opacity=0.02,
                weight=1.0,
                dash="4 3",
            ),
            swatch="line",
        )
    hazards = layers.get("hazards")
    if hazards is not None and len(hazards):
        status = hazards["status"] if "status" in hazards.columns else None
        is_active = (
            pd.Series(True, index=hazards.index)
            if status is None
            else status.fillna("active") == "active"
        )
        active, closed = hazards[is_active], hazards[~is_active]
        add(
            _layer_spec(
                closed,
                label="Closed hazards (released or removed)",
                colour=COLOURS["closed"],
                tooltip=["hazard_id", "status"],
                tolerance_m=tol,
                fill_opacity=0.15,
                dash="2 4",
            ),
            show=False,
        )
        kinds = active["kind"] if "kind" in active.columns else pd.Series("CHA", active.index)
        for kind, label in (
            ("SHA", "SHA: suspected hazardous areas"),
            ("CHA", "CHA: confirmed hazardous areas"),
        ):
            add(
                _layer_spec(
                    active[kinds == kind],
                    label=label,
                    colour=COLOURS[kind],
                    tooltip=["hazard_id", "kind", "municipality"],
                    tolerance_m=tol,
                    fill_opacity=0.35 if kind == "CHA" else 0.25,
                    dash=None if kind == "CHA" else "6 4",
                )
            )
    releases = layers.get("releases")
    if releases is not None and len(releases) and "method" in releases.columns:
        for method, label in _RELEASE_LABELS.items():
            add(
                _layer_spec(
                    releases[releases["method"] == method],
                    label=label,
                    colour=COLOURS[method],
                    tooltip=["release_id", "method", "operator", "date"],
                    tolerance_m=tol,
                    fill_opacity=0.3,
                )
            )
    if fadeout is not None and len(fadeout):
        add(
            _layer_spec(
                fadeout,
                label="Fade-out rings (released by the 25 m rule)",
                colour=COLOURS["fadeout"],
                tooltip=[c for c in ("cluster_id", "area_m2") if c in fadeout.columns],
                tolerance_m=tol,
                fill_opacity=0.4,
            )
        )
    strikes = layers.get("strikes")
    if strikes is not None and len(strikes):
        add(
            _layer_spec(
                _strike_footprints(strikes),
                label="Strike footprints",
                colour=COLOURS["strikes"],
                tooltip=["strike_id", "munition", "date"],
                tolerance_m=tol,
                fill_opacity=0.1,
                weight=1.5,
                dash="3 3",
            )
        )
    evidence = layers.get("evidence")
    if evidence is not None and len(evidence):
        add(
            _layer_spec(
                evidence,
                label="Evidence points",
                colour=COLOURS["evidence"],
                tooltip=["evidence_id", "item", "ordnance"],
                tolerance_m=0.0,
                fill_opacity=0.8,
                weight=1.0,
                cluster=len(evidence) > cluster_threshold,
            ),
            swatch="point",
        )
    return out


# --- folium elements ---------------------------------------------------------------------------

# The browser side: decodes a layer spec and builds its Leaflet layers. Popups and
# tooltips are DOM trees filled with textContent, never HTML strings.
_RUNTIME_JS = r"""
var kcmr = (function () {
  function decode(s) {
    var out = [], i = 0, n = s.length, lat = 0, lng = 0;
    while (i < n) {
      var v = [0, 0];
      for (var j = 0; j < 2; j++) {
        var r = 0, sh = 0, b;
        do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
        v[j] = (r & 1) ? ~(r >> 1) : (r >> 1);
      }
      lat += v[0]; lng += v[1];
      out.push([lat / 1e6, lng / 1e6]);
    }
    return out;
  }
  function table(spec, row) {
    var t = document.createElement("table");
    t.className = "kcmr-popup";
    for (var c = 0; c < spec.cols.length; c++) {
      if (row[c] === "") continue;
      var tr = t.insertRow(), th = document.createElement("th"), td = tr.insertCell();
      th.textContent = spec.cols[c];
      tr.insertBefore(th, td);
      td.textContent = row[c];
    }
    return t;
  }
  function tip(spec, row) {
    var d = document.createElement("span");
    d.textContent = spec.tip.map(function (c) { return row[c]; })
      .filter(function (v) { return v !== ""; }).join(" \u00b7 ");
    return d;
  }
  function bind(layer, spec, k) {
    layer.bindPopup(function () { return table(spec, spec.rows[k]); }, {maxWidth: 360});
    if (spec.tip.length) layer.bindTooltip(function () { return tip(spec, spec.rows[k]); },
                                           {sticky: true});
    layer.feature = {properties: {index: k}};
  }
  function layer(spec) {
    var group = spec.cluster ? L.markerClusterGroup({disableClusteringAtZoom: 17,
                                                     chunkedLoading: true})
                             : L.featureGroup();
    var pts = decode(spec.coords), style = spec.style, k, layers = [];
    if (spec.geom === "point") {
      for (k = 0; k < pts.length; k++) {
        var m = L.circleMarker(pts[k], L.extend({radius: 5}, style));
        bind(m, spec, k); layers.push(m);
      }
    } else {
      var p = 0, r = 0, at = 0;
      for (k = 0; k < spec.polys.length; k++) {
        var polys = [];
        for (var q = 0; q < spec.polys[k]; q++, p++) {
          var rings = [];
          for (var g = 0; g < spec.rings[p]; g++, r++) {
            rings.push(pts.slice(at, at + spec.verts[r])); at += spec.verts[r];
          }
          polys.push(rings);
        }
        var poly = L.polygon(polys.length === 1 ? polys[0] : polys, style);
        bind(poly, spec, k); layers.push(poly);
      }
    }
    if (spec.cluster) group.addLayers(layers);
    else for (k = 0; k < layers.length; k++) group.addLayer(layers[k]);
    return group;
  }
  return {decode: decode, layer: layer};
})();
"""

_RUNTIME_CSS = """
.kcmr-banner {position: absolute; top: 0; left: 56px; white-space: nowrap;
  z-index: 1000; background: #b10026; color: #fff; font: bold 14px sans-serif;
  padding: 4px 14px; border-radius: 0 0 6px 6px; pointer-events: none;
  letter-spacing: 0.04em;}
.kcmr-legend {background: rgba(255,255,255,0.92); padding: 6px 8px; font: 12px sans-serif;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); line-height: 18px;}
.kcmr-legend h4 {margin: 0 0 4px; font-size: 13px;}
.kcmr-legend i {display: inline-block; width: 16px; height: 12px; margin-right: 6px;
  vertical-align: middle; border: 2px solid; box-sizing: border-box;}
.kcmr-legend i.line {height: 0; border-width: 2px 0 0 0;}
.kcmr-legend i.point {width: 10px; height: 10px; border-radius: 50%; margin: 0 9px 0 3px;}
table.kcmr-popup {border-collapse: collapse; font: 12px sans-serif;}
table.kcmr-popup th {text-align: left; padding: 1px 8px 1px 0; color: #444;
  font-weight: 600; vertical-align: top;}
table.kcmr-popup td {padding: 1px 0;}
.folium-map {background: #f2efe9;}
.leaflet-control-layers-expanded {font: 12px/1.4 sans-serif;}
"""


def _json_for_script(value) -> str:
    """JSON that cannot end its ``<script>`` element or open HTML: ``<>&`` escaped."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _elements():
    """Build the folium element classes (folium is imported lazily).

    Everything this module generates reaches the page through :class:`Raw` elements,
    whose text is written as is. (branca parses the output of a ``MacroElement`` macro
    again as a Jinja template, which would evaluate a ``{{ ... }}`` in an attribute
    value and cost seconds on a 10 MB page.)
    """
    from branca.element import Element, MacroElement
    from folium.elements import JSCSSMixin
    from folium.map import Layer

    class Raw(Element):
        def __init__(self, text: str):
            super().__init__()
            self._name = "KcmrRaw"
            self.text = text

        def render(self, **kwargs):
            return self.text

    class Runtime(JSCSSMixin, MacroElement):
        def __init__(self, *, cluster: bool):
            super().__init__()
            self._name = "KcmrRuntime"
            self.default_js = [("markercluster", _offline.ASSETS["markercluster"][1])] * cluster
            self.default_css = (
                [
                    ("markercluster_css", _offline.ASSETS["markercluster_css"][1]),
                    ("markercluster_default_css", _offline.ASSETS["markercluster_default_css"][1]),
                ]
                if cluster
                else []
            )

        def render(self, **kwargs):
            header = self.get_root().header
            JSCSSMixin.render(self, **kwargs)  # the plugin links first (or nothing offline)
            header.add_child(
                Raw(f"<style>{_RUNTIME_CSS}</style>\n<script>{_RUNTIME_JS}</script>"),
                name=self.get_name(),
            )

    class CompactLayer(Layer):
        def __init__(self, spec: dict, *, show: bool = True):
            # the layer control writes names with innerHTML, and folium's template is
            # parsed again by Jinja: escape the HTML and neutralise braces
            name = html.escape(spec["name"]).replace("{", "&#123;").replace("}", "&#125;")
            super().__init__(name=name, overlay=True, show=show)
            self._name = "CompactLayer"
            self.spec_json = _json_for_script(spec)

        def render(self, **kwargs):
            script = f"var {self.get_name()} = kcmr.layer({self.spec_json});"
            self.get_root().script.add_child(Raw(script), name=self.get_name())
            super().render(**kwargs)

    class Overlay(MacroElement):
        """The banner and the legend: HTML built here from escaped text only."""

        def __init__(self, *, legend_html: str, banner_html: str):
            super().__init__()
            self._name = "KcmrOverlay"
            self.banner = banner_html
            self.legend_json = _json_for_script(legend_html)

        def render(self, **kwargs):
            figure = self.get_root()
            name = self.get_name()
            figure.html.add_child(Raw(self.banner), name=name)
            figure.script.add_child(
                Raw(
                    f"var {name} = L.control({{position: 'bottomright'}});"
                    f"{name}.onAdd = function () {{"
                    "var d = L.DomUtil.create('div', 'kcmr-legend');"
                    f"d.innerHTML = {self.legend_json};"
                    "L.DomEvent.disableClickPropagation(d); return d; };"
                    f"{name}.addTo({self._parent.get_name()});"
                ),
                name=name,
            )

    return Raw, Runtime, CompactLayer, Overlay


def _legend_html(entries: list[tuple[str, str, str]], title: str) -> str:
    rows = [f"<h4>{html.escape(title)}</h4>"]
    for label, colour, swatch in entries:
        css = {"area": "", "line": "line", "point": "point"}[swatch]
        fill = f"background:{colour}66;" if swatch == "area" else ""
        if swatch == "point":
            fill = f"background:{colour};"
        rows.append(
            f'<div><i class="{css}" style="border-color:{colour};{fill}"></i>'
            f"{html.escape(label)}</div>"
        )
    return "".join(rows)


def interactive_map(
    store_or_layers,
    *,
    offline: bool = False,
    title: str = "Cluster munition remnants - Kosovo",
    tolerance_m: float = SIMPLIFY_TOLERANCE_M,
    cluster_threshold: int = CLUSTER_THRESHOLD,
    fadeout_rings: gpd.GeoDataFrame | None = None,
    assets_dir: str | os.PathLike | None = None,
):
    """Draw the layers on an interactive folium map.

    Parameters
    ----------
    store_or_layers : Store or dict of str to GeoDataFrame
        A store (every layer it holds is read) or layers by name: ``hazards``,
        ``evidence``, ``strikes``, ``releases``, ``boundaries``; each with a CRS.
    offline : bool, default False
        Inline every script and stylesheet and leave the tile layer out, so that the
        saved page makes no network request (needs the npm assets, see
        :mod:`kosovo_cmr.outputs._offline`). Online maps use OpenStreetMap tiles.
    title : str, optional
        The legend's title.
    tolerance_m : float, default :data:`SIMPLIFY_TOLERANCE_M`
        Simplification tolerance in metres (metric CRS, Douglas-Peucker); 0 keeps
        every vertex. Displayed shapes stay within max(``tolerance_m``,
        :data:`MAX_SIMPLIFY_DEVIATION_M`) + 0.06 m of the data.
    cluster_threshold : int, default :data:`CLUSTER_THRESHOLD`
        Cluster the evidence points when there are more than this many.
    fadeout_rings : GeoDataFrame, optional
        Fade-out rings to show. By default they are computed with
        ``kosovo_cmr.analysis.fadeout.buffer_impact`` from the evidence when that module is
        installed, and the layer is left out otherwise.
    assets_dir : path, optional
        Where the npm assets are (default :data:`kosovo_cmr.settings.web_assets_dir`).

    Returns
    -------
    folium.Map

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a layer is not a GeoDataFrame; :class:`~kosovo_cmr.errors.CRSError` if one
        has no CRS.
    kosovo_cmr.errors.MissingDependencyError
        If ``offline`` and the npm assets are not installed.
    """
    import folium
    from folium.plugins import Fullscreen, MeasureControl

    layers = _read_layers(store_or_layers)
    if fadeout_rings is None and "evidence" in layers and len(layers["evidence"]):
        fadeout_rings = _fadeout_rings(layers["evidence"])
    specs = _specs(
        layers, tolerance_m=tolerance_m, cluster_threshold=cluster_threshold, fadeout=fadeout_rings
    )
    shown = [gdf for gdf in layers.values() if len(gdf)]
    if fadeout_rings is not None:
        shown.append(fadeout_rings)
    synthetic = any(_is_synthetic(gdf) for gdf in shown)

    m = folium.Map(
        location=[42.58, 20.9],
        zoom_start=9,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    m.options["maxZoom"] = 19  # without tiles Leaflet has no zoom limit; clustering needs one
    m.default_js = [("leaflet", _offline.ASSETS["leaflet"][1])]
    m.default_css = [("leaflet_css", _offline.ASSETS["leaflet_css"][1])]
    if not offline:
        folium.TileLayer(
            "OpenStreetMap",
            name="OpenStreetMap",
            attr='&copy; <a href="https://www.openstreetmap.org/copyright">'
            "OpenStreetMap</a> contributors",
        ).add_to(m)

    Raw, Runtime, CompactLayer, Overlay = _elements()
    Runtime(cluster=any(spec["cluster"] for spec, _, _ in specs)).add_to(m)
    legend = []
    for spec, show, swatch in specs:
        CompactLayer(spec, show=show).add_to(m)
        legend.append((spec["name"], spec["style"]["color"], swatch))
    banner = f'<div class="kcmr-banner">{html.escape(_BANNER)}</div>' if synthetic else ""
    Overlay(legend_html=_legend_html(legend[::-1], title), banner_html=banner).add_to(m)

    fullscreen = Fullscreen(position="topleft")
    fullscreen.default_js = [("fullscreen", _offline.ASSETS["fullscreen"][1])]
    fullscreen.default_css = [("fullscreen_css", _offline.ASSETS["fullscreen_css"][1])]
    fullscreen.add_to(m)
    measure = MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
    )
    measure.default_js = [("measure", _offline.ASSETS["measure"][1])]
    measure.default_css = [("measure_css", _offline.ASSETS["measure_css"][1])]
    measure.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)

    bounds = [gdf.to_crs(4326).total_bounds for gdf in shown if (~gdf.geometry.is_empty).any()]
    bounds = [b for b in bounds if np.isfinite(b).all()]
    if bounds:
        b = np.array(bounds)
        m.fit_bounds([[b[:, 1].min(), b[:, 0].min()], [b[:, 3].max(), b[:, 2].max()]])
    m.kcmr_offline = bool(offline)
    if offline:
        _inline_assets(m, root=assets_dir)
    return m


def _walk(element):
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _inline_assets(m, *, root=None) -> None:
    """Replace every element's script/stylesheet links by inline copies of the files."""
    Raw = _elements()[0]

    js, css = [], []
    for element in _walk(m):
        for attr, names in (("default_js", js), ("default_css", css)):
            links = list(getattr(element, attr, []) or [])
            for name, url in links:
                if name not in _offline.ASSETS:
                    raise InputError(
                        f"offline map: no local copy of {name!r} ({url}); it cannot be inlined"
                    )
                if name not in names:
                    names.append(name)
            if links:
                setattr(element, attr, [])
    block = _offline.inline_block(js, css, root=root)
    m.get_root().header.add_child(Raw(block), name="kcmr_offline_assets", index=0)


def save_map(m, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write a map to one HTML file.

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
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    text = m.get_root().render()
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def demo_step(ctx) -> None:
    """Write the interactive maps (online, offline) and the field-map atlas (demo step)."""
    from kosovo_cmr.errors import MissingDependencyError
    from kosovo_cmr.outputs.fieldmap import write_atlas

    layers = {name: ctx.store.read(name) for name in ctx.store.layers()}
    online = save_map(interactive_map(layers), ctx.output("map.html"), overwrite=True)
    ctx.add_output("interactive map (OpenStreetMap tiles)", online)
    try:
        offline = save_map(
            interactive_map(layers, offline=True), ctx.output("map-offline.html"), overwrite=True
        )
        ctx.add_output("interactive map, offline (one file, no network)", offline)
    except MissingDependencyError as exc:
        ctx.summary.append(f"map-offline.html not written: {exc}")
    hazards = layers.get("hazards")
    if hazards is not None and len(hazards):
        active = hazards[hazards["status"] == "active"]
        atlas = write_atlas(active, ctx.output("fieldmaps.pdf"), layers=layers, overwrite=True)
        ctx.add_output(f"field-map atlas ({len(active)} sheets)", atlas)
