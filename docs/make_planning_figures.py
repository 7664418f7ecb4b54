"""Regenerate the planning chart and tables shown in docs/guides/planning.rst.

Run from the repository root (demo layers, DEM and cover are all SYNTHETIC)::

    python docs/make_planning_figures.py

Writes ``docs/_static/planning-burndown.png``, ``planning-scenarios.csv``,
``planning-hazards.csv`` and ``planning-terrain.csv``: the same outputs as the
``kcmr demo`` planning step, formatted for the guide.
"""

import tempfile
import warnings
from pathlib import Path

from kosovo_cmr.analysis.forecast import (
    clearance_effort,
    display_plan,
    display_scenarios,
    plot_burndown,
    read_effort,
    scenarios,
    schedule,
)
from kosovo_cmr.analysis.terrain import format_terrain, terrain_stats
from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.synthetic.terrain import synthetic_terrain

static = Path(__file__).resolve().parent / "_static"
static.mkdir(exist_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    ctx = run_demo(tmp, steps=[load_layers])
    hazards = ctx.store.read("hazards")
    active = hazards[hazards["status"] == "active"].reset_index(drop=True)
    evidence = ctx.store.read("evidence")
    dem, cover = synthetic_terrain(tmp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        terrain = terrain_stats(active, dem=dem, cover=cover)
effort = read_effort()
table, schedules = scenarios(active, terrain=terrain, evidence=evidence, effort=effort)
png = plot_burndown(
    schedules,
    static / "planning-burndown.png",
    effort=effort,
    synthetic=True,
)
print(f"wrote {png}")
shown = display_scenarios(table)
shown["note"] = table["note"]
shown.to_csv(static / "planning-scenarios.csv", index=False)
plan = schedule(clearance_effort(active, terrain=terrain, effort=effort), effort=effort)
display_plan(plan).to_csv(static / "planning-hazards.csv", index=False)
format_terrain(terrain).head(8).to_csv(static / "planning-terrain.csv", index=False)
print(f"wrote {static}/planning-*.csv")
