"""Import: read -> map fields -> check/repair -> account -> store.

:func:`import_layer` reads a source with :mod:`kosovo_cmr.sources`, renames its columns
(``map_fields`` first, then the built-in :data:`FIELD_ALIASES`; unmapped columns are
kept), checks and repairs every geometry (:mod:`kosovo_cmr.geometry_checks`), checks the
position against Kosovo's extent, the attributes against the layer schema and the ids
against the source and the store, and then writes the accepted features to the store in
**one** atomic write and the rejected ones, with their original attributes, geometry and
reason codes, to a rejects file. Every feature read is accounted for::

    read == imported + rejected

:func:`validate_source` runs the same checks as a dry run that writes nothing.

Identity rules (the id column of the layer schema, e.g. ``hazard_id``):

- a feature without an id is rejected (``missing_id``);
- ids repeated within the source: ``on_conflict="error"`` rejects every copy
  (``duplicate_id``), ``"skip"`` keeps the first, ``"replace"`` keeps the last;
- ids already in the store (only with ``mode="append"``): ``"error"`` refuses the whole
  import (:class:`IdConflictError`, nothing written), ``"skip"`` rejects the incoming
  feature (``id_in_store``), ``"replace"`` replaces the stored feature. Importing the
  same file twice with the defaults therefore fails cleanly the second time and stores
  nothing twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr import settings
from kosovo_cmr.crs import geodesic_area, normalize_crs
from kosovo_cmr.errors import CRSError, InputError, StoreError
from kosovo_cmr.geometry_checks import REASONS, Issue, check_geometry, shape_notes
from kosovo_cmr.schema import conform, get_schema
from kosovo_cmr.sources import SourceData, read_source

__all__ = [
    "ImportReport",
    "IdConflictError",
    "FIELD_ALIASES",
    "parse_field_map",
    "map_fields",
    "import_layer",
    "validate_source",
]

log = logging.getLogger(__name__)

ON_CONFLICT = ("error", "skip", "replace")
MODES = ("append", "replace")


class IdConflictError(InputError):
    """Ids of the source are already in the store and ``on_conflict="error"``."""


#: Built-in aliases: layer -> schema column -> source names (compared lower-case with
#: everything but letters and digits removed). IMSMA export names and common operator
#: spellings. ``--map-fields`` wins over these.
FIELD_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "hazards": {
        "hazard_id": ("hazardid", "hazid", "hazardno", "localid", "imsmaid", "hazardref",
                      "hazardreference", "polyid", "id"),
        "kind": ("hazardtype", "hazardkind", "type", "category", "classification"),
        "status": ("hazardstatus", "state"),
        "municipality": ("municipalityname", "komuna", "opstina", "opština", "xkname"),
        "region": ("kmacregion", "regionname"),
        "priority": ("hazardpriority", "prio"),
        "operator": ("organisation", "organization", "org", "operatorname", "organisationname"),
        "ordnance": ("devicetype", "munition", "ordnancetype", "submunition"),
        "recorded": ("daterecorded", "datereported", "dateofreport", "surveydate",
                     "dateofsurvey", "date", "datecreated"),
        "closed": ("dateclosed", "closuredate", "closeddate"),
    },
    "evidence": {
        "evidence_id": ("evidenceid", "itemid", "findid", "pointid", "localid", "id", "name"),
        "hazard_id": ("hazardid", "hazid", "hazardref", "polyid"),
        "item": ("itemtype", "finding", "evidencetype", "type"),
        "ordnance": ("devicetype", "munition", "ordnancetype", "submunition"),
        "found": ("datefound", "date", "finddate", "time"),
        "accuracy_m": ("accuracy", "gpsaccuracy", "hdopm", "accuracym"),
    },
    "strikes": {
        "strike_id": ("strikeid", "cbuid", "targetid", "id"),
        "munition": ("munitiontype", "bombtype", "weapon"),
        "bombs": ("bombcount", "nbombs", "numberofbombs"),
        "length_m": ("length", "footprintlength", "lengthm"),
        "width_m": ("width", "footprintwidth", "widthm"),
        "bearing_deg": ("bearing", "azimuth", "heading"),
    },
    "releases": {
        "release_id": ("releaseid", "taskid", "activityid", "landreleaseid", "localid",
                       "polyid", "id"),
        "hazard_id": ("hazardid", "hazid", "hazardref"),
        "method": ("releasemethod", "activitytype", "landreleasetype", "type"),
        "operator": ("organisation", "organization", "org", "operatorname"),
        "date": ("datecompleted", "completiondate", "enddate", "releasedate"),
        "district": ("municipality", "area", "location"),
        "submunitions": ("submunitionsdestroyed", "cmrdestroyed", "nsubmunitions"),
        "ap_mines": ("apmines", "apminesdestroyed", "antipersonnelmines"),
        "other_uxo": ("uxo", "otheruxodestroyed", "erw"),
        "cmr_found": ("cmrfound",),
    },
    "boundaries": {
        "municipality": ("xkname", "name", "municipalityname", "komuna", "adm2name"),
        "district": ("districtname",),
        "region": ("kmacregion", "regionname"),
    },
}  # fmt: skip

#: Values rewritten to the schema's spelling (compared lower-case, letters/digits only).
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "kind": {"cha": "CHA", "confirmedhazardousarea": "CHA", "confirmed": "CHA",
             "sha": "SHA", "suspectedhazardousarea": "SHA", "suspected": "SHA"},
    "method": {"nts": "cancellation_nts", "cancellation": "cancellation_nts",
               "nontechnicalsurvey": "cancellation_nts", "cancellationnts": "cancellation_nts",
               "ts": "reduction_ts", "reduction": "reduction_ts", "technicalsurvey": "reduction_ts",
               "reductionts": "reduction_ts", "clearance": "clearance",
               "bac": "clearance", "battleareaclearance": "clearance"},
}  # fmt: skip


def _key(name) -> str:
    return re.sub(r"[^0-9a-zë]", "", str(name).lower())


def parse_field_map(text: str | None) -> dict[str, str]:
    """Parse ``src=dst,src2=dst2`` into a dict.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If an item has no ``=`` or a name is empty.

    Examples
    --------
    >>> parse_field_map("HAZ_NO=hazard_id, Typ=kind")
    {'HAZ_NO': 'hazard_id', 'Typ': 'kind'}
    """
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise InputError(f"--map-fields item {item.strip()!r} is not SRC=DST")
        src, dst = (s.strip() for s in item.split("=", 1))
        if not src or not dst:
            raise InputError(f"--map-fields item {item.strip()!r} has an empty name")
        out[src] = dst
    return out


def map_fields(
    columns, layer: str, *, mapping: dict[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Decide the renames of a source's columns for a layer.

    Explicit ``mapping`` entries come first; then, for every schema column not yet
    present, the first source column whose name matches one of its
    :data:`FIELD_ALIASES`. Columns that nothing maps keep their name.

    Parameters
    ----------
    columns : sequence of str
        The source's columns.
    layer : str
        The target layer.
    mapping : dict, optional
        ``{source name: target name}`` (``--map-fields``).

    Returns
    -------
    renames : dict
        ``{source name: new name}`` for the columns that change.
    notices : list of str
        One line per alias used.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If ``mapping`` names a column the source lacks, or two columns would get the
        same name.
    """
    schema = get_schema(layer)
    columns = [str(c) for c in columns]
    mapping = dict(mapping or {})
    missing = [c for c in mapping if c not in columns]
    if missing:
        raise InputError(
            f"--map-fields names column(s) not in the source: {', '.join(missing)}; "
            f"columns: {', '.join(columns[:15])}"
        )
    renames = {src: dst for src, dst in mapping.items() if src != dst}
    notices = []
    taken = {renames.get(c, c) for c in columns}
    for col in schema.column_names:
        if col in taken:
            continue
        aliases = FIELD_ALIASES.get(schema.name, {}).get(col, ())
        free = [c for c in columns if c not in renames and c not in schema.column_names]
        keyed: dict[str, str] = {}
        cut: dict[str, str] = {}  # names a Shapefile cut to 10 characters
        for c in free:
            keyed.setdefault(_key(c), c)
            if len(c) == 10 and len(_key(c)) >= 8:
                cut.setdefault(_key(c), c)
        for alias in (_key(col), *aliases):
            src = keyed.get(alias)
            if src is None:  # evidence_id -> evidence_i, DateRecorded -> DateRecord
                src = next((c for k, c in cut.items() if alias.startswith(k)), None)
            if src is not None:
                renames[src] = col
                taken.discard(src)
                taken.add(col)
                notices.append(f"column {src!r} read as {col!r}")
                break
    final = [renames.get(c, c) for c in columns]
    dup = sorted({c for c in final if final.count(c) > 1})
    if dup:
        raise InputError(
            f"several source columns would be called {', '.join(dup)}; fix --map-fields"
        )
    return renames, notices


