"""The guides name the tests that hold their promises: each named test exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDES = sorted((ROOT / "docs" / "guides").glob("*.rst"))


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_test_a_guide_names_exists(guide):
    text = guide.read_text(encoding="utf-8")
    named_files = set(re.findall(r"``(tests/\w+\.py)(?:::\w+)?``", text))
    missing_files = [f for f in named_files if not (ROOT / f).is_file()]
    assert not missing_files, f"{guide.name} names missing test files: {missing_files}"
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    named = set(re.findall(r"``(?:tests/\w+\.py::)?(test_\w+)``", text))
    missing = sorted(n for n in named if f"def {n}(" not in sources)
    assert not missing, f"{guide.name} names tests that do not exist: {missing}"
