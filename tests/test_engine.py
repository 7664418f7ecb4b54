"""The dask engine gives the local engine's results (kosovo_cmr.analysis.engine).

The analyses take ``engine=``: fade-out delineation and impact, hazard overlays.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from kosovo_cmr.analysis import _dask, _halo, engine
from kosovo_cmr.analysis.fadeout import ImpactResult, buffer_impact, delineate
from kosovo_cmr.analysis.overlay import contamination_by_unit, units_for
from kosovo_cmr.demo import read_demo_layer
from kosovo_cmr.errors import InputError

pytest.importorskip("dask_geopandas", reason="the 'scale' extra is not installed")

RTOL = 1e-4  # 0.01 %, the bound; the engines agree far more closely


@pytest.fixture(scope="module")
def evidence():
    return read_demo_layer("evidence")


def _clustered(n_clusters=60, per=40, seed=7, chain=200):
    """Strike-like clusters in Kosovo plus a chain of touching disks across the country."""
    rng = np.random.default_rng(seed)
    cx = rng.uniform(7_420_000, 7_560_000, n_clusters)
    cy = rng.uniform(4_650_000, 4_760_000, n_clusters)
    x = np.repeat(cx, per) + rng.normal(0, 60, n_clusters * per)
    y = np.repeat(cy, per) + rng.normal(0, 30, n_clusters * per)
    # a chain: points 40 m apart (25 m disks touch) across 8 km, through many partitions
    t = np.arange(chain) * 40.0
    x = np.concatenate([x, 7_480_000 + t])
    y = np.concatenate([y, 4_700_000 + 0.3 * t])
    n = len(x)
    return gpd.GeoDataFrame(
        {
            "evidence_id": [f"P-{i}" for i in range(n)],
            "hazard_id": rng.choice(["H-1", "H-2", None], n),
            "item": rng.choice(["submunition", "fragments", "crater"], n),
            "ordnance": rng.choice(["BLU-97", "BL755", "unknown"], n),
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:9141",
    ).to_crs(4326)


def _sorted_clusters(frame):
    return frame.sort_values(["area_m2", "evidence"]).reset_index(drop=True)


@pytest.mark.parametrize("npartitions", [1, 3, 8])
def test_delineate_same_clusters_as_local(npartitions, caplog):
    ev = _clustered()
    local = delineate(ev, "kosovo-nmas-2024")
    with caplog.at_level("INFO", logger="kosovo_cmr.analysis.engine"):
        dask = delineate(ev, "kosovo-nmas-2024", engine="dask", npartitions=npartitions)
    (message,) = [r.getMessage() for r in caplog.records if "cluster moves" in r.getMessage()]
    moves = int(message.split(", ")[1].split()[0])
    assert (moves > 0) == (npartitions > 1), message  # the chain crosses partitions
    assert len(dask) == len(local)
    a, b = _sorted_clusters(local), _sorted_clusters(dask)
    np.testing.assert_allclose(b["area_m2"], a["area_m2"], rtol=1e-9)
    assert b["evidence"].tolist() == a["evidence"].tolist()
    assert dask["evidence"].sum() == len(ev)
    assert dask["cluster_id"].tolist() == list(range(1, len(dask) + 1))
    assert dask.crs == ev.crs
    # the chain crosses partitions and must still be one cluster
    assert dask["evidence"].max() == local["evidence"].max() >= 200


def test_partitions_hold_every_point_once_and_whole_clusters():
    from kosovo_cmr.analysis.fadeout import load_rule

    ev = _clustered(seed=3)
    rule = load_rule("kosovo-pre-2024")
    parts = engine.cluster_labels(
        ev, radius_m=lambda p: rule.distances_m(p), npartitions=6, scheduler="synchronous"
    )
    ids = pd.concat([p["evidence_id"] for p in parts])
    assert len(parts) == 6
    assert not ids.duplicated().any()
    assert set(ids) == set(ev["evidence_id"])
    # whole clusters: the per-partition unions add up to the union of all
    from kosovo_cmr.analysis.fadeout import union_area_m2

    summed = sum(union_area_m2(p, rule) for p in parts if len(p))
    assert summed == pytest.approx(union_area_m2(ev, rule), rel=1e-9)


@pytest.mark.parametrize("by", ["none", "hazard", "region", "municipality"])
def test_buffer_impact_demo_same_table(evidence, municipalities, by):
    local = buffer_impact(
        evidence, "kosovo-pre-2024", "kosovo-nmas-2024", by=by, boundaries=municipalities
    )
    dask = buffer_impact(
        evidence,
        "kosovo-pre-2024",
        "kosovo-nmas-2024",
        by=by,
        boundaries=municipalities,
        engine="dask",
        npartitions=4,
    )
    assert dask.engine == "dask" and local.engine == "local"
    assert dask.table["group"].tolist() == local.table["group"].tolist()
    assert dask.table["evidence"].tolist() == local.table["evidence"].tolist()
    pd.testing.assert_frame_equal(dask.table, local.table, rtol=RTOL)
    for key in ("area_from_m2", "area_to_m2", "saved_m2"):
        assert dask.total[key] == pytest.approx(local.total[key], rel=RTOL)
    assert dask.total["evidence"] == local.total["evidence"] == len(evidence)


def test_buffer_impact_matches_fadeout_module(evidence):
    direct = buffer_impact(evidence, "kosovo-pre-2024", "kosovo-nmas-2024", by="hazard")
    dask = buffer_impact(
        evidence, "kosovo-pre-2024", "kosovo-nmas-2024", by="hazard", engine="dask"
    )
    pd.testing.assert_frame_equal(dask.table, direct.table, rtol=RTOL)


def test_buffer_impact_rings_with_accuracy():
    ev = _clustered(seed=11)
    ev["accuracy_m"] = np.random.default_rng(1).uniform(0, 10, len(ev))
    kw = dict(use_accuracy=True, rings=True)
    local = buffer_impact(ev, "kosovo-pre-2024", "kosovo-nmas-2024", **kw)
    dask = buffer_impact(
        ev, "kosovo-pre-2024", "kosovo-nmas-2024", engine="dask", npartitions=5, **kw
    )
    pd.testing.assert_frame_equal(dask.table, local.table, rtol=RTOL)
    assert len(dask.rings) == len(local.rings)
    assert dask.rings["area_m2"].sum() == pytest.approx(local.rings["area_m2"].sum(), rel=RTOL)
    assert dask.rings.crs == ev.crs


def test_dask_rings_are_drawn_when_asked_afterwards():
    ev = _clustered(seed=5)
    kw = {"engine": "dask", "npartitions": 3, "scheduler": "synchronous"}
    later = buffer_impact(ev, "kosovo-pre-2024", "kosovo-nmas-2024", **kw)
    now = buffer_impact(ev, "kosovo-pre-2024", "kosovo-nmas-2024", rings=True, **kw)
    local = buffer_impact(ev, "kosovo-pre-2024", "kosovo-nmas-2024")
    assert isinstance(later, ImpactResult) and later.engine == "dask"
    pd.testing.assert_frame_equal(
        later.rings.drop(columns="geometry"), now.rings.drop(columns="geometry")
    )
    assert later.rings.area_m2.sum() == pytest.approx(local.rings.area_m2.sum(), rel=RTOL)


def test_rings_of_chunks_read_once_must_be_asked_for_in_the_same_pass(evidence):
    chunks = iter([evidence.iloc[:500], evidence.iloc[500:]])
    res = buffer_impact(chunks, "kosovo-pre-2024", "kosovo-nmas-2024", engine="dask")
    assert res.total["evidence"] == len(evidence)
    with pytest.raises(InputError, match="rings=True"):
        res.rings  # noqa: B018
    again = iter([evidence.iloc[:500], evidence.iloc[500:]])
    drawn = buffer_impact(again, "kosovo-pre-2024", "kosovo-nmas-2024", engine="dask", rings=True)
    assert len(drawn.rings) > 0


def test_check_engine_and_collect(evidence):
    assert engine.check_engine("dask") == "dask"
    with pytest.raises(InputError, match="engine must be one of local, dask"):
        engine.check_engine("spark")
    assert engine.collect(evidence) is evidence
    joined = engine.collect([evidence.iloc[:10], evidence.iloc[10:]])
    assert len(joined) == len(evidence) and joined.crs == evidence.crs
    with pytest.raises(InputError, match="hazards chunk 0 is a DataFrame"):
        engine.collect([pd.DataFrame({"a": [1]})], name="hazards")


def test_accepts_a_dask_geodataframe(evidence):
    import dask_geopandas

    ddf = dask_geopandas.from_geopandas(evidence, npartitions=3)
    dask = delineate(ddf, "kosovo-nmas-2024", engine="dask")
    local = delineate(evidence, "kosovo-nmas-2024")
    assert dask["area_m2"].sum() == pytest.approx(local["area_m2"].sum(), rel=1e-9)


def test_accepts_chunks_read_from_a_store(demo_store, municipalities):
    kw = {"by": "municipality", "boundaries": municipalities}
    local = buffer_impact(demo_store.read("evidence"), "kosovo-pre-2024", "kosovo-nmas-2024", **kw)
    chunks = demo_store.read_chunks("evidence", 300)
    dask = buffer_impact(
        chunks, "kosovo-pre-2024", "kosovo-nmas-2024", engine="dask", npartitions=3, **kw
    )
    pd.testing.assert_frame_equal(dask.table, local.table, rtol=RTOL)
    again = buffer_impact(
        demo_store.read_chunks("evidence", 300), "kosovo-pre-2024", "kosovo-nmas-2024", **kw
    )  # the local engine joins the chunks
    pd.testing.assert_frame_equal(again.table, local.table)


def test_bad_chunks_are_refused(evidence):
    with pytest.raises(InputError, match="iterable of GeoDataFrame chunks"):
        delineate(pd.DataFrame(evidence.drop(columns="geometry")), engine="dask")
    with pytest.raises(InputError, match="chunk 1 is a DataFrame"):
        delineate([evidence.iloc[:5], pd.DataFrame({"a": [1]})], engine="dask")
    with pytest.raises(InputError, match="chunk 1 is in"):
        delineate([evidence.iloc[:5], evidence.iloc[5:].to_crs(9141)], engine="dask")
    with pytest.raises(InputError, match="gave none"):
        delineate(iter([]), engine="dask")


@pytest.mark.parametrize("by", ["region", "municipality"])
def test_overlay_same_table(municipalities, by):
    hazards = read_demo_layer("hazards")
    units, name = units_for(by, municipalities)
    local = contamination_by_unit(hazards, units, name_column=name)
    dask = contamination_by_unit(hazards, units, name_column=name, engine="dask", npartitions=4)
    pd.testing.assert_frame_equal(dask, local, rtol=RTOL)


@pytest.mark.parametrize("memory", [None, "600MB"])
def test_runs_unchanged_on_a_distributed_cluster(evidence, memory, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(engine.settings, "dask_worker_memory", memory)  # spills past it
    local = buffer_impact(evidence, "kosovo-pre-2024", "kosovo-nmas-2024", by="hazard")
    dask = buffer_impact(
        evidence,
        "kosovo-pre-2024",
        "kosovo-nmas-2024",
        by="hazard",
        engine="dask",
        npartitions=3,
        scheduler="local",
        workers=2,
    )
    pd.testing.assert_frame_equal(dask.table, local.table, rtol=RTOL)


def test_partitions_shrink_with_the_memory_budget_and_grow_in_number_with_the_input(
    monkeypatch,
):
    assert engine.points_per_partition() == engine.POINTS_PER_PARTITION
    small, large = engine.points_per_partition("600MB"), engine.points_per_partition("1.5GB")
    assert engine.MIN_POINTS_PER_PARTITION < small < large < engine.POINTS_PER_PARTITION
    assert engine.points_per_partition("100MB") == engine.MIN_POINTS_PER_PARTITION
    assert engine.points_per_partition("64GB") == engine.POINTS_PER_PARTITION
    with pytest.raises(InputError, match="like '2GB'"):
        engine.points_per_partition("lots")
    monkeypatch.setattr(engine.settings, "dask_worker_memory", "600MB")
    rng = np.random.default_rng(3)
    counts = []
    for n in (small // 2, 3 * small, 7 * small + 1):
        xy = rng.uniform([7_420_000, 4_650_000], [7_560_000, 4_760_000], (n, 2))
        ev = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs=9141)
        parts = engine.cluster_labels(ev, radius_m=lambda p: np.full(len(p), 25.0))
        sizes = [len(p) for p in parts]
        assert sum(sizes) == n
        assert max(sizes) <= 1.05 * n / len(parts)  # key ranges from a sample: balanced
        counts.append(len(parts))
    assert counts == [1, 3, 8]


def test_halo_is_the_strip_near_a_partition_not_its_bounding_box():
    # partition A: an L of points 10 km long each way; B: points inside A's bounding box
    # (far from the L) and a few just within reach of it
    reach, cell = 100.0, 100.0 * (1 + 1e-9)
    t = np.arange(0, 10_000, 20.0)
    ax = np.concatenate([7_450_000 + t, np.full(len(t), 7_450_000.0)])
    ay = np.concatenate([np.full(len(t), 4_700_000.0), 4_700_000 + t])
    a = pd.DataFrame({"_pid": np.arange(len(ax)), "_x": ax, "_y": ay, "_r": 50.0})
    rng = np.random.default_rng(1)
    bx = 7_450_000 + rng.uniform(1_000, 9_000, 5_000)
    by = 4_700_000 + rng.uniform(1_000, 9_000, 5_000)
    near_x = 7_450_000 + np.array([5_000.0, 99.9, 3_333.3])
    near_y = 4_700_000 + np.array([99.9, 5_000.0, -99.9])
    b = pd.DataFrame(
        {
            "_pid": 10_000 + np.arange(5_003),
            "_x": np.concatenate([bx, near_x]),
            "_y": np.concatenate([by, near_y]),
            "_r": 50.0,
        }
    )
    halo = _halo.clip(b, _halo.dilate(_halo.cells(a, cell)), cell)
    # every point of B within reach of A is in the halo; almost none of the box's
    assert set(range(15_000, 15_003)) <= set(halo["_pid"])
    d = np.hypot(halo["_x"].to_numpy()[:, None] - ax, halo["_y"].to_numpy()[:, None] - ay)
    assert (d.min(axis=1) <= 3 * reach).all()
    assert len(halo) < 100


def test_bad_engine_and_unreachable_scheduler(evidence, monkeypatch):
    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT_S", 2)
    with pytest.raises(InputError, match="engine must be"):
        delineate(evidence, engine="spark")
    with pytest.raises(InputError, match="cannot reach the dask scheduler"):
        delineate(evidence, engine="dask", scheduler="tcp://127.0.0.1:1")


@pytest.mark.parametrize(
    "args",
    [
        ["buffer-impact", "--by", "region", "--format", "csv"],
        ["buffer-impact", "--by", "hazard", "--format", "json"],
        ["fadeout", "--format", "csv"],
        ["overlay", "--by", "municipality", "--format", "csv"],
    ],
)
def test_cli_engine_dask_prints_what_local_prints(demo_store, args):
    from click.testing import CliRunner

    from kosovo_cmr.cli.main import cli

    runner = CliRunner()
    base = ["--store", demo_store.uri, *args]
    local = runner.invoke(cli, [*base, "--engine", "local"])
    dask = runner.invoke(cli, [*base, "--engine", "dask", "--scheduler", "threads"])
    assert local.exit_code == 0, local.output
    assert dask.exit_code == 0, dask.output
    if args[0] == "fadeout":  # same clusters, numbered in another order
        import io

        a = pd.read_csv(io.StringIO(local.output)).sort_values(["area_m2", "evidence"])
        b = pd.read_csv(io.StringIO(dask.output)).sort_values(["area_m2", "evidence"])
        np.testing.assert_allclose(b["area_m2"], a["area_m2"], rtol=RTOL)
        assert b["evidence"].tolist() == a["evidence"].tolist()
    elif args[-1] == "json":
        import json

        a, b = json.loads(local.output), json.loads(dask.output)
        assert [r["group"] for r in a["rows"]] == [r["group"] for r in b["rows"]]
        for ra, rb in zip(a["rows"], b["rows"], strict=True):
            assert rb["area_to_m2"] == pytest.approx(ra["area_to_m2"], rel=RTOL)
        assert (a["from"], a["to"], a["by"]) == (b["from"], b["to"], b["by"])
    else:
        import io

        pd.testing.assert_frame_equal(
            pd.read_csv(io.StringIO(dask.output)),
            pd.read_csv(io.StringIO(local.output)),
            rtol=RTOL,
        )


def test_overlay_on_a_distributed_cluster(municipalities):
    pytest.importorskip("distributed")
    hazards = read_demo_layer("hazards")
    units, name = units_for("municipality", municipalities)
    local = contamination_by_unit(hazards, units, name_column=name)
    dask = contamination_by_unit(
        hazards, units, name_column=name, engine="dask", npartitions=3, scheduler="local", workers=2
    )
    pd.testing.assert_frame_equal(dask, local, rtol=RTOL)


def test_working_folder_is_removed_after_a_run_and_after_an_error(evidence, tmp_path, monkeypatch):
    monkeypatch.setattr(engine.settings, "dask_spill_dir", str(tmp_path))
    delineate(evidence, engine="dask", npartitions=3)
    assert list(tmp_path.iterdir()) == []
    broken = evidence.copy()
    broken.loc[broken.index[5], "geometry"] = None
    with pytest.raises(InputError, match="without geometry"):
        delineate(broken, engine="dask", npartitions=3)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(engine.settings, "dask_spill_dir", str(tmp_path / "missing" / "x"))
    with pytest.raises(InputError, match="working folder"):
        delineate(evidence, engine="dask")


def test_working_folder_holds_each_point_once_between_the_steps(monkeypatch, tmp_path):
    # the points pass from step to step only through the working folder: once the
    # partitions are planned it holds every point once, and the input chunks are gone
    import pickle

    monkeypatch.setattr(engine.settings, "dask_spill_dir", str(tmp_path))
    ev = _clustered()
    seen = {}
    real = _dask.plan

    def spy(evidence, points_of, how, root, *rest):
        plan = real(evidence, points_of, how, root, *rest)
        files = sorted(p.relative_to(root).as_posix() for p in tmp_path.rglob("*.pkl"))
        rows = [pickle.loads((tmp_path / root / f).read_bytes()) for f in files if "rows" in f]
        seen.update(files=files, rows=rows)
        return plan

    monkeypatch.setattr(_dask, "plan", spy)
    parts = engine.cluster_labels(
        ev, radius_m=lambda p: np.full(len(p), 25.0), npartitions=4, scheduler="synchronous"
    )
    assert {f.split("/")[0] for f in seen["files"]} == {"meta.pkl", "p", "l"}  # no in/, a/
    stored = pd.concat(seen["rows"])
    assert len(stored) == len(ev)
    assert sorted(stored["evidence_id"]) == sorted(ev["evidence_id"])
    assert sum(len(p) for p in parts) == len(ev)


@pytest.fixture
def tcp_cluster():
    """A real dask scheduler and two workers, separate processes talking over tcp."""
    pytest.importorskip("distributed")
    import socket
    import subprocess
    import sys

    from distributed import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            ":0",
        ],
        **quiet,
    )
    workers = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            address,
            "--nworkers",
            "2",
            "--nthreads",
            "1",
            "--dashboard-address",
            ":0",
        ],
        **quiet,
    )
    try:
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in (workers, scheduler):
            proc.terminate()
            proc.wait(timeout=30)


def test_runs_unchanged_on_a_remote_cluster_with_a_shared_folder(
    evidence, municipalities, tcp_cluster, tmp_path, monkeypatch
):
    kw = {"by": "region", "boundaries": municipalities}
    local = buffer_impact(evidence, "kosovo-pre-2024", "kosovo-nmas-2024", **kw)
    monkeypatch.setattr(engine.settings, "dask_spill_dir", None)
    with pytest.raises(InputError, match="KCMR_DASK_SPILL_DIR"):
        buffer_impact(
            evidence,
            "kosovo-pre-2024",
            "kosovo-nmas-2024",
            engine="dask",
            scheduler=tcp_cluster,
            **kw,
        )
    monkeypatch.setattr(engine.settings, "dask_spill_dir", str(tmp_path))
    dask = buffer_impact(
        evidence,
        "kosovo-pre-2024",
        "kosovo-nmas-2024",
        engine="dask",
        npartitions=4,
        scheduler=tcp_cluster,
        **kw,
    )
    pd.testing.assert_frame_equal(dask.table, local.table, rtol=RTOL)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["clusters", "duplicates", "collinear", "tiny"])
def test_touching_components_are_those_of_the_threshold_graph(case):
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(11)
    reach = 100.0
    if case == "clusters":  # dense clusters, more points than one triangulation chunk
        centres = rng.uniform(0, 20_000, (40, 2))
        xy = np.repeat(centres, 150, axis=0) + rng.normal(0, 60, (6_000, 2))
    elif case == "duplicates":
        xy = np.repeat(rng.uniform(0, 2_000, (300, 2)), 4, axis=0)
    elif case == "collinear":
        xy = np.column_stack([np.cumsum(rng.uniform(0, 150, 500)), np.zeros(500)]) @ [
            [0.6, 0.8],
            [-0.8, 0.6],
        ]
    else:
        xy = np.array([[0.0, 0.0], [99.0, 0.0]])
    k, labels = _halo.touching_components(xy, reach)
    pairs = cKDTree(xy).query_pairs(reach, output_type="ndarray")
    n = len(xy)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    k_ref, ref = connected_components(graph, directed=False)
    assert k == k_ref
    # the same partition of the points (labels may be numbered differently)
    assert len(set(zip(labels, ref, strict=True))) == k_ref
