"""The offline map after the README's install command alone: a fresh venv, no npm.

Issue 19: ``kcmr map --offline`` failed until the user ran npm against the network. Here
a new virtual environment gets the package with the README's command (``pip install .``
from the checkout), and ``kcmr map --offline`` runs with a PATH that holds that venv
only (no npm, no node) and a HOME with nothing cached in it; the page then opens in
headless Chromium, which records every request it makes. Slow (a full install): it runs
in CI and when ``KCMR_INSTALL_TESTS=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import in_ci

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
_NOT_COPIED = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "_build",
               "kcmr-demo", ".pytest_cache", ".ruff_cache", ".hypothesis")  # fmt: skip

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _readme_install() -> str:
    """The install part of the README's demo command (``pip install .``)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- ci:demo -->", 1)[1].split("```", 2)[1]
    match = re.search(r"pip install [^&\n]+", block)
    assert match, "the README's demo command installs with pip"
    return match.group(0).strip()


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    if not (in_ci() or os.environ.get("KCMR_INSTALL_TESTS")):
        pytest.skip("a full install into a fresh venv: CI, or KCMR_INSTALL_TESTS=1")
    base = tmp_path_factory.mktemp("fresh")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    home = base / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KCMR_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        PATH=str(venv / "bin"),  # the venv and nothing else: no npm, no node
        HOME=str(home),  # nothing cached from an earlier install
        PIP_CACHE_DIR=str(Path.home() / ".cache" / "pip"),  # wheels only, for speed
        VIRTUAL_ENV=str(venv),
    )
    command = _readme_install().split()
    assert command[:2] == ["pip", "install"]
    # a copy of the checkout, so that the build leaves nothing in it (setuptools' build/)
    checkout = base / "checkout"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(*_NOT_COPIED))
    install = subprocess.run(
        [str(venv / "bin" / "pip"), *command[1:], "-q"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    return venv, env


def test_offline_map_after_the_readme_install_with_no_npm(fresh_venv, demo_store, tmp_path):
    venv, env = fresh_venv
    assert shutil.which("npm", path=env["PATH"]) is None
    assert shutil.which("node", path=env["PATH"]) is None
    assert not (Path(env["HOME"]) / ".cache" / "kosovo_cmr").exists()
    store = tmp_path / "store.gpkg"
    shutil.copyfile(demo_store.uri, store)
    out = tmp_path / "map-offline.html"
    run = subprocess.run(
        [str(venv / "bin" / "kcmr"), "--store", str(store), "map", "--offline", "-o", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    # the package that made it is the fresh install, not this checkout
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import kosovo_cmr; print(kosovo_cmr.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(venv) in where
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is needed to open the map (.ci/setup.d/chromium.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless"])
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        requests, errors = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
        )
        page.goto(out.resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => typeof kcmr !== 'undefined' && typeof L !== 'undefined'")
        page.wait_for_timeout(500)
        drawn = page.evaluate(
            """() => { let n = 0; const m = window[document.querySelector('.folium-map').id];
            m.eachLayer(l => { if (l instanceof L.Polygon) n++; }); return n; }"""
        )
        notice_visible = page.locator("#kcmr-notice").is_visible()
        browser.close()
    off_machine = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert off_machine == [], off_machine[:5]
    assert errors == []
    assert drawn > 35 and not notice_visible
