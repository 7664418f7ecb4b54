"""The yearly land release report: tables, reconciliation, published figures, rendering.

:func:`land_release_report` computes the report of a year from the layers, as one
JSON-ready dict: :mod:`~kosovo_cmr.report.tables` holds the Mine Action Review tables
and the indicators, :mod:`~kosovo_cmr.report.ledger` the reconciliation ledger and the
district label check, :mod:`~kosovo_cmr.report.published` the check of a publication's
printed figures. The renderers (:mod:`kosovo_cmr.report.render` and the ``render_*``
modules beside it) write the dict as Markdown, HTML, JSON, CSV or XLSX; the report of a
store is :func:`kosovo_cmr.workflows.report.report_from_store`.
"""

from kosovo_cmr.report.land_release import land_release_report
from kosovo_cmr.report.ledger import (
    CAUSES,
    TOLERANCE_M2,
    check_district_labels,
    contamination_at,
    reconcile,
)
from kosovo_cmr.report.tables import (
    METHODS,
    clearance_by_district,
    clearance_by_year,
    cleared_without_cmr,
    contamination_by_region,
    indicators,
    release_areas,
    release_by_method,
    releases_by_district,
)

__all__ = [
    "METHODS",
    "CAUSES",
    "TOLERANCE_M2",
    "release_areas",
    "contamination_by_region",
    "release_by_method",
    "releases_by_district",
    "clearance_by_district",
    "cleared_without_cmr",
    "clearance_by_year",
    "indicators",
    "check_district_labels",
    "contamination_at",
    "reconcile",
    "land_release_report",
]


def __getattr__(name: str):
    """Names that left the report for another module (old spellings, with a warning)."""
    from kosovo_cmr._deprecated import moved_name

    return moved_name(__name__, name)
