"""The package version, in one place: pyproject.toml reads it from here (hatch's version
source), and `oeus_kraken.__version__` is this constant, so importing it costs nothing."""

__version__ = "0.1.0"
