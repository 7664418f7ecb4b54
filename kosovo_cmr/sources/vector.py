"""Vector files through pyogrio (GDAL).

GeoPackage, Shapefile (also zipped), GeoJSON, KML/KMZ, GPX and FlatGeobuf.

Geometries are read as WKB and parsed one by one (:func:`kosovo_cmr.geometry_checks.parse_wkb`)
so that one broken feature (an unclosed ring, a ring of two points) becomes a reason on
that feature instead of failing the whole file. KML, KMZ and GPX are first parsed with
:mod:`defusedxml`, which refuses entities, before GDAL sees them; archives are
pre-scanned (:func:`kosovo_cmr.sources.safety.prescan_zip`).

Which layers are read when ``src_layer`` is not given: the only layer of the file; all
folders of a KML/KMZ; the GPX ``waypoints`` for point layers and ``tracks`` for polygon
layers (a track whose ends are at most :data:`kosovo_cmr.settings.gpx_max_ring_gap_m`
apart becomes a polygon, recorded as ``ring_not_closed``). A GeoPackage or archive with
several layers needs ``src_layer``.
"""

from __future__ import annotations

import warnings
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.raw import read as raw_read
from pyproj import CRS

from kosovo_cmr import settings
from kosovo_cmr.errors import InputError
from kosovo_cmr.geometry_checks import Issue, parse_wkb
from kosovo_cmr.sources import SourceData, safety

__all__ = ["read_vector"]

#: Fields GDAL's KML and GPX drivers add to every feature; dropped when all empty.
_BOILERPLATE = {
    "description", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
    "visibility", "drawOrder", "icon", "snippet", "ele", "time", "magvar", "geoidheight",
    "cmt", "desc", "src", "link1_href", "link1_text", "link1_type", "link2_href",
    "link2_text", "link2_type", "sym", "type", "fix", "sat", "hdop", "vdop", "pdop",
    "ageofdgpsdata", "dgpsid", "number",
}  # fmt: skip


