"""Field mapping files: another system's field names -> a layer's columns (issue 16).

A mapping file is TOML: one table per layer, ``source field = "layer column"``, plus
``name``, ``title`` and the lists ``documented`` (names taken from a published
description of the other system, cited in the file's comments) and ``chosen`` (names
this package chose in that system's style). The package ships three in
``layers/mappings/`` (see ``layers/README.md``):

``imsma_core``
    IMSMA Core (ArcGIS) style names: ``hazard_localid``, ``hazreduc_localid``...
``survey123``
    an ArcGIS Survey123 evidence form's export (``GlobalID``, ``CreationDate``, ``x``/``y``).
``kobotoolbox``
    a KoboToolbox evidence form's CSV export (``_uuid``, ``_location_latitude``...).

``kcmr import --mapping NAME|FILE`` (and ``validate``) applies a mapping the way
``--map-fields`` does: an entry whose field the source lacks is skipped (a form export
need not have every field); ``--map-fields`` wins over the file. ``kcmr export --mapping``
renames the other way, so that a layer leaves in the other system's names and comes back
with the same file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kosovo_cmr._resources import layers_dir
from kosovo_cmr.errors import InputError
from kosovo_cmr.schema import SCHEMAS

__all__ = ["FieldMapping", "read_mapping", "shipped_mappings", "source_renames", "export_renames"]


@dataclass(frozen=True)
class FieldMapping:
    """A mapping file: per layer, ``{source field: layer column}``."""

    name: str
    title: str
    layers: dict[str, dict[str, str]]
    documented: tuple[str, ...] = ()
    chosen: tuple[str, ...] = ()
    path: str = field(default="", compare=False)

    def fields(self, layer: str) -> dict[str, str]:
        """Return ``{source field: column}`` for a layer (empty if the file has none)."""
        return dict(self.layers.get(layer, {}))


def _mappings_dir() -> Path:
    return layers_dir() / "mappings"


def shipped_mappings() -> list[str]:
    """Return the names of the mappings shipped in ``layers/mappings/``.

    Examples
    --------
    >>> shipped_mappings()
    ['imsma_core', 'kobotoolbox', 'survey123']
    """
    return sorted(p.stem for p in _mappings_dir().glob("*.toml"))


def read_mapping(mapping: str | os.PathLike | FieldMapping) -> FieldMapping:
    """Read a mapping by shipped name (``imsma_core``) or from a TOML file.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the file is missing or not TOML, or maps to a column no layer has.

    Examples
    --------
    >>> read_mapping("imsma_core").fields("hazards")["hazard_localid"]
    'hazard_id'
    """
    if isinstance(mapping, FieldMapping):
        return mapping
    text = os.fspath(mapping)
    path = Path(text) if (text.endswith(".toml") or os.sep in text) else None
    if path is None:
        path = _mappings_dir() / f"{text}.toml"
        if not path.is_file():
            raise InputError(
                f"--mapping {text}: no such mapping; shipped: {', '.join(shipped_mappings())} "
                "(or give a .toml file)"
            )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"--mapping {path}: cannot read it ({exc})") from exc
    layers = {k: v for k, v in data.items() if isinstance(v, dict)}
    _check(path, layers)
    return FieldMapping(
        name=str(data.get("name", path.stem)),
        title=str(data.get("title", "")),
        layers={k: {str(a): str(b) for a, b in v.items()} for k, v in layers.items()},
        documented=tuple(data.get("documented", ())),
        chosen=tuple(data.get("chosen", ())),
        path=str(path),
    )


def _check(path: Path, layers: dict) -> None:
    """Refuse a mapping naming a layer or column the schema does not know."""
    for layer, fields in layers.items():
        if layer not in SCHEMAS:
            raise InputError(f"--mapping {path}: unknown layer [{layer}]")
        for source, column in fields.items():
            if not isinstance(column, str) or not column:
                raise InputError(f"--mapping {path}: [{layer}] {source} must name a column")


def source_renames(
    mapping: FieldMapping | None,
    layer: str,
    columns,
    *,
    explicit: dict[str, str] | None = None,
    notices: list[str] | None = None,
) -> dict[str, str]:
    """Return the renames of a source: the mapping's entries it has, then ``explicit``.

    Parameters
    ----------
    mapping : FieldMapping or None
    layer : str
    columns : iterable of str
        The source's columns as read.
    explicit : dict, optional
        ``--map-fields``; wins over the mapping.
    notices : list of str, optional
        Gets one line naming the renames the mapping made.

    Examples
    --------
    >>> m = read_mapping("imsma_core")
    >>> source_renames(m, "hazards", ["hazard_localid", "hazard_type", "imsma_id"])
    {'hazard_localid': 'hazard_id', 'hazard_type': 'kind'}
    """
    explicit = dict(explicit or {})
    if mapping is None:
        return explicit
    present = set(map(str, columns))
    used = {s: d for s, d in mapping.fields(layer).items() if s in present and s not in explicit}
    taken = set(explicit.values())
    used = {s: d for s, d in used.items() if d not in taken}
    if notices is not None and used:
        pairs = ", ".join(f"{s} -> {d}" for s, d in used.items())
        notices.append(f"--mapping {mapping.name}: {len(used)} field(s) renamed ({pairs})")
    return {**used, **explicit}


def export_renames(mapping: FieldMapping, layer: str, columns) -> dict[str, str]:
    """Return ``{layer column: source field}`` for the columns a layer has (export).

    Examples
    --------
    >>> export_renames(read_mapping("imsma_core"), "hazards", ["hazard_id", "kind", "region"])
    {'hazard_id': 'hazard_localid', 'kind': 'hazard_type'}
    """
    present = set(map(str, columns))
    out = {}
    for source, column in mapping.fields(layer).items():
        if column in present and column not in out:
            out[column] = source
    return out
