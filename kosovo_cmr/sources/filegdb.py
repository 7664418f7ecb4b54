"""Esri File Geodatabases (``.gdb`` folders, also zipped) through GDAL's OpenFileGDB driver.

ArcGIS Pro and IMSMA Core exchange data as File Geodatabases (the GICHD's IMSMA Core
documentation exports Survey123 results "as a GeoFile Database (Feature Layer Export
FGDB)" and recommends projecting archives "into a file geodatabase initially"). A
``.gdb`` is a folder; a zipped one holds one ``<name>.gdb/`` folder. Either is read the
way every vector source is (:mod:`kosovo_cmr.sources.gdal_env`): staged under a plain
name in a private folder, opened only by the ``OpenFileGDB`` driver, network closed.

**Coded-value domains.** A field with a coded-value domain stores codes (``1``,
``CHA``) whose meaning is in the domain (``1`` = "Confirmed Hazardous Area"). The reader
decodes them to their descriptions, as ``ogr2ogr -resolveDomains`` does, and says so in
one notice per field (domain, number of values decoded, codes not in the domain kept as
written). The domains are read from the geodatabase's catalogue (``GDB_Items``, opened
with the driver's ``LIST_ALL_TABLES=YES``): each domain's ``GPCodedValueDomain2``
definition and each field's ``DomainName``, parsed with :mod:`defusedxml`.

:func:`read_filegdb` reads one layer for the importer (a geodatabase of several feature
classes needs ``src_layer``, as a GeoPackage does); :func:`read_filegdb_layers` reads
every layer; :func:`filegdb_domains` returns the domains and which field uses which.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pandas as pd
import shapely
from pyogrio.raw import read as raw_read
from pyproj import CRS

from kosovo_cmr.errors import InputError
from kosovo_cmr.geometry_checks import parse_wkb
from kosovo_cmr.sources import SourceData, safety
from kosovo_cmr.sources.gdal_env import GdalSource, gdal_env, stage_bytes, staging_dir

__all__ = [
    "CATALOG_TABLE",
    "GdbDomains",
    "is_filegdb",
    "zip_holds_filegdb",
    "filegdb_domains",
    "read_filegdb",
    "read_filegdb_layers",
]

#: The table every File Geodatabase starts with (its catalogue of tables).
CATALOG_TABLE = "a00000001.gdbtable"


@dataclass
class GdbDomains:
    """The coded-value domains of a geodatabase and the fields that use them."""

    #: domain name -> {code (as text): description}
    domains: dict[str, dict[str, str]] = field(default_factory=dict)
    #: layer -> {field: domain name}
    fields: dict[str, dict[str, str]] = field(default_factory=dict)


def is_filegdb(path: Path) -> bool:
    """Return whether ``path`` is a File Geodatabase folder (it holds the catalogue)."""
    return path.is_dir() and (path / CATALOG_TABLE).is_file()


def zip_holds_filegdb(path: Path) -> bool:
    """Return whether a ZIP archive holds a ``.gdb`` folder (read without extracting)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return any(_gdb_root(n) is not None for n in names)


def _gdb_root(name: str) -> str | None:
    parts = PurePosixPath(name).parts
    for k, part in enumerate(parts[:-1]):
        if part.lower().endswith(".gdb"):
            return "/".join(parts[: k + 1])
    return None


@contextlib.contextmanager
def _staged(path: Path):
    """Yield the geodatabase as a :class:`GdalSource` staged under a plain name."""
    if not path.exists():
        raise InputError(f"cannot read {path}: no such file or folder")
    with staging_dir() as folder:
        target = folder / "source.gdb"
        if path.suffix.lower() == ".zip":
            _extract(path, target)
        elif path.is_dir():
            _check_folder_size(path)
            if not is_filegdb(path):
                raise InputError(
                    f"{path} is a folder but not a File Geodatabase (no {CATALOG_TABLE})"
                )
            target.symlink_to(path.resolve(), target_is_directory=True)
        else:
            raise InputError(f"{path}: a File Geodatabase is a .gdb folder (or a zip of one)")
        yield GdalSource(target, "filegdb", label=str(path))


