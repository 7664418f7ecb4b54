"""The store step of an import: one write, then the store must hold what was imported.

The faulty stores here are real GeoPackage stores whose ``write`` changes what it is
given on the way (as a buggy driver or a trigger in a database could), not mocks.
"""

from __future__ import annotations

import pytest
from _import_corpus import hazards, write_gpkg

from kosovo_cmr.errors import StoreError
from kosovo_cmr.importer import import_layer
from kosovo_cmr.store import open_store
from kosovo_cmr.store.gpkg import GeoPackageStore


class DroppingStore(GeoPackageStore):
    """Silently leaves out the last feature of every write."""

    def write(self, gdf, layer, *, mode="replace", source=None, valid_from=None):
        return super().write(gdf.iloc[:-1], layer, mode=mode, source=source, valid_from=valid_from)


class RenamingStore(GeoPackageStore):
    """Writes every feature, but the first one under another id."""

    def write(self, gdf, layer, *, mode="replace", source=None, valid_from=None):
        changed = gdf.copy()
        changed.loc[changed.index[0], "hazard_id"] = "X-999"
        return super().write(changed, layer, mode=mode, source=source, valid_from=valid_from)


def test_the_normal_path_passes_the_check(tmp_path):
    store = open_store(tmp_path / "s.gpkg")
    first = import_layer(write_gpkg(tmp_path / "a.gpkg", hazards(3)), "hazards", store=store)
    more = write_gpkg(tmp_path / "b.gpkg", hazards(2, prefix="B"))
    second = import_layer(more, "hazards", store=store)
    assert (first.imported, second.imported) == (3, 2)
    assert len(store.read("hazards")) == 5


@pytest.mark.parametrize("mode", ["append", "replace"])
def test_a_store_that_drops_a_feature_is_caught(tmp_path, mode):
    store = DroppingStore(tmp_path / "s.gpkg")
    src = write_gpkg(tmp_path / "h.gpkg", hazards(3))
    with pytest.raises(StoreError, match="2 feature\\(s\\) where 3 were expected") as caught:
        import_layer(src, "hazards", store=store, mode=mode)
    assert "missing id(s): H-2" in str(caught.value)


def test_a_dropped_feature_is_caught_when_appending_to_a_layer(tmp_path):
    path = tmp_path / "s.gpkg"
    import_layer(write_gpkg(tmp_path / "a.gpkg", hazards(2)), "hazards", store=path)
    src = write_gpkg(tmp_path / "b.gpkg", hazards(3, prefix="B"))
    with pytest.raises(StoreError, match="2 before \\+ 3 imported - 0 replaced") as caught:
        import_layer(src, "hazards", store=DroppingStore(path))
    assert "missing id(s): B-2" in str(caught.value)


def test_a_dropped_feature_is_caught_when_replacing_by_id(tmp_path):
    path = tmp_path / "s.gpkg"
    import_layer(write_gpkg(tmp_path / "a.gpkg", hazards(3)), "hazards", store=path)
    v2 = hazards(2)
    v2["operator"] = "NPA"
    src = write_gpkg(tmp_path / "v2.gpkg", v2)
    # the replacements are an upsert: the store keeps H-1 as it was (count and ids agree),
    # and the history shows the stored feature is not the imported one
    with pytest.raises(StoreError, match="not holding the imported feature: H-1"):
        import_layer(src, "hazards", store=DroppingStore(path), on_conflict="replace")


def test_a_store_that_changes_an_id_is_caught(tmp_path):
    src = write_gpkg(tmp_path / "h.gpkg", hazards(3))
    with pytest.raises(StoreError, match="missing id\\(s\\): H-0; unexpected id\\(s\\): X-999"):
        import_layer(src, "hazards", store=RenamingStore(tmp_path / "s.gpkg"))


def test_a_dry_run_writes_and_checks_nothing(tmp_path):
    store = DroppingStore(tmp_path / "s.gpkg")
    src = write_gpkg(tmp_path / "h.gpkg", hazards(3))
    report = import_layer(src, "hazards", store=store, dry_run=True)
    assert report.imported == 3 and not (tmp_path / "s.gpkg").exists()