@dataclass
class ImportReport:
    """What an import (or a validation) did with every feature.

    Attributes
    ----------
    read, imported, repaired, rejected, replaced : int
        Counts; ``read == imported + rejected`` always. ``repaired`` and ``replaced``
        are among ``imported``.
    reasons : dict
        Reason code -> number of features with it (any severity).
    features : pandas.DataFrame
        One row per feature read: ``row`` (1-based), ``id``, ``outcome`` (``imported``,
        ``repaired`` or ``rejected``), ``reasons``, ``details``, ``area_change_m2``.
    rejects_path : str or None
        The rejects file written (also holding the originals of repaired features).
    """

    source: str
    layer: str
    dry_run: bool
    store: str | None
    crs: str
    read: int
    imported: int
    repaired: int
    rejected: int
    replaced: int
    reasons: dict[str, int]
    notices: list[str]
    features: pd.DataFrame = field(repr=False)
    rejects_path: str | None = None

    @property
    def balanced(self) -> bool:
        """Whether ``read == imported + rejected``."""
        return self.read == self.imported + self.rejected

    def as_dict(self) -> dict:
        """Return the report as a JSON-ready dict (without the per-feature table)."""
        return {
            "source": self.source,
            "layer": self.layer,
            "dry_run": self.dry_run,
            "store": self.store,
            "crs": self.crs,
            "read": self.read,
            "imported": self.imported,
            "repaired": self.repaired,
            "rejected": self.rejected,
            "replaced": self.replaced,
            "rejects_path": self.rejects_path,
            "reasons": dict(sorted(self.reasons.items())),
            "notices": list(self.notices),
        }

    def summary(self) -> str:
        """Return a short human summary, several lines."""
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"{self.source} -> {self.layer}"
            + (" (dry run, nothing written)" if self.dry_run else ""),
            f"read {self.read} = {verb} {self.imported} + rejected {self.rejected}"
            f"   (repaired {self.repaired}, replaced {self.replaced})",
        ]
        for note in self.notices:
            lines.append(f"note: {note}")
        if self.reasons:
            lines.append("reasons:")
            for code, n in sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"  {code:<24} {n:>6}  ({REASONS[code][0]})")
        rejected = self.features[self.features["outcome"] == "rejected"]
        for row in rejected.head(10).itertuples(index=False):
            lines.append(f"  rejected #{row.row} {row.id or ''}: {row.details}")
        if len(rejected) > 10:
            lines.append(f"  ... and {len(rejected) - 10} more")
        if self.rejects_path:
            lines.append(f"rejects: {self.rejects_path}")
        return "\n".join(lines)


