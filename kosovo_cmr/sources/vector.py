"""Vector files through pyogrio (GDAL).

GeoPackage, Shapefile (also zipped), GeoJSON, KML/KMZ, GPX and FlatGeobuf.

Every file is opened through :class:`kosovo_cmr.sources.gdal_env.GdalSource`: linked
(or, from an archive, extracted) under a plain name into a private folder, opened only
by the GDAL drivers its content allows, with GDAL's network closed. KML, KMZ and GPX
are first parsed with :mod:`defusedxml`, which refuses entities, and their root element
must be ``kml`` or ``gpx``; archives are pre-scanned
(:func:`kosovo_cmr.sources.safety.prescan_zip`).

Geometries are read as WKB and parsed one by one (:func:`kosovo_cmr.geometry_checks.parse_wkb`)
so that one broken feature (an unclosed ring, a ring of two points) becomes a reason on
that feature instead of failing the whole file. Dates and times are read as written:
a column whose values carry a time zone other than UTC is kept as text (the importer
keeps the date written and notes the zone).

Which layers are read when ``src_layer`` is not given: the only layer of the file; all
layers of a KML/KMZ (placemarks under any Document or Folder, nested or not: every
placemark of the document must be read, or the file is refused); the GPX ``waypoints``
for point layers and ``tracks`` for polygon layers (a track whose ends are at most
:data:`kosovo_cmr.settings.gpx_max_ring_gap_m` apart becomes a polygon, recorded as
``ring_not_closed``). A GeoPackage or archive with several layers needs ``src_layer``.

A Shapefile without ``.cpg`` (and no ``encoding``) has its encoding detected from its
text (:mod:`kosovo_cmr.sources.encodings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from kosovo_cmr import settings
from kosovo_cmr.errors import InputError
from kosovo_cmr.geometry_checks import Issue, parse_wkb
from kosovo_cmr.sources import SourceData, safety
from kosovo_cmr.sources.encodings import dbf_text, detect_encoding
from kosovo_cmr.sources.gdal_env import (
    GdalSource,
    plain_name,
    stage_bytes,
    stage_file,
    staging_dir,
)
from kosovo_cmr.sources.sniff import check_content

__all__ = ["read_vector"]

#: Fields GDAL's KML and GPX drivers add to every feature; dropped when all empty.
_BOILERPLATE = {
    "description", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
    "visibility", "drawOrder", "icon", "snippet", "ele", "time", "magvar", "geoidheight",
    "cmt", "desc", "src", "link1_href", "link1_text", "link1_type", "link2_href",
    "link2_text", "link2_type", "sym", "type", "fix", "sat", "hdop", "vdop", "pdop",
    "ageofdgpsdata", "dgpsid", "number",
}  # fmt: skip

_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@dataclass
class _Staged:
    """A source made ready for GDAL: its staged path, content, and what was learnt."""

    path: Path
    content: str
    src_layer: str | None
    placemarks: int | None = None
    encoding: str | None = None
    encoding_note: str | None = None
    notices: list[str] = field(default_factory=list)


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
        ``.kml``, ``.kmz``, ``.gpx`` or ``.fgb``; its content must be what its suffix
        says (:func:`kosovo_cmr.sources.sniff.check_content`).
    src_layer : str, optional
        The layer to read.
    encoding : str, optional
        Text encoding, overriding a Shapefile's ``.cpg`` and detection.
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
    with staging_dir() as folder:
        staged = _stage(path, folder, suffix, src_layer, encoding)
        source = GdalSource(staged.path, staged.content, label=str(path))
        available = source.list_layers()
        layers = _choose_layers(path, suffix, available, staged.src_layer, geometry_type)
        read_encoding = encoding or staged.encoding
        parts = [_read_layer(source, name, path=path, encoding=read_encoding) for name in layers]
    frames, geoms, issues, crss = [], [], [], []
    notices = list(staged.notices)
    for name, (frame, geom, iss, crs, layer_notices) in zip(layers, parts, strict=True):
        if len(layers) > 1:
            frame = frame.assign(source_layer=name)
        frames.append(frame)
        geoms.extend(geom)
        issues.extend(iss)
        crss.append(crs)
        notices.extend(n for n in layer_notices if n not in notices)
    known = {c.to_wkt() if c is not None else None for c in crss}
    if len(known) > 1:
        raise InputError(f"{path}: its layers have different CRSs; import them one by one")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    _check_placemarks(path, staged, len(frame))
    if suffix in (".kml", ".kmz", ".gpx"):
        frame = _drop_boilerplate(frame)
    if suffix == ".gpx" and geometry_type == "MultiPolygon":
        geoms, issues = _tracks_to_polygons(geoms, issues)
    safety.check_feature_count(len(frame), name=str(path))
    _mojibake_notice(path, frame, notices)
    return SourceData(
        frame=frame.reset_index(drop=True),
        geometry=list(geoms),
        issues=list(issues),
        crs=crss[0] if crss else None,
        path=str(path),
        kind="vector",
        notices=notices,
        encoding=_encoding_text(encoding, staged),
    )


def _encoding_text(encoding: str | None, staged: _Staged) -> str | None:
    if encoding:
        return f"{encoding} (--encoding)"
    return staged.encoding_note


# --- staging ------------------------------------------------------------------------------


def _stage(path: Path, folder: Path, suffix: str, src_layer, encoding) -> _Staged:
    """Check a source and put it (or the dataset inside its archive) in the folder."""
    content = check_content(path)
    if suffix == ".zip":
        return _stage_zip(path, folder, src_layer, encoding)
    if suffix == ".kmz":
        data, member = _kml_from_kmz(path)
        staged = _Staged(stage_bytes(folder, path.stem + ".kml", data), "xml:kml", src_layer)
        staged.placemarks = _check_xml(data, "kml", name=f"{path}:{member}")
        return staged
    if suffix in (".kml", ".gpx"):
        data = path.read_bytes()
        count = _check_xml(data, suffix[1:], name=str(path))
        staged = _Staged(stage_file(path, folder), content, src_layer)
        staged.placemarks = count if suffix == ".kml" else None
        return staged
    if suffix == ".shp":
        safety.check_shapefile(path)
        staged = _Staged(stage_file(path, folder, sidecars=True), content, src_layer)
        if encoding is None:
            _detect_dbf_encoding(staged, name=path.name)
        return staged
    return _Staged(stage_file(path, folder), content, src_layer)


def _check_xml(data: bytes, root: str, *, name: str) -> int:
    """Parse XML safely, check its root element; return its number of placemarks."""
    tree = safety.parse_xml_safely(data, name=name)
    local = str(tree.tag).rsplit("}", 1)[-1]
    if local != root:
        raise InputError(f"{name}: its root element is <{local}>, not <{root}>; refused")
    return sum(1 for el in tree.iter() if str(el.tag).rsplit("}", 1)[-1] == "Placemark")


def _check_placemarks(path: Path, staged: _Staged, read: int) -> None:
    """Refuse a KML of which GDAL read fewer features than the document has placemarks."""
    if staged.placemarks is None or staged.src_layer is not None:
        return
    if read < staged.placemarks:
        raise InputError(
            f"{path}: GDAL read {read} of its {staged.placemarks} placemarks; nothing "
            "imported (pick a folder with --src-layer, or report this file)"
        )


def _kml_from_kmz(path: Path) -> tuple[bytes, str]:
    entries = safety.prescan_zip(path)
    kml = [e.filename for e in entries if e.filename.lower().endswith(".kml")]
    if not kml:
        raise InputError(f"{path} holds no .kml document")
    member = "doc.kml" if "doc.kml" in kml else kml[0]
    return safety.read_zip_member(path, member), member


def _stage_zip(path: Path, folder: Path, src_layer, encoding) -> _Staged:
    """Extract the one dataset of a ZIP archive (a Shapefile with its parts, or a file)."""
    entries = {e.filename: e for e in safety.prescan_zip(path) if not e.is_dir()}
    member = _zip_member(path, list(entries), src_layer)
    inner = PurePosixPath(member)
    if inner.suffix.lower() == ".shp":
        _check_zipped_shapefile(path, member, entries)
        stem = member[: -len(inner.suffix)]
        for part in _SHAPEFILE_PARTS:
            for name in (stem + part, stem + part.upper()):
                if name in entries:
                    data = safety.read_zip_member(path, name)
                    stage_bytes(folder, inner.stem + part, data)
        staged_path = folder / plain_name(inner.stem + ".shp")
        src_layer = None
    else:
        data = safety.read_zip_member(path, member)
        staged_path = stage_bytes(folder, inner.stem + inner.suffix.lower(), data)
    content = check_content(staged_path, name=f"{path}:{member}")
    staged = _Staged(staged_path, content, src_layer)
    if content == "shapefile" and encoding is None:
        _detect_dbf_encoding(staged, name=f"{path.name}:{member}")
    return staged


def _zip_member(path: Path, names: list[str], src_layer) -> str:
    suffixes = (".shp", ".gpkg", ".geojson", ".fgb")
    candidates = [n for n in names if PurePosixPath(n).suffix.lower() in suffixes]
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
    return chosen[0]


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


def _detect_dbf_encoding(staged: _Staged, *, name: str) -> None:
    """Choose the encoding of a staged Shapefile's text when no ``.cpg`` says it."""
    cpg = staged.path.with_suffix(".cpg")
    dbf = staged.path.with_suffix(".dbf")
    if cpg.exists():
        text = cpg.read_text(encoding="ascii", errors="replace").strip()
        staged.encoding_note = f"{text} (.cpg)"
        return
    if not dbf.exists():
        return
    guess = detect_encoding(dbf_text(dbf))
    if guess.encoding == "ascii":
        staged.encoding_note = "ascii (no .cpg; the text is plain ASCII)"
        return
    staged.encoding = guess.encoding
    staged.encoding_note = f"{guess.describe()} (no .cpg; detected from its letters)"
    staged.notices.append(
        f"{name} has no .cpg; its text was read as {guess.describe()}, detected from its "
        "letters (pass --encoding to choose another)"
    )


