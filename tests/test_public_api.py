"""The public API: ``kosovo_cmr.__all__`` resolves, stays light, and is documented.

Issue 13: "the public API (``kosovo_cmr.__all__``) is documented in the API reference".
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import kosovo_cmr

API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"
PUBLIC = [name for name in kosovo_cmr.__all__ if name != "__version__"]


def _namespace_section() -> str:
    text = API_RST.read_text(encoding="utf-8")
    start = text.index("The ``kosovo_cmr`` namespace")
    end = text.index("\nSettings\n--------")
    return text[start:end]


def _documented(module: str, name: str) -> bool:
    """True when api.rst documents ``module.name`` (a directive that shows its members)."""
    text = API_RST.read_text(encoding="utf-8")
    if re.search(rf"^\.\. auto(function|class|data):: {re.escape(module)}\.{name}$", text, re.M):
        return True
    directive = rf"^\.\. automodule:: {re.escape(module)}\n((?:   .*\n)*)"
    for match in re.finditer(directive, text, re.M):
        members = re.search(r":members:(.*(?:\n      .*)*)", match.group(1))
        if members is None:
            continue
        listed = members.group(1)
        if not listed.strip() or re.search(rf"\b{name}\b", listed):
            return True
    return False


def test_every_public_name_resolves_to_what_api_says():
    from importlib import import_module

    for name in PUBLIC:
        value = getattr(kosovo_cmr, name)
        module = kosovo_cmr.API.get(name)
        if module is not None:
            assert value is getattr(import_module(module), name), name
    assert len(set(kosovo_cmr.__all__)) == len(kosovo_cmr.__all__)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        kosovo_cmr.no_such_name  # noqa: B018
    assert "delineate" in dir(kosovo_cmr)


def test_the_namespace_section_lists_exactly_the_public_api():
    section = _namespace_section()
    listed = re.findall(r"^- :\w+:`~([\w.]+)\.(\w+)`", section, re.M)
    assert sorted(n for _, n in listed) == sorted(PUBLIC)
    missing = [f"{m}.{n}" for m, n in listed if not _documented(m, n)]
    assert not missing, f"listed in the namespace but documented nowhere in api.rst: {missing}"


def test_import_stays_light():
    """``import kosovo_cmr`` loads no analysis, renderer or the maps' folium."""
    code = (
        "import sys, kosovo_cmr; "
        "heavy = [m for m in ('folium', 'matplotlib', 'rasterio', 'dask', "
        "'kosovo_cmr.analysis.fadeout', 'kosovo_cmr.outputs.maps') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_a_public_name_is_the_defining_modules_object():
    from kosovo_cmr.analysis.fadeout import delineate

    assert kosovo_cmr.delineate is delineate
