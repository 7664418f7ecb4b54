"""The dask engine: the fade-out rule change by region, on partitions, as the local engine.

Runs :func:`kosovo_cmr.analysis.fadeout.buffer_impact` on the synthetic demo evidence with the
local engine and with ``engine="dask"`` (4 spatial partitions, dask's threads), first from
the in-memory GeoDataFrame, then from GeoParquet files read by
``dask_geopandas.read_parquet`` (the way to hand it evidence too large for one process:
the workers read the files), and shows that the tables agree. For a cluster, pass
``scheduler="tcp://HOST:8786"`` and set ``KCMR_DASK_SPILL_DIR`` to a folder every
worker shares (see the "Team and scale" guide).

Needs the ``scale`` extra. Run from anywhere::

    python examples/scale_engine.py
"""

import tempfile
from pathlib import Path

import dask_geopandas
import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr.analysis.fadeout import buffer_impact
from kosovo_cmr.boundaries import read_municipalities
from kosovo_cmr.demo import read_demo_layer

evidence = read_demo_layer("evidence")  # SYNTHETIC demo points
municipalities = read_municipalities(settings.resolve_boundaries_path())
kw = {"by": "region", "boundaries": municipalities}

local = buffer_impact(evidence, "kosovo-pre-2024", "kosovo-nmas-2024", **kw)
dask = buffer_impact(
    evidence, "kosovo-pre-2024", "kosovo-nmas-2024", engine="dask", npartitions=4, **kw
)
print("SYNTHETIC demo evidence: fade-out 50 m -> 25 m by region (dask engine)")
print(dask.table.round({"area_from_m2": 0, "area_to_m2": 0, "saved_m2": 0, "saved_pct": 1}))
pd.testing.assert_frame_equal(dask.table, local.table, rtol=1e-4)
worst = max(
    abs(dask.total[k] - local.total[k]) / local.total[k] for k in ("area_from_m2", "area_to_m2")
)
print(f"dask vs local: largest relative difference of the totals {worst:.1e} (bound 1e-4)")

with tempfile.TemporaryDirectory() as folder:
    for k, start in enumerate(range(0, len(evidence), 1_000)):  # a folder of GeoParquet files
        part = evidence.iloc[start : start + 1_000]
        part.to_parquet(Path(folder) / f"evidence.{k:03d}.parquet")
    from_files = dask_geopandas.read_parquet(folder)
    print(f"read lazily from {from_files.npartitions} GeoParquet files")
    dask_files = buffer_impact(
        from_files, "kosovo-pre-2024", "kosovo-nmas-2024", engine="dask", **kw
    )
pd.testing.assert_frame_equal(dask_files.table, local.table, rtol=1e-4)
print("from files: the same table as the local engine")
