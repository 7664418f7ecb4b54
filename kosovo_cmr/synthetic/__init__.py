"""SYNTHETIC demo data, generated from a fixed seed: layers and rasters, never real hazards.

No hazard polygons, evidence points or strike locations of Kosovo are public, so the demo
runs on data generated here (:data:`kosovo_cmr.settings.demo_seed`): the vector layers of
``layers/demo/`` (:mod:`kosovo_cmr.synthetic.layers`), which reproduce the published
figures of ``layers/published/`` (:mod:`kosovo_cmr.synthetic.targets`), and the DEM and
land cover of the planning demo. Every feature carries ``synthetic = true`` and an id
starting ``DEMO-``.

Regenerate the shipped layers with ``python -m kosovo_cmr.synthetic layers/demo``.
"""

from kosovo_cmr import _deprecated
from kosovo_cmr.synthetic.layers import generate, write_layers
from kosovo_cmr.synthetic.targets import CLEARANCE_BY_YEAR, RELEASES_2024, TABLE1
from kosovo_cmr.synthetic.terrain import synthetic_terrain

__all__ = [
    "generate",
    "write_layers",
    "synthetic_terrain",
    "TABLE1",
    "RELEASES_2024",
    "CLEARANCE_BY_YEAR",
]


def __getattr__(name: str):
    """Find the names that left the 0.1 module ``kosovo_cmr.synthetic`` (with a warning)."""
    return _deprecated.moved_name(__name__, name)
