"""The layer schemas: the columns, id and geometry type of each layer of a store.

Five layers make up a store: ``hazards`` (CHA/SHA polygons), ``evidence`` (points where
items were found), ``strikes`` (cluster-bomb footprints), ``releases`` (land release
records) and ``boundaries`` (municipalities with their KMAC region). Each schema names
its columns with a logical kind (:data:`KINDS`: text, int, float, bool, date), whether
nulls are allowed, the allowed values or range, and the geometry type. Checking a layer
against its schema is :mod:`kosovo_cmr.schema.validation`.

Issue 18 added ``incidents``; issue 15 the programme's records: the verification of
hazards and releases, their benchmark and reference point, the class, source and depth
of evidence, the depth a release was cleared to, ``kind = unclassified``, and the layers
``activities`` (survey and clearance tasks) and ``devices`` (items found and destroyed);
see ``docs/guides/records.rst``.
"""

from __future__ import annotations

from dataclasses import dataclass

from kosovo_cmr.errors import SchemaError

__all__ = [
    "KINDS",
    "ORDNANCE",
    "Column",
    "LayerSchema",
    "SCHEMAS",
    "LAYERS",
    "get_schema",
    # issue 15
    "KINDS_OF_HAZARD",
    "VERIFICATION",
    "EVIDENCE_CLASSES",
    "EVIDENCE_SOURCES",
    "ACTIVITIES",
    "ACTIVITY_STATUS",
    "DEVICE_ITEMS",
]

#: The logical kinds of a column.
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


def _synthetic() -> Column:
    return Column(
        "synthetic",
        "bool",
        nullable=False,
        default=False,
        description="True for generated demo data; never mistake it for a real hazard",
    )


#: Submunition types an evidence point may record.
ORDNANCE = ("BLU-97", "BL755", "other", "unknown")

#: Kinds of hazard (issue 15): confirmed, suspected, or not classified. "up to that point
#: there had been no classification of CHAs and SHAs in Kosovo" (Mine Action Review 2025,
#: on HALO's 2022 non-technical survey).
KINDS_OF_HAZARD = ("CHA", "SHA", "unclassified")

