"""Fade-out and overlay workflows: read the store, run the analyses on what it holds.

The ``kcmr fadeout``, ``buffer-impact``, ``cha-check`` and ``overlay`` commands and the
demo call these; the analyses themselves (:mod:`kosovo_cmr.analysis.fadeout`,
:mod:`kosovo_cmr.analysis.cha_check`, :mod:`kosovo_cmr.analysis.overlay`) never read the
store. With ``engine="dask"`` the evidence is read in chunks
(:meth:`kosovo_cmr.store.base.Store.read_chunks`), each written out by the engine before
the next is read, so the process never holds the whole layer.

An empty result is never silent: a store with no evidence, no hazard to check or no
hazard open on the date asked logs a warning saying so (on stderr from the CLI).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from kosovo_cmr.analysis.cha_check import cha_consistency
from kosovo_cmr.analysis.engine import check_engine, points_per_partition
from kosovo_cmr.analysis.fadeout import ImpactResult, buffer_impact, delineate
from kosovo_cmr.analysis.overlay import contamination_by_unit, hazards_open_on, units_for
from kosovo_cmr.boundaries import read_municipalities
from kosovo_cmr.store.base import Store

log = logging.getLogger(__name__)

__all__ = [
    "read_evidence",
    "read_boundaries",
    "clusters_from_store",
    "impact_from_store",
    "rule_change_from_store",
    "cha_findings_from_store",
    "contamination_from_store",
]


def read_evidence(store: Store, engine: str = "local"):
    """Return the store's evidence for ``engine``: whole for local, in chunks for dask.

    The dask engine writes each chunk out before the next is read, so the caller never
    holds the evidence (see :meth:`kosovo_cmr.store.base.Store.read_chunks`); the chunks
    have :func:`kosovo_cmr.analysis.engine.points_per_partition` rows.
    """
    if check_engine(engine) == "dask":
        return store.read_chunks("evidence", points_per_partition())
    return store.read("evidence")


def read_boundaries(store: Store, path=None) -> gpd.GeoDataFrame:
    """Return the municipal boundaries: the file ``path`` if given, else the store's layer.

    A store without a ``boundaries`` layer gives the default boundaries file
    (:func:`kosovo_cmr.boundaries.read_municipalities`).
    """
    if path is None and store.has_layer("boundaries"):
        return store.read("boundaries")
    return read_municipalities(path)


def clusters_from_store(
    store: Store,
    rule=None,
    *,
    use_accuracy: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
) -> gpd.GeoDataFrame:
    """Delineate the area to clear around the store's evidence, one row per cluster.

    See :func:`kosovo_cmr.analysis.fadeout.delineate`.
    """
    evidence = read_evidence(store, engine)
    clusters = delineate(
        evidence, rule, use_accuracy=use_accuracy, engine=engine, scheduler=scheduler
    )
    if not len(clusters):
        log.warning("no cluster: the store %s holds no evidence point", store.uri)
    return clusters


def impact_from_store(
    store: Store,
    from_rule,
    to_rule,
    *,
    by: str = "none",
    boundaries=None,
    use_accuracy: bool = False,
    rings: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
) -> ImpactResult:
    """Measure a change of fade-out rule on the store's evidence.

    By municipality or region the boundaries are the store's layer, or the file
    ``boundaries`` (see :func:`read_boundaries`). See
    :func:`kosovo_cmr.analysis.fadeout.buffer_impact`.
    """
    evidence = read_evidence(store, engine)
    municipalities = None
    if by in ("municipality", "region"):
        municipalities = read_boundaries(store, boundaries)
    return buffer_impact(
        evidence,
        from_rule,
        to_rule,
        by=by,
        boundaries=municipalities,
        use_accuracy=use_accuracy,
        rings=rings,
        engine=engine,
        scheduler=scheduler,
    )


def rule_change_from_store(
    store: Store, from_rule, to_rule, *, by=("region", "municipality")
) -> dict[str, ImpactResult]:
    """Measure a change of fade-out rule on the store's evidence, by each grouping.

    The evidence and the boundaries (see :func:`read_boundaries`) are read once. Each
    split is checked to add up to the whole union under both rules.

    Returns
    -------
    dict
        ``by`` value -> :class:`~kosovo_cmr.analysis.fadeout.ImpactResult`, in order.

    Raises
    ------
    RuntimeError
        If a split does not sum to the whole union (a defect, never bad input).
    """
    evidence = store.read("evidence")
    zoned = any(group in ("municipality", "region") for group in by)
    boundaries = read_boundaries(store) if zoned else None
    out = {}
    for group in by:
        result = buffer_impact(evidence, from_rule, to_rule, by=group, boundaries=boundaries)
        for column in ("area_from_m2", "area_to_m2"):
            parts = float(result.table[column].sum())
            if not np.isclose(parts, result.total[column], rtol=1e-9):
                raise RuntimeError(f"fade-out split by {group} does not sum to the whole union")
        out[group] = result
    return out


def cha_findings_from_store(
    store: Store, rule=None, *, all_hazards: bool = False, use_accuracy: bool = False
) -> gpd.GeoDataFrame:
    """Check the store's hazards against their evidence plus fade-out.

    Only ``active`` hazards are checked unless ``all_hazards``. See
    :func:`kosovo_cmr.analysis.cha_check.cha_consistency`.
    """
    hazards = store.read("hazards")
    if not all_hazards and "status" in hazards.columns:
        hazards = hazards[hazards["status"] == "active"]
    if not len(hazards):
        log.warning("no hazard to check: the store %s holds no %shazard", store.uri,
                    "" if all_hazards else "active ")  # fmt: skip
    evidence = store.read("evidence")
    return cha_consistency(hazards, evidence, rule, use_accuracy=use_accuracy)


def contamination_from_store(
    store: Store,
    *,
    by: str = "region",
    date=None,
    boundaries=None,
    engine: str = "local",
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Count and measure the store's hazards open on ``date`` by region or municipality.

    Without a date, the hazards whose status is ``active``. The boundaries are the
    store's layer, or the file ``boundaries`` (see :func:`read_boundaries`). See
    :func:`kosovo_cmr.analysis.overlay.contamination_by_unit`.
    """
    hazards = hazards_open_on(store.read_or_empty("hazards"), date)
    if not len(hazards):
        when = "with status active" if date is None else f"open on {pd.Timestamp(date).date()}"
        log.warning("every count is 0: the store %s holds no hazard %s", store.uri, when)
    units, name = units_for(by, read_boundaries(store, boundaries))
    return contamination_by_unit(
        hazards, units, name_column=name, engine=engine, scheduler=scheduler
    )
