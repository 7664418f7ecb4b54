"""The two fade-out figures: ``buffer-impact``'s saving against the forecast's fade-out rows.

Both compare the pre-2024 fade-out rule (50 m) with the 2024 national standard's (25 m
around BLU-97 and BL755), yet on the demo ``kcmr buffer-impact`` reports 993,564 m2 less to
clear while the forecast's "fade-out 50 m" and "fade-out 25 m" rows differ by 88,239 m2.
They measure different areas: :func:`fadeout_figures` splits the first into the parts
that explain the second, and writes the sentence the forecast and the report print.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from kosovo_cmr.crs import geodesic_area

__all__ = ["fadeout_figures"]


def _union_rows(rules: dict) -> list[tuple[str, object]]:
    out = []
    for label, spec in rules.items():
        rule, basis = (
            (spec.get("rule"), spec.get("basis", "union"))
            if isinstance(spec, dict)
            else (spec, "union")
        )
        if basis == "union":
            out.append((label, rule))
    return out


def fadeout_figures(
    hazards: gpd.GeoDataFrame,
    evidence: gpd.GeoDataFrame | None,
    table: pd.DataFrame,
    *,
    rules: dict,
) -> dict | None:
    """Explain why ``buffer-impact``'s saving and the forecast's fade-out rows differ.

    ``kcmr buffer-impact`` measures the fade-out area alone: the union of the disks
    around **every** evidence point under each rule. The forecast's fade-out rows clear
    each **open** hazard's recorded polygon plus the fade-out area around its own
    evidence. The land the new rule releases therefore splits into the part around
    evidence of hazards no longer open, the part inside the open hazards' polygons
    (cleared either way) and the part outside them, which is what the forecast's rows
    differ by (up to hazards whose fade-out areas overlap, counted once per hazard there).

    Parameters
    ----------
    hazards : GeoDataFrame
        The open hazards the forecast clears.
    evidence : GeoDataFrame or None
        Every evidence point (as ``buffer-impact`` reads them).
    table : DataFrame
        The :func:`scenarios` table, with the fade-out rows.
    rules : dict
        The fade-out scenarios (label -> rule); the first two on the ``union`` basis are
        compared.

    Returns
    -------
    dict or None
        ``rows`` (the two labels), ``rules``, ``evidence_points``,
        ``buffer_impact_saved_m2``, ``forecast_difference_m2``, ``around_closed_m2``,
        ``inside_open_m2``, ``outside_open_m2`` (the three parts add up to the saving;
        the first takes the rounding of the drawn rings, a few m2), ``sentence`` (both
        numbers and why), ``breakdown`` (the parts) and ``text`` (both, as the forecast's
        note prints them); None without evidence or two such rows.
    """
    pairs = _union_rows(rules)
    if evidence is None or len(evidence) == 0 or len(pairs) < 2:
        return None
    (label_a, rule_a), (label_b, rule_b) = pairs[:2]
    rows = table.set_index("scenario")
    if pd.isna(rows.loc[label_a, "area_to_clear_m2"]) or pd.isna(
        rows.loc[label_b, "area_to_clear_m2"]
    ):
        return None
    from kosovo_cmr.analysis.fadeout import buffer_impact

    saved_all = buffer_impact(evidence, rule_a, rule_b).total["saved_m2"]
    own = evidence[evidence["hazard_id"].isin(hazards["hazard_id"])]
    inside = outside = 0.0
    if len(own):
        rings = buffer_impact(own, rule_a, rule_b).rings
        released = rings.union_all()
        polygons = hazards.to_crs(rings.crs).union_all()
        inside = float(geodesic_area([released.intersection(polygons)], crs=rings.crs)[0])
        outside = float(geodesic_area([released.difference(polygons)], crs=rings.crs)[0])
    difference = float(
        rows.loc[label_a, "area_to_clear_m2"] - rows.loc[label_b, "area_to_clear_m2"]
    )
    around_closed = float(saved_all) - inside - outside
    sentence = (
        f"buffer-impact's {saved_all:,.0f} m2 saved is the fade-out area alone around all "
        f"{len(evidence):,} evidence points, while the forecast's rows {label_a!r} and "
        f"{label_b!r} differ by {difference:,.0f} m2 because each clears an open hazard's "
        "recorded polygon plus the fade-out around its own evidence."
    )
    breakdown = (
        f"Of the {saved_all:,.0f} m2, {around_closed:,.0f} m2 lies around evidence of no open "
        f"hazard and {inside:,.0f} m2 inside the open hazards' polygons, which are cleared "
        f"either way; {outside:,.0f} m2 lies outside them."
    )
    return dict(
        rows=[label_a, label_b],
        rules=[str(rule_a), str(rule_b)],
        evidence_points=int(len(evidence)),
        buffer_impact_saved_m2=float(saved_all),
        forecast_difference_m2=difference,
        around_closed_m2=around_closed,
        inside_open_m2=inside,
        outside_open_m2=outside,
        sentence=sentence,
        breakdown=breakdown,
        text=f"Why the two fade-out figures differ: {sentence} {breakdown}",
    )