def validate_source(source, layer: str, **options) -> ImportReport:
    """Run every import check on a source and write nothing (a dry run).

    Takes the options of :func:`import_layer` (``store`` is only read, to check ids).
    Ids already in the store are reported as ``id_in_store`` whatever ``on_conflict``.

    Returns
    -------
    ImportReport
    """
    options.pop("rejects", None)
    return import_layer(source, layer, dry_run=True, **options)


def import_layer(
    source: str | os.PathLike,
    layer: str,
    *,
    store=None,
    src_layer: str | None = None,
    crs=None,
    encoding: str | None = None,
    field_map: dict[str, str] | None = None,
    repair: bool = True,
    on_conflict: str = "error",
    mode: str = "append",
    rejects: str | os.PathLike | None = None,
    rejects_format: str = "gpkg",
    overwrite: bool = False,
    bearing: str = "true",
    declination_deg: float | None = None,
    max_misclosure_m: float | None = None,
    dry_run: bool = False,
    progress: bool = False,
) -> ImportReport:
    """Import one source file into one layer of a store, accounting for every feature.

    Parameters
    ----------
    source : str or path-like
        The file (see :func:`kosovo_cmr.sources.read_source` for the formats).
    layer : {"hazards", "evidence", "strikes", "releases", "boundaries"}
    store : Store or str, optional
        The store (or its path); default :data:`kosovo_cmr.settings.store_path`.
    src_layer : str, optional
        Layer or sheet of a multi-layer source.
    crs : optional
        CRS for a source without one (tables); overrides a vector source's own with a
        notice. Deprecated EPSG:3909 and EPSG:31277 are read as EPSG:6316.
    encoding : str, optional
        Text encoding (overrides ``.cpg`` and detection).
    field_map : dict, optional
        ``{source column: layer column}``.
    repair : bool, default True
        Mend invalid polygons (``make_valid(method="structure")``) and unclosed rings;
        with ``False`` such features are rejected (``not_repaired``).
    on_conflict : {"error", "skip", "replace"}
        What to do with ids repeated in the source or already in the store (see the
        module notes).
    mode : {"append", "replace"}
        Add to the layer, or replace the whole layer with the imported features (a
        source of which nothing is imported leaves the layer as it was).
    rejects : path, optional
        Rejects file (``.gpkg``, or ``.geojson`` which also writes a ``.csv``); default
        ``<source stem>.rejects-<UTC time>.gpkg`` in the working directory. Written only
        when a feature is rejected or repaired.
    rejects_format : {"gpkg", "geojson"}
        Format of the default rejects file.
    overwrite : bool, default False
        Whether an existing ``rejects`` file may be replaced.
    bearing, declination_deg, max_misclosure_m
        For turning-point tables (:func:`kosovo_cmr.sources.traverse.compute_traverse`).
    dry_run : bool, default False
        Check only; write nothing (see :func:`validate_source`).
    progress : bool, default False
        Show a tqdm progress bar on stderr.

    Returns
    -------
    ImportReport

    Raises
    ------
    kosovo_cmr.errors.InputError
        Unreadable source, bad options, missing required columns (exit code 1);
        :class:`IdConflictError` when ids are already in the store and
        ``on_conflict="error"``. Nothing is written in these cases.
    kosovo_cmr.errors.CRSError
        The source has no CRS and none was given.
    kosovo_cmr.errors.StoreError
        The store cannot be read or written; the store is left as it was.
    """
    schema = get_schema(layer)
    if on_conflict not in ON_CONFLICT:
        raise InputError(f"on_conflict must be one of {', '.join(ON_CONFLICT)}")
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}")
    if rejects_format not in ("gpkg", "geojson"):
        raise InputError("rejects_format must be 'gpkg' or 'geojson'")
    store_obj = _open(store, dry_run=dry_run)
    rejects_path = None
    if not dry_run:
        rejects_path = _rejects_path(source, rejects, rejects_format, overwrite)
    field_map = dict(field_map or {})
    src = read_source(
        source,
        src_layer=src_layer,
        crs=crs,
        encoding=encoding,
        geometry_type=schema.geometry_type,
        columns=field_map,
        bearing=bearing,
        declination_deg=declination_deg,
        max_misclosure_m=max_misclosure_m,
    )
    notices = list(src.notices)
    _rename_reserved(src, notices)
    src_crs = _resolve_crs(src, crs, notices)
    n = len(src)
    issues: list[list[Issue]] = [list(i) for i in src.issues]
    # -- fields ----------------------------------------------------------------------------
    field_map = {k: v for k, v in field_map.items() if k in src.frame.columns}
    renames, alias_notes = map_fields(src.frame.columns, schema.name, mapping=field_map)
    notices.extend(alias_notes)
    attrs = src.frame.rename(columns=renames)
    for name, values in src.extra.items():
        attrs[name] = values.to_numpy()
    if schema.name == "boundaries":
        attrs = _attach_regions(attrs, notices)
    attrs = _normalise_values(attrs, notices)
    required = [
        c.name
        for c in schema.columns
        if not c.nullable
        and c.default is None
        and c.name not in attrs.columns
        and not (schema.name == "releases" and c.name == "cmr_found")
    ]
    if required:
        raise InputError(
            f"{source}: no column for required {', '.join(required)} of layer {schema.name!r};"
            f" map one with --map-fields SRC={required[0]} (source columns: "
            f"{', '.join(map(str, src.frame.columns[:15]))})"
        )
    # -- geometry --------------------------------------------------------------------------
    geoms: list = [None] * n
    repaired = np.zeros(n, dtype=bool)
    bar = _progress(n, progress, "checking")
    for i in range(n):
        result = check_geometry(
            src.geometry[i],
            geometry_type=schema.geometry_type,
            allow_empty=schema.allow_empty_geometry,
            repair=repair,
            issues=issues[i],
        )
        issues[i] = result.issues
        geoms[i] = result.geometry
        repaired[i] = result.repaired
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    alive = np.array([not _rejected(i) for i in issues], dtype=bool)
    stored_geoms = _to_storage(geoms, alive, src_crs, issues)
    alive = np.array([not _rejected(i) for i in issues], dtype=bool)
    _add_shape_notes(stored_geoms, alive, issues)
    area_change = _area_change(src.geometry, stored_geoms, repaired & alive, src_crs)
    # -- attributes ------------------------------------------------------------------------
    attrs = _check_attributes(attrs, schema, alive, issues)
    alive = np.array([not _rejected(i) for i in issues], dtype=bool)
    # -- identity --------------------------------------------------------------------------
    existing = None
    if store_obj is not None and mode == "append" and store_obj.has_layer(schema.name):
        existing = store_obj.read(schema.name)
    ids = _ids(attrs, schema.id_column)
    replaced_ids = _check_ids(
        ids, alive, issues, existing, schema.id_column, on_conflict=on_conflict, dry_run=dry_run
    )
    alive = np.array([not _rejected(i) for i in issues], dtype=bool)
    # -- account ---------------------------------------------------------------------------
    outcome = np.where(alive, np.where(repaired, "repaired", "imported"), "rejected")
    features = pd.DataFrame(
        {
            "row": np.arange(1, n + 1),
            "id": ids,
            "outcome": outcome,
            "reasons": [";".join(dict.fromkeys(x.code for x in i)) for i in issues],
            "details": [" | ".join(str(x) for x in i) for i in issues],
            "area_change_m2": area_change,
        }
    )
    reasons = Counter(code for i in issues for code in dict.fromkeys(x.code for x in i))
    report = ImportReport(
        source=str(source),
        layer=schema.name,
        dry_run=dry_run,
        store=None if store_obj is None else store_obj.uri,
        crs=_crs_text(src_crs),
        read=n,
        imported=int(alive.sum()),
        repaired=int((alive & repaired).sum()),
        rejected=int((~alive).sum()),
        replaced=len(replaced_ids),
        reasons=dict(reasons),
        notices=notices,
        features=features,
    )
    assert report.balanced, "accounting broke: read != imported + rejected"
    if dry_run:
        return report
    # -- store -----------------------------------------------------------------------------
    if rejects_path is not None and (report.rejected or report.repaired):
        _write_rejects(rejects_path, src, src_crs, issues, alive, repaired, area_change)
        report.rejects_path = str(rejects_path)
    if report.imported:
        accepted = gpd.GeoDataFrame(
            attrs[alive].reset_index(drop=True),
            geometry=gpd.GeoSeries(
                [stored_geoms[i] for i in np.flatnonzero(alive)], crs=settings.storage_crs
            ),
            crs=settings.storage_crs,
        )
        _store(store_obj, accepted, schema, existing, replaced_ids, mode=mode, source=source)
    elif mode == "replace":
        report.notices.append(
            f"nothing to import: layer {schema.name!r} was left as it was, not emptied"
        )
    return report


