"""kosovo_cmr: GIS for the survey and clearance of cluster munition remnants in Kosovo.

The package loads hazardous areas, evidence points, strike locations and land release
records as GeoDataFrames, keeps them in a store (a GeoPackage by default), and measures,
reports and maps them. See https://kosovo-cmr.readthedocs.io (the ``docs/`` folder).
"""

from kosovo_cmr import _deprecated, _resources
from kosovo_cmr._version import __version__
from kosovo_cmr.boundaries import read_municipalities, regions_from_municipalities
from kosovo_cmr.crs import geodesic_area, normalize_crs, require_crs, to_metric, to_storage
from kosovo_cmr.errors import (
    CRSError,
    InputError,
    KcmrError,
    MissingDependencyError,
    SchemaError,
    StoreError,
)
from kosovo_cmr.schema import SCHEMAS, check, conform, validate
from kosovo_cmr.store import open_store

_deprecated.install()  # old module paths (kosovo_cmr.fadeout, ...) keep working, with a warning
_resources.register_source_layers()  # kosovo_cmr.layers when run from a source tree

#: The public API, grouped as the user guide walks it: name -> the module that defines it.
#: Imported on first use (``kosovo_cmr.delineate`` loads the fade-out analysis, not the maps).
API: dict[str, str] = {
    # reading, checking and storing layers
    "import_layer": "kosovo_cmr.importer",
    "validate_source": "kosovo_cmr.importer",
    "ImportReport": "kosovo_cmr.import_report",
    "copy_store": "kosovo_cmr.store.copy",
    "feature_history": "kosovo_cmr.store.history",
    "diff": "kosovo_cmr.store.history",
    "verify": "kosovo_cmr.workflows.records",
    # analyses: frames and settings in, frames and result objects out
    "FadeoutRule": "kosovo_cmr.analysis.rules",
    "load_rule": "kosovo_cmr.analysis.rules",
    "shipped_rules": "kosovo_cmr.analysis.rules",
    "delineate": "kosovo_cmr.analysis.fadeout",
    "buffer_impact": "kosovo_cmr.analysis.fadeout",
    "ImpactResult": "kosovo_cmr.analysis.fadeout",
    "union_area_m2": "kosovo_cmr.analysis.fadeout",
    "cha_consistency": "kosovo_cmr.analysis.cha_check",
    "assign_units": "kosovo_cmr.analysis.overlay",
    "contamination_by_unit": "kosovo_cmr.analysis.overlay",
    "land_release_report": "kosovo_cmr.report",
    "terrain_stats": "kosovo_cmr.analysis.terrain",
    "clearance_effort": "kosovo_cmr.analysis.effort",
    "infer_strikes": "kosovo_cmr.analysis.strikes",
    "evidence_audit": "kosovo_cmr.analysis.audit",
    "priority_scores": "kosovo_cmr.analysis.priority",
    # workflows: read a store, run the analyses, hand the results to the outputs
    "impact_from_store": "kosovo_cmr.workflows.fadeout",
    "rule_change_from_store": "kosovo_cmr.workflows.fadeout",
    "contamination_from_store": "kosovo_cmr.workflows.fadeout",
    "report_from_store": "kosovo_cmr.workflows.report",
    "terrain_from_store": "kosovo_cmr.workflows.terrain",
    "plan_from_store": "kosovo_cmr.workflows.forecast",
    "forecast_from_store": "kosovo_cmr.workflows.forecast",
    "audit_from_store": "kosovo_cmr.workflows.audit",
    "priorities_from_store": "kosovo_cmr.workflows.priority",
    "map_from_store": "kosovo_cmr.workflows.maps",
    "field_sheets_from_store": "kosovo_cmr.workflows.fieldsheets",
    # outputs: draw and write what they are given
    "write_report": "kosovo_cmr.report.render",
    "interactive_map": "kosovo_cmr.outputs.maps",
    "save_map": "kosovo_cmr.outputs.maps",
    "export_layer": "kosovo_cmr.outputs.export",
    "to_gpx": "kosovo_cmr.outputs.gps",
    "to_kml": "kosovo_cmr.outputs.kml",
    # the demo (SYNTHETIC layers)
    "run_demo": "kosovo_cmr.demo",
}

__all__ = [
    "__version__",
    # errors
    "CRSError",
    "InputError",
    "KcmrError",
    "MissingDependencyError",
    "SchemaError",
    "StoreError",
    # layers, CRS and boundaries
    "SCHEMAS",
    "check",
    "conform",
    "validate",
    "geodesic_area",
    "normalize_crs",
    "require_crs",
    "to_metric",
    "to_storage",
    "read_municipalities",
    "regions_from_municipalities",
    "open_store",
    *API,
]


def __getattr__(name: str):
    """Import a public name of :data:`API` on first use (PEP 562)."""
    module = API.get(name)
    if module is None:
        raise AttributeError(f"module 'kosovo_cmr' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(API))
