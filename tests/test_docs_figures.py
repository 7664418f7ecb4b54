"""The committed outputs of the docs scripts (docs/_static) are what the scripts make today.

Each script is imported by path and run into ``tmp_path``; its CSVs must equal the
committed ones (PNGs are not compared), so that CI catches a guide left behind.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def docs_script(name: str):
    """Import ``docs/<name>.py`` as a module (the docs folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- report --------------------------------------------------------------------------------


def test_report_csvs_are_the_committed_ones(demo_store, tmp_path):
    written = docs_script("make_report_figures").main(tmp_path, store=demo_store, pngs=False)
    committed = sorted(p.name for p in (DOCS / "_static").glob("report-*.csv"))
    assert sorted(p.name for p in written) == committed
    for path in written:
        expected = (DOCS / "_static" / path.name).read_text(encoding="utf-8")
        assert path.read_text(encoding="utf-8") == expected, (
            f"docs/_static/{path.name} is stale: run python docs/make_report_figures.py"
        )


# --- planning ------------------------------------------------------------------------------


@pytest.mark.slow
def test_planning_figures_are_up_to_date(tmp_path):
    script = docs_script("make_planning_figures")
    written = script.main(tmp_path)
    assert [p.name for p in written] == list(script.FILES)
    # issue 18: the "Planning to 2030" guide's charts and tables are among them
    assert {"planning-priority.png", "planning-money.png", "planning-risk.png"} <= set(script.FILES)
    committed_csv = sorted(p.name for p in (DOCS / "_static").glob("planning-*.csv"))
    assert sorted(p.name for p in written if p.suffix == ".csv") == committed_csv
    for path in written:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            continue
        committed = DOCS / "_static" / path.name
        assert path.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
            f"{committed} is stale: run python docs/make_planning_figures.py"
        )
