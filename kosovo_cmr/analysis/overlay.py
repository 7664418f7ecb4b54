"""Hazards against boundaries: exact splits and the contamination table by unit.

A hazard that straddles a boundary is cut by it; each part is measured on the ellipsoid
(:func:`kosovo_cmr.crs.geodesic_area`), so the area of the hazard is shared out exactly,
and the parts always sum to the whole (within 0.01 m2). The **count** of a straddling
hazard goes to the unit holding its largest share, so counts still sum to the number of
hazards. A part that lies in no unit (outside the boundaries) is kept, with the unit
``None``, rather than dropped.

Why the cut is made in a gnomonic projection
    Polygon edges are measured as geodesics. Cutting in longitude/latitude puts the new
    vertices on the straight lon/lat line between two vertices, not on the geodesic, and
    the parts of a 1 km hazard then miss its area by several square metres. In a gnomonic
    projection every geodesic is (very nearly) a straight line, so the cut points fall on
    the geodesic edges and the parts add up to the whole; the projection is centred on
    the hazards and used for the cut only, never for a measure.

Boundaries are any polygon layer with a name column: by default the municipalities of
:func:`kosovo_cmr.boundaries.read_municipalities` and the regions derived from them
(:func:`kosovo_cmr.boundaries.regions_from_municipalities`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr.analysis.engine import check_engine, collect, map_spatial
from kosovo_cmr.crs import geodesic_area, gnomonic_crs, require_crs
from kosovo_cmr.errors import InputError

__all__ = [
    "REGION_ORDER",
    "hazards_open_on",
    "split_by_units",
    "assign_units",
    "contamination_by_unit",
    "units_for",
]

#: Order in which the report lists the KMAC regions (Table 1); other units follow sorted.
REGION_ORDER: tuple[str, ...] = ("South", "North", "Centre", "East", "West")

#: Columns of the table :func:`contamination_by_unit` returns, after the unit column.
TABLE_COLUMNS: tuple[str, ...] = (
    "cha_count",
    "cha_area_m2",
    "sha_count",
    "sha_area_m2",
    "total_count",
    "total_area_m2",
)


def hazards_open_on(hazards: gpd.GeoDataFrame, date=None) -> gpd.GeoDataFrame:
    """Select the hazards open on a date.

    A hazard is open on ``date`` when it was recorded on or before it and was not closed
    by then: ``recorded <= date`` and (``closed`` is null or ``closed > date``). A closed
    hazard (status ``released`` or ``removed``) without a closing date is never open.

    Parameters
    ----------
    hazards : GeoDataFrame
        The ``hazards`` layer.
    date : date-like, optional
        The day. Without it, the hazards whose status is ``active``.

    Returns
    -------
    GeoDataFrame
        The open hazards (a filtered copy, same index and CRS).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> h = gpd.GeoDataFrame({"hazard_id": ["A", "B"], "kind": ["CHA", "SHA"],
    ...     "status": ["active", "released"],
    ...     "recorded": pd.to_datetime(["2013-05-01", "2013-05-01"]),
    ...     "closed": pd.to_datetime([None, "2024-06-30"])},
    ...     geometry=[box(21, 42, 21.01, 42.01), box(21.1, 42, 21.11, 42.01)], crs=4326)
    >>> list(hazards_open_on(h, "2023-12-31")["hazard_id"])
    ['A', 'B']
    >>> list(hazards_open_on(h, "2024-12-31")["hazard_id"])
    ['A']
    """
    if date is None:
        return hazards[hazards["status"] == "active"].copy()
    day = pd.Timestamp(date)
    recorded = pd.to_datetime(hazards["recorded"])
    closed = pd.to_datetime(hazards["closed"]) if "closed" in hazards else pd.NaT
    status = hazards["status"] if "status" in hazards else pd.Series("active", hazards.index)
    still = closed.isna() & (status == "active") | (closed > day)
    return hazards[(recorded <= day) & still].copy()


def split_by_units(
    features: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    name_column: str,
    id_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Cut polygons by the units they lie in, measuring each part on the ellipsoid.

    Each feature is intersected with the units it touches, in turn; what one unit took
    is not offered to the next, so overlapping units never count an area twice, and what
    no unit holds is returned with the unit ``None``.

    Parameters
    ----------
    features : GeoDataFrame
        Polygons (hazards, releases) with a CRS.
    units : GeoDataFrame
        Polygons with a CRS and a name column (municipalities, regions, ...).
    name_column : str
        The column of ``units`` holding the unit name.
    id_column : str, optional
        A column of ``features`` to carry into the parts (default: none; the part keeps
        the feature's index label in ``feature``).

    Returns
    -------
    GeoDataFrame
        One row per non-empty part: ``feature`` (index label of the feature), the
        ``id_column`` if given, ``unit``, ``area_m2`` (geodesic), ``share`` (of the
        feature's area) and the part's geometry, in the features' CRS. A feature of zero
        area gives one row with ``area_m2`` 0 and the unit it touches, if any.

    Raises
    ------
    kosovo_cmr.errors.CRSError
        If either layer has no CRS.
    kosovo_cmr.errors.InputError
        If ``name_column`` is not a column of ``units``.
    """
    require_crs(features, name="features")
    require_crs(units, name="boundaries")
    if name_column not in units.columns:
        raise InputError(
            f"boundaries have no column {name_column!r}; columns: "
            f"{', '.join(map(str, units.columns.drop(units.geometry.name)))}"
        )
    feats_ll = features.geometry.to_crs(4326)
    units_ll = units.to_crs(4326)
    gnom = gnomonic_crs(np.asarray(feats_ll.values, dtype=object))
    feats_g = np.asarray(feats_ll.to_crs(gnom).values, dtype=object)
    units_g = np.asarray(units_ll.geometry.to_crs(gnom).values, dtype=object)
    names = units_ll[name_column].to_numpy()
    tree = shapely.STRtree(units_g)
    whole = geodesic_area(feats_ll)
    rows = []
    for i, (label, geom) in enumerate(zip(features.index, feats_g, strict=True)):
        ident = features[id_column].iloc[i] if id_column else None
        if geom is None or geom.is_empty or whole[i] == 0:
            hits = [] if geom is None or geom.is_empty else tree.query(geom, "intersects")
            unit = names[min(hits)] if len(hits) else None
            rows.append((label, ident, unit, 0.0, geom))
            continue
        remaining = geom
        for j in sorted(tree.query(geom, "intersects"), key=lambda k: str(names[k])):
            piece = shapely.intersection(remaining, units_g[j])
            piece = _polygonal(piece)
            if piece.is_empty:
                continue
            rows.append((label, ident, names[j], None, piece))
            remaining = _polygonal(shapely.difference(remaining, units_g[j]))
            if remaining.is_empty:
                break
        if not remaining.is_empty:
            rows.append((label, ident, None, None, remaining))
    frame = pd.DataFrame(rows, columns=["feature", "_id", "unit", "area_m2", "geometry"])
    frame["unit"] = pd.Series([r[2] for r in rows], index=frame.index, dtype=object)
    parts = gpd.GeoDataFrame(frame, geometry="geometry", crs=gnom)
    measured = geodesic_area(parts)
    parts["area_m2"] = np.where(parts["area_m2"].isna(), measured, 0.0).astype(float)
    totals = pd.Series(whole, index=features.index)
    denom = parts["feature"].map(totals).to_numpy(dtype=float)
    parts["share"] = np.divide(
        parts["area_m2"].to_numpy(), denom, out=np.zeros(len(parts)), where=denom > 0
    )
    parts = parts.to_crs(features.crs)
    if id_column:
        parts = parts.rename(columns={"_id": id_column})
        cols = ["feature", id_column, "unit", "area_m2", "share", "geometry"]
    else:
        cols = ["feature", "unit", "area_m2", "share", "geometry"]
    return parts[cols]


