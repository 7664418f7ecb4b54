"""Access to the data files shipped in ``layers/`` (installed as ``kosovo_cmr.layers``)."""

from __future__ import annotations

import contextlib
from importlib import resources
from pathlib import Path


def layers_dir() -> Path:
    """Return the folder of the shipped layers, for an editable or a plain install."""
    root = resources.files("kosovo_cmr.layers")
    with contextlib.suppress(TypeError):
        return Path(str(root))
    raise FileNotFoundError("kosovo_cmr.layers is not on the file system")  # pragma: no cover


def layer_file(*parts: str) -> Path:
    """Return the path of a shipped file, e.g. ``layer_file("regions.csv")``.

    Raises
    ------
    FileNotFoundError
        If the file is not shipped.
    """
    path = layers_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"shipped file missing: {path}")
    return path


def register_source_layers() -> None:
    """Make ``kosovo_cmr.layers`` importable when the package runs from a source tree.

    An installed package holds ``kosovo_cmr/layers/`` (``setup.cfg`` maps the top-level
    ``layers/`` folder there). Run from the repository's root after a plain
    ``pip install .``, Python imports the source tree's ``kosovo_cmr/`` instead, which
    has no ``layers`` inside: this registers the tree's own ``layers/`` as
    ``kosovo_cmr.layers``. It does nothing when the package already has its layers
    (installed, or an editable install that maps them).
    """
    import importlib.util
    import sys

    name = "kosovo_cmr.layers"
    package = Path(__file__).resolve().parent
    if name in sys.modules or (package / "layers").is_dir():
        return
    with contextlib.suppress(ImportError):
        if importlib.util.find_spec(name) is not None:  # an editable install maps it
            return
    init = package.parent / "layers" / "__init__.py"
    if not init.is_file():
        return
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    sys.modules["kosovo_cmr"].layers = module  # as the import system does
