"""The synthetic demo generator: plausible layers that reproduce the published figures.

No hazard polygons, evidence points or strike locations of Kosovo are public, so the demo
runs on layers generated here from a fixed seed (:data:`kosovo_cmr.settings.demo_seed`).
Measured with the package's own geodesic areas they reproduce the figures of the Mine
Action Review 2025 Kosovo report that ``layers/published/`` transcribes, read by
:func:`kosovo_cmr.synthetic.targets.read_targets`:

* Table 1 — the 35 hazards open at the end of 2024, per KMAC region and kind, to the m2;
* Tables 5-8 — the 2024 releases by reporting district and operator, with the items
  destroyed; Table 9 — clearance per year 2020-2024; 89 submunitions destroyed in 2024 and
  196 in 2023;
* the 151,914 m2 added by survey in 2024 and an estimate of 8.78 km2 at the start of 2024,
  whose gap to the releases the report cannot explain (NTS of areas that were never in the
  database, hazards closed without a release record).

What the report does not print (where areas lie, how many areas a district's release
covers, the exact m2 behind a figure printed in km2) is the generator's own choice,
labelled as such in :mod:`kosovo_cmr.synthetic.targets` and below.

Every feature has ``synthetic = True`` and an id starting ``DEMO-``. Polygons are smooth
random shapes inside the right municipality, scaled until their geodesic area equals the
target (after the coordinates are rounded to 1e-10 degrees, as they are written;
:mod:`kosovo_cmr.synthetic._placing`). Evidence points cluster in strike footprints
(CBU-87 / BLU-97 and RBL755 / BL755 ovals); every submunition destroyed in a clearance
record is an evidence point inside it (:mod:`kosovo_cmr.synthetic._features`).

Regenerate the shipped layers with ``python -m kosovo_cmr.synthetic layers/demo``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from kosovo_cmr import settings
from kosovo_cmr.schema import check, conform
from kosovo_cmr.synthetic._features import (
    Builder,
    populate_cha,
    populate_cleared,
    random_date,
    split_count,
    split_total,
)
from kosovo_cmr.synthetic._placing import PRECISION, exact, split_exact
from kosovo_cmr.synthetic.records import add_records
from kosovo_cmr.synthetic.targets import (
    HAZARD_MUNICIPALITIES,
    OPERATOR_BY_REGION,
    Targets,
    read_targets,
)

__all__ = ["generate", "write_layers", "main"]

#: Generator's choice: where the two CHAs recorded by NPA's 2024 survey lie.
RECORDED_2024_MUNICIPALITIES = ("Leposaviq", "Zubin Potok")

#: Generator's choice: where the hazards closed in 2024 without a release record lay.
REMOVED_2024_MUNICIPALITIES = ("Klinë", "Suharekë", "Podujevë")


def generate(
    boundaries: gpd.GeoDataFrame, *, seed: int | None = None, published=None
) -> dict[str, gpd.GeoDataFrame]:
    """Generate the synthetic demo layers.

    Parameters
    ----------
    boundaries : GeoDataFrame
        The ``boundaries`` layer (see :func:`kosovo_cmr.boundaries.read_municipalities`).
    seed : int, optional
        Random seed; default :data:`kosovo_cmr.settings.demo_seed`. The same seed and
        boundaries give the same layers.
    published : dict or str, optional
        The published figures to reproduce (see
        :func:`kosovo_cmr.synthetic.targets.read_targets`; default the shipped file).

    Returns
    -------
    dict of str to GeoDataFrame
        ``hazards``, ``evidence``, ``strikes`` and ``releases``, in EPSG:4326, and
        (issue 15) their records ``activities`` and ``devices``
        (:mod:`kosovo_cmr.synthetic.records`); every feature ``synthetic = True`` with
        an id starting ``DEMO-``.
    """
    targets = read_targets(published)
    rng = np.random.default_rng(settings.demo_seed if seed is None else seed)
    metric = boundaries.to_crs(settings.metric_crs)
    municipalities_m = dict(zip(metric["municipality"], metric.geometry, strict=True))
    region_of = dict(zip(boundaries["municipality"], boundaries["region"], strict=True))
    b = Builder(rng, municipalities_m, region_of)

    _active_hazards(b, targets)
    _releases_2024(b, targets)
    _removed_2024(b, targets)
    _earlier_years(b, targets)
    return add_records(_frames(b), seed=seed, boundaries=boundaries)  # issue 15: records


def _active_hazards(b: Builder, t: Targets) -> None:
    """Place the 35 hazards open at the end of 2024 (Table 1), two with a TS cut off."""
    rng = b.rng
    # Table 6's reductions, each cut off the first CHA of its municipality's region
    ts_cuts = {b.region_of[r[3]]: r for r in t.releases_2024 if r[0] == "reduction_ts"}
    for region, (n_cha, cha_m2, n_sha, sha_m2) in t.table1.items():
        places = HAZARD_MUNICIPALITIES[region]
        for kind, n, total in (("CHA", n_cha, cha_m2), ("SHA", n_sha, sha_m2)):
            if n == 0:
                continue
            if region == "North" and kind == "CHA":
                # two CHAs recorded by NPA's 2024 survey: the area "added by survey"
                added = split_total(rng, t.added_2024_m2, 2, spread=8)
                areas = added + split_total(rng, total - t.added_2024_m2, n - 2)
            else:
                areas = split_total(rng, total, n)
            for i, area in enumerate(areas):
                municipality = places[int(rng.integers(len(places)))]
                recorded_2024 = region == "North" and kind == "CHA" and i < 2
                if recorded_2024:
                    municipality = RECORDED_2024_MUNICIPALITIES[i]
                ts = ts_cuts.get(region) if kind == "CHA" and i == 0 else None
                if ts is not None:
                    municipality = ts[3]
                if region == "North":
                    recorded = random_date(rng, 2024 if recorded_2024 else 2015)
                else:
                    recorded = random_date(rng, 2022 if kind == "CHA" else 2013)
                operator = OPERATOR_BY_REGION[region]
                _active_hazard(b, kind, area, municipality, operator, recorded=recorded, ts=ts)


def _active_hazard(b: Builder, kind, area, municipality, operator, *, recorded, ts) -> None:
    """Place one open hazard; a CHA gets strikes and evidence, ``ts`` a TS release cut off."""
    rng = b.rng
    ts_m2 = ts[5] if ts is not None else 0
    poly_m, center = b.placer.shape(municipality, area + ts_m2)
    ts_geom = None
    if ts is not None:
        geom, ts_geom = split_exact(poly_m, center, area + ts_m2, ts_m2, float(rng.uniform(0, 360)))
    else:
        geom = exact(poly_m, center, area)
    hid = b.hazard(
        geom,
        kind=kind,
        status="active",
        municipality=municipality,
        operator=operator,
        recorded=recorded,
    )
    if kind == "CHA":
        b.hazards[-1]["ordnance"] = populate_cha(b, geom, hid, recorded)
    if ts_geom is not None:
        b.release(
            ts_geom,
            year=2024,
            hazard_id=hid,
            method="reduction_ts",
            operator=ts[2],
            date=random_date(rng, 2024),
            district=ts[1],
        )


def _releases_2024(b: Builder, t: Targets) -> None:
    """Place the NTS cancellations (outside any recorded hazard) and the 19 clearances."""
    rng = b.rng
    for method, district, operator, municipality, n, total, subs, ap, uxo, found in t.releases_2024:
        if method == "reduction_ts":
            continue  # cut off active hazards in _active_hazards
        if total == 0:
            b.release(
                shapely.from_wkt("MULTIPOLYGON EMPTY"),
                year=2024,
                hazard_id=None,
                method=method,
                operator=operator,
                date=random_date(rng, 2024),
                district=district,
            )
            continue
        areas = split_total(rng, total, n)
        sub_split = split_count(rng, subs, n, at_least_one=True)
        ap_split = split_count(rng, ap, n, at_least_one=False)
        uxo_split = split_count(rng, uxo, n, at_least_one=False)
        for area, s, a, u in zip(areas, sub_split, ap_split, uxo_split, strict=True):
            poly_m, center = b.placer.shape(municipality, area)
            geom = exact(poly_m, center, area)
            date = random_date(rng, 2024)
            if method == "cancellation_nts":
                b.release(
                    geom,
                    year=2024,
                    hazard_id=None,
                    method=method,
                    operator=operator,
                    date=date,
                    district=district,
                )
                continue
            kind_recorded = random_date(rng, 2015 if operator == "NPA" else 2022)
            hid = b.hazard(
                geom,
                kind="CHA",
                status="released",
                municipality=municipality,
                operator=operator,
                recorded=kind_recorded,
                closed=date,
            )
            b.hazards[-1]["ordnance"] = populate_cleared(
                b, geom, hid, submunitions=s, cmr_found=found, date=date, surveyed=kind_recorded
            )
            b.release(
                geom,
                year=2024,
                hazard_id=hid,
                method=method,
                operator=operator,
                date=date,
                district=district,
                submunitions=s,
                ap_mines=a,
                other_uxo=u,
                cmr_found=found,
            )


def _removed_2024(b: Builder, t: Targets) -> None:
    """Place hazards closed in 2024 with no release record (rest of the 8.78 km2)."""
    rng = b.rng
    cleared_2024 = sum(r[5] for r in t.releases_2024 if r[0] == "clearance")
    ts_2024 = sum(r[5] for r in t.releases_2024 if r[0] == "reduction_ts")
    open_at_start = sum(v[1] + v[3] for v in t.table1.values()) - t.added_2024_m2
    removed = t.start_2024_m2 - open_at_start - cleared_2024 - ts_2024
    places = REMOVED_2024_MUNICIPALITIES
    for area, municipality in zip(split_total(rng, removed, len(places)), places, strict=True):
        poly_m, center = b.placer.shape(municipality, area)
        geom = exact(poly_m, center, area)
        b.hazard(
            geom,
            kind="SHA",
            status="removed",
            municipality=municipality,
            operator=OPERATOR_BY_REGION[b.region_of[municipality]],
            recorded=random_date(rng, 2013),
            closed=random_date(rng, 2024),
        )


def _earlier_years(b: Builder, t: Targets) -> None:
    """Place clearance 2020-2023 and technical survey 2023, each with its closed hazard."""
    rng = b.rng
    # generator's choice: the first four hazard municipalities of the southern regions
    pool = [
        m
        for region in ("West", "South", "Centre", "East")
        for m in HAZARD_MUNICIPALITIES[region][:4]
    ]
    for year, (n, total, subs) in t.clearance_by_year.items():
        sub_split = split_count(rng, subs, n, at_least_one=True)
        for area, s in zip(split_total(rng, total, n), sub_split, strict=True):
            municipality = pool[int(rng.integers(len(pool)))]
            operator = str(rng.choice(["HALO", "KSF", "NPA"], p=[0.6, 0.2, 0.2]))
            poly_m, center = b.placer.shape(municipality, area)
            geom = exact(poly_m, center, area)
            date = random_date(rng, year)
            recorded = random_date(rng, 2013)
            hid = b.hazard(
                geom,
                kind="CHA",
                status="released",
                municipality=municipality,
                operator=operator,
                recorded=recorded,
                closed=date,
            )
            b.hazards[-1]["ordnance"] = populate_cleared(
                b, geom, hid, submunitions=s, cmr_found=True, date=date, surveyed=recorded
            )
            b.release(
                geom,
                year=year,
                hazard_id=hid,
                method="clearance",
                operator=operator,
                date=date,
                district=municipality,
                submunitions=s,
                cmr_found=True,
                other_uxo=int(rng.integers(0, 30)),
            )
    n, total = t.ts_2023
    for area in split_total(rng, total, n):
        municipality = pool[int(rng.integers(len(pool)))]
        poly_m, center = b.placer.shape(municipality, area)
        geom = exact(poly_m, center, area)
        date = random_date(rng, 2023)
        hid = b.hazard(
            geom,
            kind="SHA",
            status="released",
            municipality=municipality,
            operator="HALO",
            recorded=random_date(rng, 2013),
            closed=date,
        )
        b.release(
            geom,
            year=2023,
            hazard_id=hid,
            method="reduction_ts",
            operator="HALO",
            date=date,
            district=municipality,
        )


def _frames(b: Builder) -> dict[str, gpd.GeoDataFrame]:
    out = {}
    for name, rows in (
        ("hazards", b.hazards),
        ("evidence", b.evidence),
        ("strikes", b.strikes),
        ("releases", b.releases),
    ):
        frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs="EPSG:4326")
        out[name] = check(conform(frame, name), name)
    return out


def write_layers(
    out_dir: str | os.PathLike,
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    seed: int | None = None,
) -> dict[str, Path]:
    """Generate the demo layers and write them as GeoJSON files into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Folder for ``hazards.geojson``, ``evidence.geojson``, ``strikes.geojson`` and
        ``releases.geojson`` (existing files are replaced).
    boundaries : GeoDataFrame, optional
        Default: :func:`kosovo_cmr.boundaries.read_municipalities` on the shared data.
    seed : int, optional
        Default :data:`kosovo_cmr.settings.demo_seed`.

    Returns
    -------
    dict of str to pathlib.Path
    """
    from kosovo_cmr.boundaries import read_municipalities

    if boundaries is None:
        boundaries = read_municipalities()
    layers = generate(boundaries, seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, gdf in layers.items():
        frame = gdf.copy()
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col].dtype):
                frame[col] = (
                    frame[col]
                    .dt.strftime("%Y-%m-%d")
                    .astype(object)
                    .where(frame[col].notna(), None)
                )
        path = out / f"{name}.geojson"
        if path.exists():
            path.unlink()
        pyogrio.write_dataframe(
            frame,
            path,
            driver="GeoJSON",
            layer_options={"COORDINATE_PRECISION": PRECISION, "WRITE_NAME": "NO"},
        )
        paths[name] = path
    return paths


def main(argv=None) -> None:
    """Command-line entry: ``python -m kosovo_cmr.synthetic OUT_DIR [--seed N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m kosovo_cmr.synthetic", description="Write the SYNTHETIC demo layers."
    )
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--boundaries", default=None)
    args = parser.parse_args(argv)
    from kosovo_cmr.boundaries import read_municipalities

    paths = write_layers(
        args.out_dir, boundaries=read_municipalities(args.boundaries), seed=args.seed
    )
    for name, path in paths.items():
        print(f"{name}: {path}")
