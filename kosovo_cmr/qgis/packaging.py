"""The plugin as QGIS installs it: a folder in a profile, or a zip for the plugin manager.

Not part of the plugin itself (it is not copied): ``kcmr qgis install`` and
``kcmr qgis zip`` call :func:`install_plugin` and :func:`write_plugin_zip`. The copied
``metadata.txt`` carries the library's version, so that QGIS's plugin manager shows which
kosovo_cmr the plugin was made for.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import zipfile
from pathlib import Path

from kosovo_cmr._files import atomic_output
from kosovo_cmr._version import __version__
from kosovo_cmr.errors import InputError, StoreError

from . import PLUGIN_FILES, PLUGIN_NAME, plugin_dir

__all__ = ["default_profiles_dir", "plugin_file_texts", "install_plugin", "write_plugin_zip"]


def default_profiles_dir() -> Path:
    """Where QGIS 3 keeps its user profiles on this system.

    Linux ``~/.local/share/QGIS/QGIS3/profiles``, Windows
    ``~/AppData/Roaming/QGIS/QGIS3/profiles``, macOS
    ``~/Library/Application Support/QGIS/QGIS3/profiles``.
    """
    home = Path.home()
    if sys.platform.startswith("win"):
        return home / "AppData" / "Roaming" / "QGIS" / "QGIS3" / "profiles"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "QGIS" / "QGIS3" / "profiles"
    return home / ".local" / "share" / "QGIS" / "QGIS3" / "profiles"


def plugin_file_texts() -> dict[str, str]:
    """Return the plugin's files (name -> text), ``metadata.txt`` with our version.

    Examples
    --------
    >>> files = plugin_file_texts()
    >>> "__init__.py" in files and "metadata.txt" in files
    True
    >>> f"version={__version__}" in files["metadata.txt"]
    True
    """
    texts = {name: (plugin_dir() / name).read_text(encoding="utf-8") for name in PLUGIN_FILES}
    texts["metadata.txt"] = re.sub(
        r"(?m)^version=.*$", f"version={__version__}", texts["metadata.txt"]
    )
    return texts


def install_plugin(
    profile: str = "default", *, profiles_dir: str | os.PathLike | None = None
) -> Path:
    """Copy the plugin into a QGIS profile's ``python/plugins`` folder.

    An earlier copy of the plugin is replaced whole (written beside it first, then
    swapped), so QGIS never finds half a plugin.

    Parameters
    ----------
    profile : str, default "default"
        The QGIS profile (QGIS's "User Profiles" menu).
    profiles_dir : path-like, optional
        The folder of the profiles; default :func:`default_profiles_dir`.

    Returns
    -------
    pathlib.Path
        The plugin's folder.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the profile does not exist (QGIS creates it when it first starts).
    """
    base = Path(profiles_dir) if profiles_dir is not None else default_profiles_dir()
    home = base / profile
    if not home.is_dir():
        present = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        raise InputError(
            f"no QGIS profile {profile!r} in {base} (profiles there: {present or 'none'}); "
            "start QGIS once to create it, or give --profiles-dir"
        )
    plugins = home / "python" / "plugins"
    target = plugins / PLUGIN_NAME
    staging = plugins / f".{PLUGIN_NAME}.new"
    try:
        plugins.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name, text in plugin_file_texts().items():
            (staging / name).write_text(text, encoding="utf-8")
        old = plugins / f".{PLUGIN_NAME}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise StoreError(f"cannot install the QGIS plugin into {plugins}: {exc}") from exc
    return target


def write_plugin_zip(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write the plugin as a zip that QGIS's "Install from ZIP" takes.

    The zip holds one folder, ``kosovo_cmr_qgis/``, with the plugin's files.
    """
    path = Path(path)
    if path.suffix.lower() != ".zip":
        raise InputError(f"the plugin zip must end in .zip, got {path.name}")
    with atomic_output(path, overwrite=overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in sorted(plugin_file_texts().items()):
                archive.writestr(f"{PLUGIN_NAME}/{name}", text)
    return path
