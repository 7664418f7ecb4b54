"""The map-fields step of an import: the source's columns become the layer's."""

from __future__ import annotations

import pandas as pd
import pytest
from _import_corpus import hazards

from kosovo_cmr.errors import InputError
from kosovo_cmr.import_fields import (
    attach_regions,
    map_attributes,
    map_fields,
    parse_field_map,
    rename_reserved,
)
from kosovo_cmr.schema import get_schema
from kosovo_cmr.sources import SourceData


def test_map_fields_wins_and_is_checked():
    renames, _ = map_fields(["Nr", "Typ", "id"], "hazards", mapping={"Nr": "hazard_id"})
    assert renames == {"Nr": "hazard_id"}  # "id" is not taken as the id: Nr was mapped
    with pytest.raises(InputError, match="not in the source"):
        map_fields(["a"], "hazards", mapping={"b": "kind"})
    with pytest.raises(InputError, match="SRC=DST"):
        parse_field_map("a:b")


def test_shapefile_cut_names_are_matched():
    renames, _ = map_fields(
        ["HazardID", "HazardType", "DateRecord", "Organisati", "evidence_i"], "hazards"
    )
    assert renames == {
        "HazardID": "hazard_id",
        "HazardType": "kind",
        "DateRecord": "recorded",
        "Organisati": "operator",
    }


def test_reserved_names_are_kept_under_another_name():
    src = SourceData(
        frame=pd.DataFrame({"fid": [1], "Geometry": ["x"], "fid_source": [2]}),
        geometry=[None], issues=[[]], crs=None, path="t.csv", kind="table",
    )  # fmt: skip
    notices: list[str] = []
    rename_reserved(src, notices)
    assert list(src.frame.columns) == ["fid_source_", "Geometry_source", "fid_source"]
    assert len(notices) == 2 and "reserves the name" in notices[0]


def test_boundaries_get_district_and_region_from_the_region_table():
    attrs = pd.DataFrame({"municipality": ["Prishtinë", "Enclave-Kamenicë", "Atlantis", None]})
    notices: list[str] = []
    out = attach_regions(attrs, notices)
    assert out["region"].tolist()[:2] == ["Centre", "East"]
    assert out["district"].tolist()[0] == "Prishtinë"
    assert out["region"].isna().tolist()[2:] == [True, True]  # unknown, or no name
    assert "district" in out.columns and notices


def test_a_required_column_found_nowhere_refuses_the_source():
    frame = pd.DataFrame(hazards(1).drop(columns=["geometry", "kind"]))
    src = SourceData(frame=frame, geometry=[None], issues=[[]], crs=None, path="h.gpkg",
                     kind="vector")  # fmt: skip
    with pytest.raises(InputError, match="no column for required kind .*--map-fields SRC=kind"):
        map_attributes(src, get_schema("hazards"), source="h.gpkg", field_map={}, notices=[])
