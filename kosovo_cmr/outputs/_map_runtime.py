"""The browser side of the interactive maps, and the folium elements that put it on a page.

:data:`RUNTIME_JS` decodes a layer spec (see :mod:`kosovo_cmr.outputs.maps`) and builds
its Leaflet layers, with popups and tooltips made of DOM nodes filled with
``textContent``, never HTML strings; :data:`RUNTIME_CSS` styles the banner, the legend and
the popups. :func:`elements` returns the folium element classes that write the runtime,
each layer, the legend and the banner into the page as raw text (folium is imported
lazily), and :func:`inline_assets` replaces every script and stylesheet link by an
inline copy for offline maps (:mod:`kosovo_cmr.outputs._offline`).
"""

from __future__ import annotations

import html
import json

from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs import _offline

#: The JavaScript runtime: a global ``kcmr`` whose ``decode`` reads a coordinate string
#: and ``layer`` builds a spec's Leaflet layers. Popups and tooltips are DOM trees filled
#: with textContent, never HTML strings.
RUNTIME_JS = r"""
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

#: The stylesheet of the banner, the legend and the popups.
RUNTIME_CSS = """
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


def json_for_script(value) -> str:
    """JSON that cannot end its ``<script>`` element or open HTML: ``<>&`` escaped."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def elements():
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
                Raw(f"<style>{RUNTIME_CSS}</style>\n<script>{RUNTIME_JS}</script>"),
                name=self.get_name(),
            )

    class CompactLayer(Layer):
        def __init__(self, spec: dict, *, show: bool = True):
            # the layer control writes names with innerHTML, and folium's template is
            # parsed again by Jinja: escape the HTML and neutralise braces
            name = html.escape(spec["name"]).replace("{", "&#123;").replace("}", "&#125;")
            super().__init__(name=name, overlay=True, show=show)
            self._name = "CompactLayer"
            self.spec_json = json_for_script(spec)

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
            self.legend_json = json_for_script(legend_html)

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


def legend_html(entries: list[tuple[str, str, str]], title: str) -> str:
    """Return the legend's HTML: the escaped title, then (label, colour, swatch) rows."""
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


def _walk(element):
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def inline_assets(m, *, root=None) -> None:
    """Replace every element's script/stylesheet links by inline copies of the files."""
    Raw = elements()[0]

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