def _polygonal(geom):
    """Keep the polygonal part of a geometry (intersections may add lines and points)."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        return geom
    if kind == "GeometryCollection":
        polys = []
        for part in geom.geoms:
            part = _polygonal(part)
            polys.extend(getattr(part, "geoms", [part]) if not part.is_empty else [])
        return shapely.MultiPolygon(polys) if polys else shapely.MultiPolygon()
    return shapely.MultiPolygon()


def assign_units(parts: gpd.GeoDataFrame) -> pd.Series:
    """Return the unit holding the largest share of each feature.

    Ties go to the unit named first in sort order, so the choice is reproducible.

    Parameters
    ----------
    parts : GeoDataFrame
        The output of :func:`split_by_units`.

    Returns
    -------
    pandas.Series
        Unit name (or ``None``) indexed by the feature's index label.
    """
    if not len(parts):
        return pd.Series([], dtype=object)
    ordered = parts.assign(_name=parts["unit"].map(lambda u: "\uffff" if u is None else str(u)))
    ordered = ordered.sort_values(["feature", "area_m2", "_name"], ascending=[True, False, True])
    first = ordered.drop_duplicates("feature", keep="first")
    return pd.Series(first["unit"].to_numpy(), index=first["feature"].to_numpy(), dtype=object)


def _ordered_units(names) -> list:
    known = [u for u in REGION_ORDER if u in set(names)]
    rest = sorted({u for u in names if u not in REGION_ORDER and u is not None}, key=str)
    return known + rest


def contamination_by_unit(
    hazards: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    name_column: str,
    unit_label: str | None = None,
    engine: str = "local",
    npartitions: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Count and measure CHAs and SHAs per unit, in the shape of the report's Table 1.

    Every unit of ``units`` gets a row, even with no hazard; a row for the unit ``None``
    (area outside every unit) is added only when some area lies outside. A straddling
    hazard's area is split exactly; its count goes to the unit with its largest share.

    Parameters
    ----------
    hazards : GeoDataFrame
        The hazards to count (e.g. :func:`hazards_open_on`), with ``kind`` CHA, SHA or
        unclassified.
    units : GeoDataFrame
        Polygons with a name column.
    name_column : str
        The column of ``units`` holding the unit name.
    unit_label : str, optional
        The name of the unit column in the result (default ``name_column``).
    engine : {"local", "dask"}
        Where to run (:mod:`kosovo_cmr.analysis.engine`). The dask engine partitions the
        hazards in space (a Hilbert curve), splits each partition by all the units and
        adds the tables up: each hazard is counted and measured in exactly one
        partition, so the table is the local one. ``hazards`` may then also be a
        dask-geopandas frame.
    npartitions, scheduler, workers
        For the dask engine: see :func:`kosovo_cmr.analysis.engine.map_spatial`.

    Returns
    -------
    pandas.DataFrame
        Columns: the unit, ``cha_count``, ``cha_area_m2``, ``sha_count``,
        ``sha_area_m2``, ``total_count``, ``total_area_m2``, and, when some hazards are
        ``unclassified`` (issue 15), ``unclassified_count`` and
        ``unclassified_area_m2`` (in the totals too); regions in the report's order
        (South, North, Centre, East, West), other units sorted.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> units = gpd.GeoDataFrame({"name": ["W", "E"]},
    ...     geometry=[box(20.9, 42.0, 21.0, 42.1), box(21.0, 42.0, 21.1, 42.1)], crs=4326)
    >>> hz = gpd.GeoDataFrame({"kind": ["CHA"]},
    ...     geometry=[box(20.999, 42.05, 21.002, 42.051)], crs=4326)
    >>> t = contamination_by_unit(hz, units, name_column="name")
    >>> t[["name", "cha_count", "total_count"]].values.tolist()
    [['E', 1, 1], ['W', 0, 0]]
    >>> bool(abs(t["cha_area_m2"].sum() - geodesic_area(hz)[0]) < 0.01)
    True
    """
    if check_engine(engine) == "dask" and len(hazards):
        require_crs(hazards, name="hazards")
        tables = map_spatial(
            hazards,
            _by_unit_part,
            units,
            name_column,
            unit_label,
            npartitions=npartitions,
            scheduler=scheduler,
            workers=workers,
        )
        return _add_up(tables, unit_label or name_column)
    return _by_unit_part(collect(hazards, name="hazards"), units, name_column, unit_label)


