"""Workflows: read the store, run the analyses, hand the results to the renderers.

The ``kcmr`` command, the demo and the QGIS provider are thin faces on these functions;
see ``docs/architecture.rst``.
"""
