"""What every algorithm of the provider shares: inputs, outputs, errors.

An algorithm is a thin face, like a ``kcmr`` command: it reads its parameters, calls one
workflow or library function, and writes the result with the library's writers. This
module turns QGIS parameters into what those functions take (a store, a rule) and their
results into QGIS outputs (a styled layer file, a table, a number), and every failure
into a one-line :class:`QgsProcessingException`.

Inputs are a store (a GeoPackage path) or QGIS layers: a layer given for ``hazards``,
``evidence`` or ``boundaries`` is checked against the layer's schema and used instead of
the store's (in a temporary store in the processing folder).
"""

from __future__ import annotations

import math
from pathlib import Path

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
    QgsProcessingUtils,
    QgsVectorFileWriter,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication, QVariant

#: Parameter names of the store: a GeoPackage file, or a PostGIS URL.
STORE = "STORE"
STORE_URL = "STORE_URL"

#: URL schemes of a PostGIS store (:func:`kosovo_cmr.store.open_store`).
POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")

#: Store layers an algorithm may take as QGIS layers instead, and their geometry kinds.
LAYER_INPUTS = {
    "hazards": QgsProcessing.TypeVectorPolygon,
    "evidence": QgsProcessing.TypeVectorPoint,
    "boundaries": QgsProcessing.TypeVectorPolygon,
}

#: Layer output file suffixes -> export format of :func:`kosovo_cmr.outputs.export.export_layer`.
LAYER_FORMATS = {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".shp": "shp"}


class KcmrAlgorithm(QgsProcessingAlgorithm):
    """A kosovo_cmr algorithm: names, help and the one place errors are turned into text.

    Subclasses set :attr:`NAME`, :attr:`DISPLAY`, :attr:`HELP` and implement
    :meth:`initAlgorithm` and :meth:`compute` (not ``processAlgorithm``; ``run`` is QGIS's).
    """

    NAME = ""
    DISPLAY = ""
    GROUP = "kosovo_cmr"  #: the toolbox group, set by each module
    HELP = ""
    #: Whether a store must be given (set by :func:`add_store_inputs`).
    store_required = False

    def tr(self, text: str) -> str:
        """Translate ``text`` (the plugin ships English only)."""
        return QCoreApplication.translate("kosovo_cmr", text)

    def name(self) -> str:
        """Return the algorithm's id (``kosovo_cmr:<name>``)."""
        return self.NAME

    def displayName(self) -> str:  # noqa: N802 (QGIS's names)
        """Return the name shown in the Processing toolbox."""
        return self.tr(self.DISPLAY)

    def group(self) -> str:
        """Return the toolbox group."""
        return self.tr(self.GROUP)

    def groupId(self) -> str:  # noqa: N802
        """Return the toolbox group's id."""
        return self.GROUP.lower().replace(" ", "_").replace("-", "")

    def shortHelpString(self) -> str:  # noqa: N802
        """Return the help beside the dialog: what the algorithm calls and writes."""
        return self.tr(self.HELP)

    def createInstance(self):  # noqa: N802
        """Return a new instance (QGIS runs each on its own)."""
        return type(self)()

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Run :meth:`compute`; a failure becomes one line of :class:`QgsProcessingException`."""
        from kosovo_cmr.errors import describe

        try:
            return self.compute(parameters, context, feedback)
        except QgsProcessingException:
            raise
        except Exception as exc:  # the CLI's message, whole (QGIS's log has the room)
            failure = describe(exc)
            raise QgsProcessingException(failure.detail or failure.message) from exc

    def compute(self, parameters, context, feedback) -> dict:
        """Do the work; return the outputs."""
        raise NotImplementedError


# --- inputs ----------------------------------------------------------------------------------


def add_store_inputs(alg: QgsProcessingAlgorithm, layers=(), *, optional: bool = True) -> None:
    """Add the store (a GeoPackage, or a PostGIS URL) and QGIS layers used instead of its own.

    Both store parameters are optional in the dialog; :func:`store_location` requires one
    of them unless ``optional`` (then layers may stand in for the store).
    """
    alg.addParameter(
        QgsProcessingParameterFile(
            STORE, alg.tr("Store (kosovo_cmr GeoPackage)"), extension="gpkg", optional=True
        )
    )
    alg.addParameter(
        QgsProcessingParameterString(
            STORE_URL, alg.tr("or a PostGIS store (postgresql:// URL)"), optional=True
        )
    )
    alg.store_required = not optional
    for layer in layers:
        alg.addParameter(
            QgsProcessingParameterVectorLayer(
                layer.upper(),
                alg.tr(f"{layer.capitalize()} layer (instead of the store's)"),
                types=[LAYER_INPUTS[layer]],
                optional=True,
            )
        )


def add_enum(alg, name: str, label: str, options, default: str) -> None:
    """Add a choice among ``options`` (strings), ``default`` selected."""
    options = list(options)
    alg.addParameter(
        QgsProcessingParameterEnum(
            name, alg.tr(label), options, defaultValue=options.index(default)
        )
    )


def enum_value(alg, parameters, name: str, context, options) -> str:
    """Return the chosen option's text."""
    return list(options)[alg.parameterAsEnum(parameters, name, context)]


