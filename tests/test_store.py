import os
import signal
import subprocess
import sys
import textwrap
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from kosovo_cmr import store as store_mod
from kosovo_cmr.errors import CRSError, SchemaError, StoreError
from kosovo_cmr.store import open_store
from kosovo_cmr.store._gpkg_session import GpkgSession


def hazards(n=3, prefix="H"):
    return gpd.GeoDataFrame(
        {
            "hazard_id": [f"{prefix}{i}" for i in range(n)],
            "kind": ["CHA"] * n,
            "status": ["active"] * n,
            "priority": ["high", None, "low"][:n] + [None] * (n - 3),
            "recorded": pd.to_datetime(["2022-05-01"] * n),
            "synthetic": [False] * n,
            "municipality": ["Pejë"] * n,
        },
        geometry=[box(21 + i * 0.01, 42.5, 21.005 + i * 0.01, 42.505) for i in range(n)],
        crs=4326,
    )


def test_write_read_round_trip_keeps_values_and_dtypes(tmp_path):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards(), "hazards", source="unit test")
    back = s.read("hazards")
    assert back.crs.to_epsg() == 4326
    assert back["hazard_id"].tolist() == ["H0", "H1", "H2"]
    assert back["priority"].tolist()[1] is None or pd.isna(back["priority"].tolist()[1])
    assert back["municipality"].tolist() == ["Pejë"] * 3  # diacritics intact
    assert pd.api.types.is_datetime64_any_dtype(back["recorded"])
    assert back["synthetic"].dtype == bool
    assert back.geom_type.unique().tolist() == ["MultiPolygon"]
    assert back.geometry.iloc[0].equals(hazards().geometry.iloc[0])


def test_layers_are_stored_in_the_storage_crs(tmp_path):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards().to_crs(9141), "hazards")
    back = s.read("hazards")
    assert back.crs.to_epsg() == 4326
    assert back.geometry.iloc[0].buffer(1e-9).contains(hazards().geometry.iloc[0].centroid)
    assert s.provenance("hazards")["source_crs"].iloc[0] == "EPSG:9141"


def test_provenance_records_every_write(tmp_path):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards(2), "hazards", source="first.shp")
    s.write(hazards(1, prefix="X"), "hazards", mode="append", source="second.gpx")
    prov = s.provenance("hazards")
    assert prov["source"].tolist() == ["first.shp", "second.gpx"]
    assert prov["mode"].tolist() == ["replace", "append"]
    assert prov["feature_count"].tolist() == [2, 3]
    assert set(prov["package_version"]) == {store_mod.base.__version__}
    assert all(prov["written_at"].str.endswith("+00:00"))
    assert len(s.read("hazards")) == 3


def test_append_refuses_duplicate_ids(tmp_path):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards(2), "hazards")
    with pytest.raises(StoreError, match="duplicate 2 id"):
        s.write(hazards(2), "hazards", mode="append")
    assert len(s.read("hazards")) == 2


def test_schema_violations_write_nothing(tmp_path):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards(), "hazards")
    bad = hazards()
    bad.loc[0, "kind"] = "maybe"
    bad.loc[1, "hazard_id"] = "H0"
    with pytest.raises(SchemaError) as info:
        s.write(bad, "hazards")
    assert {v.code for v in info.value.violations} == {"value_not_allowed", "duplicate_id"}
    assert s.read("hazards")["kind"].tolist() == ["CHA"] * 3


def test_layer_without_crs_is_refused(tmp_path):
    s = open_store(tmp_path / "s.gpkg")
    with pytest.raises(CRSError):
        s.write(hazards().set_crs(None, allow_override=True), "hazards")
    assert not (tmp_path / "s.gpkg").exists()


def test_info_lists_layers_with_counts_crs_and_geodesic_area(tmp_path):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards(), "hazards")
    info = s.info()
    row = info.iloc[0]
    assert (row.layer, row.features, row.crs) == ("hazards", 3, "EPSG:4326")
    assert row.area_m2 == pytest.approx(3 * 0.005 * 0.005 * 82_000 * 111_000, rel=0.02)


def test_opening_errors(tmp_path):
    with pytest.raises(StoreError, match="not found"):
        open_store(tmp_path / "missing.gpkg", create=False)
    with pytest.raises(StoreError, match="must be a .gpkg"):
        open_store(tmp_path / "store.shp")
    with pytest.raises(StoreError, match="folder"):
        open_store(tmp_path / "no" / "such" / "s.gpkg")
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards(), "hazards")
    with pytest.raises(StoreError, match="not in store"):
        s.read("evidence")


def _snapshot(store):
    return {name: store.read(name) for name in store.layers()}, store.provenance()