def _check_folder_size(path: Path) -> None:
    """Refuse a geodatabase folder larger than :data:`kosovo_cmr.settings.import_max_bytes`."""
    from kosovo_cmr import settings

    total = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    if total > settings.import_max_bytes:
        raise InputError(
            f"{path} holds {total:,} bytes, over the limit of {settings.import_max_bytes:,} "
            "(raise kosovo_cmr.settings.import_max_bytes if you trust it)"
        )


def _extract(path: Path, target: Path) -> None:
    """Extract the one ``.gdb`` folder of an archive (pre-scanned) into ``target``."""
    entries = [e for e in safety.prescan_zip(path) if not e.is_dir()]
    roots = sorted({r for r in (_gdb_root(e.filename) for e in entries) if r is not None})
    if len(roots) != 1:
        found = ", ".join(roots) or "none"
        raise InputError(f"{path} must hold exactly one .gdb folder (found: {found})")
    target.mkdir()
    for entry in entries:
        if _gdb_root(entry.filename) != roots[0]:
            continue
        inner = PurePosixPath(entry.filename).relative_to(roots[0])
        if len(inner.parts) != 1:
            continue  # a geodatabase is flat; nothing GDAL reads lies deeper
        stage_bytes(target, inner.name, safety.read_zip_member(path, entry.filename))
    if not (target / CATALOG_TABLE).is_file():
        raise InputError(f"{path}:{roots[0]} is not a File Geodatabase (no {CATALOG_TABLE})")


def filegdb_domains(path: str | Path) -> GdbDomains:
    """Return the coded-value domains of a geodatabase and the fields that use them.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.gdb`` folder or a ZIP archive holding one.

    Returns
    -------
    GdbDomains
    """
    with _staged(Path(path)) as source:
        return _domains(source)


def _domains(source: GdalSource) -> GdbDomains:
    with gdal_env():
        try:
            meta, _, _, values = raw_read(
                source.connection, layer="GDB_Items", read_geometry=False,
                columns=["Name", "Definition"], LIST_ALL_TABLES="YES",
            )  # fmt: skip
        except Exception:  # an old geodatabase without GDB_Items: no domains to read
            return GdbDomains()
    names = dict(zip(meta["fields"], values, strict=True))
    out = GdbDomains()
    for definition in names.get("Definition", []):
        if not isinstance(definition, str) or not definition.strip():
            continue
        root = safety.parse_xml_safely(definition.encode("utf-8"), name=f"{source.label} GDB_Items")
        _read_definition(root, out)
    return out


def _local(tag) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _child_text(element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return None


def _read_definition(root, out: GdbDomains) -> None:
    kind = _local(root.tag)
    if kind == "GPCodedValueDomain2":
        codes = {}
        for value in root.iter():
            if _local(value.tag) == "CodedValue":
                codes[_child_text(value, "Code") or ""] = _child_text(value, "Name") or ""
        out.domains[_child_text(root, "DomainName") or ""] = codes
    elif kind in ("DEFeatureClassInfo", "DETableInfo"):
        layer = _child_text(root, "Name") or ""
        for info in root.iter():
            if _local(info.tag) == "GPFieldInfoEx":
                domain = _child_text(info, "DomainName")
                if domain:
                    out.fields.setdefault(layer, {})[_child_text(info, "Name") or ""] = domain


def read_filegdb(
    path: Path, *, src_layer: str | None = None, decode_domains: bool = True
) -> SourceData:
    """Read one layer of a File Geodatabase for the importer.

    Parameters
    ----------
    path : pathlib.Path
        A ``.gdb`` folder or a ``.zip`` holding one.
    src_layer : str, optional
        The feature class (or table) to read; needed when there are several.
    decode_domains : bool, default True
        Replace coded values with their descriptions (with a notice per field).

    Returns
    -------
    kosovo_cmr.sources.SourceData

    Raises
    ------
    kosovo_cmr.errors.InputError
        If it is not a geodatabase, the layer is missing, or a choice is needed.
    """
    with _staged(path) as source:
        layer = _choose(path, source.list_layers(), src_layer)
        frame, geoms, issues, crs, notices = _read_layer(source, layer, path=path)
        if decode_domains:
            frame = _decode(frame, _domains(source), layer=layer, name=path.name, notices=notices)
    safety.check_feature_count(len(frame), name=str(path))
    return SourceData(frame=frame, geometry=geoms, issues=issues, crs=crs, path=str(path),
                      kind="vector", notices=notices)  # fmt: skip


def read_filegdb_layers(path: str | Path, *, decode_domains: bool = True) -> dict:
    """Read every layer of a File Geodatabase as GeoDataFrames (tables without geometry too).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        Layer name -> its features, coded values decoded when ``decode_domains``.
    """
    out = {}
    with _staged(Path(path)) as source:
        domains = _domains(source)
        for layer in source.list_layers():
            frame, geoms, _, crs, notices = _read_layer(source, layer, path=Path(path))
            if decode_domains:
                frame = _decode(frame, domains, layer=layer, name=Path(path).name, notices=notices)
            out[layer] = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=crs).array)
    return out


