"""Leaflet and its plugins for the maps: one set of files, online by URL, offline inlined.

The files come from the ``folium-offline`` package (import name ``offlinefolium``), a
dependency installed by ``pip install kosovo_cmr`` like any other: it embeds, as
strings, the JavaScript and CSS of Leaflet 1.9.3 and of the plugins folium uses, keyed
by the CDN address folium links them from, with their images already written as
``data:`` URIs. Nothing third-party is kept in this repository and no other install
step exists (no npm, no download).

An online map links the same files from those addresses (:data:`ASSETS`), so online
and offline pages run the same code; an offline map carries them inside the page: the
scripts inline, the stylesheets as ``data:`` links (:func:`inline_block`).
"""

from __future__ import annotations

import base64
import functools
import re

from kosovo_cmr.errors import MissingDependencyError

#: The files a map may use: name -> address (the CDN copy an online map links; the key
#: under which folium-offline holds the same file).
ASSETS: dict[str, str] = {
    "leaflet": "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
    "leaflet_css": "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
    "markercluster": (
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
        "leaflet.markercluster.js"
    ),
    "markercluster_css": (
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css"
    ),
    "markercluster_default_css": (
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
        "MarkerCluster.Default.css"
    ),
    "fullscreen": "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js",
    "fullscreen_css": "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
    "measure": "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js",
    "measure_css": (
        "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css"
    ),
}

_REMOTE_CSS_URL = re.compile(r"url\(\s*['\"]?\s*(https?:)?//", re.IGNORECASE)


@functools.cache
def _table() -> dict[str, str]:
    """folium-offline's table of embedded files, by address."""
    try:
        from offlinefolium import elements
    except ImportError as exc:  # pragma: no cover - an install dependency
        raise MissingDependencyError(
            "the maps need the folium-offline package (a dependency of kosovo_cmr): "
            "pip install folium-offline"
        ) from exc
    table = getattr(elements, "_res", None)
    missing = [url for url in ASSETS.values() if not isinstance(table, dict) or url not in table]
    if missing:
        raise MissingDependencyError(
            "the installed folium-offline does not embed "
            f"{missing[0]}; install the version kosovo_cmr names (pip install -e .)"
        )
    return table


def asset_text(name: str) -> str:
    """Return the text of one file of :data:`ASSETS`, by name or by address.

    Raises
    ------
    KeyError
        If the name is not one of :data:`ASSETS`.
    kosovo_cmr.errors.MissingDependencyError
        If folium-offline is missing or does not hold the file.
    """
    url = ASSETS.get(name, name)
    if url not in ASSETS.values():
        raise KeyError(name)
    return _table()[url]


def available() -> bool:
    """Return whether every file is at hand (folium-offline installed, with them all)."""
    try:
        _table()
    except MissingDependencyError:
        return False
    return True


def _script_safe(text: str) -> str:
    # a literal "</script" inside inlined code would end the element early
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def css_link(name: str) -> str:
    """Return a ``<link>`` to one stylesheet as a ``data:`` URI: nothing to fetch.

    A link rather than a ``<style>`` element: the page's own markup and stylesheets are
    what the HTML validator checks, and a library's stylesheet stays the library's, as
    it is when an online page links it (vnu 20.6 does not know some properties Leaflet
    1.9 uses, such as ``print-color-adjust``).

    Raises
    ------
    kosovo_cmr.errors.MissingDependencyError
        If a stylesheet refers to a remote address (it would be a request).
    """
    css = asset_text(name)
    if _REMOTE_CSS_URL.search(css):
        raise MissingDependencyError(f"the stylesheet {name} refers to a remote resource")
    data = base64.b64encode(css.encode("utf-8")).decode("ascii")
    return f'<link rel="stylesheet" href="data:text/css;base64,{data}">'


def inline_block(names_js: list[str], names_css: list[str]) -> str:
    """Return the named stylesheets (as ``data:`` links) and scripts (inline)."""
    parts = [css_link(name) for name in names_css]
    for name in names_js:
        parts.append(f"<script>/* {name} */\n{_script_safe(asset_text(name))}\n</script>")
    return "\n".join(parts)
