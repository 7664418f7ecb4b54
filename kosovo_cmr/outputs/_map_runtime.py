"""The browser side of the interactive maps, and the folium elements that put it on a page.

:data:`RUNTIME_JS` decodes a layer spec (see :mod:`kosovo_cmr.outputs.maps`) and builds
its Leaflet layers, with popups and tooltips made of DOM nodes filled with
``textContent``, never HTML strings; :data:`RUNTIME_CSS` styles the banner, the legend and
the popups, and :data:`NOTICE_JS` shows a message on the page when its scripts,
stylesheets or tiles cannot load. :func:`elements` returns the folium element classes
that write the page, the runtime, each layer, the legend and the banner as raw text
(folium is imported lazily), and :func:`inline_assets` puts a copy of every script and
stylesheet in the page for offline maps (:mod:`kosovo_cmr.outputs._offline`).
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
  function varints(s, signed) {
    var out = [], i = 0, n = s.length;
    while (i < n) {
      var r = 0, m = 1, b;
      do { b = s.charCodeAt(i++) - 63; r += (b & 31) * m; m *= 32; } while (b >= 32);
      out.push(signed ? ((r % 2) ? -(r + 1) / 2 : r / 2) : r);
    }
    return out;
  }
  function decode(s) {
    var v = varints(s, true), out = new Array(v.length / 2), lat = 0, lng = 0;
    for (var k = 0; k < v.length; k += 2) {
      lat += v[k]; lng += v[k + 1];
      out[k / 2] = [lat / 1e6, lng / 1e6];
    }
    return out;
  }
  function ints(s) { return varints(s, false); }
  function unfront(c) {  // front-coded texts: shared prefix lengths and the rest
    var n = ints(c.p), out = new Array(n.length), prev = "";
    for (var k = 0; k < n.length; k++) { prev = prev.slice(0, n[k]) + c.s[k]; out[k] = prev; }
    return out;
  }
  function rowOf(spec, k) {
    if (spec.rows) return spec.rows[k];
    if (!spec.codes) spec.codes = spec.columns.map(function (c) {
      if (c.p !== undefined) { c.v = unfront(c); return null; }
      return c.i === undefined ? null : ints(c.i); });
    return spec.columns.map(function (c, j) {
      return spec.codes[j] ? c.v[spec.codes[j][k]] : c.v[k]; });
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
    layer.bindPopup(function () { return table(spec, rowOf(spec, k)); }, {maxWidth: 360});
    if (spec.tip.length) layer.bindTooltip(function () { return tip(spec, rowOf(spec, k)); },
                                           {sticky: true});
    layer.feature = {properties: {index: k}};
  }
  // A layer of many points: counts on a grid of GRID px until at most LIMIT points are in
  // view, then the points in view; nothing is drawn for a point out of sight.
  var GRID = 64, LIMIT = 4000;
  function grid(spec) {
    var pts = decode(spec.coords), n = pts.length;
    var style = L.extend({renderer: canvas()}, spec.style);
    var wx = new Float64Array(n), wy = new Float64Array(n);
    for (var k = 0; k < n; k++) {
      var s = Math.sin(pts[k][0] * Math.PI / 180);
      wx[k] = (pts[k][1] + 180) / 360;
      wy[k] = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
    }
    var Grid = L.LayerGroup.extend({
      onAdd: function (map) {
        L.LayerGroup.prototype.onAdd.call(this, map);
        this._kmap = map; map.on("moveend", this.redraw, this); this.redraw();
      },
      onRemove: function (map) {
        map.off("moveend", this.redraw, this);
        L.LayerGroup.prototype.onRemove.call(this, map);
      },
      redraw: function () {
        var map = this._kmap, size = 256 * Math.pow(2, map.getZoom());
        var b = map.getPixelBounds(), pad = GRID;
        var x0 = (b.min.x - pad) / size, x1 = (b.max.x + pad) / size;
        var y0 = (b.min.y - pad) / size, y1 = (b.max.y + pad) / size;
        var seen = [], k;
        for (k = 0; k < n; k++) {
          if (wx[k] >= x0 && wx[k] <= x1 && wy[k] >= y0 && wy[k] <= y1) seen.push(k);
        }
        this.clearLayers();
        if (seen.length <= LIMIT) {
          for (var j = 0; j < seen.length; j++) {
            var m = L.circleMarker(pts[seen[j]], L.extend({radius: 5}, style));
            bind(m, spec, seen[j]); this.addLayer(m);
          }
          return;
        }
        var cells = new Map(), self = this;
        for (var j = 0; j < seen.length; j++) {
          k = seen[j];
          var key = Math.floor(wx[k] * size / GRID) * 4194304 + Math.floor(wy[k] * size / GRID);
          var c = cells.get(key);
          if (!c) { c = [0, 0, 0]; cells.set(key, c); }
          c[0]++; c[1] += pts[k][0]; c[2] += pts[k][1];
        }
        cells.forEach(function (c) { self.addLayer(bin(map, c, style)); });
      }
    });
    return new Grid();
  }
  function bin(map, c, style) {
    var n = c[0], at = [c[1] / n, c[2] / n], d = n < 100 ? 30 : n < 10000 ? 40 : 50;
    var label = document.createElement("span");
    label.textContent = n.toLocaleString("en");
    label.style.background = style.color;
    var m = L.marker(at, {icon: L.divIcon({className: "kcmr-bin", html: label,
                                           iconSize: [d, d]}),
                          title: n + " points: zoom in to see them"});
    m.on("click", function () { map.setView(at, Math.min(map.getZoom() + 2,
                                                      map.getMaxZoom())); });
    return m;
  }
  // our layers draw on one canvas (fast with many shapes); the measuring tool keeps
  // Leaflet's default SVG, which it needs
  var shared = null;
  function canvas() { return shared || (shared = L.canvas({padding: 0.5})); }
  function layer(spec) {
    if (spec.geom === "grid") return grid(spec);
    var group = spec.cluster ? L.markerClusterGroup({disableClusteringAtZoom: 17,
                                                     chunkedLoading: true})
                             : L.featureGroup();
    var pts = decode(spec.coords), style = L.extend({renderer: canvas()}, spec.style);
    var k, layers = [];
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
  // a visible message when the page's scripts, stylesheets or tiles cannot load
  function watchTiles(map) {
    map.eachLayer(function (l) {
      if (!(l instanceof L.TileLayer)) return;
      var loaded = 0;
      l.on("tileload", function () { loaded++; kcmrNotice.hide("tiles"); });
      l.on("tileerror", function () { if (!loaded) kcmrNotice.show("tiles", TILES); });
    });
  }
  var TILES = "The background map (OpenStreetMap tiles) could not be loaded: this " +
    "computer seems to have no internet connection. The layers are drawn without it; " +
    "for a map that needs no network, write one with: kcmr map --offline";
  return {decode: decode, ints: ints, layer: layer, watchTiles: watchTiles};
})();
"""