def _choose(path: Path, available: list[str], src_layer: str | None) -> str:
    if src_layer is not None:
        if src_layer not in available:
            raise InputError(f"{path} has no layer {src_layer!r}; layers: {', '.join(available)}")
        return src_layer
    if len(available) == 1:
        return available[0]
    if not available:
        raise InputError(f"{path} holds no layer")
    raise InputError(
        f"{path} holds {len(available)} layers ({', '.join(available[:8])}); pick one with "
        "--src-layer NAME"
    )


def _read_layer(source: GdalSource, layer: str, *, path: Path):
    meta, _fids, wkb, fields, caught = source.read(layer)
    notices = [f"GDAL: {' '.join(str(w.message).split())[:300]}" for w in caught]
    frame = pd.DataFrame({str(n): v for n, v in zip(meta["fields"], fields, strict=True)})
    dtypes = dict(zip(map(str, meta["fields"]), map(str, meta.get("dtypes", [])), strict=False))
    for col, dtype in dtypes.items():
        if dtype.startswith("datetime64"):
            frame[col] = pd.to_datetime(frame[col], errors="coerce", utc=False, format="ISO8601")
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    geoms, issues = [], []
    for data in wkb if wkb is not None else [None] * len(frame):
        g, iss = parse_wkb(data)
        geoms.append(g)
        issues.append(iss)
    if wkb is not None:
        geoms = _empty_shapes(geoms, notices, name=f"{path.name}:{layer}")
    return frame, geoms, issues, crs, notices


def _empty_shapes(geoms: list, notices: list[str], *, name: str) -> list:
    """Read a feature class's null shapes as empty geometries (how Esri stores an empty one).

    A geodatabase has no empty geometry: ArcGIS and GDAL write an empty shape as a null
    one. Read as empty, a release with no area (allowed) imports as written; a layer that
    needs a geometry still rejects it (``empty_geometry``).
    """
    nulls = sum(1 for g in geoms if g is None)
    if not nulls:
        return geoms
    notices.append(f"{name}: {nulls} feature(s) with a null shape read as empty geometries")
    return [shapely.GeometryCollection() if g is None else g for g in geoms]


def _decode(frame: pd.DataFrame, domains: GdbDomains, *, layer: str, name: str, notices: list):
    """Replace coded values with their descriptions, one notice per field."""
    used = domains.fields.get(layer, {})
    out = frame
    for column, domain in used.items():
        codes = domains.domains.get(domain)
        if column not in frame.columns or not codes:
            continue
        values = frame[column]
        text = values.map(lambda v: None if pd.isna(v) else _code_text(v))
        known = text.isin(list(codes))
        unknown = sorted({t for t in text[~known & text.notna()]})
        changed = int(sum(1 for t, ok in zip(text, known, strict=True) if ok and codes[t] != t))
        if not changed and not unknown:
            continue  # every code is its own description: nothing changes
        out = out.copy() if out is frame else out
        out[column] = [codes[t] if ok else v for t, ok, v in zip(text, known, values, strict=True)]
        notice = (
            f"{name}: {layer}.{column}: {changed} coded value(s) of domain {domain!r} "
            "decoded to their descriptions"
        )
        if unknown:
            notice += f"; {len(unknown)} code(s) not in the domain kept as written: " + ", ".join(
                unknown[:5]
            )
        notices.append(notice)
    return out


def _code_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
