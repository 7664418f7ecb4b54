"""The maps workflow: reads the store, computes the rings and footprints, and draws them."""

from __future__ import annotations

import json
import re

import _mapdata
import pytest

from kosovo_cmr.analysis.fadeout import buffer_impact
from kosovo_cmr.analysis.strikes import strike_footprints
from kosovo_cmr.errors import InputError
from kosovo_cmr.workflows import maps as workflow


def _names(m) -> list[str]:
    page = m.get_root().render()
    return [json.loads(t)["name"] for t in re.findall(r"kcmr\.layer\((\{.*?\})\);", page)]


def test_map_layers_adds_the_rings_and_the_footprints(demo_store):
    layers = workflow.map_layers(demo_store)
    # issue 17: plus the evidence audit's unsupported land (drawn from the layers dict)
    extra = {"unsupported_land", "tolerable_risk"}  # issues 17 and 18
    assert set(demo_store.layers()) | set(workflow.DERIVED) | extra == set(layers)
    assert layers["unsupported_land"]["synthetic"].all()
    expected = buffer_impact(layers["evidence"], *workflow.FADEOUT_RULES).rings
    rings = layers["fadeout_rings"]
    assert len(rings) == len(expected[~expected.geometry.is_empty])
    assert rings["synthetic"].all()  # demo evidence is synthetic
    footprints = layers["strike_footprints"]
    assert footprints.geometry.equals(strike_footprints(layers["strikes"]).geometry)


def test_map_from_store_draws_them(demo_store):
    names = _names(workflow.map_from_store(demo_store))
    assert "Strike footprints" in names
    assert "Fade-out rings (released by the 25 m rule)" in names


def test_given_rings_are_drawn_instead(demo_store):
    rings = workflow.map_layers(demo_store)["fadeout_rings"].iloc[:1]
    m = workflow.map_from_store(demo_store, fadeout_rings=rings)
    page = m.get_root().render()
    spec = next(
        json.loads(t)
        for t in re.findall(r"kcmr\.layer\((\{.*?\})\);", page)
        if json.loads(t)["name"].startswith("Fade-out")
    )
    assert len(spec["rows"]) == 1


def test_layers_without_evidence_or_strikes_have_nothing_derived():
    layers = workflow.map_layers({"hazards": _mapdata.hazards()})
    assert set(layers) == {"hazards"}


def test_refuses_what_is_neither_a_store_nor_layers(tmp_path):
    with pytest.raises(InputError, match="store or a dict"):
        workflow.map_layers(["hazards"])
