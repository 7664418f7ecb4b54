"""``kcmr info --format json``: strict JSON (issue 19 item 5: it wrote NaN for point layers)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kosovo_cmr.cli.main import cli


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_info_json_is_strict_with_null_areas_for_points(demo_store):
    result = CliRunner().invoke(cli, ["--store", demo_store.uri, "info", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.stdout
    doc = _strict(result.stdout)
    layers = {row["layer"]: row for row in doc["layers"]}
    assert layers["evidence"]["area_m2"] is None  # points have no area: null, not NaN
    assert layers["strikes"]["area_m2"] is None
    assert layers["hazards"]["area_m2"] > 0
    assert layers["evidence"]["features"] == 1421


def test_strict_parser_refuses_nan():
    with pytest.raises(ValueError, match="NaN is not JSON"):
        _strict('{"a": NaN}')
