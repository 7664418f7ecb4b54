"""Two SYNTHETIC years of history for the demo store: 2023's end, 2024, the 2025 verifications.

The demo layers (``layers/demo/``) are the records as they stand now. A programme's store
also knows how they stood before (issue 15), so :func:`demo_history` derives from them,
with no random draw, the steps that built them, oldest first:

1. **the end of 2023** (valid from 31 December 2023): the hazards recorded by then, open
   if they were closed only in 2024, each with the geometry it had then (the 2024
   technical survey cuts added back); the releases, evidence, activities and devices
   dated by then; every record verified by then (later ones still ``reported``); the
   polygon of :data:`~kosovo_cmr.synthetic.records.RESUBMITTED` as first surveyed,
   0.0015 degree (about 123 m) west of where it lies (a datum error);
2. **the resubmission** of that polygon by HALO on 15 July 2024 (awaiting verification),
   and KMAC's verification of it on 20 August 2024;
3. **the end of 2024** (valid from 31 December 2024): every record of the demo, each
   verified only if KMAC had verified it by then;
4. **the verifications of 2025**, one write per day, on the day: the last clearances of
   2024 in January, the NTS cancellations of Zubin Potok on 20 June 2025 (the others
   still await verification, as the Mine Action Review 2025 says of them).

``kcmr report --year 2024 --as-of 2024-12-31`` and ``--as-of 2025-06-30`` differ by
exactly the verifications of step 4; ``kcmr history DEMO-HZ-0023`` shows the
resubmission. Every feature stays ``synthetic = true``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from shapely import affinity

from kosovo_cmr._resources import layer_file
from kosovo_cmr.synthetic.records import (
    RESUBMISSION_SHIFT_DEG,
    RESUBMITTED,
    RESUBMITTED_ON,
    REVERIFIED_ON,
)

__all__ = ["RECORD_LAYERS", "HistoryStep", "read_record_layer", "demo_history"]

#: The record layers shipped beside the demo layers (``layers/demo/``).
RECORD_LAYERS = ("activities", "devices")

_END_2023 = pd.Timestamp("2023-12-31")
_END_2024 = pd.Timestamp("2024-12-31")
_SOURCE = "kcmr demo (SYNTHETIC history, kosovo_cmr.synthetic.history)"


@dataclass(frozen=True)
class HistoryStep:
    """One write of the demo's history.

    ``kind`` is ``state`` (every layer of ``layers`` replaced at once), ``upsert`` (the
    features of ``layers`` replace those with the same ids) or ``verify`` (the records
    ``ids`` of ``layer`` verified ``on`` a day ``by`` someone).
    """

    kind: str
    valid_from: pd.Timestamp
    source: str
    layers: dict = field(default_factory=dict)
    layer: str | None = None
    ids: tuple = ()
    on: pd.Timestamp | None = None
    by: str | None = None


def read_record_layer(layer: str) -> gpd.GeoDataFrame:
    """Read one shipped SYNTHETIC record layer (``activities`` or ``devices``)."""
    if layer not in RECORD_LAYERS:
        raise ValueError(f"no record layer {layer!r}; expected one of {', '.join(RECORD_LAYERS)}")
    return pyogrio.read_dataframe(layer_file("demo", f"{layer}.geojson"))


def demo_history(layers: dict[str, gpd.GeoDataFrame]) -> list[HistoryStep]:
    """Return the writes that built the demo layers, oldest first (see the module notes).

    Parameters
    ----------
    layers : dict
        The demo layers as they stand (``hazards``, ``evidence``, ``strikes``,
        ``releases``, ``activities``, ``devices``; ``boundaries`` is written as it is).

    Returns
    -------
    list of HistoryStep
    """
    layers = {name: _conformed(frame, name) for name, frame in layers.items()}
    end_2023 = _state_at(layers, _END_2023)
    end_2023["hazards"] = _first_survey(end_2023["hazards"])
    resubmitted = layers["hazards"][layers["hazards"]["hazard_id"] == RESUBMITTED]
    steps = [
        HistoryStep("state", _END_2023, f"{_SOURCE}: the records at the end of 2023", end_2023),
        HistoryStep(
            "upsert",
            RESUBMITTED_ON,
            f"{_SOURCE}: HALO resubmits {RESUBMITTED} (datum corrected)",
            {"hazards": _as_reported(resubmitted)},
        ),  # fmt: skip
    ]
    steps.append(
        HistoryStep(
            "verify",
            REVERIFIED_ON,
            f"{_SOURCE}: KMAC verifies the resubmitted polygon",
            layer="hazards",
            ids=(RESUBMITTED,),
            on=REVERIFIED_ON,
            by="KMAC",
        )  # fmt: skip
    )
    steps.append(
        HistoryStep(
            "state",
            _END_2024,
            f"{_SOURCE}: the records at the end of 2024",
            _state_at(layers, _END_2024),
        )  # fmt: skip
    )
    steps += _verifications(layers, after=_END_2024)
    return steps


def _conformed(frame, name):
    from kosovo_cmr.schema import SCHEMAS, conform

    return conform(frame, name) if name in SCHEMAS else frame


def _as_reported(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the records as not yet verified: ``reported``, no date, no verifier."""
    out = frame.copy()
    out["verification"] = "reported"
    out["verified_on"] = pd.NaT
    out["verified_on"] = out["verified_on"].astype("datetime64[ms]")
    out["verified_by"] = None
    return out


