"""The land release report of a store: read the layers, compute the report.

:func:`report_from_store` reads the ``hazards``, ``releases`` and ``boundaries`` layers of
a store (and the capacity table, and the completion forecast's inputs when asked) and
hands them to :func:`kosovo_cmr.report.land_release_report`; the renderers
(:func:`kosovo_cmr.report.render.write_report`) write what it returns. ``kcmr report``
and the demo call it.

A year outside the span of the store's releases is refused (its report would print
zeros that only mean "no data"); a year inside the span with no release is reported with
a warning.
"""

from __future__ import annotations

import logging
import os

import pandas as pd

from kosovo_cmr.boundaries import read_municipalities
from kosovo_cmr.errors import InputError
from kosovo_cmr.programme import read_capacity
from kosovo_cmr.report import land_release_report

__all__ = ["report_from_store", "check_report_year"]

log = logging.getLogger(__name__)


def check_report_year(releases: pd.DataFrame, year: int) -> None:
    """Refuse a report year outside the span of the releases' years; warn on an empty one.

    Parameters
    ----------
    releases : DataFrame
        The ``releases`` layer (its ``date`` column).
    year : int

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the layer holds releases and none of them is dated in ``year`` or in a year
        on either side of it: the message lists the years present.

    Examples
    --------
    >>> import pandas as pd
    >>> releases = pd.DataFrame({"date": pd.to_datetime(["2020-05-01", "2024-06-01"])})
    >>> check_report_year(releases, 2022)  # inside the span: a warning, no error
    >>> check_report_year(releases, 2031)
    Traceback (most recent call last):
    ...
    kosovo_cmr.errors.InputError: year 2031: no release is dated 2031; the store's releases are dated 2020-2024 (years 2020, 2024)
    """  # noqa: E501
    years = sorted({int(y) for y in pd.to_datetime(releases["date"]).dt.year.dropna()})
    if not years:
        log.warning("the store holds no release: the release tables of %d are empty", year)
    elif year not in years and years[0] < year < years[-1]:
        log.warning("no release is dated %d: the release tables of %d are empty", year, year)
    elif year not in years:
        raise InputError(
            f"year {year}: no release is dated {year}; the store's releases are dated "
            f"{years[0]}-{years[-1]} (years {', '.join(map(str, years))})"
        )


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
    verified_only: bool = False,  # issue 15
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
    verified_only : bool, default False
        Count only the verified releases (see
        :func:`kosovo_cmr.report.land_release_report`). The report also takes the
        store's ``activities`` and ``devices`` (productivity) and, from its history, the
        changes made to the year's records after it ended
        (:func:`kosovo_cmr.workflows.records.later_changes`; for a view
        :meth:`~kosovo_cmr.store.Store.as_of` a date, those made by then).

    Returns
    -------
    dict
        See :func:`kosovo_cmr.report.land_release_report`, with ``store`` (its URI).

    Raises
    ------
    kosovo_cmr.errors.InputError
        If a DEM or land cover is given without the forecast, an input cannot be read,
        or ``year`` lies outside the span of the releases' years
        (:func:`check_report_year`).
    """
    hazards = store.read_or_empty("hazards")
    releases = store.read_or_empty("releases")
    check_report_year(releases, year)
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
        **_records(store, year=year, verified_only=verified_only),  # issue 15
    )
    report["store"] = store.uri
    report["as_of"] = getattr(store, "label", None)  # issue 15
    if audit:  # issue 17: the evidence audit section
        from kosovo_cmr.report.land_release import add_evidence_audit
        from kosovo_cmr.workflows.audit import audit_section

        add_evidence_audit(report, audit_section(store, year=year) if audit is True else audit)
    return report


def _forecast_from_store(store, *, dem=None, cover=None) -> dict:
    """Return the completion forecast section of the store (as ``kcmr forecast`` computes it)."""
    from kosovo_cmr.workflows.forecast import forecast_from_store

    return forecast_from_store(store, dem=dem, cover=cover)


def _records(store, *, year: int, verified_only: bool) -> dict:
    """Issue 15: what the report takes from the programme's records in a store."""
    from kosovo_cmr.workflows.records import later_changes

    return {
        "verified_only": verified_only,
        "activities": store.read("activities") if store.has_layer("activities") else None,
        "devices": store.read("devices") if store.has_layer("devices") else None,
        "later_changes": later_changes(store, year=year),
    }
