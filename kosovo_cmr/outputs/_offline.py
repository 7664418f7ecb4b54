"""Inline the JavaScript and CSS of a folium map so that it opens with no network.

Nothing third-party is shipped in this repository: the files are read from npm packages
installed outside it, in :data:`kosovo_cmr.settings.web_assets_dir` (``node_modules/...``),
by the command that :func:`install_command` returns (the CI setup script runs it). Images
that a stylesheet refers to (``url(images/layers.png)``) are inlined as ``data:`` URIs, so
the page makes no request at all.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

from kosovo_cmr import settings
from kosovo_cmr.errors import MissingDependencyError

#: npm packages (pinned) whose files offline maps inline.
NPM_PACKAGES: tuple[str, ...] = (
    "leaflet@1.9.4",
    "leaflet.markercluster@1.5.3",
    "leaflet.fullscreen@3.0.0",
    "leaflet-measure@3.1.0",
)

#: The resources a map may use: name -> (file under node_modules, CDN URL used online).
#: The CDN URLs are folium's own for the same libraries (Leaflet at the pinned version).
ASSETS: dict[str, tuple[str, str]] = {
    "leaflet": (
        "leaflet/dist/leaflet.js",
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js",
    ),
    "leaflet_css": (
        "leaflet/dist/leaflet.css",
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css",
    ),
    "markercluster": (
        "leaflet.markercluster/dist/leaflet.markercluster.js",
        "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/leaflet.markercluster.js",
    ),
    "markercluster_css": (
        "leaflet.markercluster/dist/MarkerCluster.css",
        "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/MarkerCluster.css",
    ),
    "markercluster_default_css": (
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
        "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/MarkerCluster.Default.css",
    ),
    "fullscreen": (
        "leaflet.fullscreen/Control.FullScreen.js",
        "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js",
    ),
    "fullscreen_css": (
        "leaflet.fullscreen/Control.FullScreen.css",
        "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
    ),
    "measure": (
        "leaflet-measure/dist/leaflet-measure.js",
        "https://cdn.jsdelivr.net/npm/leaflet-measure@3.1.0/dist/leaflet-measure.js",
    ),
    "measure_css": (
        "leaflet-measure/dist/leaflet-measure.css",
        "https://cdn.jsdelivr.net/npm/leaflet-measure@3.1.0/dist/leaflet-measure.css",
    ),
}

_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")


def assets_root(root: str | Path | None = None) -> Path:
    """Return the ``node_modules`` folder the assets are read from (it may not exist)."""
    base = Path(root if root is not None else settings.web_assets_dir).expanduser()
    return base if base.name == "node_modules" else base / "node_modules"


def install_command(root: str | Path | None = None) -> str:
    """Return the shell command that installs the offline assets."""
    base = assets_root(root).parent
    return f"npm install --prefix {base} --no-save --no-audit --no-fund " + " ".join(NPM_PACKAGES)


def asset_path(name: str, *, root: str | Path | None = None) -> Path:
    """Return the installed file of one asset.

    Raises
    ------
    kosovo_cmr.errors.MissingDependencyError
        If the file is not installed; the message gives the install command.
    """
    relative, _ = ASSETS[name]
    path = assets_root(root) / relative
    if not path.is_file():
        raise MissingDependencyError(
            f"offline map assets not found ({path}); install them with: "
            f"{install_command(root)}  (or set KCMR_WEB_ASSETS to a folder holding them)"
        )
    return path


def available(*, root: str | Path | None = None) -> bool:
    """Return whether every offline asset is installed."""
    return all((assets_root(root) / relative).is_file() for relative, _ in ASSETS.values())


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def inline_css(path: Path) -> str:
    """Return a stylesheet's text with its relative ``url(...)`` images as data URIs."""
    text = path.read_text(encoding="utf-8")

    def replace(match):
        url = match.group(2).strip()
        if url.startswith(("data:", "#")):
            return match.group(0)
        if "://" in url or url.startswith("//"):
            raise MissingDependencyError(f"{path.name} refers to a remote resource {url!r}")
        target = (path.parent / url.split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            return "url(data:,)"  # a missing optional image: never a request
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(replace, text)


def _script_safe(text: str) -> str:
    # a literal "</script" inside inlined code would end the element early
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def inline_block(names_js: list[str], names_css: list[str], *, root=None) -> str:
    """Return ``<style>`` and ``<script>`` elements holding the named assets' text."""
    parts = []
    for name in names_css:
        css = inline_css(asset_path(name, root=root)).replace("</style", "<\\/style")
        parts.append(f"<style>/* {name} */\n{css}\n</style>")
    for name in names_js:
        js = asset_path(name, root=root).read_text(encoding="utf-8")
        parts.append(f"<script>/* {name} */\n{_script_safe(js)}\n</script>")
        if name == "leaflet":
            parts.append(_default_icon_script(root))
    return "\n".join(parts)


def _default_icon_script(root) -> str:
    """Point Leaflet's default marker icon at inlined images (a plugin may use it)."""
    images = assets_root(root) / "leaflet" / "dist" / "images"
    urls = {
        key: _data_uri(images / name)
        for key, name in (
            ("iconUrl", "marker-icon.png"),
            ("iconRetinaUrl", "marker-icon-2x.png"),
            ("shadowUrl", "marker-shadow.png"),
        )
        if (images / name).is_file()
    }
    options = ", ".join(f'{key}: "{url}"' for key, url in urls.items())
    return (
        "<script>/* leaflet default icon, inlined */\n"
        f'L.Icon.Default.imagePath = ""; L.Icon.Default.mergeOptions({{{options}}});\n</script>'
    )
