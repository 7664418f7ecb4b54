"""Import: read -> map fields -> check geometry, attributes, identity -> account -> store.

:func:`import_layer` reads a source with :mod:`kosovo_cmr.sources` and runs one named
step per concern, each in the module named for it:

1. read the source and resolve its CRS (here);
2. map fields: rename its columns to the layer's (``map_fields`` first, then the
   built-in :data:`~kosovo_cmr.import_fields.FIELD_ALIASES`; unmapped columns are kept)
   (:mod:`kosovo_cmr.import_fields`);
3. check geometry: check and repair every geometry, and its position against Kosovo's
   extent (:mod:`kosovo_cmr.import_geometry`, :mod:`kosovo_cmr.geometry_checks`);
   then places: canonical municipality and region names, filled from the geometry and
   the region table where missing (:mod:`kosovo_cmr.import_places`);
4. check attributes against the layer schema (:mod:`kosovo_cmr.import_values`);
5. check identity: ids normalised and compared by what they look like
   (:mod:`kosovo_cmr.import_lookalikes`), then against the source and the store
   (:mod:`kosovo_cmr.import_identity`);
6. account for every feature (:mod:`kosovo_cmr.import_report`)::

       read == imported + rejected

7. store: the rejected features, with their original attributes, geometry and reason
   codes, to a rejects file (:mod:`kosovo_cmr.import_rejects`), and the accepted ones
   to the store in **one** atomic write, read back to check that the store holds
   exactly what was imported (:mod:`kosovo_cmr.import_store`).

:func:`validate_source` runs the same checks as a dry run that writes nothing.
"""

from __future__ import annotations

import os

from kosovo_cmr import settings
from kosovo_cmr.crs import normalize_crs
from kosovo_cmr.errors import CRSError, InputError, StoreError
from kosovo_cmr.import_fields import (
    FIELD_ALIASES,
    VALUE_ALIASES,
    map_attributes,
    map_fields,
    parse_field_map,
    rename_case_twins,
    rename_reserved,
)
from kosovo_cmr.import_geometry import check_geometries
from kosovo_cmr.import_identity import ON_CONFLICT, IdConflictError, check_identity
from kosovo_cmr.import_mappings import read_mapping, source_renames
from kosovo_cmr.import_places import check_places
from kosovo_cmr.import_rejects import REJECTS_FORMATS, rejects_path, write_rejects
from kosovo_cmr.import_report import (
    AccountingError,
    ImportReport,
    account,
    alive_mask,
    check_balance,
)
from kosovo_cmr.import_set import fill_columns
from kosovo_cmr.import_store import (
    MODES,
    accepted_features,
    expected_layer,
    open_for_import,
    read_existing,
    verify_stored,
    write_layer,
)
from kosovo_cmr.import_values import check_attributes
from kosovo_cmr.schema import get_schema
from kosovo_cmr.sources import SourceData, read_source

__all__ = [
    "ImportReport",
    "IdConflictError",
    "FIELD_ALIASES",
    "VALUE_ALIASES",
    "parse_field_map",
    "map_fields",
    "import_layer",
    "validate_source",
]


