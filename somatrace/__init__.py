"""Composition roots: the ``somatrace`` command line and the one-command demo.

The packages ``collector``, ``analysis`` and ``api`` never import this one; it wires them together.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("somatrace")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