def store_location(alg, parameters, context) -> str | None:
    """Return the store given: a GeoPackage path (checked) or a PostGIS URL, else ``None``.

    Raises
    ------
    QgsProcessingException
        If both are given, the URL is not a PostgreSQL one, the GeoPackage does not exist,
        or neither is given to an algorithm that needs a store.
    """
    url = alg.parameterAsString(parameters, STORE_URL, context).strip()
    path = store_path(alg, parameters, context)
    if url and path:
        raise QgsProcessingException("give one store: a GeoPackage or a PostGIS URL, not both")
    if url and not url.startswith(POSTGRES_SCHEMES):
        raise QgsProcessingException(f"PostGIS store: give a postgresql:// URL, not {url!r}")
    if not (url or path) and alg.store_required:
        raise QgsProcessingException("give a Store: a GeoPackage or a PostGIS URL")
    return url or path


def store_path(alg, parameters, context) -> str | None:
    """Return the GeoPackage store's path, checked (an existing ``.gpkg``), or ``None``."""
    path = alg.parameterAsFile(parameters, STORE, context)
    if not path:
        return None
    if not path.lower().endswith(".gpkg"):
        raise QgsProcessingException(f"Store: {path} is not a GeoPackage (.gpkg)")
    if not Path(path).is_file():
        raise QgsProcessingException(f"Store: {path} does not exist (run `kcmr demo` or import)")
    return path


def input_store(alg, parameters, context, feedback, layers=()):
    """Return the store to read: the one given, or a temporary one holding the layers given.

    Raises
    ------
    QgsProcessingException
        If neither a store nor a layer is given, or a layer does not fit its schema.
    """
    from kosovo_cmr.store import open_store

    path = store_location(alg, parameters, context)
    given = {
        name: alg.parameterAsVectorLayer(parameters, name.upper(), context)
        for name in layers
        if parameters.get(name.upper())
    }
    given = {name: layer for name, layer in given.items() if layer is not None}
    if not given:
        if path is None:
            names = ", ".join(layers) or "none"
            raise QgsProcessingException(
                f"give a Store (GeoPackage or PostGIS URL) or input layers ({names})"
            )
        return open_store(path, create=False)
    temp = QgsProcessingUtils.generateTempFilename("kcmr-input.gpkg")  # a new folder each
    store = open_store(temp, create=True)
    if path is not None:  # the store's other layers, as they are
        source = open_store(path, create=False)
        for name in source.layers():
            if name not in given:
                store.write(source.read(name), name, source=source.uri)  # no password
    for name, layer in given.items():
        feedback.pushInfo(f"{name}: the layer {layer.name()} ({layer.featureCount()} features)")
        store.write(frame_from_layer(layer, context), name, source=layer.source())
    return store