# --- steps --------------------------------------------------------------------------------


def _open(store, *, dry_run: bool):
    from kosovo_cmr.store import Store, open_store

    if isinstance(store, Store):
        return store
    uri = os.fspath(store if store is not None else settings.store_path)
    if dry_run and not uri.startswith("postgres"):
        if not Path(uri).exists():
            return None
        return open_store(uri, create=False)
    return open_store(uri, create=True)


def _rejects_path(source, rejects, fmt, overwrite) -> Path:
    if rejects is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        return Path.cwd() / f"{Path(source).stem}.rejects-{stamp}.{fmt}"
    path = Path(rejects)
    if path.suffix.lower() not in (".gpkg", ".geojson"):
        raise InputError(f"rejects file must end in .gpkg or .geojson, got {path.name}")
    if path.exists() and not overwrite:
        raise InputError(f"{path} exists; pass --overwrite to replace it")
    if not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist")
    return path


#: Attribute names a GeoPackage keeps for itself (feature id, geometry column).
_RESERVED = ("fid", "geom", "geometry")


def _rename_reserved(src: SourceData, notices: list[str]) -> None:
    """Rename attributes that a GeoPackage cannot hold as ordinary columns."""
    renames = {}
    for col in src.frame.columns:
        if str(col).lower() in _RESERVED:
            new = f"{col}_source"
            while new in src.frame.columns:
                new += "_"
            renames[col] = new
    if renames:
        src.frame = src.frame.rename(columns=renames)
        for old, new in renames.items():
            notices.append(f"column {old!r} kept as {new!r} (a GeoPackage reserves the name)")