# --- reading ------------------------------------------------------------------------------


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


def _read_layer(source: GdalSource, layer: str, *, path: Path, encoding: str | None):
    notices: list[str] = []
    info = source.read_info(layer, encoding=encoding)
    if info.get("features", -1) and info["features"] > 0:
        safety.check_feature_count(int(info["features"]), name=f"{path}:{layer}")
    meta, _fids, wkb, fields, caught = source.read(layer, encoding=encoding)
    for w in caught:
        text = " ".join(str(w.message).split())[:300]
        if "Non closed ring" in text or "too many members" in text or "Non-conformant" in text:
            continue  # recorded per feature by the checks; or a date we read as written
        if f"GDAL: {text}" not in notices:
            notices.append(f"GDAL: {text}")
    columns = {str(name): values for name, values in zip(meta["fields"], fields, strict=True)}
    frame = pd.DataFrame(columns)
    dtypes = dict(zip(map(str, meta["fields"]), map(str, meta.get("dtypes", [])), strict=False))
    frame = _dates(frame, dtypes, notices, name=f"{path.name}")
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    geoms, issues = [], []
    for data in wkb if wkb is not None else [None] * len(frame):
        g, iss = parse_wkb(data)
        geoms.append(g)
        issues.append(iss)
    return frame, geoms, issues, crs, notices


