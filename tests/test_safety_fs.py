"""Issue 14 item 10 and item 7 on real file systems: read-only and full.

A read-only working directory or store gave exit 70 and no JSON where the docs promise
exit 4 and a JSON error; a full disk gave a 6 KB line of SQL. These tests run the real
``kcmr`` in a private mount namespace (``unshare -m``, as root): a folder bind-mounted
read-only (a real ``EROFS``: root ignores permission bits, not a read-only mount) and a
small ``tmpfs`` filled to the last byte (a real ``ENOSPC``). Nothing is mocked; the
mounts vanish with the namespace.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import in_ci

KCMR = f"{shlex.quote(sys.executable)} -m kosovo_cmr"


def digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def isolated(tmp_path_factory):
    """Run a shell script in a private mount namespace; skip where that is impossible."""
    probe = tmp_path_factory.mktemp("probe")
    works = shutil.which("unshare") is not None and (
        subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             f"mount -t tmpfs -o size=64k tmpfs {probe}"],
            capture_output=True,
        ).returncode == 0
    )  # fmt: skip
    if not works:
        message = "needs unshare -m and mount (root): read-only and full file systems"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)

    def run(script: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-euc", script],
            capture_output=True,
            text=True,
            timeout=900,
        )

    return run


def read_only(folder: Path) -> str:
    """Shell lines that make ``folder`` a read-only mount of itself."""
    f = shlex.quote(str(folder))
    return f"mount --bind {f} {f}\nmount -o remount,bind,ro {f}\n"


def full_tmpfs(folder: Path, *, size: str = "16m") -> str:
    """Shell lines that mount a tmpfs on ``folder`` (then ``fill`` fills it)."""
    return f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(folder))}\n"


def fill(folder: Path) -> str:
    """Shell line that fills ``folder``'s file system to the last byte."""
    return f"cat /dev/zero > {shlex.quote(str(folder / 'filler'))} 2>/dev/null || true\n"


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kcmr: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def store(demo_store, tmp_path):
    folder = tmp_path / "team"
    folder.mkdir()
    path = folder / "kcmr.gpkg"
    shutil.copyfile(demo_store.uri, path)
    return path


@pytest.fixture
def source(tmp_path):
    square = [[[21.10, 42.60], [21.101, 42.60], [21.101, 42.601], [21.10, 42.601], [21.10, 42.60]]]
    properties = {"hazard_id": "RO-1", "kind": "CHA", "recorded": "2024-05-01"}
    geometry = {"type": "Polygon", "coordinates": square}
    feature = {"type": "Feature", "geometry": geometry, "properties": properties}
    path = tmp_path / "halo.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


# --- a read-only store or working directory -----------------------------------------------


def test_import_into_a_read_only_store_is_exit_4_with_json(isolated, store, source):
    before = digest(store)
    done = isolated(
        read_only(store.parent)
        + f"exec {KCMR} --store {store} import {source} --layer hazards --format json"
    )
    assert done.returncode == 4, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == 4 and error["class"] == "StoreError"
    assert "read-only file system" in error["message"] and str(store) in error["message"]
    assert one_line(done.stderr) == f"kcmr: error: {error['message']}"
    assert digest(store) == before


def test_demo_on_a_read_only_store_is_exit_4(isolated, store, tmp_path, boundaries_path):
    done = isolated(
        read_only(store.parent) + f"exec {KCMR} -q --store {store} demo --out {tmp_path / 'demo'} "
        f"--boundaries {boundaries_path}"
    )
    assert done.returncode == 4, done.stderr
    assert "read-only file system" in one_line(done.stderr)


def test_import_in_a_read_only_working_directory_is_exit_4_with_json(isolated, tmp_path, source):
    """The default store is ./kcmr.gpkg: in a read-only folder it cannot be created."""
    cwd = tmp_path / "readonly"
    cwd.mkdir()
    done = isolated(
        read_only(cwd) + f"cd {cwd}\nexec {KCMR} import {source} --layer hazards --format json"
    )
    assert done.returncode == 4, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["class"] == "StoreError" and "kcmr.gpkg" in error["message"]
    one_line(done.stderr)
    assert list(cwd.iterdir()) == []