def _resolve_crs(src: SourceData, crs, notices: list[str]):
    from pyproj import CRS

    chosen = src.crs
    if crs is not None and src.kind == "vector":
        given = CRS.from_user_input(crs) if not isinstance(crs, CRS) else crs
        if chosen is not None and not given.equals(chosen):
            notices.append(f"the source declares {_crs_text(chosen)}; --crs {crs} used instead")
        chosen = given
    if chosen is None:
        raise CRSError(f"{src.path} has no CRS; pass --crs if you know it (e.g. --crs EPSG:4326)")
    code = chosen.to_epsg(min_confidence=70)
    normal = normalize_crs(chosen)
    if code is not None and f"EPSG:{code}" in settings.legacy_crs_aliases:
        normal = normalize_crs(settings.legacy_crs)
        notices.append(
            f"EPSG:{code} is a deprecated code of the legacy grid; read as {settings.legacy_crs}"
        )
    return normal


def _crs_text(crs) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def _progress(total: int, enabled: bool, desc: str):
    if not enabled or total < 200:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="feature", leave=False)


def _rejected(issues: list[Issue]) -> bool:
    return any(i.severity == "reject" for i in issues)


def _within(bounds) -> bool:
    lon0, lat0, lon1, lat1 = settings.kosovo_bounds
    m = settings.kosovo_margin_deg
    x0, y0, x1, y1 = bounds
    return (
        np.isfinite(bounds).all()
        and x0 >= lon0 - m
        and x1 <= lon1 + m
        and y0 >= lat0 - m
        and y1 <= lat1 + m
    )


