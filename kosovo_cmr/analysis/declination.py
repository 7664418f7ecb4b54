"""Magnetic declination and grid convergence: from true bearings to what a compass reads.

Survey teams walk a hazard's outline with a compass, and a compass points to magnetic
north, not true north. In Kosovo magnetic north lies about 5° east of true north (2026),
and the angle changes by about a tenth of a degree a year, so a field sheet must say
which declination, for which date, from which model it used.

:func:`magnetic_declination` takes it from the **World Magnetic Model** (WMM), the
model of the US National Geospatial-Intelligence Agency and the UK Defence Geographic
Centre that navigation systems use, through the maintained ``pygeomag`` package and the
coefficient files it ships (WMM-2025 for 2025.0-2030.0, WMM-2020 before): no
coefficient is typed here. A date outside every model's life span is refused: an
extrapolated declination would be printed as if it were known.

Conventions (stated on every sheet):

- **declination** ``D``: angle from true north to magnetic north, positive east;
  ``magnetic bearing = true bearing - D``;
- **grid convergence** ``C``: angle from true north to grid north, positive when grid
  north lies east of true north; ``grid bearing = true bearing - C``; so
  ``magnetic bearing = grid bearing + C - D``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
from pyproj import Geod, Transformer

from kosovo_cmr import settings
from kosovo_cmr.errors import InputError, MissingDependencyError

__all__ = ["Declination", "magnetic_declination", "grid_convergence", "magnetic_bearing"]


@dataclass(frozen=True)
class Declination:
    """The magnetic declination at a place and date, and where it came from.

    Attributes
    ----------
    declination_deg : float
        Angle from true north to magnetic north, degrees, positive east.
    annual_change_deg : float
        Change of the declination per year at that date (degrees, positive eastward).
    uncertainty_deg : float or None
        The model's stated uncertainty of the declination there (degrees); None for
        the older models (before WMM-2015) that state none.
    model : str
        The model, e.g. ``"WMM-2025"``.
    epoch : float
        The model's epoch (decimal year).
    valid_until : float
        End of the model's life span (decimal year).
    on : datetime.date
        The date the declination is computed for.
    lon, lat : float
        Where (WGS 84 degrees).
    """

    declination_deg: float
    annual_change_deg: float
    uncertainty_deg: float | None
    model: str
    epoch: float
    valid_until: float
    on: date
    lon: float
    lat: float

    @property
    def east(self) -> bool:
        """Whether magnetic north lies east of true north."""
        return self.declination_deg >= 0

    def magnetic(self, true_bearing_deg):
        """Return the magnetic bearing(s) of true bearing(s): ``(true - D) mod 360``."""
        return magnetic_bearing(true_bearing_deg, self.declination_deg)

    def to_dict(self) -> dict:
        """Return the declination as a JSON-ready dict (the date as ISO text)."""
        out = asdict(self)
        out["on"] = self.on.isoformat()
        return out


def magnetic_bearing(true_bearing_deg, declination_deg: float):
    """Return the magnetic bearing of a true bearing, in [0, 360).

    Examples
    --------
    >>> magnetic_bearing(90.0, 5.0)
    85.0
    >>> magnetic_bearing(2.0, 5.0)
    357.0
    """
    out = np.mod(np.asarray(true_bearing_deg, dtype=float) - declination_deg, 360.0)
    return float(out) if out.ndim == 0 else out


def _decimal_year(on: date) -> float:
    start = date(on.year, 1, 1)
    days = (date(on.year + 1, 1, 1) - start).days
    return on.year + (on - start).days / days


def _model_for(year: float):
    """Return the pygeomag model whose life span holds ``year``, or raise InputError."""
    try:
        import pygeomag
    except ImportError as exc:  # pragma: no cover - an install requirement
        raise MissingDependencyError(
            "magnetic declination needs pygeomag: pip install pygeomag"
        ) from exc
    newest = pygeomag.GeoMag()  # the package's default: its newest model
    if year >= newest.life_span[1]:
        raise InputError(
            f"no World Magnetic Model covers {year:.2f}: the newest in pygeomag "
            f"{pygeomag.__version__} ({newest.model}) is valid until {newest.life_span[1]:.1f}; "
            "update pygeomag (pip install -U pygeomag)"
        )
    try:
        model = pygeomag.GeoMag(base_year=int(year))
        span = model.life_span  # reads the coefficient file
    except ValueError:
        model, span = None, (math.inf, -math.inf)
    if model is None or not span[0] <= year < span[1]:
        raise InputError(f"no World Magnetic Model in pygeomag covers the year {year:.2f}")
    return model


def magnetic_declination(
    lon: float, lat: float, *, on: date, altitude_m: float = 0.0
) -> Declination:
    """Compute the magnetic declination at a place and date from the World Magnetic Model.

    Parameters
    ----------
    lon, lat : float
        WGS 84 degrees.
    on : datetime.date
        The date (the sheet's date): the declination drifts about 0.1° a year here.
    altitude_m : float, default 0
        Height above the WGS 84 ellipsoid in metres (a few hundred metres change the
        declination by under 0.01°).

    Returns
    -------
    Declination
        With the model, its epoch and life span, the annual change (the difference
        over one year within the model, or over the year before when the next one
        leaves its life span) and the model's uncertainty at that place.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If no model shipped with pygeomag covers the date, or the place is not on Earth.

    Examples
    --------
    >>> from datetime import date
    >>> d = magnetic_declination(21.16, 42.66, on=date(2026, 6, 1))
    >>> d.model, round(d.declination_deg), d.east
    ('WMM-2025', 5, True)
    >>> round(d.magnetic(90.0))
    85
    """
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon) or math.isnan(lat):
        raise InputError(f"declination needs WGS 84 degrees, got lon={lon}, lat={lat}")
    year = _decimal_year(on)
    model = _model_for(year)
    alt_km = altitude_m / 1000.0

    def dec(t: float):
        return model.calculate(glat=lat, glon=lon, alt=alt_km, time=t)

    here = dec(year)
    start, end = model.life_span
    later = year + 1 if year + 1 < end else year - 1
    change = (dec(later).d - here.d) * (1 if later > year else -1)
    try:
        uncertainty = float(here.calculate_uncertainty().d)
    except ValueError:  # the model states no uncertainty (WMM-2010)
        uncertainty = None
    return Declination(
        declination_deg=float(here.d),
        annual_change_deg=float(change),
        uncertainty_deg=uncertainty,
        model=str(model.model),
        epoch=float(start),
        valid_until=float(end),
        on=on,
        lon=float(lon),
        lat=float(lat),
    )


def grid_convergence(lon: float, lat: float, *, crs) -> float:
    """Return the grid convergence of a projected CRS at a place, in degrees.

    The angle from true north to grid north, positive when grid north lies east of
    true north: ``grid bearing = true bearing - convergence``. Measured, not taken from
    a formula: the grid bearing of a short step due north along the meridian.

    Parameters
    ----------
    lon, lat : float
        WGS 84 degrees.
    crs : anything pyproj accepts
        A projected CRS, e.g. :data:`kosovo_cmr.settings.utm_crs`.

    Returns
    -------
    float

    Examples
    --------
    >>> abs(round(grid_convergence(21.0, 42.6, crs="EPSG:32634"), 6))  # on the central meridian
    0.0
    >>> grid_convergence(20.3, 42.6, crs="EPSG:32634") < 0  # west of it: grid north is west
    True
    """
    to_grid = Transformer.from_crs(4326, crs, always_xy=True)
    lon2, lat2, _ = Geod(ellps=settings.ellipsoid).fwd(lon, lat, 0.0, 10.0)
    x1, y1 = to_grid.transform(lon, lat)
    x2, y2 = to_grid.transform(lon2, lat2)
    true_north_on_grid = math.degrees(math.atan2(x2 - x1, y2 - y1))
    return 0.0 - true_north_on_grid
