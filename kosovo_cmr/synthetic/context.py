"""SYNTHETIC context layers and incidents for the priority model and the tolerable risk.

The priority model (:mod:`kosovo_cmr.analysis.priority`) scores hazards from context
layers: settlements and population, roads, agricultural land, water, protected areas and
a poverty index. The tolerable-risk table (:mod:`kosovo_cmr.analysis.tolerable_risk`)
needs the incidents. None of them is at hand here, so the demo makes them up from the
seed (:data:`kosovo_cmr.settings.demo_seed`), inside the real municipal boundaries and
around the demo hazards:

- :func:`synthetic_context` writes ``context-synthetic.gpkg`` (layers ``settlements``,
  ``roads``, ``farmland``, ``water``, ``protected_areas``, ``poverty``) and
  ``population-synthetic.tif`` (people per 500 m cell, tag ``SYNTHETIC=yes``);
- :func:`synthetic_incidents` returns an ``incidents`` layer: accidents and EOD
  call-outs, with casualties by sex and age, near the hazards and elsewhere.

Every feature has ``synthetic = true`` and an id starting ``DEMO-``. The shapes are
plausible, not real: the towns sit at each municipality's representative point, rivers
are random meanders, protected areas random ovals.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import affinity
from shapely.geometry import LineString, Point

from kosovo_cmr import settings
from kosovo_cmr.outputs.rasters import GTIFF_PROFILE

__all__ = ["CONTEXT_LAYERS", "synthetic_context", "synthetic_incidents", "population_raster"]

#: The vector layers :func:`synthetic_context` writes, in its GeoPackage.
CONTEXT_LAYERS = ("settlements", "roads", "farmland", "water", "protected_areas", "poverty")

#: Cell size of the synthetic population raster, metres (national grid).
POPULATION_CELL_M = 500.0


def _frame(rows: dict, geoms, prefix: str) -> gpd.GeoDataFrame:
    n = len(geoms)
    out = gpd.GeoDataFrame(
        {"id": [f"DEMO-{prefix}-{i + 1:04d}" for i in range(n)], **rows},
        geometry=list(geoms),
        crs=settings.metric_crs,
    )
    out["synthetic"] = True
    return out


def _settlements(municipalities: gpd.GeoDataFrame, hazards, rng) -> gpd.GeoDataFrame:
    """Place towns and villages: one town a municipality, villages in it and near hazards.

    The town sits at the municipality's representative point; ten villages lie anywhere in
    it, and one more near three hazards in five (strikes hit near villages and roads).
    """
    names, kinds, people, geoms = [], [], [], []
    for _, m in municipalities.iterrows():
        town = m.geometry.representative_point()
        names.append(f"{m['municipality']} (synthetic town)")
        kinds.append("town")
        people.append(int(rng.lognormal(math.log(25_000), 0.7)))
        geoms.append(town)
        minx, miny, maxx, maxy = m.geometry.bounds
        placed = 0
        while placed < 10:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if m.geometry.contains(p):
                names.append(f"{m['municipality']} village {placed + 1} (synthetic)")
                kinds.append("village")
                people.append(int(rng.lognormal(math.log(900), 0.6)))
                geoms.append(p)
                placed += 1
    for i, h in enumerate(hazards.geometry):
        if rng.random() < 0.6:
            c = h.representative_point()
            angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(300, 2500)
            names.append(f"village near hazard {i + 1} (synthetic)")
            kinds.append("village")
            people.append(int(rng.lognormal(math.log(900), 0.6)))
            geoms.append(Point(c.x + dist * math.cos(angle), c.y + dist * math.sin(angle)))
    rows = {"name": names, "kind": kinds, "population": people}
    return _frame(rows, geoms, "SET")


def _roads(settlements: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each town to its two nearest towns, each village to its nearest other settlement."""
    xy = np.column_stack([settlements.geometry.x, settlements.geometry.y])
    towns = np.flatnonzero(settlements["kind"].to_numpy() == "town")
    pairs = set()
    for i in range(len(xy)):
        d = np.hypot(*(xy - xy[i]).T)
        d[i] = np.inf
        if settlements["kind"].iat[i] == "town":
            for j in towns[np.argsort(d[towns])[:2]]:
                pairs.add((min(i, j), max(i, j), "main"))
        else:
            j = int(np.argmin(d))
            pairs.add((min(i, j), max(i, j), "local"))
    pairs = sorted(pairs)
    geoms = [LineString([xy[i], xy[j]]) for i, j, _ in pairs]
    return _frame({"class": [c for _, _, c in pairs]}, geoms, "RD")


