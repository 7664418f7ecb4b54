"""Sphinx configuration for the kosovo_cmr documentation."""

import kosovo_cmr

project = "kosovo_cmr"
author = "The kosovo_cmr developers"
copyright = "2026, The kosovo_cmr developers"
release = kosovo_cmr.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx_click",
]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"
nitpicky = False
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = "kosovo_cmr"
html_static_path = []
suppress_warnings = ["ref.python"]