#: Runs first in the page's head, before any linked script: records every script or
#: stylesheet that fails to load, and shows messages in the notice box.
NOTICE_JS = r"""
var kcmrNotice = (function () {
  var failed = [], shown = {};
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) failed.push(t.src || t.href);
  }, true);
  function box() { return document.getElementById("kcmr-notice"); }
  function render() {
    var b = box(); if (!b) return;
    var text = Object.keys(shown).map(function (k) { return shown[k]; });
    b.textContent = text.join(" ");
    b.hidden = text.length === 0;
  }
  return {
    failed: failed,
    show: function (key, text) { shown[key] = text; render(); },
    hide: function (key) { delete shown[key]; render(); },
    check: function () {
      if (typeof L === "undefined" || failed.length) {
        this.show("scripts", "This map could not load " + (typeof L === "undefined" ?
          "its map library (Leaflet)" : failed.length + " of its scripts or stylesheets") +
          " from the internet: this computer seems to have no connection, so the " +
          "layers cannot be drawn. Write a map that needs no network with: " +
          "kcmr map --offline");
      }
    }
  };
})();
"""

#: The notice box, first in the page's body, and the check of the scripts that ran before.
NOTICE_HTML = (
    '<div id="kcmr-notice" class="kcmr-notice" role="alert" hidden></div>\n'
    "<script>kcmrNotice.check();</script>"
)

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
.kcmr-notice {position: absolute; top: 40px; left: 50%; transform: translateX(-50%);
  z-index: 2000; max-width: 36em; background: #fff3cd; color: #4d3800;
  border: 2px solid #b58100; border-radius: 6px; padding: 8px 14px;
  font: 14px/1.4 sans-serif; box-shadow: 0 2px 6px rgba(0,0,0,0.3);}
.kcmr-notice[hidden] {display: none;}
.kcmr-bin {background: transparent;}
.kcmr-bin span {display: flex; align-items: center; justify-content: center;
  width: 100%; height: 100%; border-radius: 50%; color: #fff; opacity: 0.85;
  font: bold 12px sans-serif; box-shadow: 0 0 0 4px rgba(255,255,255,0.5);
  cursor: pointer;}
