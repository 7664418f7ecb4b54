"""Planning to 2030: priorities, money and capacity scenarios, the funding gap, tolerable risk.

Runs on the SYNTHETIC demo layers, with SYNTHETIC context layers (settlements, roads,
farmland, water, protected areas, poverty, population) and incidents generated here;
with real data, pass your own context files to ``priorities_from_store`` and import the
incidents into the store (``kcmr import incidents.csv --layer incidents``). The unit costs
and the confirmed international funding are assumptions (layers/costs.csv,
layers/scenarios.toml). Outputs go to a temporary folder.

    python plan_2030.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from kosovo_cmr import settings
from kosovo_cmr.demo import load_layers, run_demo, step_context
from kosovo_cmr.outputs.charts import plot_money, plot_risk_map
from kosovo_cmr.workflows.forecast import plan_from_store
from kosovo_cmr.workflows.priority import priorities_from_store


def main() -> None:
    """Walk from the priorities to the scenarios, the funding gap and the tolerable risk."""
    out = Path(tempfile.mkdtemp(prefix="kcmr-2030-"))
    steps = [load_layers, step_context]  # layers, context, incidents
    ctx = run_demo(out, boundaries=settings.resolve_boundaries_path(), steps=steps)

    # 1. Priorities: KMAC's criteria as data (layers/priority/kmac-2025.toml).
    result = priorities_from_store(ctx.store, ctx.results["context"])
    table = result.table.sort_values("score", ascending=False)
    parts = [c for c in table.columns if c.startswith("part_")]
    print(f"model {result.model['name']} sha256 {result.model['sha256'][:12]}")
    print(
        table[["hazard_id", "recorded", "score", *parts, "class"]]
        .head(5)
        .round(1)
        .to_string(index=False)
    )
    assert (table[parts].sum(axis=1) - table["score"]).abs().max() < 1e-9  # parts add up
    print(
        result.sensitivity[["criterion", "weight", "changed_down", "changed_up"]].to_string(
            index=False
        )
    )

    # 2. Scenarios named after the report, calibrated on the store's 2024 clearance.
    forecast = plan_from_store(ctx.store)
    cols = [
        "scenario",
        "last_high_medium_year",
        "completion_year",
        "cost_eur",
        "funding_gap_eur",
        "money_binds",
    ]
    print()
    print(forecast.table[cols].head(6).to_string(index=False))
    for row in forecast.table.head(6).itertuples():
        print(f"  {row.scenario}: {row.assumes}")

    # 3. The funding gap, year by year.
    section = forecast.section()
    named = [s["name"] for s in forecast.settings.plan["scenarios"] if s["calibrated"]]
    png = plot_money(
        {k: section["money"][k] for k in named},
        forecast.table,
        out / "money.png",
        needed_eur_per_year=3_500_000,
        synthetic=True,
    )

    # 4. Tolerable risk by municipality, and its map.
    risk = forecast.risk
    print()
    print(risk["status"].value_counts().to_string())
    print(
        risk.loc[
            risk["status"] == "late",
            ["municipality", "free_of_risk_year", "earliest_tolerable_year"],
        ].to_string(index=False)
    )
    print(section["fadeout_explained"]["sentence"])
    choropleth = plot_risk_map(forecast.risk_layer(), out / "risk.png", synthetic=True)
    print(f"\nwrote {png}, {choropleth}")


if __name__ == "__main__":
    main()
