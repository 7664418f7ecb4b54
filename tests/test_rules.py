"""Fade-out rules: shipped rules, rule files, precedence, uniform distances, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosovo_cmr.analysis.rules import (
    DEFAULT_RULE,
    NMAS_2024_READINGS,
    FadeoutRule,
    load_rule,
    shipped_rules,
)
from kosovo_cmr.errors import InputError


def test_shipped_rules():
    assert shipped_rules() == [
        "kosovo-nmas-2024",
        "kosovo-nmas-2024-components-only",
        "kosovo-pre-2024",
    ]
    nmas = load_rule("kosovo-nmas-2024")
    pre = load_rule("kosovo-pre-2024")
    frame = pd.DataFrame(
        {
            "ordnance": ["BLU-97", "BL755", "other", "unknown", None],
            "item": ["component", "submunition", "component", "crater", None],
        }
    )
    assert nmas.distances_m(frame).tolist() == [25, 25, 50, 50, 50]
    assert pre.distances_m(frame).tolist() == [50] * 5
    assert load_rule() == nmas
    assert load_rule(nmas) is nmas


def test_rule_file_precedence_and_accuracy(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\ndefault_m = 40\n'
        '[ordnance]\n"BLU-97" = 20\n'
        "[item]\ncrater = 30\ncomponent = 35\n"
        '[[specific]]\nordnance = "BLU-97"\nitem = "container"\ndistance_m = 60\n',
        encoding="utf-8",
    )
    rule = load_rule(path)
    assert isinstance(rule, FadeoutRule) and rule.name == "mine" and rule.max_m == 60
    frame = pd.DataFrame(
        {
            "ordnance": ["BLU-97", "BLU-97", "other", "other", "BL755"],
            "item": ["crater", "container", "crater", "component", "fragments"],
            "accuracy_m": [1.0, np.nan, 2.5, 0.0, 4.0],
        }
    )
    assert rule.distances_m(frame).tolist() == [20, 60, 30, 35, 40]
    assert rule.distances_m(frame, use_accuracy=True).tolist() == [21, 60, 32.5, 35, 44]


def test_uniform_rule():
    rule = load_rule(distance_m=12.5)
    assert rule.name == "uniform-12.5m"
    assert rule.distances_m(pd.DataFrame({"x": [1, 2]})).tolist() == [12.5, 12.5]


@pytest.mark.parametrize(
    "text, message",
    [
        ('name = "x"\n', "no default_m"),
        ("default_m = -5\n", "positive"),
        ('default_m = 50\n[ordnance]\n"BLU-99" = 25\n', "unknown ordnance"),
        ("default_m = 50\n[item]\nmine = 25\n", "unknown item"),
        ("default_m = 50\nfoo = 1\n", "unknown key"),
        ("default_m = = 50\n", "cannot read"),
        ('default_m = 50\n[[specific]]\nordnance = "BLU-97"\n', "specific"),
    ],
)
def test_bad_rule_files(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_rule(path)


def test_bad_rule_arguments():
    with pytest.raises(InputError, match="no fade-out rule 'nope'"):
        load_rule("nope")
    with pytest.raises(InputError, match="not both"):
        load_rule("kosovo-pre-2024", distance_m=20)
    with pytest.raises(InputError, match="positive"):
        load_rule(distance_m=0)
    with pytest.raises(InputError, match="number"):
        load_rule(distance_m="far")
    with pytest.raises(InputError, match="accuracy_m"):
        load_rule(distance_m=5).distances_m(pd.DataFrame({"a": [1]}), use_accuracy=True)


def test_the_two_readings_of_nmas_2024():
    """Broad (default): every BLU-97/BL755 item at 25 m; narrow: component parts only."""
    broad, narrow = (load_rule(name) for name in NMAS_2024_READINGS.values())
    assert broad.name == DEFAULT_RULE == "kosovo-nmas-2024"
    assert narrow.name == "kosovo-nmas-2024-components-only"
    items = ["component", "submunition", "crater", "container", "fragments", "other"]
    for ordnance in ("BLU-97", "BL755"):
        frame = pd.DataFrame({"ordnance": [ordnance] * len(items), "item": items})
        assert broad.distances_m(frame).tolist() == [25.0] * 6
        assert narrow.distances_m(frame).tolist() == [25.0, 50.0, 50.0, 50.0, 50.0, 50.0]
    others = pd.DataFrame({"ordnance": ["other", "unknown"], "item": ["component"] * 2})
    assert broad.distances_m(others).tolist() == narrow.distances_m(others).tolist() == [50, 50]
    assert "broad reading (default)" in broad.title and "component parts only" in narrow.title
