"""The priority scores as text: terminal tables, CSV and JSON.

Takes a :class:`kosovo_cmr.analysis.priority.PriorityResult` and formats it; it never
recomputes.
"""

from __future__ import annotations

import pandas as pd

from kosovo_cmr._json import dumps
from kosovo_cmr._text import render_table

__all__ = ["display_scores", "display_sensitivity", "priority_text"]


def display_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Return the scores as text columns: score and parts to a tenth, the class and why.

    Parameters
    ----------
    table : DataFrame
        :attr:`kosovo_cmr.analysis.priority.PriorityResult.table`.

    Returns
    -------
    pandas.DataFrame
        ``hazard_id``, ``recorded``, ``score``, one ``part_*`` column per criterion,
        ``class``, ``changed`` and ``missing``.
    """
    parts = [c for c in table.columns if c.startswith("part_")]
    out = pd.DataFrame(
        {"hazard_id": table["hazard_id"], "recorded": table["recorded"].fillna("").astype(str)}
    )
    for col in ("score", *parts):
        out[col.removeprefix("part_")] = [f"{x:.1f}" for x in table[col]]
    out["class"] = table["class"]
    out["changed"] = ["yes" if c else "" for c in table["changed"]]
    out["missing"] = table["missing"]
    return out


def display_sensitivity(sens: pd.DataFrame) -> pd.DataFrame:
    """Return the sensitivity table as text: weights and how many hazards change class."""
    return pd.DataFrame(
        {
            "criterion": sens["criterion"],
            "weight": [f"{w:g}" for w in sens["weight"]],
            "-20 %": [
                f"{w:.3g}: {n}"
                for w, n in zip(sens["weight_down"], sens["changed_down"], strict=True)
            ],
            "+20 %": [
                f"{w:.3g}: {n}" for w, n in zip(sens["weight_up"], sens["changed_up"], strict=True)
            ],
            "hazards that change class at +20 %": sens["hazards_up"],
        }
    )


def priority_text(result, *, fmt: str = "table", what: str = "scores") -> str:
    """Write a priority result as terminal tables, CSV or JSON.

    Parameters
    ----------
    result : kosovo_cmr.analysis.priority.PriorityResult
        What :func:`kosovo_cmr.analysis.priority.priority_scores` computed.
    fmt : {"table", "csv", "json"}, optional
        Terminal tables (the model and its hash, the scores, the sensitivity), CSV (the
        table ``what`` names) or JSON (model, scores and sensitivity).
    what : {"scores", "sensitivity"}, optional
        The table a CSV holds.

    Returns
    -------
    str
        The text, ending with a newline.

    Raises
    ------
    ValueError
        On an unknown format or table.
    """
    if fmt == "json":
        return dumps(result.to_dict()) + "\n"
    if fmt == "csv":
        if what not in ("scores", "sensitivity"):
            raise ValueError(f"what must be 'scores' or 'sensitivity', got {what!r}")
        table = result.table if what == "scores" else result.sensitivity
        return table.to_csv(index=False)
    if fmt != "table":
        raise ValueError(f"fmt must be 'table', 'csv' or 'json', got {fmt!r}")
    m = result.model
    weights = ", ".join(f"{c['name']} {c['weight']:g}" for c in m["criteria"])
    lines = [
        f"Priority model {m['name']} ({m['path']}, sha256 {m['sha256'][:16]}...): weights "
        f"{weights}; high >= {m['classes']['high']:g}, medium >= {m['classes']['medium']:g}",
        "Scores (0-100; the parts add up to the score):",
        render_table(display_scores(result.table)),
        "Sensitivity (hazards that change class when one weight moves by -20 % / +20 %):",
        render_table(display_sensitivity(result.sensitivity)),
    ]
    return "\n".join(lines) + "\n"
