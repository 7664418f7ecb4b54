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
