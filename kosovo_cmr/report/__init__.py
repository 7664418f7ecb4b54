"""The yearly land release report: tables, reconciliation, published figures, rendering.

``tables`` computes the Mine Action Review tables from the layers, ``ledger`` the
reconciliation, ``published`` checks a publication's printed figures, and ``render``
writes a report as Markdown, HTML, JSON, CSV or XLSX.
"""

from kosovo_cmr.report.tables import *  # noqa: F403  (restructured in the next commits)
from kosovo_cmr.report.tables import __all__  # noqa: F401


def __getattr__(name: str):
    """Names that left the report for another module (old spellings, with a warning)."""
    from kosovo_cmr._deprecated import moved_name

    return moved_name(__name__, name)