SCHEMAS: dict[str, LayerSchema] = {
    "hazards": LayerSchema(
        name="hazards",
        geometry_type="MultiPolygon",
        id_column="hazard_id",
        description="Confirmed (CHA) and suspected (SHA) hazardous areas, open and closed",
        columns=(
            Column("hazard_id", "text", nullable=False, unique=True),
            Column(
                "kind",
                "text",
                nullable=False,
                allowed=KINDS_OF_HAZARD,
                description="CHA, SHA, or unclassified: before HALO's 2022 survey Kosovo's "
                "hazards had no CHA/SHA classification (Mine Action Review 2025)",
            ),
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
    # issue 18: incidents, for the strategy's tolerable-risk condition ("no incidents for
    # five years" after the high- and medium-priority tasks are done)
    "incidents": LayerSchema(
        name="incidents",
        geometry_type="Point",
        id_column="incident_id",
        allow_empty_geometry=True,
        description="Accidents and casualties from explosive ordnance, and EOD call-outs",
        columns=(
            Column("incident_id", "text", nullable=False, unique=True),
            Column("date", "date", nullable=False),
            Column(
                "kind",
                "text",
                nullable=False,
                allowed=("accident", "eod_callout"),
                description="accident: an item exploded near people (casualties or not); "
                "eod_callout: an item reported (by the public, police or an operator) and "
                "removed or destroyed by an EOD team",
            ),
            Column(
                "item",
                "text",
                nullable=False,
                allowed=("submunition", "landmine", "other_erw", "unknown"),
                default="unknown",
            ),
            Column("ordnance", "text", allowed=ORDNANCE, description="submunition type"),
            Column(
                "municipality",
                "text",
                description="where it happened, when the position is not known (the "
                "point decides otherwise)",
            ),
            Column("killed", "int", nullable=False, minimum=0, default=0),
            Column("injured", "int", nullable=False, minimum=0, default=0),
            # casualties (killed + injured) by sex and age; those not known in the last
            Column("men", "int", nullable=False, minimum=0, default=0, description="18 and over"),
            Column("women", "int", nullable=False, minimum=0, default=0, description="18 and over"),
            Column("boys", "int", nullable=False, minimum=0, default=0, description="under 18"),
            Column("girls", "int", nullable=False, minimum=0, default=0, description="under 18"),
            Column(
                "sex_age_unknown",
                "int",
                nullable=False,
                minimum=0,
                default=0,
                description="casualties whose sex or age is not known",
            ),
            Column("description", "text"),
            _synthetic(),
        ),
    ),
}

# --- issue 15: the records a programme keeps ---------------------------------------------
# Verification of hazards and releases, evidence class and source, benchmarks and reference
# points, the depth a release was cleared to, and two layers: activities (survey and
# clearance tasks) and devices (items found and destroyed). Each maps to a field of the
# GICHD Minimum Data Requirements or IMSMA (docs/guides/records.rst). Added after the
# columns the layers had (a store of schema version 2 gains them by migration 3).

#: Verification states of a record: as the operator reported it, verified by the national
#: authority (KMAC), or rejected by it. The NTS cancellations of 2024 were "still awaiting
#: verification by the Kosovo Mine Action Centre (KMAC)" (Mine Action Review 2025).
VERIFICATION = ("reported", "verified", "rejected")


def _verification() -> tuple[Column, ...]:
    return (
        Column(
            "verification",
            "text",
            nullable=False,
            allowed=VERIFICATION,
            default="reported",
            description="reported (awaiting verification), verified or rejected by the "
            "national authority; a record without one is reported",
        ),
        Column("verified_on", "date", description="date it was verified or rejected"),
        Column("verified_by", "text", description="who verified or rejected it (e.g. KMAC QA)"),
    )


def _landmarks() -> tuple[Column, ...]:
    """Return the columns of a polygon's benchmark and reference point (WGS 84)."""
    out = []
    for role, what in (
        ("benchmark", "the benchmark (outside the area, where the polygon entry starts)"),
        ("reference", "the reference point (a landmark the benchmark is measured from)"),
    ):
        out += [
            Column(f"{role}_id", "text", description=f"name of {what}"),
            Column(f"{role}_lon", "float", minimum=-180.0, maximum=180.0,
                   description=f"longitude of {what}, WGS 84 degrees"),
            Column(f"{role}_lat", "float", minimum=-90.0, maximum=90.0,
                   description=f"latitude of {what}, WGS 84 degrees"),
        ]  # fmt: skip
    return tuple(out)


def _depth(what: str) -> Column:
    return Column("depth_cm", "float", minimum=0.0, description=what)


#: Evidence classes (IMSMA: direct or indirect evidence of contamination).
EVIDENCE_CLASSES = ("direct", "indirect")
#: Evidence sources: seen by a survey or clearance team, reported by a witness, or taken
#: from records (an old survey, strike records).
EVIDENCE_SOURCES = ("observed", "reported", "records")


def _extend(layer: str, columns: tuple[Column, ...]) -> None:
    schema = SCHEMAS[layer]
    SCHEMAS[layer] = LayerSchema(
        name=schema.name,
        geometry_type=schema.geometry_type,
        columns=schema.columns + columns,
        id_column=schema.id_column,
        allow_empty_geometry=schema.allow_empty_geometry,
        description=schema.description,
    )


_extend("hazards", _verification() + _landmarks())
_extend(
    "releases",
    _verification()
    + (_depth("depth to which the area was searched or cleared, cm (NMAS 2024: 56)"),)
    + _landmarks(),
)
_extend(
    "evidence",
    (
        Column("evidence_class", "text", allowed=EVIDENCE_CLASSES,
               description="direct (the item, its fragments, a crater) or indirect evidence"),
        Column("evidence_source", "text", allowed=EVIDENCE_SOURCES,
               description="observed by a team, reported by a witness, or from records"),
        _depth("depth below the surface where the item was found, cm"),
    ),
)  # fmt: skip

#: Kinds of activity (GICHD Minimum Data Requirements: "Activities (NTS/TS/Clearance/BAC/
#: EOD etc.)").
ACTIVITIES = ("nts", "ts", "clearance", "eod")
#: Status of an activity.
ACTIVITY_STATUS = ("planned", "ongoing", "completed", "suspended")
#: Kinds of device (an item found and destroyed).
DEVICE_ITEMS = ("submunition", "ap_mine", "at_mine", "uxo", "other")

SCHEMAS["activities"] = LayerSchema(
    name="activities",
    geometry_type="Point",
    id_column="activity_id",
    allow_empty_geometry=True,
    description="Survey and clearance tasks: who, how, when, for how many team-days",
    columns=(
        Column("activity_id", "text", nullable=False, unique=True),
        Column("activity", "text", nullable=False, allowed=ACTIVITIES),
        Column(
            "method",
            "text",
            description="operational method, e.g. manual, lld (Large Loop Detector), "
            "scorpion, mechanical, mdd, cmrs (as layers/effort.toml names them)",
        ),
        Column("operator", "text", nullable=False),
        Column("team", "text"),
        Column("hazard_id", "text"),
        Column("release_id", "text", description="the land release record it produced"),
        Column("start_date", "date", nullable=False),
        Column("end_date", "date", description="empty while the activity goes on"),
        Column("team_days", "float", minimum=0.0, description="team working days spent"),
        Column(
            "area_m2",
            "float",
            minimum=0.0,
            description="area the activity covered as the operator reports it; empty: "
            "its share (by team-days) of the linked release's geodesic area",
        ),
        Column("status", "text", nullable=False, allowed=ACTIVITY_STATUS),
        Column("note", "text"),
        _synthetic(),
    ),
)

SCHEMAS["devices"] = LayerSchema(
    name="devices",
    geometry_type="Point",
    id_column="device_id",
    allow_empty_geometry=True,
    description="Items found and destroyed (devices), with where they came from",
    columns=(
        Column("device_id", "text", nullable=False, unique=True),
        Column("item", "text", nullable=False, allowed=DEVICE_ITEMS),
        Column("model", "text", description="e.g. BLU-97, BL755, PROM-1"),
        Column("condition", "text", description="as recorded, e.g. intact, damaged, armed"),
        _depth("depth below the surface where it was found, cm"),
        Column("date", "date", nullable=False, description="date found (or destroyed)"),
        Column("release_id", "text"),
        Column("activity_id", "text"),
        Column("hazard_id", "text"),
        _synthetic(),
    ),
)

# --- issue 16: what the surveyor typed -----------------------------------------------------
# A polygon read from a turning-point table keeps the cells as typed beside the computed
# geometry, as IMSMA keeps user_entered_x/y/mgrs, coordrefsys, bearing and distance
# (kosovo_cmr.sources.entered). Added after the columns of schema 3 (migration 4).


def _entered() -> tuple[Column, ...]:
    return (
        Column("entered_points", "text", description="the turning points as typed (JSON: "
               "point id, type, format, X/Y or MGRS text, bearing, distance, from point) "
               "with each computed WGS 84 position"),
        Column("entered_crs", "text",
               description="the CRS the coordinates were typed in (e.g. EPSG:32634, MGRS)"),
        Column("bearing_reference", "text", allowed=("grid", "true", "magnetic"),
               description="how the typed bearings were read"),
        Column("declination_deg", "float", minimum=-180.0, maximum=180.0,
               description="magnetic declination used with magnetic bearings, east positive"),
    )  # fmt: skip


_extend("hazards", _entered())
_extend("releases", _entered())

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
