import pandas as pd
import pytest

from kosovo_cmr.boundaries import (
    read_municipalities,
    read_region_table,
    regions_from_municipalities,
)
from kosovo_cmr.crs import geodesic_area
from kosovo_cmr.errors import InputError
from kosovo_cmr.schema import validate


def test_38_municipalities_with_enclaves_merged(municipalities):
    assert len(municipalities) == 38
    names = set(municipalities["municipality"])
    assert not any(n.startswith("Enclave") for n in names)
    assert {"Kamenicë", "Prishtinë", "Mitrovicë e Veriut", "Graçanicë", "Fushë Kosovë"} <= names
    assert validate(municipalities, "boundaries") == []


def test_enclave_parts_add_to_their_municipality(municipalities, boundaries_path):
    import pyogrio

    raw = pyogrio.read_dataframe(boundaries_path)
    raw_area = dict(zip(raw["XK_NAME"], geodesic_area(raw), strict=True))
    merged = dict(zip(municipalities["municipality"], geodesic_area(municipalities), strict=True))
    for part, whole in (("Enclave-Kamenicë", "Kamenicë"), ("Enclave-Prishtine", "Prishtinë")):
        assert merged[whole] == pytest.approx(raw_area[whole] + raw_area[part], rel=1e-6)


def test_total_area_is_about_10922_km2(municipalities):
    total_km2 = geodesic_area(municipalities).sum() / 1e6
    assert total_km2 == pytest.approx(10_922, rel=0.002)


def test_municipalities_do_not_overlap(municipalities, boundaries_path, caplog):
    # the 2018 file draws Viti over Kllokot; the loader cuts the overlap out of Viti
    import logging

    metric = municipalities.to_crs(9141)
    pairs = metric.sjoin(metric, predicate="intersects")
    pairs = pairs[pairs.index < pairs["index_right"]]
    overlaps = [
        metric.geometry[i].intersection(metric.geometry[j]).area
        for i, j in zip(pairs.index, pairs["index_right"], strict=True)
    ]
    assert max(overlaps) < 1.0
    with caplog.at_level(logging.WARNING, logger="kosovo_cmr.boundaries"):
        read_municipalities(boundaries_path)
    assert "Viti overlaps Kllokot" in caplog.text


def test_five_regions_dissolved_from_municipalities(municipalities):
    regions = regions_from_municipalities(municipalities)
    assert sorted(regions["region"]) == ["Centre", "East", "North", "South", "West"]
    assert regions["municipalities"].sum() == 38
    assert set(regions.geom_type) == {"MultiPolygon"}
    assert geodesic_area(regions).sum() == pytest.approx(
        geodesic_area(municipalities).sum(), rel=1e-6
    )
    north = set(municipalities.loc[municipalities.region == "North", "municipality"])
    assert north == {
        "Mitrovicë",
        "Mitrovicë e Veriut",
        "Leposaviq",
        "Zubin Potok",
        "Zveçan",
        "Skënderaj",
        "Vushtrri",
    }


def test_region_table_is_editable(tmp_path, boundaries_path):
    table = read_region_table()
    table.loc[table.municipality == "Shtime", "region"] = "South"
    custom = tmp_path / "regions.csv"
    table.to_csv(custom, index=False)
    m = read_municipalities(boundaries_path, regions=custom)
    assert m.set_index("municipality").loc["Shtime", "region"] == "South"


def test_unknown_municipality_is_an_error(tmp_path, boundaries_path):
    table = read_region_table()
    table = table[table.municipality != "Junik"]
    with pytest.raises(InputError, match="Junik"):
        read_municipalities(boundaries_path, regions=table)


def test_region_table_refuses_duplicates(tmp_path):
    path = tmp_path / "r.csv"
    pd.DataFrame({"municipality": ["Pejë", "pejë"], "region": ["West", "West"]}).to_csv(
        path, index=False
    )
    with pytest.raises(InputError, match="twice"):
        read_region_table(path)


def test_missing_name_field_and_file(tmp_path, boundaries_path):
    with pytest.raises(InputError, match="no field 'NAME'"):
        read_municipalities(boundaries_path, name_field="NAME")
    with pytest.raises(InputError, match="not found"):
        read_municipalities(tmp_path / "nope.shp")
