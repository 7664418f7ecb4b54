"""Check a layer against its schema, and make the lossless conversions it needs first.

:func:`validate` reports *every* violation (:class:`Violation`), :func:`check` raises one
:class:`~kosovo_cmr.errors.SchemaError` carrying them all, and :func:`conform` makes the
lossless conversions (text dates to dates, Polygon to MultiPolygon, ...) that a layer read
from a file usually needs first. Columns that a schema does not name are kept. The
schemas are :mod:`kosovo_cmr.schema.definitions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr.errors import SchemaError
from kosovo_cmr.schema.definitions import Column, LayerSchema, get_schema

__all__ = ["Violation", "validate", "check", "conform"]


@dataclass(frozen=True)
class Violation:
    """One way in which a layer breaks its schema.

    ``rows`` holds the index labels of the offending features (at most 20 are kept;
    ``count`` says how many there were).
    """

    layer: str
    column: str | None
    code: str
    message: str
    rows: tuple = field(default_factory=tuple)
    count: int = 0

    def __str__(self) -> str:
        where = f"{self.layer}.{self.column}" if self.column else self.layer
        rows = (
            f" (rows {', '.join(map(str, self.rows))}"
            f"{', ...' if self.count > len(self.rows) else ''})"
            if self.rows
            else ""
        )
        return f"{where}: {self.code}: {self.message}{rows}"


# --- validation -------------------------------------------------------------------------


def _kind_ok(series: pd.Series, kind: str) -> bool:
    dtype = series.dtype
    if kind == "text":
        if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            return True
        if pd.api.types.is_object_dtype(dtype):
            values = series.dropna()
            return bool(values.map(lambda v: isinstance(v, str)).all())
        return bool(series.isna().all())
    if kind == "int":
        return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if kind == "float":
        return (
            pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
        ) and not pd.api.types.is_bool_dtype(dtype)
    if kind == "bool":
        return pd.api.types.is_bool_dtype(dtype)
    if kind == "date":
        return pd.api.types.is_datetime64_any_dtype(dtype) and getattr(dtype, "tz", None) is None
    raise AssertionError(kind)


def _rows(mask) -> tuple[tuple, int]:
    labels = tuple(mask[mask].index[:20])
    return labels, int(mask.sum())


def validate(gdf: gpd.GeoDataFrame, layer: str | LayerSchema) -> list[Violation]:
    """Check a GeoDataFrame against a layer schema and report every violation.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer to check.
    layer : str or LayerSchema
        The layer name (``hazards``, ``evidence``, ``strikes``, ``releases``,
        ``boundaries``) or a schema.

    Returns
    -------
    list of Violation
        Empty when the layer conforms. Codes: ``missing_crs``, ``missing_column``,
        ``wrong_dtype``, ``null_value``, ``value_not_allowed``, ``out_of_range``,
        ``duplicate_id``, ``null_geometry``, ``empty_geometry``, ``wrong_geometry_type``,
        ``invalid_geometry``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> bad = gpd.GeoDataFrame({"evidence_id": ["E1", "E1"], "item": ["shell", "crater"]},
    ...                        geometry=[Point(21, 42.5), Point(21, 42.6)], crs=4326)
    >>> sorted({v.code for v in validate(bad, "evidence")})
    ['duplicate_id', 'missing_column', 'value_not_allowed']
    """
    schema = get_schema(layer)
    name = schema.name
    if not isinstance(gdf, gpd.GeoDataFrame):
        return [
            Violation(
                name, None, "not_a_layer", f"expected a GeoDataFrame, got {type(gdf).__name__}"
            )
        ]
    out: list[Violation] = []
    if gdf.crs is None:
        out.append(Violation(name, None, "missing_crs", "the layer has no CRS"))
    for col in schema.columns:
        out.extend(_column_violations(gdf, col, layer=name))
    out.extend(_geometry_violations(gdf, schema))
    return out


def _column_violations(gdf: gpd.GeoDataFrame, col: Column, *, layer: str) -> list[Violation]:
    """Check one column: present, no nulls where required, of its kind, then its values."""
    if col.name not in gdf.columns:
        return [Violation(layer, col.name, "missing_column", f"column {col.name!r} is missing")]
    out = []
    s = gdf[col.name]
    nulls = s.isna()
    if not col.nullable and nulls.any():
        rows, n = _rows(nulls)
        message = f"{n} null value(s) in a required column"
        out.append(Violation(layer, col.name, "null_value", message, rows, n))
    if not _kind_ok(s, col.kind):
        message = f"expected {col.kind}, found dtype {s.dtype}"
        return [*out, Violation(layer, col.name, "wrong_dtype", message)]
    return out + _value_violations(s[~nulls], col, layer=layer)


def _value_violations(present: pd.Series, col: Column, *, layer: str) -> list[Violation]:
    """Check a column's non-null values: allowed values, range, unique ids."""
    out = []
    if col.allowed is not None:
        bad = ~present.isin(col.allowed)
        if bad.any():
            rows, n = _rows(bad)
            values = ", ".join(sorted(map(str, present[bad].unique()))[:5])
            message = f"{n} value(s) not in {list(col.allowed)}: {values}"
            out.append(Violation(layer, col.name, "value_not_allowed", message, rows, n))
    if col.minimum is not None or col.maximum is not None:
        lo = -np.inf if col.minimum is None else col.minimum
        hi = np.inf if col.maximum is None else col.maximum
        bad = (present < lo) | (present > hi)
        if bad.any():
            rows, n = _rows(bad)
            message = f"{n} value(s) outside [{lo}, {hi}]"
            out.append(Violation(layer, col.name, "out_of_range", message, rows, n))
    if col.unique:
        dup = present.duplicated(keep=False)
        if dup.any():
            rows, n = _rows(dup)
            values = ", ".join(sorted(map(str, present[dup].unique()))[:5])
            message = f"{n} feature(s) share an id: {values}"
            out.append(Violation(layer, col.name, "duplicate_id", message, rows, n))
    return out