.folium-map {background: #f2efe9;}
.leaflet-control-layers-expanded {font: 12px/1.4 sans-serif;}
"""


def json_for_script(value) -> str:
    """JSON that cannot end its ``<script>`` element or open HTML: ``<>&`` escaped."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page_elements():
    """Build :class:`Raw` (text written as is) and :class:`Page` (the HTML document)."""
    from branca.element import Element, Figure
    from jinja2 import Template

    class Raw(Element):
        def __init__(self, text: str):
            super().__init__()
            self._name = "KcmrRaw"
            self.text = text

        def render(self, **kwargs):
            return self.text

    class Page(Figure):
        _template = Template(
            "<!DOCTYPE html>\n"
            '<html lang="en">\n'
            "<head>\n"
            "{{ this.header.render(**kwargs) }}\n"
            "<title>{{ this.title }}</title>\n"
            "</head>\n"
            "<body>\n"
            "{{ this.html.render(**kwargs) }}\n"
            "<script>\n"
            "{{ this.script.render(**kwargs) }}\n"
            "</script>\n"
            "</body>\n"
            "</html>\n"
        )

        def __init__(self, title: str):
            super().__init__(title=html.escape(title))
            self.header.add_child(Raw(f"<script>{NOTICE_JS}</script>"), name="kcmr_notice")
            self.html.add_child(Raw(NOTICE_HTML), name="kcmr_notice")

    return Raw, Page


def elements():
    """Build the folium element classes (folium is imported lazily).

    Everything this module generates reaches the page through :class:`Raw` elements,
    whose text is written as is. (branca parses the output of a ``MacroElement`` macro
    again as a Jinja template, which would evaluate a ``{{ ... }}`` in an attribute
    value and cost seconds on a 10 MB page.) :class:`Page` is the HTML document: a
    title, and every script inside the body (folium's page has no title and a script
    after ``</body>``, which the W3C validator refuses).
    """
    from branca.element import MacroElement
    from folium.elements import JSCSSMixin
    from folium.map import Layer

    Raw, Page = _page_elements()

    class Runtime(JSCSSMixin, MacroElement):
        def __init__(self, *, cluster: bool):
            super().__init__()
            self._name = "KcmrRuntime"
            self.default_js = [("markercluster", _offline.ASSETS["markercluster"])] * cluster
            self.default_css = (
                [
                    ("markercluster_css", _offline.ASSETS["markercluster_css"]),
                    ("markercluster_default_css", _offline.ASSETS["markercluster_default_css"]),
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
        """The banner, the legend and the watch on the tiles.

        The legend's HTML is built here from escaped text only.
        """

        def __init__(self, *, legend_html: str, banner_html: str):
            super().__init__()
            self._name = "KcmrOverlay"
            self.banner = banner_html
            self.legend_json = json_for_script(legend_html)

        def render(self, **kwargs):
            figure = self.get_root()
            name = self.get_name()
            parent = self._parent.get_name()
            figure.html.add_child(Raw(self.banner), name=name)
            figure.script.add_child(
                Raw(
                    f"var {name} = L.control({{position: 'bottomright'}});"
                    f"{name}.onAdd = function () {{"
                    "var d = L.DomUtil.create('div', 'kcmr-legend');"
                    f"d.innerHTML = {self.legend_json};"
                    "L.DomEvent.disableClickPropagation(d); return d; };"
                    f"{name}.addTo({parent}); kcmr.watchTiles({parent});"
                ),
                name=name,
            )

    return Raw, Runtime, CompactLayer, Overlay, Page


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


def inline_assets(m) -> None:
    """Replace every element's script and stylesheet links by copies inside the page.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If an element links a file the page cannot carry (not in
        :data:`kosovo_cmr.outputs._offline.ASSETS`).
    """
    Raw = elements()[0]
    known = {url: name for name, url in _offline.ASSETS.items()}
    js, css = [], []
    for element in _walk(m):
        for attr, names in (("default_js", js), ("default_css", css)):
            links = list(getattr(element, attr, []) or [])
            for name, url in links:
                if url not in known:
                    raise InputError(
                        f"offline map: no local copy of {name!r} ({url}); it cannot be inlined"
                    )
                if known[url] not in names:
                    names.append(known[url])
            if links:
                setattr(element, attr, [])
    block = _offline.inline_block(js, css)
    # after the character set and the notice script, before anything that uses Leaflet
    m.get_root().header.add_child(Raw(block), name="kcmr_offline_assets", index=2)
