"""``kcmr import`` and ``kcmr validate`` through click's runner: output and exit codes."""

from __future__ import annotations

import json

import pytest
from _import_corpus import (
    bowtie_coords,
    feature,
    hazards,
    props,
    read_only,
    ring,
    write_geojson,
    write_gpkg,
)
from click.testing import CliRunner

from kosovo_cmr.cli.main import cli
from kosovo_cmr.store import open_store


@pytest.fixture
def runner():
    return CliRunner()


def kcmr(runner, tmp_path, *args):
    return runner.invoke(cli, ["--store", str(tmp_path / "s.gpkg"), *args], catch_exceptions=False)


def test_import_json_is_one_object_and_exit_0(runner, tmp_path):
    src = write_gpkg(tmp_path / "h.gpkg", hazards(3))
    result = kcmr(runner, tmp_path, "import", str(src), "--layer", "hazards", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # exactly one JSON object: json.loads refuses more
    assert {"read", "imported", "repaired", "rejected", "rejects_path", "reasons"} <= set(report)
    assert (report["read"], report["imported"], report["rejected"]) == (3, 3, 0)
    assert report["rejects_path"] is None
    assert len(open_store(tmp_path / "s.gpkg").read("hazards")) == 3


def test_import_with_rejects_exits_3_and_writes_the_rejects(runner, tmp_path):
    src = write_geojson(
        tmp_path / "mixed.geojson",
        [feature(props("A"), ring(bowtie_coords())), feature(props("B"), None)],
    )
    rejects = tmp_path / "rej.gpkg"
    result = kcmr(runner, tmp_path, "import", str(src), "--layer", "hazards",
                  "--rejects", str(rejects))  # fmt: skip
    assert result.exit_code == 3
    assert "read 2 = imported 1 + rejected 1" in result.stdout
    assert "self_intersection" in result.stdout and "null_geometry" in result.stdout
    assert rejects.exists()
    again = kcmr(runner, tmp_path, "import", str(src), "--layer", "hazards",
                 "--rejects", str(rejects), "--on-conflict", "skip")  # fmt: skip
    assert again.exit_code == 1 and "--overwrite" in again.stderr


def test_second_import_fails_cleanly_and_stores_nothing_twice(runner, tmp_path):
    src = write_gpkg(tmp_path / "h.gpkg", hazards(2))
    assert kcmr(runner, tmp_path, "import", str(src), "--layer", "hazards").exit_code == 0
    before = (tmp_path / "s.gpkg").read_bytes()
    second = kcmr(runner, tmp_path, "import", str(src), "--layer", "hazards", "--format", "json")
    assert second.exit_code == 1
    assert json.loads(second.stdout)["error"]["message"].startswith("2 id(s) already in the store")
    assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    assert (tmp_path / "s.gpkg").read_bytes() == before


def test_unreadable_source_exits_1_with_one_line(runner, tmp_path):
    (tmp_path / "broken.geojson").write_text('{"type": "FeatureColl')
    result = kcmr(runner, tmp_path, "import", str(tmp_path / "broken.geojson"), "--layer",
                  "hazards")  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith("kcmr: error: cannot read") and result.stderr.count("\n") == 1
    assert not (tmp_path / "s.gpkg").exists()


def test_usage_errors_exit_2(runner, tmp_path):
    src = write_gpkg(tmp_path / "h.gpkg", hazards(1))
    assert kcmr(runner, tmp_path, "import", str(src)).exit_code == 2  # --layer missing
    assert kcmr(runner, tmp_path, "import", str(src), "--layer", "mines").exit_code == 2
    bad = kcmr(runner, tmp_path, "import", str(src), "--layer", "hazards", "--on-conflict", "x")
    assert bad.exit_code == 2


def test_map_fields_and_crs_options(runner, tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("Nr;Typ;Datum;E;N\nK-1;CHA;2024-03-01;21.1;42.6\n")
    result = kcmr(runner, tmp_path, "import", str(src), "--layer", "evidence", "--crs",
                  "EPSG:4326", "--map-fields", "Nr=evidence_id,Typ=item")  # fmt: skip
    assert result.exit_code == 1 and "no geometry column" in result.stderr
    result = kcmr(runner, tmp_path, "import", str(src), "--layer", "hazards", "--crs",
                  "EPSG:4326", "--map-fields", "Nr=hazard_id,Typ=kind,Datum=recorded,E=x,N=y",
                  "--rejects", str(tmp_path / "r.gpkg"))  # fmt: skip
    # a point cannot be a hazard polygon
    assert result.exit_code == 3 and "wrong_geometry_type" in result.stdout


def test_validate_is_a_dry_run(runner, tmp_path):
    src = write_geojson(
        tmp_path / "v.geojson",
        [feature(props("A"), ring(bowtie_coords())), feature(props("B"), None)],
    )
    result = kcmr(runner, tmp_path, "validate", str(src), "--layer", "hazards", "--format", "json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["dry_run"] and report["rejects_path"] is None
    assert report["reasons"] == {"self_intersection": 1, "null_geometry": 1}
    assert not (tmp_path / "s.gpkg").exists()
    good = write_gpkg(tmp_path / "g.gpkg", hazards(1))
    assert kcmr(runner, tmp_path, "validate", str(good), "--layer", "hazards").exit_code == 0
    assert not (tmp_path / "s.gpkg").exists()


def test_help_lists_both_commands(runner):
    result = runner.invoke(cli, ["--help"])
    assert "import" in result.output and "validate" in result.output


def test_no_progress_bar_when_stderr_is_not_a_terminal(runner, tmp_path):
    import shapely

    many = hazards(300)
    many["geometry"] = [
        shapely.affinity.translate(g, 0, (i // 30) * 0.002)  # 10 rows of 30 squares
        for i, g in enumerate(hazards(30).geometry.tolist() * 10)
    ]
    src = write_gpkg(tmp_path / "many.gpkg", many)
    result = kcmr(runner, tmp_path, "import", str(src), "--layer", "hazards")
    assert result.exit_code == 0
    assert result.stderr == ""  # CliRunner's stderr is not a TTY: no tqdm output


# --- read-only places (issue 14): exit 4, one line, and JSON ------------------------------


def _with_reject(tmp_path):
    gdf = hazards(3)
    gdf.loc[1, "geometry"] = None
    return write_gpkg(tmp_path / "src" / "h.gpkg", gdf)


@pytest.fixture
def folders(tmp_path):
    for name in ("src", "work", "data"):
        (tmp_path / name).mkdir()
    return tmp_path


def _run_in(runner, cwd, monkeypatch, *args):
    monkeypatch.chdir(cwd)
    return runner.invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_read_only_working_directory_does_not_matter(runner, folders, monkeypatch):
    src = _with_reject(folders)
    store = folders / "data" / "s.gpkg"
    with read_only(folders / "work"):
        result = _run_in(runner, folders / "work", monkeypatch, "--store", store, "import",
                         src, "--layer", "hazards", "--format", "json")  # fmt: skip
    assert result.exit_code == 3, result.output
    report = json.loads(result.stdout)
    assert report["imported"] == 2
    assert report["rejects_path"].startswith(str(folders / "data"))  # beside the store
    assert list((folders / "work").iterdir()) == []


@pytest.mark.parametrize("what", ["folder", "file"])
def test_read_only_store_exits_4_with_one_line_and_json(runner, folders, monkeypatch, what):
    src = _with_reject(folders)
    store = folders / "data" / "s.gpkg"
    if what == "file":  # a store that exists, read-only, in a read-only folder
        runner.invoke(
            cli,
            [
                "--store",
                str(store),
                "import",
                str(write_gpkg(folders / "src" / "a.gpkg", hazards(1, prefix="A"))),
                "--layer",
                "hazards",
            ],
        )
        before = store.read_bytes()
    targets = [folders / "data"] + ([store] if what == "file" else [])
    with read_only(*targets):
        result = _run_in(runner, folders / "work", monkeypatch, "--store", store, "import",
                         src, "--layer", "hazards", "--format", "json")  # fmt: skip
        text = _run_in(runner, folders / "work", monkeypatch, "--store", store, "import",
                       src, "--layer", "hazards")  # fmt: skip
        check = _run_in(runner, folders / "work", monkeypatch, "--store", store, "validate",
                        src, "--layer", "hazards", "--format", "json")  # fmt: skip
    assert result.exit_code == 4, result.output
    error = json.loads(result.stdout)  # {"error": message or {code, class, message}, ...}
    assert error["exit_code"] == 4 and "read-only" in json.dumps(error["error"])
    assert text.exit_code == 4
    assert text.stderr.count("\n") == 1 and text.stderr.startswith("kcmr: error: the store")
    assert check.exit_code == 3 and json.loads(check.stdout)["dry_run"]  # reading is fine
    if what == "file":
        assert store.read_bytes() == before
    else:
        assert not store.exists()


def test_an_unexpected_failure_still_prints_one_json_object(runner, tmp_path, monkeypatch):
    import kosovo_cmr.importer as importer

    def broken(*args, **kwargs):
        raise RuntimeError("injected\nsecond line")

    monkeypatch.setattr(importer, "import_layer", broken)
    src = write_gpkg(tmp_path / "h.gpkg", hazards(1))
    result = runner.invoke(cli, ["--store", str(tmp_path / "s.gpkg"), "import", str(src),
                                 "--layer", "hazards", "--format", "json"])  # fmt: skip
    assert result.exit_code == 70
    payload = json.loads(result.stdout)  # exactly one JSON object
    assert payload["exit_code"] == 70 and "injected" in json.dumps(payload["error"])
    assert result.stderr.startswith("kcmr: error: unexpected error (RuntimeError)")
