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


def test_the_warning_points_at_the_code_that_used_the_old_name():
    sys.modules.pop("kosovo_cmr.fadeout", None)
    with pytest.warns(KcmrDeprecationWarning) as caught:
        import kosovo_cmr.fadeout as old  # noqa: F401

        old.load_rule  # noqa: B018
        from kosovo_cmr.report import report_from_store  # noqa: F401
    assert len(caught) >= 3
    assert {w.filename for w in caught} == {__file__}


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


def test_report_read_capacity_is_the_programme_reader():
    from kosovo_cmr import programme

    with pytest.warns(KcmrDeprecationWarning, match=r"kosovo_cmr\.programme\.read_capacity"):
        from kosovo_cmr.report import read_capacity
    assert read_capacity is programme.read_capacity


def test_report_from_store_moved_to_the_report_workflow():
    from kosovo_cmr.workflows import report as workflow

    with pytest.warns(KcmrDeprecationWarning, match=r"kosovo_cmr\.workflows\.report"):
        from kosovo_cmr.report import report_from_store
    assert report_from_store is workflow.report_from_store


def test_report_demo_step_is_the_demo_report_step():
    import kosovo_cmr.report
    from kosovo_cmr import demo

    with pytest.warns(KcmrDeprecationWarning):
        step = kosovo_cmr.report.demo_step
    assert step is demo.step_report
    assert demo.step_report in demo.DEMO_STEPS


def test_old_report_render_module_keeps_its_names():
    from kosovo_cmr.report import render, render_sections

    sys.modules.pop("kosovo_cmr.report_render", None)
    with pytest.warns(KcmrDeprecationWarning):
        old = importlib.import_module("kosovo_cmr.report_render")
    for name in ("write_report", "to_xlsx", "to_csv", "charts", "sections", "BANNER"):
        assert getattr(old, name) is getattr(render, name)
    with pytest.warns(KcmrDeprecationWarning, match="render_sections"):
        assert old.TABLES is render_sections.TABLES


# --- forecast ------------------------------------------------------------------------------

#: The public names of ``kosovo_cmr.forecast`` in release 0.1.
FORECAST_01 = (
    "PRIORITIES",
    "ForecastWarning",
    "read_effort",
    "read_capacity",
    "choose_method",
    "area_to_clear",
    "clearance_effort",
    "season_to_year",
    "schedule",
    "completion",
    "burndown",
    "scenarios",
    "burndown_curves",
    "plot_burndown",
    "inputs_from_store",
    "forecast_section",
    "scenario_section",
    "demo_step",
    "PLAN_COLUMNS",
    "SCENARIO_COLUMNS",
    "display_plan",
    "display_scenarios",
)


@pytest.mark.parametrize("name", FORECAST_01)
def test_forecast_01_names_keep_working(name):
    from kosovo_cmr._deprecated import resolve

    sys.modules.pop("kosovo_cmr.forecast", None)
    with pytest.warns(KcmrDeprecationWarning, match=r"kosovo_cmr\.analysis\.forecast"):
        module = importlib.import_module("kosovo_cmr.forecast")
    target = MOVED_NAMES.get(f"kosovo_cmr.forecast:{name}")
    if target is None:  # still in the successor module
        successor = importlib.import_module("kosovo_cmr.analysis.forecast")
        assert getattr(module, name) is getattr(successor, name)
        return
    with pytest.warns(KcmrDeprecationWarning, match=target.replace(":", ".").replace(".", r"\.")):
        assert getattr(module, name) is resolve(target)


def test_forecast_read_capacity_still_gives_the_teams_per_operator():
    import kosovo_cmr.forecast as old

    with pytest.warns(KcmrDeprecationWarning, match=r"kosovo_cmr\.programme\.read_teams"):
        read_capacity = old.read_capacity
    # issue 18: the latest capacity year is April 2025, NPA "reduced to five teams"
    assert read_capacity() == {"KSF": 4, "HALO": 9, "NPA": 5}


# --- importer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, home",
    [
        ("ImportReport", "kosovo_cmr.import_report"),
        ("IdConflictError", "kosovo_cmr.import_identity"),
        ("FIELD_ALIASES", "kosovo_cmr.import_fields"),
        ("VALUE_ALIASES", "kosovo_cmr.import_fields"),
        ("parse_field_map", "kosovo_cmr.import_fields"),
        ("map_fields", "kosovo_cmr.import_fields"),
    ],
)
def test_importer_names_that_moved_still_import_from_importer(name, home):
    """kosovo_cmr.importer stays the public module: what moved is re-exported, no warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importer = importlib.import_module("kosovo_cmr.importer")
        value = getattr(importer, name)
    assert value is getattr(importlib.import_module(home), name)
    assert name in importer.__all__


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

    assert _old("kosovo_cmr.maps", "demo_step") is demo.step_maps
    assert _old("kosovo_cmr.maps", "FADEOUT_RULES") is workflow.FADEOUT_RULES


def test_schema_keeps_validate_check_conform():
    import kosovo_cmr
    from kosovo_cmr import schema
    from kosovo_cmr.schema import validation

    for name in ("validate", "check", "conform", "Violation"):
        assert getattr(schema, name) is getattr(validation, name)
    assert kosovo_cmr.validate is validation.validate


# --- the source tree ------------------------------------------------------------------------


def test_layers_import_from_the_source_tree_without_an_editable_install():
    """`python -c "import kosovo_cmr.layers"` from the repository root after `pip install .`.

    ``python -S`` processes no ``.pth`` file, so the editable install's finder is absent
    and ``kosovo_cmr`` is the source tree's, as after a plain install run from the root;
    the dependencies come from this environment's site-packages on PYTHONPATH.
    """
    import os
    import site
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = (
        "import kosovo_cmr.layers, kosovo_cmr\n"
        "from kosovo_cmr._resources import layer_file\n"
        "print(kosovo_cmr.layers.__file__, layer_file('regions.csv'))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(site.getsitepackages())}
    run = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=root, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    layers = root / "layers"
    assert run.stdout.split() == [str(layers / "__init__.py"), str(layers / "regions.csv")]


# --- issue 19: field sheets drawn from facts a workflow computes -----------------------------


def test_field_sheet_writers_moved_to_the_workflow(tmp_path):
    import _mapdata

    from kosovo_cmr.outputs import fieldmap
    from kosovo_cmr.workflows import fieldsheets

    with pytest.warns(KcmrDeprecationWarning, match="workflows.fieldsheets.write_field_map"):
        old = fieldmap.write_field_map
    assert old is fieldsheets.write_field_map
    layers = _mapdata.layers()  # the 0.2 call still writes a sheet
    path = old(layers["hazards"], "DEMO-H0", tmp_path / "s.pdf", layers=layers)
    assert path.read_bytes().startswith(b"%PDF")


def test_a_demo_step_given_as_a_string_still_runs_with_a_warning(tmp_path, boundaries_path):
    """0.2 passed steps as ``"kosovo_cmr.demo:_step_..."`` strings; they work one release."""
    from kosovo_cmr import demo

    assert all(callable(step) for step in demo.DEMO_STEPS)
    with pytest.warns(KcmrDeprecationWarning, match="pass the function"):
        ctx = demo.run_demo(
            tmp_path, boundaries=boundaries_path, steps=["kosovo_cmr.demo:load_layers"]
        )
    assert "hazards" in ctx.store.layers()
    with pytest.warns(KcmrDeprecationWarning):
        assert demo._step("kosovo_cmr.demo:_step_maps") is demo.step_maps
