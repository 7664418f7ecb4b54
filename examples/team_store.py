"""A team store in PostGIS: load the demo layers, append from two writers, copy to a GeoPackage.

Needs a PostgreSQL server with PostGIS (``.ci/setup.d/postgis.sh`` starts one on
127.0.0.1) and the ``postgis`` extra. The server is ``KCMR_TEST_POSTGRES_URL`` or
``postgresql://kcmr:kcmr@127.0.0.1:5432/kcmr_test``; the example works in its own
PostgreSQL schema (``team_store_example``) and replaces its layers on every run (the
provenance table keeps the history of every run).

Run from anywhere::

    python examples/team_store.py
"""

import os
import tempfile
from pathlib import Path

import pandas as pd

from kosovo_cmr import settings
from kosovo_cmr.boundaries import read_municipalities
from kosovo_cmr.demo import read_demo_layer
from kosovo_cmr.store import open_store
from kosovo_cmr.store.copy import copy_store

server = os.environ.get("KCMR_TEST_POSTGRES_URL", "postgresql://kcmr:kcmr@127.0.0.1:5432/kcmr_test")
url = f"{server}{'&' if '?' in server else '?'}schema=team_store_example"

# 1. The team's store on the server: the synthetic demo layers and the real boundaries.
store = open_store(url)
print(f"store: {store.uri}")
layers = {name: read_demo_layer(name) for name in ("hazards", "strikes", "releases")}
layers["boundaries"] = read_municipalities(settings.resolve_boundaries_path())
store.write_many(layers, source="examples/team_store.py")

# 2. Two operators send their evidence; each append is one transaction under the store's
#    lock, so neither can overwrite the other's rows (see the guide "Team and scale").
evidence = read_demo_layer("evidence")
halo = evidence[evidence["evidence_id"].str[-1].isin(list("02468"))]
npa = evidence.drop(halo.index)
store.write(halo, "evidence", source="halo-2024.gpx")
store.write(npa, "evidence", mode="append", source="npa-2024.gpx")
assert len(store.read("evidence")) == len(evidence)

with pd.option_context("display.width", 120, "display.max_columns", 10):
    print(store.info()[["layer", "features", "crs", "area_m2", "source"]].to_string(index=False))
    history = store.provenance().tail(6)  # this run's six writes
    print(history[["layer", "mode", "source", "feature_count"]].to_string(index=False))

# 3. The history: an operator resubmits one hazard; the old polygon is kept as a version.
hazards = store.read("hazards")
first = hazards["hazard_id"].iloc[0]
resubmitted = hazards[hazards["hazard_id"] == first].copy()
resubmitted["priority"] = "high"
record = store.write(resubmitted, "hazards", mode="upsert", source="halo-resubmission.shp")
print(f"import {record.import_id}: {record.changed} hazard changed")
from kosovo_cmr.store.history import diff, feature_history  # noqa: E402

print(feature_history(store, first)[["version_id", "valid_from", "changed_columns", "source"]]
      .tail(2).to_string(index=False))  # fmt: skip
print(diff(store, from_import=record.import_id - 1, to_import=record.import_id)
      [["layer", "id", "change", "changed_columns"]].to_string(index=False))  # fmt: skip

# 4. An officer takes a copy home in a GeoPackage; everything comes back identical.
with tempfile.TemporaryDirectory() as tmp:
    laptop = Path(tmp) / "field-copy.gpkg"
    copy_store(store, laptop)
    copy = open_store(laptop)
    for name in store.layers():
        pd.testing.assert_frame_equal(copy.read(name), store.read(name))
    print(f"copied {', '.join(copy.layers())} to {laptop.name}: identical")