def _wall_time(value):
    """Return a date text as a timestamp of the time written, or None if it has a zone.

    UTC (``Z``, ``+00:00``) counts as no zone: the date written is the UTC date.
    """
    if not isinstance(value, str):
        return pd.NaT
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return pd.NaT
    if stamp.tzinfo is None:
        return stamp
    if stamp.utcoffset() != pd.Timedelta(0):
        return None
    return stamp.tz_localize(None)


def _dates(frame: pd.DataFrame, dtypes: dict, notices: list[str], *, name: str) -> pd.DataFrame:
    """Turn GDAL's date texts back into dates, keeping a column with time zones as text."""
    out = frame
    for col, dtype in dtypes.items():
        if not dtype.startswith("datetime64") or col not in frame.columns:
            continue
        stamps = [_wall_time(v) for v in frame[col]]
        if any(s is None for s in stamps):
            notices.append(
                f"{name}: {col!r} holds times with a time zone; kept as written (a date is "
                "the date written there, not converted to UTC)"
            )
            continue
        out = out.copy() if out is frame else out
        out[col] = pd.to_datetime(pd.Series(stamps, index=frame.index, dtype=object))
    return out


def _mojibake_notice(path: Path, frame: pd.DataFrame, notices: list[str]) -> None:
    mojibake = [c for c in frame.columns if _column_mojibake(frame[c])]
    if mojibake:
        notices.append(
            f"{path.name}: text in {', '.join(map(str, mojibake[:5]))} looks like mojibake; "
            "check the encoding (.cpg file or --encoding)"
        )


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
