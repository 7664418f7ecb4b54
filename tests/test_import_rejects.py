"""The rejects file of an import, and what it must never replace."""

from __future__ import annotations

import pytest
from _import_corpus import hazards, write_gpkg

from kosovo_cmr.errors import InputError
from kosovo_cmr.importer import import_layer


def with_a_reject(tmp_path, name="h.gpkg", prefix="H"):
    gdf = hazards(2, prefix=prefix)
    gdf.loc[1, "geometry"] = None  # rejected: null_geometry
    return write_gpkg(tmp_path / name, gdf)


def test_the_rejects_file_cannot_be_the_source(tmp_path):
    src = with_a_reject(tmp_path)
    before = src.read_bytes()
    with pytest.raises(InputError, match="would replace the source"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg", rejects=src, overwrite=True)
    assert src.read_bytes() == before
    link = tmp_path / "link.gpkg"
    link.symlink_to(src)
    with pytest.raises(InputError, match="would replace the source"):
        import_layer(src, "hazards", store=tmp_path / "s.gpkg", rejects=link, overwrite=True)


def test_the_rejects_file_cannot_be_the_store(tmp_path):
    store = tmp_path / "s.gpkg"
    import_layer(write_gpkg(tmp_path / "a.gpkg", hazards(2, prefix="A")), "hazards", store=store)
    before = store.read_bytes()
    src = with_a_reject(tmp_path)
    with pytest.raises(InputError, match="would replace the store"):
        import_layer(src, "hazards", store=store, rejects=store, overwrite=True)
    assert store.read_bytes() == before


def test_the_csv_beside_geojson_rejects_cannot_replace_a_csv_source(tmp_path):
    src = tmp_path / "r.csv"
    src.write_text("hazard_id,kind,recorded,wkt\nA,CHA,2024-01-01,\n")  # A has no geometry
    before = src.read_bytes()
    with pytest.raises(InputError, match="would replace the source"):
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
