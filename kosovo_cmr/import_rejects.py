"""The rejects file of an import: what was not stored as read, with the reasons.

Written only when a feature is rejected or repaired: a GeoPackage with the layers
``rejects`` and ``repaired``, or a GeoJSON (plus ``.repaired.geojson``) with a ``.csv``
beside each. Every row holds the source's original attributes and geometry (in the
source CRS) and ``kcmr_row`` (1-based position in the source), ``kcmr_reasons``,
``kcmr_details``, ``kcmr_source_geometry`` (the text of a geometry that could not be
parsed) and, for repaired features, ``kcmr_area_change_m2``. Every file is written to a
temporary file beside it and renamed into place (:func:`kosovo_cmr._files.atomic_output`):
an interrupted import leaves no partial rejects file.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from kosovo_cmr._files import atomic_output, check_outputs, real_path
from kosovo_cmr.errors import InputError, StoreError
from kosovo_cmr.geometry_checks import Issue
from kosovo_cmr.import_report import alive_mask
from kosovo_cmr.import_values import is_null
from kosovo_cmr.sources import SourceData
from kosovo_cmr.sources.gdal_env import plain_name, staging_dir

__all__ = [
    "REJECTS_FORMATS",
    "default_rejects_path",
    "rejects_path",
    "rejects_files",
    "write_rejects",
]

#: Formats of a rejects file.
REJECTS_FORMATS = ("gpkg", "geojson")


def default_rejects_path(
    source: str | os.PathLike, fmt: str, *, store: str | os.PathLike | None = None
) -> Path:
    """Return the default rejects file: ``<source stem>.rejects-<UTC time>.<fmt>``.

    It lies beside the store (a GeoPackage), so that an import run from a read-only
    working directory still writes it; beside the source when the store is a URL
    (PostGIS). The stem keeps letters, digits, ``.``, ``-`` and ``_`` only.

    Examples
    --------
    >>> default_rejects_path("in/halo;q3.shp", "gpkg", store="/data/kmac.gpkg").parent
    PosixPath('/data')
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    if store is not None and "://" not in os.fspath(store):
        folder = real_path(store).parent
    else:
        folder = real_path(source).parent
    return folder / f"{plain_name(Path(source).stem)}.rejects-{stamp}.{fmt}"


def rejects_path(
    source: str | os.PathLike,
    rejects: str | os.PathLike | None,
    fmt: str,
    *,
    overwrite: bool,
    store: str | os.PathLike | None = None,
) -> Path:
    """Decide the rejects file, refusing one that would replace what it must not.

    Every file the rejects writer may produce (:func:`rejects_files`) is checked with the
    package's one output guard, :func:`kosovo_cmr._files.check_outputs`: none may be the
    store (or one of its SQLite files), the source, or another of them, through links
    and whatever ``overwrite`` says; an existing one needs ``overwrite``.

    Parameters
    ----------
    source : str or path-like
        The source.
    rejects : str, path-like or None
        The file asked for (``.gpkg`` or ``.geojson``); default
        :func:`default_rejects_path`.
    fmt : {"gpkg", "geojson"}
        Format of the default file.
    overwrite : bool
        Whether existing files may be replaced.
    store : str or path-like, optional
        The store written by the same import (a GeoPackage path; a URL names no file).

    Raises
    ------
    kosovo_cmr.errors.InputError
        A bad suffix, a missing folder, a file that is the source or the store, or that
        exists without ``overwrite``.
    """
    path = default_rejects_path(source, fmt, store=store) if rejects is None else Path(rejects)
    if path.suffix.lower() not in (".gpkg", ".geojson"):
        raise InputError(f"rejects file must end in .gpkg or .geojson, got {path.name}")
    label = "--rejects" if rejects is not None else "the rejects file"
    outputs = {label if i == 0 else f"{label} ({p.name})": p
               for i, p in enumerate(rejects_files(path))}  # fmt: skip
    check_outputs(outputs, overwrite=overwrite, store=store, sources=[source])
    return path


