"""Documented defaults for the whole package, in one place.

Every default the package uses lives here, and this is the only module that reads
the environment. Change a value for a session by assignment::

    from kosovo_cmr import settings
    settings.store_path = "/data/kmac.gpkg"

Environment variables (read once, at import):

``KCMR_STORE``
    Default store: a GeoPackage path or a ``postgresql://`` URL.
``KCMR_BOUNDARIES``
    Path to the municipal boundaries (see :data:`boundaries_path`).
"""

from __future__ import annotations

import os
from pathlib import Path

#: CRS in which layers are stored and exchanged (IMSMA, GPX and KML use it).
storage_crs: str = "EPSG:4326"

#: Metric CRS for buffers and planar work: KOSOVAREF01 / Balkans zone 7, Kosovo's
#: national grid (TM, lon_0 = 21, k = 0.9999); scale error under 0.01 % in Kosovo.
metric_crs: str = "EPSG:9141"

#: Operators' GPS grid: WGS 84 / UTM zone 34N (MGRS grid zone 34T).
utm_crs: str = "EPSG:32634"

#: Legacy Yugoslav-era grid: MGI 1901 / Balkans zone 7.
legacy_crs: str = "EPSG:6316"

#: Deprecated EPSG codes of the legacy grid, accepted and mapped to :data:`legacy_crs`.
legacy_crs_aliases: tuple[str, ...] = ("EPSG:3909", "EPSG:31277")

#: Ellipsoid on which every reported ``area_m2`` is measured.
ellipsoid: str = "WGS84"

#: Kosovo's extent in EPSG:4326 (lon_min, lat_min, lon_max, lat_max).
kosovo_bounds: tuple[float, float, float, float] = (20.01, 41.85, 21.79, 43.27)

#: Default GeoPackage store (relative to the working directory).
store_path: str = os.environ.get("KCMR_STORE", "kcmr.gpkg")

#: The project's checkout, when the package runs from one (editable install).
_checkout = Path(__file__).resolve().parent.parent

#: Candidate locations of the real municipal boundaries: the ``shared/`` folder beside
#: the project, seen from the working directory and from the checkout.
_boundary_candidates = (
    Path("../shared/data/kosovo-municipalities-2018/XK_EA_2018.shp"),
    _checkout.parent / "shared/data/kosovo-municipalities-2018/XK_EA_2018.shp",
)

#: Path to the municipal boundaries Shapefile (40 features, attribute ``XK_NAME``).
#: ``None`` means: ``KCMR_BOUNDARIES`` if set, else the first of the candidates that
#: exists. The data are read by path and never copied into the project.
boundaries_path: str | None = os.environ.get("KCMR_BOUNDARIES")

#: Attribute of the boundaries file that holds the municipality name.
boundaries_name_field: str = "XK_NAME"

#: Default output folder of ``kcmr demo``.
demo_dir: str = "kcmr-demo"

#: Seed of the synthetic demo generator. Changing it changes every demo feature.
demo_seed: int = 20241231


def resolve_boundaries_path(path: str | os.PathLike | None = None) -> Path:
    """Return the municipal boundaries path to use.

    Parameters
    ----------
    path : str or path-like, optional
        An explicit path; wins over the settings.

    Returns
    -------
    pathlib.Path
        The path, which exists.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If no boundaries file can be found; the message says how to give one.
    """
    from kosovo_cmr.errors import InputError

    chosen = path if path is not None else boundaries_path
    if chosen is not None:
        p = Path(chosen)
        if not p.exists():
            raise InputError(f"boundaries file not found: {p}")
        return p
    for candidate in _boundary_candidates:
        if candidate.exists():
            return candidate
    raise InputError(
        "municipal boundaries not found; pass --boundaries PATH or set KCMR_BOUNDARIES "
        "(expected ../shared/data/kosovo-municipalities-2018/XK_EA_2018.shp)"
    )
