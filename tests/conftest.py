"""Shared fixtures. Test modules mirror the package modules; data are built in tmp_path."""

from __future__ import annotations

import os

import pytest

from kosovo_cmr import settings


@pytest.fixture(scope="session")
def boundaries_path():
    """The real municipal boundaries, read by path from ../shared/data (never copied)."""
    return settings.resolve_boundaries_path()


@pytest.fixture(scope="session")
def municipalities(boundaries_path):
    """The boundaries layer: 38 municipalities with district and region (EPSG:4326)."""
    from kosovo_cmr.boundaries import read_municipalities

    return read_municipalities(boundaries_path)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory, boundaries_path):
    """A GeoPackage store holding the shipped synthetic demo layers and the boundaries.

    Session-scoped and read-only by convention: copy it (``demo_store_copy``) to write.
    """
    from kosovo_cmr.demo import load_layers, run_demo

    out = tmp_path_factory.mktemp("demo")
    ctx = run_demo(out, boundaries=boundaries_path, steps=[load_layers])
    return ctx.store


@pytest.fixture
def demo_store_copy(demo_store, tmp_path):
    """A private, writable copy of the demo store."""
    import shutil

    from kosovo_cmr.store import open_store

    target = tmp_path / "copy.gpkg"
    shutil.copyfile(demo_store.uri, target)
    return open_store(target)


def in_ci() -> bool:
    """Whether the tests run in CI (where no service test may be skipped)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
