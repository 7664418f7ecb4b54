"""Import, step "map fields": a source's columns become the layer's columns.

Explicit ``--map-fields`` renames come first (:func:`parse_field_map`), then the built-in
aliases of :data:`FIELD_ALIASES` (IMSMA export names, operators' spellings, names a
Shapefile cut to 10 characters); columns that nothing maps keep their name and are
imported as they are. A few values are then rewritten in the schema's spelling
(:data:`VALUE_ALIASES`), boundaries get their district and region from the region table
(:func:`kosovo_cmr.places.locate`), and a layer column that is required and found
nowhere refuses the import before anything is checked or written.

:func:`map_attributes` runs the step; :func:`kosovo_cmr.importer.import_layer` calls it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import pandas as pd

from kosovo_cmr.errors import InputError
from kosovo_cmr.import_values import filled_later, is_null
from kosovo_cmr.places import locate
from kosovo_cmr.schema import LayerSchema, get_schema
from kosovo_cmr.sources import SourceData
from kosovo_cmr.sources.tabular import parse_number
from kosovo_cmr.store.versions import RESERVED_COLUMNS

__all__ = [
    "FIELD_ALIASES",
    "VALUE_ALIASES",
    "RESERVED_NAMES",
    "field_key",
    "parse_field_map",
    "map_fields",
    "rename_reserved",
    "case_twin_renames",
    "rename_case_twins",
    "attach_regions",
    "add_extra",
    "normalise_values",
    "require_columns",
    "map_attributes",
]

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

#: Attribute names a GeoPackage keeps for itself (feature id, geometry column), and those
#: the store keeps for its history (:data:`kosovo_cmr.store.versions.RESERVED_COLUMNS`).
RESERVED_NAMES = tuple(dict.fromkeys(("fid", "geom", "geometry", *sorted(RESERVED_COLUMNS))))


def field_key(name: object) -> str:
    """Return a name or value as compared with the alias tables.

    Examples
    --------
    >>> field_key("Hazard Type"), field_key("Opština")
    ('hazardtype', 'optina')
    """
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
    columns: Sequence, layer: str, *, mapping: dict[str, str] | None = None
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

    Examples
    --------
    >>> map_fields(["HazardID", "Typ", "DateRecord"], "hazards", mapping={"Typ": "kind"})[0]
    {'Typ': 'kind', 'HazardID': 'hazard_id', 'DateRecord': 'recorded'}
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
        src = _alias_match(col, aliases, columns, renames=renames, schema=schema)
        if src is not None:
            renames[src] = col
            taken.discard(src)
            taken.add(col)
            notices.append(f"column {src!r} read as {col!r}")
    final = [renames.get(c, c) for c in columns]
    dup = sorted({c for c in final if final.count(c) > 1})
    if dup:
        raise InputError(
            f"several source columns would be called {', '.join(dup)}; fix --map-fields"
        )
    return renames, notices


def _alias_match(col, aliases, columns, *, renames, schema) -> str | None:
    """Return the first free source column named ``col`` or one of its aliases, if any."""
    free = [c for c in columns if c not in renames and c not in schema.column_names]
    keyed: dict[str, str] = {}
    cut: dict[str, str] = {}  # names a Shapefile cut to 10 characters
    for c in free:
        keyed.setdefault(field_key(c), c)
        if len(c) == 10 and len(field_key(c)) >= 8:
            cut.setdefault(field_key(c), c)
    for alias in (field_key(col), *aliases):
        src = keyed.get(alias)
        if src is None:  # evidence_id -> evidence_i, DateRecorded -> DateRecord
            src = next((c for k, c in cut.items() if alias.startswith(k)), None)
        if src is not None:
            return src
    return None


def rename_reserved(src: SourceData, notices: list[str]) -> None:
    """Rename attributes that a GeoPackage cannot hold as ordinary columns (in place).

    ``fid``, ``geom``, ``geometry`` and the store's own names (``valid_from``,
    ``import_id`` ...; any case) become ``<name>_source``, with a notice.
    """
    renames = {}
    for col in src.frame.columns:
        if str(col).lower() in RESERVED_NAMES:
            new = f"{col}_source"
            while new in src.frame.columns:
                new += "_"
            renames[col] = new
    if renames:
        src.frame = src.frame.rename(columns=renames)
        for old, new in renames.items():
            notices.append(f"column {old!r} kept as {new!r} (the store reserves the name)")


def case_twin_renames(columns: Sequence, *, keep: Sequence = ()) -> dict[str, str]:
    """Decide new names for columns whose names differ only by case.

    A GeoPackage (SQLite) folds the case of column names, so ``Notes`` and ``notes``
    cannot both be stored. In each group of such twins the column named in ``keep`` (a
    layer column), else the first, keeps its name; the others get ``_2``, ``_3``...

    Examples
    --------
    >>> case_twin_renames(["Notes", "notes", "NOTES", "kind"])
    {'notes': 'notes_2', 'NOTES': 'NOTES_3'}
    >>> case_twin_renames(["Kind", "kind"], keep=["kind"])
    {'Kind': 'Kind_2'}
    """
    names = [str(c) for c in columns]
    taken = {n.casefold() for n in names}
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(n.casefold(), []).append(n)
    renames: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        keeper = next((m for m in members if m in keep), members[0])
        suffix = 2
        for m in members:
            if m == keeper:
                continue
            while f"{m}_{suffix}".casefold() in taken:
                suffix += 1
            renames[m] = f"{m}_{suffix}"
            taken.add(renames[m].casefold())
            suffix += 1
    return renames


def rename_case_twins(
    frame: pd.DataFrame, notices: list[str], *, keep: Sequence = ()
) -> pd.DataFrame:
    """Rename columns that differ only by case (:func:`case_twin_renames`), with a notice."""
    renames = case_twin_renames(frame.columns, keep=keep)
    if not renames:
        return frame
    for old, new in renames.items():
        twin = next(str(c) for c in frame.columns if str(c).casefold() == old.casefold()
                    and str(c) not in renames)  # fmt: skip
        notices.append(
            f"columns {twin!r} and {old!r} differ only by case, which a GeoPackage cannot "
            f"hold: {old!r} kept as {new!r}"
        )
    return frame.rename(columns=renames)


def attach_regions(attrs: pd.DataFrame, notices: list[str]) -> pd.DataFrame:
    """Give boundaries their district and region from the region table (enclaves too)."""
    if "municipality" not in attrs.columns or "region" in attrs.columns:
        return attrs
    places = [locate(name) if isinstance(name, str) else None for name in attrs["municipality"]]
    out = attrs.copy()
    if "district" not in out.columns:
        out["district"] = [p.district if p else None for p in places]
    out["region"] = [p.region if p else None for p in places]
    notices.append("district and region taken from the region table (layers/regions.csv)")
    return out


def _coarser(given, computed) -> tuple[object, bool]:
    """Return the larger of a source's accuracy and the computed one, and if it was raised."""
    if is_null(computed):
        return given, False
    if is_null(given):
        return computed, False
    try:
        value = parse_number(given)
    except InputError:  # not a number: left for the attribute check to reject
        return given, False
    return (float(computed), True) if float(computed) > value else (given, False)


