"""Old import paths, kept working for one release with a :class:`DeprecationWarning`.

Release 0.2 moved modules into the packages ``analysis``, ``report``, ``outputs`` and
``workflows`` (see ``docs/architecture.rst``). Code written for 0.1 keeps working: an
old module path (:data:`MOVED_MODULES`) imports the new module through a stand-in that
warns once, and a name that moved to another module or was renamed
(:data:`MOVED_NAMES`) is found where it went, with a warning naming the new place.
Everything here goes in release 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

#: Release in which the old paths stop working.
REMOVED_IN = "0.3"

#: Old module -> the module that holds its contents now.
MOVED_MODULES: dict[str, str] = {
    "kosovo_cmr.fadeout": "kosovo_cmr.analysis.fadeout",
    "kosovo_cmr.engine": "kosovo_cmr.analysis.engine",
    "kosovo_cmr.overlay": "kosovo_cmr.analysis.overlay",
    "kosovo_cmr.terrain": "kosovo_cmr.analysis.terrain",
    "kosovo_cmr.rasters": "kosovo_cmr.outputs.rasters",
    "kosovo_cmr.forecast": "kosovo_cmr.analysis.forecast",
    "kosovo_cmr.report_render": "kosovo_cmr.report.render",
    "kosovo_cmr.published": "kosovo_cmr.report.published",
    "kosovo_cmr.maps": "kosovo_cmr.outputs.maps",
    "kosovo_cmr.fieldmap": "kosovo_cmr.outputs.fieldmap",
    "kosovo_cmr.export": "kosovo_cmr.outputs.export",
}

#: ``"old.module:name"`` -> ``"new.module:name"`` for names that left their module's
#: successor (moved to a workflow, renamed, or merged into one public function).
MOVED_NAMES: dict[str, str] = {
    # --- report ---
    "kosovo_cmr.report:read_capacity": "kosovo_cmr.programme:read_capacity",
    "kosovo_cmr.report:report_from_store": "kosovo_cmr.workflows.report:report_from_store",
    "kosovo_cmr.report:demo_step": "kosovo_cmr.demo:step_report",
    "kosovo_cmr.report_render:TABLES": "kosovo_cmr.report.render_sections:TABLES",
    "kosovo_cmr.report_render:FORECAST_COLUMNS": (
        "kosovo_cmr.report.render_planning:FORECAST_COLUMNS"
    ),
    "kosovo_cmr.report_render:METHOD_LABELS": "kosovo_cmr.report.render_sections:METHOD_LABELS",
    # --- forecast: split into analysis.effort, analysis.schedule, analysis.forecast; store
    # reading and the chart in workflows.forecast, text tables in outputs.forecast_text
    **{
        f"kosovo_cmr.forecast:{name}": f"kosovo_cmr.analysis.effort:{name}"
        for name in ("ForecastWarning", "read_effort", "choose_method", "area_to_clear")
    },
    "kosovo_cmr.forecast:clearance_effort": "kosovo_cmr.analysis.effort:clearance_effort",
    **{
        f"kosovo_cmr.forecast:{name}": f"kosovo_cmr.analysis.schedule:{name}"
        for name in ("PRIORITIES", "season_to_year", "schedule", "completion", "burndown")
    },
    "kosovo_cmr.forecast:read_capacity": "kosovo_cmr.programme:read_teams",
    "kosovo_cmr.forecast:plot_burndown": "kosovo_cmr.workflows.forecast:burndown_chart",
    "kosovo_cmr.forecast:inputs_from_store": "kosovo_cmr.workflows.forecast:forecast_inputs",
    **{
        f"kosovo_cmr.forecast:{name}": f"kosovo_cmr.outputs.forecast_text:{name}"
        for name in ("PLAN_COLUMNS", "SCENARIO_COLUMNS", "display_plan", "display_scenarios")
    },
    "kosovo_cmr.forecast:demo_step": "kosovo_cmr.demo:step_forecast",
    # --- end forecast
    # --- outputs: maps, field sheets, exports --------------------------------------------
    "kosovo_cmr.maps:demo_step": "kosovo_cmr.demo:step_maps",
    "kosovo_cmr.maps:FADEOUT_RULES": "kosovo_cmr.workflows.maps:FADEOUT_RULES",
    "kosovo_cmr.fieldmap:turning_points": "kosovo_cmr.analysis.turning_points:turning_points",
    "kosovo_cmr.export:GPX_NS": "kosovo_cmr.outputs.gps:GPX_NS",
    "kosovo_cmr.export:KML_COLOURS": "kosovo_cmr.outputs.gps:KML_COLOURS",
    "kosovo_cmr.export:to_gpx": "kosovo_cmr.outputs.gps:to_gpx",
    "kosovo_cmr.export:to_kml": "kosovo_cmr.outputs.gps:to_kml",
    "kosovo_cmr.export:to_kmz": "kosovo_cmr.outputs.gps:to_kmz",
    # --- synthetic: the 0.1 module's figures and entry point -----------------------------
    "kosovo_cmr.synthetic:ADDED_2024_M2": "kosovo_cmr.synthetic.targets:ADDED_2024_M2",
    "kosovo_cmr.synthetic:START_2024_M2": "kosovo_cmr.synthetic.targets:START_2024_M2",
    "kosovo_cmr.synthetic:TS_2023": "kosovo_cmr.synthetic.targets:TS_2023",
    "kosovo_cmr.synthetic:HAZARD_MUNICIPALITIES": (
        "kosovo_cmr.synthetic.targets:HAZARD_MUNICIPALITIES"
    ),
    "kosovo_cmr.synthetic:OPERATOR_BY_REGION": "kosovo_cmr.synthetic.targets:OPERATOR_BY_REGION",
    "kosovo_cmr.synthetic:main": "kosovo_cmr.synthetic.layers:main",
    # --- analysis ---
    # one public function per analysis, engine= a keyword (kosovo_cmr.analysis.engine)
    "kosovo_cmr.engine:EngineImpact": "kosovo_cmr.analysis.fadeout:ImpactResult",
    "kosovo_cmr.engine:delineate": "kosovo_cmr.analysis.fadeout:delineate",
    "kosovo_cmr.engine:buffer_impact": "kosovo_cmr.analysis.fadeout:buffer_impact",
    "kosovo_cmr.engine:contamination_by_unit": "kosovo_cmr.analysis.overlay:contamination_by_unit",
    # fade-out rules and the CHA check have modules of their own
    "kosovo_cmr.fadeout:DEFAULT_RULE": "kosovo_cmr.analysis.rules:DEFAULT_RULE",
    "kosovo_cmr.fadeout:FadeoutRule": "kosovo_cmr.analysis.rules:FadeoutRule",
    "kosovo_cmr.fadeout:load_rule": "kosovo_cmr.analysis.rules:load_rule",
    "kosovo_cmr.fadeout:shipped_rules": "kosovo_cmr.analysis.rules:shipped_rules",
    "kosovo_cmr.fadeout:cha_consistency": "kosovo_cmr.analysis.cha_check:cha_consistency",
    "kosovo_cmr.fadeout:demo_step": "kosovo_cmr.demo:step_fadeout",
    # the demo terrain is synthetic data, not a raster output
    "kosovo_cmr.rasters:synthetic_terrain": "kosovo_cmr.synthetic.terrain:synthetic_terrain",
    "kosovo_cmr.rasters:COVER_CLASSES": "kosovo_cmr.synthetic.terrain:COVER_CLASSES",
    # --- issue 19: a field sheet is drawn from facts a workflow computes (magnetic
    # declination, benchmark, missing values); the renderer only draws them
    **{
        f"{old}:{name}": f"kosovo_cmr.workflows.fieldsheets:{name}"
        for old in ("kosovo_cmr.outputs.fieldmap", "kosovo_cmr.fieldmap")
        for name in ("field_sheet", "write_field_map", "write_atlas")
    },
    # --- end issue 19
}


class KcmrDeprecationWarning(DeprecationWarning):
    """An old kosovo_cmr import path or name was used; the message says the new one."""


def _internal(frame) -> bool:
    """Whether :func:`warnings.warn` skips ``frame`` when it counts a stack level."""
    filename = frame.f_code.co_filename
    return "importlib" in filename and "_bootstrap" in filename


def _caller_stacklevel() -> int:
    """Stack level, for :func:`warnings.warn` called in :func:`warn`, of the user's frame.

    Skips the import system, this module and the package's module ``__getattr__`` hooks
    that forward old names here; frames :mod:`warnings` itself skips are not counted.
    """
    frame = sys._getframe(2)  # the caller of warn()
    level = 2
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        forwarding = name.startswith("kosovo_cmr") and frame.f_code.co_name == "__getattr__"
        if not (_internal(frame) or name == __name__ or forwarding):
            return level
        if not _internal(frame):
            level += 1
        frame = frame.f_back
    return 1


def warn(message: str) -> None:
    """Issue a :class:`KcmrDeprecationWarning` attributed to the user's code."""
    warnings.warn(
        f"{message}; the old name goes in kosovo_cmr {REMOVED_IN}",
        KcmrDeprecationWarning,
        stacklevel=_caller_stacklevel(),
    )