def _to_storage(geoms, alive, src_crs, issues) -> list:
    """Reproject the surviving geometries and check them against Kosovo's extent."""
    out: list = [None] * len(geoms)
    idx = [i for i in np.flatnonzero(alive)]
    if not idx:
        return out
    series = gpd.GeoSeries([geoms[i] for i in idx], crs=src_crs)
    with np.errstate(all="ignore"):
        stored = series.to_crs(settings.storage_crs).values
        swapped = (
            gpd.GeoSeries(
                shapely.transform([geoms[i] for i in idx], lambda xy: xy[:, ::-1]), crs=src_crs
            )
            .to_crs(settings.storage_crs)
            .values
        )
    for k, i in enumerate(idx):
        g = stored[k]
        if g is None or g.is_empty:
            out[i] = g
            continue
        if _within(g.bounds):
            out[i] = g
            continue
        c = geoms[i].representative_point() if geoms[i].geom_type != "Point" else geoms[i]
        if swapped[k] is not None and not swapped[k].is_empty and _within(swapped[k].bounds):
            issues[i].append(
                Issue("axis_swapped", "fits Kosovo once X and Y are swapped", (c.x, c.y))
            )
        else:
            issues[i].append(Issue("outside_kosovo", f"bounds {_fmt_bounds(g.bounds)}", (c.x, c.y)))
    return out


def _fmt_bounds(bounds) -> str:
    return "(" + ", ".join(f"{v:.5g}" for v in bounds) + ")"


def _add_shape_notes(stored, alive, issues) -> None:
    idx = [i for i in np.flatnonzero(alive) if stored[i] is not None and not stored[i].is_empty]
    idx = [i for i in idx if stored[i].geom_type in ("Polygon", "MultiPolygon")]
    if not idx:
        return
    metric = gpd.GeoSeries([stored[i] for i in idx], crs=settings.storage_crs).to_crs(
        settings.metric_crs
    )
    for i, g in zip(idx, metric.values, strict=True):
        issues[i].extend(shape_notes(g))


def _area_change(originals, stored, mask, src_crs) -> list:
    out: list = [None] * len(stored)
    for i in np.flatnonzero(mask):
        try:
            before = float(geodesic_area([shapely.force_2d(originals[i])], crs=src_crs)[0])
            after = float(geodesic_area([stored[i]], crs=settings.storage_crs)[0])
        except Exception:  # an original too broken to measure
            continue
        out[i] = after - before
    return out


def _attach_regions(attrs: pd.DataFrame, notices: list[str]) -> pd.DataFrame:
    """Give boundaries their district and region from the region table (enclaves too)."""
    from kosovo_cmr.places import locate

    if "municipality" not in attrs.columns or "region" in attrs.columns:
        return attrs
    places = [locate(name) if isinstance(name, str) else None for name in attrs["municipality"]]
    out = attrs.copy()
    if "district" not in out.columns:
        out["district"] = [p.district if p else None for p in places]
    out["region"] = [p.region if p else None for p in places]
    notices.append("district and region taken from the region table (layers/regions.csv)")
    return out


def _normalise_values(attrs: pd.DataFrame, notices: list[str]) -> pd.DataFrame:
    out = attrs
    for col, table in VALUE_ALIASES.items():
        if col not in out.columns:
            continue
        values = out[col]
        mapped = values.map(lambda v, t=table: t.get(_key(v), v) if isinstance(v, str) else v)
        changed = int((mapped.astype(object) != values.astype(object)).sum())
        if changed:
            out = out.copy() if out is attrs else out
            out[col] = mapped
            notices.append(f"{changed} value(s) of {col!r} written in the schema's spelling")
    return out