def _oval(centre, rng, *, size: tuple[float, float]):
    oval = affinity.scale(centre.buffer(1.0), rng.uniform(*size), rng.uniform(*size))
    oval = affinity.rotate(oval, rng.uniform(0, 180))
    return affinity.translate(oval, rng.normal(0, 300), rng.normal(0, 300))


def _farmland(settlements, hazards, kosovo, rng) -> gpd.GeoDataFrame:
    """Fields as ovals around two villages in three and over half the hazards."""
    villages = settlements[settlements["kind"] == "village"]
    geoms = [_oval(p, rng, size=(400, 1400)) for p in villages.geometry if rng.random() < 2 / 3]
    geoms += [
        _oval(h.representative_point(), rng, size=(300, 900))
        for h in hazards.geometry
        if rng.random() < 0.5
    ]
    geoms = [g.intersection(kosovo) for g in geoms]
    geoms = [g for g in geoms if not g.is_empty]
    return _frame({"landuse": ["agricultural"] * len(geoms)}, geoms, "FARM")


def _water(kosovo, rng) -> gpd.GeoDataFrame:
    """Rivers and streams as random meanders across Kosovo, clipped to it."""
    minx, miny, maxx, maxy = kosovo.bounds
    geoms = []
    for _ in range(40):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        heading = rng.uniform(0, 2 * math.pi)
        points = [(x, y)]
        for _ in range(40):
            heading += rng.normal(0, 0.35)
            x, y = x + 1000 * math.cos(heading), y + 1000 * math.sin(heading)
            points.append((x, y))
        river = LineString(points).intersection(kosovo)
        if not river.is_empty:
            geoms.append(river)
    return _frame({"waterway": ["river"] * len(geoms)}, geoms, "WAT")


def _protected(hazards, kosovo, rng) -> gpd.GeoDataFrame:
    """Five protected areas as ovals inside Kosovo, two of them near a hazard."""
    minx, miny, maxx, maxy = kosovo.bounds
    geoms = []
    while len(geoms) < 5:
        if len(geoms) < 2 and len(hazards):
            h = hazards.geometry.iloc[int(rng.integers(len(hazards)))].representative_point()
            c = Point(h.x + rng.normal(0, 3000), h.y + rng.normal(0, 3000))
        else:
            c = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if not kosovo.contains(c):
            continue
        oval = affinity.scale(c.buffer(1.0), rng.uniform(3000, 9000), rng.uniform(2000, 6000))
        geoms.append(affinity.rotate(oval, rng.uniform(0, 180)).intersection(kosovo))
    return _frame({"designation": ["protected area (synthetic)"] * 5}, geoms, "PA")


def _poverty(municipalities: gpd.GeoDataFrame, rng) -> gpd.GeoDataFrame:
    rate = np.round(rng.uniform(0.12, 0.45, len(municipalities)), 3)
    rows = {"municipality": municipalities["municipality"].to_numpy(), "poverty_rate": rate}
    return _frame(rows, municipalities.geometry.to_numpy(), "POV")


