"""The rejects file of an import, and what it must never replace."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from _import_corpus import hazards, write_gpkg

from kosovo_cmr.errors import InputError, StoreError
from kosovo_cmr.importer import import_layer


def with_a_reject(tmp_path, name="h.gpkg", prefix="H"):
    gdf = hazards(2, prefix=prefix)
    gdf.loc[1, "geometry"] = None  # rejected: null_geometry
    return write_gpkg(tmp_path / name, gdf)


def test_the_rejects_file_cannot_be_the_source(tmp_path):
    src = with_a_reject(tmp_path)
    before = src.read_bytes()
    with pytest.raises(InputError, match="is the source file"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg", rejects=src, overwrite=True)
    assert src.read_bytes() == before
    link = tmp_path / "link.gpkg"
    link.symlink_to(src)
    with pytest.raises(InputError, match="is the source file"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg", rejects=link, overwrite=True)


def test_the_rejects_file_cannot_be_the_store(tmp_path):
    store = tmp_path / "s.gpkg"
    import_layer(write_gpkg(tmp_path / "a.gpkg", hazards(2, prefix="A")), "hazards", store=store)
    before = store.read_bytes()
    src = with_a_reject(tmp_path)
    with pytest.raises(InputError, match="is the store"):
        import_layer(src, "hazards", store=store, rejects=store, overwrite=True)
    assert store.read_bytes() == before


def test_the_csv_beside_geojson_rejects_cannot_replace_a_csv_source(tmp_path):
    src = tmp_path / "r.csv"
    src.write_text("hazard_id,kind,recorded,wkt\nA,CHA,2024-01-01,\n")  # A has no geometry
    before = src.read_bytes()
    with pytest.raises(InputError, match="is the source file"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg", crs="EPSG:4326",
                     rejects=tmp_path / "r.geojson", overwrite=True)  # fmt: skip
    assert src.read_bytes() == before


def test_an_existing_csv_beside_geojson_rejects_needs_overwrite(tmp_path):
    (tmp_path / "rej.csv").write_text("someone's table\n")
    src = with_a_reject(tmp_path)
    with pytest.raises(InputError, match="rej.csv exists; pass --overwrite"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg", rejects=tmp_path / "rej.geojson")
    report = import_layer(src, "hazards", store=tmp_path / "s.gpkg",
                          rejects=tmp_path / "rej.geojson", overwrite=True)  # fmt: skip
    assert report.rejected == 1 and "null_geometry" in (tmp_path / "rej.csv").read_text()


def test_the_default_rejects_file_lies_beside_the_store(tmp_path, monkeypatch):
    (tmp_path / "cwd").mkdir()
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    src = with_a_reject(tmp_path).rename(tmp_path / "halo;q3.gpkg")  # GDAL cannot write it
    report = import_layer(src, "hazards", store=tmp_path / "data" / "s.gpkg")
    rejects = Path(report.rejects_path)
    assert rejects.parent == tmp_path / "data" and rejects.name.startswith("halo_q3.rejects-")
    assert list((tmp_path / "cwd").iterdir()) == []
    assert pyogrio.read_dataframe(rejects, layer="rejects")["hazard_id"].tolist() == ["H-1"]


@pytest.mark.parametrize("target", ["store-wal", "store-link", "hardlink-to-source"])
def test_the_one_output_guard_protects_store_files_and_links(tmp_path, target):
    store = tmp_path / "s.gpkg"
    import_layer(write_gpkg(tmp_path / "a.gpkg", hazards(1, prefix="A")), "hazards", store=store)
    src = with_a_reject(tmp_path)
    rejects = {
        "store-wal": tmp_path / "s.gpkg-wal.gpkg",
        "store-link": tmp_path / "link.gpkg",
        "hardlink-to-source": tmp_path / "hard.gpkg",
    }[target]
    if target == "store-link":
        rejects.symlink_to(store)
    elif target == "hardlink-to-source":
        os.link(src, rejects)
    before = (store.read_bytes(), src.read_bytes())
    if target == "store-wal":  # a plain new file: allowed
        import_layer(src, "hazards", store=store, rejects=rejects, on_conflict="skip")
        assert rejects.exists()
        return
    with pytest.raises(InputError, match="is the (store|source file)"):
        import_layer(src, "hazards", store=store, rejects=rejects, overwrite=True)
    assert (store.read_bytes(), src.read_bytes()) == before


def test_an_interrupted_rejects_write_leaves_no_partial_file(tmp_path, monkeypatch):
    src = with_a_reject(tmp_path)
    rejects = tmp_path / "r.geojson"
    (tmp_path / "r.csv").write_text("an older table\n")
    import kosovo_cmr.import_rejects as module

    def killed(frame, path, **kwargs):
        Path(path).write_text("partial")
        raise OSError("No space left on device (injected)")

    monkeypatch.setattr(pd.DataFrame, "to_csv", killed)
    with pytest.raises(StoreError, match="No space left"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg", rejects=rejects, overwrite=True)
    assert (tmp_path / "r.csv").read_text() == "an older table\n"  # left as it was
    assert [p.name for p in tmp_path.iterdir() if ".part-" in p.name] == []
    assert module.atomic_output  # the writer goes through the shared atomic writer
