"""The QGIS plugin: registers the Processing provider while the plugin is loaded."""

from __future__ import annotations

from qgis.core import QgsApplication

from .provider import KcmrProvider


class KcmrPlugin:
    """Adds the kosovo_cmr provider to the Processing toolbox (and removes it on unload)."""

    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None

    def initProcessing(self) -> None:  # noqa: N802 (QGIS's names)
        """Register the provider (also called by QGIS without a GUI, e.g. qgis_process)."""
        if self.provider is None:
            self.provider = KcmrProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802
        """Register the provider when QGIS loads the plugin."""
        self.initProcessing()

    def unload(self) -> None:
        """Remove the provider when QGIS unloads the plugin."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
