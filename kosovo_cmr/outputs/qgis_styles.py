"""QGIS styles (QML) for the store's layers and the analyses' result layers.

One style per layer, generated from the colours the web maps already use
(:data:`kosovo_cmr.outputs.maps.COLOURS`), so that a hazard is the same red in the browser,
in QGIS and in QField:

- ``hazards``: open CHAs red, open SHAs orange, unclassified open hazards yellow-orange
  (hatched: not yet classified), closed hazards (released or removed) grey outlines;
- ``releases``: released land green, one fill per method (clearance solid,
  technical-survey reduction hatched, non-technical cancellation outlined);
- ``evidence``: purple points; ``strikes``: brown points; ``boundaries``: grey outlines;
- ``clusters`` (the fade-out area to clear), ``rings`` (land inside the old fade-out area
  and outside the new one), and the CHA consistency findings: ``uncovered`` (fade-out
  reaching outside its hazard, hatched red) and ``stray_evidence`` (evidence in no
  hazard, red crosses).

:func:`write_layer_styles` stores them in a GeoPackage's ``layer_styles`` table, the
table QGIS itself writes ("Save as default" in the GeoPackage), with ``useAsDefault`` set:
QGIS and QField then open each layer styled. :func:`write_qml` writes a ``.qml`` file
beside a Shapefile or GeoJSON file, which QGIS loads as the file's default style.

Examples
--------
>>> qml = layer_style("hazards")
>>> 'type="categorizedSymbol"' in qml
True
>>> "215,25,28" in qml  # the web map's CHA red, #d7191c
True
>>> sorted(STYLED_LAYERS)[:3]
['boundaries', 'clusters', 'evidence']
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from kosovo_cmr.errors import InputError, StoreError
from kosovo_cmr.outputs.maps import COLOURS

__all__ = [
    "STYLED_LAYERS",
    "STYLE_NAME",
    "layer_style",
    "write_layer_styles",
    "write_qml",
    "read_layer_styles",
]

#: The name of the styles kosovo_cmr writes into ``layer_styles`` (QGIS lists it).
STYLE_NAME = "kosovo_cmr"

#: The QGIS version the QML is written for (Debian bookworm's QGIS; later ones read it).
QGIS_VERSION = "3.22.16-Białowieża"

#: The yellow-orange of hazards not yet classified CHA or SHA (between the two).
UNCLASSIFIED = "#fdae61"


@dataclass(frozen=True)
class Category:
    """One class of a categorised style: value, label, symbol."""

    value: str
    label: str
    symbol: str


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    """``"#d7191c"`` -> ``"215,25,28,255"`` (QGIS's colour text)."""
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _options(values: dict[str, str]) -> str:
    items = "".join(
        f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>'
        for k, v in values.items()
    )
    return f'<Option type="Map">{items}</Option>'


def _fill(colour: str, *, alpha: int = 150, brush: str = "solid", outline_mm: float = 0.5) -> str:
    """Return a fill symbol: ``brush`` is QGIS's style name (solid, b_diagonal, no)."""
    layer = _options(
        {
            "color": _rgba(colour, alpha),
            "outline_color": _rgba(colour),
            "outline_style": "solid",
            "outline_width": f"{outline_mm}",
            "outline_width_unit": "MM",
            "style": brush,
            "joinstyle": "bevel",
        }
    )
    return (
        '<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleFill" enabled="1" pass="0" locked="0">{layer}</layer></symbol>'
    )


def _marker(colour: str, *, shape: str = "circle", size_mm: float = 2.4) -> str:
    """Return a marker; a line shape (``cross2``) is drawn in its outline colour."""
    outline = "255,255,255,255" if shape in ("circle", "star", "square") else _rgba(colour)
    layer = _options(
        {
            "color": _rgba(colour),
            "name": shape,
            "outline_color": outline,
            "outline_width": "0.3" if outline.startswith("255,255,255") else "0.6",
            "outline_width_unit": "MM",
            "size": f"{size_mm}",
            "size_unit": "MM",
        }
    )
    return (
        '<symbol type="marker" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleMarker" enabled="1" pass="0" locked="0">{layer}</layer></symbol>'
    )


def _qml(renderer: str) -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology">{renderer}</qgis>\n'
    )


def _single(symbol: str) -> str:
    return _qml(
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{symbol.format(name='0')}</symbols></renderer-v2>"
    )


def _categorised(attribute: str, categories: list[Category]) -> str:
    cats = "".join(
        f'<category render="true" value={quoteattr(c.value)} label={quoteattr(c.label)} '
        f'symbol="{i}"/>'
        for i, c in enumerate(categories)
    )
    symbols = "".join(c.symbol.format(name=str(i)) for i, c in enumerate(categories))
    return _qml(
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attribute)} symbollevels="0" '
        'enableorderby="0" forceraster="0">'
        f"<categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>"
    )


#: The expression that classes a hazard: its kind while open, "closed" once closed.
HAZARD_CLASS = "CASE WHEN \"status\" = 'active' THEN \"kind\" ELSE 'closed' END"


def _hazards() -> str:
    return _categorised(
        HAZARD_CLASS,
        [
            Category("CHA", "CHA (confirmed hazardous area)", _fill(COLOURS["CHA"])),
            Category("SHA", "SHA (suspected hazardous area)", _fill(COLOURS["SHA"])),
            Category(
                "unclassified",
                "Hazard not yet classified CHA/SHA",
                _fill(UNCLASSIFIED, brush="b_diagonal"),
            ),
            Category(
                "closed",
                "Closed (released or removed)",
                _fill(COLOURS["closed"], alpha=0, brush="no", outline_mm=0.3),
            ),
        ],
    )


