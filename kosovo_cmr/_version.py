"""The package version, kept in one place (read by setup.cfg and at run time)."""

__version__ = "0.2.0"