def _by_unit_part(hazards, units, name_column: str, unit_label: str | None) -> pd.DataFrame:
    """Count and measure the hazards by unit, here (the dask engine's task on a partition)."""
    label = unit_label or name_column
    kinds = hazards["kind"] if len(hazards) else pd.Series([], dtype=object)
    bad = sorted(set(kinds.dropna()) - {"CHA", "SHA", "unclassified"})
    if bad:
        raise InputError(
            f"hazards have kind(s) {', '.join(bad)}; expected CHA, SHA or unclassified"
        )
    # issue 15: hazards never classified (before HALO's 2022 survey) get columns of their
    # own, only when there are some; the total counts them
    classes = ("CHA", "SHA", "unclassified") if (kinds == "unclassified").any() else ("CHA", "SHA")
    parts = split_by_units(hazards, units, name_column=name_column)
    owner = assign_units(parts)
    parts = parts.assign(kind=parts["feature"].map(kinds))
    names = list(units[name_column])
    if parts["unit"].isna().any() and (parts.loc[parts["unit"].isna(), "area_m2"] > 0).any():
        names.append(None)
    rows = []
    for unit in _ordered_units(names) + ([None] if None in names else []):
        mine = parts.loc[parts["unit"].map(lambda u, unit=unit: u == unit).astype(bool)]
        counted = owner.loc[owner.map(lambda u, unit=unit: u == unit).astype(bool)].index
        row = {label: unit}
        for kind in classes:
            row[f"{kind.lower()}_count"] = int((kinds.loc[counted] == kind).sum())
            row[f"{kind.lower()}_area_m2"] = float(mine.loc[mine["kind"] == kind, "area_m2"].sum())
        row["total_count"] = sum(row[f"{k.lower()}_count"] for k in classes)
        row["total_area_m2"] = sum(row[f"{k.lower()}_area_m2"] for k in classes)
        rows.append(row)
    extra = ["unclassified_count", "unclassified_area_m2"] if len(classes) == 3 else []
    table = pd.DataFrame(rows, columns=[label, *TABLE_COLUMNS, *extra])
    if None in names:  # keep None (outside every unit) as None, not NaN
        table[label] = pd.Series([r[label] for r in rows], index=table.index, dtype=object)
    return table


