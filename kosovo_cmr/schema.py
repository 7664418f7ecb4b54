"""Layer schemas and the one function that checks a layer against its schema.

Five layers make up a store: ``hazards`` (CHA/SHA polygons), ``evidence`` (points where
items were found), ``strikes`` (cluster-bomb footprints), ``releases`` (land release
records) and ``boundaries`` (municipalities with their KMAC region). Each schema names
its columns with a logical kind (text, int, float, bool, date), whether nulls are
allowed, the allowed values or range, and the geometry type.

:func:`validate` reports *every* violation, :func:`check` raises one
:class:`~kosovo_cmr.errors.SchemaError` carrying them all, and :func:`conform` makes the
lossless conversions (text dates to dates, Polygon to MultiPolygon, ...) that a layer read
from a file usually needs first. Columns that a schema does not name are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kosovo_cmr.errors import SchemaError

__all__ = [
    "Column",
    "LayerSchema",
    "Violation",
    "SCHEMAS",
    "LAYERS",
    "get_schema",
    "validate",
    "check",
    "conform",
]

KINDS = ("text", "int", "float", "bool", "date")


@dataclass(frozen=True)
class Column:
    """One attribute column of a layer schema."""

    name: str
    kind: str
    nullable: bool = True
    allowed: tuple | None = None
    unique: bool = False
    minimum: float | None = None
    maximum: float | None = None
    default: object = None
    description: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: kind must be one of {KINDS}")


@dataclass(frozen=True)
class LayerSchema:
    """The schema of one layer: columns, id column and geometry type."""

    name: str
    geometry_type: str
    columns: tuple[Column, ...]
    id_column: str | None = None
    allow_empty_geometry: bool = False
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        """Names of the schema's columns, in order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


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


def _synthetic() -> Column:
    return Column(
        "synthetic",
        "bool",
        nullable=False,
        default=False,
        description="True for generated demo data; never mistake it for a real hazard",
    )


ORDNANCE = ("BLU-97", "BL755", "other", "unknown")

SCHEMAS: dict[str, LayerSchema] = {
    "hazards": LayerSchema(
        name="hazards",
        geometry_type="MultiPolygon",
        id_column="hazard_id",
        description="Confirmed (CHA) and suspected (SHA) hazardous areas, open and closed",
        columns=(
            Column("hazard_id", "text", nullable=False, unique=True),
            Column("kind", "text", nullable=False, allowed=("CHA", "SHA")),
            Column(
                "status",
                "text",
                nullable=False,
                allowed=("active", "released", "removed"),
                default="active",
                description="active: still to be released; released: closed by a land "
                "release; removed: closed without a release record",
            ),
            Column("municipality", "text"),
            Column("region", "text"),
            Column("priority", "text", allowed=("high", "medium", "low")),
            Column("operator", "text"),
            Column("ordnance", "text", allowed=("BLU-97", "BL755", "mixed", "other", "unknown")),
            Column(
                "recorded",
                "date",
                nullable=False,
                description="date the hazard entered the database",
            ),
            Column("closed", "date", description="date the hazard was closed, if it was"),
            _synthetic(),
        ),
    ),
    "evidence": LayerSchema(
        name="evidence",
        geometry_type="Point",
        id_column="evidence_id",
        description="Points where an item of cluster munition was found",
        columns=(
            Column("evidence_id", "text", nullable=False, unique=True),
            Column("hazard_id", "text"),
            Column(
                "item",
                "text",
                nullable=False,
                allowed=("submunition", "component", "fragments", "crater", "container", "other"),
            ),
            Column("ordnance", "text", nullable=False, allowed=ORDNANCE, default="unknown"),
            Column("found", "date"),
            Column(
                "accuracy_m",
                "float",
                minimum=0.0,
                description="horizontal accuracy of the recorded position, metres",
            ),
            _synthetic(),
        ),
    ),
    "strikes": LayerSchema(
        name="strikes",
        geometry_type="Point",
        id_column="strike_id",
        description="Cluster-bomb strike footprints (centre point, oval size and bearing)",
        columns=(
            Column("strike_id", "text", nullable=False, unique=True),
            Column("date", "date"),
            Column("munition", "text", nullable=False, allowed=("CBU-87", "RBL755", "other")),
            Column("bombs", "int", nullable=False, minimum=1, default=1),
            Column("length_m", "float", minimum=0.0, description="footprint length, metres"),
            Column("width_m", "float", minimum=0.0, description="footprint width, metres"),
            Column(
                "bearing_deg",
                "float",
                minimum=0.0,
                maximum=360.0,
                description="bearing of the footprint's long axis, degrees from grid north",
            ),
            _synthetic(),
        ),
    ),
    "releases": LayerSchema(
        name="releases",
        geometry_type="MultiPolygon",
        id_column="release_id",
        allow_empty_geometry=True,
        description="Land release records: cancellation (NTS), reduction (TS), clearance",
        columns=(
            Column("release_id", "text", nullable=False, unique=True),
            Column("hazard_id", "text"),
            Column(
                "method",
                "text",
                nullable=False,
                allowed=("cancellation_nts", "reduction_ts", "clearance"),
            ),
            Column("operator", "text", nullable=False),
            Column("date", "date", nullable=False),
            Column(
                "district",
                "text",
                description="reporting unit as given by the operator or KMAC (a "
                "municipality or a region)",
            ),
            Column("submunitions", "int", nullable=False, minimum=0, default=0),
            Column("ap_mines", "int", nullable=False, minimum=0, default=0),
            Column("other_uxo", "int", nullable=False, minimum=0, default=0),
            Column(
                "cmr_found",
                "bool",
                nullable=False,
                description="whether CMR (submunitions or their component parts) were "
                "found; defaults to submunitions > 0",
            ),
            _synthetic(),
        ),
    ),
    "boundaries": LayerSchema(
        name="boundaries",
        geometry_type="MultiPolygon",
        id_column="municipality",
        description="Municipalities with their district and KMAC region",
        columns=(
            Column("municipality", "text", nullable=False, unique=True),
            Column("district", "text"),
            Column("region", "text", nullable=False),
        ),
    ),
}

