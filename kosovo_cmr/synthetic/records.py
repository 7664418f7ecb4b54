"""SYNTHETIC programme records for the demo layers: verification, evidence, activities, devices.

The generator (:mod:`kosovo_cmr.synthetic.layers`) places the features that reproduce the
published figures; this module then gives them the records a programme keeps (issue 15),
from a random stream of its own (``[seed, 15]``), so that the features and figures of
the generator stay exactly as they were:

* **verification** of hazards and releases. Releases before 2024, and the clearance and
  technical survey of 2024, were verified by KMAC 15 to 60 days after their date (some
  of 2024's in January 2025). The 2024 cancellations by NTS were "still awaiting
  verification by KMAC" when the Mine Action Review 2025 was written (emails of
  April-June 2025): in the demo the two of Zubin Potok are verified on 20 June 2025
  (:data:`NTS_VERIFIED`), the others still await it. Hazards are verified;
  :data:`RESUBMITTED` was resubmitted in July 2024 and verified again in August;
* **kind**: hazards closed before 2022 are ``unclassified`` ("up to that point there had
  been no classification of CHAs and SHAs in Kosovo", on HALO's 2022 survey);
* **benchmarks and reference points** of the active hazards surveyed by HALO (West,
  Centre, South) and of those NPA recorded in 2024, outside the polygon near its
  northernmost turning point; the others have none (the field sheet proposes one);
* **evidence** class, source and depth: items found by clearance were observed (direct,
  0-56 cm deep); survey finds were mostly observed on the surface, some reported by
  witnesses or taken from the 2013 survey records (indirect);
* the **depth** a release was cleared to: 56 cm from 2024 (the 2024 NMAS: "the required
  detection depth for munitions was increased from 50cm to 56cm"), 50 cm before;
* **activities**: the task behind each release: NTS by NPA's NTS team, TS by the CMRS
  method, clearance by teams of each operator with its method (HALO Scorpion or Large
  Loop Detector, NPA LLD or manual, KSF manual), team-days from the operator's teams
  (``layers/capacity.csv``) spread over its releases of the year by area and method
  rate (``layers/effort.toml``);
* **devices**: one per submunition, AP mine and other item of UXO destroyed, where the
  release records them (submunitions at their evidence points).

Everything not stated in the report is the generator's choice, marked ASSUMPTION here.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from kosovo_cmr import settings
from kosovo_cmr.schema import check, conform

__all__ = ["add_records", "NTS_VERIFIED", "RESUBMITTED", "RESUBMITTED_ON", "RESUBMISSION_SHIFT_DEG"]

#: The 2024 NTS districts whose cancellations KMAC verified, and when (ASSUMPTION).
NTS_VERIFIED = {"Zubin Potok": pd.Timestamp("2025-06-20")}

#: The hazard whose polygon HALO resubmitted in 2024 (ASSUMPTION): its earlier polygon lay
#: this far west (a datum error of the old survey), its benchmark too.
RESUBMITTED = "DEMO-HZ-0023"
RESUBMITTED_ON = pd.Timestamp("2024-07-15")
REVERIFIED_ON = pd.Timestamp("2024-08-20")
RESUBMISSION_SHIFT_DEG = 0.0015

#: ASSUMPTION: each team runs several lanes or detector systems at once (the report's
#: rates are per system; see the calibration note of layers/effort.toml).
_WORKING_DAYS = 160
_UTILISATION = 0.85
_METHODS = {"HALO": (("scorpion", 0.6), ("lld", 0.4)), "NPA": (("lld", 0.7), ("manual", 0.3)),
            "KSF": (("manual", 1.0),)}  # fmt: skip
_RATES = {"scorpion": 168.0, "lld": 82.0, "manual": 40.0, "cmrs": 300.0, "nts": 20_000.0}
_UXO_MODELS = (
    "mortar bomb 82 mm",
    "hand grenade M75",
    "artillery shell 105 mm",
    "rifle grenade",
)  # fmt: skip  ASSUMPTION: common ERW of the 1998-99 conflict
_AP_MODELS = ("PMA-2", "PMA-3", "PROM-1")  # ASSUMPTION: Yugoslav AP mines
_GEOD = Geod(ellps="WGS84")


def add_records(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    seed: int | None = None,
    capacity=None,
    boundaries: gpd.GeoDataFrame | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Give the generated layers their programme records (see the module notes).

    Parameters
    ----------
    layers : dict
        ``hazards``, ``evidence``, ``strikes`` and ``releases`` from
        :func:`kosovo_cmr.synthetic.layers.generate` (before this step).
    seed : int, optional
        Default :data:`kosovo_cmr.settings.demo_seed`; the records draw from
        ``[seed, 15]``, the features' own stream is not touched.
    capacity : DataFrame, optional
        Teams per operator (:func:`kosovo_cmr.programme.read_capacity`).
    boundaries : GeoDataFrame, optional
        The municipalities: the reference point of an activity whose release has no
        area (the zero-area record of Gracanica) is in its municipality.

    Returns
    -------
    dict
        The four layers with their new columns, and ``activities`` and ``devices``;
        every feature ``synthetic = True`` with an id starting ``DEMO-``.
    """
    from kosovo_cmr.programme import read_capacity

    rng = np.random.default_rng([settings.demo_seed if seed is None else seed, 15])
    capacity = read_capacity() if capacity is None else capacity
    hazards, releases = layers["hazards"].copy(), layers["releases"].copy()
    _release_records(rng, releases)
    _hazard_records(rng, hazards)
    evidence = _evidence_records(rng, layers["evidence"].copy(), releases)
    activities = _activities(rng, releases, capacity, boundaries)
    devices = _devices(rng, releases, evidence, activities)
    out = {**layers, "hazards": hazards, "releases": releases, "evidence": evidence}
    out["activities"], out["devices"] = activities, devices
    return {name: check(conform(frame, name), name) for name, frame in out.items()}


