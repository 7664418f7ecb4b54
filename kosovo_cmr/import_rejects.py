"""The rejects file of an import: what was not stored as read, with the reasons.

Written only when a feature is rejected or repaired: a GeoPackage with the layers
``rejects`` and ``repaired``, or a GeoJSON (plus ``.repaired.geojson``) with a ``.csv``
beside each. Every row holds the source's original attributes and geometry (in the
source CRS) and ``kcmr_row`` (1-based position in the source), ``kcmr_reasons``,
``kcmr_details``, ``kcmr_source_geometry`` (the text of a geometry that could not be
parsed) and, for repaired features, ``kcmr_area_change_m2``. The file is written to a
temporary name first and moved into place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from kosovo_cmr.errors import InputError, StoreError
from kosovo_cmr.geometry_checks import Issue
from kosovo_cmr.import_report import alive_mask
from kosovo_cmr.import_values import is_null
from kosovo_cmr.sources import SourceData

__all__ = ["REJECTS_FORMATS", "rejects_path", "rejects_files", "write_rejects"]

#: Formats of a rejects file.
REJECTS_FORMATS = ("gpkg", "geojson")


def rejects_path(
    source: str | os.PathLike,
    rejects: str | os.PathLike | None,
    fmt: str,
    *,
    overwrite: bool,
    store: str | os.PathLike | None = None,
) -> Path:
    """Decide the rejects file, refusing one that would replace what it must not.

    Parameters
    ----------
    source : str or path-like
        The source; names the default file ``<stem>.rejects-<UTC time>.<fmt>`` in the
        working directory.
    rejects : str, path-like or None
        The file asked for (``.gpkg`` or ``.geojson``).
    fmt : {"gpkg", "geojson"}
        Format of the default file.
    overwrite : bool
        Whether existing files may be replaced.
    store : str or path-like, optional
        The store written by the same import (a GeoPackage path; a URL names no file).

    Raises
    ------
    kosovo_cmr.errors.InputError
        A bad suffix, a missing folder, a file the rejects would write (see
        :func:`rejects_files`) that is the source or the store (whatever ``overwrite``
        says), or that exists without ``overwrite``.
    """
    if rejects is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        return Path.cwd() / f"{Path(source).stem}.rejects-{stamp}.{fmt}"
    path = Path(rejects)
    if path.suffix.lower() not in (".gpkg", ".geojson"):
        raise InputError(f"rejects file must end in .gpkg or .geojson, got {path.name}")
    protected = [(source, f"the source {source}")]
    if store is not None and "://" not in os.fspath(store):  # a URL names no file
        protected.append((store, f"the store {store}"))
    for target in rejects_files(path):
        for other, what in protected:
            if _same_file(target, other):
                raise InputError(f"--rejects {path} would replace {what}; choose another file")
        if target.exists() and not overwrite:
            raise InputError(f"{target} exists; pass --overwrite to replace it")
    if not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist")
    return path


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file, through symbolic and hard links."""
    ra, rb = os.path.realpath(a), os.path.realpath(b)
    if ra == rb:
        return True
    try:
        return os.path.samefile(ra, rb)
    except OSError:  # one of them does not exist: different files
        return False


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
    import pyogrio

    alive = alive_mask(issues)
    rej = np.flatnonzero(~alive)
    rep = np.flatnonzero(alive & repaired)
    tables = (("rejects", rej, None), ("repaired", rep, area_change))
    plain = _plain(src.frame)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".kcmr-rejects-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        if path.suffix.lower() == ".gpkg":
            for name, idx, change in tables:
                if len(idx):
                    gdf = _table(src, plain, src_crs, issues, idx, area_change=change)
                    pyogrio.write_dataframe(
                        gdf, tmp, layer=name, driver="GPKG", geometry_type="Unknown"
                    )
            os.replace(tmp, path)
            return
        files = rejects_files(path)  # rejects .geojson, .csv; repaired .geojson, .csv
        for (_, idx, change), target, csv_path in zip(tables, files[::2], files[1::2], strict=True):
            if not len(idx):
                continue
            gdf = _table(src, plain, src_crs, issues, idx, area_change=change)
            pyogrio.write_dataframe(gdf, tmp, driver="GeoJSON", geometry_type="Unknown")
            os.replace(tmp, target)
            csv = pd.DataFrame(gdf.drop(columns="geometry"))
            csv["kcmr_wkt"] = [None if g is None else g.wkt for g in gdf.geometry.values]
            csv.to_csv(csv_path, index=False, encoding="utf-8")
    except Exception as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StoreError(f"cannot write the rejects file {path}: {exc}") from exc
