"""The two readings of the 2024 fade-out rule, and what each saves.

The Mine Action Review states the change of Kosovo's 2024 national standard as
"reducing the required fade-out distance around component parts of BLU-97 and BL755
submunitions from 50m to 25m". Whether "component parts" covers every BLU-97/BL755
item (whole submunitions, craters, containers, fragments) or only the items recorded as
component parts, the text does not settle. Both readings are shipped as rules
(:data:`kosovo_cmr.analysis.rules.NMAS_2024_READINGS`); :func:`readings_impact` measures
the saving under each against the old rule, with the exact machinery of
:func:`kosovo_cmr.analysis.fadeout.buffer_impact`, so that an analyst sees how much the
reading matters before relying on either.
"""

from __future__ import annotations

import pandas as pd

from kosovo_cmr.analysis.fadeout import buffer_impact
from kosovo_cmr.analysis.rules import NMAS_2024_READINGS, load_rule

__all__ = ["READINGS_COLUMNS", "readings_impact"]

#: Columns of the table :func:`readings_impact` returns.
READINGS_COLUMNS = (
    "reading",
    "rule",
    "default",
    "group",
    "evidence",
    "area_from_m2",
    "area_to_m2",
    "saved_m2",
    "saved_pct",
)


def readings_impact(
    evidence,
    from_rule="kosovo-pre-2024",
    readings: dict | None = None,
    *,
    by: str = "none",
    boundaries=None,
    use_accuracy: bool = False,
) -> pd.DataFrame:
    """Measure the saving of each reading of a rule change: impact tables, stacked.

    Parameters
    ----------
    evidence : GeoDataFrame
        Evidence points with a CRS, ``ordnance`` and ``item``.
    from_rule : str, path or FadeoutRule, default ``kosovo-pre-2024``
        The old rule (50 m around everything before 2024).
    readings : dict, optional
        Reading label -> rule (name, path or :class:`~kosovo_cmr.analysis.rules.FadeoutRule`);
        default :data:`~kosovo_cmr.analysis.rules.NMAS_2024_READINGS`, whose first entry
        is the shipped default.
    by : {"none", "hazard", "municipality", "region"}
        Grouping, as :func:`~kosovo_cmr.analysis.fadeout.buffer_impact`.
    boundaries : GeoDataFrame, optional
        Needed for ``municipality`` and ``region``.
    use_accuracy : bool, optional
        Add each point's ``accuracy_m`` to its distance under every rule.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`READINGS_COLUMNS`: per reading, its group rows and a ``total``
        row (the whole union); ``default`` is true for the default rule's rows. Areas
        are the exact geodesic areas of the unions of the true circles.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> ev = gpd.GeoDataFrame({"ordnance": ["BLU-97", "BLU-97"],
    ...                        "item": ["component", "submunition"]},
    ...                       geometry=[Point(21.0, 42.6), Point(21.01, 42.6)], crs=4326)
    >>> t = readings_impact(ev)
    >>> t[t.group == "total"][["rule", "saved_pct"]].round(1).values.tolist()
    [['kosovo-nmas-2024', 75.0], ['kosovo-nmas-2024-components-only', 37.5]]
    """
    readings = dict(NMAS_2024_READINGS if readings is None else readings)
    default = load_rule().name
    frames = []
    for label, rule in readings.items():
        result = buffer_impact(
            evidence,
            from_rule,
            rule,
            by=by,
            boundaries=boundaries,
            use_accuracy=use_accuracy,
        )
        rows = [] if by == "none" else result.table.to_dict(orient="records")
        rows.append(result.total)
        frame = pd.DataFrame(rows)
        frame.insert(0, "default", result.to_rule.name == default)
        frame.insert(0, "rule", result.to_rule.name)
        frame.insert(0, "reading", label)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)[list(READINGS_COLUMNS)]