def _releases() -> str:
    green = COLOURS["clearance"]
    return _categorised(
        "method",
        [
            Category("clearance", "Released: cleared", _fill(green)),
            Category(
                "reduction_ts",
                "Released: reduced by technical survey (TS)",
                _fill(green, brush="b_diagonal"),
            ),
            Category(
                "cancellation_nts",
                "Released: cancelled by non-technical survey (NTS)",
                _fill(green, alpha=0, brush="no", outline_mm=0.6),
            ),
        ],
    )


#: Layer (or result table) name -> a function returning its QML.
_STYLES = {
    "hazards": _hazards,
    "releases": _releases,
    "evidence": lambda: _single(_marker(COLOURS["evidence"])),
    "strikes": lambda: _single(_marker(COLOURS["strikes"], shape="star", size_mm=3.0)),
    "boundaries": lambda: _single(
        _fill(COLOURS["municipalities"], alpha=0, brush="no", outline_mm=0.4)
    ),
    "clusters": lambda: _single(_fill(COLOURS["fadeout"], alpha=70, outline_mm=0.5)),
    "rings": lambda: _single(_fill(COLOURS["fadeout"], alpha=160, brush="b_diagonal")),
    "uncovered": lambda: _single(
        _fill(COLOURS["CHA"], alpha=60, brush="b_diagonal", outline_mm=0.8)
    ),
    "stray_evidence": lambda: _single(_marker(COLOURS["CHA"], shape="cross2", size_mm=3.5)),
}

#: The layers that have a style.
STYLED_LAYERS: frozenset[str] = frozenset(_STYLES)


def layer_style(layer: str) -> str:
    """Return the QML of a layer's style.

    Parameters
    ----------
    layer : str
        A store layer (``hazards``, ``evidence``, ``strikes``, ``releases``,
        ``boundaries``) or a result layer (``clusters``, ``rings``, ``uncovered``,
        ``stray_evidence``).

    Returns
    -------
    str
        A QGIS style document (QML, symbology only).

    Raises
    ------
    kosovo_cmr.errors.InputError
        For a layer without a style.
    """
    if layer not in _STYLES:
        raise InputError(f"no QGIS style for layer {layer!r}; styled: {sorted(_STYLES)}")
    return _STYLES[layer]()


_CREATE = """CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
    f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
    styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
    description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME DEFAULT
    (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def _geometry_columns(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
    return dict(rows)


def write_layer_styles(
    path: str | os.PathLike, *, layers: Iterable[str] | None = None
) -> list[str]:
    """Store the styles of a GeoPackage's layers in its ``layer_styles`` table.

    The table and its columns are those QGIS writes; it is registered in
    ``gpkg_contents`` as an attributes table. Each layer's earlier ``kosovo_cmr`` style is
    replaced and becomes the layer's default (``useAsDefault``); styles a user saved
    under another name stay, but are no longer the default.

    Parameters
    ----------
    path : str or path-like
        An existing GeoPackage.
    layers : iterable of str, optional
        The tables to style; default every table of the file that has a style.

    Returns
    -------
    list of str
        The tables styled.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``path`` is not a GeoPackage, or a named layer is not in it.
    kosovo_cmr.errors.StoreError
        If the file cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg" or not path.is_file():
        raise InputError(f"cannot style {path}: not an existing GeoPackage (.gpkg) file")
    try:
        with sqlite3.connect(path, timeout=30) as conn:
            geometry = _geometry_columns(conn)
            wanted = sorted(STYLED_LAYERS & set(geometry)) if layers is None else list(layers)
            missing = [name for name in wanted if name not in geometry]
            if missing:
                raise InputError(f"{path} has no layer {missing[0]!r}; it has {sorted(geometry)}")
            _store_styles(conn, {name: geometry[name] for name in wanted})
    except sqlite3.Error as exc:
        raise StoreError(f"cannot write the QGIS styles into {path}: {exc}") from exc
    return wanted


def _store_styles(conn: sqlite3.Connection, tables: dict[str, str]) -> None:
    conn.execute(_CREATE)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
        "description, last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
        "'QGIS layer styles', ?)",
        (now,),
    )
    for table, column in tables.items():
        conn.execute("UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ?", (table,))
        conn.execute(
            "DELETE FROM layer_styles WHERE f_table_name = ? AND styleName = ?",
            (table, STYLE_NAME),
        )
        conn.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)",
            (table, column, STYLE_NAME, layer_style(table), f"kosovo_cmr style of {table}", now),
        )


def read_layer_styles(path: str | os.PathLike) -> dict[str, str]:
    """Return the default style (QML) of each layer of a GeoPackage, from ``layer_styles``.

    Returns an empty dict for a GeoPackage without the table.
    """
    with sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True) as conn:
        have = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'layer_styles'"
        ).fetchone()
        if not have:
            return {}
        rows = conn.execute(
            "SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault ORDER BY id"
        ).fetchall()
    return dict(rows)


def write_qml(path: str | os.PathLike, layer: str) -> Path:
    """Write ``layer``'s style beside a layer file: ``hazards.shp`` -> ``hazards.qml``.

    QGIS loads a ``.qml`` with the layer file's name as the file's default style.
    """
    target = Path(path).with_suffix(".qml")
    target.write_text(layer_style(layer), encoding="utf-8")
    return target
