"""Regenerate the planning charts and tables of docs/guides/planning.rst and planning-2030.rst.

Run from the repository root (demo layers, DEM, cover, context layers and incidents are
all SYNTHETIC)::

    python docs/make_planning_figures.py

Writes into ``docs/_static``: ``planning-burndown.png``, ``planning-scenarios.csv``,
``planning-hazards.csv`` and ``planning-terrain.csv`` (the ``kcmr demo`` planning step,
formatted for the guides), and for "Planning to 2030": ``planning-priority.png``,
``planning-priority.csv``, ``planning-sensitivity.csv``, ``planning-assumes.csv``,
``planning-money.png``, ``planning-money.csv``, ``planning-risk.png`` and
``planning-risk.csv``. ``tests/test_docs_figures.py`` runs :func:`main` into a temporary
folder and checks the committed CSV files against it.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from kosovo_cmr.analysis.terrain import format_terrain
from kosovo_cmr.demo import load_layers, run_demo, step_context
from kosovo_cmr.outputs.charts import plot_money, plot_priority_parts, plot_risk_map
from kosovo_cmr.outputs.forecast_text import display_plan, display_risk, display_scenarios
from kosovo_cmr.outputs.priority_text import display_scores, display_sensitivity
from kosovo_cmr.synthetic.terrain import synthetic_terrain
from kosovo_cmr.workflows.forecast import burndown_chart, plan_from_store
from kosovo_cmr.workflows.priority import priorities_from_store

#: Where the guides read their figures.
STATIC = Path(__file__).resolve().parent / "_static"

#: The files :func:`main` writes, in order.
FILES = (
    "planning-burndown.png",
    "planning-scenarios.csv",
    "planning-hazards.csv",
    "planning-terrain.csv",
    "planning-priority.png",
    "planning-priority.csv",
    "planning-sensitivity.csv",
    "planning-assumes.csv",
    "planning-money.png",
    "planning-money.csv",
    "planning-risk.png",
    "planning-risk.csv",
)


def _compute(tmp: str):
    """Run the demo's layers, context and incidents, then the priorities and the forecast."""
    ctx = run_demo(tmp, steps=[load_layers, step_context])
    dem, cover = synthetic_terrain(tmp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # rasterio/affine noise
        priorities = priorities_from_store(ctx.store, ctx.results["context"])
        forecast = plan_from_store(ctx.store, dem=dem, cover=cover)
    return priorities, forecast


def _money_table(table: pd.DataFrame, deadline: int) -> pd.DataFrame:
    """Return the money columns of the scenarios that have them, in EUR million."""
    rows = table[table["cost_eur"].notna()]
    out = pd.DataFrame({"scenario": rows["scenario"]})
    columns = {
        "cost_eur": "cost (EUR M)",
        f"cost_to_{deadline}_eur": f"cost to {deadline} (EUR M)",
        "funding_gap_eur": "funding gap (EUR M)",
        f"funding_gap_to_{deadline}_eur": f"gap to {deadline} (EUR M)",
    }
    for col, header in columns.items():
        out[header] = [f"{v / 1e6:.2f}" for v in rows[col]]
    out["money binds in"] = rows["money_binds"]
    return out


def main(out_dir: str | Path = STATIC) -> list[Path]:
    """Compute the demo's priorities and forecast and write the guides' figures.

    Parameters
    ----------
    out_dir : path, optional
        Folder to write to (default ``docs/_static``); created if needed.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of :data:`FILES`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        priorities, forecast = _compute(tmp)
        risk_layer = forecast.risk_layer()
    table, effort = forecast.table, forecast.effort
    deadline = int(effort["target"]["deadline_year"])
    paths = {name: out / name for name in FILES}
    burndown_chart(
        forecast.schedules, paths["planning-burndown.png"], effort=effort, synthetic=True
    )
    shown = display_scenarios(table)
    shown["note"] = table["note"]
    shown.to_csv(paths["planning-scenarios.csv"], index=False)
    display_plan(forecast.plan).to_csv(paths["planning-hazards.csv"], index=False)
    format_terrain(forecast.terrain).head(8).to_csv(paths["planning-terrain.csv"], index=False)
    plot_priority_parts(
        priorities.table,
        paths["planning-priority.png"],
        classes=priorities.model["classes"],
        synthetic=True,
    )
    display_scores(priorities.table).to_csv(paths["planning-priority.csv"], index=False)
    display_sensitivity(priorities.sensitivity).to_csv(
        paths["planning-sensitivity.csv"], index=False
    )
    table[["scenario", "assumes"]].to_csv(paths["planning-assumes.csv"], index=False)
    section = forecast.section()
    # the money scenarios on calibrated rates (the per-team reading would dwarf them)
    named = [s["name"] for s in forecast.settings.plan["scenarios"] if s["calibrated"]]
    plot_money(
        {k: v for k, v in section["money"].items() if k in named},
        table,
        paths["planning-money.png"],
        needed_eur_per_year=forecast.settings.plan["funding"]["needed_eur_per_year"],
        deadline=deadline,
        synthetic=True,
    )
    _money_table(table, deadline).to_csv(paths["planning-money.csv"], index=False)
    plot_risk_map(risk_layer, paths["planning-risk.png"], synthetic=True)
    display_risk(forecast.risk).to_csv(paths["planning-risk.csv"], index=False)
    return [paths[name] for name in FILES]


if __name__ == "__main__":
    for path in main(sys.argv[1] if len(sys.argv) > 1 else STATIC):
        print(f"wrote {path}")