def resolve(target: str):
    """Return the object named by ``"package.module:name"``."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def moved_name(module: str, name: str):
    """Find ``name`` of ``module`` in :data:`MOVED_NAMES`, warn, and return it.

    For a module ``__getattr__``: raises :class:`AttributeError` when the name did not
    move, as a missing attribute does.
    """
    target = MOVED_NAMES.get(f"{module}:{name}")
    if target is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warn(f"{module}.{name} is now {target.replace(':', '.')}")
    return resolve(target)


class _StandIn(types.ModuleType):
    """An old module path: attributes come from the new module or :data:`MOVED_NAMES`."""

    def __getattr__(self, name: str):
        target = MOVED_NAMES.get(f"{self.__name__}:{name}")
        if target is not None:
            warn(f"{self.__name__}.{name} is now {target.replace(':', '.')}")
            return resolve(target)
        new = importlib.import_module(MOVED_MODULES[self.__name__])
        try:
            return getattr(new, name)
        except AttributeError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None

    def __dir__(self):
        new = importlib.import_module(MOVED_MODULES[self.__name__])
        moved = [k.split(":", 1)[1] for k in MOVED_NAMES if k.startswith(self.__name__ + ":")]
        return sorted(set(dir(new)) | set(moved))


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return _StandIn(spec.name)

    def exec_module(self, module):
        new = MOVED_MODULES[module.__name__]
        module.__doc__ = f"Deprecated alias of :mod:`{new}`."
        warn(f"{module.__name__} is now {new}")


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the old module paths of :data:`MOVED_MODULES`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED_MODULES:
            return importlib.machinery.ModuleSpec(fullname, _Loader())
        return None


def install() -> None:
    """Put the finder of old module paths on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
