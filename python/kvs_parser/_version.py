"""The package version, kept in this one place (read by the build and by the extension)."""

__version__ = "0.1.0"
