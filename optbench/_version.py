"""The version of optbench, in a module of its own that imports nothing.

Any layer may read it (``from optbench._version import __version__``) without importing the
``optbench`` package facade, which pulls in the API. Keep it equal to ``version`` in
pyproject.toml.
"""

__version__ = "0.1.0"
