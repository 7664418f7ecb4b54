"""Regenerate the planning chart and tables shown in docs/guides/planning.rst.

Run from the repository root (demo layers, DEM and cover are all SYNTHETIC)::

    python docs/make_planning_figures.py

Writes ``docs/_static/planning-burndown.png``, ``planning-scenarios.csv``,
``planning-hazards.csv`` and ``planning-terrain.csv``: the same outputs as the
``kcmr demo`` planning step, formatted for the guide. ``tests/test_docs_figures.py``
runs :func:`main` into a temporary folder and checks the committed CSV files against it.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

from kosovo_cmr.analysis.terrain import format_terrain
from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.outputs.forecast_text import display_plan, display_scenarios
from kosovo_cmr.synthetic.terrain import synthetic_terrain
from kosovo_cmr.workflows.forecast import burndown_chart, plan_from_store

#: Where the guide reads its figures.
STATIC = Path(__file__).resolve().parent / "_static"


def main(out_dir: str | Path = STATIC) -> list[Path]:
    """Compute the demo's plan on the synthetic terrain and write the guide's figures.

    Parameters
    ----------
    out_dir : path, optional
        Folder to write to (default ``docs/_static``); created if needed.

    Returns
    -------
    list of pathlib.Path
        The files written: the chart, then the scenario, hazard and terrain tables.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = run_demo(tmp, steps=[load_layers])
        dem, cover = synthetic_terrain(tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)  # rasterio/affine noise
            forecast = plan_from_store(ctx.store, dem=dem, cover=cover)
    png = burndown_chart(
        forecast.schedules, out / "planning-burndown.png", effort=forecast.effort, synthetic=True
    )
    shown = display_scenarios(forecast.table)
    shown["note"] = forecast.table["note"]
    tables = [out / f"planning-{name}.csv" for name in ("scenarios", "hazards", "terrain")]
    shown.to_csv(tables[0], index=False)
    display_plan(forecast.plan).to_csv(tables[1], index=False)
    format_terrain(forecast.terrain).head(8).to_csv(tables[2], index=False)
    return [Path(png), *tables]


if __name__ == "__main__":
    for path in main(sys.argv[1] if len(sys.argv) > 1 else STATIC):
        print(f"wrote {path}")
