"""``kcmr qgis``: the QGIS plugin (install, zip) and the store's QGIS styles.

Thin faces on :mod:`kosovo_cmr.qgis.packaging` and
:func:`kosovo_cmr.outputs.qgis_styles.write_layer_styles`.
"""

from __future__ import annotations

from pathlib import Path

import click

from kosovo_cmr.cli._options import check_output, output_option


@click.group("qgis")
def command():
    """Install the QGIS Processing provider (a plugin); style the store for QGIS.

    The plugin's algorithms call the library, so QGIS's python must be able to import
    kosovo_cmr (for Debian's QGIS: /usr/bin/python3 -m pip install kosovo_cmr).
    """


@command.command("install")
@click.option("--profile", default="default", show_default=True, help="The QGIS profile.")
@click.option(
    "--profiles-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder of the QGIS profiles [default: QGIS 3's folder for this system, "
    "e.g. ~/.local/share/QGIS/QGIS3/profiles].",
)
def install_command(profile, profiles_dir):
    """Copy the plugin into a QGIS profile's python/plugins folder.

    Then enable "kosovo_cmr" in QGIS's Plugins > Manage and Install Plugins; its
    algorithms appear in the Processing toolbox under kosovo_cmr. An earlier copy is
    replaced. Prints the plugin's folder.
    """
    from kosovo_cmr.qgis.packaging import install_plugin

    click.echo(str(install_plugin(profile, profiles_dir=profiles_dir)))


@command.command("zip")
@output_option(help="The zip to write [default: kosovo_cmr_qgis.zip].")
def zip_command(output, overwrite):
    """Write the plugin as a zip for QGIS's Plugins > Install from ZIP. Prints its path."""
    from kosovo_cmr.qgis.packaging import write_plugin_zip

    output = output if output is not None else Path("kosovo_cmr_qgis.zip")
    check_output(output, overwrite)
    click.echo(str(write_plugin_zip(output, overwrite=overwrite)))


@command.command("styles")
@click.pass_obj
def styles_command(state):
    """Store QGIS styles in the store's layer_styles table (GeoPackage stores).

    CHAs red, SHAs orange, released land green by method, evidence, strikes and
    boundaries: each layer's default style, so QGIS and QField open the store styled.
    Styles saved under another name are kept. Prints the layers styled.
    """
    from kosovo_cmr.errors import InputError
    from kosovo_cmr.outputs.qgis_styles import write_layer_styles

    store = state.store(create=False)
    if not str(store.uri).lower().endswith(".gpkg"):
        raise InputError(f"kcmr qgis styles writes into a GeoPackage store, not {store.uri}")
    for name in write_layer_styles(store.uri):
        click.echo(name)