def rejects_files(path: Path) -> list[Path]:
    """Return every file :func:`write_rejects` may write for the rejects file ``path``.

    A GeoPackage is one file; a GeoJSON rejects file also writes ``.csv`` beside it, and
    the repaired features' originals go to ``.repaired.geojson`` and ``.repaired.csv``.

    Examples
    --------
    >>> [p.name for p in rejects_files(Path("out/r.geojson"))]
    ['r.geojson', 'r.csv', 'r.repaired.geojson', 'r.repaired.csv']
    """
    if path.suffix.lower() == ".gpkg":
        return [path]
    out = []
    for stem in (path.stem, path.stem + ".repaired"):
        target = path.with_name(stem + ".geojson")
        out += [target, target.with_suffix(".csv")]
    return out


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the attributes as numbers, dates or text (what every format can hold)."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            out[str(col)] = s
        else:
            out[str(col)] = [None if is_null(v) else str(v) for v in s]
    return out


def _table(src, plain, src_crs, issues, idx, *, area_change=None) -> gpd.GeoDataFrame:
    """Rows ``idx`` of the source with their reasons (and area change) added."""
    raw = src.raw_geometry or [None] * len(src)
    frame = plain.iloc[idx].reset_index(drop=True)
    frame["kcmr_row"] = idx + 1
    frame["kcmr_reasons"] = [";".join(dict.fromkeys(x.code for x in issues[i])) for i in idx]
    frame["kcmr_details"] = [" | ".join(str(x) for x in issues[i]) for i in idx]
    frame["kcmr_source_geometry"] = [None if raw[i] is None else str(raw[i]) for i in idx]
    if area_change is not None:
        frame["kcmr_area_change_m2"] = [area_change[i] for i in idx]
    geoms = [src.geometry[i] for i in idx]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=src_crs), crs=src_crs)


def write_rejects(
    path: Path,
    src: SourceData,
    src_crs: CRS,
    issues: list[list[Issue]],
    *,
    repaired: np.ndarray,
    area_change: list,
) -> None:
    """Write the rejected features, and the originals of the repaired ones.

    Parameters
    ----------
    path : pathlib.Path
        From :func:`rejects_path`.
    src : kosovo_cmr.sources.SourceData
        The features as read.
    src_crs : pyproj.CRS
        Their CRS.
    issues : list of list of Issue
        Every feature's issues (a feature with a ``reject`` issue is a reject).
    repaired : numpy.ndarray of bool
        Whether each feature's geometry was mended.
    area_change : list
        The area change of each repair, m2.

    Raises
    ------
    kosovo_cmr.errors.StoreError
        If the file cannot be written (no partial file is left).
    """
    alive = alive_mask(issues)
    rej = np.flatnonzero(~alive)
    rep = np.flatnonzero(alive & repaired)
    tables = [
        (name, _table(src, _plain(src.frame), src_crs, issues, idx, area_change=change))
        for name, idx, change in (("rejects", rej, None), ("repaired", rep, area_change))
        if len(idx)
    ]
    try:
        if path.suffix.lower() == ".gpkg":
            with atomic_output(path, overwrite=True) as tmp:
                _write_vector(tables, tmp, driver="GPKG")
            return
        files = rejects_files(path)  # rejects .geojson, .csv; repaired .geojson, .csv
        places = {"rejects": (files[0], files[1]), "repaired": (files[2], files[3])}
        for name, gdf in tables:
            target, csv_path = places[name]
            with atomic_output(target, overwrite=True) as tmp:
                _write_vector([(None, gdf)], tmp, driver="GeoJSON")
            csv = pd.DataFrame(gdf.drop(columns="geometry"))
            csv["kcmr_wkt"] = [None if g is None else g.wkt for g in gdf.geometry.values]
            with atomic_output(csv_path, overwrite=True) as tmp:
                csv.to_csv(tmp, index=False, encoding="utf-8")
    except (OSError, ValueError, RuntimeError) as exc:
        raise StoreError(f"cannot write the rejects file {path}: {_one_line(exc)}") from exc


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _write_vector(tables: list, target: Path, *, driver: str) -> None:
    """Write ``[(layer, frame), ...]`` with GDAL into a plainly named file, then copy it.

    GDAL (through pyogrio) reads ``;``, ``!``, ``?`` and newlines in a path as URL
    syntax, so the file is written in a private folder and copied to ``target`` (the
    temporary file of :func:`kosovo_cmr._files.atomic_output`).
    """
    import pyogrio

    with staging_dir() as folder:
        plain = folder / ("rejects" + target.suffix.lower())
        for layer, gdf in tables:
            pyogrio.write_dataframe(gdf, plain, layer=layer, driver=driver, geometry_type="Unknown")
        shutil.copyfile(plain, target)