def add_extra(attrs: pd.DataFrame, extra: dict, notices: list[str]) -> pd.DataFrame:
    """Add the values a reader computed (``misclosure_m``, ``accuracy_m``...) to the attributes.

    A computed ``accuracy_m`` (half the side of an MGRS square) never lets a source's own
    accuracy claim better: each feature keeps the larger of the two, with a notice
    counting the accuracies that were raised.
    """
    out = attrs.copy()
    for name, values in extra.items():
        if name != "accuracy_m" or name not in out.columns:
            out[name] = pd.Series(list(values), index=out.index)
            continue
        pairs = [_coarser(g, c) for g, c in zip(out[name], values, strict=True)]
        raised = sum(1 for _, up in pairs if up)
        if raised:
            notices.append(
                f"accuracy_m raised to the precision of the MGRS reference on {raised} "
                "feature(s): a position is no better than its square"
            )
        out[name] = pd.Series([value for value, _ in pairs], index=out.index)
    return out


def normalise_values(attrs: pd.DataFrame, notices: list[str]) -> pd.DataFrame:
    """Rewrite the values of :data:`VALUE_ALIASES` in the schema's spelling, with a notice."""
    out = attrs
    for col, table in VALUE_ALIASES.items():
        if col not in out.columns:
            continue
        values = out[col]
        mapped = values.map(lambda v, t=table: t.get(field_key(v), v) if isinstance(v, str) else v)
        changed = int((mapped.astype(object) != values.astype(object)).sum())
        if changed:
            out = out.copy() if out is attrs else out
            out[col] = mapped
            notices.append(f"{changed} value(s) of {col!r} written in the schema's spelling")
    return out


def require_columns(
    attrs: pd.DataFrame, schema: LayerSchema, *, source: object, source_columns: Sequence
) -> None:
    """Refuse a source that has no column for a required layer column.

    Raises
    ------
    kosovo_cmr.errors.InputError
        Naming the missing columns and the ``--map-fields`` that would supply one.
    """
    required = [
        c.name
        for c in schema.columns
        if not c.nullable
        and c.default is None
        and c.name not in attrs.columns
        and not filled_later(schema.name, c.name)
    ]
    if required:
        raise InputError(
            f"{source}: no column for required {', '.join(required)} of layer {schema.name!r};"
            f" map one with --map-fields SRC={required[0]} (source columns: "
            f"{', '.join(map(str, source_columns[:15]))})"
        )


def map_attributes(
    src: SourceData,
    schema: LayerSchema,
    *,
    source: str | os.PathLike,
    field_map: dict[str, str],
    notices: list[str],
) -> pd.DataFrame:
    """Run the step: the source's attributes under the layer's column names.

    Parameters
    ----------
    src : kosovo_cmr.sources.SourceData
        What the reader returned (after :func:`rename_reserved`).
    schema : kosovo_cmr.schema.LayerSchema
        The target layer.
    source : str or path-like
        The source as the user named it, for messages.
    field_map : dict
        ``{source column: layer column}``; entries naming a column the source lacks
        are ignored (a table reader already used them to find its geometry columns).
    notices : list of str
        Extended with one line per decision.

    Returns
    -------
    pandas.DataFrame
        One row per feature read, values not yet converted (see
        :func:`kosovo_cmr.import_values.check_attributes`).

    Raises
    ------
    kosovo_cmr.errors.InputError
        A bad ``field_map``, or a required column found nowhere.
    """
    field_map = {k: v for k, v in field_map.items() if k in src.frame.columns}
    renames, alias_notes = map_fields(src.frame.columns, schema.name, mapping=field_map)
    notices.extend(alias_notes)
    attrs = add_extra(src.frame.rename(columns=renames), src.extra, notices)
    attrs = rename_case_twins(attrs, notices, keep=schema.column_names)
    if schema.name == "boundaries":
        attrs = attach_regions(attrs, notices)
    attrs = normalise_values(attrs, notices)
    require_columns(attrs, schema, source=source, source_columns=src.frame.columns)
    return attrs
