"""Output files: written whole or not at all, through links, keeping their permissions."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kosovo_cmr._escape import html_text, spreadsheet_text
from kosovo_cmr._files import atomic_output, real_path, same_file
from kosovo_cmr.errors import InputError


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    target = tmp_path / "report.csv"
    target.write_text("good\n")
    with pytest.raises(RuntimeError), atomic_output(target, overwrite=True) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]


def test_a_killed_writer_leaves_the_previous_file(tmp_path):
    target = tmp_path / "sheet.pdf"
    target.write_bytes(b"%PDF good")
    code = (
        "import os, sys\n"
        "from kosovo_cmr._files import atomic_output\n"
        f"with atomic_output({str(target)!r}, overwrite=True) as tmp:\n"
        "    tmp.write_bytes(b'%PDF half')\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    run = subprocess.run([sys.executable, "-c", code])
    assert run.returncode == -9
    assert target.read_bytes() == b"%PDF good"


def test_existing_target_needs_overwrite(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(InputError, match="--overwrite"), atomic_output(target):
        pass
    with pytest.raises(InputError, match="does not exist"), atomic_output(tmp_path / "no" / "x"):
        pass


def test_a_link_is_written_through_and_permissions_kept(tmp_path):
    real = tmp_path / "shared" / "map.html"
    real.parent.mkdir()
    real.write_text("old")
    os.chmod(real, 0o664)
    link = tmp_path / "map.html"
    link.symlink_to(real)
    with atomic_output(link, overwrite=True) as tmp:
        assert tmp.parent == real.parent and tmp.suffix == ".html"
        tmp.write_text("new")
    assert link.is_symlink() and real.read_text() == "new"
    assert real.stat().st_mode & 0o777 == 0o664


def test_sidecars_are_renamed_with_the_main_file(tmp_path):
    target = tmp_path / "areas.shp"
    with atomic_output(target, sidecars=(".dbf", ".shx")) as tmp:
        tmp.write_text("shp")
        tmp.with_suffix(".dbf").write_text("dbf")
    assert target.read_text() == "shp"
    assert (tmp_path / "areas.dbf").read_text() == "dbf"
    assert not (tmp_path / "areas.shx").exists()


def test_same_file_sees_links_and_hard_links(tmp_path):
    a = tmp_path / "a.gpkg"
    a.write_text("x")
    (tmp_path / "soft.gpkg").symlink_to(a)
    os.link(a, tmp_path / "hard.gpkg")
    assert same_file(tmp_path / "soft.gpkg", a)
    assert same_file(tmp_path / "hard.gpkg", a)
    assert not same_file(tmp_path / "other.gpkg", a)
    assert real_path(tmp_path / "soft.gpkg") == real_path(a)


@pytest.mark.parametrize(
    "text, safe",
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("HALO", "HALO"),
        ("", ""),
    ],
)
def test_spreadsheet_text_neutralises_formulas(text, safe):
    assert spreadsheet_text(text) == safe


def test_numbers_and_missing_values_are_left_alone():
    assert spreadsheet_text(-5.5) == -5.5
    assert spreadsheet_text(None) is None


def test_html_text_escapes_markup():
    assert html_text("<b>NPA & HALO</b>") == "&lt;b&gt;NPA &amp; HALO&lt;/b&gt;"
    assert html_text(None) == ""


def test_outputs_onto_the_store_are_refused_whatever_overwrite(tmp_path):
    from kosovo_cmr._files import check_outputs

    store = tmp_path / "kcmr.gpkg"
    store.write_text("store")
    (tmp_path / "alias.gpkg").symlink_to(store)
    os.link(store, tmp_path / "hard.gpkg")
    for path in (store, tmp_path / "alias.gpkg", tmp_path / "hard.gpkg", f"{store}-wal"):
        with pytest.raises(InputError, match="store"):
            check_outputs({"--output": path}, overwrite=True, store=store)
    check_outputs({"--output": tmp_path / "map.html"}, store=store)
    check_outputs({"--output": tmp_path / "map.html"}, store="postgresql://db/kmac")


def test_outputs_onto_a_source_or_each_other_are_refused(tmp_path):
    from kosovo_cmr._files import check_outputs

    source = tmp_path / "halo.geojson"
    source.write_text("{}")
    with pytest.raises(InputError, match="source file"):
        check_outputs({"--rejects": source}, overwrite=True, sources=[source])
    with pytest.raises(InputError, match="same file"):
        check_outputs({"--output": tmp_path / "a.png", "--chart": tmp_path / "a.png"})
    with pytest.raises(InputError, match="--overwrite"):
        check_outputs({"--output": source})
    with pytest.raises(InputError, match="does not exist"):
        check_outputs({"--output": tmp_path / "nowhere" / "a.csv"})
