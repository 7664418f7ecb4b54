"""Analyses: pure functions from GeoDataFrames and settings to frames and result objects.

No module here reads the store, draws, or knows the demo or the command line: see
``docs/architecture.rst``.
"""
