"""What a field sheet states about one hazard: facts, turning points, declination, benchmark.

:func:`sheet_facts` computes everything a field sheet prints, so that the renderer
(:func:`kosovo_cmr.outputs.fieldmap.draw_sheet`) only draws: the hazard's attributes with
the missing ones named (a sheet never prints "nan"), its geodesic area, its turning
points with true and magnetic bearings, the magnetic declination for the sheet's date
(:func:`kosovo_cmr.analysis.declination.magnetic_declination`), the grid convergence
of both sheet grids, whether the hazard is closed, and its benchmark.

The benchmark is where a team starts: the IMSMA polygon entry goes reference point ->
benchmark (outside the hazard) -> start point -> turning points (``DOMAIN.md``). The
layers hold no benchmarks yet, so a recorded one is taken from the hazard's
``benchmark_lon`` / ``benchmark_lat`` attributes or from a ``benchmarks`` point layer
with a ``hazard_id`` column when present; otherwise the sheet shows a **proposed**
benchmark :data:`PROPOSED_BENCHMARK_M` north of TP1 (TP1 is the northernmost point, so
this lies outside the hazard), labelled PROPOSED.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer

from kosovo_cmr import settings
from kosovo_cmr.analysis.declination import Declination, grid_convergence, magnetic_declination
from kosovo_cmr.analysis.turning_points import leg, turning_points
from kosovo_cmr.crs import geodesic_area, require_crs
from kosovo_cmr.errors import InputError

__all__ = [
    "CLOSED_STATUSES",
    "FACT_FIELDS",
    "MAX_TURNING_POINTS",
    "PROPOSED_BENCHMARK_M",
    "Benchmark",
    "SheetFacts",
    "display_value",
    "sheet_facts",
]

#: Attributes a sheet prints, in order; a missing one is shown as a dash and listed.
FACT_FIELDS: tuple[str, ...] = (
    "municipality",
    "region",
    "priority",
    "operator",
    "ordnance",
    "recorded",
)

#: Statuses of a closed hazard (``schema``: released by a land release, or removed).
CLOSED_STATUSES: tuple[str, ...] = ("released", "removed")

#: The most turning points a sheet lists: about 1,750 pages of table. A hazard with
#: more is refused with a clear error (simplify it in the data first): the limit keeps
#: a sheet within seconds and well under 2 GB (``benchmarks/huge_sheets.py``).
MAX_TURNING_POINTS = 200_000

#: Distance (m) north of TP1 of the proposed benchmark when none is recorded.
PROPOSED_BENCHMARK_M = 25.0

#: Texts that stand for "no value" in files written by other programs.
_EMPTY_TEXTS = frozenset({"", "nan", "none", "null", "nat", "n/a", "<na>"})


@dataclass(frozen=True)
class Benchmark:
    """A hazard's benchmark and the leg from it to TP1.

    Attributes
    ----------
    lon, lat : float
        WGS 84 degrees.
    recorded : bool
        False for a proposed benchmark (none recorded): the sheet labels it PROPOSED.
    source : str
        ``"attributes"`` (``benchmark_lon`` / ``benchmark_lat``), ``"benchmarks layer"``
        or ``"proposed"``.
    bearing_deg, magnetic_bearing_deg : float
        True and magnetic bearing from the benchmark to TP1.
    distance_m : float
        Geodesic distance from the benchmark to TP1.
    name : str or None
        The benchmark's recorded name (``benchmark_id``), issue 15.
    reference : dict or None
        The recorded reference point the benchmark is found from (``reference_id``,
        ``reference_lon``, ``reference_lat``): ``name``, ``lon``, ``lat`` and the leg to
        the benchmark, ``bearing_deg``, ``magnetic_bearing_deg``, ``distance_m``.
    """

    lon: float
    lat: float
    recorded: bool
    source: str
    bearing_deg: float
    magnetic_bearing_deg: float
    distance_m: float
    name: str | None = None
    reference: dict | None = None


@dataclass(frozen=True)
class SheetFacts:
    """Everything a field sheet prints about one hazard (see :func:`sheet_facts`)."""

    hazard: gpd.GeoDataFrame
    hazard_id: str
    kind: str | None
    status: str | None
    closed_on: str | None
    synthetic: bool
    attributes: dict[str, str | None]
    missing: tuple[str, ...]
    area_m2: float
    vertices: int
    points: pd.DataFrame
    declination: Declination
    convergence_deg: dict[str, float]
    benchmark: Benchmark | None
    on: date

    @property
    def closed(self) -> bool:
        """Whether the hazard is closed (released or removed): not a task any more."""
        return self.status in CLOSED_STATUSES

    def to_dict(self) -> dict:
        """Return the facts as a JSON-ready dict (without the geometry and the table)."""
        bm = self.benchmark
        return {
            "hazard_id": self.hazard_id,
            "kind": self.kind,
            "status": self.status,
            "closed": self.closed,
            "closed_on": self.closed_on,
            "synthetic": self.synthetic,
            "attributes": dict(self.attributes),
            "missing": list(self.missing),
            "area_m2": self.area_m2,
            "vertices": self.vertices,
            "turning_points": len(self.points),
            "declination": self.declination.to_dict(),
            "convergence_deg": dict(self.convergence_deg),
            "benchmark": None if bm is None else dict(bm.__dict__),
            "on": self.on.isoformat(),
        }


def display_value(value) -> str | None:
    """Return a value as sheet text, or None when it is missing.

    None, NaN, NaT, pandas' NA and the texts "", "nan", "None", "null", "NaT", "n/a"
    (any case, as other programs write them) count as missing; dates print as ISO dates.

    Examples
    --------
    >>> display_value(float("nan")) is None, display_value("NaN") is None
    (True, True)
    >>> display_value(pd.Timestamp("2024-05-01")), display_value(" HALO ")
    ('2024-05-01', 'HALO')
    """
    if value is None:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64 | date):
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else stamp.date().isoformat()
    text = str(value).strip()
    return None if text.lower() in _EMPTY_TEXTS else text


def _one_hazard(hazard) -> gpd.GeoDataFrame:
    if not isinstance(hazard, gpd.GeoDataFrame) or len(hazard) != 1:
        raise InputError("a field sheet needs a one-row GeoDataFrame (the hazard)")
    require_crs(hazard, name="hazard")
    geom = hazard.geometry.iloc[0]
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        hid = display_value(hazard.iloc[0].get("hazard_id")) or "the hazard"
        kind = "no geometry" if geom is None or geom.is_empty else f"a {geom.geom_type}"
        raise InputError(f"{hid} has {kind}: a field sheet needs a polygon")
    return hazard.to_crs(4326)


def _check_size(hazard: gpd.GeoDataFrame, hid: str, max_points: int) -> int:
    parts = shapely.get_parts(hazard.geometry.values)
    rings = len(parts) + int(shapely.get_num_interior_rings(parts).sum())
    vertices = int(shapely.get_num_coordinates(parts).sum()) - rings  # not the closing ones
    if vertices > max_points:
        raise InputError(
            f"{hid} has {vertices:,} vertices: a field sheet lists at most {max_points:,} "
            "turning points (MAX_TURNING_POINTS); simplify the outline in the data first "
            "(a team cannot walk that many points)"
        )
    return vertices


def _attributes(row: pd.Series) -> tuple[dict[str, str | None], tuple[str, ...]]:
    values = {name: display_value(row.get(name)) for name in FACT_FIELDS}
    return values, tuple(name for name, value in values.items() if value is None)


def _centre(hazard: gpd.GeoDataFrame) -> tuple[float, float]:
    """Return the centre of the hazard's bounding box in the national grid, in WGS 84."""
    minx, miny, maxx, maxy = hazard.to_crs(settings.metric_crs).total_bounds
    back = Transformer.from_crs(settings.metric_crs, 4326, always_xy=True)
    lon, lat = back.transform((minx + maxx) / 2, (miny + maxy) / 2)
    return float(lon), float(lat)


