"""Layer schemas and the one function that checks a layer against its schema.

Five layers make up a store: ``hazards`` (CHA/SHA polygons), ``evidence`` (points where
items were found), ``strikes`` (cluster-bomb footprints), ``releases`` (land release
records) and ``boundaries`` (municipalities with their KMAC region). Each schema names
its columns with a logical kind (text, int, float, bool, date), whether nulls are
allowed, the allowed values or range, and the geometry type
(:mod:`kosovo_cmr.schema.definitions`).

:func:`validate` reports *every* violation, :func:`check` raises one
:class:`~kosovo_cmr.errors.SchemaError` carrying them all, and :func:`conform` makes the
lossless conversions (text dates to dates, Polygon to MultiPolygon, ...) that a layer read
from a file usually needs first (:mod:`kosovo_cmr.schema.validation`). Columns that a
schema does not name are kept.
"""

from kosovo_cmr.schema.definitions import (
    ACTIVITIES,
    ACTIVITY_STATUS,
    DEVICE_ITEMS,
    EVIDENCE_CLASSES,
    EVIDENCE_SOURCES,
    KINDS,
    KINDS_OF_HAZARD,
    LAYERS,
    ORDNANCE,
    SCHEMAS,
    VERIFICATION,
    Column,
    LayerSchema,
    get_schema,
)
from kosovo_cmr.schema.validation import Violation, check, conform, validate

__all__ = [
    "Column",
    "LayerSchema",
    "Violation",
    "SCHEMAS",
    "LAYERS",
    "KINDS",
    "ORDNANCE",
    "get_schema",
    "validate",
    "check",
    "conform",
    # issue 15: the programme's records
    "KINDS_OF_HAZARD",
    "VERIFICATION",
    "EVIDENCE_CLASSES",
    "EVIDENCE_SOURCES",
    "ACTIVITIES",
    "ACTIVITY_STATUS",
    "DEVICE_ITEMS",
]