def population_raster(settlements: gpd.GeoDataFrame, path: str | Path, *, bounds) -> Path:
    """Write people per cell: each settlement's population spread over a Gaussian bell.

    Parameters
    ----------
    settlements : GeoDataFrame
        Points in the metric CRS with ``population`` and ``kind`` (towns spread wider).
    path : path
        The GeoTIFF to write (float32, :data:`POPULATION_CELL_M` cells, EPSG:9141,
        tagged ``SYNTHETIC=yes``).
    bounds : tuple
        (minx, miny, maxx, maxy) to cover, metric CRS.

    Returns
    -------
    pathlib.Path
    """
    import rasterio
    from rasterio.transform import from_origin

    cell = POPULATION_CELL_M
    minx, miny = math.floor(bounds[0] / cell) * cell, math.floor(bounds[1] / cell) * cell
    maxx, maxy = math.ceil(bounds[2] / cell) * cell, math.ceil(bounds[3] / cell) * cell
    width, height = int((maxx - minx) / cell), int((maxy - miny) / cell)
    xs = minx + (np.arange(width) + 0.5) * cell
    ys = maxy - (np.arange(height) + 0.5) * cell
    grid = np.zeros((height, width), dtype=np.float64)
    for p, n, kind in zip(
        settlements.geometry, settlements["population"], settlements["kind"], strict=True
    ):
        sigma = 2000.0 if kind == "town" else 600.0
        gx = np.exp(-0.5 * ((xs - p.x) / sigma) ** 2)
        gy = np.exp(-0.5 * ((ys - p.y) / sigma) ** 2)
        bell = np.outer(gy, gx)
        if bell.sum() > 0:
            grid += n * bell / bell.sum()
    transform = from_origin(minx, maxy, cell, cell)
    profile = dict(
        GTIFF_PROFILE,
        count=1,
        width=width,
        height=height,
        transform=transform,
        dtype="float32",
        crs=settings.metric_crs,
        nodata=-9999.0,
    )
    path = Path(path)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid.astype("float32"), 1)
        dst.update_tags(
            SYNTHETIC="yes", UNITS="people per cell (synthetic)", SEED=str(settings.demo_seed)
        )
        dst.set_band_description(1, "SYNTHETIC population")
    return path