def _recorded_benchmark(row: pd.Series, hid: str, benchmarks) -> tuple[float, float, str] | None:
    lon, lat = row.get("benchmark_lon"), row.get("benchmark_lat")
    if display_value(lon) is not None and display_value(lat) is not None:
        try:
            lon, lat = float(lon), float(lat)
        except (TypeError, ValueError):
            raise InputError(f"{hid}: benchmark_lon/benchmark_lat are not numbers") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError(f"{hid}: benchmark ({lon}, {lat}) is not in WGS 84 degrees")
        return lon, lat, "attributes"
    if benchmarks is None or len(benchmarks) == 0 or "hazard_id" not in benchmarks.columns:
        return None
    require_crs(benchmarks, name="benchmarks")
    mine = benchmarks[benchmarks["hazard_id"] == hid]
    mine = mine[~mine.geometry.isna() & ~mine.geometry.is_empty]
    if mine.empty:
        return None
    point = mine.to_crs(4326).geometry.iloc[0]
    return float(point.x), float(point.y), "benchmarks layer"


def _proposed_benchmark(hazard: gpd.GeoDataFrame, tp1: tuple[float, float]):
    """Return a point PROPOSED_BENCHMARK_M north of TP1, pushed north until outside the hazard."""
    geod = Geod(ellps=settings.ellipsoid)
    geom = hazard.geometry.iloc[0]
    distance = PROPOSED_BENCHMARK_M
    for _ in range(40):
        lon, lat, _ = geod.fwd(tp1[0], tp1[1], 0.0, distance)
        if not geom.covers(shapely.Point(lon, lat)):
            break
        distance += PROPOSED_BENCHMARK_M
    return float(lon), float(lat), "proposed"