def test_demo_in_a_read_only_working_directory_is_exit_4(isolated, tmp_path, boundaries_path):
    cwd = tmp_path / "readonly"
    cwd.mkdir()
    done = isolated(
        read_only(cwd) + f"cd {cwd}\nexec {KCMR} -q demo --boundaries {boundaries_path}"
    )
    assert done.returncode == 4, done.stderr
    assert "cannot create the demo folder" in one_line(done.stderr)


def test_outputs_in_a_read_only_working_directory(isolated, store, tmp_path):
    """Refused before any work (exit 1); a command that writes nothing there still works."""
    cwd = tmp_path / "readonly"
    cwd.mkdir()
    report = f"{KCMR} --store {store} report --year 2024"
    done = isolated(read_only(cwd) + f"cd {cwd}\nexec {report} -o report.md --format json")
    assert done.returncode == 1, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["class"] == "InputError" and "cannot be written" in error["message"]
    one_line(done.stderr)
    printed = isolated(read_only(cwd) + f"cd {cwd}\nexec {report} --format json")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["year"] == 2024


# --- a full disk --------------------------------------------------------------------------

#: Writers on a full disk: arguments given the target, and the target's name.
WRITERS = {
    "report html": (["report", "--year", "2024", "--format", "html", "-o", "{t}"], "r.html"),
    "report json": (["report", "--year", "2024", "--format", "json", "-o", "{t}"], "r.json"),
    "report xlsx": (["report", "--year", "2024", "--format", "xlsx", "-o", "{t}"], "r.xlsx"),
    "export gpkg": (["export", "--layer", "evidence", "-o", "{t}"], "e.gpkg"),
    "export geojson": (["export", "--layer", "evidence", "-o", "{t}"], "e.geojson"),
    "export shp": (["export", "--layer", "evidence", "-o", "{t}"], "e.shp"),
    "export csv": (["export", "--layer", "evidence", "-o", "{t}"], "e.csv"),
    "rasterize": (["rasterize", "density", "-o", "{t}"], "d.tif"),
    "fadeout layer": (["fadeout", "-o", "{t}"], "clusters.gpkg"),
    "overlay csv": (["overlay", "--format", "csv", "-o", "{t}"], "o.csv"),
    "burn-down chart": (["forecast", "--what", "scenarios", "--chart", "{t}"], "b.png"),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_full_disk_is_exit_4_and_leaves_the_previous_file(writer, isolated, store, tmp_path):
    """A real ENOSPC mid-write: one line saying "disk full", the old file intact."""
    args, name = WRITERS[writer]
    disk = tmp_path / "disk"
    disk.mkdir()
    target = disk / name
    argv = " ".join(shlex.quote(a.format(t=target)) for a in args)
    done = isolated(
        full_tmpfs(disk)
        + f"printf 'the previous file' > {target}\n"
        + fill(disk)
        + f"{KCMR} --store {store} {argv} --overwrite > {tmp_path / 'stdout'} || echo $? > "
        f"{tmp_path / 'code'}\n"
        f"cat {target} > {tmp_path / 'after'}\n"
        f"ls -a {disk} > {tmp_path / 'listing'}\n"
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "code").read_text().strip() == "4", done.stderr
    assert "disk full" in one_line(done.stderr)
    assert (tmp_path / "after").read_text() == "the previous file"
    listing = (tmp_path / "listing").read_text().split()
    assert sorted(listing) == sorted([".", "..", name, "filler"])
    if "json" in args:
        error = json.loads((tmp_path / "stdout").read_text())["error"]
        assert error["code"] == 4 and error["message"].startswith("disk full")


def test_the_store_on_a_full_disk_is_exit_4_and_unchanged(
    isolated, store, tmp_path, boundaries_path
):
    disk = tmp_path / "disk"
    disk.mkdir()
    on_disk = disk / "kcmr.gpkg"
    done = isolated(
        full_tmpfs(disk, size="32m")
        + f"cp {store} {on_disk}\n"
        + fill(disk)
        + f"{KCMR} -q --store {on_disk} demo --out {tmp_path / 'demo'} "
        f"--boundaries {boundaries_path} || echo $? > {tmp_path / 'code'}\n"
        f"sha256sum {on_disk} > {tmp_path / 'after'}\n"
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "code").read_text().strip() == "4", done.stderr
    one_line(done.stderr)
    assert (tmp_path / "after").read_text().split()[0] == digest(store)
