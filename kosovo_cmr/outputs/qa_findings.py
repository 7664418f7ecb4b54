"""The findings of a QA run as files a GIS officer opens and fixes from (issue 16).

:func:`write_findings` writes a :class:`kosovo_cmr.qa.QAResult`:

``.gpkg``
    a GeoPackage with one layer per kind of location, each in the checked frame's CRS:
    ``qa_points`` (vertices, GEOS's points, duplicate ids...), ``qa_lines`` (segments
    longer than the threshold) and ``qa_areas`` (overlaps and gaps, with ``area_m2``);
    a layer is written only when it has findings, and an empty run writes ``qa_points``
    with no rows, so the file always opens.
``.geojson`` / ``.json``
    one GeoJSON FeatureCollection in WGS 84, strict JSON (no NaN).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd

from kosovo_cmr._files import atomic_output
from kosovo_cmr._json import dumps
from kosovo_cmr.errors import InputError
from kosovo_cmr.qa import QAResult

__all__ = ["write_findings", "FINDING_LAYERS"]

#: GeoPackage layer -> the geometry types it holds.
FINDING_LAYERS: dict[str, tuple[str, ...]] = {
    "qa_points": ("Point",),
    "qa_lines": ("LineString", "MultiLineString"),
    "qa_areas": ("Polygon", "MultiPolygon"),
}


def write_findings(result: QAResult, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write the findings of a QA run to a GeoPackage or a GeoJSON file.

    Parameters
    ----------
    result : kosovo_cmr.qa.QAResult
    path : str or path-like
        ``.gpkg``, ``.geojson`` or ``.json``.
    overwrite : bool, default False
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the suffix is not one of these, or the file exists and ``overwrite`` is false.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".gpkg", ".geojson", ".json"):
        raise InputError(f"QA findings are written as .gpkg or .geojson, not {suffix or '(none)'}")
    with atomic_output(target, overwrite=overwrite) as tmp:
        if suffix == ".gpkg":
            _write_gpkg(result.findings, tmp)
        else:
            tmp.write_text(dumps(result.to_geojson(), indent=None) + "\n", encoding="utf-8")
    return target


def _write_gpkg(findings: gpd.GeoDataFrame, tmp: Path) -> None:
    kinds = findings.geometry.geom_type
    written = 0
    for layer, types in FINDING_LAYERS.items():
        part = findings[kinds.isin(types)]
        if part.empty and not (layer == "qa_points" and written == 0 and findings.empty):
            continue
        extra = {"geometry_type": "Point"} if part.empty else {}
        # GeoPackage 1.2, as the store writes: its R-tree triggers are those every
        # reader and validator of 1.2 and later knows (gdal-utils' validate_gpkg.py)
        part.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio",
                     dataset_options={"VERSION": "1.2"}, **extra)  # fmt: skip
        written += 1
