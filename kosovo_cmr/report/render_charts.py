"""Draw the land release report's charts as PNG images (matplotlib, Agg canvas).

:func:`charts` draws, from the dict of :func:`kosovo_cmr.report.land_release_report`,
clearance per year, release by method and operator, contamination by region and, when
the report holds a completion forecast, its burn-down to the deadline
(:func:`kosovo_cmr.outputs.charts.plot_burndown_curves`). The HTML report inlines them;
a chart on synthetic data says so in its title.
"""

from __future__ import annotations

import io

from kosovo_cmr.outputs.charts import plot_burndown_curves
from kosovo_cmr.report.render_sections import METHOD_LABELS

__all__ = ["charts"]

#: Colours of the release methods.
METHOD_COLOURS = {"clearance": "#3b6ea5", "reduction_ts": "#e8a33d", "cancellation_nts": "#8fbc8f"}


def charts(report: dict) -> dict[str, bytes]:
    """Draw the report's charts as PNG images.

    Uses matplotlib's object API with the Agg canvas (no pyplot, no display needed).

    Parameters
    ----------
    report : dict
        From :func:`kosovo_cmr.report.land_release_report`.

    Returns
    -------
    dict
        ``clearance_by_year``, ``release_by_operator``, ``contamination_by_region`` and,
        when the report holds a forecast with burn-down curves, ``burndown``: PNG bytes
        each, in that order.
    """
    synthetic = " (SYNTHETIC)" if report.get("synthetic") else ""
    out = {
        "clearance_by_year": _clearance_by_year(report, synthetic),
        "release_by_operator": _release_by_operator(report, synthetic),
        "contamination_by_region": _contamination_by_region(report, synthetic),
    }
    fc = report.get("forecast")
    if fc and fc.get("burndown"):
        out["burndown"] = plot_burndown_curves(
            fc["burndown"],
            start_year=fc["start_year"],
            deadline=fc["deadline_year"],
            title=f"CMR clearance burn-down to {fc['deadline_year']}",
            synthetic=bool(report.get("synthetic")),
        )
    return out


def _figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3))
    return fig, fig.add_subplot()


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return buf.getvalue()


def _clearance_by_year(report: dict, synthetic: str) -> bytes:
    """Bar chart of Table 9: clearance per year, in km2."""
    fig, ax = _figure()
    rows = sorted(report["clearance_by_year"], key=lambda r: r["year"])
    ax.bar([str(r["year"]) for r in rows], [r["area_m2"] / 1e6 for r in rows], color="#3b6ea5")
    for i, r in enumerate(rows):
        ax.annotate(
            f"{r['area_m2'] / 1e6:.2f}",
            (i, r["area_m2"] / 1e6),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylabel("km²")
    ax.set_title("Clearance per year" + synthetic, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _release_by_operator(report: dict, synthetic: str) -> bytes:
    """Stacked bars: each operator's release by method in the year, in km2."""
    fig, ax = _figure()
    ops = report["indicators"]["release_by_operator"]
    names = [r["operator"] for r in ops]
    left = [0.0] * len(ops)
    for method, label in METHOD_LABELS.items():
        vals = [r[f"{method}_m2"] / 1e6 for r in ops]
        ax.barh(names, vals, left=left, label=label, color=METHOD_COLOURS[method])
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_xlabel("km²")
    ax.set_title(f"Release by method and operator, {report['year']}" + synthetic, fontsize=10)
    if ops:
        ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _contamination_by_region(report: dict, synthetic: str) -> bytes:
    """Stacked bars of Table 1: CHA and SHA area open at the end of the year, in km2."""
    fig, ax = _figure()
    regions = report["contamination_by_region"]
    labels = [str(r["region"]) for r in regions]
    cha = [r["cha_area_m2"] / 1e6 for r in regions]
    sha = [r["sha_area_m2"] / 1e6 for r in regions]
    ax.bar(labels, cha, label="CHA", color="#b5473a")
    ax.bar(labels, sha, bottom=cha, label="SHA", color="#e3a59b")
    ax.set_ylabel("km²")
    ax.set_title(f"Contamination by region, end {report['year']}" + synthetic, fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
