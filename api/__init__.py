"""Somatrace API: storage, authentication, ingest, background analysis, dashboard and exports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("somatrace")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
