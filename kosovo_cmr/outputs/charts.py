"""Charts drawn from result objects: burn-down curves, money, priorities, tolerable risk.

Every chart is drawn on a bare matplotlib Agg figure (no pyplot state), so it is safe in
servers and threads, and returned as PNG bytes or written to a file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kosovo_cmr._files import atomic_output
from kosovo_cmr.schema import SCHEMAS

__all__ = [
    "plot_burndown_curves",
    "RISK_COLOURS",
    "plot_priority_parts",
    "plot_money",
    "plot_risk_map",
]

#: Priority classes (the hazards layer's), highest first.
PRIORITIES: tuple[str, ...] = SCHEMAS["hazards"].column("priority").allowed


def plot_burndown_curves(
    curves: dict,
    path: str | Path | None = None,
    *,
    start_year: int,
    deadline: int = 2030,
    title: str = "CMR clearance burn-down",
    synthetic: bool = False,
) -> Path | bytes:
    """Draw burn-down curves to a PNG.

    The curves come from :func:`kosovo_cmr.analysis.forecast.burndown_curves`, or their
    JSON form in a forecast section (``section["burndown"]``); this only draws them.

    Parameters
    ----------
    curves : dict
        Scenario label -> a table or a dict of lists with ``year``, one column per
        priority class and ``all`` (m2 remaining). The first is drawn stacked by class.
    path : path, optional
        The PNG to write (via a temporary file beside it, renamed over it); None returns
        the PNG bytes instead.
    start_year : int
        First season drawn.
    deadline : int, optional
        Year whose end is marked.
    title : str, optional
        Chart title.
    synthetic : bool, optional
        Say SYNTHETIC DEMO DATA in the title.

    Returns
    -------
    pathlib.Path or bytes
        The written PNG, or its bytes when ``path`` is None.
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 6.4), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    colours = {"high": "#b2182b", "medium": "#ef8a62", "low": "#fddbc7"}
    until = start_year
    for k, (label, curve) in enumerate(curves.items()):
        curve = pd.DataFrame(curve)
        until = max(until, int(np.floor(curve["year"].max())))
        if k == 0:
            ax.stackplot(
                curve["year"],
                *(curve[p] / 1e6 for p in reversed(PRIORITIES)),
                labels=[f"{label}: {p} priority" for p in reversed(PRIORITIES)],
                colors=[colours[p] for p in reversed(PRIORITIES)],
                alpha=0.8,
            )
        ax.plot(
            curve["year"],
            curve["all"] / 1e6,
            lw=2 if k == 0 else 1.4,
            label=label,
            color="black" if k == 0 else None,
            ls="-" if k == 0 else "--",
        )
    ax.axvline(deadline + 1, color="grey", lw=1)
    ax.text(deadline + 1, ax.get_ylim()[1] * 0.97, f" end {deadline}", va="top", color="grey")
    ax.set_xlim(start_year, until + 1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("year (work April-November)")
    ax.set_ylabel("area still to clear (km$^2$)")
    ax.set_title(title + (" - SYNTHETIC DEMO DATA" if synthetic else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    fig.tight_layout()
    if path is None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    path = Path(path)
    with atomic_output(path, overwrite=True) as tmp:  # a kill never leaves half a PNG
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower() or "png")
    return path


# --- issue 18: priorities, money and the tolerable risk ----------------------------------------

#: Colours of the tolerable-risk statuses, on the charts and the web map.
RISK_COLOURS: dict[str, str] = {
    "tolerable": "#1b7837",
    "on track": "#7fbf7b",
    "late": "#762a83",
    "unknown": "#bababa",
}

#: Colours of the priority criteria (in the shipped model's order), then a cycle.
_CRITERIA = ("#1f78b4", "#ff7f00", "#33a02c", "#6a3d9a", "#b15928", "#a6cee3", "#fdbf6f")


def _figure(size):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> Path | bytes:
    """Return the PNG bytes, or write the file through a temporary file (never half a PNG)."""
    import io

    from kosovo_cmr._files import atomic_output

    fig.tight_layout()
    if path is None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    path = Path(path)
    with atomic_output(path, overwrite=True) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower() or "png")
    return path


def plot_priority_parts(
    table: pd.DataFrame,
    path: str | Path | None = None,
    *,
    classes: dict,
    title: str = "Priority score and its parts",
    synthetic: bool = False,
) -> Path | bytes:
    """Draw each hazard's score as a bar of its parts, with the class thresholds.

    Parameters
    ----------
    table : DataFrame
        :attr:`kosovo_cmr.analysis.priority.PriorityResult.table` (``hazard_id``,
        ``score``, ``part_*``, ``class``).
    path : path, optional
        The PNG to write; None returns the PNG bytes.
    classes : dict
        The model's ``high`` and ``medium`` thresholds (drawn as lines).
    title : str, optional
        Chart title.
    synthetic : bool, optional
        Say SYNTHETIC DEMO DATA in the title.

    Returns
    -------
    pathlib.Path or bytes
    """
    parts = [c for c in table.columns if c.startswith("part_")]
    rows = table.sort_values("score").reset_index(drop=True)
    fig = _figure((9, max(4.0, 0.22 * len(rows) + 1.5)))
    ax = fig.add_subplot()
    left = np.zeros(len(rows))
    for k, col in enumerate(parts):
        ax.barh(
            rows["hazard_id"],
            rows[col],
            left=left,
            color=_CRITERIA[k % len(_CRITERIA)],
            label=col.removeprefix("part_").replace("_", " "),
        )
        left += rows[col].to_numpy()
    for name, style in (("high", "-"), ("medium", "--")):
        ax.axvline(classes[name], color="black", lw=1, ls=style)
        ax.text(classes[name], len(rows) - 0.4, f" {name}", va="bottom", fontsize=8)
    ax.set_xlabel("score (0-100): the parts add up to it")
    ax.set_xlim(0, 100)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(title + (" - SYNTHETIC DEMO DATA" if synthetic else ""))
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)


