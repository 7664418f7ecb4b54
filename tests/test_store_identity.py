"""A shared GeoPackage store keeps its identity, and what it writes GDAL reads cleanly.

Writes are one SQLite transaction on the real file (kosovo_cmr.store.gpkg): a store
reached through a symbolic link is written where the link points, hard links stay
linked, mode, owner and group are kept; a full disk leaves the store as it was with a
one-line error (exit 4). The disk-full test fills a real 1 MiB tmpfs mounted in a
private mount namespace (``unshare -m``); it skips locally, and fails in CI, where
that is not allowed.
"""

from __future__ import annotations

import grp
import os
import shutil
import stat
import subprocess
import sys
import textwrap

import geopandas as gpd
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import in_ci
from shapely import points
from shapely.geometry import box

from kosovo_cmr.cli.main import cli
from kosovo_cmr.store import open_store


def hazards(ids):
    n = len(ids)
    return gpd.GeoDataFrame(
        {"hazard_id": list(ids), "kind": ["CHA"] * n, "status": ["active"] * n,
         "recorded": ["2024-02-29"] * n, "synthetic": [True] * n},
        geometry=[box(20.6 + i * 0.01, 42.3, 20.605 + i * 0.01, 42.305) for i in range(n)],
        crs=4326,
    )  # fmt: skip


def _ids(store):
    return sorted(store.read("hazards")["hazard_id"])


def test_a_store_reached_through_a_symlink_is_written_where_it_points(tmp_path):
    shared = tmp_path / "team" / "kmac.gpkg"
    shared.parent.mkdir()
    open_store(shared).write(hazards(["H1"]), "hazards")
    link = tmp_path / "mine.gpkg"
    link.symlink_to(shared)
    inode = shared.stat().st_ino
    open_store(link).write(hazards(["H2"]), "hazards", mode="append")
    assert link.is_symlink() and os.readlink(link) == str(shared)
    assert shared.stat().st_ino == inode  # the same file, written in place
    assert _ids(open_store(shared)) == ["H1", "H2"]
    assert (shared.parent / "kmac.gpkg.lock").exists()  # the lock beside the real file
    assert not (tmp_path / "mine.gpkg.lock").exists()


def test_hard_links_stay_linked(tmp_path):
    a = tmp_path / "a.gpkg"
    open_store(a).write(hazards(["H1"]), "hazards")
    b = tmp_path / "b.gpkg"
    os.link(a, b)
    open_store(b).write(hazards(["H2"]), "hazards", mode="append")
    assert a.stat().st_ino == b.stat().st_ino and a.stat().st_nlink == 2
    assert _ids(open_store(a)) == ["H1", "H2"]


def test_mode_owner_and_group_are_kept(tmp_path):
    path = tmp_path / "team.gpkg"
    open_store(path).write(hazards(["H1"]), "hazards")
    group = grp.getgrnam("users").gr_gid  # a group that exists on Debian
    os.chown(path, -1, group)
    os.chmod(path, 0o664)
    before = path.stat()
    open_store(path).write(hazards(["H2"]), "hazards", mode="append")
    after = path.stat()
    assert stat.S_IMODE(after.st_mode) == 0o664
    assert (after.st_uid, after.st_gid, after.st_ino) == (before.st_uid, group, before.st_ino)
    lock = tmp_path / "team.gpkg.lock"  # a lock file the team can share too
    assert lock.stat().st_gid == group and stat.S_IMODE(lock.stat().st_mode) == 0o664


DISK_FULL = textwrap.dedent("""
    import sys
    import geopandas as gpd, numpy as np
    from shapely import points
    from click.testing import CliRunner
    from kosovo_cmr.cli.main import cli
    n = 40_000
    rng = np.random.default_rng(1)
    gdf = gpd.GeoDataFrame(
        {"evidence_id": [f"N{i}" for i in range(n)], "item": ["crater"] * n,
         "ordnance": ["unknown"] * n, "synthetic": [True] * n},
        geometry=points(rng.uniform(20.2, 21.6, n), rng.uniform(42.0, 43.1, n)), crs=4326)
    gdf.to_file(sys.argv[2], driver="GeoJSON")  # the source, outside the small disk
    result = CliRunner().invoke(cli, ["--store", sys.argv[1], "import", sys.argv[2],
                                      "--layer", "evidence", "--mode", "append"])
    sys.stdout.write(f"exit={result.exit_code}\\n{result.output}")
""")


