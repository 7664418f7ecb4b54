"""Verification of records: verified, awaiting verification (pending) or rejected.

A hazard or land release record enters the database as the operator reported it
(``verification = "reported"``); the national authority then verifies it, or rejects
it. The Mine Action Review 2025 says of Kosovo's 2024 cancellations that "the majority
of land release output was due to cancellation through non-technical survey (NTS), which
at the time of writing was still awaiting verification by the Kosovo Mine Action Centre
(KMAC)". This module reads the state of each record (:func:`verification_state`: a
record with no state recorded is pending) and records a verification
(:func:`set_verification`, which :func:`kosovo_cmr.workflows.records.verify` writes to a
store).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr.errors import InputError
from kosovo_cmr.schema import VERIFICATION

__all__ = ["STATES", "verification_state", "set_verification"]

#: What :func:`verification_state` returns: verified, pending (reported, or no state
#: recorded) and rejected.
STATES = ("verified", "pending", "rejected")


def verification_state(frame: pd.DataFrame) -> pd.Series:
    """Return the verification state of each record: verified, pending or rejected.

    ``reported`` and a missing value (a record of a layer without the column) are
    pending.

    Examples
    --------
    >>> frame = pd.DataFrame({"verification": ["verified", "reported", None, "rejected"]})
    >>> verification_state(frame).tolist()
    ['verified', 'pending', 'pending', 'rejected']
    """
    if "verification" not in frame.columns:
        return pd.Series("pending", index=frame.index, dtype=object)
    values = frame["verification"].astype(object)
    out = np.where(values == "verified", "verified", "pending")
    out = np.where(values == "rejected", "rejected", out)
    return pd.Series(out, index=frame.index, dtype=object)


def set_verification(
    frame: gpd.GeoDataFrame,
    ids,
    *,
    id_column: str,
    state: str = "verified",
    on: dt.date | str | None = None,
    by: str | None = None,
) -> gpd.GeoDataFrame:
    """Return the records ``ids`` of a layer with their verification recorded.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer (``hazards`` or ``releases``).
    ids : iterable of str
        The records to mark; every one must be in ``frame``.
    id_column : str
        The layer's id column.
    state : {"verified", "rejected", "reported"}
        ``reported`` withdraws a verification (the date and verifier are cleared).
    on : date or str, optional
        When it was verified (default today); not in the future.
    by : str, optional
        Who verified it (e.g. ``KMAC QA``).

    Returns
    -------
    GeoDataFrame
        Only the records ``ids``, in their order, with ``verification``,
        ``verified_on`` and ``verified_by`` set (the input is not changed).

    Raises
    ------
    kosovo_cmr.errors.InputError
        An unknown state, an id not in the layer (all are named), or a date in the
        future.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> releases = gpd.GeoDataFrame({"release_id": ["R1", "R2"]},
    ...                             geometry=[Point(21, 42.5)] * 2, crs=4326)
    >>> out = set_verification(releases, ["R2"], id_column="release_id",
    ...                        on="2025-06-20", by="KMAC QA")
    >>> out[["release_id", "verification", "verified_by"]].values.tolist()
    [['R2', 'verified', 'KMAC QA']]
    """
    if state not in VERIFICATION:
        raise InputError(f"verification must be one of {', '.join(VERIFICATION)}, got {state!r}")
    ids = [str(i) for i in ids]
    present = frame[id_column].astype(str)
    missing = [i for i in dict.fromkeys(ids) if i not in set(present)]
    if missing:
        raise InputError(
            f"no record {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''} "
            f"in the layer ({id_column}); nothing was changed"
        )
    day = _day(on)
    out = frame[present.isin(ids).to_numpy()].copy()
    out = out.set_index(out[id_column].astype(str)).loc[list(dict.fromkeys(ids))]
    out = out.reset_index(drop=True)
    out["verification"] = state
    if state == "reported":
        out["verified_on"], out["verified_by"] = pd.NaT, None
    else:
        out["verified_on"] = pd.Timestamp(day)
        out["verified_by"] = by
    out["verified_on"] = pd.to_datetime(out["verified_on"]).astype("datetime64[ms]")
    return out


def _day(on) -> dt.date:
    today = dt.datetime.now(dt.UTC).date()
    if on is None:
        return today
    try:
        day = pd.Timestamp(on).date()
    except (TypeError, ValueError):
        raise InputError(f"verification date must be YYYY-MM-DD, got {on!r}") from None
    if day > today:
        raise InputError(f"verification date {day} is in the future")
    return day