def _verified_by(frame: gpd.GeoDataFrame, day: pd.Timestamp) -> gpd.GeoDataFrame:
    """Return the records as verified at the end of ``day`` (later ones not yet made)."""
    later = (pd.to_datetime(frame["verified_on"]) > day).fillna(False).to_numpy()
    if not later.any():
        return frame
    out = frame.copy()
    out.loc[later, "verification"] = "reported"
    out.loc[later, "verified_on"] = pd.NaT
    out.loc[later, "verified_by"] = None
    return out


def _state_at(layers: dict, day: pd.Timestamp) -> dict:
    """Return every layer as it stood at the end of ``day``."""
    out = {}
    for name, frame in layers.items():
        if name == "hazards":
            out[name] = _verified_by(_hazards_at(frame, layers["releases"], day), day)
        elif name == "releases":
            out[name] = _verified_by(frame[pd.to_datetime(frame["date"]) <= day], day)
        elif name in ("evidence", "activities", "devices"):
            column = {"evidence": "found", "activities": "end_date", "devices": "date"}[name]
            when = pd.to_datetime(frame[column])
            out[name] = frame[(when.isna() | (when <= day)).to_numpy()]
        else:
            out[name] = frame
    return {k: v.reset_index(drop=True) for k, v in out.items()}


def _hazards_at(hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame, day) -> gpd.GeoDataFrame:
    """Return the hazards recorded by ``day`` as they stood then.

    Open if they were closed later, with the parts released later by technical survey
    while they stayed open.
    """
    h = hazards[pd.to_datetime(hazards["recorded"]) <= day].copy()
    closed = pd.to_datetime(h["closed"])
    reopen = (closed > day).fillna(False).to_numpy()
    h.loc[reopen, "status"] = "active"
    h.loc[reopen, "closed"] = pd.NaT
    cuts = releases[
        (releases["method"] == "reduction_ts") & (pd.to_datetime(releases["date"]) > day)
    ]
    for hid, geom in zip(cuts["hazard_id"], cuts.geometry, strict=True):
        at = h.index[h["hazard_id"] == hid]
        if len(at):
            whole = shapely.union(h.geometry.loc[at[0]], geom)
            h.loc[at[0], "geometry"] = _multi(whole)
    return h


def _multi(geom):
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    return shapely.MultiPolygon([g for g in geom.geoms if g.geom_type == "Polygon"])


def _first_survey(hazards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the hazards with the resubmitted one as first surveyed (west, verified then)."""
    out = hazards.copy()
    at = out.index[out["hazard_id"] == RESUBMITTED]
    shift = -RESUBMISSION_SHIFT_DEG
    for i in at:
        out.loc[i, "geometry"] = shapely.set_precision(
            affinity.translate(out.geometry.loc[i], xoff=shift), 1e-10
        )
        for role in ("benchmark", "reference"):
            if pd.notna(out.at[i, f"{role}_lon"]):
                out.loc[i, f"{role}_lon"] = round(out.at[i, f"{role}_lon"] + shift, 7)
        out.loc[i, "verification"] = "verified"
        out.loc[i, "verified_on"] = pd.Timestamp(out.at[i, "recorded"]) + pd.Timedelta(days=30)
        out.loc[i, "verified_by"] = "KMAC"
    return out


def _verifications(layers: dict, *, after) -> list[HistoryStep]:
    """Return one ``verify`` step per layer, day and verifier of the verifications after."""
    steps = []
    for name in ("hazards", "releases"):
        frame = layers[name]
        on = pd.to_datetime(frame["verified_on"])
        mine = frame[((on > after) & (frame["verification"] == "verified")).fillna(False)]
        idcol = "hazard_id" if name == "hazards" else "release_id"
        for (day, by), group in mine.groupby([pd.to_datetime(mine["verified_on"]), "verified_by"]):
            noun = name if len(group) > 1 else name[:-1]  # "1 release", "2 releases"
            steps.append(
                HistoryStep(
                    "verify",
                    day,
                    f"{_SOURCE}: {by} verifies {len(group)} {noun}",
                    layer=name,
                    ids=tuple(group[idcol]),
                    on=day,
                    by=by,
                )  # fmt: skip
            )
    return sorted(steps, key=lambda s: (s.valid_from, s.layer))