def read_vector(
    path: Path,
    *,
    src_layer: str | None = None,
    encoding: str | None = None,
    geometry_type: str = "MultiPolygon",
) -> SourceData:
    """Read a vector file that GDAL understands.

    Parameters
    ----------
    path : pathlib.Path
        ``.gpkg``, ``.shp``, ``.zip`` (Shapefile inside), ``.geojson``/``.json``,
        ``.kml``, ``.kmz``, ``.gpx`` or ``.fgb``.
    src_layer : str, optional
        The layer to read.
    encoding : str, optional
        Text encoding, overriding a Shapefile's ``.cpg``.
    geometry_type : {"MultiPolygon", "Point"}
        What the target layer holds (chooses GPX layers).

    Returns
    -------
    kosovo_cmr.sources.SourceData

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file is unreadable, truncated, hostile, or over a limit.
    """
    suffix = path.suffix.lower()
    notices: list[str] = []
    source: object = str(path)
    if suffix == ".zip":
        source = _zipped_source(path, src_layer)
        src_layer = None if source.endswith(".shp") else src_layer
    elif suffix == ".kml":
        data = path.read_bytes()
        safety.parse_xml_safely(data, name=str(path))
        source = data
    elif suffix == ".kmz":
        entries = safety.prescan_zip(path)
        kml = [e.filename for e in entries if e.filename.lower().endswith(".kml")]
        if not kml:
            raise InputError(f"{path} holds no .kml document")
        member = "doc.kml" if "doc.kml" in kml else kml[0]
        data = safety.read_zip_member(path, member)
        safety.parse_xml_safely(data, name=f"{path}:{member}")
        source = data
    elif suffix == ".gpx":
        data = path.read_bytes()
        safety.parse_xml_safely(data, name=str(path))
    elif suffix == ".shp":
        safety.check_shapefile(path)
    try:
        available = [str(row[0]) for row in pyogrio.list_layers(source)]
    except Exception as exc:
        raise InputError(f"cannot read {path}: {_one_line(exc)}") from exc
    layers = _choose_layers(path, suffix, available, src_layer, geometry_type)
    parts = [_read_layer(source, name, path=path, encoding=encoding) for name in layers]
    frames, geoms, issues, crss = [], [], [], []
    for name, (frame, geom, iss, crs, layer_notices) in zip(layers, parts, strict=True):
        if len(layers) > 1:
            frame = frame.assign(source_layer=name)
        frames.append(frame)
        geoms.extend(geom)
        issues.extend(iss)
        crss.append(crs)
        notices.extend(layer_notices)
    known = {c.to_wkt() if c is not None else None for c in crss}
    if len(known) > 1:
        raise InputError(f"{path}: its layers have different CRSs; import them one by one")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if suffix in (".kml", ".kmz", ".gpx"):
        frame = _drop_boilerplate(frame)
    if suffix == ".gpx" and geometry_type == "MultiPolygon":
        geoms, issues = _tracks_to_polygons(geoms, issues)
    safety.check_feature_count(len(frame), name=str(path))
    mojibake = [c for c in frame.columns if _column_mojibake(frame[c])]
    if mojibake:
        notices.append(
            f"{path.name}: text in {', '.join(map(str, mojibake[:5]))} looks like mojibake; "
            "check the encoding (.cpg file or --encoding)"
        )
    return SourceData(
        frame=frame.reset_index(drop=True),
        geometry=list(geoms),
        issues=list(issues),
        crs=crss[0] if crss else None,
        path=str(path),
        kind="vector",
        notices=notices,
    )


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def _zipped_source(path: Path, src_layer: str | None) -> str:
    entries = safety.prescan_zip(path)
    names = [e.filename for e in entries if not e.is_dir()]
    candidates = [
        n for n in names if PurePosixPath(n).suffix.lower() in (".shp", ".gpkg", ".geojson", ".fgb")
    ]
    if src_layer is not None:
        chosen = [n for n in candidates if PurePosixPath(n).stem == src_layer or n == src_layer]
    else:
        chosen = candidates
    if not chosen:
        raise InputError(f"{path} holds no Shapefile, GeoPackage, GeoJSON or FlatGeobuf")
    if len(chosen) > 1:
        raise InputError(
            f"{path} holds {len(chosen)} datasets ({', '.join(chosen[:6])}); pick one with "
            "--src-layer NAME"
        )
    member = chosen[0]
    if member.lower().endswith(".shp"):
        _check_zipped_shapefile(path, member, {e.filename: e for e in entries})
    return f"/vsizip/{path.resolve()}/{member}"


def _check_zipped_shapefile(path: Path, member: str, entries: dict) -> None:
    import struct

    stem = member[:-4]
    shp = safety.read_zip_member(path, member)
    if len(shp) < 100 or struct.unpack(">i", shp[:4])[0] != 9994:
        raise InputError(f"{path}:{member} is not a Shapefile (bad header)")
    if len(shp) < struct.unpack(">i", shp[24:28])[0] * 2:
        raise InputError(f"{path}:{member} is truncated; nothing imported")
    for suffix in (".dbf", ".DBF"):
        if stem + suffix in entries:
            dbf = safety.read_zip_member(path, stem + suffix)
            if len(dbf) < 32:
                raise InputError(f"{path}:{stem + suffix} is truncated; nothing imported")
            records, header_len, record_len = struct.unpack("<IHH", dbf[4:12])
            if len(dbf) < header_len + records * record_len:
                raise InputError(f"{path}:{stem + suffix} is truncated; nothing imported")


def _choose_layers(path, suffix, available, src_layer, geometry_type) -> list[str]:
    if src_layer is not None:
        if src_layer not in available:
            raise InputError(
                f"{path} has no layer {src_layer!r}; layers: {', '.join(available) or '(none)'}"
            )
        return [src_layer]
    if not available:
        raise InputError(f"{path} holds no layer")
    if suffix == ".gpx":
        wanted = "waypoints" if geometry_type == "Point" else "tracks"
        return [wanted] if wanted in available else []
    if suffix in (".kml", ".kmz") or len(available) == 1:
        return available
    raise InputError(
        f"{path} holds {len(available)} layers ({', '.join(available[:8])}); pick one "
        "with --src-layer NAME"
    )