def test_disk_full_leaves_the_store_unchanged_with_one_line(tmp_path):
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode
    ):
        message = "unshare -m (a private mount namespace) is not allowed here"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    small = tmp_path / "small"
    small.mkdir()
    store = tmp_path / "seed.gpkg"
    open_store(store).write(hazards(["H1", "H2"]), "hazards")
    script = tmp_path / "fill.py"
    script.write_text(DISK_FULL)
    inside = small / "kmac.gpkg"
    shell = (
        f"mount -t tmpfs -o size=1m tmpfs {small} && cp {store} {inside} && "
        f"cp {inside} {tmp_path}/before.gpkg && "
        f"{sys.executable} {script} {inside} {tmp_path}/source.geojson; "
        f"cmp {inside} {tmp_path}/before.gpkg && echo unchanged; "
        f"ls {small}; df -k {small} | tail -1"
    )
    done = subprocess.run(["unshare", "-m", "sh", "-c", shell], capture_output=True, text=True)
    out = done.stdout
    assert "exit=4" in out, (out, done.stderr)
    error = next(line for line in out.splitlines() if line.startswith("kcmr: error:"))
    assert "disk full" in error and "nothing was written" in error and len(error) < 300
    assert "unchanged" in out, out  # byte for byte, after SQLite rolled back
    assert "kmac.gpkg-journal" not in out


def _ogrinfo(path):
    return subprocess.run(["ogrinfo", "-al", "-q", str(path)], capture_output=True, text=True)


def _require(tool: str):
    if shutil.which(tool) is None:
        message = f"{tool} is not installed (run .ci/setup.d/gdal-bin.sh as root)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


def test_gdal_reads_the_store_with_no_warning(demo_store_copy, tmp_path):
    _require("ogrinfo")
    path = demo_store_copy.uri
    # write through this release once, so every table of the copy is ours
    layers = {name: demo_store_copy.read(name) for name in demo_store_copy.layers()}
    demo_store_copy.write_many(layers, source="rewrite")
    done = _ogrinfo(path)
    assert done.returncode == 0, done.stderr
    assert "Non-conformant" not in done.stderr and "Warning" not in done.stderr, done.stderr
    assert "recorded (DateTime) = 2022/" in done.stdout
    assert "valid_from (DateTime)" in done.stdout  # the versions tables too


def test_validate_gpkg_finds_nothing_but_its_empty_flag_misreading(demo_store_copy):
    checker = "/usr/bin/python3"
    probe = subprocess.run(
        [checker, "-c", "import osgeo_utils.samples.validate_gpkg"], capture_output=True
    )
    if probe.returncode:
        message = "validate_gpkg.py (python3-gdal, gdal-utils) is not installed"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    layers = {name: demo_store_copy.read(name) for name in demo_store_copy.layers()}
    demo_store_copy.write_many(layers, source="rewrite")
    done = subprocess.run(
        [checker, "-m", "osgeo_utils.samples.validate_gpkg", "-k", demo_store_copy.uri],
        capture_output=True,
        text=True,
    )
    problems = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    # Req 152: the validator reads the empty-geometry flag of an empty MultiPolygon as
    # inconsistent; the releases layer holds one (a cancellation record with no area)
    assert all(line.startswith("Req 152") for line in problems), problems


def test_datetimes_are_written_as_gdal_writes_them(tmp_path):
    import sqlite3

    path = tmp_path / "s.gpkg"
    open_store(path).write(hazards(["H1"]), "hazards", valid_from="2024-12-31")
    with sqlite3.connect(path) as conn:
        (recorded,) = conn.execute("SELECT recorded FROM hazards").fetchone()
        (valid_from,) = conn.execute("SELECT valid_from FROM kcmr_hazards_versions").fetchone()
    assert recorded == "2024-02-29T00:00:00.000Z"
    assert valid_from == "2024-12-31T00:00:00.000Z"
    back = open_store(path).read("hazards")["recorded"]
    assert str(back.dtype) == "datetime64[ms]" and str(back.iloc[0]) == "2024-02-29 00:00:00"


def test_store_errors_are_one_line(tmp_path):
    path = tmp_path / "s.gpkg"
    path.write_bytes(b"not a database" * 100)
    result = CliRunner().invoke(cli, ["--store", str(path), "info"])
    assert result.exit_code == 4
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("kcmr: error:") and len(lines[0]) < 300


def test_points_and_empty_geometries_round_trip_through_sqlite(tmp_path):
    n = 1000
    rng = np.random.default_rng(3)
    gdf = gpd.GeoDataFrame(
        {"evidence_id": [f"E{i}" for i in range(n)], "item": ["crater"] * n,
         "ordnance": ["unknown"] * n, "accuracy_m": rng.uniform(0, 5, n), "synthetic": True},
        geometry=points(rng.uniform(20.2, 21.6, n), rng.uniform(42.0, 43.1, n)), crs=4326,
    )  # fmt: skip
    store = open_store(tmp_path / "s.gpkg")
    store.write(gdf, "evidence")
    back = store.read("evidence")
    assert back.geometry.geom_equals_exact(gdf.geometry, 0).all()
    assert np.array_equal(back["accuracy_m"].to_numpy(), gdf["accuracy_m"].to_numpy())
