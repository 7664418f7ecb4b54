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