def _release_records(rng, releases: gpd.GeoDataFrame) -> None:
    """Verification and cleared depth of each release (in place)."""
    dates = pd.to_datetime(releases["date"])
    on, state = [], []
    for d, method, district in zip(dates, releases["method"], releases["district"], strict=True):
        if method == "cancellation_nts" and d.year == 2024:
            when = NTS_VERIFIED.get(district)
            state.append("verified" if when is not None else "reported")
            on.append(when)
        else:
            state.append("verified")
            on.append(d + pd.Timedelta(days=int(rng.integers(15, 61))))
    # the last clearance of 2024 is verified in January 2025 whatever the draw (ASSUMPTION)
    last = dates[(releases["method"] == "clearance") & (dates.dt.year == 2024)].idxmax()
    on[releases.index.get_loc(last)] = pd.Timestamp("2025-01-21")
    releases["verification"] = state
    releases["verified_on"] = pd.to_datetime(pd.Series(on, index=releases.index))
    releases["verified_by"] = ["KMAC QA" if s == "verified" else None for s in state]
    clearance = (releases["method"] == "clearance").to_numpy()
    releases["depth_cm"] = np.where(clearance, np.where(dates.dt.year >= 2024, 56.0, 50.0), np.nan)


def _hazard_records(rng, hazards: gpd.GeoDataFrame) -> None:
    """Kind of the hazards closed before 2022, verification, benchmarks (in place)."""
    closed = pd.to_datetime(hazards["closed"])
    recorded = pd.to_datetime(hazards["recorded"])
    early = (closed < pd.Timestamp("2022-01-01")).fillna(False).to_numpy()
    hazards.loc[early, "kind"] = "unclassified"
    hazards["verification"] = "verified"
    days = pd.to_timedelta(rng.integers(10, 61, len(hazards)), unit="D")
    hazards["verified_on"] = (recorded + days).to_numpy()
    hazards["verified_by"] = "KMAC"
    at = hazards.index[hazards["hazard_id"] == RESUBMITTED]
    hazards.loc[at, "verified_on"] = REVERIFIED_ON
    surveyed = (hazards["status"] == "active") & (
        hazards["operator"].eq("HALO") | (recorded.dt.year == 2024)
    )
    for col in ("benchmark_id", "reference_id"):
        hazards[col] = None
    for col in ("benchmark_lon", "benchmark_lat", "reference_lon", "reference_lat"):
        hazards[col] = np.nan
    for i in hazards.index[surveyed.to_numpy()]:
        bm, rp = _landmarks(rng, hazards.geometry.loc[i])
        hid = hazards.at[i, "hazard_id"]
        hazards.loc[i, ["benchmark_id", "reference_id"]] = [f"{hid}-BM", f"{hid}-RP"]
        hazards.loc[i, ["benchmark_lon", "benchmark_lat"]] = bm
        hazards.loc[i, ["reference_lon", "reference_lat"]] = rp