def _benchmark(hazard, row, hid, points, declination, benchmarks) -> Benchmark | None:
    if points.empty:
        return None
    tp1 = (float(points["lon"].iloc[0]), float(points["lat"].iloc[0]))
    found = _recorded_benchmark(row, hid, benchmarks) or _proposed_benchmark(hazard, tp1)
    lon, lat, source = found
    bearing, distance = leg(lon, lat, *tp1)
    named = source == "attributes"
    return Benchmark(
        lon=lon,
        lat=lat,
        recorded=source != "proposed",
        source=source,
        bearing_deg=bearing,
        magnetic_bearing_deg=float(declination.magnetic(bearing)),
        distance_m=distance,
        name=display_value(row.get("benchmark_id")) if named else None,
        reference=_reference(row, hid, lon, lat, declination) if named else None,
    )


def _reference(row: pd.Series, hid: str, bm_lon: float, bm_lat: float, declination):
    """Return the recorded reference point and its leg to the benchmark (issue 15)."""
    lon, lat = row.get("reference_lon"), row.get("reference_lat")
    if display_value(lon) is None or display_value(lat) is None:
        return None
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InputError(f"{hid}: reference_lon/reference_lat are not numbers") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"{hid}: reference point ({lon}, {lat}) is not in WGS 84 degrees")
    bearing, distance = leg(lon, lat, bm_lon, bm_lat)
    return {
        "name": display_value(row.get("reference_id")),
        "lon": lon,
        "lat": lat,
        "bearing_deg": bearing,
        "magnetic_bearing_deg": float(declination.magnetic(bearing)),
        "distance_m": distance,
    }


def sheet_facts(
    hazard: gpd.GeoDataFrame,
    *,
    on: date,
    benchmarks: gpd.GeoDataFrame | None = None,
    max_points: int = MAX_TURNING_POINTS,
) -> SheetFacts:
    """Compute what the field sheet of one hazard prints.

    Parameters
    ----------
    hazard : GeoDataFrame
        One row (the hazard), polygonal, with a CRS.
    on : datetime.date
        The sheet's date: the magnetic declination is computed for it.
    benchmarks : GeoDataFrame, optional
        Points with a ``hazard_id`` column: a recorded benchmark for the hazard (used
        when the hazard has no ``benchmark_lon`` / ``benchmark_lat`` attributes).
    max_points : int, default :data:`MAX_TURNING_POINTS`
        Refuse a hazard with more vertices than this.

    Returns
    -------
    SheetFacts

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the hazard is not one polygonal row, has more than ``max_points`` vertices,
        has an unusable benchmark, or no magnetic model covers ``on``.

    Examples
    --------
    >>> from datetime import date
    >>> from shapely.geometry import box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "kind": ["CHA"], "operator": [None]},
    ...                       geometry=[box(21, 42.5, 21.001, 42.501)], crs=4326)
    >>> facts = sheet_facts(hz, on=date(2026, 6, 1))
    >>> facts.missing[:2], len(facts.points), facts.benchmark.recorded
    (('municipality', 'region'), 4, False)
    """
    hazard = _one_hazard(hazard)
    row = hazard.iloc[0]
    hid = display_value(row.get("hazard_id")) or "hazard"
    vertices = _check_size(hazard, hid, max_points)
    attributes, missing = _attributes(row)
    lon, lat = _centre(hazard)
    declination = magnetic_declination(lon, lat, on=on)
    id_column = "hazard_id" if "hazard_id" in hazard.columns else None
    points = turning_points(
        hazard, id_column=id_column, declination_deg=declination.declination_deg
    )
    synthetic = display_value(row.get("synthetic")) in ("True", "true", "1") or hid.startswith(
        "DEMO-"
    )
    return SheetFacts(
        hazard=hazard,
        hazard_id=hid,
        kind=display_value(row.get("kind")),
        status=display_value(row.get("status")),
        closed_on=display_value(row.get("closed")),
        synthetic=synthetic,
        attributes=attributes,
        missing=missing,
        area_m2=float(geodesic_area(hazard)[0]),
        vertices=vertices,
        points=points,
        declination=declination,
        convergence_deg={
            "utm": grid_convergence(lon, lat, crs=settings.utm_crs),
            "national": grid_convergence(lon, lat, crs=settings.metric_crs),
        },
        benchmark=_benchmark(hazard, row, hid, points, declination, benchmarks),
        on=on,
    )
