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

__all__ = [
    "__version__",
    "SCHEMAS",
    "CRSError",
    "InputError",
    "KcmrError",
    "MissingDependencyError",
    "SchemaError",
    "StoreError",
    "check",
    "conform",
    "geodesic_area",
    "normalize_crs",
    "open_store",
    "read_municipalities",
    "regions_from_municipalities",
    "require_crs",
    "to_metric",
    "to_storage",
    "validate",
]
