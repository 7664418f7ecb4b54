"""The check-attributes step of an import: each value read as its column's kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosovo_cmr.import_values import check_attributes, convert_value, is_null
from kosovo_cmr.schema import get_schema


@pytest.mark.parametrize(
    "value, kind, expected",
    [
        (12.0, "text", "12"),
        ("  H-1 ", "text", "H-1"),
        ("4,0", "int", 4),
        ("2.5", "float", 2.5),
        ("po", "bool", True),
        ("0.0", "bool", False),
        ("15.07.2024", "date", "2024-07-15"),
        ("2024-07-15T10:00:00+02:00", "date", "2024-07-15"),
        (pd.Timestamp("2024-01-02"), "date", "2024-01-02"),
    ],
)
def test_values_are_read_as_their_kind(value, kind, expected):
    assert convert_value(value, kind) == expected


@pytest.mark.parametrize(
    "value, kind, why",
    [("2.5", "int", "whole"), (True, "int", "boolean"), ("inf", "float", "number"),
     ("maybe", "bool", "yes/no"), ("last spring", "date", "YYYY-MM-DD")],
)  # fmt: skip
def test_values_that_cannot_be_read_say_why(value, kind, why):
    with pytest.raises(ValueError, match=why):
        convert_value(value, kind)


def test_nulls():
    assert [is_null(v) for v in (None, "", " ", np.nan, pd.NaT, 0, "0")] == [
        True, True, True, True, True, False, False,
    ]  # fmt: skip


def test_every_copy_of_a_bad_value_rejects_its_feature():
    attrs = pd.DataFrame(
        {"hazard_id": ["A", "B", "C"], "kind": ["CHA", "CHA", "CHA"],
         "recorded": ["soon", "soon", "2024-01-01"]}
    )  # fmt: skip
    issues = [[], [], []]
    out = check_attributes(attrs, get_schema("hazards"), np.ones(3, dtype=bool), issues)
    assert [[i.code for i in x] for x in issues] == [["bad_value"], ["bad_value"], []]
    assert out["recorded"].tolist() == [None, None, "2024-01-01"]


def test_features_already_rejected_get_no_new_issue():
    attrs = pd.DataFrame({"hazard_id": ["A"], "kind": ["maybe"], "recorded": [None]})
    issues = [[]]
    check_attributes(attrs, get_schema("hazards"), np.zeros(1, dtype=bool), issues)
    assert issues == [[]]
