"""Plan the remaining CMR clearance: terrain per hazard, team-days, completion forecast.

Runs on the SYNTHETIC demo layers and a SYNTHETIC DEM and land cover generated here;
with real data, point ``dem=`` at an SRTM or Copernicus DEM tile and ``cover=`` at an
ESA WorldCover tile, in whatever CRS they come. Outputs go to a temporary folder.

    python plan_clearance.py
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from kosovo_cmr import settings
from kosovo_cmr.analysis.effort import clearance_effort, read_effort
from kosovo_cmr.analysis.forecast import lead_plan, scenarios
from kosovo_cmr.analysis.schedule import completion
from kosovo_cmr.analysis.terrain import terrain_stats
from kosovo_cmr.demo import load_layers, run_demo
from kosovo_cmr.outputs.rasters import rasterize_hazards
from kosovo_cmr.synthetic.terrain import synthetic_terrain
from kosovo_cmr.workflows.forecast import burndown_chart


def main() -> None:
    """Run the planning chain and print what a planner reads."""
    out = Path(tempfile.mkdtemp(prefix="kcmr-plan-"))
    ctx = run_demo(out, boundaries=settings.resolve_boundaries_path(), steps=[load_layers])
    hazards = ctx.store.read("hazards")
    active = hazards[hazards["status"] == "active"].reset_index(drop=True)
    evidence = ctx.store.read("evidence")
    releases = ctx.store.read("releases")  # the calibrated scenario's observed clearance

    # 1. Terrain: slope and dense vegetation per hazard (windowed reads only).
    dem, cover = synthetic_terrain(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # rasterio/affine noise
        terrain = terrain_stats(active, dem=dem, cover=cover)
    print(terrain.round(2).head(5).to_string(index=False))

    # 2. Effort: method from the rules in layers/effort.toml, team-days = area / rate at
    #    the effort file's rates; then the lead scenario's plan (April 2025 teams from
    #    layers/capacity.csv, rates calibrated on the store's 2024 clearance, cost from
    #    layers/costs.csv).
    effort = read_effort()
    table = clearance_effort(active, terrain=terrain, evidence=evidence, effort=effort)
    h = table.iloc[0]
    print(
        f"\n{h.hazard_id}: {h.area_to_clear_m2:,.0f} m2 by {h.method} at "
        f"{h.rate_m2_per_team_day:g} m2/team-day (effort file) = {h.team_days:,.1f} team-days"
    )
    plan = lead_plan(active, terrain=terrain, releases=releases, effort=effort)
    h = plan.iloc[0]
    print(
        f"lead scenario, calibrated: {h.hazard_id} ({h.priority}, {h.operator}) at "
        f"{h.rate_m2_per_team_day:,.1f} m2/team-day = {h.team_days:,.1f} team-days; with "
        f"{h.teams:g} teams {h.working_days:,.1f} working days "
        f"({effort['season']['working_days']} a season), EUR {h.cost_eur:,.0f}"
    )
    print("completion under the lead scenario:", completion(plan))

    # 3. Scenarios and the burn-down chart.
    summary, schedules = scenarios(
        active, terrain=terrain, evidence=evidence, releases=releases, effort=effort
    )
    print()
    print(summary.drop(columns=["assumes", "note"]).to_string(index=False))
    for row in summary.itertuples():
        if row.note:
            print(f"note: {row.scenario}: {row.note}")
    png = burndown_chart(
        schedules,
        out / "burndown.png",
        effort=effort,
        synthetic=True,
    )
    tif = rasterize_hazards(active, out / "hazards-10m.tif", cell_size_m=10)
    print(f"\nwrote {png}, {tif}")


if __name__ == "__main__":
    main()
