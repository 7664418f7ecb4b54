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


def test_rasters_split_into_outputs_and_synthetic_data():
    from kosovo_cmr.outputs import rasters
    from kosovo_cmr.synthetic import terrain

    sys.modules.pop("kosovo_cmr.rasters", None)
    with pytest.warns(KcmrDeprecationWarning, match=r"kosovo_cmr\.outputs\.rasters"):
        from kosovo_cmr.rasters import rasterize_hazards
    assert rasterize_hazards is rasters.rasterize_hazards
    match = r"kosovo_cmr\.synthetic\.terrain\.synthetic_terrain"
    with pytest.warns(KcmrDeprecationWarning, match=match):
        from kosovo_cmr.rasters import synthetic_terrain
    assert synthetic_terrain is terrain.synthetic_terrain


def test_rules_and_the_cha_check_left_fadeout():
    from kosovo_cmr.analysis import cha_check, fadeout, rules

    sys.modules.pop("kosovo_cmr.fadeout", None)
    with pytest.warns(KcmrDeprecationWarning, match=r"is now kosovo_cmr\.analysis\.fadeout;"):
        import kosovo_cmr.fadeout  # noqa: F401
    with pytest.warns(KcmrDeprecationWarning, match=r"kosovo_cmr\.analysis\.rules\.load_rule"):
        from kosovo_cmr.fadeout import load_rule
    assert load_rule is rules.load_rule
    with pytest.warns(KcmrDeprecationWarning, match=r"analysis\.cha_check\.cha_consistency"):
        from kosovo_cmr.fadeout import cha_consistency
    assert cha_consistency is cha_check.cha_consistency
    from kosovo_cmr.fadeout import buffer_impact  # stayed in fadeout: no warning of its own

    assert buffer_impact is fadeout.buffer_impact


def test_the_engine_functions_are_the_analyses_with_engine_keyword():
    from kosovo_cmr.analysis.fadeout import ImpactResult, buffer_impact
    from kosovo_cmr.demo import read_demo_layer

    sys.modules.pop("kosovo_cmr.engine", None)
    with pytest.warns(KcmrDeprecationWarning, match=r"is now kosovo_cmr\.analysis\.engine;"):
        import kosovo_cmr.engine  # noqa: F401
    with pytest.warns(KcmrDeprecationWarning, match=r"analysis\.fadeout\.ImpactResult"):
        from kosovo_cmr.engine import EngineImpact
    assert EngineImpact is ImpactResult
    with pytest.warns(KcmrDeprecationWarning, match=r"analysis\.fadeout\.buffer_impact"):
        from kosovo_cmr.engine import buffer_impact as old_buffer_impact
    assert old_buffer_impact is buffer_impact
    evidence = read_demo_layer("evidence")
    result = old_buffer_impact(evidence, "kosovo-pre-2024", "kosovo-nmas-2024", engine="local")
    assert isinstance(result, EngineImpact) and result.engine == "local"


# --- report --------------------------------------------------------------------------------


# --- forecast ------------------------------------------------------------------------------


# --- importer ------------------------------------------------------------------------------


# --- outputs, synthetic, schema ------------------------------------------------------------
