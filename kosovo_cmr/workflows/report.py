"""The land release report of a store: read the layers, compute the report.

:func:`report_from_store` reads the ``hazards``, ``releases`` and ``boundaries`` layers of
a store (and the capacity table, and the completion forecast's inputs when asked) and
hands them to :func:`kosovo_cmr.report.land_release_report`; the renderers
(:func:`kosovo_cmr.report.render.write_report`) write what it returns. ``kcmr report``
and the demo call it.
"""

from __future__ import annotations

import os

import pandas as pd

from kosovo_cmr.boundaries import read_municipalities
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import read_capacity
from kosovo_cmr.report import land_release_report

__all__ = ["report_from_store"]


def report_from_store(
    store,
    *,
    year: int,
    boundaries: str | os.PathLike | None = None,
    capacity: pd.DataFrame | str | os.PathLike | None = None,
    forecast: bool | dict = False,
    dem: str | os.PathLike | None = None,
    cover: str | os.PathLike | None = None,
    published: dict | str | os.PathLike | None = None,
    audit: bool | dict = False,  # issue 17
) -> dict:
    """Compute the land release report of a year from a store.

    Parameters
    ----------
    store : kosovo_cmr.store.base.Store
        Holds ``hazards`` and ``releases`` (either may be absent: it counts as empty) and
        ideally ``boundaries``.
    year : int
    boundaries : path, optional
        Municipal boundaries to use when the store has no ``boundaries`` layer (default:
        :func:`kosovo_cmr.settings.resolve_boundaries_path`).
    capacity : DataFrame or path, optional
        Teams and personnel: a table of :func:`kosovo_cmr.programme.read_capacity`, or
        the CSV to read with it (default: the shipped ``layers/capacity.csv``).
    forecast : bool or dict, optional
        Include the completion forecast: ``True`` computes it
        (:func:`kosovo_cmr.analysis.forecast.forecast_section`) for the store's active
        hazards, with their evidence for the fade-out scenarios; a dict is used as it is.
    dem, cover : path, optional
        A DEM (and land cover) GeoTIFF for the forecast's methods
        (:func:`kosovo_cmr.analysis.terrain.terrain_stats`); without one the effort file's
        ``unknown_terrain_method`` applies.
    published : dict, path or name, optional
        See :func:`kosovo_cmr.report.land_release_report`.
    audit : bool or dict, optional
        Include the evidence audit (``evidence_audit``): ``True`` computes it for the end
        of ``year`` (:func:`kosovo_cmr.workflows.audit.audit_section`); a dict is used
        as it is.

    Returns
    -------
    dict
        See :func:`kosovo_cmr.report.land_release_report`, with ``store`` (its URI).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a DEM or land cover is given without the forecast, or an input cannot be read.
    """
    hazards = store.read_or_empty("hazards")
    releases = store.read_or_empty("releases")
    if store.has_layer("boundaries") and boundaries is None:
        municipalities = store.read("boundaries")
    else:
        municipalities = read_municipalities(boundaries)
    if capacity is not None and not isinstance(capacity, pd.DataFrame):
        capacity = read_capacity(capacity)
    if forecast is True:
        forecast = _forecast_from_store(store, dem=dem, cover=cover)
    elif forecast is False or forecast is None:
        if dem is not None or cover is not None:
            raise InputError("a DEM or land cover is only used with the forecast")
        forecast = None
    report = land_release_report(
        hazards,
        releases,
        municipalities,
        year=year,
        capacity=capacity,
        forecast=forecast,
        published=published,
    )
    report["store"] = store.uri
    if audit:  # issue 17: the evidence audit section
        from kosovo_cmr.report.land_release import add_evidence_audit
        from kosovo_cmr.workflows.audit import audit_section

        add_evidence_audit(report, audit_section(store, year=year) if audit is True else audit)
    return report


def _forecast_from_store(store, *, dem=None, cover=None) -> dict:
    """Return the completion forecast section of the store (as ``kcmr forecast`` computes it)."""
    from kosovo_cmr.workflows.forecast import forecast_from_store

    return forecast_from_store(store, dem=dem, cover=cover)