def plot_money(
    money: dict,
    table: pd.DataFrame,
    path: str | Path | None = None,
    *,
    needed_eur_per_year: float | None = None,
    deadline: int = 2030,
    title: str = "What each scenario costs, and the funding gap",
    synthetic: bool = False,
) -> Path | bytes:
    """Draw each scenario's spending per year, and its cost split into covered and gap.

    Parameters
    ----------
    money : dict
        Scenario -> money per year (``year``, ``cost_eur``, ``confirmed_eur``,
        ``gap_eur``), as a forecast section's ``money`` holds it.
    table : DataFrame
        The :func:`kosovo_cmr.analysis.forecast.scenarios` table (``cost_eur``,
        ``funding_gap_eur``), for the bars.
    path : path, optional
        The PNG to write; None returns the PNG bytes.
    needed_eur_per_year : float, optional
        The strategy's yearly need, drawn as a line.
    deadline : int, optional
        Marked on the yearly panel.
    title : str, optional
        Chart title.
    synthetic : bool, optional
        Say SYNTHETIC DEMO DATA in the title.

    Returns
    -------
    pathlib.Path or bytes
    """
    fig = _figure((11, 5.2))
    ax, bars = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    from matplotlib.ticker import MaxNLocator

    first = next(iter(money.values()), None)
    for k, (label, m) in enumerate(money.items()):
        frame = pd.DataFrame(m)
        style = dict(color="black", lw=2.2, zorder=5) if k == 0 else dict(lw=1.4, ls="--")
        ax.step(frame["year"], frame["cost_eur"] / 1e6, where="mid", label=label, **style)
    if first is not None:
        frame = pd.DataFrame(first)
        ax.step(
            frame["year"],
            frame["confirmed_eur"] / 1e6,
            where="mid",
            color="#1b7837",
            ls=":",
            lw=2,
            label="confirmed funding",
        )
    if needed_eur_per_year:
        ax.axhline(
            needed_eur_per_year / 1e6,
            color="grey",
            ls="--",
            label=f"EUR {needed_eur_per_year / 1e6:g} M a year needed",
        )
    ax.axvline(deadline + 0.5, color="grey", lw=1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel("spending (EUR million a year)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    rows = table[table["scenario"].isin(list(money))]
    covered = (rows["cost_eur"] - rows["funding_gap_eur"]) / 1e6
    gap = rows["funding_gap_eur"] / 1e6
    bars.barh(rows["scenario"], covered, color="#7fbf7b", label="covered by confirmed funding")
    bars.barh(rows["scenario"], gap, left=covered, color="#d6604d", label="funding gap")
    bars.invert_yaxis()
    bars.set_xlabel("cost until the work is done (EUR million)")
    bars.tick_params(axis="y", labelsize=8)
    bars.legend(fontsize=7)
    fig.suptitle(title + (" - SYNTHETIC DEMO DATA" if synthetic else ""))
    return _save(fig, path)


def plot_risk_map(
    layer,
    path: str | Path | None = None,
    *,
    title: str = "Tolerable risk by municipality",
    synthetic: bool = False,
) -> Path | bytes:
    """Draw the tolerable-risk choropleth (municipalities coloured by status).

    Parameters
    ----------
    layer : GeoDataFrame
        :func:`kosovo_cmr.analysis.tolerable_risk.risk_layer` (``status``).
    path : path, optional
        The PNG to write; None returns the PNG bytes.
    title : str, optional
        Chart title.
    synthetic : bool, optional
        Say SYNTHETIC DEMO DATA in the title.

    Returns
    -------
    pathlib.Path or bytes
    """
    from matplotlib.patches import Patch

    from kosovo_cmr import settings

    fig = _figure((7, 7.5))
    ax = fig.add_subplot()
    metric = layer.to_crs(settings.metric_crs)
    for status, colour in RISK_COLOURS.items():
        part = metric[metric["status"] == status]
        if len(part):
            part.plot(ax=ax, color=colour, edgecolor="white", lw=0.6)
    ax.set_axis_off()
    counts = metric["status"].value_counts()
    handles = [
        Patch(color=c, label=f"{s} ({counts.get(s, 0)})")
        for s, c in RISK_COLOURS.items()
        if counts.get(s, 0)
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    ax.set_title(title + (" - SYNTHETIC DEMO DATA" if synthetic else ""))
    return _save(fig, path)