def validate_source(source: str | os.PathLike, layer: str, **options) -> ImportReport:
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
    set_values: dict[str, str] | None = None,
    valid_from=None,
    mapping=None,
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
        What to do with ids repeated in the source or already in the store (see
        :mod:`kosovo_cmr.import_identity`).
    mode : {"append", "replace"}
        Add to the layer, or replace the whole layer with the imported features (a
        source of which nothing is imported leaves the layer as it was).
    rejects : path, optional
        Rejects file (``.gpkg``, or ``.geojson`` which also writes a ``.csv``); default
        ``<source stem>.rejects-<UTC time>.gpkg`` beside the store (beside the source
        for a PostGIS store; :func:`kosovo_cmr.import_rejects.default_rejects_path`).
        Written only when a feature is rejected or repaired; never over the store or the
        source (:func:`kosovo_cmr._files.check_outputs`).
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
    set_values : dict, optional
        ``{field: value}`` (``--set``): a value for every feature of a field the source
        lacks, or for its empty cells (:mod:`kosovo_cmr.import_set`); said in the report.
    valid_from : date or str, optional
        When the imported state became true, for the store's history (default now): an
        archive loaded oldest first gives each file its date; a date before the layer's
        latest version is refused (:meth:`kosovo_cmr.store.Store.write`).

    mapping : str, path or FieldMapping, optional
        A field mapping file (``--mapping``; a shipped name such as ``imsma_core``):
        its entries the source has rename like ``field_map``, which wins
        (:mod:`kosovo_cmr.import_mappings`).

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
        The source has no CRS and none was given, or its CRS cannot be transformed to
        the storage CRS.
    kosovo_cmr.errors.StoreError
        The store cannot be read or written; the store is left as it was. Also when,
        after writing, the layer does not hold exactly the features it should (count
        and ids; the message names the difference).
    kosovo_cmr.import_report.AccountingError
        The features do not add up (``read != imported + rejected``): a defect of
        kosovo_cmr, found before anything is written.
    """
    schema = get_schema(layer)
    _check_options(on_conflict=on_conflict, mode=mode, rejects_format=rejects_format)
    store_obj = open_for_import(store, dry_run=dry_run)
    rejects_file = None
    if not dry_run:
        rejects_file = rejects_path(
            source, rejects, rejects_format, overwrite=overwrite, store=store_obj.uri
        )
    src, src_crs, notices, field_map = _read(
        source, schema, src_layer=src_layer, crs=crs, encoding=encoding,
        field_map=dict(field_map or {}), mapping=mapping, bearing=bearing,
        declination_deg=declination_deg, max_misclosure_m=max_misclosure_m,
    )  # fmt: skip
    issues = [list(i) for i in src.issues]
    fill_columns(src, schema, dict(set_values or {}), field_map=field_map, notices=notices)
    attrs = map_attributes(src, schema, source=source, field_map=field_map, notices=notices)
    checked = check_geometries(src, src_crs, schema, issues, repair=repair, progress=progress)
    attrs = check_places(attrs, schema, checked.stored, alive_mask(issues), store=store_obj,
                         notices=notices)  # fmt: skip
    attrs = check_attributes(attrs, schema, alive_mask(issues), issues, notices=notices)
    existing = read_existing(store_obj, schema, mode=mode)
    ids, replaced_ids = check_identity(
        attrs, schema, issues, existing, on_conflict=on_conflict, dry_run=dry_run,
        notices=notices,
    )  # fmt: skip
    report = account(
        issues,
        ids=ids,
        repaired=checked.repaired,
        area_change=checked.area_change,
        replaced=len(replaced_ids),
        source=source,
        layer=schema.name,
        dry_run=dry_run,
        store=None if store_obj is None else store_obj.uri,
        crs=_crs_text(src_crs),
        notices=notices,
    )
    report.encoding = src.encoding
    check_balance(report, read=len(src))
    if dry_run:
        return report
    if rejects_file is not None and (report.rejected or report.repaired):
        write_rejects(rejects_file, src, src_crs, issues, repaired=checked.repaired,
                      area_change=checked.area_change)  # fmt: skip
        report.rejects_path = str(rejects_file)
    accepted = accepted_features(attrs, checked.stored, alive_mask(issues))
    _store(store_obj, report, accepted, schema, existing, replaced_ids, mode=mode,
           valid_from=valid_from)  # fmt: skip
    return report


# --- steps --------------------------------------------------------------------------------


def _check_options(*, on_conflict: str, mode: str, rejects_format: str) -> None:
    """Refuse unknown option values before anything is read."""
    if on_conflict not in ON_CONFLICT:
        raise InputError(f"on_conflict must be one of {', '.join(ON_CONFLICT)}")
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}")
    if rejects_format not in REJECTS_FORMATS:
        raise InputError("rejects_format must be 'gpkg' or 'geojson'")


def _store(store_obj, report, accepted, schema, existing, replaced_ids, *, mode, valid_from=None):
    """Step "store": one atomic write of the accepted features, then read them back.

    Nothing is written when nothing is imported. The store must then hold exactly what
    the report says (:func:`kosovo_cmr.import_store.verify_stored`).
    """
    if len(accepted) != report.imported:
        raise AccountingError(
            f"{report.source} -> {report.layer}: {len(accepted)} feature(s) to write for "
            f"{report.imported} imported; nothing was written. This is a kosovo_cmr defect"
        )
    if report.imported:
        expected = expected_layer(accepted, schema, existing, replaced_ids, mode=mode)
        try:
            written = write_layer(
                store_obj, accepted, schema, existing, replaced_ids, mode=mode,
                source=report.source, valid_from=valid_from,
            )  # fmt: skip
        except StoreError:
            raise
        except OSError as exc:  # a read-only or full file system met on the way
            raise StoreError(
                f"cannot write layer {schema.name!r} of {store_obj.uri}: "
                f"{' '.join(str(exc).split())[:300]}; the store is left as it was"
            ) from exc
        import_id = getattr(written, "import_id", None)
        report.notices.extend(
            verify_stored(store_obj, schema, expected, import_id=import_id, accepted=accepted)
        )
    elif mode == "replace":
        report.notices.append(
            f"nothing to import: layer {schema.name!r} was left as it was, not emptied"
        )


def _read(source, schema, *, crs, field_map, mapping=None, **options):
    """Step "read": the source's features, its CRS, the notices so far and the renames.

    The renames are ``field_map`` (``--map-fields``) over the entries of the mapping
    file (``--mapping``, issue 16) whose field the source has.
    """
    file_map = read_mapping(mapping) if mapping is not None else None
    src = read_source(
        source,
        crs=crs,
        geometry_type=schema.geometry_type,
        columns={**(file_map.fields(schema.name) if file_map else {}), **field_map},
        **options,
    )
    notices = list(src.notices)
    field_map = source_renames(file_map, schema.name, src.frame.columns, explicit=field_map,
                               notices=notices)  # fmt: skip
    rename_reserved(src, notices)
    keep = [*field_map, *schema.column_names]  # names --map-fields uses stay as they are
    src.frame = rename_case_twins(src.frame, notices, keep=keep)
    src_crs = _resolve_crs(src, crs, notices)
    return src, src_crs, notices, field_map


def _resolve_crs(src: SourceData, crs, notices: list[str]):
    """Return the CRS of the source's geometries: its own or ``crs``, legacy codes mapped."""
    from pyproj import CRS, Transformer
    from pyproj.exceptions import ProjError

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
    try:  # a local engineering CRS, say, has no way to the storage CRS
        Transformer.from_crs(normal, settings.storage_crs, always_xy=True)
    except ProjError as exc:
        raise CRSError(
            f"{src.path}: its CRS {_crs_text(normal)!r} cannot be transformed to "
            f"{settings.storage_crs} ({exc}); pass --crs with the CRS the coordinates are in"
        ) from exc
    return normal


def _crs_text(crs) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name
