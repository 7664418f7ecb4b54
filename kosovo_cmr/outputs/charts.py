"""Charts drawn from result objects: the forecast's burn-down curves.

Every chart is drawn on a bare matplotlib Agg figure (no pyplot state), so it is safe in
servers and threads, and returned as PNG bytes or written to a file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kosovo_cmr._files import atomic_output
from kosovo_cmr.schema import SCHEMAS

__all__ = ["plot_burndown_curves"]

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