def test_failure_in_the_middle_of_a_write_leaves_the_store_intact(tmp_path, monkeypatch):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards(3), "hazards", source="original")
    before_bytes = (tmp_path / "s.gpkg").read_bytes()
    before, prov = _snapshot(s)

    real = GpkgSession.replace_layer

    def half_then_fail(self, layer, frame):
        real(self, layer, frame.iloc[: len(frame) // 2])  # half the features land
        raise OSError("disk full (injected)")

    monkeypatch.setattr(GpkgSession, "replace_layer", half_then_fail)
    with pytest.raises(StoreError, match="injected"):
        s.write(hazards(10, prefix="N"), "hazards", source="doomed")

    assert (tmp_path / "s.gpkg").read_bytes() == before_bytes
    after, prov_after = _snapshot(s)
    pd.testing.assert_frame_equal(after["hazards"], before["hazards"])
    pd.testing.assert_frame_equal(prov_after, prov)
    assert len(s.versions("hazards")) == 3
    assert not (tmp_path / "s.gpkg-journal").exists(), "journal left behind"


def test_failure_after_every_table_is_written_writes_nothing(tmp_path, monkeypatch):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards(3), "hazards")
    before_bytes = (tmp_path / "s.gpkg").read_bytes()
    real = GpkgSession.replace_layer

    def then_crash(self, layer, frame):
        real(self, layer, frame)  # the layer, its versions and its import are written
        raise RuntimeError("crash (injected)")

    monkeypatch.setattr(GpkgSession, "replace_layer", then_crash)
    with pytest.raises(RuntimeError, match="injected"):
        s.write(hazards(5, prefix="N"), "hazards")
    assert s.read("hazards")["hazard_id"].tolist() == ["H0", "H1", "H2"]
    assert len(s.provenance()) == 1 and len(s.versions("hazards")) == 3
    assert (tmp_path / "s.gpkg").read_bytes() == before_bytes


KILLED_WRITER = textwrap.dedent("""
    import sys
    import geopandas as gpd, numpy as np
    from shapely import points
    from kosovo_cmr.store import open_store
    n = 400_000
    rng = np.random.default_rng(1)
    gdf = gpd.GeoDataFrame(
        {"evidence_id": [f"N{i}" for i in range(n)], "item": ["crater"] * n,
         "ordnance": ["unknown"] * n, "synthetic": [True] * n},
        geometry=points(rng.uniform(20.2, 21.6, n), rng.uniform(42.0, 43.1, n)), crs=4326)
    print("writing", flush=True)
    open_store(sys.argv[1]).write(gdf, "evidence", source="killed")
""")


@pytest.mark.slow
def test_a_killed_writer_leaves_the_store_intact(tmp_path):
    path = tmp_path / "s.gpkg"
    s = open_store(path)
    original = gpd.GeoDataFrame(
        {
            "evidence_id": ["E1", "E2"],
            "item": ["crater", "component"],
            "ordnance": ["unknown", "BLU-97"],
            "synthetic": [False, False],
        },
        geometry=[Point(21, 42.5), Point(21.1, 42.6)],
        crs=4326,
    )
    s.write(original, "evidence", source="original")
    s.write(hazards(), "hazards")
    before_bytes = path.read_bytes()

    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "writing"
    # wait until the writer is inside its transaction and has changed the file itself:
    # SQLite's journal exists and the store has grown (pages spilled before the commit)
    journal = tmp_path / "s.gpkg-journal"
    deadline = time.monotonic() + 120
    inside = False
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and path.stat().st_size > len(before_bytes) + 100_000:
            inside = True
            break
        time.sleep(0.005)
    assert inside, "the writer never got inside its transaction"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert journal.exists() and path.read_bytes() != before_bytes  # really half-written

    reopened = open_store(path)  # opening rolls the hot journal back
    assert path.read_bytes() == before_bytes
    assert not journal.exists()
    back = reopened.read("evidence")
    assert back["evidence_id"].tolist() == ["E1", "E2"]
    assert reopened.provenance("evidence")["source"].tolist() == ["original"]
    assert len(reopened.versions("evidence")) == 2
    reopened.write(original.assign(evidence_id=["E3", "E4"]), "evidence", mode="append")
    assert len(reopened.read("evidence")) == 4


def test_write_many_is_all_or_nothing(tmp_path):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards(), "hazards")
    bad_evidence = gpd.GeoDataFrame(
        {"evidence_id": ["E1"], "item": ["nonsense"]}, geometry=[Point(21, 42.5)], crs=4326
    )
    with pytest.raises(SchemaError):
        s.write_many({"hazards": hazards(1, prefix="Z"), "evidence": bad_evidence})
    assert s.read("hazards")["hazard_id"].tolist() == ["H0", "H1", "H2"]
    assert s.layers() == ["hazards"]


def test_empty_layer_round_trips(tmp_path):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards().iloc[:0], "hazards")
    back = s.read("hazards")
    assert len(back) == 0 and "hazard_id" in back.columns
    assert np.isclose(s.info().area_m2.iloc[0], 0.0)


@pytest.mark.parametrize("rows", [1, 2, 3, 4, 100])
def test_read_chunks_concatenate_to_read(tmp_path, rows):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards(7), "hazards")
    chunks = list(s.read_chunks("hazards", rows))
    assert [len(c) for c in chunks][:-1] == [rows] * (len(chunks) - 1)
    assert len(chunks) == max(1, -(-7 // rows))
    whole = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(whole, s.read("hazards"))
    assert all(c.crs == "EPSG:4326" for c in chunks)


def test_read_chunks_of_an_empty_layer_and_bad_requests(tmp_path):
    s = open_store(tmp_path / "s.gpkg")
    s.write(hazards().iloc[:0], "hazards")
    (only,) = list(s.read_chunks("hazards", 10))
    assert len(only) == 0 and list(only.columns) == list(s.read("hazards").columns)
    with pytest.raises(StoreError, match="positive whole number"):
        list(s.read_chunks("hazards", 0))
    with pytest.raises(StoreError, match="not in store"):
        list(s.read_chunks("evidence", 10))