_TRUE = {"true", "t", "yes", "y", "1", "po", "da"}
_FALSE = {"false", "f", "no", "n", "0", "jo", "ne"}
_DATE_FORMATS = ("%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%y")


def _value(v, kind: str):
    """Convert one value to a schema kind; raise ValueError when it cannot be."""
    if kind == "text":
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()
    if kind in ("int", "float"):
        if isinstance(v, bool | np.bool_):
            raise ValueError("a boolean")
        if isinstance(v, str):
            from kosovo_cmr.sources.tabular import parse_number

            try:
                num = parse_number(v)
            except InputError as exc:
                raise ValueError(str(exc)) from exc
        else:
            num = float(v)
        if not np.isfinite(num):
            raise ValueError("not finite")
        if kind == "int":
            if not float(num).is_integer():
                raise ValueError("not a whole number")
            return int(num)
        return float(num)
    if kind == "bool":
        if isinstance(v, bool | np.bool_):
            return bool(v)
        text = str(v).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("not yes/no")
    if kind == "date":
        if isinstance(v, datetime | pd.Timestamp | np.datetime64):
            ts = pd.Timestamp(v)
        else:
            text = str(v).strip()
            ts = None
            with contextlib.suppress(ValueError, TypeError):
                ts = pd.to_datetime(text, format="ISO8601")
            for fmt in _DATE_FORMATS:
                if ts is not None:
                    break
                with contextlib.suppress(ValueError, TypeError):
                    ts = pd.to_datetime(text, format=fmt)
            if ts is None:
                raise ValueError("not a date (use YYYY-MM-DD)")
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.strftime("%Y-%m-%d")
    raise AssertionError(kind)


def _isnull(v) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not v.strip()
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _check_attributes(attrs: pd.DataFrame, schema, alive, issues) -> pd.DataFrame:
    """Check each feature's values against the schema; return the values converted."""
    out = attrs.copy()
    for col in schema.columns:
        if col.name not in out.columns:
            continue
        values = list(out[col.name])
        converted: list = []
        memo: dict = {}  # values repeat (dates, kinds): convert each distinct one once
        for i, v in enumerate(values):
            if _isnull(v):
                if col.default is not None:
                    converted.append(col.default)
                    continue
                fillable = schema.name == "releases" and col.name == "cmr_found"
                if not col.nullable and alive[i] and not fillable:
                    issues[i].append(Issue("missing_value", col.name))
                converted.append(None)
                continue
            try:
                key = (type(v), v) if isinstance(v, str | int | float) else None
                if key is not None and key in memo:
                    value = memo[key]
                    if isinstance(value, Exception):
                        raise value
                else:
                    try:
                        value = _value(v, col.kind)
                    except (ValueError, TypeError, OverflowError) as exc:
                        if key is not None:
                            memo[key] = exc
                        raise
                    if key is not None:
                        memo[key] = value
            except (ValueError, TypeError, OverflowError) as exc:
                if alive[i]:
                    issues[i].append(Issue("bad_value", f"{col.name}={str(v)[:40]!r}: {exc}"))
                converted.append(None)
                continue
            if col.allowed is not None and value not in col.allowed:
                if alive[i]:
                    detail = f"{col.name}={value!r} not in {list(col.allowed)}"
                    issues[i].append(Issue("value_not_allowed", detail))
            elif (col.minimum is not None and value < col.minimum) or (
                col.maximum is not None and value > col.maximum
            ):
                if alive[i]:
                    issues[i].append(Issue("out_of_range", f"{col.name}={value!r}"))
            converted.append(value)
        out[col.name] = pd.Series(converted, index=out.index, dtype=object)
    return out


def _ids(attrs: pd.DataFrame, idcol: str | None) -> list:
    if idcol is None or idcol not in attrs.columns:
        return [None] * len(attrs)
    return [None if _isnull(v) else str(v) for v in attrs[idcol]]


