"""Old import paths and names keep working for one release, with a warning (issue 13)."""

from __future__ import annotations

import importlib
import sys

import pytest

from kosovo_cmr._deprecated import MOVED_MODULES, MOVED_NAMES, KcmrDeprecationWarning


@pytest.mark.parametrize("old, new", sorted(MOVED_MODULES.items()))
def test_old_module_path_warns_and_gives_the_new_module(old, new):
    sys.modules.pop(old, None)
    with pytest.warns(KcmrDeprecationWarning, match=new.replace(".", r"\.")):
        module = importlib.import_module(old)
    target = importlib.import_module(new)
    public = getattr(target, "__all__", [n for n in dir(target) if not n.startswith("_")])
    for name in public:
        assert getattr(module, name) is getattr(target, name)


@pytest.mark.parametrize("old, new", sorted(MOVED_NAMES.items()))
def test_moved_name_warns_and_gives_the_new_object(old, new):
    from kosovo_cmr._deprecated import resolve

    module, _, name = old.partition(":")
    with pytest.warns(KcmrDeprecationWarning):
        value = getattr(importlib.import_module(module), name)
    assert value is resolve(new)


def test_unknown_name_of_an_old_module_is_an_attribute_error():
    sys.modules.pop("kosovo_cmr.maps", None)
    with pytest.warns(KcmrDeprecationWarning):
        module = importlib.import_module("kosovo_cmr.maps")
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


# --- analysis (fade-out, engine, overlay, terrain, rasters) --------------------------------


# --- report --------------------------------------------------------------------------------


# --- forecast ------------------------------------------------------------------------------


# --- importer ------------------------------------------------------------------------------


# --- outputs, synthetic, schema ------------------------------------------------------------


def _old(module: str, name: str):
    sys.modules.pop(module, None)
    with pytest.warns(KcmrDeprecationWarning):
        old = importlib.import_module(module)
    with pytest.warns(KcmrDeprecationWarning, match="is now"):
        return getattr(old, name)


def test_gps_writers_moved_out_of_export():
    from kosovo_cmr.outputs import export, gps

    for name in ("to_gpx", "to_kml", "to_kmz", "GPX_NS", "KML_COLOURS"):
        assert _old("kosovo_cmr.export", name) is getattr(gps, name)
    assert export.FORMATS["gpx"] == ".gpx"  # export_layer still writes them


def test_turning_points_moved_to_the_analyses():
    from kosovo_cmr.analysis.turning_points import turning_points

    assert _old("kosovo_cmr.fieldmap", "turning_points") is turning_points


def test_map_demo_step_and_rules_moved_out_of_the_renderer():
    from kosovo_cmr import demo
    from kosovo_cmr.workflows import maps as workflow

    assert _old("kosovo_cmr.maps", "demo_step") is demo._step_maps
    assert _old("kosovo_cmr.maps", "FADEOUT_RULES") is workflow.FADEOUT_RULES


def test_schema_keeps_validate_check_conform():
    import kosovo_cmr
    from kosovo_cmr import schema
    from kosovo_cmr.schema import validation

    for name in ("validate", "check", "conform", "Violation"):
        assert getattr(schema, name) is getattr(validation, name)
    assert kosovo_cmr.validate is validation.validate
