"""Evidence points for the fade-out tests, built from metric coordinates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from kosovo_cmr import settings

METRIC = settings.metric_crs
TO_METRIC = Transformer.from_crs(4326, METRIC, always_xy=True)


def evidence_at(x, y, *, ordnance="BLU-97", item="component", crs=4326, **cols):
    """Evidence points from metric coordinates, stored in EPSG:4326."""
    x = np.atleast_1d(np.asarray(x, float))
    y = np.atleast_1d(np.asarray(y, float))
    n = len(x)
    gdf = gpd.GeoDataFrame(
        {
            "evidence_id": [f"E{i}" for i in range(n)],
            "ordnance": np.resize(np.asarray(ordnance, dtype=object), n),
            "item": np.resize(np.asarray(item, dtype=object), n),
            **cols,
        },
        geometry=shapely.points(x, y),
        crs=METRIC,
    )
    return gdf.to_crs(crs)
