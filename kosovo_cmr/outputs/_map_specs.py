"""Layer specs: the compact form in which one layer travels to the browser.

A spec is a JSON object holding a layer's geometries as one delta-encoded coordinate
string (:func:`encode_coordinates`; the browser's ``kcmr.decode`` in
:mod:`kosovo_cmr.outputs._map_runtime` reads it), its attribute table as text (with each
polygon's geodesic area), the columns its tooltip shows and its Leaflet style.

Geometries are simplified in the metric CRS before they are encoded (see
:func:`prepare_geometry`): every displayed shape lies within the tolerance (0.5 m by
default) plus 0.07 m (the rounding) of its data.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr import settings
from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.outputs._thin import simplify_bounded

#: Largest simplification tolerance (metres) for which every displayed shape stays within
#: 1 m of its data: a simplified ring strays at most the tolerance (Douglas-Peucker's own
#: bound, see :mod:`kosovo_cmr.outputs._thin`), and the rounding below adds at most 0.07 m.
MAX_SIMPLIFY_DEVIATION_M: float = 0.9

#: Coordinates are written as integers of this many degrees: rounding moves a point at most
#: 0.056 m north-south and 0.042 m east-west in Kosovo, 0.07 m in all.
COORDINATE_PRECISION_DEG: float = 1e-6

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
    return _varints(((deltas << 1) ^ (deltas >> 63)).astype(np.uint64))


def _varints(values: np.ndarray) -> str:
    """Non-negative integers as 5-bit groups, low first, in ``?``..``~`` (polyline)."""
    out = []
    for start in range(0, len(values), 1_000_000):  # bounded temporaries on huge layers
        zig = values[start : start + 1_000_000]
        chunks = np.stack([(zig >> np.uint64(5 * k)) & np.uint64(31) for k in range(13)], axis=1)
        bits = np.maximum(1, np.ceil(np.log2(zig.astype(float) + 1) / 5)).astype(int)
        k = np.arange(13)
        valid = k[None, :] < bits[:, None]
        more = k[None, :] < (bits - 1)[:, None]
        chars = (chunks + np.uint64(63) + more * np.uint64(32)).astype(np.uint8)
        out.append(chars[valid].tobytes().decode("ascii"))
    return "".join(out)


def encode_integers(values) -> str:
    """Encode non-negative integers as one string (the polyline groups, no deltas).

    Codes below 32 take one character, below 1024 two. The browser's ``kcmr.ints``
    reads it back.

    Examples
    --------
    >>> encode_integers([0, 1, 31, 32, 1000])
    '?@^_@g^'
    """
    values = np.asarray(values, dtype=np.int64).ravel()
    if (values < 0).any():
        raise ValueError("encode_integers takes non-negative integers")
    return _varints(values.astype(np.uint64)) if len(values) else ""


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


def prepare_geometry(
    gdf: gpd.GeoDataFrame, tolerance_m: float, *, context: bool = False
) -> gpd.GeoSeries:
    """Simplify in the metric CRS and return the geometry in EPSG:4326.

    Polygons are simplified by :func:`kosovo_cmr.outputs._thin.simplify_bounded`: every
    ring by Douglas-Peucker as a line, so that it stays within ``tolerance_m`` of its
    data by construction (no distance is measured: a Hausdorff check took minutes on a
    million-vertex hazard), again at half the tolerance where that gives an invalid
    shape, and the shape kept as it is where it never comes out valid. ``context`` layers (the
    boundaries, drawn at 5 m) are simplified with their topology preserved.
    """
    geoms = gdf.geometry
    if tolerance_m > 0 and (geoms.geom_type.isin(["Polygon", "MultiPolygon"])).any():
        metric = np.asarray(geoms.to_crs(settings.metric_crs).values, dtype=object)
        if context:
            simplified = shapely.simplify(metric, tolerance_m, preserve_topology=True)
        else:
            simplified, _ = simplify_bounded(metric, tolerance_m)
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


def _columns(present: gpd.GeoDataFrame, columns: list) -> list[dict]:
    """Return the attribute table column by column.

    A column with few distinct values travels as its values and one code per feature
    (:func:`encode_integers`), others as their texts.
    """
    out = []
    for column in columns:
        codes, uniques = pd.factorize(present[column], use_na_sentinel=True)
        if len(uniques) <= len(present) // 2:
            values = [_text(v) for v in uniques] + [""]  # the last one: missing values
            codes = np.where(codes < 0, len(values) - 1, codes)
            out.append({"v": values, "i": encode_integers(codes)})
        else:
            out.append(_front_coded([_text(v) for v in present[column].tolist()]))
    return out


def _front_coded(texts: list[str]) -> dict:
    """Return the texts as they are, or front-coded when that is much shorter.

    Front coding writes each text as the length of the prefix it shares with the one
    before (:func:`encode_integers`) and the rest: ids such as ``HZ-0000123`` shrink to
    a character or two each.
    """
    shared, rest, previous = [], [], ""
    for text in texts:
        n = len(os.path.commonprefix([previous, text]))
        shared.append(n)
        rest.append(text[n:])
        previous = text
    if sum(map(len, rest)) + len(rest) > 0.6 * sum(map(len, texts)):
        return {"v": texts}
    return {"p": encode_integers(shared), "s": rest}


def layer_spec(
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
    grid: bool = False,
) -> dict | None:
    """Return one layer's spec (None when no feature has a geometry).

    ``cluster`` points are clustered by Leaflet.markercluster; ``grid`` points (a layer
    of many, see :data:`kosovo_cmr.outputs.maps.GRID_THRESHOLD`) carry their attributes
    column by column and are drawn by the browser as counts on a grid until few enough
    are in view, so that no marker exists for a point out of sight.
    """
    present = gdf[~gdf.geometry.isna() & ~gdf.geometry.is_empty]
    if present.empty:
        return None
    geoms = prepare_geometry(present, tolerance_m, context=context)
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    spec = _polygon_spec(geoms) if polygonal else _point_spec(geoms)
    columns = [c for c in present.columns if c != present.geometry.name]
    if grid and not polygonal:
        spec.update(geom="grid", count=len(present), columns=_columns(present, columns))
    else:
        rows = [[_text(v) for v in row] for row in present[columns].itertuples(index=False)]
        if polygonal:
            areas = geodesic_area(present.geometry)
            columns.append("area_m2 (geodesic)")
            for row, area in zip(rows, areas, strict=True):
                row.append(f"{area:,.0f}")
        spec["rows"] = rows
    spec.update(
        name=label,
        cols=[str(c) for c in columns],
        tip=[columns.index(c) for c in tooltip if c in columns],
        style={
            "color": colour,
            "fillColor": colour,
            "weight": weight,
            "fillOpacity": fill_opacity,
            "opacity": 0.9,
            "dashArray": dash,
        },
        cluster=bool(cluster) and not grid,
    )
    return spec
