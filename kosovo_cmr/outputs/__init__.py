"""Renderers: interactive maps, field sheets, GPS and GIS exports, charts.

They take layers and result objects and never recompute an analysis; see
``docs/architecture.rst``.
"""
