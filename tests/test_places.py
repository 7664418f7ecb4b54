"""Place names: the region table, the alias table, and matching any spelling (issue 19)."""

from __future__ import annotations

import pytest

from kosovo_cmr.errors import InputError
from kosovo_cmr.places import (
    PLACE_NAME_COLUMNS,
    locate,
    locate_region,
    match_key,
    read_place_names,
    read_region_table,
)


def test_the_alias_table_covers_every_municipality_in_both_serbian_scripts():
    names = read_place_names()
    assert list(names.columns[:4]) == list(PLACE_NAME_COLUMNS)
    assert (names["source"].str.len() > 0).all() and (names["alias"].str.len() > 0).all()
    municipalities = set(read_region_table()["municipality"])
    for language in ("sr-Latn", "sr-Cyrl", "sq"):
        have = set(names.loc[names["language"] == language, "canonical"])
        assert municipalities <= have, (language, sorted(municipalities - have))
    assert set(names.loc[names["unit"] == "region", "canonical"]) == {
        "North", "Centre", "East", "West", "South",
    }  # fmt: skip


def test_every_alias_locates_its_canonical_name():
    names = read_place_names()
    for alias, canonical, unit in names[["alias", "canonical", "unit"]].itertuples(index=False):
        found = locate(alias).municipality if unit == "municipality" else locate_region(alias)
        assert found == canonical, (alias, found, canonical)


@pytest.mark.parametrize(
    "name, canonical",
    [
        ("Peć", "Pejë"), ("Pec", "Pejë"), ("Пећ", "Pejë"), ("Peja", "Pejë"),
        ("Đakovica", "Gjakovë"), ("Djakovica", "Gjakovë"), ("Ђаковица", "Gjakovë"),
        ("Uroševac", "Ferizaj"), ("Urosevac", "Ferizaj"), ("УРОШЕВАЦ", "Ferizaj"),
        ("Priština", "Prishtinë"), ("Pristina", "Prishtinë"), ("Prishtina", "Prishtinë"),
        ("Kosovska Mitrovica", "Mitrovicë"), ("Mitrovica e Jugut", "Mitrovicë"),
        ("Severna Kosovska Mitrovica", "Mitrovicë e Veriut"),
        ("Mitrovica North", "Mitrovicë e Veriut"),
        ("Leposavić", "Leposaviq"), ("Лепосавић", "Leposaviq"), ("leposavic", "Leposaviq"),
        ("Gracanica", "Graçanicë"), ("Glogovac", "Drenas"), ("Suva Reka", "Suharekë"),
        ("Đeneral Janković", "Hani i Elezit"), ("Štrpce", "Shtërpcë"), ("Srbica", "Skënderaj"),
        ("Orahovac", "Rahovec"), ("Vitina", "Viti"), ("Istok", "Istog"), ("Gnjilane", "Gjilan"),
        ("Zvecan", "Zveçan"), ("Kosovo Polje", "Fushë Kosovë"), ("Mamuşa", "Mamushë"),
    ],
)  # fmt: skip
def test_spellings_and_languages_locate_one_municipality(name, canonical):
    assert locate(name).municipality == canonical


def test_a_name_that_matches_nothing_is_not_guessed():
    for name in ("Atlantis", "Prishtin", "Mitro", "", None, float("nan")):
        assert locate(name) is None


def test_regions_in_albanian_serbian_and_english():
    assert [locate_region(n) for n in ("Veriu", "Jug", "Центар", "central", "Zapad")] == [
        "North", "South", "Centre", "Centre", "West",
    ]  # fmt: skip
    assert locate_region("Istok") == "East" and locate("Istok").municipality == "Istog"
    assert locate_region("Nowhere") is None


def test_match_key_transliterates_serbian_cyrillic_and_drops_invisible_characters():
    assert match_key("Грачаница") == match_key("Gračanica") == match_key("Gracanica")
    assert match_key("Gnji\u200blane") == match_key("Гњилане")


def test_a_bad_alias_table_is_refused(tmp_path):
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("canonical,alias,language,source\nAtlantis,Atlantida,sr-Latn,me\n")
    with pytest.raises(InputError, match="not in the region table: Atlantis"):
        read_place_names(unknown)
    twice = tmp_path / "twice.csv"
    twice.write_text("canonical,alias,language,source\nPejë,Dukagjin,sq,x\nGjakovë,Dukagjin,sq,x\n")
    with pytest.raises(InputError, match="an alias names two places: dukagjin"):
        read_place_names(twice)
    missing = tmp_path / "missing.csv"
    missing.write_text("canonical,alias\nPejë,Peć\n")
    with pytest.raises(InputError, match="lack column"):
        read_place_names(missing)


def test_a_custom_alias_table_is_used_when_given(tmp_path):
    table = tmp_path / "names.csv"
    table.write_text("canonical,alias,language,source\nPejë,Ipek,tr,Ottoman name\n")
    assert locate("Ipek") is None
    assert locate("Ipek", names=table).municipality == "Pejë"