def _read_layer(source, layer, *, path: Path, encoding: str | None):
    notices: list[str] = []
    try:
        info = pyogrio.read_info(source, layer=layer, encoding=encoding)
        if info.get("features", -1) and info["features"] > 0:
            safety.check_feature_count(int(info["features"]), name=f"{path}:{layer}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            meta, _fids, wkb, fields = raw_read(
                source, layer=layer, encoding=encoding, return_fids=True
            )
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"cannot read {path} (layer {layer}): {_one_line(exc)}") from exc
    for w in caught:
        text = _one_line(w.message if isinstance(w.message, Exception) else Exception(w.message))
        if "Non closed ring" in text or "too many members" in text:
            continue  # recorded per feature by the checks
        if text not in notices:
            notices.append(f"GDAL: {text}")
    columns = {str(name): values for name, values in zip(meta["fields"], fields, strict=True)}
    frame = pd.DataFrame(columns)
    if (
        encoding is None
        and path.suffix.lower() == ".shp"
        and not path.with_suffix(".cpg").exists()
        and not path.with_suffix(".CPG").exists()
        and any(_c1_controls(frame[c]) for c in frame.columns)
    ):
        # GDAL decoded a dbf without .cpg as Latin-1: C1 controls betray cp1252 text
        frame, geoms, issues, crs, inner = _read_layer(source, layer, path=path, encoding="cp1252")
        note = (
            f"{path.name} has no .cpg and its text is not Latin-1; read as cp1252 "
            "(pass --encoding to choose another)"
        )
        return frame, geoms, issues, crs, [note, *inner]
    if encoding is None and path.suffix.lower() == ".shp":
        has_cpg = path.with_suffix(".cpg").exists() or path.with_suffix(".CPG").exists()
        if not has_cpg and len(frame):
            notices.append(
                f"{path.name} has no .cpg; its text was decoded as {meta.get('encoding')}"
            )
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    geoms, issues = [], []
    for data in wkb if wkb is not None else [None] * len(frame):
        g, iss = parse_wkb(data)
        geoms.append(g)
        issues.append(iss)
    return frame, geoms, issues, crs, notices


def _c1_controls(series: pd.Series) -> bool:
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return False

    def c1(v) -> bool:
        return isinstance(v, str) and any("\x80" <= ch <= "\x9f" for ch in v)

    return bool(series.dropna().map(c1).any())


def _column_mojibake(series: pd.Series) -> bool:
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return False
    return bool(
        series.dropna().map(lambda v: isinstance(v, str) and safety.looks_like_mojibake(v)).any()
    )


def _drop_boilerplate(frame: pd.DataFrame) -> pd.DataFrame:
    drop = []
    for col in frame.columns:
        if col not in _BOILERPLATE:
            continue
        values = frame[col]
        if values.isna().all() or (
            pd.api.types.is_integer_dtype(values) and values.isin((-1, 0)).all()
        ):
            drop.append(col)
    return frame.drop(columns=drop)


def _tracks_to_polygons(geoms, issues):
    from pyproj import Geod

    geod = Geod(ellps=settings.ellipsoid)
    out_g, out_i = [], []
    for g, iss in zip(geoms, issues, strict=True):
        if g is None or g.is_empty or g.geom_type not in ("LineString", "MultiLineString"):
            out_g.append(g)
            out_i.append(iss)
            continue
        xy = shapely.get_coordinates(g)
        if len(xy) < 3:
            out_g.append(g)
            out_i.append(iss)
            continue
        _, _, gap_m = geod.inv(xy[0, 0], xy[0, 1], xy[-1, 0], xy[-1, 1])
        if gap_m > settings.gpx_max_ring_gap_m:
            out_g.append(g)
            out_i.append(
                [*iss, Issue("wrong_geometry_type", f"track ends {gap_m:.1f} m from its start")]
            )
            continue
        if gap_m > 0:
            xy = np.vstack([xy, xy[:1]])
            iss = [*iss, Issue("ring_not_closed", f"track closed over {gap_m:.1f} m")]
        elif not np.array_equal(xy[0], xy[-1]):
            xy = np.vstack([xy, xy[:1]])
        out_g.append(shapely.Polygon(xy) if len(xy) >= 4 else g)
        out_i.append(iss)
    return out_g, out_i
