"""The dask engine: the fade-out rule change by region, on partitions, as the local engine.

Runs :func:`kosovo_cmr.engine.buffer_impact` on the synthetic demo evidence with the
local engine and with the dask engine (4 spatial partitions, dask's threads), and shows
that the tables agree. For a cluster, pass ``scheduler="tcp://HOST:8786"``.

Needs the ``scale`` extra. Run from anywhere::

    python examples/scale_engine.py
"""

import pandas as pd

from kosovo_cmr import engine, settings
from kosovo_cmr.boundaries import read_municipalities
from kosovo_cmr.demo import read_demo_layer

evidence = read_demo_layer("evidence")  # SYNTHETIC demo points
municipalities = read_municipalities(settings.resolve_boundaries_path())

results = {
    name: engine.buffer_impact(
        evidence,
        "kosovo-pre-2024",
        "kosovo-nmas-2024",
        by="region",
        boundaries=municipalities,
        engine=name,
        npartitions=4 if name == "dask" else None,
    )
    for name in ("local", "dask")
}
local, dask = results["local"], results["dask"]
print("SYNTHETIC demo evidence: fade-out 50 m -> 25 m by region (dask engine)")
print(dask.table.round({"area_from_m2": 0, "area_to_m2": 0, "saved_m2": 0, "saved_pct": 1}))
pd.testing.assert_frame_equal(dask.table, local.table, rtol=1e-4)
worst = max(
    abs(dask.total[k] - local.total[k]) / local.total[k] for k in ("area_from_m2", "area_to_m2")
)
print(f"dask vs local: largest relative difference of the totals {worst:.1e} (bound 1e-4)")