def _geometry_violations(gdf: gpd.GeoDataFrame, schema: LayerSchema) -> list[Violation]:
    name = schema.name
    out = []
    geoms = gdf.geometry
    missing = geoms.isna()
    if missing.any():
        rows, n = _rows(missing)
        out.append(
            Violation(
                name, "geometry", "null_geometry", f"{n} feature(s) without geometry", rows, n
            )
        )
    present = geoms[~missing]
    empty = present.is_empty
    if empty.any() and not schema.allow_empty_geometry:
        rows, n = _rows(empty)
        out.append(
            Violation(name, "geometry", "empty_geometry", f"{n} empty geometr(y/ies)", rows, n)
        )
    types = present.geom_type
    wrong = (types != schema.geometry_type) & ~empty
    if wrong.any():
        rows, n = _rows(wrong)
        found = ", ".join(sorted(types[wrong].unique()))
        out.append(
            Violation(
                name,
                "geometry",
                "wrong_geometry_type",
                f"expected {schema.geometry_type}, found {found}",
                rows,
                n,
            )
        )
    invalid = ~present.is_valid & ~empty
    if invalid.any():
        rows, n = _rows(invalid)
        out.append(
            Violation(
                name,
                "geometry",
                "invalid_geometry",
                f"{n} invalid geometr(y/ies); repair them on import",
                rows,
                n,
            )
        )
    return out


def check(gdf: gpd.GeoDataFrame, layer: str | LayerSchema) -> gpd.GeoDataFrame:
    """Return ``gdf`` unchanged if it conforms to the schema, else raise.

    Raises
    ------
    kosovo_cmr.errors.SchemaError
        Carrying every violation in ``.violations``; the message lists them.
    """
    violations = validate(gdf, layer)
    if violations:
        schema = get_schema(layer)
        lines = "; ".join(str(v) for v in violations[:10])
        more = f" (+{len(violations) - 10} more)" if len(violations) > 10 else ""
        raise SchemaError(
            f"layer {schema.name!r} breaks its schema in {len(violations)} way(s): {lines}{more}",
            violations,
        )
    return gdf


# --- lossless conversion ------------------------------------------------------------------

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _to_text(s: pd.Series) -> pd.Series:
    values = [None if _isna(v) else (v if isinstance(v, str) else str(v)) for v in s]
    return pd.Series(values, index=s.index, dtype=_TEXT_DTYPE, name=s.name)


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# pandas >= 3 reads text as its "str" dtype; keep the same dtype so that layers compare
# equal after a round trip through a store.
_TEXT_DTYPE = pd.Series(["a"]).dtype