def copy_layer(layer, context, *, name: str = "layer") -> str:
    """Write a QGIS layer (any provider, its filter applied) to a new GeoPackage; its path.

    The table is ``name``; the GeoPackage lies in a new folder of the processing folder.
    """
    if layer is None or not layer.isValid():
        raise QgsProcessingException("an input layer is not valid (its source cannot be read)")
    target = QgsProcessingUtils.generateTempFilename(f"{name}.gpkg")
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = name
    error, message, *_ = QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, target, context.transformContext(), options
    )
    if error != QgsVectorFileWriter.NoError:
        raise QgsProcessingException(f"cannot read the layer {layer.name()}: {message}")
    return target


def frame_from_layer(layer, context):
    """Return a QGIS vector layer as a GeoDataFrame (through a GeoPackage GDAL reads)."""
    import geopandas as gpd

    gdf = gpd.read_file(copy_layer(layer, context), layer="layer")
    return gdf.drop(columns=[c for c in ("fid",) if c in gdf.columns])


def source_of(layer) -> tuple[str, str | None]:
    """Return the file and sub-layer behind a file-based QGIS layer (``""`` if none)."""
    from qgis.core import QgsProviderRegistry

    if layer.providerType() != "ogr" or layer.subsetString():
        return "", None
    parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
    return parts.get("path") or "", parts.get("layerName") or None


def rule_of(name: str, distance_m: float | None):
    """Return a fade-out rule: a shipped one, or a uniform distance when given (> 0)."""
    from kosovo_cmr.analysis.rules import load_rule

    if distance_m is not None and distance_m > 0:
        return load_rule(None, distance_m=distance_m)
    return load_rule(name)


# --- outputs ---------------------------------------------------------------------------------


def layer_destination(alg, parameters, name: str, context) -> tuple[Path, str]:
    """Return the file of a layer output and its format; refuse what GDAL cannot write."""
    path = alg.parameterAsOutputLayer(parameters, name, context)
    if not path or path.startswith(("memory:", "postgres", "ogr:")):
        raise QgsProcessingException(
            f"{name}: write to a file (.gpkg, .geojson or .shp), not to {path or 'nothing'}"
        )
    path = path.split("|", 1)[0]
    fmt = LAYER_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise QgsProcessingException(f"{name}: use a .gpkg, .geojson or .shp file, not {path}")
    return Path(path), fmt


def write_styled_layer(gdf, path: Path, fmt: str, *, style: str) -> str:
    """Write a result layer with the library's writer, and its QGIS style beside it.

    A GeoPackage gets the style in its ``layer_styles`` table (the table is named
    ``style``), another format a ``.qml`` file; QGIS loads either as the default style.
    """
    from kosovo_cmr.outputs.export import export_layer
    from kosovo_cmr.outputs.qgis_styles import write_layer_styles, write_qml

    export_layer(gdf, path, fmt=fmt, name=style, overwrite=True)
    if fmt == "gpkg":
        write_layer_styles(path, layers=[style])
    else:
        write_qml(path, style)
    return str(path)


def field_type(series) -> QVariant.Type:
    """Return the QGIS field type of a column."""
    kind = series.dtype.kind
    if kind == "b":
        return QVariant.Bool
    if kind in "iu":
        return QVariant.LongLong
    if kind == "f":
        return QVariant.Double
    return QVariant.String


def plain_value(value):
    """Return a cell as QGIS takes it: a Python scalar, ``None`` if missing, else text."""
    if value is None:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def write_table(alg, parameters, name: str, context, table) -> str:
    """Write a table (a DataFrame, no geometry) to the table output ``name``."""
    fields = QgsFields()
    for column in table.columns:
        fields.append(QgsField(str(column), field_type(table[column])))
    sink, dest = alg.parameterAsSink(
        parameters, name, context, fields, QgsWkbTypes.NoGeometry, QgsCoordinateReferenceSystem()
    )
    if sink is None:
        raise QgsProcessingException(alg.invalidSinkError(parameters, name))
    for row in table.itertuples(index=False):
        feature = QgsFeature(fields)
        feature.setAttributes([plain_value(v) for v in row])
        sink.addFeature(feature, QgsFeatureSink.FastInsert)
    return dest