def _landmarks(rng, geom) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return a benchmark and a reference point for a polygon (lon, lat; 1e-7 degree).

    The benchmark lies 30-80 m north of the northernmost vertex, outside the polygon; the
    reference point 150-400 m from the benchmark.
    """
    coords = np.asarray(shapely.get_coordinates(geom))
    lon, lat = coords[np.argmax(coords[:, 1])]
    bearing, distance = float(rng.uniform(-40, 40)), float(rng.uniform(30, 80))
    for _ in range(40):
        bx, by, _ = _GEOD.fwd(lon, lat, bearing, distance)
        if not geom.covers(shapely.Point(bx, by)):
            break
        distance += 20.0
    rx, ry, _ = _GEOD.fwd(bx, by, float(rng.uniform(0, 360)), float(rng.uniform(150, 400)))
    if geom.covers(shapely.Point(rx, ry)):
        rx, ry, _ = _GEOD.fwd(bx, by, bearing, 400.0)
    return (round(bx, 7), round(by, 7)), (round(rx, 7), round(ry, 7))


def _evidence_records(rng, evidence: gpd.GeoDataFrame, releases) -> gpd.GeoDataFrame:
    """Class, source and depth of each evidence point."""
    cleared = releases[releases["method"] == "clearance"]
    cleared_on = dict(zip(cleared["hazard_id"], pd.to_datetime(cleared["date"]), strict=True))
    found = pd.to_datetime(evidence["found"])
    by_clearance = np.array(
        [cleared_on.get(h) == f for h, f in zip(evidence["hazard_id"], found, strict=True)]
    )
    draw = rng.random(len(evidence))
    source = np.where(by_clearance, "observed",
                      np.where(draw < 0.80, "observed", np.where(draw < 0.92, "reported",
                                                                 "records")))  # fmt: skip
    deep = np.round(rng.uniform(2, 56, len(evidence)))
    evidence["evidence_class"] = np.where(source == "observed", "direct", "indirect")
    evidence["evidence_source"] = source
    evidence["depth_cm"] = np.where(by_clearance, deep, np.where(source == "observed", 0.0, np.nan))
    return evidence


def _method(rng, operator: str) -> str:
    names, weights = zip(*_METHODS.get(operator, (("manual", 1.0),)), strict=True)
    return str(rng.choice(names, p=np.asarray(weights) / sum(weights)))


def _activities(rng, releases: gpd.GeoDataFrame, capacity, boundaries) -> gpd.GeoDataFrame:
    """Return one activity per release, two or three teams on the large clearances."""
    plans = []
    for r in releases.itertuples(index=False):
        kind = {"cancellation_nts": "nts", "reduction_ts": "ts"}.get(r.method, "clearance")
        method = {"nts": "nts", "ts": "cmrs"}.get(kind) or _method(rng, r.operator)
        area = float(_area(r.geometry))
        teams = 1 if kind != "clearance" or area < 60_000 else int(rng.integers(2, 4))
        for t in range(teams):
            plans.append({"r": r, "kind": kind, "method": method, "area": area / teams, "t": t})
    _team_days(plans, capacity)
    rows, counts = [], {}
    for p in plans:
        r, year = p["r"], pd.Timestamp(p["r"].date).year
        counts[year] = counts.get(year, 0) + 1
        span = max(1, math.ceil(p["days"] * 7 / 5))
        end = pd.Timestamp(r.date)
        point = (
            r.geometry.representative_point()
            if not r.geometry.is_empty
            else _place_of(r.district, boundaries)
        )
        rows.append(
            {
                "activity_id": f"DEMO-AC-{year}-{counts[year]:03d}",
                "activity": p["kind"],
                "method": p["method"],
                "operator": r.operator,
                "team": "NPA NTS team" if p["kind"] == "nts" else f"{r.operator} team {p['t'] + 1}",
                "hazard_id": r.hazard_id,
                "release_id": r.release_id,
                "start_date": end - pd.Timedelta(days=span - 1),
                "end_date": end,
                "team_days": round(p["days"], 1),
                "area_m2": None,
                "status": "completed",
                "note": None,
                "synthetic": True,
                "geometry": point,
            }
        )
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs="EPSG:4326")


def _place_of(district: str, boundaries) -> shapely.Point:
    """Return the reference point of a task with no area: in its district's municipality."""
    from kosovo_cmr.synthetic.targets import GENERATOR_DISTRICT_MUNICIPALITY

    name = GENERATOR_DISTRICT_MUNICIPALITY.get(district, district)
    if boundaries is None or name not in set(boundaries["municipality"]):
        return shapely.Point()
    geom = boundaries.loc[boundaries["municipality"] == name].geometry.iloc[0]
    p = geom.representative_point()
    return shapely.Point(round(p.x, 10), round(p.y, 10))