def _convert(s: pd.Series, col: Column) -> pd.Series:
    kind = col.kind
    if kind == "text":
        if (
            s.isna().all()
            or pd.api.types.is_object_dtype(s.dtype)
            or pd.api.types.is_string_dtype(s.dtype)
        ):
            return _to_text(s)
        if pd.api.types.is_integer_dtype(s.dtype):
            return _to_text(s)
        return s
    if kind in ("int", "float"):
        if _kind_ok(s, kind) and not (kind == "int" and s.isna().any()):
            return s.astype("int64") if kind == "int" else s.astype("float64")
        try:
            num = pd.to_numeric(s.map(lambda v: v.strip() if isinstance(v, str) else v))
        except (ValueError, TypeError):
            return s
        if kind == "float":
            return num.astype("float64")
        if num.isna().any() and col.default is not None and not col.nullable:
            num = num.fillna(col.default)
        if num.isna().any() or not np.all(np.mod(num.to_numpy(dtype=float), 1) == 0):
            return num
        return num.astype("int64")
    if kind == "bool":
        if pd.api.types.is_bool_dtype(s.dtype):
            return s
        mapped = []
        for v in s:
            if isinstance(v, bool | np.bool_):
                mapped.append(bool(v))
            elif isinstance(v, int | np.integer) and v in (0, 1):
                mapped.append(bool(v))
            elif isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
                mapped.append(v.strip().lower() in _TRUE)
            elif _isna(v) and col.default is not None:
                mapped.append(col.default)
            else:
                return s
        return pd.Series(mapped, index=s.index, dtype=bool, name=s.name)
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            if getattr(s.dtype, "tz", None) is not None:
                return s
            return s.astype("datetime64[ms]")
        try:
            return pd.to_datetime(s, format="ISO8601").astype("datetime64[ms]")
        except (ValueError, TypeError):
            return s
    raise AssertionError(kind)


def conform(gdf: gpd.GeoDataFrame, layer: str | LayerSchema) -> gpd.GeoDataFrame:
    """Make the lossless conversions a layer needs to match its schema.

    Text dates become dates, numeric text becomes numbers, ``"yes"``/``"no"`` become
    booleans, Polygons become MultiPolygons (and single-part MultiPoints Points),
    missing nullable columns are added as nulls and missing columns with a default get
    the default. Values that cannot be converted without loss are left as they are for
    :func:`validate` to report. Schema columns come first, extra columns are kept after
    them. The input is not changed.

    Parameters
    ----------
    gdf : GeoDataFrame
    layer : str or LayerSchema

    Returns
    -------
    GeoDataFrame
        A new GeoDataFrame with the same index and CRS.
    """
    schema = get_schema(layer)
    out = gdf.copy()
    for col in schema.columns:
        if col.name not in out.columns:
            if col.default is not None:
                out[col.name] = col.default
            elif col.nullable:
                out[col.name] = None
            else:
                continue
        out[col.name] = _convert(out[col.name], col)
    if schema.name == "releases" and "submunitions" in out.columns:
        # cmr_found defaults to "submunitions were destroyed" where it was not reported
        found = out["cmr_found"] if "cmr_found" in out.columns else pd.Series(None, index=out.index)
        if not pd.api.types.is_bool_dtype(found.dtype) and pd.api.types.is_integer_dtype(
            out["submunitions"].dtype
        ):
            filled = [
                bool(n > 0) if _isna(f) else f
                for f, n in zip(found, out["submunitions"], strict=False)
            ]
            out["cmr_found"] = _convert(
                pd.Series(filled, index=out.index), schema.column("cmr_found")
            )
    geom_name = out.geometry.name
    geoms = out.geometry.values
    if schema.geometry_type == "MultiPolygon":
        arr = np.asarray(geoms, dtype=object)
        is_poly = np.asarray(shapely.get_type_id(arr) == 3)
        if is_poly.any():
            empty = np.asarray(shapely.is_empty(arr))
            arr[is_poly & ~empty] = [shapely.MultiPolygon([g]) for g in arr[is_poly & ~empty]]
            arr[is_poly & empty] = shapely.from_wkt("MULTIPOLYGON EMPTY")
            out[geom_name] = gpd.GeoSeries(arr, index=out.index, crs=out.crs)
    elif schema.geometry_type == "Point":
        arr = np.asarray(geoms, dtype=object)
        single = np.array(
            [g is not None and g.geom_type == "MultiPoint" and len(g.geoms) == 1 for g in arr]
        )
        if single.any():
            arr[single] = [g.geoms[0] for g in arr[single]]
            out[geom_name] = gpd.GeoSeries(arr, index=out.index, crs=out.crs)
    ordered = [c for c in schema.column_names if c in out.columns]
    extra = [c for c in out.columns if c not in ordered and c != geom_name]
    return out[ordered + extra + [geom_name]]
