"""Canonical municipality and region names in stored layers (issue 19, item 2).

Hazards arrive with their municipality written in Albanian, Serbian Latin, Serbian
Cyrillic or without diacritics, or not at all; the store must hold one spelling per
unit (the region table's) and a region for every placed hazard. The real municipal
boundaries (read by path from ../shared) place the features without a municipality.
"""

from __future__ import annotations

import shapely
from _import_corpus import write_gpkg

from kosovo_cmr.importer import import_layer, validate_source
from kosovo_cmr.store import open_store

#: Points well inside a municipality of the 2018 boundaries (lon, lat).
INSIDE = {
    "Prishtinë": (21.166, 42.663),
    "Prizren": (20.740, 42.213),
    "Leposaviq": (20.800, 43.100),
    "Ferizaj": (21.155, 42.370),
}


def hazard(i: int, where: str, size: float = 0.002):
    x, y = INSIDE[where]
    return shapely.box(x + i * 1e-4, y, x + i * 1e-4 + size, y + size)


def hazards_file(tmp_path, rows, *, name="h.gpkg"):
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        {
            "hazard_id": [f"P-{i}" for i in range(len(rows))],
            "kind": ["CHA"] * len(rows),
            "recorded": ["2024-05-01"] * len(rows),
            **{k: [r.get(k) for r in rows] for k in ("municipality", "region") if
               any(k in r for r in rows)},
        },
        geometry=[hazard(i, r["at"]) for i, r in enumerate(rows)],
        crs=4326,
    )  # fmt: skip
    return write_gpkg(tmp_path / name, gdf)


def imported(src, *, store, **kw):
    check = validate_source(src, "hazards", store=store, **kw)
    report = import_layer(src, "hazards", store=store, **kw)
    assert check.notices == report.notices  # validate and import say the same
    return report, open_store(store).read("hazards").set_index("hazard_id")


def test_names_in_any_language_are_stored_canonical(tmp_path):
    rows = [
        {"at": "Prishtinë", "municipality": "Priština"},
        {"at": "Ferizaj", "municipality": "Урошевац"},
        {"at": "Leposaviq", "municipality": "Leposavic"},
        {"at": "Prizren", "municipality": "Prizreni"},
        {"at": "Prizren", "municipality": "Atlantis"},
    ]
    report, stored = imported(hazards_file(tmp_path, rows), store=tmp_path / "s.gpkg")
    assert report.imported == 5
    assert stored["municipality"].tolist() == [
        "Prishtinë", "Ferizaj", "Leposaviq", "Prizren", "Atlantis",
    ]  # fmt: skip
    assert stored["region"].tolist()[:4] == ["Centre", "South", "North", "South"]
    assert stored["region"].isna().tolist() == [False] * 4 + [True]
    notes = " | ".join(report.notices)
    assert "4 name(s) written as the region table spells them" in notes
    assert "'Урошевац' -> 'Ferizaj'" in notes
    assert "1 name(s) match no municipality and were kept as written ('Atlantis')" in notes
    assert "region: filled from the region table for 4 feature(s)" in notes


def test_a_missing_municipality_comes_from_the_geometry(tmp_path):
    rows = [{"at": "Prishtinë"}, {"at": "Prizren"}, {"at": "Leposaviq"}]
    report, stored = imported(hazards_file(tmp_path, rows), store=tmp_path / "s.gpkg")
    assert stored["municipality"].tolist() == ["Prishtinë", "Prizren", "Leposaviq"]
    assert stored["region"].tolist() == ["Centre", "South", "North"]
    assert any(
        "filled from the geometry for 3 of 3" in n and "boundaries of 2018" in n
        for n in report.notices
    )


def test_largest_share_decides_a_hazard_across_a_boundary(tmp_path, municipalities):
    prishtine = municipalities.set_index("municipality").geometry["Prishtinë"]
    edge = prishtine.boundary.interpolate(0.3, normalized=True)
    across = shapely.box(edge.x - 0.004, edge.y - 0.004, edge.x + 0.004, edge.y + 0.004)
    inside = across.intersection(prishtine).area / across.area
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        {"hazard_id": ["X-1"], "kind": ["SHA"], "recorded": ["2024-01-01"]},
        geometry=[across],
        crs=4326,
    )
    _, stored = imported(write_gpkg(tmp_path / "x.gpkg", gdf), store=tmp_path / "s.gpkg")
    name = stored["municipality"]["X-1"]
    assert (name == "Prishtinë") == (inside > 0.5)


def test_the_boundaries_of_the_store_are_used_when_it_has_them(tmp_path, boundaries_path):
    store = tmp_path / "s.gpkg"
    import_layer(boundaries_path, "boundaries", store=store)
    report, stored = imported(hazards_file(tmp_path, [{"at": "Ferizaj"}]), store=store)
    assert stored["municipality"].tolist() == ["Ferizaj"]
    assert any("the store's boundaries layer" in n for n in report.notices)


def test_a_region_the_file_gives_is_kept_canonical_and_a_disagreement_said(tmp_path):
    rows = [
        {"at": "Leposaviq", "municipality": "Leposaviq", "region": "Lindje"},  # East, sq
        {"at": "Prizren", "municipality": "Prizren", "region": "jug"},
    ]
    report, stored = imported(hazards_file(tmp_path, rows), store=tmp_path / "s.gpkg")
    assert stored["region"].tolist() == ["East", "South"]
    assert any(
        "other than the region table's" in n and "'Leposaviq in East' -> 'North'" in n
        for n in report.notices
    )


def test_release_districts_are_not_rewritten(tmp_path):
    import geopandas as gpd

    releases = gpd.GeoDataFrame(
        {
            "release_id": ["R-1", "R-2"],
            "method": ["clearance", "NTS"],
            "operator": ["HALO", "NPA"],
            "date": ["2024-06-01", "2024-07-01"],
            "district": ["Uroševac", "Prishtina"],  # as the operator reported them
        },
        geometry=[shapely.MultiPolygon([hazard(0, "Ferizaj")]), shapely.MultiPolygon()],
        crs=4326,
    )
    src = write_gpkg(tmp_path / "r.gpkg", releases)
    report = import_layer(src, "releases", store=tmp_path / "s.gpkg")
    stored = open_store(tmp_path / "s.gpkg").read("releases")
    assert stored["district"].tolist() == ["Uroševac", "Prishtina"]
    assert not any("municipality" in n or "region" in n for n in report.notices)


def test_the_real_boundaries_keep_their_enclave_parts(boundaries_path, tmp_path):
    report = import_layer(boundaries_path, "boundaries", store=tmp_path / "s.gpkg")
    stored = open_store(tmp_path / "s.gpkg").read("boundaries").set_index("municipality")
    assert report.imported == 40
    assert stored.loc["Enclave-Prishtine", "region"] == "Centre"
    assert not any("written as the region table spells them" in n for n in report.notices)