def _area(geom) -> float:
    from kosovo_cmr.crs import geodesic_area

    return 0.0 if geom.is_empty else float(geodesic_area([geom], crs="EPSG:4326")[0])


def _team_days(plans: list[dict], capacity) -> None:
    """Spread each operator's team-days of a year over its activities by area and rate."""
    teams = {}
    latest = capacity[capacity["year"] == 2024]  # ASSUMPTION: 2024's teams in 2020-2023 too
    for op, n in zip(latest["operator"], latest["teams"], strict=True):
        teams[op] = float(n)
    groups: dict = {}
    for p in plans:
        key = (p["r"].operator, pd.Timestamp(p["r"].date).year, p["kind"])
        groups.setdefault(key, []).append(p)
    for (op, _year, kind), mine in groups.items():
        need = [max(p["area"], 1.0) / _RATES[p["method"]] for p in mine]
        if kind == "clearance":
            total = teams.get(op, 1.0) * _WORKING_DAYS * _UTILISATION
            scale = total / sum(need)
        else:
            scale = 1.0  # survey: at the method's own rate (ASSUMPTION)
        for p, n in zip(mine, need, strict=True):
            p["days"] = max(n * scale, 1.0)


def _devices(rng, releases, evidence, activities) -> gpd.GeoDataFrame:
    """One device per item a release records destroyed."""
    subs = evidence[evidence["item"] == "submunition"]
    first_activity = activities.drop_duplicates("release_id").set_index("release_id")["activity_id"]
    rows = []
    for r in releases.itertuples(index=False):
        day = pd.Timestamp(r.date)
        mine = subs[(subs["hazard_id"] == r.hazard_id) & (pd.to_datetime(subs["found"]) == day)]
        for item, n in (("submunition", r.submunitions), ("ap_mine", r.ap_mines),
                        ("uxo", r.other_uxo)):  # fmt: skip
            for k in range(int(n)):
                if item == "submunition" and k < len(mine):
                    ev = mine.iloc[k]
                    point, depth, model = ev.geometry, ev["depth_cm"], ev["ordnance"]
                else:
                    point = _point_in(rng, r.geometry)
                    depth = float(np.round(rng.uniform(0, 56)))
                    model = str(rng.choice(_AP_MODELS if item == "ap_mine" else _UXO_MODELS))
                    model = "unknown" if item == "submunition" else model
                rows.append(
                    {
                        "item": item,
                        "model": model,
                        "condition": str(rng.choice(["intact", "damaged"], p=[0.7, 0.3])),
                        "depth_cm": depth,
                        "date": day,
                        "release_id": r.release_id,
                        "activity_id": first_activity.get(r.release_id),
                        "hazard_id": r.hazard_id,
                        "synthetic": True,
                        "geometry": point,
                    }
                )
    frame = pd.DataFrame(rows)
    frame.insert(0, "device_id", [f"DEMO-DV-{i + 1:05d}" for i in range(len(frame))])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


def _point_in(rng, geom):
    """Return a random point inside a lon/lat polygon (else its representative point)."""
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(200):
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if geom.contains(p):
            return shapely.Point(round(p.x, 10), round(p.y, 10))
    return geom.representative_point()
