"""Esri File Geodatabases (``.gdb``) for ArcGIS Pro and IMSMA Core, with coded-value domains.

:func:`to_filegdb` writes layers to a new ``.gdb`` folder with GDAL's OpenFileGDB driver
(GDAL >= 3.6 writes File Geodatabases). Every text column whose schema lists its allowed
values (``kind``: CHA, SHA, unclassified; ``method``; ``status``...) gets a **coded-value
domain**, named ``cvd_<layer>_<column>`` after the IMSMA Core convention ("Rename all
the domains to cvd_<name>", GICHD ``imsma-core-doc``, *Connecting a Survey123 form to a
geodatabase structure*), so ArcGIS offers the allowed values as a pick list and refuses
others.

How the domains get there: pyogrio writes features but not field domains (GDAL's field
domain API, ``GDALDatasetAddFieldDomain``, is not exposed by pyogrio). The layers are
therefore written to a temporary GeoPackage whose columns carry the domains as
GeoPackage schema-extension constraints (``gpkg_data_columns`` and
``gpkg_data_column_constraints``, constraint type ``enum``: OGC GeoPackage 1.3, the
"Schema" extension), and GDAL converts that GeoPackage to the geodatabase the way
``ogr2ogr`` does, which carries field domains across formats (GDAL 3.3+, OSGeo/gdal
pull request 3638): by ``GDALVectorTranslate``, ``ogr2ogr``'s engine in GDAL's C API,
called in the process on the GDAL library pyogrio bundles
(:mod:`kosovo_cmr.outputs._gdal_api`), so nothing beyond ``pip install`` is needed.
Where that library cannot be called, GDAL's ``ogr2ogr`` program is run if installed
(Debian: ``gdal-bin``). Without either, the layers are still written (with pyogrio) and
the coded values go to a plain table ``kcmr_domains`` (``domain``, ``layer``, ``field``,
``code``, ``description``) in the same geodatabase, with a warning: nothing is lost, but
ArcGIS does not enforce them.

The folder is written beside the target under a temporary name and renamed into place
when complete; an existing ``.gdb`` is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sqlite3
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from kosovo_cmr.crs import require_crs
from kosovo_cmr.errors import InputError
from kosovo_cmr.outputs import _gdal_api
from kosovo_cmr.schema import SCHEMAS

__all__ = ["to_filegdb", "schema_domains", "DOMAINS_TABLE", "FIELD_NAMES", "ogr2ogr_path"]

log = logging.getLogger(__name__)

#: The table holding the coded values when ``ogr2ogr`` is not available.
DOMAINS_TABLE = "kcmr_domains"

_SCHEMA_EXTENSION = "http://www.geopackage.org/spec/#extension_schema"


#: ``frame.attrs`` key: ``{layer column: field name}`` when a frame's columns were renamed
#: for another system (``kcmr export --mapping``), so that each keeps its domain.
FIELD_NAMES = "kcmr_field_names"


def schema_domains(
    layer: str, columns, *, field_names: dict[str, str] | None = None
) -> dict[str, tuple[str, dict[str, str]]]:
    """Return the coded-value domains of a layer's columns: ``{field: (domain, codes)}``.

    Codes are the schema's allowed values; each code's description is the code itself
    (the store's spelling is what a reader of the file searches for). ``field_names``
    gives the name each column has in the file when it was renamed.

    Examples
    --------
    >>> name, codes = schema_domains("hazards", ["hazard_id", "kind"])["kind"]
    >>> name, codes
    ('cvd_hazards_kind', {'CHA': 'CHA', 'SHA': 'SHA', 'unclassified': 'unclassified'})
    """
    schema = SCHEMAS.get(layer)
    if schema is None:
        return {}
    names = dict(field_names or {})
    present = set(columns)
    out = {}
    for column in schema.columns:
        name = names.get(column.name, column.name)
        if column.kind == "text" and column.allowed and name in present:
            codes = {str(v): str(v) for v in column.allowed}
            out[name] = (f"cvd_{layer}_{column.name}", codes)
    return out


def ogr2ogr_path() -> str | None:
    """Return the ``ogr2ogr`` program GDAL's tools install, or ``None``."""
    return shutil.which("ogr2ogr")


def to_filegdb(
    layers: dict[str, gpd.GeoDataFrame] | gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    name: str = "layer",
    overwrite: bool = False,
) -> Path:
    """Write layers to a new File Geodatabase, with coded-value domains.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame, or one GeoDataFrame
        Layer name -> features (each with a CRS, kept). A store layer's name
        (``hazards``...) gives its columns their domains (:func:`schema_domains`).
    path : str or path-like
        The ``.gdb`` folder to write.
    name : str, default "layer"
        The layer name when ``layers`` is one frame.
    overwrite : bool, default False
        Replace an existing geodatabase.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the path does not end in ``.gdb``, exists and ``overwrite`` is false, or
        its folder does not exist.
    """
    target = Path(path)
    frames = layers if isinstance(layers, dict) else {name: layers}
    _check_target(target, overwrite=overwrite)
    for layer, frame in frames.items():
        require_crs(frame, name=layer)
    tmp = target.with_name(f".{target.stem}.part-{secrets.token_hex(4)}.gdb")
    work = target.with_name(f".{target.stem}.part-{secrets.token_hex(4)}.gpkg")
    try:
        if _gdal_api.available() or ogr2ogr_path() is not None:
            _via_geopackage(frames, work, tmp)
        else:
            _without_domains(frames, tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        work.unlink(missing_ok=True)
    return target


def _check_target(target: Path, *, overwrite: bool) -> None:
    if target.suffix.lower() != ".gdb":
        raise InputError(f"a File Geodatabase is a folder named .gdb, not {target.name}")
    if target.exists() and not overwrite:
        raise InputError(f"{target} exists; pass --overwrite to replace it")
    if target.exists() and not (target / "a00000001.gdbtable").is_file():
        raise InputError(f"{target} exists and is not a File Geodatabase; not replaced")
    if not target.parent.is_dir():
        raise InputError(f"folder {target.parent} does not exist")


def _via_geopackage(frames: dict, work: Path, tmp: Path) -> None:
    """Write a GeoPackage with the domains as constraints; ``ogr2ogr`` it to ``tmp``."""
    for layer, frame in frames.items():
        pyogrio.write_dataframe(frame, work, layer=layer, driver="GPKG")
    with sqlite3.connect(work) as db:
        _add_constraints(db, frames)
    # Integer64 would become Real before GDAL 3.9's FileGDB 64-bit integers (and lose
    # its domain); the layers' counts fit in 32 bits.
    args = ["-f", "OpenFileGDB", "-mapFieldType", "Integer64=Integer"]
    if _gdal_api.available():  # ogr2ogr's engine in the process: no GDAL tools needed
        try:
            _gdal_api.vector_translate(work, tmp, args)
        except _gdal_api.GdalError as exc:
            raise InputError(f"GDAL could not write the geodatabase: {exc}") from exc
    else:
        command = [ogr2ogr_path(), *args, os.fspath(tmp), os.fspath(work)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            message = " ".join(done.stderr.split())[:300]
            raise InputError(f"ogr2ogr could not write the geodatabase: {message}")
    if not (tmp / "a00000001.gdbtable").is_file():
        raise InputError(f"GDAL wrote no File Geodatabase at {tmp}")


def _add_constraints(db: sqlite3.Connection, frames: dict) -> None:
    """Declare each column's coded values (GeoPackage schema extension, ``enum``)."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS gpkg_data_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
            description TEXT, mime_type TEXT, constraint_name TEXT,
            CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
            CONSTRAINT gdc_tn UNIQUE (table_name, name));
        CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
            constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT,
            min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN,
            description TEXT,
            CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
        """
    )
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        db.execute(
            "INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, "
            "definition, scope) VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')",
            (table, _SCHEMA_EXTENSION),
        )
    for layer, frame in frames.items():
        names = frame.attrs.get(FIELD_NAMES)
        for column, (domain, codes) in schema_domains(
            layer, frame.columns, field_names=names
        ).items():
            db.execute(
                "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, "
                "constraint_name) VALUES (?, ?, ?, ?)",
                (layer, column, column, domain),
            )
            db.executemany(
                "INSERT OR IGNORE INTO gpkg_data_column_constraints (constraint_name, "
                "constraint_type, value, description) VALUES (?, 'enum', ?, ?)",
                [(domain, code, text) for code, text in codes.items()],
            )


def _without_domains(frames: dict, tmp: Path) -> None:
    """Write the layers with pyogrio and the coded values as a plain table, with a warning."""
    rows = []
    for layer, frame in frames.items():
        pyogrio.write_dataframe(frame, tmp, layer=layer, driver="OpenFileGDB")
        names = frame.attrs.get(FIELD_NAMES)
        for column, (domain, codes) in schema_domains(
            layer, frame.columns, field_names=names
        ).items():
            rows += [(domain, layer, column, c, t) for c, t in codes.items()]
    if rows:
        table = pd.DataFrame(rows, columns=["domain", "layer", "field", "code", "description"])
        pyogrio.write_dataframe(table, tmp, layer=DOMAINS_TABLE, driver="OpenFileGDB")
        log.warning(
            "%s: ogr2ogr (GDAL's tools, e.g. apt install gdal-bin) was not found, so the "
            "coded values were written as the table %s, not as domains ArcGIS enforces",
            tmp.name,
            DOMAINS_TABLE,
        )