def _check_ids(ids, alive, issues, existing, idcol, *, on_conflict, dry_run) -> set:
    if idcol is None:
        return set()
    for i, v in enumerate(ids):
        if v is None and alive[i] and not any(x.code == "missing_value" for x in issues[i]):
            issues[i].append(Issue("missing_id", idcol))
    live = [i for i in np.flatnonzero(alive) if ids[i] is not None]
    groups: dict[str, list[int]] = {}
    for i in live:
        groups.setdefault(ids[i], []).append(i)
    for value, members in groups.items():
        if len(members) < 2:
            continue
        if on_conflict == "error":
            losers = members
        elif on_conflict == "skip":
            losers = members[1:]
        else:
            losers = members[:-1]
        rows = ", ".join(f"#{m + 1}" for m in members)
        for i in losers:
            issues[i].append(Issue("duplicate_id", f"{idcol}={value!r} on rows {rows}"))
    if existing is None or not len(existing):
        return set()
    stored = set(existing[idcol].dropna().astype(str))
    clash = [i for i in live if ids[i] in stored and not _rejected(issues[i])]
    if not clash:
        return set()
    if on_conflict == "error" and not dry_run:
        sample = ", ".join(sorted({ids[i] for i in clash})[:5])
        raise IdConflictError(
            f"{len(clash)} id(s) already in the store ({sample}); nothing imported. Pass "
            "--on-conflict skip to keep the stored features, --on-conflict replace to "
            "overwrite them, or --mode replace to replace the whole layer"
        )
    if on_conflict == "replace":
        for i in clash:
            issues[i].append(Issue("replaced_in_store", f"{idcol}={ids[i]!r}"))
        return {ids[i] for i in clash}
    for i in clash:
        issues[i].append(Issue("id_in_store", f"{idcol}={ids[i]!r}"))
    return set()


def _store(store_obj, accepted, schema, existing, replaced_ids, *, mode, source) -> None:
    """One atomic write of the layer."""
    if store_obj is None:
        raise StoreError("no store to write to")
    if mode == "replace":
        store_obj.write(accepted, schema.name, mode="replace", source=str(source))
        return
    if replaced_ids and existing is not None:
        keep = existing[~existing[schema.id_column].astype(str).isin(replaced_ids)]
        merged = pd.concat([keep, conform(accepted, schema)], ignore_index=True)
        merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=settings.storage_crs)
        store_obj.write(merged, schema.name, mode="replace", source=str(source))
        return
    store_obj.write(accepted, schema.name, mode="append", source=str(source))


# --- rejects file -----------------------------------------------------------------------


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            out[str(col)] = s
        else:
            out[str(col)] = [None if _isnull(v) else str(v) for v in s]
    return out


def _write_rejects(path: Path, src, src_crs, issues, alive, repaired, area_change) -> None:
    import pyogrio

    rej = np.flatnonzero(~alive)
    rep = np.flatnonzero(alive & repaired)
    original = _plain(src.frame)
    raw = src.raw_geometry or [None] * len(src)

    def table(idx, *, with_area: bool):
        frame = original.iloc[idx].reset_index(drop=True)
        frame["kcmr_row"] = idx + 1
        frame["kcmr_reasons"] = [";".join(dict.fromkeys(x.code for x in issues[i])) for i in idx]
        frame["kcmr_details"] = [" | ".join(str(x) for x in issues[i]) for i in idx]
        frame["kcmr_source_geometry"] = [None if raw[i] is None else str(raw[i]) for i in idx]
        if with_area:
            frame["kcmr_area_change_m2"] = [area_change[i] for i in idx]
        geoms = [src.geometry[i] for i in idx]
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=src_crs), crs=src_crs)

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".kcmr-rejects-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    written: list[Path] = []
    try:
        if path.suffix.lower() == ".gpkg":
            for name, idx, with_area in (("rejects", rej, False), ("repaired", rep, True)):
                if len(idx):
                    pyogrio.write_dataframe(
                        table(idx, with_area=with_area), tmp, layer=name, driver="GPKG",
                        geometry_type="Unknown",
                    )  # fmt: skip
            os.replace(tmp, path)
            return
        for name, idx, with_area in (("", rej, False), (".repaired", rep, True)):
            if not len(idx):
                continue
            gdf = table(idx, with_area=with_area)
            target = path.with_name(path.stem + name + ".geojson")
            pyogrio.write_dataframe(gdf, tmp, driver="GeoJSON", geometry_type="Unknown")
            os.replace(tmp, target)
            written.append(target)
            csv = pd.DataFrame(gdf.drop(columns="geometry"))
            csv["kcmr_wkt"] = [None if g is None else g.wkt for g in gdf.geometry.values]
            csv.to_csv(target.with_suffix(".csv"), index=False, encoding="utf-8")
    except Exception as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StoreError(f"cannot write the rejects file {path}: {exc}") from exc
