"""SYNTHETIC demo data, generated from a fixed seed: layers and rasters, never real hazards.

No hazard polygons, evidence points or strike locations of Kosovo are public, so the demo
runs on data generated here (:data:`kosovo_cmr.settings.demo_seed`): the vector layers of
``layers/demo/`` (:mod:`kosovo_cmr.synthetic.layers`), and the DEM and land cover of the
planning demo. Every feature carries ``synthetic = true`` and an id starting ``DEMO-``.

Regenerate the shipped layers with ``python -m kosovo_cmr.synthetic layers/demo``.
"""

from kosovo_cmr.synthetic.layers import (
    CLEARANCE_BY_YEAR,
    RELEASES_2024,
    TABLE1,
    generate,
    write_layers,
)
from kosovo_cmr.synthetic.terrain import synthetic_terrain

__all__ = ["generate", "write_layers", "TABLE1", "RELEASES_2024", "CLEARANCE_BY_YEAR"]
__all__ += ["synthetic_terrain"]
