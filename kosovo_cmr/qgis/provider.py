"""The kosovo_cmr Processing provider: every algorithm, in the toolbox group kosovo_cmr."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider

from .fadeout import BufferImpactAlgorithm, ChaCheckAlgorithm, DelineateAlgorithm
from .importing import ImportAlgorithm, ValidateAlgorithm
from .outputs import ExportAlgorithm, FieldSheetsAlgorithm, StyleStoreAlgorithm
from .report import OverlayAlgorithm, ReportAlgorithm

#: The provider's algorithms, in the order of the workflow: import, analyse, report, write.
ALGORITHMS = (
    ValidateAlgorithm,
    ImportAlgorithm,
    DelineateAlgorithm,
    BufferImpactAlgorithm,
    ChaCheckAlgorithm,
    OverlayAlgorithm,
    ReportAlgorithm,
    FieldSheetsAlgorithm,
    ExportAlgorithm,
    StyleStoreAlgorithm,
)


class KcmrProvider(QgsProcessingProvider):
    """The ``kosovo_cmr`` provider: algorithms ``kosovo_cmr:<name>``."""

    def id(self) -> str:
        """Return the provider id, the prefix of its algorithms' ids."""
        return "kosovo_cmr"

    def name(self) -> str:
        """Return the name shown in the toolbox."""
        return "kosovo_cmr (CMR survey and clearance)"

    def longName(self) -> str:  # noqa: N802 (QGIS's names)
        """Return the name with the library's version."""
        from kosovo_cmr._version import __version__

        return f"kosovo_cmr {__version__}"

    def loadAlgorithms(self) -> None:  # noqa: N802
        """Add every algorithm of :data:`ALGORITHMS`."""
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())