def synthetic_context(
    out_dir: str | Path,
    *,
    boundaries: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame | None = None,
    seed: int | None = None,
) -> dict[str, tuple[Path, str | None]]:
    """Write the SYNTHETIC context layers of the priority model.

    Parameters
    ----------
    out_dir : path
        Folder to write ``context-synthetic.gpkg`` and ``population-synthetic.tif`` to.
    boundaries : GeoDataFrame
        The municipalities (``municipality``, any CRS): settlements and poverty follow
        them, everything is clipped to their union.
    hazards : GeoDataFrame, optional
        The demo hazards: some villages, fields and two protected areas are placed near
        them, so that the demo exercises every criterion.
    seed : int, optional
        Random seed (default :data:`kosovo_cmr.settings.demo_seed`): same seed, same layers.

    Returns
    -------
    dict
        Layer name -> (file, layer in the file or None for the raster): the six
        :data:`CONTEXT_LAYERS` and ``population``, as ``kcmr prioritise --layer`` takes
        them.
    """
    rng = np.random.default_rng(settings.demo_seed if seed is None else seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    municipalities = boundaries.to_crs(settings.metric_crs).reset_index(drop=True)
    near = (
        gpd.GeoDataFrame(geometry=[], crs=settings.metric_crs)
        if hazards is None
        else hazards.to_crs(settings.metric_crs).reset_index(drop=True)
    )
    kosovo = municipalities.union_all()
    settlements = _settlements(municipalities, near, rng)
    settlements = settlements[settlements.within(kosovo)].reset_index(drop=True)
    layers = {
        "settlements": settlements,
        "roads": _roads(settlements),
        "farmland": _farmland(settlements, near, kosovo, rng),
        "water": _water(kosovo, rng),
        "protected_areas": _protected(near, kosovo, rng),
        "poverty": _poverty(municipalities, rng),
    }
    gpkg = out / "context-synthetic.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    for name in CONTEXT_LAYERS:
        layers[name].to_file(gpkg, layer=name, driver="GPKG")
    tif = population_raster(settlements, out / "population-synthetic.tif", bounds=kosovo.bounds)
    return {**{name: (gpkg, name) for name in CONTEXT_LAYERS}, "population": (tif, None)}


def _casualties(rng, kind: str) -> dict:
    if kind != "accident":
        return dict(killed=0, injured=0, men=0, women=0, boys=0, girls=0, sex_age_unknown=0)
    killed, injured = int(rng.random() < 0.3), int(rng.integers(0, 3))
    injured = max(injured, 1 - killed)
    people = killed + injured
    split = rng.multinomial(people, [0.45, 0.1, 0.3, 0.05, 0.1])  # men women boys girls ?
    return dict(
        killed=killed,
        injured=injured,
        men=int(split[0]),
        women=int(split[1]),
        boys=int(split[2]),
        girls=int(split[3]),
        sex_age_unknown=int(split[4]),
    )


def synthetic_incidents(
    hazards: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame,
    *,
    n: int = 48,
    seed: int | None = None,
) -> gpd.GeoDataFrame:
    """Make a SYNTHETIC ``incidents`` layer: accidents and EOD call-outs, 2000-2024.

    Two thirds lie within 400 m of a hazard (submunitions, the hazard's ordnance), the
    rest anywhere in Kosovo (other explosive remnants of war and a few landmines); three
    in ten are accidents, with casualties by sex and age (some not known).

    Parameters
    ----------
    hazards : GeoDataFrame
        The demo hazards (any CRS).
    boundaries : GeoDataFrame
        The municipalities (``municipality``).
    n : int, optional
        How many incidents.
    seed : int, optional
        Random seed (default :data:`kosovo_cmr.settings.demo_seed` + 18).

    Returns
    -------
    GeoDataFrame
        The ``incidents`` layer (EPSG:4326), ids ``DEMO-INC-0001``..., ``synthetic`` true.
    """
    rng = np.random.default_rng((settings.demo_seed if seed is None else seed) + 18)
    haz = hazards.to_crs(settings.metric_crs).reset_index(drop=True)
    muni = boundaries.to_crs(settings.metric_crs).reset_index(drop=True)
    kosovo = muni.union_all()
    minx, miny, maxx, maxy = kosovo.bounds
    rows, geoms = [], []
    while len(rows) < n:
        near = rng.random() < 2 / 3 and len(haz)
        if near:
            h = haz.iloc[int(rng.integers(len(haz)))]
            p = h.geometry.representative_point()
            p = Point(p.x + rng.normal(0, 250), p.y + rng.normal(0, 250))
            item, ordnance = "submunition", _ordnance(h.get("ordnance"), rng)
        else:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            item = "landmine" if rng.random() < 0.15 else "other_erw"
            ordnance = None
        if not kosovo.contains(p):
            continue
        kind = "accident" if rng.random() < 0.3 else "eod_callout"
        year = int(rng.choice(np.arange(2000, 2025), p=_year_weights(kind)))
        date = pd.Timestamp(year, int(rng.integers(3, 11)), int(rng.integers(1, 29)))
        rows.append(
            dict(date=date, kind=kind, item=item, ordnance=ordnance, **_casualties(rng, kind))
        )
        geoms.append(p)
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=settings.metric_crs)
    out = out.sort_values("date", kind="stable").reset_index(drop=True)
    out.insert(0, "incident_id", [f"DEMO-INC-{i + 1:04d}" for i in range(len(out))])
    joined = gpd.sjoin(out, muni[["municipality", "geometry"]], how="left", predicate="within")
    out["municipality"] = joined.groupby(level=0)["municipality"].first()
    out["description"] = "SYNTHETIC incident (demo data, not a real event)"
    out["synthetic"] = True
    return out.to_crs(settings.storage_crs)


def _ordnance(value, rng) -> str:
    if value in ("BLU-97", "BL755"):
        return value
    return "BLU-97" if rng.random() < 0.7 else "BL755"


def _year_weights(kind: str) -> np.ndarray:
    """Accidents grow rarer with the years; call-outs go on (the public still finds items)."""
    years = np.arange(2000, 2025)
    w = np.exp(-(years - 2000) / 6.0) if kind == "accident" else np.ones(len(years))
    return w / w.sum()