#: The layer names, in the order a store lists them.
LAYERS: tuple[str, ...] = tuple(SCHEMAS)


def get_schema(layer: str | LayerSchema) -> LayerSchema:
    """Return the schema of a layer by name.

    Raises
    ------
    kosovo_cmr.errors.SchemaError
        If the layer name is unknown.
    """
    if isinstance(layer, LayerSchema):
        return layer
    try:
        return SCHEMAS[layer]
    except KeyError:
        raise SchemaError(f"unknown layer {layer!r}; expected one of {', '.join(LAYERS)}") from None


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
    out: list[Violation] = []
    if not isinstance(gdf, gpd.GeoDataFrame):
        return [
            Violation(
                name, None, "not_a_layer", f"expected a GeoDataFrame, got {type(gdf).__name__}"
            )
        ]
    if gdf.crs is None:
        out.append(Violation(name, None, "missing_crs", "the layer has no CRS"))
    for col in schema.columns:
        if col.name not in gdf.columns:
            out.append(
                Violation(name, col.name, "missing_column", f"column {col.name!r} is missing")
            )
            continue
        s = gdf[col.name]
        nulls = s.isna()
        if not col.nullable and nulls.any():
            rows, n = _rows(nulls)
            out.append(
                Violation(
                    name, col.name, "null_value", f"{n} null value(s) in a required column", rows, n
                )
            )
        if not _kind_ok(s, col.kind):
            out.append(
                Violation(
                    name, col.name, "wrong_dtype", f"expected {col.kind}, found dtype {s.dtype}"
                )
            )
            continue
        present = s[~nulls]
        if col.allowed is not None:
            bad = ~present.isin(col.allowed)
            if bad.any():
                rows, n = _rows(bad)
                values = ", ".join(sorted(map(str, present[bad].unique()))[:5])
                out.append(
                    Violation(
                        name,
                        col.name,
                        "value_not_allowed",
                        f"{n} value(s) not in {list(col.allowed)}: {values}",
                        rows,
                        n,
                    )
                )
        if col.minimum is not None or col.maximum is not None:
            lo = -np.inf if col.minimum is None else col.minimum
            hi = np.inf if col.maximum is None else col.maximum
            bad = (present < lo) | (present > hi)
            if bad.any():
                rows, n = _rows(bad)
                out.append(
                    Violation(
                        name,
                        col.name,
                        "out_of_range",
                        f"{n} value(s) outside [{lo}, {hi}]",
                        rows,
                        n,
                    )
                )
        if col.unique:
            dup = present.duplicated(keep=False)
            if dup.any():
                rows, n = _rows(dup)
                values = ", ".join(sorted(map(str, present[dup].unique()))[:5])
                out.append(
                    Violation(
                        name,
                        col.name,
                        "duplicate_id",
                        f"{n} feature(s) share an id: {values}",
                        rows,
                        n,
                    )
                )
    out.extend(_geometry_violations(gdf, schema))
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