def _add_up(tables: list[pd.DataFrame], label: str) -> pd.DataFrame:
    """Add up the tables of the dask engine's partitions, in the local engine's order."""
    first = max(tables, key=lambda t: len(t.columns))  # with the unclassified ones, if any
    tables = [t.reindex(columns=first.columns, fill_value=0) for t in tables]
    stacked = pd.concat(tables, ignore_index=True)
    key = stacked[label].map(lambda u: "\uffff" if u is None else u)
    summed = stacked.drop(columns=[label]).groupby(key.to_numpy(), sort=False).sum()
    units_order = [u for u in first[label]]
    extra = [u for u in dict.fromkeys(stacked[label]) if u not in units_order]
    rows = []
    for unit in units_order + extra:
        k = "\uffff" if unit is None else unit
        rows.append({label: unit, **summed.loc[k].to_dict()})
    out = pd.DataFrame(rows, columns=first.columns)
    for col in first.columns:
        if col != label:
            out[col] = out[col].astype(first[col].dtype)
    if None in extra:  # the outside row goes last, as the local engine puts it
        out = pd.concat([out[out[label].notna()], out[out[label].isna()]], ignore_index=True)
    return out


def units_for(by: str, municipalities: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str]:
    """Return the units for ``by`` (``region`` or ``municipality``) and their name column.

    Parameters
    ----------
    by : {"region", "municipality"}
    municipalities : GeoDataFrame
        The ``boundaries`` layer.

    Returns
    -------
    (GeoDataFrame, str)
        The unit polygons and the name column.
    """
    from kosovo_cmr.boundaries import regions_from_municipalities

    if by == "municipality":
        return municipalities, "municipality"
    if by == "region":
        return regions_from_municipalities(municipalities), "region"
    raise InputError(f"by must be 'region' or 'municipality', got {by!r}")
