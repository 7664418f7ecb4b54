"""Magnetic declination (World Magnetic Model via pygeomag) and grid convergence."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from pyproj import Proj

from kosovo_cmr.analysis.declination import (
    grid_convergence,
    magnetic_bearing,
    magnetic_declination,
)
from kosovo_cmr.errors import InputError

PRISHTINA = (21.166, 42.663)


def test_declination_in_kosovo_is_about_five_degrees_east():
    # NOAA's published WMM-2025 chart puts Kosovo between the 5 and 6 degree east isogonic
    # lines in 2025-2026; this is a plausibility bound, not the model itself
    d = magnetic_declination(*PRISHTINA, on=date(2026, 6, 1))
    assert d.model == "WMM-2025" and d.epoch == 2025.0 and d.valid_until == 2030.0
    assert 4.5 < d.declination_deg < 6.5 and d.east
    assert 0 < d.annual_change_deg < 0.3  # drifting east by about a tenth a year
    assert 0.2 < d.uncertainty_deg < 1.0
    assert d.to_dict()["on"] == "2026-06-01"


def test_model_follows_the_date():
    before = magnetic_declination(*PRISHTINA, on=date(2024, 12, 31))
    after = magnetic_declination(*PRISHTINA, on=date(2025, 1, 1))
    assert (before.model, after.model) == ("WMM-2020", "WMM-2025")
    # two models, one day apart: they agree to a fraction of a degree
    assert after.declination_deg == pytest.approx(before.declination_deg, abs=0.3)


def test_annual_change_is_the_year_on_year_difference():
    a = magnetic_declination(*PRISHTINA, on=date(2026, 3, 1))
    b = magnetic_declination(*PRISHTINA, on=date(2027, 3, 1))
    assert a.annual_change_deg == pytest.approx(b.declination_deg - a.declination_deg, abs=1e-6)
    # near the end of the life span the change is measured over the year before
    late = magnetic_declination(*PRISHTINA, on=date(2029, 12, 1))
    assert 0 < late.annual_change_deg < 0.3


@pytest.mark.parametrize("when", [date(2030, 1, 2), date(2001, 5, 5)])
def test_dates_no_model_covers_are_refused(when):
    with pytest.raises(InputError, match="Magnetic Model"):
        magnetic_declination(*PRISHTINA, on=when)


def test_bad_places_are_refused():
    with pytest.raises(InputError, match="WGS 84"):
        magnetic_declination(7500000.0, 4700000.0, on=date(2026, 1, 1))


def test_magnetic_bearing_convention():
    # magnetic north 5 degrees east of true north: a true bearing of 90 reads 85
    assert magnetic_bearing(90.0, 5.0) == 85.0
    assert magnetic_bearing(3.0, 5.0) == 358.0
    assert magnetic_bearing(358.0, -5.0) == 3.0  # west declination
    np.testing.assert_allclose(magnetic_bearing(np.array([0.0, 180.0]), 5.4), [354.6, 174.6])


@pytest.mark.parametrize("crs", ["EPSG:32634", "EPSG:9141"])
@pytest.mark.parametrize("lon", [20.1, 20.8, 21.0, 21.7])
def test_grid_convergence_matches_proj(crs, lon):
    # measured numerically here; PROJ computes it analytically: they must agree
    ours = grid_convergence(lon, 42.6, crs=crs)
    theirs = Proj(crs).get_factors(lon, 42.6).meridian_convergence
    assert ours == pytest.approx(theirs, abs=1e-4)
    assert np.sign(ours) == np.sign(lon - 21.0)  # west of the central meridian: negative
