"""The committed outputs of the docs scripts (docs/_static) are what the scripts make today.

Each script is imported by path and run into ``tmp_path``; its CSVs must equal the
committed ones (PNGs are not compared), so that CI catches a guide left behind.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


# --- report --------------------------------------------------------------------------------


def _report_figures_script():
    path = DOCS / "make_report_figures.py"
    spec = importlib.util.spec_from_file_location("make_report_figures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_csvs_are_the_committed_ones(demo_store, tmp_path):
    script = _report_figures_script()
    written = script.main(tmp_path, store=demo_store, pngs=False)
    committed = sorted(p.name for p in (DOCS / "_static").glob("report-*.csv"))
    assert sorted(p.name for p in written) == committed
    for path in written:
        expected = (DOCS / "_static" / path.name).read_text(encoding="utf-8")
        assert path.read_text(encoding="utf-8") == expected, (
            f"docs/_static/{path.name} is stale: run python docs/make_report_figures.py"
        )
