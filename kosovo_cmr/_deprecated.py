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
    # --- analysis ---
    # never released, but analysis/forecast.py's demo step (the forecast area's) still
    # imports synthetic_terrain from here: drop this line when that step has moved
    "kosovo_cmr.analysis.rasters": "kosovo_cmr.outputs.rasters",
}

#: ``"old.module:name"`` -> ``"new.module:name"`` for names that left their module's
#: successor (moved to a workflow, renamed, or merged into one public function).
MOVED_NAMES: dict[str, str] = {
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
    "kosovo_cmr.fadeout:demo_step": "kosovo_cmr.demo:_step_fadeout",
    # the demo terrain is synthetic data, not a raster output
    "kosovo_cmr.rasters:synthetic_terrain": "kosovo_cmr.synthetic.terrain:synthetic_terrain",
    "kosovo_cmr.rasters:COVER_CLASSES": "kosovo_cmr.synthetic.terrain:COVER_CLASSES",
    "kosovo_cmr.analysis.rasters:synthetic_terrain": (
        "kosovo_cmr.synthetic.terrain:synthetic_terrain"
    ),
    "kosovo_cmr.analysis.rasters:COVER_CLASSES": "kosovo_cmr.synthetic.terrain:COVER_CLASSES",
}


class KcmrDeprecationWarning(DeprecationWarning):
    """An old kosovo_cmr import path or name was used; the message says the new one."""


def _caller_stacklevel() -> int:
    """Stack level of the first frame outside the import system and this module."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not (name.startswith("importlib") or name == __name__):
            return level
        frame = frame.f_back
        level += 1
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
